/* The Security Manager Protocol's PDUs, pairing method and toolbox: see
 * smp.h. */
#include "proto/smp.h"

#include <string.h>

/* ---- PDUs ------------------------------------------------------------------ */

/* The length of a PDU with this code, code byte included; 0: unknown. */
static size_t pdu_len(uint8_t code)
{
	switch (code) {
	case ESPAT_SMP_PAIRING_REQ:
	case ESPAT_SMP_PAIRING_RSP:
		return 7;
	case ESPAT_SMP_CONFIRM:
	case ESPAT_SMP_RANDOM:
	case ESPAT_SMP_ENC_INFO:
	case ESPAT_SMP_ID_INFO:
	case ESPAT_SMP_SIGN_INFO:
	case ESPAT_SMP_DHKEY_CHECK:
		return 17;
	case ESPAT_SMP_FAILED:
	case ESPAT_SMP_SECURITY_REQ:
	case ESPAT_SMP_KEYPRESS:
		return 2;
	case ESPAT_SMP_CENTRAL_ID:
		return 11;
	case ESPAT_SMP_ID_ADDR_INFO:
		return 8;
	case ESPAT_SMP_PUBLIC_KEY:
		return 65;
	default:
		return 0;
	}
}

enum espat_smp_rc espat_smp_decode(const uint8_t *in, size_t len, struct espat_smp_pdu *out)
{
	if (len == 0)
		return ESPAT_SMP_MALFORMED;
	memset(out, 0, sizeof(*out));
	out->code = in[0];
	size_t want = pdu_len(in[0]);
	if (want == 0)
		return ESPAT_SMP_UNKNOWN;
	if (len != want)
		return ESPAT_SMP_MALFORMED;
	const uint8_t *p = in + 1;
	switch (in[0]) {
	case ESPAT_SMP_PAIRING_REQ:
	case ESPAT_SMP_PAIRING_RSP:
		out->feat = (struct espat_smp_features){.io = p[0],
		                                        .oob = p[1],
		                                        .auth = p[2],
		                                        .key_size = p[3],
		                                        .init_keys = p[4],
		                                        .rsp_keys = p[5]};
		/* 3.5.1: an IO capability or OOB flag past the defined
		 * values, or a key size outside 7..16, is not a valid request */
		if (p[0] > ESPAT_SMP_IO_KEYBOARD_DISPLAY || p[1] > 1 || p[3] < 7 || p[3] > 16)
			return ESPAT_SMP_MALFORMED;
		break;
	case ESPAT_SMP_FAILED:
		out->reason = p[0];
		break;
	case ESPAT_SMP_CENTRAL_ID:
		out->ediv = (uint16_t)(p[0] | p[1] << 8);
		memcpy(out->rand, p + 2, 8);
		break;
	case ESPAT_SMP_ID_ADDR_INFO:
		out->addr_type = p[0];
		memcpy(out->addr, p + 1, 6);
		if (p[0] > 1)
			return ESPAT_SMP_MALFORMED;
		break;
	case ESPAT_SMP_SECURITY_REQ:
		out->auth = p[0];
		break;
	case ESPAT_SMP_PUBLIC_KEY:
		memcpy(out->x, p, 32);
		memcpy(out->y, p + 32, 32);
		break;
	case ESPAT_SMP_KEYPRESS:
		out->keypress = p[0];
		if (p[0] > 4) /* 3.5.8: entry started .. completed */
			return ESPAT_SMP_MALFORMED;
		break;
	default: /* the 16-byte values */
		memcpy(out->v, p, 16);
		break;
	}
	return ESPAT_SMP_OK;
}

size_t espat_smp_encode(const struct espat_smp_pdu *p, uint8_t *out, size_t cap)
{
	size_t n = pdu_len(p->code);
	if (n == 0 || cap < n)
		return 0;
	out[0] = p->code;
	uint8_t *o = out + 1;
	switch (p->code) {
	case ESPAT_SMP_PAIRING_REQ:
	case ESPAT_SMP_PAIRING_RSP:
		o[0] = p->feat.io;
		o[1] = p->feat.oob;
		o[2] = p->feat.auth;
		o[3] = p->feat.key_size;
		o[4] = p->feat.init_keys;
		o[5] = p->feat.rsp_keys;
		break;
	case ESPAT_SMP_FAILED:
		o[0] = p->reason;
		break;
	case ESPAT_SMP_CENTRAL_ID:
		o[0] = (uint8_t)(p->ediv & 0xff);
		o[1] = (uint8_t)(p->ediv >> 8);
		memcpy(o + 2, p->rand, 8);
		break;
	case ESPAT_SMP_ID_ADDR_INFO:
		o[0] = p->addr_type;
		memcpy(o + 1, p->addr, 6);
		break;
	case ESPAT_SMP_SECURITY_REQ:
		o[0] = p->auth;
		break;
	case ESPAT_SMP_PUBLIC_KEY:
		memcpy(o, p->x, 32);
		memcpy(o + 32, p->y, 32);
		break;
	case ESPAT_SMP_KEYPRESS:
		o[0] = p->keypress;
		break;
	default:
		memcpy(o, p->v, 16);
		break;
	}
	return n;
}

/* ---- the pairing method ------------------------------------------------------ */

bool espat_smp_secure(const struct espat_smp_features *init, const struct espat_smp_features *rsp)
{
	return (init->auth & ESPAT_SMP_AUTH_SC) && (rsp->auth & ESPAT_SMP_AUTH_SC);
}

enum espat_smp_method espat_smp_method(const struct espat_smp_features *init,
                                       const struct espat_smp_features *rsp)
{
	enum {
		JW = ESPAT_SMP_JUST_WORKS,
		II = ESPAT_SMP_PASSKEY_INIT_INPUTS,
		RI = ESPAT_SMP_PASSKEY_RSP_INPUTS,
		BI = ESPAT_SMP_PASSKEY_BOTH_INPUT,
		NC = ESPAT_SMP_NUMERIC
	};
	/* Table 2.8, [initiator][responder], legacy pairing; the cells that
	 * become numeric comparison under Secure Connections are marked in
	 * sc_numeric. Columns and rows: DisplayOnly, DisplayYesNo,
	 * KeyboardOnly, NoInputNoOutput, KeyboardDisplay. */
	static const uint8_t legacy[5][5] = {
	    {JW, JW, RI, JW, RI}, {JW, JW, RI, JW, RI}, {II, II, BI, JW, II},
	    {JW, JW, JW, JW, JW}, {II, II, RI, JW, RI},
	};
	static const bool sc_numeric[5][5] = {
	    [1] = {[1] = true, [4] = true},
	    [4] = {[1] = true, [4] = true},
	};
	bool sc = espat_smp_secure(init, rsp);
	if (sc ? (init->oob || rsp->oob) : (init->oob && rsp->oob))
		return ESPAT_SMP_OOB;
	if (!((init->auth | rsp->auth) & ESPAT_SMP_AUTH_MITM))
		return ESPAT_SMP_JUST_WORKS;
	if (init->io > ESPAT_SMP_IO_KEYBOARD_DISPLAY || rsp->io > ESPAT_SMP_IO_KEYBOARD_DISPLAY)
		return ESPAT_SMP_JUST_WORKS;
	if (sc && sc_numeric[init->io][rsp->io])
		return ESPAT_SMP_NUMERIC;
	return (enum espat_smp_method)legacy[init->io][rsp->io];
}

bool espat_smp_authenticated(enum espat_smp_method m)
{
	return m != ESPAT_SMP_JUST_WORKS;
}

/* ---- the toolbox ------------------------------------------------------------- */

void espat_smp_swap(uint8_t *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n / 2; i++) {
		uint8_t t = in[i];
		out[i] = in[n - 1 - i];
		out[n - 1 - i] = t;
	}
	if (n % 2)
		out[n / 2] = in[n / 2];
}

static void xor16(uint8_t *a, const uint8_t *b)
{
	for (size_t i = 0; i < 16; i++)
		a[i] ^= b[i];
}

/* RFC 4493 2.3: a subkey is the block shifted left one bit, with the
 * constant Rb (0x87) folded in when a bit fell off. */
static void shift_subkey(uint8_t k[16])
{
	uint8_t carry = k[0] >> 7;
	for (size_t i = 0; i < 15; i++)
		k[i] = (uint8_t)(k[i] << 1 | k[i + 1] >> 7);
	k[15] = (uint8_t)(k[15] << 1);
	if (carry)
		k[15] ^= 0x87;
}

void espat_smp_cmac(const struct espat_smp_crypto *c, const uint8_t key[16], const uint8_t *msg,
                    size_t len, uint8_t mac[16])
{
	static const uint8_t zero[16];
	uint8_t k1[16], k2[16];
	c->aes(c->user, key, zero, k1);
	shift_subkey(k1);
	memcpy(k2, k1, 16);
	shift_subkey(k2);

	size_t blocks = len == 0 ? 1 : (len + 15) / 16;
	bool whole = len > 0 && len % 16 == 0;
	uint8_t x[16] = {0}, last[16] = {0};
	for (size_t b = 0; b + 1 < blocks; b++) {
		xor16(x, msg + b * 16);
		c->aes(c->user, key, x, x);
	}
	size_t tail = len - (blocks - 1) * 16;
	memcpy(last, msg + (blocks - 1) * 16, tail);
	if (whole) {
		xor16(last, k1);
	} else {
		last[tail] = 0x80; /* padding: one bit, then zeros */
		xor16(last, k2);
	}
	xor16(x, last);
	c->aes(c->user, key, x, mac);
}

void espat_smp_c1(const struct espat_smp_crypto *c, const uint8_t k[16], const uint8_t r[16],
                  const uint8_t preq[7], const uint8_t pres[7], uint8_t iat, const uint8_t ia[6],
                  uint8_t rat, const uint8_t ra[6], uint8_t out[16])
{
	/* p1 = pres || preq || rat' || iat', p2 = padding || ia || ra, each
	 * most significant first: the PDUs' wire bytes reversed */
	uint8_t p1[16], p2[16] = {0}, t[16];
	espat_smp_swap(p1, pres, 7);
	espat_smp_swap(p1 + 7, preq, 7);
	p1[14] = rat;
	p1[15] = iat;
	memcpy(p2 + 4, ia, 6);
	memcpy(p2 + 10, ra, 6);
	memcpy(t, r, 16);
	xor16(t, p1);
	c->aes(c->user, k, t, t);
	xor16(t, p2);
	c->aes(c->user, k, t, out);
}

void espat_smp_s1(const struct espat_smp_crypto *c, const uint8_t k[16], const uint8_t r1[16],
                  const uint8_t r2[16], uint8_t out[16])
{
	/* r' = the least significant 64 bits of r1, then those of r2 */
	uint8_t r[16];
	memcpy(r, r1 + 8, 8);
	memcpy(r + 8, r2 + 8, 8);
	c->aes(c->user, k, r, out);
}

void espat_smp_f4(const struct espat_smp_crypto *c, const uint8_t u[32], const uint8_t v[32],
                  const uint8_t x[16], uint8_t z, uint8_t out[16])
{
	uint8_t m[65];
	memcpy(m, u, 32);
	memcpy(m + 32, v, 32);
	m[64] = z;
	espat_smp_cmac(c, x, m, sizeof(m), out);
}

void espat_smp_f5(const struct espat_smp_crypto *c, const uint8_t w[32], const uint8_t n1[16],
                  const uint8_t n2[16], const uint8_t a1[7], const uint8_t a2[7],
                  uint8_t mackey[16], uint8_t ltk[16])
{
	static const uint8_t salt[16] = {0x6c, 0x88, 0x83, 0x91, 0xaa, 0xf5, 0xa5, 0x38,
	                                 0x60, 0x37, 0x0b, 0xdb, 0x5a, 0x60, 0x83, 0xbe};
	uint8_t t[16];
	espat_smp_cmac(c, salt, w, 32, t);
	/* Counter || keyID "btle" || N1 || N2 || A1 || A2 || Length (256) */
	uint8_t m[53];
	m[0] = 0;
	memcpy(m + 1, "btle", 4);
	memcpy(m + 5, n1, 16);
	memcpy(m + 21, n2, 16);
	memcpy(m + 37, a1, 7);
	memcpy(m + 44, a2, 7);
	m[51] = 0x01;
	m[52] = 0x00;
	espat_smp_cmac(c, t, m, sizeof(m), mackey);
	m[0] = 1;
	espat_smp_cmac(c, t, m, sizeof(m), ltk);
}

void espat_smp_f6(const struct espat_smp_crypto *c, const uint8_t w[16], const uint8_t n1[16],
                  const uint8_t n2[16], const uint8_t r[16], const uint8_t iocap[3],
                  const uint8_t a1[7], const uint8_t a2[7], uint8_t out[16])
{
	uint8_t m[65];
	memcpy(m, n1, 16);
	memcpy(m + 16, n2, 16);
	memcpy(m + 32, r, 16);
	memcpy(m + 48, iocap, 3);
	memcpy(m + 51, a1, 7);
	memcpy(m + 58, a2, 7);
	espat_smp_cmac(c, w, m, sizeof(m), out);
}

uint32_t espat_smp_g2(const struct espat_smp_crypto *c, const uint8_t u[32], const uint8_t v[32],
                      const uint8_t x[16], const uint8_t y[16])
{
	uint8_t m[80], mac[16];
	memcpy(m, u, 32);
	memcpy(m + 32, v, 32);
	memcpy(m + 64, y, 16);
	espat_smp_cmac(c, x, m, sizeof(m), mac);
	return (uint32_t)mac[12] << 24 | (uint32_t)mac[13] << 16 | (uint32_t)mac[14] << 8 | mac[15];
}
