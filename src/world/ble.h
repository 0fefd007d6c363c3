/* The world's private BLE air: scripted peers that advertise around the
 * module (`espat ctl ble peer add ...`). Each is a phone-like device with
 * an address, advertising data (given as hex, or made from a name), an
 * optional scan response, an advertising interval and an RSSI. It
 * implements the BLE radio port (port/ble.h). Connections, GATT and SPP
 * with these peers are the next steps of docs/internals/ble.md. */
#ifndef ESPAT_WORLD_BLE_H
#define ESPAT_WORLD_BLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port/ble.h"
#include "proto/gatt_db.h"

#define ESPAT_BLE_PEERS_MAX 8u
#define ESPAT_BLE_LABEL_MAX 31u
#define ESPAT_BLE_PEER_LOG 8u    /* ATT PDUs a peer keeps (the last ones) */
#define ESPAT_BLE_PEER_ATTRS 64u /* attributes of a peer's GATT server */
#define ESPAT_BLE_PEER_MEM 4096u /* bytes of their values */

/* An ATT PDU the module sent a peer (a notification, an indication). */
struct espat_ble_rx {
	uint16_t len;
	uint8_t pdu[517];
};

struct espat_ble_peer {
	char label[ESPAT_BLE_LABEL_MAX + 1];
	struct espat_ble_adv adv;
	bool connected;                              /* linked with the module: not advertising */
	uint16_t mtu;                                /* the ATT_MTU it offers (mtu=, default 517) */
	struct espat_ble_rx log[ESPAT_BLE_PEER_LOG]; /* oldest first */
	size_t nlog;
	/* As a peripheral: a GATT server (espat_ble_peer_serve) the module's
	 * GATT client talks to over their link. db points into this peer
	 * (db_attr, db_mem) and `world` at its air: a peer is used where it
	 * was added (espat_ble_peer_rm re-points the ones it moves); a copy of
	 * the world elsewhere must be copied back in place before use. */
	bool served;
	bool no_confirm;   /* confirm=0: indications from the module stay unconfirmed */
	uint16_t link_mtu; /* the link's ATT_MTU (23 until an exchange) */
	struct espat_gatt_db db;
	struct espat_gatt_attr db_attr[ESPAT_BLE_PEER_ATTRS];
	uint8_t db_mem[ESPAT_BLE_PEER_MEM];
	/* what the module wrote to its server: bytes and an FNV-1a hash of them, in order */
	uint64_t wr_bytes;
	uint32_t wr_hash;
	/* the values the module notified or indicated to it, counted and hashed alike */
	uint64_t rx_bytes;
	uint32_t rx_hash;
	struct espat_ble_world *world; /* back to the air (set when added or moved) */
};

struct espat_ble_world {
	struct espat_ble_peer peer[ESPAT_BLE_PEERS_MAX];
	size_t n;
	/* The module's own advertising as the air carries it (what a phone
	 * scanning would hear); own_on false while it does not advertise. */
	struct espat_ble_adv own;
	bool own_on;
	/* The peers' Security Manager (app/ble_peer_sec.h): gets each SMP
	 * PDU the module sends peer p; NULL: peers do not pair (the PDUs are
	 * dropped, and the module's pairing runs into its timeout). */
	void (*smp_rx)(void *user, const struct espat_ble_peer *p, const uint8_t *pdu, size_t len);
	/* ... and each LL control PDU of the encryption start (same user) */
	void (*ll_rx)(void *user, const struct espat_ble_peer *p, const uint8_t *pdu, size_t len);
	void *smp_user;
	/* An ATT PDU a peer sends the module over their link (a served peer's
	 * answer, a notification, a confirmation): the app points this at
	 * the module's espat_ble_att_in(). NULL: it goes nowhere. */
	void (*to_module)(void *user, const uint8_t addr[6], const uint8_t *pdu, size_t len);
	void *to_module_user;
};

/* Adds a peer from KEY=VALUE settings: addr=MAC (required), addr_type=0|1,
 * name=TEXT (advertising data = flags 06 + complete local name, unless
 * adv= is given), adv=HEX, rsp=HEX (each at most 31 bytes), interval=MS
 * (20..10240, default 100), phase=MS (< interval, default 0), rssi=DBM
 * (-100..0, default -50) or dist=METRES (0 < d <= 10000, up to 3 decimals:
 * the RSSI from espat_ble_rssi_at(); not both), mtu=N (23..517, default 517),
 * per=HEX (periodic advertising data, 0..119 bytes: the peer then
 * advertises extended non-connectable, <adv_type> 5, with a train every
 * per_interval=MS, 8..81918, default 100, phase as its advertising's).
 * Peers advertise ADV_IND (connectable,
 * scannable) on all three channels, legacy PDUs. Returns 0, or -1 with err (cap bytes) saying why;
 * nothing changes then. */
int espat_ble_peer_add(struct espat_ble_world *b, const char *label, size_t argc,
                       const char *const *argv, char *err, size_t cap);
/* The RSSI a peer at that distance is heard with: -40 - 20 log10(d / 1 m)
 * dBm, rounded, clamped to [-100, -30]. */
int8_t espat_ble_rssi_at(double metres);
/* A peer by label, or NULL. */
struct espat_ble_peer *espat_ble_peer_find(struct espat_ble_world *b, const char *label);
/* Gives peer p a GATT server holding the GATT and GAP services (its
 * name); the caller appends its table (espat_ble_gatts_row_add from the
 * app). */
void espat_ble_peer_serve(struct espat_ble_peer *p, const char *name);
/* The served peer notifies or indicates (op) v[0..n) of its characteristic
 * value at h to the module: what the module's CCCD allows, as a server
 * must. Returns why not, or OK once it was sent. */
enum espat_gatt_ntf_err espat_ble_peer_notify(struct espat_ble_peer *p, uint8_t op, uint16_t h,
                                              const uint8_t *v, size_t n);
/* Removes a peer; false when there is none with that label. */
bool espat_ble_peer_rm(struct espat_ble_world *b, const char *label);

/* The BLE radio port over b (b must outlive it). */
struct espat_ble_port espat_ble_world_port(struct espat_ble_world *b);

#endif
