/* The BluFi codec (src/proto/blufi.c): the checksum against CRC-16's
 * catalogued check value, frames byte for byte as the protocol lays them
 * out, fragments out and back, encryption both ways, every refusal (length,
 * sequence, checksum, decryption, fragment lengths) and the DH negotiation
 * worked through by hand with a small group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/blufi.h"

#define T_CUSTOM ESPAT_BLUFI_TYPE(ESPAT_BLUFI_DATA, ESPAT_BLUFI_D_CUSTOM)

static void test_crc(void **state)
{
	(void)state;
	/* CRC-16/GENIBUS (poly 0x1021, init and xorout 0xFFFF): check 0xD64E */
	assert_int_equal(espat_blufi_crc16((const uint8_t *)"123456789", 9), 0xd64e);
	assert_int_equal(espat_blufi_crc16(NULL, 0), 0x0000);
}

/* A frame as a phone sends it: custom data "hello", checksummed, sequence 0. */
static void test_frame_in(void **state)
{
	(void)state;
	struct espat_blufi_codec c;
	espat_blufi_init(&c);
	const uint8_t f[] = {0x4d, 0x02, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0x52, 0x8e};
	struct espat_blufi_msg m;
	uint8_t err = 0xff, seq = 0xff;
	bool ack = true;
	assert_int_equal(espat_blufi_recv(&c, f, sizeof(f), &m, &err, &ack, &seq), ESPAT_BLUFI_MSG);
	assert_false(ack);
	assert_int_equal(m.type, T_CUSTOM);
	assert_int_equal(m.len, 5);
	assert_memory_equal(m.data, "hello", 5);
	/* the same frame again: its sequence number is spent */
	assert_int_equal(espat_blufi_recv(&c, f, sizeof(f), &m, &err, NULL, NULL), ESPAT_BLUFI_BAD);
	assert_int_equal(err, ESPAT_BLUFI_E_SEQUENCE);
	/* sequence 1 with a broken checksum; then 2 asking for an ACK */
	uint8_t g[sizeof(f)];
	memcpy(g, f, sizeof(f));
	g[2] = 1;
	assert_int_equal(espat_blufi_recv(&c, g, sizeof(g), &m, &err, NULL, NULL), ESPAT_BLUFI_BAD);
	assert_int_equal(err, ESPAT_BLUFI_E_CHECKSUM);
	const uint8_t h[] = {0x4d, 0x08, 0x02, 0x01, 'x'};
	assert_int_equal(espat_blufi_recv(&c, h, sizeof(h), &m, &err, &ack, &seq), ESPAT_BLUFI_MSG);
	assert_true(ack);
	assert_int_equal(seq, 2);
	/* lengths that do not add up */
	const uint8_t short_[] = {0x4d, 0x00, 0x03, 0x04, 'x'};
	assert_int_equal(espat_blufi_recv(&c, short_, sizeof(short_), &m, &err, NULL, NULL),
	                 ESPAT_BLUFI_BAD);
	assert_int_equal(err, ESPAT_BLUFI_E_FORMAT);
	assert_int_equal(espat_blufi_recv(&c, short_, 3, &m, &err, NULL, NULL), ESPAT_BLUFI_BAD);
	/* encrypted before a key exists */
	const uint8_t enc[] = {0x4d, 0x01, 0x03, 0x01, 'x'};
	assert_int_equal(espat_blufi_recv(&c, enc, sizeof(enc), &m, &err, NULL, NULL),
	                 ESPAT_BLUFI_BAD);
	assert_int_equal(err, ESPAT_BLUFI_E_DECRYPT);
}

/* Out in fragments of frag_max bytes (the total still to come first), in
 * again through a second codec. */
static void send_through(struct espat_blufi_codec *tx, struct espat_blufi_codec *rx,
                         const uint8_t *data, size_t len, size_t want_frames, uint8_t want_fc)
{
	size_t off = 0, frames = 0;
	struct espat_blufi_msg m;
	uint8_t err;
	enum espat_blufi_rc rc;
	do {
		uint8_t f[ESPAT_BLUFI_FRAME_MAX];
		size_t before = off;
		size_t n = espat_blufi_frame(tx, T_CUSTOM, data, len, &off, f);
		assert_true(n > 0);
		frames++;
		bool more = off < len;
		assert_int_equal(f[1],
		                 want_fc | ESPAT_BLUFI_FC_E2P | (more ? ESPAT_BLUFI_FC_FRAG : 0));
		if (more && !(want_fc & ESPAT_BLUFI_FC_ENC)) {
			assert_int_equal(f[4] | f[5] << 8, len - before);
		}
		rc = espat_blufi_recv(rx, f, n, &m, &err, NULL, NULL);
		assert_int_equal(rc, more ? ESPAT_BLUFI_PART : ESPAT_BLUFI_MSG);
	} while (off < len);
	assert_int_equal(frames, want_frames);
	assert_int_equal(m.len, len);
	assert_memory_equal(m.data, data, len);
}

static void test_fragments_and_encryption(void **state)
{
	(void)state;
	struct espat_blufi_codec tx, rx;
	espat_blufi_init(&tx);
	espat_blufi_init(&rx);
	uint8_t data[600];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13);
	/* the minimum ATT_MTU: 12 content bytes a fragment */
	send_through(&tx, &rx, data, 30, 3, 0);
	/* ATT_MTU 128: 117 a fragment, 600 bytes in 6 frames; clear, checksummed */
	espat_blufi_set_mtu(&tx, 128);
	tx.sec_mode = ESPAT_BLUFI_SEC_DATA_CHECK;
	send_through(&tx, &rx, data, sizeof(data), 6, ESPAT_BLUFI_FC_CHECK);
	/* a key on both ends: encrypted and checksummed */
	memset(tx.key, 0x42, 16);
	memcpy(rx.key, tx.key, 16);
	tx.keyed = rx.keyed = true;
	tx.sec_mode = ESPAT_BLUFI_SEC_DATA_CHECK | ESPAT_BLUFI_SEC_DATA_ENC;
	send_through(&tx, &rx, data, sizeof(data), 6, ESPAT_BLUFI_FC_CHECK | ESPAT_BLUFI_FC_ENC);
	send_through(&tx, &rx, data, 1, 1, ESPAT_BLUFI_FC_CHECK | ESPAT_BLUFI_FC_ENC);
	/* the largest MTU: 253 a fragment (the one-byte length) */
	espat_blufi_set_mtu(&tx, 517);
	send_through(&tx, &rx, data, sizeof(data), 3, ESPAT_BLUFI_FC_CHECK | ESPAT_BLUFI_FC_ENC);
	/* control frames are never encrypted, NEG data never either */
	uint8_t f[ESPAT_BLUFI_FRAME_MAX];
	size_t off = 0;
	const uint8_t seq = 7;
	size_t n = espat_blufi_frame(&tx, ESPAT_BLUFI_TYPE(ESPAT_BLUFI_CTRL, ESPAT_BLUFI_C_ACK),
	                             &seq, 1, &off, f);
	assert_int_equal(n, 5);
	assert_int_equal(f[1], ESPAT_BLUFI_FC_E2P);
	assert_int_equal(f[4], 7);
	off = 0;
	n = espat_blufi_frame(&tx, ESPAT_BLUFI_TYPE(ESPAT_BLUFI_DATA, ESPAT_BLUFI_D_NEG), data, 4,
	                      &off, f);
	assert_int_equal(n, 8);
	assert_memory_equal(f + 4, data, 4);
}

static void test_fragment_refusals(void **state)
{
	(void)state;
	struct espat_blufi_codec c;
	espat_blufi_init(&c);
	struct espat_blufi_msg m;
	uint8_t err;
	/* a total beyond what the codec gathers */
	const uint8_t big[] = {0x4d, 0x10, 0x00, 0x03, 0x01, 0x08, 'a'};
	assert_int_equal(espat_blufi_recv(&c, big, sizeof(big), &m, &err, NULL, NULL),
	                 ESPAT_BLUFI_BAD);
	assert_int_equal(err, ESPAT_BLUFI_E_FORMAT);
	/* 4 announced, 2 + 1 sent: the last piece does not match */
	const uint8_t a[] = {0x4d, 0x10, 0x01, 0x04, 0x04, 0x00, 'a', 'b'};
	const uint8_t b[] = {0x4d, 0x00, 0x02, 0x01, 'c'};
	assert_int_equal(espat_blufi_recv(&c, a, sizeof(a), &m, &err, NULL, NULL),
	                 ESPAT_BLUFI_PART);
	assert_int_equal(espat_blufi_recv(&c, b, sizeof(b), &m, &err, NULL, NULL), ESPAT_BLUFI_BAD);
	assert_int_equal(err, ESPAT_BLUFI_E_FORMAT);
	/* a fragment that would fill the whole total is not a fragment */
	const uint8_t full[] = {0x4d, 0x10, 0x03, 0x04, 0x02, 0x00, 'a', 'b'};
	assert_int_equal(espat_blufi_recv(&c, full, sizeof(full), &m, &err, NULL, NULL),
	                 ESPAT_BLUFI_BAD);
	/* the next message is whole again */
	const uint8_t ok[] = {0x4d, 0x00, 0x04, 0x02, 'o', 'k'};
	assert_int_equal(espat_blufi_recv(&c, ok, sizeof(ok), &m, &err, NULL, NULL),
	                 ESPAT_BLUFI_MSG);
	assert_memory_equal(m.data, "ok", 2);
}

/* P = 23, G = 5; the phone's secret 6 makes A = 8. The module's private
 * bytes 0x0f become 15 mod (P - 3) + 2 = 17: B = 5^17 mod 23 = 15, the
 * shared secret 8^17 mod 23 = 13 (= 15^6 mod 23), the key MD5(0x0d). */
static void test_negotiation(void **state)
{
	(void)state;
	struct espat_blufi_codec c;
	espat_blufi_init(&c);
	const uint8_t params[] = {0x00, 0x01, 23, 0x00, 0x01, 5, 0x00, 0x01, 8};
	uint8_t len_msg[] = {0x00, 0x00, sizeof(params)};
	uint8_t msg[1 + sizeof(params)] = {0x01};
	memcpy(msg + 1, params, sizeof(params));
	const uint8_t priv[] = {0x0f};
	uint8_t pub[ESPAT_BLUFI_DH_MAX], err = 0;
	size_t pl = 0;
	/* parameters before their length: refused */
	assert_int_equal(espat_blufi_negotiate(&c, msg, sizeof(msg), priv, 1, pub, &pl, &err), -1);
	assert_int_equal(err, ESPAT_BLUFI_E_DH_PARAM);
	assert_int_equal(espat_blufi_negotiate(&c, len_msg, 3, priv, 1, pub, &pl, &err), 0);
	assert_int_equal(espat_blufi_negotiate(&c, msg, sizeof(msg), priv, 1, pub, &pl, &err), 1);
	assert_int_equal(pl, 1);
	assert_int_equal(pub[0], 15);
	assert_true(c.keyed);
	const uint8_t md5_0d[16] = {0xdc, 0xb9, 0xbe, 0x2f, 0x60, 0x4e, 0x5d, 0xf9,
	                            0x1d, 0xeb, 0x96, 0x59, 0xbe, 0xd4, 0x74, 0x8d};
	assert_memory_equal(c.key, md5_0d, 16);
	/* a phone key outside [2, P-2], an even P, a truncated field */
	const uint8_t bad_y[] = {0x01, 0x00, 0x01, 23, 0x00, 0x01, 5, 0x00, 0x01, 22};
	const uint8_t even_p[] = {0x01, 0x00, 0x01, 24, 0x00, 0x01, 5, 0x00, 0x01, 8};
	const uint8_t cut[] = {0x01, 0x00, 0x01, 23, 0x00, 0x05, 5};
	const uint8_t *bad[] = {bad_y, even_p, cut};
	const size_t bad_len[] = {sizeof(bad_y), sizeof(even_p), sizeof(cut)};
	for (size_t i = 0; i < 3; i++) {
		len_msg[2] = (uint8_t)(bad_len[i] - 1);
		assert_int_equal(espat_blufi_negotiate(&c, len_msg, 3, priv, 1, pub, &pl, &err), 0);
		assert_int_equal(
		    espat_blufi_negotiate(&c, bad[i], bad_len[i], priv, 1, pub, &pl, &err), -1);
		assert_int_equal(err, ESPAT_BLUFI_E_READ_PARAM);
	}
	const uint8_t what[] = {0x07};
	assert_int_equal(espat_blufi_negotiate(&c, what, 1, priv, 1, pub, &pl, &err), -1);
}

/* AES-128-CFB128 with IV (seq, 0...): FIPS-197's key and a NIST SP 800-38A
 * style check that encryption and decryption invert each other and that the
 * sequence number changes the stream. */
static void test_cfb(void **state)
{
	(void)state;
	const uint8_t key[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
	                         0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
	uint8_t a[40], b[40], plain[40];
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)i;
	memcpy(a, plain, sizeof(a));
	memcpy(b, plain, sizeof(b));
	assert_true(espat_blufi_cfb(key, 1, ESPAT_BLUFI_ENCRYPT, a, sizeof(a)));
	assert_true(espat_blufi_cfb(key, 2, ESPAT_BLUFI_ENCRYPT, b, sizeof(b)));
	assert_memory_not_equal(a, plain, sizeof(a));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_true(espat_blufi_cfb(key, 1, ESPAT_BLUFI_DECRYPT, a, sizeof(a)));
	assert_memory_equal(a, plain, sizeof(a));
	/* CFB: the first block is plain XOR AES(IV) whatever the length after */
	uint8_t one[1] = {0}, many[40] = {0};
	assert_true(espat_blufi_cfb(key, 9, ESPAT_BLUFI_ENCRYPT, one, 1));
	assert_true(espat_blufi_cfb(key, 9, ESPAT_BLUFI_ENCRYPT, many, sizeof(many)));
	assert_int_equal(one[0], many[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc),
	    cmocka_unit_test(test_frame_in),
	    cmocka_unit_test(test_fragments_and_encryption),
	    cmocka_unit_test(test_fragment_refusals),
	    cmocka_unit_test(test_negotiation),
	    cmocka_unit_test(test_cfb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
