/* The BLE radio port: what the module's Bluetooth LE controller hears and
 * reaches on the air (docs/internals/ble.md). So far the advertisers around
 * it: the scripted peers of the world (world/ble.h). Synchronous: the
 * family runs the scan's clock itself and asks who is advertising. */
#ifndef ESPAT_PORT_BLE_H
#define ESPAT_PORT_BLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESPAT_BLE_ADV_DATA_MAX 119u  /* advertising / scan response payload (extended) */
#define ESPAT_BLE_ADV_LEGACY_MAX 31u /* ... of legacy advertising (types 0-4) */
#define ESPAT_BLE_PERIODIC_MAX 119u  /* periodic advertising data (COMPAT #455) */

/* One advertiser as a scanner sees it. Its advertising events happen at
 * phase_ms + k * interval_ms on the module's clock (k >= 0); the spec's
 * 0-10 ms random delay is left out (docs/internals/ble.md). */
struct espat_ble_adv {
	uint8_t addr[6];   /* most significant byte first, as printed */
	uint8_t addr_type; /* 0 public, 1 random */
	uint8_t adv[ESPAT_BLE_ADV_DATA_MAX];
	uint8_t adv_len;
	uint8_t rsp[ESPAT_BLE_ADV_DATA_MAX]; /* scan response: only to active scans */
	uint8_t rsp_len;
	uint8_t adv_type;     /* AT+BLEADVPARAM's <adv_type>: 0 ADV_IND ... 7 */
	uint8_t channel_map;  /* bit 0 ch37, bit 1 ch38, bit 2 ch39 */
	uint32_t interval_ms; /* 20 .. 10240 */
	uint32_t phase_ms;    /* < interval_ms */
	int8_t rssi;          /* dBm at the module */
	/* Periodic advertising (Core 5.x): a train of AUX_SYNC_IND events at
	 * per_phase_ms + k * per_interval_ms carrying per (an advertiser with
	 * extended, non-scannable advertising only). per_on false: none. */
	bool per_on;
	uint8_t per[ESPAT_BLE_PERIODIC_MAX];
	uint8_t per_len;
	uint32_t per_interval_ms; /* 7.5 ms .. 81.91 s in the spec; here whole ms >= 8 */
	uint32_t per_phase_ms;    /* < per_interval_ms */
};

struct espat_ble_port {
	/* Advertiser i of those on the air now (0, 1, ...); false past the
	 * last. NULL: no BLE air at all. */
	bool (*advertiser)(void *user, size_t i, struct espat_ble_adv *out);
	/* The module's own advertising set goes on the air (AT+BLEADVSTART,
	 * and again whenever its data or parameters change while on), or off
	 * (adv NULL). NULL: advertising reaches nobody. */
	void (*advertise)(void *user, const struct espat_ble_adv *adv);
	/* A link with the device at addr came up or ended (either side's
	 * doing): a peer stops advertising while connected. May be NULL. */
	void (*link)(void *user, const uint8_t addr[6], bool up);
	/* The ATT_MTU the device at addr offers in an MTU exchange (23..517);
	 * NULL or 0: 23. */
	uint16_t (*peer_mtu)(void *user, const uint8_t addr[6]);
	/* One ATT PDU from the module to the device at addr over their link
	 * (a notification, an indication). May be NULL. */
	void (*att)(void *user, const uint8_t addr[6], const uint8_t *pdu, size_t len);
	/* One SMP PDU (L2CAP's Security Manager channel) from the module to
	 * the device at addr. May be NULL: nobody pairs. */
	void (*smp)(void *user, const uint8_t addr[6], const uint8_t *pdu, size_t len);
	/* One link-layer control PDU of the encryption start procedure (a
	 * bonded link encrypting again). May be NULL: bonds are not used. */
	void (*ll)(void *user, const uint8_t addr[6], const uint8_t *pdu, size_t len);
	/* The link with addr took new parameters from an update this module
	 * asked for (AT+BLECONNPARAM), at the update's instant: the other end
	 * takes them at the same instant (espat_ble_peer_conn_param() there).
	 * Units: 1.25 ms, events, 10 ms. May be NULL. */
	void (*conn_param)(void *user, const uint8_t addr[6], uint16_t interval, uint16_t latency,
	                   uint16_t timeout);
	/* This module's MTU exchange (AT+BLECFGMTU) on the link with addr
	 * ended with ATT_MTU mtu: the other end learns it too
	 * (espat_ble_peer_mtu() there). May be NULL. */
	void (*mtu)(void *user, const uint8_t addr[6], uint16_t mtu);
	/* This module set the link's PHY (AT+BLESETPHY): the other end takes
	 * it too (espat_ble_peer_phy() there). May be NULL. */
	void (*phy)(void *user, const uint8_t addr[6], uint8_t phy);
	void *user;
};

#endif
