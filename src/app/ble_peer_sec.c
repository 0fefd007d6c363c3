/* The scripted peers' Security Manager: see ble_peer_sec.h. */
#include "app/ble_peer_sec.h"

#include <jansson.h>
#include <string.h>

#include "cmd/ble.h"
#include "posix/crypto_openssl.h"

/* The peer's PDUs reach the module at once: the module holds its own
 * answers for its next connection event, so nobody re-enters a session. */
static void sm_send(void *user, const uint8_t *pdu, size_t len)
{
	struct espat_ble_peer_sm *p = user;
	struct espat_module *m = p->owner->module(p->owner->user);
	if (m)
		espat_ble_smp_in(m, p->addr, pdu, len);
}

static void sm_event(void *user, enum espat_smp_ev ev, uint32_t v)
{
	struct espat_ble_peer_sm *p = user;
	switch (ev) {
	case ESPAT_SMP_EV_REQUEST:
		p->want_accept = true; /* answered after the PDU is taken */
		break;
	case ESPAT_SMP_EV_DISPLAY:
		p->shown = v;
		break;
	case ESPAT_SMP_EV_INPUT:
		p->want_passkey = true;
		break;
	case ESPAT_SMP_EV_COMPARE:
		p->compared = v;
		p->want_confirm = true;
		break;
	case ESPAT_SMP_EV_KEY:
		if (p->nkeys < 8)
			p->keys[p->nkeys++] = v;
		break;
	case ESPAT_SMP_EV_DONE:
		p->result = (int)v;
		p->want_passkey = p->want_confirm = p->want_accept = false;
		if (v == 0 && p->s.res.bond) {
			p->bonded = true;
			p->bond_secure = p->s.res.secure;
			memcpy(p->bond_ltk, p->s.res.ltk, 16);
			memcpy(p->bond_rand, p->s.res.rand, 8);
			p->bond_ediv = p->s.res.ediv;
		}
		break;
	}
}

/* A fresh session on the peer's link, the role opposite to the module's. */
static void ll_setup(struct espat_ble_peers_sm *pm, struct espat_ble_peer_sm *p, bool central);
static void on_ll(void *user, const struct espat_ble_peer *wp, const uint8_t *pdu, size_t len);

static bool session(struct espat_ble_peers_sm *pm, struct espat_ble_peer_sm *p)
{
	struct espat_module *m = pm->module(pm->user);
	int idx = m ? espat_ble_link_of(m, p->addr) : -1;
	if (idx < 0)
		return false;
	uint8_t mt, ma[6], pt = 0;
	espat_ble_link_own_addr(m, (size_t)idx, ma, &mt);
	for (size_t i = 0; i < pm->world->n; i++)
		if (memcmp(pm->world->peer[i].adv.addr, p->addr, 6) == 0)
			pt = pm->world->peer[i].adv.addr_type;
	enum espat_smp_role role =
	    espat_ble_link_central(m, (size_t)idx) ? ESPAT_SMP_RESPONDER : ESPAT_SMP_INITIATOR;
	espat_smp_init(&p->s, &pm->crypto, (struct espat_smp_ops){sm_send, sm_event, p}, role,
	               &p->feat, pt, p->addr, mt, ma);
	if (!espat_ll_enc_busy(&p->ll))
		ll_setup(pm, p, role == ESPAT_SMP_INITIATOR);
	p->shown = p->compared = -1;
	p->want_passkey = p->want_confirm = p->want_accept = false;
	p->nkeys = 0;
	return true;
}

/* ---- encryption with the bond ------------------------------------------------- */

static void ll_send(void *user, const uint8_t *pdu, size_t len)
{
	struct espat_ble_peer_sm *p = user;
	struct espat_module *m = p->owner->module(p->owner->user);
	if (m)
		espat_ble_ll_in(m, p->addr, pdu, len);
}

static bool ll_key(void *user, uint16_t ediv, const uint8_t rand[8], uint8_t ltk[16])
{
	struct espat_ble_peer_sm *p = user;
	static const uint8_t zero[8];
	if (!p->bonded ||
	    (p->bond_secure ? ediv != 0 || memcmp(rand, zero, 8) != 0
	                    : ediv != p->bond_ediv || memcmp(rand, p->bond_rand, 8) != 0))
		return false;
	memcpy(ltk, p->bond_ltk, 16);
	return true;
}

static bool start_pairing(struct espat_ble_peers_sm *pm, struct espat_ble_peer_sm *p);

/* A phone whose key the module no longer has pairs again, as Android and
 * iOS do when the bond is lost (COMPAT #475); a MIC failure ends the link. */
static void ll_done(void *user, enum espat_ll_enc_end end)
{
	struct espat_ble_peer_sm *p = user;
	struct espat_module *m = p->owner->module(p->owner->user);
	p->encrypted = (int)end;
	if (end == ESPAT_LL_ENC_KEY_MISSING && p->ll.central) {
		p->bonded = false;
		start_pairing(p->owner, p);
	} else if (end == ESPAT_LL_ENC_MIC_FAILURE && m) {
		espat_ble_remote_disconnect(m, p->addr);
	}
}

static void ll_setup(struct espat_ble_peers_sm *pm, struct espat_ble_peer_sm *p, bool central)
{
	espat_ll_enc_init(&p->ll, &pm->crypto,
	                  (struct espat_ll_enc_ops){ll_send, ll_key, ll_done, p}, central);
}

static void answer_pending(struct espat_ble_peer_sm *p)
{
	if (p->want_accept) {
		p->want_accept = false;
		espat_smp_accept(&p->s, p->accept);
	}
}

static void on_smp(void *user, const struct espat_ble_peer *wp, const uint8_t *pdu, size_t len)
{
	struct espat_ble_peers_sm *pm = user;
	struct espat_ble_peer_sm *p = espat_ble_peer_sm(pm, wp->label);
	if (!p)
		return;
	/* bonded, it answers the module's Security Request by encrypting */
	if (!espat_smp_busy(&p->s) && len > 0 && pdu[0] == ESPAT_SMP_SECURITY_REQ && p->bonded) {
		const char *err;
		if (espat_ble_peer_encrypt(pm, p, &err))
			return;
	}
	if (!espat_smp_busy(&p->s) && !p->s.sec_req_sent && len > 0 &&
	    (pdu[0] == ESPAT_SMP_PAIRING_REQ || pdu[0] == ESPAT_SMP_SECURITY_REQ) &&
	    !session(pm, p))
		return;
	espat_smp_input(&p->s, pdu, len);
	answer_pending(p);
}

void espat_ble_peers_sm_init(struct espat_ble_peers_sm *pm, struct espat_ble_world *world,
                             struct espat_module *(*module)(void *user), void *user)
{
	memset(pm, 0, sizeof(*pm));
	struct espat_crypto_port c = espat_crypto_openssl();
	pm->crypto = espat_ble_smp_crypto(&c);
	pm->world = world;
	pm->module = module;
	pm->user = user;
	world->smp_rx = on_smp;
	world->ll_rx = on_ll;
	world->smp_user = pm;
}

struct espat_ble_peer_sm *espat_ble_peer_sm(struct espat_ble_peers_sm *pm, const char *label)
{
	struct espat_ble_peer *wp = espat_ble_peer_find(pm->world, label);
	if (!wp)
		return NULL;
	struct espat_ble_peer_sm *free_slot = NULL;
	for (size_t i = 0; i < ESPAT_BLE_PEERS_MAX; i++) {
		struct espat_ble_peer_sm *p = &pm->peer[i];
		if (p->used && strcmp(p->label, label) == 0 &&
		    memcmp(p->addr, wp->adv.addr, 6) == 0)
			return p;
		if (p->used && !espat_ble_peer_find(pm->world, p->label))
			p->used = false; /* its peer was removed */
		if (!p->used && !free_slot)
			free_slot = p;
	}
	if (!free_slot)
		return NULL;
	/* a phone's defaults: Secure Connections with MITM and bonding,
	 * keyboard and display, 16-byte keys, encryption and identity keys */
	*free_slot = (struct espat_ble_peer_sm){
	    .used = true,
	    .feat = {.io = 4, .auth = 13, .key_size = 16, .init_keys = 3, .rsp_keys = 3},
	    .accept = true,
	    .shown = -1,
	    .compared = -1,
	    .result = -1,
	    .encrypted = -1,
	    .owner = pm};
	memcpy(free_slot->label, label, strlen(label) + 1);
	memcpy(free_slot->addr, wp->adv.addr, 6);
	return free_slot;
}

static void on_ll(void *user, const struct espat_ble_peer *wp, const uint8_t *pdu, size_t len)
{
	struct espat_ble_peers_sm *pm = user;
	struct espat_ble_peer_sm *p = espat_ble_peer_sm(pm, wp->label);
	if (!p)
		return;
	if (!espat_ll_enc_busy(&p->ll) && !session(pm, p)) /* a fresh link: its roles */
		return;
	espat_ll_enc_input(&p->ll, pdu, len);
}

static bool start_pairing(struct espat_ble_peers_sm *pm, struct espat_ble_peer_sm *p)
{
	if (!session(pm, p))
		return false;
	p->result = -1;
	espat_smp_start(&p->s);
	answer_pending(p);
	return true;
}

bool espat_ble_peer_pair(struct espat_ble_peers_sm *pm, struct espat_ble_peer_sm *p,
                         const char **err)
{
	if (espat_smp_busy(&p->s) || espat_ll_enc_busy(&p->ll)) {
		*err = "a pairing is under way";
		return false;
	}
	if (!start_pairing(pm, p)) {
		*err = "not connected";
		return false;
	}
	return true;
}

bool espat_ble_peer_encrypt(struct espat_ble_peers_sm *pm, struct espat_ble_peer_sm *p,
                            const char **err)
{
	if (!p->bonded) {
		*err = "not bonded";
		return false;
	}
	if (espat_smp_busy(&p->s) || espat_ll_enc_busy(&p->ll) || !session(pm, p)) {
		*err = "not connected, or busy";
		return false;
	}
	if (!p->ll.central) {
		*err = "the module is the central: it encrypts";
		return false;
	}
	p->encrypted = -1;
	return espat_ll_enc_start(&p->ll, p->bond_ltk, p->bond_ediv, p->bond_rand);
}

void espat_ble_peer_forget(struct espat_ble_peer_sm *p)
{
	p->bonded = false;
}

bool espat_ble_peer_passkey(struct espat_ble_peer_sm *p, uint32_t key)
{
	if (!p->want_passkey)
		return false;
	p->want_passkey = false;
	bool ok = espat_smp_passkey(&p->s, key);
	answer_pending(p);
	return ok;
}

bool espat_ble_peer_confirm(struct espat_ble_peer_sm *p, bool yes)
{
	if (!p->want_confirm)
		return false;
	p->want_confirm = false;
	bool ok = espat_smp_confirm(&p->s, yes);
	answer_pending(p);
	return ok;
}

json_t *espat_ble_peer_sm_json(const struct espat_ble_peer_sm *p)
{
	json_t *keys = json_array();
	for (size_t i = 0; i < p->nkeys; i++)
		json_array_append_new(keys, json_integer(p->keys[i]));
	const char *waiting = p->want_passkey ? "passkey" : p->want_confirm ? "confirm" : NULL;
	return json_pack("{s:b,s:o,s:o,s:o,s:o,s:o,s:i,s:i,s:b,s:b,s:o}", "busy",
	                 espat_smp_busy(&p->s) || espat_ll_enc_busy(&p->ll), "shown",
	                 p->shown >= 0 ? json_integer(p->shown) : json_null(), "compare",
	                 p->compared >= 0 ? json_integer(p->compared) : json_null(), "waiting",
	                 waiting ? json_string(waiting) : json_null(), "result",
	                 p->result >= 0 ? json_integer(p->result) : json_null(), "keys", keys, "io",
	                 p->feat.io, "auth", p->feat.auth, "accept", p->accept, "bonded", p->bonded,
	                 "encrypted", p->encrypted >= 0 ? json_integer(p->encrypted) : json_null());
}
