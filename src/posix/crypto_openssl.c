/* port/crypto.h over OpenSSL 3's EVP interfaces. */
#include "posix/crypto_openssl.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <string.h>

static void aes128(void *user, const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
	(void)user;
	uint8_t buf[32];
	int n = 0;
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	/* ECB of one block cannot fail with a valid context; a failed
	 * allocation gives zeros, which no confirm value will match */
	if (x && EVP_EncryptInit_ex(x, EVP_aes_128_ecb(), NULL, key, NULL) == 1 &&
	    EVP_CIPHER_CTX_set_padding(x, 0) == 1 && EVP_EncryptUpdate(x, buf, &n, in, 16) == 1 &&
	    n == 16)
		memcpy(out, buf, 16);
	else
		memset(out, 0, 16);
	EVP_CIPHER_CTX_free(x);
}

static void random_bytes(void *user, uint8_t *out, size_t n)
{
	(void)user;
	if (RAND_bytes(out, (int)n) != 1)
		memset(out, 0, n);
}

static bool keypair(void *user, uint8_t priv[32], uint8_t pub[64])
{
	(void)user;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	BIGNUM *d = NULL;
	uint8_t pt[65];
	size_t len = 0;
	bool ok = k && EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 &&
	          BN_bn2binpad(d, priv, 32) == 32 &&
	          EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt),
	                                          &len) == 1 &&
	          len == 65 && pt[0] == 0x04;
	if (ok)
		memcpy(pub, pt + 1, 64);
	BN_clear_free(d);
	EVP_PKEY_free(k);
	return ok;
}

/* An EC key on P-256 from a private scalar or an uncompressed public point. */
static EVP_PKEY *ec_key(const uint8_t *priv, const uint8_t *pub)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *k = NULL;
	BIGNUM *d = NULL;
	uint8_t pt[65];
	if (!b || !OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0))
		goto out;
	if (priv) {
		d = BN_bin2bn(priv, 32, NULL);
		if (!d || !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, d))
			goto out;
	} else {
		pt[0] = 0x04;
		memcpy(pt + 1, pub, 64);
		if (!OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)))
			goto out;
	}
	params = OSSL_PARAM_BLD_to_param(b);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &k, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
		k = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	BN_clear_free(d);
	return k;
}

static bool dh(void *user, const uint8_t priv[32], const uint8_t peer_pub[64], uint8_t dhkey[32])
{
	(void)user;
	EVP_PKEY *own = ec_key(priv, NULL), *peer = ec_key(NULL, peer_pub);
	EVP_PKEY_CTX *ctx = own ? EVP_PKEY_CTX_new(own, NULL) : NULL;
	size_t len = 32;
	/* derive_set_peer_ex with validation: a point off the curve is refused */
	bool ok = ctx && peer && EVP_PKEY_derive_init(ctx) == 1 &&
	          EVP_PKEY_derive_set_peer_ex(ctx, peer, 1) == 1 &&
	          EVP_PKEY_derive(ctx, dhkey, &len) == 1 && len == 32;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(own);
	EVP_PKEY_free(peer);
	return ok;
}

struct espat_crypto_port espat_crypto_openssl(void)
{
	return (struct espat_crypto_port){
	    .aes128 = aes128, .random = random_bytes, .p256_keypair = keypair, .p256_dh = dh};
}
