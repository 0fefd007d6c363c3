/* A pairing between two Security Manager sessions (src/proto/smp_pair.c)
 * wired back to back, with OpenSSL's crypto (posix/crypto_openssl.c):
 * the guide's 4.3.4 (Secure Connections, passkey shown by the central and
 * typed on the peripheral) with its +BLESECKEYTYPE order on both sides;
 * every cell of the IO-capability matrix, legacy and Secure Connections,
 * ending with the same LTK on both sides; a wrong passkey, a refused
 * comparison, a refused request and an invalid public key failing with
 * the reasons the specification names; the peripheral's Security
 * Request; SMP's timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cmd/ble.h"
#include "posix/crypto_openssl.h"
#include "proto/smp_pair.h"

#define QMAX 64u

struct side {
	struct espat_smp_session s;
	struct side *peer;
	uint8_t q[QMAX][ESPAT_SMP_MTU]; /* PDUs on their way to the peer */
	size_t qlen[QMAX], qn;
	uint32_t keys[8]; /* EV_KEY values, in order */
	size_t nkeys;
	int done; /* -1 until DONE */
	bool request, input, compare;
	int64_t shown;    /* DISPLAY's passkey, or -1 */
	int64_t compared; /* COMPARE's number, or -1 */
	bool tamper_pubkey;
};

static struct espat_smp_crypto crypto;

static void on_send(void *user, const uint8_t *pdu, size_t len)
{
	struct side *d = user;
	assert_true(d->qn < QMAX);
	memcpy(d->q[d->qn], pdu, len);
	d->qlen[d->qn++] = len;
}

static void on_event(void *user, enum espat_smp_ev ev, uint32_t v)
{
	struct side *d = user;
	switch (ev) {
	case ESPAT_SMP_EV_REQUEST:
		d->request = true;
		break;
	case ESPAT_SMP_EV_DISPLAY:
		assert_true(v <= 999999);
		d->shown = v;
		break;
	case ESPAT_SMP_EV_INPUT:
		d->input = true;
		break;
	case ESPAT_SMP_EV_COMPARE:
		d->compared = v;
		d->compare = true;
		break;
	case ESPAT_SMP_EV_KEY:
		assert_true(d->nkeys < 8);
		d->keys[d->nkeys++] = v;
		break;
	case ESPAT_SMP_EV_DONE:
		assert_int_equal(d->done, -1);
		d->done = (int)v;
		break;
	}
}

static const uint8_t ADDR_C[6] = {0x24, 0x0a, 0xc4, 0x03, 0xa7, 0x4e};
static const uint8_t ADDR_S[6] = {0x24, 0x0a, 0xc4, 0xd6, 0xe4, 0x46};

static void setup_pair(struct side *c, struct side *s, struct espat_smp_features fc,
                       struct espat_smp_features fs)
{
	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	c->peer = s;
	s->peer = c;
	c->done = s->done = -1;
	c->shown = s->shown = c->compared = s->compared = -1;
	espat_smp_init(&c->s, &crypto, (struct espat_smp_ops){on_send, on_event, c},
	               ESPAT_SMP_INITIATOR, &fc, 0, ADDR_C, 0, ADDR_S);
	espat_smp_init(&s->s, &crypto, (struct espat_smp_ops){on_send, on_event, s},
	               ESPAT_SMP_RESPONDER, &fs, 0, ADDR_S, 0, ADDR_C);
}

/* Delivers queued PDUs, one at a time each way, until both are quiet. */
static void pump(struct side *a, struct side *b)
{
	for (int guard = 0; guard < 1000 && (a->qn || b->qn); guard++) {
		struct side *from = a->qn ? a : b;
		uint8_t pdu[ESPAT_SMP_MTU];
		size_t len = from->qlen[0];
		memcpy(pdu, from->q[0], len);
		memmove(from->q, from->q + 1, (from->qn - 1) * sizeof(from->q[0]));
		memmove(from->qlen, from->qlen + 1, (from->qn - 1) * sizeof(from->qlen[0]));
		from->qn--;
		if (from->tamper_pubkey && pdu[0] == ESPAT_SMP_PUBLIC_KEY)
			pdu[1] ^= 0x01; /* the point leaves the curve */
		espat_smp_input(&from->peer->s, pdu, len);
	}
	assert_int_equal(a->qn + b->qn, 0);
}

/* Runs a pairing to its end, answering the hosts as a user would: accept,
 * type the key the other side shows (both_key when both type), confirm
 * equal numbers (refuse when refuse_compare). */
static void run(struct side *c, struct side *s, uint32_t both_key, bool refuse_compare,
                int64_t wrong_key)
{
	for (int step = 0; step < 100; step++) {
		pump(c, s);
		bool acted = false;
		struct side *both[2] = {c, s};
		for (int i = 0; i < 2; i++) {
			struct side *d = both[i];
			if (d->request) {
				d->request = false;
				assert_true(espat_smp_accept(&d->s, true));
				acted = true;
			} else if (d->input) {
				int64_t k =
				    d->peer->shown >= 0 ? d->peer->shown : (int64_t)both_key;
				if (wrong_key >= 0 && d == s)
					k = wrong_key;
				d->input = false;
				assert_true(espat_smp_passkey(&d->s, (uint32_t)k));
				acted = true;
			} else if (d->compare && d->peer->compared >= 0) {
				assert_int_equal(d->compared, d->peer->compared);
				d->compare = false;
				assert_true(espat_smp_confirm(&d->s, !refuse_compare));
				acted = true;
			}
		}
		if (!acted && !c->qn && !s->qn)
			return;
	}
	fail_msg("the pairing did not settle");
}

static struct espat_smp_features feat(uint8_t io, uint8_t auth)
{
	return (struct espat_smp_features){
	    .io = io, .auth = auth, .key_size = 16, .init_keys = 3, .rsp_keys = 3};
}

/* The guide's 4.3.4: AT+BLESECPARAM=13,2,16,3,3 on the server,
 * 13,4,16,3,3 on the client; the client runs AT+BLEENC. */
static void test_guide_434(void **state)
{
	(void)state;
	struct side c, s;
	setup_pair(&c, &s, feat(4, 13), feat(2, 13));
	assert_true(espat_smp_start(&c.s));
	pump(&c, &s);
	assert_true(s.request); /* +BLESECREQ:0 on the server */
	assert_true(espat_smp_accept(&s.s, true));
	s.request = false;
	pump(&c, &s);
	assert_true(c.shown >= 0); /* +BLESECNTFYKEY:0,<key> on the client */
	assert_true(s.input);      /* +BLESECKEYREQ:0 on the server */
	s.input = false;
	assert_true(espat_smp_passkey(&s.s, (uint32_t)c.shown));
	pump(&c, &s);
	assert_int_equal(c.done, 0);
	assert_int_equal(s.done, 0);
	/* the guide's +BLESECKEYTYPE lines: server 16,1,32,2; client 2,16,1,32 */
	const uint32_t skeys[] = {16, 1, 32, 2}, ckeys[] = {2, 16, 1, 32};
	assert_int_equal(s.nkeys, 4);
	assert_int_equal(c.nkeys, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(s.keys[i], skeys[i]);
		assert_int_equal(c.keys[i], ckeys[i]);
	}
	assert_memory_equal(c.s.res.ltk, s.s.res.ltk, 16);
	assert_true(c.s.res.secure && c.s.res.authenticated && c.s.res.bond);
	assert_true(c.s.res.peer_id && s.s.res.peer_id);
	assert_memory_equal(c.s.res.peer_id_addr, ADDR_S, 6);
	assert_memory_equal(s.s.res.peer_id_addr, ADDR_C, 6);
	assert_false(espat_smp_busy(&c.s) || espat_smp_busy(&s.s));
}

static void test_matrix(void **state)
{
	(void)state;
	for (int sc = 0; sc < 2; sc++)
		for (uint8_t i = 0; i < 5; i++)
			for (uint8_t r = 0; r < 5; r++) {
				uint8_t auth = (uint8_t)(ESPAT_SMP_AUTH_BOND | ESPAT_SMP_AUTH_MITM |
				                         (sc ? ESPAT_SMP_AUTH_SC : 0));
				struct side c, s;
				setup_pair(&c, &s, feat(i, auth), feat(r, auth));
				assert_true(espat_smp_start(&c.s));
				run(&c, &s, 123456, false, -1);
				if (c.done != 0 || s.done != 0)
					fail_msg("sc %d io %u x %u: done %d / %d", sc, i, r, c.done,
					         s.done);
				assert_int_equal(c.done, 0);
				assert_int_equal(s.done, 0);
				assert_memory_equal(c.s.res.ltk, s.s.res.ltk, 16);
				enum espat_smp_method m = espat_smp_method(&c.s.local, &s.s.local);
				assert_int_equal(c.s.res.authenticated, m != ESPAT_SMP_JUST_WORKS);
				assert_int_equal(c.s.res.secure, sc);
			}
}

static void test_wrong_passkey(void **state)
{
	(void)state;
	for (int sc = 0; sc < 2; sc++) {
		uint8_t auth = (uint8_t)(5 | (sc ? 8 : 0));
		struct side c, s;
		setup_pair(&c, &s, feat(4, auth), feat(2, auth));
		assert_true(espat_smp_start(&c.s));
		run(&c, &s, 0, false, 111111);
		if (c.shown == 111111)
			continue; /* one in a million: the wrong key was right */
		assert_int_equal(c.done, ESPAT_SMP_E_CONFIRM);
		assert_int_equal(s.done, ESPAT_SMP_E_CONFIRM);
	}
}

static void test_numeric_comparison(void **state)
{
	(void)state;
	struct side c, s;
	setup_pair(&c, &s, feat(1, 13), feat(1, 13));
	assert_true(espat_smp_start(&c.s));
	run(&c, &s, 0, false, -1);
	assert_int_equal(c.done, 0);
	assert_int_equal(s.done, 0);
	assert_true(c.compared >= 0 && c.compared == s.compared);

	setup_pair(&c, &s, feat(1, 13), feat(4, 13));
	assert_true(espat_smp_start(&c.s));
	run(&c, &s, 0, true, -1);
	assert_int_equal(c.done, ESPAT_SMP_E_NUMERIC);
	assert_int_equal(s.done, ESPAT_SMP_E_NUMERIC);
}

static void test_legacy_keys(void **state)
{
	(void)state;
	struct side c, s;
	/* Just Works, bonding, encryption keys both ways: the central keeps the
	 * peripheral's LTK with its EDIV and Rand */
	setup_pair(&c, &s, feat(3, 1), feat(3, 1));
	assert_true(espat_smp_start(&c.s));
	run(&c, &s, 0, false, -1);
	assert_int_equal(c.done, 0);
	assert_int_equal(s.done, 0);
	assert_false(c.s.res.secure || c.s.res.authenticated);
	assert_memory_equal(c.s.res.ltk, s.s.res.ltk, 16);
	assert_int_equal(c.s.res.ediv, s.s.res.ediv);
	assert_memory_equal(c.s.res.rand, s.s.res.rand, 8);
	/* a 7-byte key is cut to 7 bytes */
	struct espat_smp_features f7 = feat(3, 1);
	f7.key_size = 7;
	setup_pair(&c, &s, feat(3, 1), f7);
	assert_true(espat_smp_start(&c.s));
	run(&c, &s, 0, false, -1);
	assert_int_equal(c.s.res.key_size, 7);
	static const uint8_t zero[9];
	assert_memory_equal(c.s.res.ltk + 7, zero, 9);
}

static void test_refused_and_security_request(void **state)
{
	(void)state;
	struct side c, s;
	setup_pair(&c, &s, feat(3, 1), feat(3, 1));
	assert_true(espat_smp_start(&c.s));
	pump(&c, &s);
	assert_true(espat_smp_accept(&s.s, false));
	pump(&c, &s);
	assert_int_equal(c.done, ESPAT_SMP_E_NOT_SUPPORTED);
	assert_int_equal(s.done, ESPAT_SMP_E_NOT_SUPPORTED);

	/* the peripheral asks (AT+BLEENC on a server): the central's host
	 * accepts and the central pairs */
	setup_pair(&c, &s, feat(3, 1), feat(3, 1));
	assert_true(espat_smp_start(&s.s));
	pump(&c, &s);
	assert_true(c.request);
	run(&c, &s, 0, false, -1);
	assert_int_equal(c.done, 0);
	assert_int_equal(s.done, 0);
	assert_false(espat_smp_accept(&c.s, true)); /* nothing to answer now */
}

static void test_invalid_public_key_and_timeout(void **state)
{
	(void)state;
	struct side c, s;
	setup_pair(&c, &s, feat(3, 9), feat(3, 9));
	c.tamper_pubkey = true;
	assert_true(espat_smp_start(&c.s));
	run(&c, &s, 0, false, -1);
	assert_int_equal(s.done, ESPAT_SMP_E_PARAMS);
	assert_int_equal(c.done, ESPAT_SMP_E_PARAMS);

	setup_pair(&c, &s, feat(4, 13), feat(2, 13));
	assert_true(espat_smp_start(&c.s));
	pump(&c, &s);
	espat_smp_abort(&c.s, ESPAT_SMP_E_UNSPECIFIED); /* 30 s without an answer */
	assert_int_equal(c.done, ESPAT_SMP_E_UNSPECIFIED);
	assert_int_equal(s.done, -1);
	assert_false(espat_smp_busy(&c.s));
	/* a stray PDU on an idle link is answered Pairing Failed, not reported */
	const uint8_t random[17] = {ESPAT_SMP_RANDOM};
	c.done = -1;
	espat_smp_input(&c.s, random, sizeof(random));
	assert_int_equal(c.done, -1);
	assert_int_equal(c.qn, 1);
	assert_int_equal(c.q[0][0], ESPAT_SMP_FAILED);
}

int main(void)
{
	struct espat_crypto_port p = espat_crypto_openssl();
	crypto = espat_ble_smp_crypto(&p);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_guide_434),
	    cmocka_unit_test(test_matrix),
	    cmocka_unit_test(test_wrong_passkey),
	    cmocka_unit_test(test_numeric_comparison),
	    cmocka_unit_test(test_legacy_keys),
	    cmocka_unit_test(test_refused_and_security_request),
	    cmocka_unit_test(test_invalid_public_key_and_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
