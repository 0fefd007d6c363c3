/* The encryption start with a bond's key (src/proto/ll_enc.c), central and
 * peripheral wired back to back with OpenSSL's AES: the same LTK encrypts
 * on both sides; a peripheral without the key refuses (PIN or Key Missing,
 * both told); different keys fail the MIC check; the PDUs' layouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cmd/ble.h"
#include "posix/crypto_openssl.h"
#include "proto/ll_enc.h"

static struct espat_smp_crypto crypto;

struct side {
	struct espat_ll_enc e;
	struct side *peer;
	bool has_key;
	uint8_t ltk[16];
	uint16_t ediv;
	uint8_t rand[8];
	int done; /* -1 until done */
	uint8_t first[ESPAT_LL_PDU_MAX];
	size_t first_len;
};

static void on_send(void *user, const uint8_t *pdu, size_t len)
{
	struct side *s = user;
	if (s->first_len == 0) {
		memcpy(s->first, pdu, len);
		s->first_len = len;
	}
	espat_ll_enc_input(&s->peer->e, pdu, len); /* at once: the state is set before send */
}

static bool on_key(void *user, uint16_t ediv, const uint8_t rand[8], uint8_t ltk[16])
{
	struct side *s = user;
	if (!s->has_key || ediv != s->ediv || memcmp(rand, s->rand, 8) != 0)
		return false;
	memcpy(ltk, s->ltk, 16);
	return true;
}

static void on_done(void *user, enum espat_ll_enc_end end)
{
	struct side *s = user;
	assert_int_equal(s->done, -1);
	s->done = (int)end;
}

static void setup_pair(struct side *c, struct side *p)
{
	memset(c, 0, sizeof(*c));
	memset(p, 0, sizeof(*p));
	c->peer = p;
	p->peer = c;
	c->done = p->done = -1;
	espat_ll_enc_init(&c->e, &crypto, (struct espat_ll_enc_ops){on_send, on_key, on_done, c},
	                  true);
	espat_ll_enc_init(&p->e, &crypto, (struct espat_ll_enc_ops){on_send, on_key, on_done, p},
	                  false);
	memset(p->ltk, 0x42, 16);
	p->ediv = 0x1234;
	memset(p->rand, 7, 8);
	p->has_key = true;
}

static void test_same_key(void **state)
{
	(void)state;
	struct side c, p;
	setup_pair(&c, &p);
	uint8_t ltk[16];
	memset(ltk, 0x42, 16);
	assert_true(espat_ll_enc_start(&c.e, ltk, 0x1234, p.rand));
	assert_int_equal(c.done, ESPAT_LL_ENC_OK);
	assert_int_equal(p.done, ESPAT_LL_ENC_OK);
	assert_false(espat_ll_enc_busy(&c.e) || espat_ll_enc_busy(&p.e));
	/* LL_ENC_REQ: opcode, Rand, EDIV little-endian, SKDm, IVm */
	assert_int_equal(c.first_len, 23);
	assert_int_equal(c.first[0], ESPAT_LL_ENC_REQ);
	assert_memory_equal(c.first + 1, p.rand, 8);
	assert_int_equal(c.first[9], 0x34);
	assert_int_equal(c.first[10], 0x12);
	/* the peripheral's first: LL_ENC_RSP (SKDs, IVs) */
	assert_int_equal(p.first_len, 13);
	assert_int_equal(p.first[0], ESPAT_LL_ENC_RSP);
	assert_memory_equal(c.e.sk, p.e.sk, 16);
}

static void test_missing_and_wrong_key(void **state)
{
	(void)state;
	struct side c, p;
	setup_pair(&c, &p);
	uint8_t ltk[16];
	memset(ltk, 0x42, 16);
	p.has_key = false; /* the peripheral forgot the bond */
	assert_true(espat_ll_enc_start(&c.e, ltk, 0x1234, p.rand));
	assert_int_equal(c.done, ESPAT_LL_ENC_KEY_MISSING);
	assert_int_equal(p.done, ESPAT_LL_ENC_KEY_MISSING);
	const uint8_t rej[] = {ESPAT_LL_REJECT_EXT_IND, ESPAT_LL_ENC_REQ, 0x06};
	assert_int_equal(p.first_len, 3);
	assert_memory_equal(p.first, rej, 3);

	setup_pair(&c, &p);
	memset(ltk, 0x43, 16); /* a key the peripheral does not share */
	assert_true(espat_ll_enc_start(&c.e, ltk, 0x1234, p.rand));
	assert_int_equal(p.done, ESPAT_LL_ENC_MIC_FAILURE);
	assert_int_equal(c.done, -1); /* the link ends: the central hears no more */
	/* a PDU out of place ends a start as a protocol error; the peripheral
	 * never starts one */
	setup_pair(&c, &p);
	assert_false(espat_ll_enc_start(&p.e, ltk, 0, p.rand));
	c.e.state = 1; /* waiting for LL_ENC_RSP */
	const uint8_t start = ESPAT_LL_START_ENC_REQ;
	espat_ll_enc_input(&c.e, &start, 1);
	assert_int_equal(c.done, ESPAT_LL_ENC_PROTOCOL);
}

int main(void)
{
	struct espat_crypto_port p = espat_crypto_openssl();
	crypto = espat_ble_smp_crypto(&p);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_key),
	    cmocka_unit_test(test_missing_and_wrong_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
