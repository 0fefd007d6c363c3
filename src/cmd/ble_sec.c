/* Bluetooth LE security (guide 3.4.33-3.4.40): AT+BLESECPARAM,
 * AT+BLEENC, AT+BLEENCRSP, AT+BLEKEYREPLY, AT+BLECONFREPLY, AT+BLEENCDEV,
 * AT+BLEENCCLEAR, AT+BLESETKEY and the reports +BLESECREQ,
 * +BLESECNTFYKEY, +BLESECKEYREQ, +BLESECKEYTYPE, +BLEAUTHCMPL. Each link
 * runs one Security Manager session (proto/smp_pair.h) whose PDUs travel
 * on the BLE port's SMP channel, one connection event later; bonds are
 * kept in the settings NVS, so they survive power cuts
 * (docs/internals/ble.md "Security"). */
#include <stdio.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/ble.h"
#include "cmd/params.h"
#include "core/args.h"
#include "proto/smp_pair.h"

#define E(m) (&(m)->eng)
#define S(m) ((m)->blesec)

/* ---- the module's side of a link ---------------------------------------------------- */

static struct espat_ble_sec_link *sl(struct espat_module *m, size_t idx)
{
	return &S(m)->link[idx];
}

/* The link's SMP PDUs leave at its next connection event, in order: a peer
 * that answers at once never re-enters a session mid-step. */
static void flush_tick(void *user);

static void flush(struct espat_ble_sec_link *l)
{
	struct espat_module *m = l->m;
	const struct espat_ble_port *port = &m->ports.ble;
	const struct espat_ble_link *bl = &m->ble->link[l->idx];
	/* a PDU sent while flushing waits for the next event */
	size_t n = l->nout;
	uint8_t out[ESPAT_BLE_SEC_QUEUE][ESPAT_SMP_MTU];
	size_t len[ESPAT_BLE_SEC_QUEUE];
	bool ll[ESPAT_BLE_SEC_QUEUE];
	memcpy(out, l->out, n * sizeof(out[0]));
	memcpy(len, l->outlen, n * sizeof(len[0]));
	memcpy(ll, l->outll, n * sizeof(ll[0]));
	l->nout = 0;
	for (size_t i = 0; i < n && bl->up; i++) {
		void (*to)(void *, const uint8_t *, const uint8_t *, size_t) =
		    ll[i] ? port->ll : port->smp;
		if (to)
			to(port->user, bl->addr, out[i], len[i]);
	}
}

static void flush_tick(void *user)
{
	flush(user);
}

static void queue(struct espat_ble_sec_link *l, bool ll, const uint8_t *pdu, size_t len)
{
	struct espat_module *m = l->m;
	if (l->nout == ESPAT_BLE_SEC_QUEUE || len > ESPAT_SMP_MTU)
		return; /* a pairing never has more than a few in flight */
	memcpy(l->out[l->nout], pdu, len);
	l->outll[l->nout] = ll;
	l->outlen[l->nout++] = len;
	if (!l->flush.armed) {
		const struct espat_ble_link *bl = &m->ble->link[l->idx];
		uint64_t event_ms = ((uint64_t)bl->interval * 5 + 3) / 4;
		espat_timer_arm(&m->timers, &l->flush, espat_module_now(m) + event_ms, flush_tick,
		                l);
	}
}

static void smp_send(void *user, const uint8_t *pdu, size_t len)
{
	queue(user, false, pdu, len);
}

static void ll_send(void *user, const uint8_t *pdu, size_t len)
{
	queue(user, true, pdu, len);
}

static void bond_store(struct espat_module *m, struct espat_ble_sec_link *l);

static void smp_event(void *user, enum espat_smp_ev ev, uint32_t v)
{
	struct espat_ble_sec_link *l = user;
	struct espat_module *m = l->m;
	unsigned idx = (unsigned)l->idx;
	switch (ev) {
	case ESPAT_SMP_EV_REQUEST:
		l->asked = true;
		espat_wr_reportf(&m->wr, "+BLESECREQ:%u", idx);
		break;
	case ESPAT_SMP_EV_DISPLAY:
	case ESPAT_SMP_EV_COMPARE:
		/* COMPAT #470: the comparison's number is shown like a key */
		espat_wr_reportf(&m->wr, "+BLESECNTFYKEY:%u,%06u", idx, (unsigned)v);
		break;
	case ESPAT_SMP_EV_INPUT:
		espat_wr_reportf(&m->wr, "+BLESECKEYREQ:%u", idx);
		break;
	case ESPAT_SMP_EV_KEY:
		espat_wr_reportf(&m->wr, "+BLESECKEYTYPE:%u,%u", idx, (unsigned)v);
		break;
	case ESPAT_SMP_EV_DONE:
		espat_timer_cancel(&m->timers, &l->timeout);
		l->asked = false;
		if (v == 0) {
			l->level = l->smp.res.authenticated ? 2 : 1;
			espat_ble_gatts_set_level(m, l->idx, l->level);
			if (l->smp.res.bond)
				bond_store(m, l);
		}
		espat_wr_reportf(&m->wr, "+BLEAUTHCMPL:%u,%u", idx, v == 0 ? 0u : 1u);
		break;
	}
}

static void arm_timeout(struct espat_module *m, struct espat_ble_sec_link *l);

static void answer_tick(void *user)
{
	struct espat_ble_sec_link *l = user;
	bool ok = false;
	switch (l->answer_kind) {
	case ESPAT_SMP_WAIT_ACCEPT:
		l->asked = false;
		ok = espat_smp_accept(&l->smp, l->answer_val == 1);
		break;
	case ESPAT_SMP_WAIT_PASSKEY:
		ok = espat_smp_passkey(&l->smp, l->answer_val);
		break;
	case ESPAT_SMP_WAIT_CONFIRM:
		ok = espat_smp_confirm(&l->smp, l->answer_val == 1);
		break;
	}
	l->answer_kind = ESPAT_SMP_WAIT_NONE;
	if (ok && espat_smp_busy(&l->smp))
		arm_timeout(l->m, l);
}

/* The answer to what the session waits for goes in after OK; ERROR when
 * it waits for something else (or an answer is already on its way). */
static enum espat_rc answer(struct espat_module *m, size_t idx, enum espat_smp_wait kind,
                            uint32_t v)
{
	struct espat_ble_sec_link *l = sl(m, idx);
	if (espat_smp_waiting(&l->smp) != kind || l->answer_kind != ESPAT_SMP_WAIT_NONE ||
	    (kind == ESPAT_SMP_WAIT_ACCEPT && !l->asked))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	l->answer_kind = (uint8_t)kind;
	l->answer_val = v;
	espat_timer_arm(&m->timers, &l->answer, espat_module_now(m), answer_tick, l);
	return ESPAT_RC_OK;
}

static void ll_init(struct espat_module *m, struct espat_ble_sec_link *l);

static void timeout_tick(void *user)
{
	struct espat_ble_sec_link *l = user;
	if (espat_ll_enc_busy(&l->ll)) { /* the peer never answered the encryption start */
		ll_init(l->m, l);
		espat_wr_reportf(&l->m->wr, "+BLEAUTHCMPL:%u,1", (unsigned)l->idx);
		return;
	}
	/* Vol 3 Part H 3.4: 30 s without the next step ends the pairing */
	espat_smp_abort(&l->smp, ESPAT_SMP_E_UNSPECIFIED);
}

struct espat_smp_crypto espat_ble_smp_crypto(const struct espat_crypto_port *p)
{
	return (struct espat_smp_crypto){.aes = p->aes128,
	                                 .random = p->random,
	                                 .p256_keypair = p->p256_keypair,
	                                 .p256_dh = p->p256_dh,
	                                 .user = p->user};
}

static const struct espat_smp_crypto *crypto(struct espat_module *m)
{
	S(m)->crypto = espat_ble_smp_crypto(&m->ports.crypto);
	return &S(m)->crypto;
}

void espat_ble_link_own_addr(const struct espat_module *m, size_t idx, uint8_t a[6], uint8_t *type)
{
	const struct espat_ble *b = m->ble;
	if (b->link[idx].central) {
		espat_ble_own_addr(m, a, type);
		return;
	}
	bool rnd = b->adv_param.own_addr_type == 1 && b->random;
	memcpy(a, rnd ? b->random_addr : b->public_addr, 6);
	*type = rnd ? 1 : 0;
}

/* A fresh session on link idx with the current AT+BLESECPARAM; sec_act
 * (AT+BLEENC's) adds or removes the MITM requirement. */
static void session(struct espat_module *m, size_t idx, int sec_act)
{
	struct espat_ble_sec_link *l = sl(m, idx);
	const struct espat_ble_link *bl = &m->ble->link[idx];
	struct espat_smp_features f = S(m)->param;
	if (sec_act == 2)
		f.auth &= (uint8_t)~ESPAT_SMP_AUTH_MITM;
	else if (sec_act == 3)
		f.auth |= ESPAT_SMP_AUTH_MITM;
	uint8_t type, a[6];
	espat_ble_link_own_addr(m, idx, a, &type);
	espat_smp_init(&l->smp, crypto(m), (struct espat_smp_ops){smp_send, smp_event, l},
	               bl->central ? ESPAT_SMP_INITIATOR : ESPAT_SMP_RESPONDER, &f, type, a,
	               bl->addr_type, bl->addr);
	l->smp.strict = S(m)->auth_option == 1;
	l->smp.static_passkey = S(m)->static_key;
	memcpy(l->smp.irk, S(m)->irk, 16);
}

static void arm_timeout(struct espat_module *m, struct espat_ble_sec_link *l)
{
	espat_timer_arm(&m->timers, &l->timeout, espat_module_now(m) + 30000, timeout_tick, l);
}

/* ---- encryption with a bond's key ------------------------------------------------ */

/* The bond with the device at addr, or -1. */
static int bond_find(struct espat_module *m, const uint8_t addr[6])
{
	for (size_t i = 0; i < ESPAT_BLE_BONDS; i++)
		if (S(m)->bond[i].used && memcmp(S(m)->bond[i].addr, addr, 6) == 0)
			return (int)i;
	return -1;
}

/* The peripheral's key for the central's EDIV and Rand: Secure
 * Connections' bonds are named by the peer (EDIV and Rand 0), legacy
 * ones by the EDIV and Rand this side distributed. */
static bool ll_key(void *user, uint16_t ediv, const uint8_t rand[8], uint8_t ltk[16])
{
	struct espat_ble_sec_link *l = user;
	struct espat_module *m = l->m;
	int b = bond_find(m, m->ble->link[l->idx].addr);
	if (b < 0)
		return false;
	const struct espat_ble_bond *bd = &S(m)->bond[b];
	static const uint8_t zero[8];
	if (bd->secure ? ediv != 0 || memcmp(rand, zero, 8) != 0
	               : ediv != bd->ediv || memcmp(rand, bd->rand, 8) != 0)
		return false;
	memcpy(ltk, bd->ltk, 16);
	l->bond = b;
	return true;
}

/* Encrypted with the bond's key: the level the bond had, +BLEAUTHCMPL as
 * Bluedroid reports a bonded link's encryption; a key the peer lacks
 * fails (the bond stays, COMPAT #475); a MIC failure ends the link. */
static void ll_done(void *user, enum espat_ll_enc_end end)
{
	struct espat_ble_sec_link *l = user;
	struct espat_module *m = l->m;
	espat_timer_cancel(&m->timers, &l->timeout);
	if (end == ESPAT_LL_ENC_OK && l->bond >= 0) {
		l->level = S(m)->bond[l->bond].authenticated ? 2 : 1;
		espat_ble_gatts_set_level(m, l->idx, l->level);
	}
	espat_wr_reportf(&m->wr, "+BLEAUTHCMPL:%u,%u", (unsigned)l->idx,
	                 end == ESPAT_LL_ENC_OK ? 0u : 1u);
	if (end == ESPAT_LL_ENC_MIC_FAILURE) {
		uint8_t addr[6];
		memcpy(addr, m->ble->link[l->idx].addr, 6);
		espat_ble_remote_disconnect(m, addr);
	}
}

static void ll_init(struct espat_module *m, struct espat_ble_sec_link *l)
{
	espat_ll_enc_init(&l->ll, crypto(m), (struct espat_ll_enc_ops){ll_send, ll_key, ll_done, l},
	                  m->ble->link[l->idx].central);
	l->bond = -1;
}

/* The central encrypts with its bond for the peer when it has one that
 * is strong enough (sec_act 3 asks for MITM); true when it started. */
static bool ll_start(struct espat_module *m, struct espat_ble_sec_link *l, int sec_act)
{
	int b = bond_find(m, m->ble->link[l->idx].addr);
	if (b < 0 || !m->ble->link[l->idx].central || espat_ll_enc_busy(&l->ll) ||
	    (sec_act == 3 && !S(m)->bond[b].authenticated) || !m->ports.ble.ll)
		return false;
	const struct espat_ble_bond *bd = &S(m)->bond[b];
	l->bond = b;
	if (!espat_ll_enc_start(&l->ll, bd->ltk, bd->ediv, bd->rand))
		return false;
	arm_timeout(m, l);
	return true;
}

void espat_ble_ll_in(struct espat_module *m, const uint8_t addr[6], const uint8_t *pdu, size_t len)
{
	int idx = espat_ble_link_of(m, addr);
	if (idx < 0 || !m->blesec || !m->ports.crypto.aes128)
		return;
	struct espat_ble_sec_link *l = sl(m, (size_t)idx);
	espat_ll_enc_input(&l->ll, pdu, len);
	if (espat_ll_enc_busy(&l->ll))
		arm_timeout(m, l);
}

void espat_ble_sec_link(struct espat_module *m, size_t idx, bool up)
{
	if (!m->blesec || idx >= ESPAT_BLE_LINKS)
		return;
	struct espat_ble_sec_link *l = sl(m, idx);
	espat_timer_cancel(&m->timers, &l->flush);
	espat_timer_cancel(&m->timers, &l->timeout);
	espat_timer_cancel(&m->timers, &l->answer);
	l->answer_kind = ESPAT_SMP_WAIT_NONE;
	if (!up && espat_smp_busy(&l->smp)) {
		/* the link went down mid-pairing: it failed */
		espat_smp_abort(&l->smp, ESPAT_SMP_E_UNSPECIFIED);
	}
	l->nout = 0;
	l->asked = false;
	l->level = 0;
	if (up) {
		session(m, idx, 1);
		ll_init(m, l);
	}
}

void espat_ble_smp_in(struct espat_module *m, const uint8_t addr[6], const uint8_t *pdu, size_t len)
{
	int idx = espat_ble_link_of(m, addr);
	if (idx < 0 || !m->blesec || !m->ports.crypto.aes128)
		return;
	struct espat_ble_sec_link *l = sl(m, (size_t)idx);
	bool was = espat_smp_busy(&l->smp);
	/* a bonded central answers a Security Request by encrypting with the
	 * bond's key, without asking its host (Bluedroid) */
	if (!was && len > 0 && pdu[0] == ESPAT_SMP_SECURITY_REQ && ll_start(m, l, 1))
		return;
	/* the peer starts: this side's current parameters (unless this side
	 * asked first, with a Security Request: that session answers) */
	if (!was && !l->smp.sec_req_sent && len > 0 &&
	    (pdu[0] == ESPAT_SMP_PAIRING_REQ || pdu[0] == ESPAT_SMP_SECURITY_REQ))
		session(m, (size_t)idx, 1);
	espat_smp_input(&l->smp, pdu, len);
	if (espat_smp_busy(&l->smp))
		arm_timeout(m, l);
}

bool espat_ble_link_central(const struct espat_module *m, size_t idx)
{
	return idx < ESPAT_BLE_LINKS && m->ble->link[idx].up && m->ble->link[idx].central;
}

uint8_t espat_ble_sec_level(const struct espat_module *m, size_t idx)
{
	return m->blesec && idx < ESPAT_BLE_LINKS ? m->blesec->link[idx].level : 0;
}

/* ---- bonds ------------------------------------------------------------------------------ */

static void bond_key(char *key, size_t cap, size_t i)
{
	snprintf(key, cap, "blebond%zu", i);
}

static void bond_save(struct espat_module *m, size_t i)
{
	const struct espat_ble_bond *b = &S(m)->bond[i];
	char key[16], mac[18], ltk[33], rnd[17];
	bond_key(key, sizeof(key), i);
	if (!b->used) {
		espat_settings_erase(&m->settings, key);
		return;
	}
	espat_hex_encode(ltk, b->ltk, 16);
	espat_hex_encode(rnd, b->rand, 8);
	espat_settings_savef(&m->settings, ESPAT_SAVE_ALWAYS, key,
	                     "\"%s\",%u,\"%s\",%u,\"%s\",%u,%u,%u,%u", espat_mac_str(b->addr, mac),
	                     b->addr_type, ltk, b->ediv, rnd, b->key_size, b->authenticated,
	                     b->secure, b->seq);
}

static void bond_forget(struct espat_module *m, size_t i)
{
	S(m)->bond[i].used = false;
	bond_save(m, i);
}

static void bonds_load(struct espat_module *m)
{
	for (size_t i = 0; i < ESPAT_BLE_BONDS; i++) {
		char key[16];
		struct espat_args a;
		struct espat_ble_bond b = {0};
		size_t n;
		bond_key(key, sizeof(key), i);
		if (!espat_settings_load(&m->settings, key, &a) || a.n != 9 ||
		    a.v[0].kind != ESPAT_ARG_STR || a.v[2].kind != ESPAT_ARG_STR ||
		    a.v[4].kind != ESPAT_ARG_STR ||
		    !espat_mac_parse(a.v[0].s, a.v[0].len, b.addr) ||
		    !espat_hex_decode(a.v[2].s, a.v[2].len, b.ltk, 16, &n) || n != 16 ||
		    !espat_hex_decode(a.v[4].s, a.v[4].len, b.rand, 8, &n) || n != 8)
			continue;
		b.addr_type = (uint8_t)(a.v[1].i & 1);
		b.ediv = (uint16_t)a.v[3].i;
		b.key_size = (uint8_t)a.v[5].i;
		b.authenticated = a.v[6].i != 0;
		b.secure = a.v[7].i != 0;
		b.seq = (uint32_t)a.v[8].i;
		b.used = true;
		S(m)->bond[i] = b;
		if (b.seq >= S(m)->seq)
			S(m)->seq = b.seq + 1;
	}
}

/* A new bond replaces the peer's old one, else takes a free slot, else the
 * oldest (the guide: past 15, bonds are overwritten in bonding order). */
static void bond_store(struct espat_module *m, struct espat_ble_sec_link *l)
{
	const struct espat_smp_result *r = &l->smp.res;
	const uint8_t *addr = r->peer_id ? r->peer_id_addr : m->ble->link[l->idx].addr;
	size_t at = ESPAT_BLE_BONDS, oldest = 0;
	for (size_t i = 0; i < ESPAT_BLE_BONDS; i++) {
		const struct espat_ble_bond *b = &S(m)->bond[i];
		if (b->used && memcmp(b->addr, addr, 6) == 0) {
			at = i;
			break;
		}
		if (!b->used && at == ESPAT_BLE_BONDS)
			at = i;
		if (b->used && S(m)->bond[oldest].used && b->seq < S(m)->bond[oldest].seq)
			oldest = i;
	}
	if (at == ESPAT_BLE_BONDS)
		at = oldest;
	struct espat_ble_bond *b = &S(m)->bond[at];
	*b = (struct espat_ble_bond){.used = true,
	                             .addr_type = r->peer_id ? r->peer_id_type
	                                                     : m->ble->link[l->idx].addr_type,
	                             .ediv = r->ediv,
	                             .key_size = r->key_size,
	                             .authenticated = r->authenticated,
	                             .secure = r->secure,
	                             .seq = S(m)->seq++};
	memcpy(b->addr, addr, 6);
	memcpy(b->ltk, r->ltk, 16);
	memcpy(b->rand, r->rand, 8);
	bond_save(m, at);
}

/* ---- commands ----------------------------------------------------------------------------- */

static enum espat_rc need_link(struct espat_module *m, int64_t idx)
{
	enum espat_rc rc = espat_ble_need_stack(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	if (!m->ble->link[idx].up || !m->ports.crypto.aes128)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	return ESPAT_RC_OK;
}

static enum espat_rc blesecparam_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = espat_ble_need_stack(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	const struct espat_smp_features *p = &S(m)->param;
	espat_wr_linef(&m->wr, "+BLESECPARAM:%u,%u,%u,%u,%u,%u", p->auth, p->io, p->key_size,
	               p->init_keys, p->rsp_keys, S(m)->auth_option);
	return ESPAT_RC_OK;
}

static const struct espat_param p_blesecparam[] = {
    P_INT("auth_req", 0, 13), P_INT("iocap", 0, 4),    P_INT("enc_key_size", 7, 16),
    P_INT("init_key", 0, 15), P_INT("rsp_key", 0, 15), P_INT_OPT("auth_option", 0, 1),
};

static enum espat_rc blesecparam_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = espat_ble_need_stack(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	/* the guide's seven <auth_req> values (COMPAT #471) */
	switch (a->v[0].i) {
	case 0:
	case 1:
	case 4:
	case 8:
	case 9:
	case 12:
	case 13:
		break;
	default:
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	}
	S(m)->param = (struct espat_smp_features){.auth = (uint8_t)a->v[0].i,
	                                          .io = (uint8_t)a->v[1].i,
	                                          .key_size = (uint8_t)a->v[2].i,
	                                          .init_keys = (uint8_t)a->v[3].i,
	                                          .rsp_keys = (uint8_t)a->v[4].i};
	S(m)->auth_option = a->n > 5 && a->v[5].kind == ESPAT_ARG_INT ? (uint8_t)a->v[5].i : 0;
	return ESPAT_RC_OK;
}

static const struct espat_param p_bleenc[] = {
    P_INT("conn_index", 0, ESPAT_BLE_LINKS - 1),
    P_INT("sec_act", 0, 3),
};

/* A central sends its Pairing Request, a peripheral a Security Request;
 * SEC_NONE asks for nothing (COMPAT #472). */
static enum espat_rc bleenc_set(struct espat_module *m, const struct espat_args *a)
{
	size_t idx = (size_t)a->v[0].i;
	enum espat_rc rc = need_link(m, a->v[0].i);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_sec_link *l = sl(m, idx);
	if (espat_smp_busy(&l->smp) || espat_ll_enc_busy(&l->ll))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	if (a->v[1].i == 0 || ll_start(m, l, (int)a->v[1].i))
		return ESPAT_RC_OK;
	session(m, idx, (int)a->v[1].i);
	espat_smp_start(&l->smp);
	if (espat_smp_busy(&l->smp))
		arm_timeout(m, l);
	return ESPAT_RC_OK;
}

static const struct espat_param p_bleencrsp[] = {
    P_INT("conn_index", 0, ESPAT_BLE_LINKS - 1),
    P_INT("accept", 0, 1),
};

/* AT+BLEENCRSP, AT+BLEKEYREPLY, AT+BLECONFREPLY: <conn_index>, then the
 * answer to what that link's pairing waits for. */
static enum espat_rc reply(struct espat_module *m, const struct espat_args *a,
                           enum espat_smp_wait kind)
{
	enum espat_rc rc = need_link(m, a->v[0].i);
	if (rc != ESPAT_RC_OK)
		return rc;
	return answer(m, (size_t)a->v[0].i, kind, (uint32_t)a->v[1].i);
}

static enum espat_rc bleencrsp_set(struct espat_module *m, const struct espat_args *a)
{
	return reply(m, a, ESPAT_SMP_WAIT_ACCEPT);
}

static const struct espat_param p_blekeyreply[] = {
    P_INT("conn_index", 0, ESPAT_BLE_LINKS - 1),
    P_INT("key", 0, 999999),
};

static enum espat_rc blekeyreply_set(struct espat_module *m, const struct espat_args *a)
{
	return reply(m, a, ESPAT_SMP_WAIT_PASSKEY);
}

static const struct espat_param p_bleconfreply[] = {
    P_INT("conn_index", 0, ESPAT_BLE_LINKS - 1),
    P_INT("confirm", 0, 1),
};

static enum espat_rc bleconfreply_set(struct espat_module *m, const struct espat_args *a)
{
	return reply(m, a, ESPAT_SMP_WAIT_CONFIRM);
}

static enum espat_rc bleencdev_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = espat_ble_need_stack(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	for (size_t i = 0; i < ESPAT_BLE_BONDS; i++)
		if (S(m)->bond[i].used) {
			char mac[18];
			espat_wr_linef(&m->wr, "+BLEENCDEV:%zu,\"%s\"", i,
			               espat_mac_str(S(m)->bond[i].addr, mac));
		}
	return ESPAT_RC_OK;
}

static const struct espat_param p_bleencclear[] = {
    P_INT("enc_dev_index", 0, ESPAT_BLE_BONDS - 1),
};

static enum espat_rc bleencclear_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = espat_ble_need_stack(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	size_t i = (size_t)a->v[0].i;
	if (!S(m)->bond[i].used)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	bond_forget(m, i);
	return ESPAT_RC_OK;
}

static enum espat_rc bleencclear_exec(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = espat_ble_need_stack(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	for (size_t i = 0; i < ESPAT_BLE_BONDS; i++)
		if (S(m)->bond[i].used)
			bond_forget(m, i);
	return ESPAT_RC_OK;
}

static enum espat_rc blesetkey_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = espat_ble_need_stack(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	espat_wr_linef(&m->wr, "+BLESETKEY:%ld", (long)S(m)->static_key);
	return ESPAT_RC_OK;
}

static const struct espat_param p_blesetkey[] = {
    P_INT("static_key", 0, 999999),
};

static enum espat_rc blesetkey_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = espat_ble_need_stack(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	S(m)->static_key = (int32_t)a->v[0].i;
	return ESPAT_RC_OK;
}

static const struct espat_cmd sec_rows[] = {
    {.name = "+BLESECPARAM",
     .query = blesecparam_query,
     .set = blesecparam_set,
     .params = p_blesecparam,
     .nparams = N(p_blesecparam),
     .help = "Query/Set Bluetooth LE encryption parameters"},
    {.name = "+BLEENC",
     .set = bleenc_set,
     .params = p_bleenc,
     .nparams = N(p_bleenc),
     .help = "Initiate Bluetooth LE encryption request"},
    {.name = "+BLEENCRSP",
     .set = bleencrsp_set,
     .params = p_bleencrsp,
     .nparams = N(p_bleencrsp),
     .help = "Respond to the pairing request from the peer device"},
    {.name = "+BLEKEYREPLY",
     .set = blekeyreply_set,
     .params = p_blekeyreply,
     .nparams = N(p_blekeyreply),
     .help = "Reply the key value to the peer device"},
    {.name = "+BLECONFREPLY",
     .set = bleconfreply_set,
     .params = p_bleconfreply,
     .nparams = N(p_bleconfreply),
     .help = "Reply the confirm value to the peer device"},
    {.name = "+BLEENCDEV",
     .query = bleencdev_query,
     .help = "Query bonded Bluetooth LE encryption device list"},
    {.name = "+BLEENCCLEAR",
     .set = bleencclear_set,
     .exec = bleencclear_exec,
     .params = p_bleencclear,
     .nparams = N(p_bleencclear),
     .help = "Clear Bluetooth LE encryption device list"},
    {.name = "+BLESETKEY",
     .query = blesetkey_query,
     .set = blesetkey_set,
     .params = p_blesetkey,
     .nparams = N(p_blesetkey),
     .help = "Set Bluetooth LE static pair key"},
};

static const struct espat_cmd_table sec_table = {
    .family = "ble_sec",
    .rows = sec_rows,
    .n = N(sec_rows),
};

/* Every boot: the factory parameters (COMPAT #473), no static key, the
 * device's IRK (from its public address, stable across boots), the bonds
 * from flash. */
static void sec_init(struct espat_module *m)
{
	struct espat_ble_sec *s = S(m);
	s->param = (struct espat_smp_features){
	    .auth = 13, .io = 3, .key_size = 16, .init_keys = 3, .rsp_keys = 3};
	s->auth_option = 0;
	s->static_key = -1;
	for (size_t i = 0; i < ESPAT_BLE_LINKS; i++)
		s->link[i] = (struct espat_ble_sec_link){.m = m, .idx = i};
}

static void sec_boot(struct espat_module *m)
{
	for (size_t i = 0; i < 16; i++)
		S(m)->irk[i] = (uint8_t)(m->ble->public_addr[i % 6] ^ (0x5a + i));
	bonds_load(m);
}

static void sec_free(struct espat_module *m)
{
	for (size_t i = 0; i < ESPAT_BLE_LINKS; i++) {
		espat_timer_cancel(&m->timers, &S(m)->link[i].flush);
		espat_timer_cancel(&m->timers, &S(m)->link[i].timeout);
		espat_timer_cancel(&m->timers, &S(m)->link[i].answer);
	}
}

const struct espat_family espat_ble_sec_family = {
    .name = "ble_sec",
    .table = &sec_table,
    .state_size = sizeof(struct espat_ble_sec),
    .state_slot = offsetof(struct espat_module, blesec),
    .init = sec_init,
    .boot = sec_boot,
    .free = sec_free,
};
