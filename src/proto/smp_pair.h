/* One LE pairing between two devices (Bluetooth Core 5.x, Vol 3 Part H
 * 2.3-2.4, 3.5-3.6): the Security Manager's state machine for either role,
 * legacy pairing and LE Secure Connections, Just Works, passkey entry and
 * numeric comparison, then the key distribution. The module's BLE family
 * and the world's scripted peers each run one per link, so two modules,
 * or a module and a scripted phone, pair by exchanging real SMP PDUs whose
 * confirm values are checked: a wrong passkey fails with Confirm Value
 * Failed, a refused comparison with Numeric Comparison Failed.
 *
 * Pure: PDUs go out through ops.send, what the host must see or answer
 * through ops.event; no clock (the owner runs SMP's 30 s timeout and calls
 * espat_smp_abort), no allocation. Crypto through struct espat_smp_crypto.
 *
 * Simplified (docs/internals/ble.md): the link layer's encryption start
 * (LL_ENC_REQ with the STK or LTK) is taken as done when the key is known;
 * OOB data and keypress notifications are not used. */
#ifndef ESPAT_PROTO_SMP_PAIR_H
#define ESPAT_PROTO_SMP_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/smp.h"

enum espat_smp_role {
	ESPAT_SMP_INITIATOR = 0, /* the central */
	ESPAT_SMP_RESPONDER = 1, /* the peripheral */
};

/* What the host is told, with its value:
 *   REQUEST   the peer asks to pair (a responder got a Pairing Request, an
 *             initiator a Security Request): answer with espat_smp_accept
 *   DISPLAY   show this six-digit passkey (the peer types it)
 *   INPUT     type the passkey the peer shows: espat_smp_passkey
 *   COMPARE   does the peer show this six-digit number? espat_smp_confirm
 *   KEY       a key was settled, as Bluedroid numbers them: 1 the peer's
 *             encryption key, 2 the peer's identity, 4 the peer's CSRK,
 *             16 the local encryption key, 32 the local identity, 64 the
 *             local CSRK (ESP-AT prints them as +BLESECKEYTYPE)
 *   DONE      0: paired; else the Pairing Failed reason (sent or received) */
enum espat_smp_ev {
	ESPAT_SMP_EV_REQUEST,
	ESPAT_SMP_EV_DISPLAY,
	ESPAT_SMP_EV_INPUT,
	ESPAT_SMP_EV_COMPARE,
	ESPAT_SMP_EV_KEY,
	ESPAT_SMP_EV_DONE,
};

struct espat_smp_ops {
	void (*send)(void *user, const uint8_t *pdu, size_t len);
	void (*event)(void *user, enum espat_smp_ev ev, uint32_t value);
	void *user;
};

/* What a finished pairing leaves: the bond, when both asked for one. */
struct espat_smp_result {
	uint8_t ltk[16]; /* the link's long-term key, wire order, cut to key_size */
	uint16_t ediv;   /* legacy: with rand, names the LTK; 0 for Secure Connections */
	uint8_t rand[8];
	uint8_t key_size;
	bool secure;        /* LE Secure Connections */
	bool authenticated; /* MITM protection (not Just Works) */
	bool bond;          /* both set the bonding flag */
	bool peer_id;       /* the peer sent its identity */
	uint8_t peer_irk[16];
	uint8_t peer_id_type;
	uint8_t peer_id_addr[6]; /* as printed: most significant first */
};

/* Owned by the caller (one per link); all fields private to smp_pair.c. */
struct espat_smp_session {
	const struct espat_smp_crypto *c;
	struct espat_smp_ops ops;
	uint8_t role;
	uint8_t state;
	struct espat_smp_features local;
	bool strict; /* refuse a pairing weaker than local asks (AT+BLESECPARAM <auth_option> 1) */
	int32_t static_passkey; /* AT+BLESETKEY's, or -1: a random one */
	uint8_t own_type, own[6], peer_type, peer[6];
	uint8_t preq[7], pres[7]; /* the two feature PDUs as sent */
	uint8_t method;
	bool sc;
	uint8_t dist_init, dist_rsp; /* the keys each side sends */
	uint32_t passkey;
	bool have_passkey;
	bool user_ok;         /* numeric comparison confirmed here */
	bool peer_check_in;   /* the initiator's DHKey check arrived (responder, NC) */
	uint8_t round;        /* SC passkey entry: bit 0..19 */
	uint8_t tk[16];       /* legacy: the temporary key */
	uint8_t mine[16];     /* this side's random (Mrand/Srand, Na/Nb) */
	uint8_t theirs[16];   /* the peer's random */
	uint8_t peer_cfm[16]; /* the peer's confirm value */
	bool peer_cfm_in;
	uint8_t priv[32], pub[64], peer_pub[64], dhkey[32];
	bool pub_sent, peer_pub_in;
	uint8_t mackey[16];
	uint8_t check[16]; /* the peer's DHKey check, kept until this side's user confirms */
	uint8_t got_keys;  /* key distribution: what came from the peer so far */
	bool cfm_sent;     /* this round's confirm value went out */
	bool sec_req_sent; /* responder: it asked (Security Request), so it takes the request */
	uint8_t irk[16];   /* this device's identity resolving key (the owner sets it; distributed
	                    * with the identity) */
	struct espat_smp_result res;
};

/* A session for one link. local: this side's features (from AT+BLESECPARAM);
 * own/peer: the two devices' addresses (most significant first) and types. */
void espat_smp_init(struct espat_smp_session *s, const struct espat_smp_crypto *c,
                    struct espat_smp_ops ops, enum espat_smp_role role,
                    const struct espat_smp_features *local, uint8_t own_type, const uint8_t own[6],
                    uint8_t peer_type, const uint8_t peer[6]);
/* This side starts: an initiator sends its Pairing Request, a responder a
 * Security Request (and then takes the Pairing Request that answers it
 * without asking its host again, as Bluedroid does: the guide's 4.3.7).
 * False when a pairing already runs. */
bool espat_smp_start(struct espat_smp_session *s);
/* One SMP PDU from the peer. */
void espat_smp_input(struct espat_smp_session *s, const uint8_t *pdu, size_t len);
/* The host's answer to REQUEST. False when none is awaited. */
bool espat_smp_accept(struct espat_smp_session *s, bool yes);
/* The host's answer to INPUT (0..999999). False when none is awaited. */
bool espat_smp_passkey(struct espat_smp_session *s, uint32_t key);
/* The host's answer to COMPARE. False when none is awaited. */
bool espat_smp_confirm(struct espat_smp_session *s, bool yes);
/* Ends a running pairing (SMP's timeout, the link lost): DONE(reason), no
 * PDU sent. Nothing when none runs. */
void espat_smp_abort(struct espat_smp_session *s, uint8_t reason);
/* What the session waits for from its host. */
enum espat_smp_wait {
	ESPAT_SMP_WAIT_NONE = 0,
	ESPAT_SMP_WAIT_ACCEPT,  /* after REQUEST: espat_smp_accept */
	ESPAT_SMP_WAIT_PASSKEY, /* after INPUT: espat_smp_passkey */
	ESPAT_SMP_WAIT_CONFIRM, /* after COMPARE: espat_smp_confirm */
};
enum espat_smp_wait espat_smp_waiting(const struct espat_smp_session *s);
/* Whether a pairing runs (started, not DONE). */
bool espat_smp_busy(const struct espat_smp_session *s);

#endif
