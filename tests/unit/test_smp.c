/* The Security Manager Protocol (src/proto/smp.c): PDU layouts of Vol 3
 * Part H 3.5-3.6, the pairing method of Table 2.8 cell by cell, and the
 * toolbox against published samples: AES-CMAC against RFC 4493's four
 * examples, c1 and s1 against the Core specification's worked examples
 * (2.2.3, 2.2.4), f4/f5/f6/g2 against its Appendix D samples. AES-128
 * itself is OpenSSL's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <string.h>

#include "proto/smp.h"

static void aes(void *user, const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
	(void)user;
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n = 0;
	assert_non_null(x);
	assert_int_equal(EVP_EncryptInit_ex(x, EVP_aes_128_ecb(), NULL, key, NULL), 1);
	EVP_CIPHER_CTX_set_padding(x, 0);
	uint8_t tmp[32];
	assert_int_equal(EVP_EncryptUpdate(x, tmp, &n, in, 16), 1);
	assert_int_equal(n, 16);
	memcpy(out, tmp, 16);
	EVP_CIPHER_CTX_free(x);
}

static const struct espat_smp_crypto C = {.aes = aes};

/* hex (spaces allowed) into out; returns the byte count */
static size_t hex(const char *s, uint8_t *out)
{
	size_t n = 0;
	int hi = -1;
	for (; *s; s++) {
		int v;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

static void expect_hex(const uint8_t *got, const char *want)
{
	uint8_t w[64];
	size_t n = hex(want, w);
	assert_memory_equal(got, w, n);
}

static void test_cmac_rfc4493(void **state)
{
	(void)state;
	uint8_t k[16], m[64], mac[16];
	hex("2b7e1516 28aed2a6 abf71588 09cf4f3c", k);
	hex("6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51"
	    "30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710",
	    m);
	espat_smp_cmac(&C, k, m, 0, mac);
	expect_hex(mac, "bb1d6929 e9593728 7fa37d12 9b756746");
	espat_smp_cmac(&C, k, m, 16, mac);
	expect_hex(mac, "070a16b4 6b4d4144 f79bdd9d d04a287c");
	espat_smp_cmac(&C, k, m, 40, mac);
	expect_hex(mac, "dfa66747 de9ae630 30ca3261 1497c827");
	espat_smp_cmac(&C, k, m, 64, mac);
	expect_hex(mac, "51f0bebf 7e3b9d92 fc497417 79363cfe");
}

/* 2.2.3's example: k = 0, the request/response below, iat 1, rat 0. */
static void test_c1_s1(void **state)
{
	(void)state;
	uint8_t k[16] = {0}, r[16], preq[7], pres[7], ia[6], ra[6], out[16], be[7];
	hex("5783D521 56AD6F0E 6388274E C6702EE0", r);
	hex("07071000000101", be); /* as the spec prints it: most significant first */
	espat_smp_swap(preq, be, 7);
	hex("05000800000302", be);
	espat_smp_swap(pres, be, 7);
	assert_int_equal(preq[0], ESPAT_SMP_PAIRING_REQ);
	assert_int_equal(pres[0], ESPAT_SMP_PAIRING_RSP);
	hex("A1A2A3A4A5A6", ia);
	hex("B1B2B3B4B5B6", ra);
	espat_smp_c1(&C, k, r, preq, pres, 1, ia, 0, ra, out);
	expect_hex(out, "1e1e3fef 878988ea d2a74dc5 bef13b86");

	uint8_t r1[16], r2[16];
	hex("000F0E0D 0C0B0A09 11223344 55667788", r1);
	hex("01020304 05060708 99AABBCC DDEEFF00", r2);
	espat_smp_s1(&C, k, r1, r2, out);
	expect_hex(out, "9a1fe1f0 e8b0f49b 5b4216ae 796da062");
}

#define U_D "20b003d2 f297be2c 5e2c83a7 e9f9a5b9 eff49111 acf4fddb cc030148 0e359de6"
#define V_D "55188b3d 32f6bb9a 900afcfb eed4e72a 59cb9ac2 f19d7cfb 6b4fdd49 f47fc5fd"
#define N1_D "d5cb8454 d177733e ffffb2ec 712baeab"
#define N2_D "a6e8e7cc 25a75f6e 216583f7 ff3dc4cf"

static void test_sc_functions(void **state)
{
	(void)state;
	uint8_t u[32], v[32], x[16], y[16], w[32], a1[7], a2[7], mackey[16], ltk[16], r[16], io[3],
	    out[16];
	hex(U_D, u);
	hex(V_D, v);
	hex(N1_D, x);
	espat_smp_f4(&C, u, v, x, 0, out);
	expect_hex(out, "f2c916f1 07a9bd1c f1eda1be a974872d");

	hex("ec0234a3 57c8ad05 341010a6 0a397d9b 99796b13 b4f866f1 868d34f3 73bfa698", w);
	hex(N2_D, y);
	hex("00561237 37bfce", a1);
	hex("00a71370 2dcfc1", a2);
	espat_smp_f5(&C, w, x, y, a1, a2, mackey, ltk);
	expect_hex(mackey, "2965f176 a1084a02 fd3f6a20 ce636e20");
	expect_hex(ltk, "69867911 69d7cd23 980522b5 94750a38");

	hex("12a3343b b453bb54 08da42d2 0c2d0fc8", r);
	hex("010102", io);
	espat_smp_f6(&C, mackey, x, y, r, io, a1, a2, out);
	expect_hex(out, "e3c47398 9cd0e8c5 d26c0b09 da958f61");

	assert_int_equal(espat_smp_g2(&C, u, v, x, y), 0x2f9ed5ba);
}

static void test_method_matrix(void **state)
{
	(void)state;
	enum {
		JW = ESPAT_SMP_JUST_WORKS,
		II = ESPAT_SMP_PASSKEY_INIT_INPUTS,
		RI = ESPAT_SMP_PASSKEY_RSP_INPUTS,
		BI = ESPAT_SMP_PASSKEY_BOTH_INPUT,
		NC = ESPAT_SMP_NUMERIC
	};
	/* Table 2.8 as printed, [initiator][responder]: legacy, then SC */
	static const int legacy[5][5] = {{JW, JW, RI, JW, RI},
	                                 {JW, JW, RI, JW, RI},
	                                 {II, II, BI, JW, II},
	                                 {JW, JW, JW, JW, JW},
	                                 {II, II, RI, JW, RI}};
	static const int sc[5][5] = {{JW, JW, RI, JW, RI},
	                             {JW, NC, RI, JW, NC},
	                             {II, II, BI, JW, II},
	                             {JW, JW, JW, JW, JW},
	                             {II, NC, RI, JW, NC}};
	for (int i = 0; i < 5; i++)
		for (int r = 0; r < 5; r++) {
			struct espat_smp_features a = {.io = (uint8_t)i,
			                               .auth = ESPAT_SMP_AUTH_MITM},
			                          b = {.io = (uint8_t)r, .auth = 0};
			assert_int_equal(espat_smp_method(&a, &b), legacy[i][r]);
			a.auth |= ESPAT_SMP_AUTH_SC;
			b.auth |= ESPAT_SMP_AUTH_SC;
			assert_int_equal(espat_smp_method(&a, &b), sc[i][r]);
			/* neither asks for MITM: Just Works whatever the IO */
			a.auth = b.auth = ESPAT_SMP_AUTH_BOND | ESPAT_SMP_AUTH_SC;
			assert_int_equal(espat_smp_method(&a, &b), JW);
		}
	/* OOB: both for legacy pairing, either for Secure Connections */
	struct espat_smp_features a = {.io = 4, .oob = 1, .auth = ESPAT_SMP_AUTH_MITM},
	                          b = {.io = 4, .oob = 0, .auth = ESPAT_SMP_AUTH_MITM};
	assert_int_equal(espat_smp_method(&a, &b), RI);
	b.oob = 1;
	assert_int_equal(espat_smp_method(&a, &b), ESPAT_SMP_OOB);
	b.oob = 0;
	a.auth |= ESPAT_SMP_AUTH_SC;
	b.auth |= ESPAT_SMP_AUTH_SC;
	assert_int_equal(espat_smp_method(&a, &b), ESPAT_SMP_OOB);
	/* the guide's 4.3.4: the initiator KeyboardDisplay, the responder
	 * KeyboardOnly: the initiator shows the key, the responder types it */
	struct espat_smp_features c = {.io = 4, .auth = 13}, s = {.io = 2, .auth = 13};
	assert_int_equal(espat_smp_method(&c, &s), RI);
	assert_true(espat_smp_authenticated(ESPAT_SMP_PASSKEY_RSP_INPUTS));
	assert_false(espat_smp_authenticated(ESPAT_SMP_JUST_WORKS));
}

static void test_pdus(void **state)
{
	(void)state;
	struct espat_smp_pdu p;
	uint8_t out[ESPAT_SMP_MTU];
	/* Pairing Request: KeyboardDisplay, no OOB, SC+MITM+bond, 16, keys 3/3 */
	const uint8_t req[] = {0x01, 0x04, 0x00, 0x0d, 0x10, 0x03, 0x03};
	assert_int_equal(espat_smp_decode(req, sizeof(req), &p), ESPAT_SMP_OK);
	assert_int_equal(p.feat.io, 4);
	assert_int_equal(p.feat.auth, 13);
	assert_int_equal(p.feat.key_size, 16);
	assert_int_equal(espat_smp_encode(&p, out, sizeof(out)), sizeof(req));
	assert_memory_equal(out, req, sizeof(req));
	/* wrong lengths, bad fields, unknown codes */
	assert_int_equal(espat_smp_decode(req, 6, &p), ESPAT_SMP_MALFORMED);
	const uint8_t bad_io[] = {0x01, 0x05, 0x00, 0x0d, 0x10, 0x03, 0x03};
	assert_int_equal(espat_smp_decode(bad_io, sizeof(bad_io), &p), ESPAT_SMP_MALFORMED);
	const uint8_t small_key[] = {0x02, 0x03, 0x00, 0x01, 0x06, 0x00, 0x00};
	assert_int_equal(espat_smp_decode(small_key, sizeof(small_key), &p), ESPAT_SMP_MALFORMED);
	const uint8_t unknown[] = {0x0f, 0x00};
	assert_int_equal(espat_smp_decode(unknown, sizeof(unknown), &p), ESPAT_SMP_UNKNOWN);
	assert_int_equal(espat_smp_decode(req, 0, &p), ESPAT_SMP_MALFORMED);
	/* Central Identification: EDIV little-endian, then Rand */
	const uint8_t cid[] = {0x07, 0x34, 0x12, 1, 2, 3, 4, 5, 6, 7, 8};
	assert_int_equal(espat_smp_decode(cid, sizeof(cid), &p), ESPAT_SMP_OK);
	assert_int_equal(p.ediv, 0x1234);
	assert_int_equal(espat_smp_encode(&p, out, sizeof(out)), sizeof(cid));
	assert_memory_equal(out, cid, sizeof(cid));
	/* Pairing Failed: Confirm Value Failed */
	const uint8_t failed[] = {0x05, 0x04};
	assert_int_equal(espat_smp_decode(failed, sizeof(failed), &p), ESPAT_SMP_OK);
	assert_int_equal(p.reason, ESPAT_SMP_E_CONFIRM);
	/* too little room */
	assert_int_equal(espat_smp_encode(&p, out, 1), 0);
	p.code = 0x20;
	assert_int_equal(espat_smp_encode(&p, out, sizeof(out)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cmac_rfc4493), cmocka_unit_test(test_c1_s1),
	    cmocka_unit_test(test_sc_functions), cmocka_unit_test(test_method_matrix),
	    cmocka_unit_test(test_pdus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
