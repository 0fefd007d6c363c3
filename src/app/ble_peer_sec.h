/* The Security Manager of the world's scripted BLE peers: each peer that
 * pairs with the module runs a real SMP session (proto/smp_pair.h) of the
 * role opposite to the module's on their link, so a phone-like peer
 * pairs by Just Works, passkey entry or numeric comparison with real
 * confirm values. Driven by `espat ctl ble peer pair|security|passkey|
 * confirm` (app/ctl_ble.c) and by the SMP PDUs the module sends
 * (world/ble.h's smp_rx hook). A peer's host answers a pairing request at
 * once (accept=1 by default, as a user tapping "Pair"); passkeys and
 * comparisons wait for ctl. */
#ifndef ESPAT_APP_BLE_PEER_SEC_H
#define ESPAT_APP_BLE_PEER_SEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/ll_enc.h"
#include "proto/smp_pair.h"
#include "world/ble.h"

struct espat_module;
struct json_t;

struct espat_ble_peer_sm {
	bool used;
	char label[ESPAT_BLE_LABEL_MAX + 1];
	uint8_t addr[6];
	struct espat_smp_features feat; /* what the peer asks for (ble peer security) */
	bool accept;                    /* answer to a pairing request */
	struct espat_smp_session s;
	int64_t shown;    /* the passkey it displays, -1: none */
	int64_t compared; /* the number it asks to compare, -1: none */
	bool want_passkey, want_confirm, want_accept;
	int result; /* the last pairing's end: -1 none yet, 0 paired, else the reason */
	/* its bond with the module (a pairing both bonded): the key it encrypts
	 * with when the link comes back; ble peer forget deletes it */
	bool bonded, bond_secure;
	uint8_t bond_ltk[16], bond_rand[8];
	uint16_t bond_ediv;
	struct espat_ll_enc ll;
	int encrypted;    /* the last encryption start with the bond: -1 none, 0 ok, else why */
	uint32_t keys[8]; /* the last pairing's key events */
	size_t nkeys;
	struct espat_ble_peers_sm *owner;
};

struct espat_ble_peers_sm {
	struct espat_smp_crypto crypto;
	struct espat_ble_peer_sm peer[ESPAT_BLE_PEERS_MAX];
	struct espat_ble_world *world;
	struct espat_module *(*module)(void *user); /* the live module */
	void *user;
};

/* Hooks pm into world's smp_rx. */
void espat_ble_peers_sm_init(struct espat_ble_peers_sm *pm, struct espat_ble_world *world,
                             struct espat_module *(*module)(void *user), void *user);
/* The peer's state, made when first needed; NULL when there is no such
 * world peer. */
struct espat_ble_peer_sm *espat_ble_peer_sm(struct espat_ble_peers_sm *pm, const char *label);
/* The peer starts pairing (a Pairing Request as central, a Security
 * Request as peripheral). False with why in err when it cannot. */
bool espat_ble_peer_pair(struct espat_ble_peers_sm *pm, struct espat_ble_peer_sm *p,
                         const char **err);
/* The peer, as central, encrypts the link with its bond (no pairing).
 * False with why in err. */
bool espat_ble_peer_encrypt(struct espat_ble_peers_sm *pm, struct espat_ble_peer_sm *p,
                            const char **err);
/* The peer forgets its bond (a phone's "forget this device"). */
void espat_ble_peer_forget(struct espat_ble_peer_sm *p);
/* The answers a user gives on the phone; false when none is awaited. */
bool espat_ble_peer_passkey(struct espat_ble_peer_sm *p, uint32_t key);
bool espat_ble_peer_confirm(struct espat_ble_peer_sm *p, bool yes);
/* The peer's pairing state as JSON (a new object). */
struct json_t *espat_ble_peer_sm_json(const struct espat_ble_peer_sm *p);

#endif
