/* One LE pairing: see smp_pair.h. Values the toolbox takes (nonces,
 * confirm values, keys, the public keys) are kept most significant octet
 * first; they are swapped into wire order when a PDU carries them. */
#include "proto/smp_pair.h"

#include <string.h>

enum phase {
	P_IDLE = 0,
	P_SEC_ASKED, /* initiator: a Security Request came, the host decides */
	P_FEATURES,  /* initiator: the Pairing Request is out, the response awaited */
	P_REQ_ASKED, /* responder: a Pairing Request came, the host decides */
	P_PUBKEY,    /* Secure Connections: the public keys are exchanged */
	P_AUTH,      /* stage 1: confirm and random values */
	P_CHECK,     /* Secure Connections' stage 2: the DHKey checks */
	P_DIST,      /* phase 3: key distribution */
};

#define INIT(s) ((s)->role == ESPAT_SMP_INITIATOR)

static void event(struct espat_smp_session *s, enum espat_smp_ev ev, uint32_t v)
{
	s->ops.event(s->ops.user, ev, v);
}

static void send_pdu(struct espat_smp_session *s, const struct espat_smp_pdu *p)
{
	uint8_t out[ESPAT_SMP_MTU];
	size_t n = espat_smp_encode(p, out, sizeof(out));
	if (n)
		s->ops.send(s->ops.user, out, n);
}

/* A 16-byte value PDU from a value kept most significant first. */
static void send_value(struct espat_smp_session *s, uint8_t code, const uint8_t v[16])
{
	struct espat_smp_pdu p = {.code = code};
	espat_smp_swap(p.v, v, 16);
	send_pdu(s, &p);
}

static void finish(struct espat_smp_session *s, uint8_t reason)
{
	s->state = P_IDLE;
	event(s, ESPAT_SMP_EV_DONE, reason);
}

/* Pairing Failed to the peer; the host hears DONE only when a pairing
 * was running (a stray PDU on an idle link is answered, not reported). */
static void fail(struct espat_smp_session *s, uint8_t reason)
{
	struct espat_smp_pdu p = {.code = ESPAT_SMP_FAILED, .reason = reason};
	send_pdu(s, &p);
	if (s->state != P_IDLE)
		finish(s, reason);
}

void espat_smp_init(struct espat_smp_session *s, const struct espat_smp_crypto *c,
                    struct espat_smp_ops ops, enum espat_smp_role role,
                    const struct espat_smp_features *local, uint8_t own_type, const uint8_t own[6],
                    uint8_t peer_type, const uint8_t peer[6])
{
	memset(s, 0, sizeof(*s));
	s->c = c;
	s->ops = ops;
	s->role = (uint8_t)role;
	s->local = *local;
	s->static_passkey = -1;
	s->own_type = own_type;
	memcpy(s->own, own, 6);
	s->peer_type = peer_type;
	memcpy(s->peer, peer, 6);
}

bool espat_smp_busy(const struct espat_smp_session *s)
{
	return s->state != P_IDLE;
}

static bool passkey_method(uint8_t m);
static bool displays(const struct espat_smp_session *s);

enum espat_smp_wait espat_smp_waiting(const struct espat_smp_session *s)
{
	if (s->state == P_SEC_ASKED || s->state == P_REQ_ASKED)
		return ESPAT_SMP_WAIT_ACCEPT;
	if (s->state == P_AUTH && !s->have_passkey && passkey_method(s->method) && !displays(s))
		return ESPAT_SMP_WAIT_PASSKEY;
	if (s->state == P_CHECK && s->method == ESPAT_SMP_NUMERIC && !s->user_ok)
		return ESPAT_SMP_WAIT_CONFIRM;
	return ESPAT_SMP_WAIT_NONE;
}

static void features_pdu(struct espat_smp_session *s, uint8_t code,
                         const struct espat_smp_features *f, uint8_t out[7])
{
	struct espat_smp_pdu p = {.code = code, .feat = *f};
	espat_smp_encode(&p, out, 7);
	send_pdu(s, &p);
}

static void send_request(struct espat_smp_session *s)
{
	features_pdu(s, ESPAT_SMP_PAIRING_REQ, &s->local, s->preq);
	s->state = P_FEATURES;
}

bool espat_smp_start(struct espat_smp_session *s)
{
	if (s->state != P_IDLE)
		return false;
	if (INIT(s)) {
		send_request(s);
	} else {
		struct espat_smp_pdu p = {.code = ESPAT_SMP_SECURITY_REQ, .auth = s->local.auth};
		send_pdu(s, &p);
		s->sec_req_sent = true;
	}
	return true;
}

/* ---- who shows and who types ---------------------------------------------------- */

static bool displays(const struct espat_smp_session *s)
{
	return (s->method == ESPAT_SMP_PASSKEY_INIT_INPUTS && !INIT(s)) ||
	       (s->method == ESPAT_SMP_PASSKEY_RSP_INPUTS && INIT(s));
}

static bool passkey_method(uint8_t m)
{
	return m == ESPAT_SMP_PASSKEY_INIT_INPUTS || m == ESPAT_SMP_PASSKEY_RSP_INPUTS ||
	       m == ESPAT_SMP_PASSKEY_BOTH_INPUT;
}

/* Legacy pairing's TK: the passkey as a 128-bit number (2.3.5.3). */
static void set_passkey(struct espat_smp_session *s, uint32_t key)
{
	s->passkey = key;
	s->have_passkey = true;
	memset(s->tk, 0, 16);
	s->tk[12] = (uint8_t)(key >> 24);
	s->tk[13] = (uint8_t)(key >> 16);
	s->tk[14] = (uint8_t)(key >> 8);
	s->tk[15] = (uint8_t)key;
}

/* The passkey step: Just Works needs none; the displaying side makes the
 * key (or takes AT+BLESETKEY's), the typing side asks its host. */
static void user_step(struct espat_smp_session *s)
{
	if (!passkey_method(s->method)) {
		set_passkey(s, 0);
		return;
	}
	if (displays(s)) {
		uint8_t r[4];
		s->c->random(s->c->user, r, 4);
		set_passkey(s, s->static_passkey >= 0
		                   ? (uint32_t)s->static_passkey
		                   : ((uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 |
		                      (uint32_t)r[2] << 8 | r[3]) %
		                         1000000u);
		event(s, ESPAT_SMP_EV_DISPLAY, s->passkey);
	} else {
		event(s, ESPAT_SMP_EV_INPUT, 0);
	}
}

/* ---- legacy pairing's stage 1 ------------------------------------------------------ */

static void legacy_confirm(struct espat_smp_session *s, const uint8_t rand[16], uint8_t out[16])
{
	const uint8_t *ia = INIT(s) ? s->own : s->peer, *ra = INIT(s) ? s->peer : s->own;
	uint8_t iat = INIT(s) ? s->own_type : s->peer_type;
	uint8_t rat = INIT(s) ? s->peer_type : s->own_type;
	espat_smp_c1(s->c, s->tk, rand, s->preq, s->pres, iat, ia, rat, ra, out);
}

static void send_confirm_legacy(struct espat_smp_session *s)
{
	uint8_t cfm[16];
	s->c->random(s->c->user, s->mine, 16);
	legacy_confirm(s, s->mine, cfm);
	send_value(s, ESPAT_SMP_CONFIRM, cfm);
	s->cfm_sent = true;
}

/* ---- Secure Connections ------------------------------------------------------------ */

static const uint8_t *pka(const struct espat_smp_session *s)
{
	return INIT(s) ? s->pub : s->peer_pub;
}

static const uint8_t *pkb(const struct espat_smp_session *s)
{
	return INIT(s) ? s->peer_pub : s->pub;
}

static const uint8_t *na(const struct espat_smp_session *s)
{
	return INIT(s) ? s->mine : s->theirs;
}

static const uint8_t *nb(const struct espat_smp_session *s)
{
	return INIT(s) ? s->theirs : s->mine;
}

/* The passkey bit of this round, as f4's Z: 0x80 | bit. */
static uint8_t round_z(const struct espat_smp_session *s)
{
	return (uint8_t)(0x80u | ((s->passkey >> s->round) & 1u));
}

/* This side's confirm value for the current round: Cb = f4(PKbx, PKax,
 * Nb, 0) for Just Works and numeric comparison; f4(own PKx, peer PKx,
 * N, 0x80|bit) for each round of passkey entry. */
static void sc_confirm(struct espat_smp_session *s, const uint8_t *own_pk, const uint8_t *peer_pk,
                       const uint8_t n[16], uint8_t out[16])
{
	uint8_t z = passkey_method(s->method) ? round_z(s) : 0;
	espat_smp_f4(s->c, own_pk, peer_pk, n, z, out);
}

static void send_confirm_sc(struct espat_smp_session *s)
{
	uint8_t cfm[16];
	s->c->random(s->c->user, s->mine, 16);
	sc_confirm(s, s->pub, s->peer_pub, s->mine, cfm);
	send_value(s, ESPAT_SMP_CONFIRM, cfm);
	s->cfm_sent = true;
}

static void addr7(uint8_t type, const uint8_t a[6], uint8_t out[7])
{
	out[0] = type;
	memcpy(out + 1, a, 6);
}

/* f6 for one side: E = f6(MacKey, N_own, N_peer, R, IOcap_own, own, peer),
 * R the passkey for passkey entry (else 0). */
static void dhkey_check(const struct espat_smp_session *s, bool initiator, uint8_t out[16])
{
	uint8_t r[16] = {0}, io[3], a1[7], a2[7];
	if (passkey_method(s->method))
		memcpy(r, s->tk, 16);                     /* the passkey as a 128-bit number */
	const uint8_t *f = initiator ? s->preq : s->pres; /* code, io, oob, auth, ... */
	io[0] = f[3];
	io[1] = f[2];
	io[2] = f[1];
	bool own = initiator == INIT(s);
	addr7(own ? s->own_type : s->peer_type, own ? s->own : s->peer, a1);
	addr7(own ? s->peer_type : s->own_type, own ? s->peer : s->own, a2);
	const uint8_t *n1 = initiator ? na(s) : nb(s), *n2 = initiator ? nb(s) : na(s);
	espat_smp_f6(s->c, s->mackey, n1, n2, r, io, a1, a2, out);
}

static void start_dist(struct espat_smp_session *s);

/* Stage 2 begins: both derive MacKey and the LTK; the initiator sends Ea
 * (once its user confirmed a comparison). */
static void sc_stage2(struct espat_smp_session *s)
{
	uint8_t a[7], b[7], ltk[16];
	addr7(INIT(s) ? s->own_type : s->peer_type, INIT(s) ? s->own : s->peer, a);
	addr7(INIT(s) ? s->peer_type : s->own_type, INIT(s) ? s->peer : s->own, b);
	espat_smp_f5(s->c, s->dhkey, na(s), nb(s), a, b, s->mackey, ltk);
	espat_smp_swap(s->res.ltk, ltk, 16);
	s->state = P_CHECK;
}

static void sc_send_check(struct espat_smp_session *s)
{
	uint8_t e[16];
	dhkey_check(s, INIT(s), e);
	send_value(s, ESPAT_SMP_DHKEY_CHECK, e);
}

/* The responder checks Ea (kept in s->check) and answers Eb. */
static void sc_answer_check(struct espat_smp_session *s)
{
	uint8_t want[16];
	dhkey_check(s, true, want);
	if (memcmp(want, s->check, 16) != 0) {
		fail(s, ESPAT_SMP_E_DHKEY);
		return;
	}
	sc_send_check(s);
	start_dist(s);
}

static uint32_t compare_value(const struct espat_smp_session *s)
{
	return espat_smp_g2(s->c, pka(s), pkb(s), na(s), nb(s)) % 1000000u;
}

/* ---- features ------------------------------------------------------------------------- */

static void features_done(struct espat_smp_session *s)
{
	struct espat_smp_pdu q, r;
	espat_smp_decode(s->preq, 7, &q);
	espat_smp_decode(s->pres, 7, &r);
	s->sc = espat_smp_secure(&q.feat, &r.feat);
	s->method = (uint8_t)espat_smp_method(&q.feat, &r.feat);
	s->res = (struct espat_smp_result){
	    .key_size = q.feat.key_size < r.feat.key_size ? q.feat.key_size : r.feat.key_size,
	    .secure = s->sc,
	    .authenticated = espat_smp_authenticated((enum espat_smp_method)s->method),
	    .bond = (q.feat.auth & r.feat.auth & ESPAT_SMP_AUTH_BOND) != 0};
	/* 3.6.1: with Secure Connections the LTK is not distributed */
	uint8_t mask = s->sc ? (uint8_t)~ESPAT_SMP_KEY_ENC : 0xff;
	s->dist_init =
	    r.feat.init_keys & mask & (ESPAT_SMP_KEY_ENC | ESPAT_SMP_KEY_ID | ESPAT_SMP_KEY_SIGN);
	s->dist_rsp =
	    r.feat.rsp_keys & mask & (ESPAT_SMP_KEY_ENC | ESPAT_SMP_KEY_ID | ESPAT_SMP_KEY_SIGN);
	if (s->method == ESPAT_SMP_OOB) {
		fail(s, ESPAT_SMP_E_OOB); /* no OOB data in this model */
		return;
	}
	if (s->strict && (((s->local.auth & ESPAT_SMP_AUTH_MITM) && !s->res.authenticated) ||
	                  ((s->local.auth & ESPAT_SMP_AUTH_SC) && !s->sc))) {
		fail(s, ESPAT_SMP_E_AUTH_REQ);
		return;
	}
	s->round = 0;
	s->cfm_sent = s->peer_cfm_in = s->have_passkey = s->user_ok = s->peer_check_in = false;
	if (s->sc) {
		if (!s->c->p256_keypair(s->c->user, s->priv, s->pub)) {
			fail(s, ESPAT_SMP_E_UNSPECIFIED);
			return;
		}
		s->pub_sent = s->peer_pub_in = false;
		s->state = P_PUBKEY;
		if (INIT(s)) {
			struct espat_smp_pdu p = {.code = ESPAT_SMP_PUBLIC_KEY};
			espat_smp_swap(p.x, s->pub, 32);
			espat_smp_swap(p.y, s->pub + 32, 32);
			send_pdu(s, &p);
			s->pub_sent = true;
		}
		return;
	}
	s->state = P_AUTH;
	user_step(s);
	if (s->have_passkey && INIT(s))
		send_confirm_legacy(s);
}

static void progress(struct espat_smp_session *s);

bool espat_smp_accept(struct espat_smp_session *s, bool yes)
{
	if (s->state != P_SEC_ASKED && s->state != P_REQ_ASKED)
		return false;
	if (!yes) {
		fail(s, ESPAT_SMP_E_NOT_SUPPORTED);
		return true;
	}
	if (s->state == P_SEC_ASKED) {
		send_request(s);
		return true;
	}
	/* the response: the keys both ask for, this side's features */
	struct espat_smp_pdu q;
	espat_smp_decode(s->preq, 7, &q);
	struct espat_smp_features f = s->local;
	f.init_keys = q.feat.init_keys & s->local.init_keys;
	f.rsp_keys = q.feat.rsp_keys & s->local.rsp_keys;
	features_pdu(s, ESPAT_SMP_PAIRING_RSP, &f, s->pres);
	features_done(s);
	return true;
}

bool espat_smp_passkey(struct espat_smp_session *s, uint32_t key)
{
	if (s->state != P_AUTH || s->have_passkey || !passkey_method(s->method) || displays(s) ||
	    key > 999999u)
		return false;
	set_passkey(s, key);
	progress(s);
	return true;
}

bool espat_smp_confirm(struct espat_smp_session *s, bool yes)
{
	if (s->state != P_CHECK || s->method != ESPAT_SMP_NUMERIC || s->user_ok)
		return false;
	if (!yes) {
		fail(s, ESPAT_SMP_E_NUMERIC);
		return true;
	}
	s->user_ok = true;
	if (INIT(s))
		sc_send_check(s);
	else if (s->peer_check_in)
		sc_answer_check(s);
	return true;
}

void espat_smp_abort(struct espat_smp_session *s, uint8_t reason)
{
	if (s->state != P_IDLE)
		finish(s, reason);
}

/* What a passkey just typed lets go out: the legacy TK is set by then. */
static void progress(struct espat_smp_session *s)
{
	if (s->state != P_AUTH || !s->have_passkey || s->cfm_sent)
		return;
	if (INIT(s))
		s->sc ? send_confirm_sc(s) : send_confirm_legacy(s);
	else if (s->peer_cfm_in)
		s->sc ? send_confirm_sc(s) : send_confirm_legacy(s);
}

/* ---- phase 3: keys ------------------------------------------------------------------- */

static void send_keys(struct espat_smp_session *s, uint8_t keys)
{
	if (keys & ESPAT_SMP_KEY_ENC) {
		uint8_t ltk[16];
		struct espat_smp_pdu p = {.code = ESPAT_SMP_CENTRAL_ID};
		s->c->random(s->c->user, ltk, 16);
		memset(ltk + s->res.key_size, 0, 16u - s->res.key_size);
		s->c->random(s->c->user, p.rand, 8);
		uint8_t e[2];
		s->c->random(s->c->user, e, 2);
		p.ediv = (uint16_t)(e[0] | e[1] << 8);
		struct espat_smp_pdu info = {.code = ESPAT_SMP_ENC_INFO};
		memcpy(info.v, ltk, 16);
		send_pdu(s, &info);
		send_pdu(s, &p);
		if (!INIT(s)) { /* the LTK a central will use to encrypt this link again */
			memcpy(s->res.ltk, ltk, 16);
			s->res.ediv = p.ediv;
			memcpy(s->res.rand, p.rand, 8);
		}
		event(s, ESPAT_SMP_EV_KEY, 16);
	}
	if (keys & ESPAT_SMP_KEY_ID) {
		struct espat_smp_pdu p = {.code = ESPAT_SMP_ID_INFO};
		memcpy(p.v, s->irk, 16);
		send_pdu(s, &p);
		struct espat_smp_pdu a = {.code = ESPAT_SMP_ID_ADDR_INFO, .addr_type = s->own_type};
		espat_smp_swap(a.addr, s->own, 6);
		send_pdu(s, &a);
		event(s, ESPAT_SMP_EV_KEY, 32);
	}
	if (keys & ESPAT_SMP_KEY_SIGN) {
		struct espat_smp_pdu p = {.code = ESPAT_SMP_SIGN_INFO};
		s->c->random(s->c->user, p.v, 16);
		send_pdu(s, &p);
		event(s, ESPAT_SMP_EV_KEY, 64);
	}
}

/* Secure Connections' LTK is both sides' at once: Bluedroid reports it as
 * the local and the peer's encryption key. */
static void sc_ltk_keys(struct espat_smp_session *s)
{
	if (s->sc) {
		event(s, ESPAT_SMP_EV_KEY, 16);
		event(s, ESPAT_SMP_EV_KEY, 1);
	}
}

/* The responder sends its keys first, then the initiator (3.6.1). */
static void start_dist(struct espat_smp_session *s)
{
	s->state = P_DIST;
	s->got_keys = 0;
	if (!INIT(s)) {
		sc_ltk_keys(s);
		send_keys(s, s->dist_rsp);
		if (s->dist_init == 0)
			finish(s, 0);
	} else if (s->dist_rsp == 0) {
		sc_ltk_keys(s);
		send_keys(s, s->dist_init);
		finish(s, 0);
	}
}

/* One key PDU of the peer's distribution; true when it was expected. */
static bool take_key(struct espat_smp_session *s, const struct espat_smp_pdu *p)
{
	uint8_t want = INIT(s) ? s->dist_rsp : s->dist_init;
	switch (p->code) {
	case ESPAT_SMP_ENC_INFO:
		if (!(want & ESPAT_SMP_KEY_ENC) || (s->got_keys & 0x10))
			return false;
		memcpy(s->check, p->v, 16); /* held until its Central Identification */
		s->got_keys |= 0x10;
		return true;
	case ESPAT_SMP_CENTRAL_ID:
		if (!(s->got_keys & 0x10) || (s->got_keys & ESPAT_SMP_KEY_ENC))
			return false;
		if (INIT(s)) {
			memcpy(s->res.ltk, s->check, 16);
			s->res.ediv = p->ediv;
			memcpy(s->res.rand, p->rand, 8);
		}
		s->got_keys |= ESPAT_SMP_KEY_ENC;
		event(s, ESPAT_SMP_EV_KEY, 1);
		return true;
	case ESPAT_SMP_ID_INFO:
		if (!(want & ESPAT_SMP_KEY_ID) || (s->got_keys & 0x20))
			return false;
		memcpy(s->res.peer_irk, p->v, 16);
		s->got_keys |= 0x20;
		return true;
	case ESPAT_SMP_ID_ADDR_INFO:
		if (!(s->got_keys & 0x20) || (s->got_keys & ESPAT_SMP_KEY_ID))
			return false;
		s->res.peer_id = true;
		s->res.peer_id_type = p->addr_type;
		espat_smp_swap(s->res.peer_id_addr, p->addr, 6);
		s->got_keys |= ESPAT_SMP_KEY_ID;
		event(s, ESPAT_SMP_EV_KEY, 2);
		return true;
	case ESPAT_SMP_SIGN_INFO:
		if (!(want & ESPAT_SMP_KEY_SIGN) || (s->got_keys & ESPAT_SMP_KEY_SIGN))
			return false;
		s->got_keys |= ESPAT_SMP_KEY_SIGN;
		event(s, ESPAT_SMP_EV_KEY, 4);
		return true;
	default:
		return false;
	}
}

/* ---- input ------------------------------------------------------------------------------ */

static void on_public_key(struct espat_smp_session *s, const struct espat_smp_pdu *p)
{
	espat_smp_swap(s->peer_pub, p->x, 32);
	espat_smp_swap(s->peer_pub + 32, p->y, 32);
	s->peer_pub_in = true;
	if (!s->c->p256_dh(s->c->user, s->priv, s->peer_pub, s->dhkey)) {
		fail(s, ESPAT_SMP_E_PARAMS);
		return;
	}
	if (!INIT(s)) {
		struct espat_smp_pdu k = {.code = ESPAT_SMP_PUBLIC_KEY};
		espat_smp_swap(k.x, s->pub, 32);
		espat_smp_swap(k.y, s->pub + 32, 32);
		send_pdu(s, &k);
		s->pub_sent = true;
	}
	s->state = P_AUTH;
	user_step(s);
	/* Just Works and numeric comparison: the responder commits first */
	if (!passkey_method(s->method)) {
		if (!INIT(s))
			send_confirm_sc(s);
		return;
	}
	progress(s);
}

static void on_confirm(struct espat_smp_session *s, const struct espat_smp_pdu *p)
{
	espat_smp_swap(s->peer_cfm, p->v, 16);
	s->peer_cfm_in = true;
	if (INIT(s)) {
		/* Just Works / comparison: Na goes out now; otherwise the
		 * initiator's confirm went first and its random follows */
		if (s->sc && !passkey_method(s->method)) {
			s->c->random(s->c->user, s->mine, 16);
			send_value(s, ESPAT_SMP_RANDOM, s->mine);
			return;
		}
		if (!s->cfm_sent) {
			fail(s, ESPAT_SMP_E_UNSPECIFIED);
			return;
		}
		send_value(s, ESPAT_SMP_RANDOM, s->mine);
		return;
	}
	if (s->sc && !passkey_method(s->method)) {
		fail(s, ESPAT_SMP_E_UNSPECIFIED); /* the responder commits, not the initiator */
		return;
	}
	progress(s);
}

static void on_random(struct espat_smp_session *s, const struct espat_smp_pdu *p)
{
	espat_smp_swap(s->theirs, p->v, 16);
	if (!s->peer_cfm_in && !(s->sc && !passkey_method(s->method) && !INIT(s))) {
		fail(s, ESPAT_SMP_E_UNSPECIFIED);
		return;
	}
	uint8_t want[16];
	if (!s->sc) {
		legacy_confirm(s, s->theirs, want);
		if (memcmp(want, s->peer_cfm, 16) != 0) {
			fail(s, ESPAT_SMP_E_CONFIRM);
			return;
		}
		if (!INIT(s))
			send_value(s, ESPAT_SMP_RANDOM, s->mine);
		/* STK = s1(TK, Srand, Mrand): the link is encrypted with it */
		uint8_t stk[16];
		espat_smp_s1(s->c, s->tk, nb(s), na(s), stk);
		espat_smp_swap(s->res.ltk, stk, 16);
		memset(s->res.ltk + s->res.key_size, 0, 16u - s->res.key_size);
		start_dist(s);
		return;
	}
	if (!passkey_method(s->method)) {
		if (INIT(s)) {
			sc_confirm(s, s->peer_pub, s->pub, s->theirs, want);
			if (memcmp(want, s->peer_cfm, 16) != 0) {
				fail(s, ESPAT_SMP_E_CONFIRM);
				return;
			}
		} else {
			send_value(s, ESPAT_SMP_RANDOM, s->mine);
		}
		sc_stage2(s);
		if (s->method == ESPAT_SMP_NUMERIC)
			event(s, ESPAT_SMP_EV_COMPARE, compare_value(s));
		else if (INIT(s))
			sc_send_check(s);
		return;
	}
	/* passkey entry: one bit per round, the peer's commitment checked */
	sc_confirm(s, s->peer_pub, s->pub, s->theirs, want);
	if (memcmp(want, s->peer_cfm, 16) != 0) {
		fail(s, ESPAT_SMP_E_CONFIRM);
		return;
	}
	if (!INIT(s))
		send_value(s, ESPAT_SMP_RANDOM, s->mine);
	s->peer_cfm_in = s->cfm_sent = false;
	if (++s->round < 20) {
		if (INIT(s))
			send_confirm_sc(s);
		return;
	}
	sc_stage2(s);
	if (INIT(s))
		sc_send_check(s);
}

static void on_check(struct espat_smp_session *s, const struct espat_smp_pdu *p)
{
	uint8_t e[16];
	espat_smp_swap(e, p->v, 16);
	if (!INIT(s)) {
		memcpy(s->check, e, 16);
		s->peer_check_in = true;
		if (s->method != ESPAT_SMP_NUMERIC || s->user_ok)
			sc_answer_check(s);
		return;
	}
	uint8_t want[16];
	dhkey_check(s, false, want);
	if (memcmp(want, e, 16) != 0) {
		fail(s, ESPAT_SMP_E_DHKEY);
		return;
	}
	start_dist(s);
}

void espat_smp_input(struct espat_smp_session *s, const uint8_t *pdu, size_t len)
{
	struct espat_smp_pdu p;
	enum espat_smp_rc rc = espat_smp_decode(pdu, len, &p);
	if (rc != ESPAT_SMP_OK) {
		fail(s, rc == ESPAT_SMP_UNKNOWN ? ESPAT_SMP_E_CMD : ESPAT_SMP_E_PARAMS);
		return;
	}
	if (p.code == ESPAT_SMP_FAILED) {
		espat_smp_abort(s, p.reason);
		return;
	}
	/* keypresses are not used; a Security Request while a pairing runs
	 * is ignored (3.6.7) */
	if (p.code == ESPAT_SMP_KEYPRESS ||
	    (p.code == ESPAT_SMP_SECURITY_REQ && s->state != P_IDLE))
		return;
	switch (s->state) {
	case P_IDLE:
		if (p.code == ESPAT_SMP_PAIRING_REQ && !INIT(s)) {
			memcpy(s->preq, pdu, 7);
			s->state = P_REQ_ASKED;
			if (s->sec_req_sent) {
				s->sec_req_sent = false;
				espat_smp_accept(s, true);
			} else {
				event(s, ESPAT_SMP_EV_REQUEST, 0);
			}
		} else if (p.code == ESPAT_SMP_SECURITY_REQ && INIT(s)) {
			s->state = P_SEC_ASKED;
			event(s, ESPAT_SMP_EV_REQUEST, 0);
		} else {
			fail(s, ESPAT_SMP_E_CMD);
		}
		return;
	case P_FEATURES:
		if (p.code != ESPAT_SMP_PAIRING_RSP)
			break;
		memcpy(s->pres, pdu, 7);
		features_done(s);
		return;
	case P_PUBKEY:
		if (p.code != ESPAT_SMP_PUBLIC_KEY || s->peer_pub_in)
			break;
		on_public_key(s, &p);
		return;
	case P_AUTH:
		if (p.code == ESPAT_SMP_CONFIRM && !s->peer_cfm_in) {
			on_confirm(s, &p);
			return;
		}
		if (p.code == ESPAT_SMP_RANDOM) {
			on_random(s, &p);
			return;
		}
		break;
	case P_CHECK:
		if (p.code == ESPAT_SMP_DHKEY_CHECK && (INIT(s) || !s->peer_check_in)) {
			on_check(s, &p);
			return;
		}
		break;
	case P_DIST:
		if (!take_key(s, &p))
			break;
		if ((s->got_keys & 0x0f) == (INIT(s) ? s->dist_rsp : s->dist_init)) {
			if (INIT(s)) {
				sc_ltk_keys(s);
				send_keys(s, s->dist_init);
			}
			finish(s, 0);
		}
		return;
	default: /* waiting for the host */
		break;
	}
	fail(s, ESPAT_SMP_E_UNSPECIFIED);
}
