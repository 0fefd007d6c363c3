/* BluFi frames and security: see blufi.h. */
#include "proto/blufi.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

#define FRAG_DEFAULT (23u - ESPAT_BLUFI_MTU_RESERVED) /* 12 under the minimum ATT_MTU */
#define FRAG_LIMIT 253u                               /* 2 + 253 = 255, a frame's largest data */

void espat_blufi_init(struct espat_blufi_codec *c)
{
	memset(c, 0, sizeof(*c));
	c->frag_max = FRAG_DEFAULT;
}

void espat_blufi_set_mtu(struct espat_blufi_codec *c, uint16_t mtu)
{
	size_t f = mtu > ESPAT_BLUFI_MTU_RESERVED + 1 ? mtu - ESPAT_BLUFI_MTU_RESERVED : 1;
	c->frag_max = (uint16_t)(f < FRAG_LIMIT ? f : FRAG_LIMIT);
}

uint16_t espat_blufi_crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xffff;
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
	}
	return (uint16_t)~crc;
}

bool espat_blufi_cfb(const uint8_t key[16], uint8_t seq, enum espat_blufi_dir dir, uint8_t *buf,
                     size_t n)
{
	uint8_t iv[16] = {seq};
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int out = 0, fin = 0;
	bool ok = x && n <= 0x7fffffff &&
	          EVP_CipherInit_ex(x, EVP_aes_128_cfb128(), NULL, key, iv,
	                            dir == ESPAT_BLUFI_ENCRYPT ? 1 : 0) == 1 &&
	          EVP_CipherUpdate(x, buf, &out, buf, (int)n) == 1 &&
	          EVP_CipherFinal_ex(x, buf + out, &fin) == 1 && (size_t)(out + fin) == n;
	EVP_CIPHER_CTX_free(x);
	return ok;
}

/* The checksum of a frame: over its sequence number, data length and the
 * clear data. */
static uint16_t frame_crc(uint8_t seq, uint8_t dlen, const uint8_t *data)
{
	uint8_t buf[2 + 255];
	buf[0] = seq;
	buf[1] = dlen;
	memcpy(buf + 2, data, dlen);
	return espat_blufi_crc16(buf, 2u + dlen);
}

static enum espat_blufi_rc bad(struct espat_blufi_codec *c, uint8_t *err, uint8_t code)
{
	c->got = c->total = 0; /* a broken message is dropped whole */
	*err = code;
	return ESPAT_BLUFI_BAD;
}

enum espat_blufi_rc espat_blufi_recv(struct espat_blufi_codec *c, const uint8_t *f, size_t n,
                                     struct espat_blufi_msg *out, uint8_t *err, bool *ack,
                                     uint8_t *ack_seq)
{
	if (ack)
		*ack = false;
	if (n < 4) {
		*err = ESPAT_BLUFI_E_FORMAT;
		return ESPAT_BLUFI_BAD;
	}
	uint8_t type = f[0], fc = f[1], seq = f[2], dlen = f[3];
	if (n != 4u + dlen + (fc & ESPAT_BLUFI_FC_CHECK ? 2u : 0u)) {
		*err = ESPAT_BLUFI_E_FORMAT;
		return ESPAT_BLUFI_BAD;
	}
	/* a frame out of order is refused and the counter stays (ESP-IDF) */
	if (seq != c->recv_seq) {
		*err = ESPAT_BLUFI_E_SEQUENCE;
		return ESPAT_BLUFI_BAD;
	}
	c->recv_seq++;
	uint8_t data[255];
	memcpy(data, f + 4, dlen);
	if (fc & ESPAT_BLUFI_FC_ENC) {
		if (!c->keyed || !espat_blufi_cfb(c->key, seq, ESPAT_BLUFI_DECRYPT, data, dlen))
			return bad(c, err, ESPAT_BLUFI_E_DECRYPT);
	}
	if (fc & ESPAT_BLUFI_FC_CHECK) {
		uint16_t want = (uint16_t)(f[4 + dlen] | (f[5 + dlen] << 8));
		if (frame_crc(seq, dlen, data) != want)
			return bad(c, err, ESPAT_BLUFI_E_CHECKSUM);
	}
	if (ack && (fc & ESPAT_BLUFI_FC_ACK)) {
		*ack = true;
		*ack_seq = seq;
	}
	if (fc & ESPAT_BLUFI_FC_FRAG) {
		if (dlen < 2)
			return bad(c, err, ESPAT_BLUFI_E_FORMAT);
		size_t piece = dlen - 2u;
		if (c->got == 0) {
			c->total = (size_t)(data[0] | (data[1] << 8));
			if (c->total == 0 || c->total > ESPAT_BLUFI_MSG_MAX)
				return bad(c, err, ESPAT_BLUFI_E_FORMAT);
		}
		/* a fragment ends a message only when it is not one */
		if (c->got + piece >= c->total)
			return bad(c, err, ESPAT_BLUFI_E_FORMAT);
		memcpy(c->msg + c->got, data + 2, piece);
		c->got += piece;
		return ESPAT_BLUFI_PART;
	}
	out->type = type;
	if (c->got > 0) {
		if (c->got + dlen != c->total)
			return bad(c, err, ESPAT_BLUFI_E_FORMAT);
		memcpy(c->msg + c->got, data, dlen);
		out->len = c->total;
		c->got = c->total = 0;
	} else {
		memcpy(c->msg, data, dlen);
		out->len = dlen;
	}
	out->data = c->msg;
	return ESPAT_BLUFI_MSG;
}

size_t espat_blufi_frame(struct espat_blufi_codec *c, uint8_t type, const uint8_t *data, size_t len,
                         size_t *off, uint8_t *out)
{
	size_t left = len - *off;
	uint8_t fc = ESPAT_BLUFI_FC_E2P, dlen;
	uint8_t *d = out + 4;
	if (left > c->frag_max) {
		fc |= ESPAT_BLUFI_FC_FRAG;
		d[0] = (uint8_t)(left & 0xff);
		d[1] = (uint8_t)(left >> 8);
		memcpy(d + 2, data + *off, c->frag_max);
		dlen = (uint8_t)(c->frag_max + 2u);
		*off += c->frag_max;
	} else {
		if (left > 0)
			memcpy(d, data + *off, left);
		dlen = (uint8_t)left;
		*off = len;
	}
	uint8_t seq = c->send_seq++;
	bool check = false, enc = false;
	if (ESPAT_BLUFI_KIND(type) == ESPAT_BLUFI_CTRL) {
		check = c->sec_mode & ESPAT_BLUFI_SEC_CTRL_CHECK;
	} else if (ESPAT_BLUFI_SUB(type) != ESPAT_BLUFI_D_NEG &&
	           ESPAT_BLUFI_SUB(type) != ESPAT_BLUFI_D_ERROR) {
		check = c->sec_mode & ESPAT_BLUFI_SEC_DATA_CHECK;
		enc = (c->sec_mode & ESPAT_BLUFI_SEC_DATA_ENC) && c->keyed;
	}
	size_t n = 4u + dlen;
	if (check) {
		uint16_t crc = frame_crc(seq, dlen, d);
		out[n++] = (uint8_t)(crc & 0xff);
		out[n++] = (uint8_t)(crc >> 8);
		fc |= ESPAT_BLUFI_FC_CHECK;
	}
	if (enc) {
		if (!espat_blufi_cfb(c->key, seq, ESPAT_BLUFI_ENCRYPT, d, dlen))
			return 0;
		fc |= ESPAT_BLUFI_FC_ENC;
	}
	out[0] = type;
	out[1] = fc;
	out[2] = seq;
	out[3] = dlen;
	return n;
}

/* One of the parameters: a 2-byte big-endian length and that many bytes. */
static const uint8_t *field(const uint8_t **p, const uint8_t *end, size_t *n)
{
	if (end - *p < 2)
		return NULL;
	*n = (size_t)((*p)[0] << 8 | (*p)[1]);
	const uint8_t *v = *p + 2;
	if (*n == 0 || (size_t)(end - v) < *n)
		return NULL;
	*p = v + *n;
	return v;
}

/* The DH exchange proper: pub = G^x mod P, key = MD5(Y^x mod P). */
static int dh(struct espat_blufi_codec *c, const uint8_t *params, size_t len, const uint8_t *priv,
              size_t priv_len, uint8_t *pub, size_t *pub_len, uint8_t *err)
{
	const uint8_t *p = params, *end = params + len;
	size_t pl, gl, yl;
	const uint8_t *pv = field(&p, end, &pl), *gv = field(&p, end, &gl),
	              *yv = field(&p, end, &yl);
	if (!pv || !gv || !yv || pl > ESPAT_BLUFI_DH_MAX) {
		*err = ESPAT_BLUFI_E_READ_PARAM;
		return -1;
	}
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *P = BN_bin2bn(pv, (int)pl, NULL), *G = BN_bin2bn(gv, (int)gl, NULL),
	       *Y = BN_bin2bn(yv, (int)yl, NULL), *X = BN_bin2bn(priv, (int)priv_len, NULL),
	       *lim = BN_new(), *T = BN_new(), *K = BN_new();
	int rc = -1;
	uint8_t secret[ESPAT_BLUFI_DH_MAX];
	unsigned md_len = 0;
	int sl;
	*err = ESPAT_BLUFI_E_MAKE_PUBLIC;
	if (!ctx || !P || !G || !Y || !X || !lim || !T || !K)
		goto out;
	/* P odd and above 5; G and the phone's key in [2, P-2] */
	*err = ESPAT_BLUFI_E_READ_PARAM;
	if (!BN_is_odd(P) || BN_num_bits(P) < 4 || !BN_copy(lim, P) || !BN_sub_word(lim, 1))
		goto out;
	if (BN_cmp(G, BN_value_one()) <= 0 || BN_cmp(G, lim) >= 0 ||
	    BN_cmp(Y, BN_value_one()) <= 0 || BN_cmp(Y, lim) >= 0)
		goto out;
	/* the private key in [2, P-2] */
	*err = ESPAT_BLUFI_E_MAKE_PUBLIC;
	if (!BN_sub_word(lim, 2) || !BN_mod(X, X, lim, ctx) || !BN_add_word(X, 2))
		goto out;
	if (!BN_mod_exp(T, G, X, P, ctx) || BN_bn2binpad(T, pub, (int)pl) != (int)pl)
		goto out;
	*err = ESPAT_BLUFI_E_MD5;
	if (!BN_mod_exp(K, Y, X, P, ctx))
		goto out;
	sl = BN_bn2bin(K, secret);
	if (sl <= 0 || !EVP_Digest(secret, (size_t)sl, c->key, &md_len, EVP_md5(), NULL) ||
	    md_len != 16)
		goto out;
	memset(secret, 0, sizeof(secret));
	c->keyed = true;
	*pub_len = pl;
	rc = 1;
out:
	BN_free(P);
	BN_free(G);
	BN_free(Y);
	BN_clear_free(X);
	BN_free(lim);
	BN_free(T);
	BN_clear_free(K);
	BN_CTX_free(ctx);
	return rc;
}

int espat_blufi_negotiate(struct espat_blufi_codec *c, const uint8_t *data, size_t len,
                          const uint8_t *priv, size_t priv_len, uint8_t *pub, size_t *pub_len,
                          uint8_t *err)
{
	if (len >= 3 && data[0] == 0x00) {
		c->neg_len = (size_t)(data[1] << 8 | data[2]);
		return 0;
	}
	if (len >= 1 && data[0] == 0x01) {
		/* the announced length, when there was one, bounds what is read */
		size_t n = len - 1;
		if (c->neg_len == 0 || c->neg_len > n) {
			*err = ESPAT_BLUFI_E_DH_PARAM;
			return -1;
		}
		n = c->neg_len;
		c->neg_len = 0;
		return dh(c, data + 1, n, priv, priv_len, pub, pub_len, err);
	}
	*err = ESPAT_BLUFI_E_FORMAT;
	return -1;
}
