/* BluFi (guide 3.4.45-3.4.47, example 4.10.1): AT+BLUFI, AT+BLUFINAME,
 * AT+BLUFISEND and the reports +BLUFICONN, +BLUFIDISCONN, +BLUFIDATA.
 * While BluFi is on (only with BLE not initialized), the module advertises
 * the BluFi name and serves the BluFi GATT service to one phone; the
 * frames and the security are proto/blufi.h; credentials the phone sends
 * go to the Wi-Fi family's provisioning join (docs/internals/blufi.md).
 * The BLE family's entry points (cmd/ble.h) hand BluFi's link to it. */
#ifndef ESPAT_CMD_BLE_BLUFI_H
#define ESPAT_CMD_BLE_BLUFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/family.h"
#include "proto/blufi.h"
#include "proto/gatt_db.h"

#define ESPAT_BLUFI_NAME_MAX 26u  /* AT+BLUFINAME [000:8875] */
#define ESPAT_BLUFI_SEND_MAX 600u /* AT+BLUFISEND [000:8919] */

/* The BluFi GATT service's handles (service 0xFFFF). */
enum {
	ESPAT_BLUFI_H_SERVICE = 1,
	ESPAT_BLUFI_H_P2E_DECL = 2,
	ESPAT_BLUFI_H_P2E = 3, /* 0xFF01: the phone writes frames */
	ESPAT_BLUFI_H_E2P_DECL = 4,
	ESPAT_BLUFI_H_E2P = 5, /* 0xFF02: the module notifies frames */
	ESPAT_BLUFI_H_CCCD = 6,
	ESPAT_BLUFI_H_LAST = 6,
};

struct espat_blufi {
	bool on;                             /* AT+BLUFI=1 */
	uint8_t auth_floor;                  /* AT+BLUFI's <auth floor> (enum espat_ecn) */
	char name[ESPAT_BLUFI_NAME_MAX + 1]; /* AT+BLUFINAME */
	bool advertising;                    /* on the air (until a phone connects) */
	bool linked;                         /* a phone is connected */
	bool lost;                           /* it vanished: the supervision timer runs */
	uint8_t peer[6];
	uint16_t mtu; /* the link's ATT_MTU */
	/* the BluFi GATT service, served by the one ATT server (proto/gatt_db.h)
	 * to its one client, the phone (client 0) */
	struct espat_gatt_db db;
	struct espat_gatt_attr db_attr[ESPAT_BLUFI_H_LAST];
	uint8_t db_mem[ESPAT_ATT_VALUE_MAX + 16];
	struct espat_timer link_timer; /* supervision timeout */
	struct espat_blufi_codec codec;
	/* what the phone configured */
	uint8_t ssid[32];
	size_t ssid_len;
	uint8_t pwd[64];
	size_t pwd_len;
	/* a join the phone asked for: reported back when it ends */
	bool joining;
	uint64_t join_deadline;
	struct espat_timer join_timer;
	/* AT+BLUFISEND's data entry */
	uint8_t send_buf[ESPAT_BLUFI_SEND_MAX];
	size_t send_len, send_got;
};

/* Whether BluFi is on (AT+BLUFI=1): BLE cannot be initialized then. */
bool espat_blufi_on(const struct espat_module *m);
/* Whether the device at addr is BluFi's phone. */
bool espat_blufi_peer(const struct espat_module *m, const uint8_t addr[6]);

/* The BLE family's entry points (cmd/ble.h) while BluFi is on. A central
 * connects to the BluFi advertising: +BLUFICONN; 0, or -1 when BluFi does
 * not advertise (off, or a phone is connected already). */
int espat_blufi_central_connect(struct espat_module *m, const uint8_t addr[6]);
/* The phone ends the link (+BLUFIDISCONN, advertising again); false when
 * addr is not the phone. */
bool espat_blufi_remote_disconnect(struct espat_module *m, const uint8_t addr[6]);
/* The phone vanished: the link ends at its supervision timeout. */
bool espat_blufi_peer_lost(struct espat_module *m, const uint8_t addr[6]);
/* The phone exchanges MTUs; false when addr is not the phone. */
bool espat_blufi_peer_mtu(struct espat_module *m, const uint8_t addr[6], uint16_t mtu);
/* The link's ATT_MTU (23 when no phone). */
uint16_t espat_blufi_mtu(const struct espat_module *m);
/* BluFi's GATT server answers one ATT PDU from the phone: as
 * espat_ble_att_request (rsp of cap bytes, at least the MTU; 0: no answer). */
size_t espat_blufi_att_request(struct espat_module *m, const uint8_t addr[6], const uint8_t *req,
                               size_t len, uint8_t *rsp, size_t cap);

extern const struct espat_family espat_blufi_family;

#endif
