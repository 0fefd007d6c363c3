/* The TLS filter's OpenSSL objects from a struct espat_tls_opts: PEM
 * certificates, keys and CA bundles read from memory, the verify mode and
 * the module's time, the name check, SNI, ALPN and the PSK. Every option is
 * copied into OpenSSL (or into the caller's struct espat_tlsf_psk): the
 * options are borrowed for the call only. Rules in tls_openssl.h. */
#include "posix/tls_openssl_internal.h"

#include <arpa/inet.h>
#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define ALPN_NAME_MAX 255 /* an ALPN protocol name is length-prefixed by one byte */
#define ERRLINE_MAX 256   /* one log line of OpenSSL reasons */

void espat_tlsf_log_errors(const struct espat_log *log, enum espat_log_level lvl, const char *what)
{
	char line[ERRLINE_MAX];
	size_t o = 0;
	line[0] = '\0';
	unsigned long e;
	while ((e = ERR_get_error()) != 0) {
		const char *r = ERR_reason_error_string(e);
		char code[32];
		if (r == NULL) {
			snprintf(code, sizeof(code), "error %lx", e);
			r = code;
		}
		int n = snprintf(line + o, sizeof(line) - o, "%s%s", o ? "; " : "", r);
		if (n > 0 && (size_t)n < sizeof(line) - o)
			o += (size_t)n;
	}
	espat_log(log, lvl, "tls: %s: %s", what, o ? line : "(no reason given)");
}

/* PEM reading never asks for a password (OpenSSL's default would prompt on
 * the terminal): an encrypted key is a bad key. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

static BIO *mem_bio(const uint8_t *p, size_t n)
{
	if (p == NULL || n == 0 || n > INT_MAX)
		return NULL;
	return BIO_new_mem_buf(p, (int)n);
}

/* Every certificate of a PEM text, in order; NULL when it holds none or a
 * malformed one (text around the PEM blocks, a trailing NUL, is fine). */
static STACK_OF(X509) * read_certs(const uint8_t *p, size_t n)
{
	BIO *b = mem_bio(p, n);
	STACK_OF(X509) *sk = sk_X509_new_null();
	if (b == NULL || sk == NULL) {
		BIO_free(b);
		sk_X509_free(sk);
		return NULL;
	}
	X509 *x;
	while ((x = PEM_read_bio_X509(b, NULL, no_password, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			break;
		}
	}
	BIO_free(b);
	/* The reader stops with "no start line" at the end of the text;
	 * anything else is a broken block. */
	unsigned long e = ERR_peek_last_error();
	bool at_end = ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
	if (!at_end || sk_X509_num(sk) == 0) {
		sk_X509_pop_free(sk, X509_free);
		return NULL;
	}
	ERR_clear_error();
	return sk;
}

static EVP_PKEY *read_key(const uint8_t *p, size_t n)
{
	BIO *b = mem_bio(p, n);
	if (b == NULL)
		return NULL;
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, no_password, NULL);
	BIO_free(b);
	return k;
}

static SSL_CTX *ctx_new(const SSL_METHOD *m)
{
	SSL_CTX *ctx = SSL_CTX_new(m);
	if (ctx == NULL)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* A renegotiation would make SSL_write() wait for the peer. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

/* Our certificate (the first in o->cert; the others are its chain) and its
 * private key; false when either is missing, malformed or they do not
 * belong together. */
static bool use_cert(SSL_CTX *ctx, const struct espat_tls_opts *o)
{
	STACK_OF(X509) *sk = read_certs(o->cert, o->cert_len);
	EVP_PKEY *key = read_key(o->key, o->key_len);
	bool ok = sk != NULL && key != NULL && SSL_CTX_use_certificate(ctx, sk_X509_value(sk, 0));
	for (int i = 1; ok && i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);
		/* add_extra_chain_cert takes the reference */
		ok = X509_up_ref(x) && SSL_CTX_add_extra_chain_cert(ctx, x);
	}
	ok = ok && SSL_CTX_use_PrivateKey(ctx, key) && SSL_CTX_check_private_key(ctx);
	sk_X509_pop_free(sk, X509_free);
	EVP_PKEY_free(key);
	return ok;
}

/* The peer's certificate must chain to one of o->ca; the server also names
 * them in its CertificateRequest. */
static bool use_ca(SSL_CTX *ctx, const struct espat_tls_opts *o, int mode, bool server)
{
	STACK_OF(X509) *sk = read_certs(o->ca, o->ca_len);
	X509_STORE *st = sk != NULL ? X509_STORE_new() : NULL;
	bool ok = st != NULL;
	for (int i = 0; ok && i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);
		ok = X509_STORE_add_cert(st, x) && (!server || SSL_CTX_add_client_CA(ctx, x));
	}
	sk_X509_pop_free(sk, X509_free);
	if (!ok) {
		X509_STORE_free(st);
		return false;
	}
	SSL_CTX_set_cert_store(ctx, st);
	SSL_CTX_set_verify(ctx, mode, NULL);
	return true;
}

static unsigned int psk_client_cb(SSL *ssl, const char *hint, char *identity,
                                  unsigned int max_identity_len, unsigned char *psk,
                                  unsigned int max_psk_len)
{
	const struct espat_tlsf_psk *k = SSL_get_app_data(ssl);
	size_t il = strlen(k->identity);
	if (k->key_len == 0 || il >= max_identity_len || k->key_len > max_psk_len)
		return 0;
	memcpy(identity, k->identity, il + 1);
	memcpy(psk, k->key, k->key_len);
	return (unsigned int)k->key_len;
}

/* Copies the PSK of o into k; false when it does not fit OpenSSL's bounds
 * or its identity holds a NUL. */
static bool copy_psk(const struct espat_tls_opts *o, struct espat_tlsf_psk *k)
{
	if (o->psk_len == 0)
		return true;
	if (o->psk == NULL || o->psk_len > sizeof(k->key) ||
	    o->psk_identity_len >= sizeof(k->identity) ||
	    (o->psk_identity_len > 0 &&
	     (o->psk_identity == NULL || memchr(o->psk_identity, 0, o->psk_identity_len))))
		return false;
	memcpy(k->key, o->psk, o->psk_len);
	k->key_len = o->psk_len;
	if (o->psk_identity_len > 0)
		memcpy(k->identity, o->psk_identity, o->psk_identity_len);
	return true;
}

/* The name the server's certificate must hold: a DNS name (CN or
 * subjectAltName), or an IP address in an IP subjectAltName. */
static bool check_name(SSL *ssl, const char *name)
{
	X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
	uint8_t ip[16];
	if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(param, name);
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return X509_VERIFY_PARAM_set1_host(param, name, 0);
}

/* ALPN's wire format: each name with its length in front. */
static bool set_alpn(SSL *ssl, const struct espat_tls_opts *o)
{
	uint8_t wire[ESPAT_TLS_ALPN_MAX * (1 + ALPN_NAME_MAX)];
	size_t n = 0;
	if (o->nalpn > ESPAT_TLS_ALPN_MAX)
		return false;
	for (size_t i = 0; i < o->nalpn; i++) {
		size_t l = o->alpn[i] ? strlen(o->alpn[i]) : 0;
		if (l == 0 || l > ALPN_NAME_MAX)
			return false;
		wire[n++] = (uint8_t)l;
		memcpy(wire + n, o->alpn[i], l);
		n += l;
	}
	return SSL_set_alpn_protos(ssl, wire, (unsigned int)n) == 0; /* 0 is success */
}

SSL *espat_tlsf_client_new(const struct espat_tls_opts *o, struct espat_tlsf_psk *psk, bool *verify,
                           const struct espat_log *log, int *err)
{
	memset(psk, 0, sizeof(*psk));
	ERR_clear_error();
	SSL_CTX *ctx = ctx_new(TLS_client_method());
	if (ctx == NULL) {
		espat_tlsf_log_errors(log, ESPAT_LOG_WARN, "client context");
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	*err = ESPAT_NET_EINVAL;
	const char *what = NULL;
	if ((o->cert != NULL || o->key != NULL) && !use_cert(ctx, o))
		what = "our certificate or key";
	else if (o->ca != NULL && !use_ca(ctx, o, SSL_VERIFY_PEER, false))
		what = "the CA certificates";
	else if (!copy_psk(o, psk))
		what = "the PSK";
	/* OpenSSL's DEFAULT list holds the PSK suites already, after the
	 * certificate ones; they are usable once the PSK callback is set. (A
	 * "PSK:DEFAULT" list would be the PSK suites alone: DEFAULT counts
	 * only as the first item.) */
	if (psk->key_len > 0)
		SSL_CTX_set_psk_client_callback(ctx, psk_client_cb);
	SSL *ssl = what == NULL ? SSL_new(ctx) : NULL;
	SSL_CTX_free(ctx); /* the SSL holds its own reference */
	if (ssl == NULL) {
		espat_tlsf_log_errors(log, ESPAT_LOG_INFO, what ? what : "client session");
		if (what == NULL)
			*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	SSL_set_app_data(ssl, psk);
	*verify = o->ca != NULL;
	X509_VERIFY_PARAM_set_time(SSL_get0_param(ssl), (time_t)o->now);
	if (o->ca != NULL && o->check_name != NULL && !check_name(ssl, o->check_name))
		what = "the name to check";
	else if (o->sni != NULL && !SSL_set_tlsext_host_name(ssl, o->sni))
		what = "the SNI name";
	else if (o->nalpn > 0 && !set_alpn(ssl, o))
		what = "the ALPN list";
	if (what != NULL) {
		espat_tlsf_log_errors(log, ESPAT_LOG_INFO, what);
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

SSL_CTX *espat_tlsf_server_ctx(const struct espat_tls_opts *o, const struct espat_log *log,
                               int *err)
{
	ERR_clear_error();
	SSL_CTX *ctx = ctx_new(TLS_server_method());
	if (ctx == NULL) {
		espat_tlsf_log_errors(log, ESPAT_LOG_WARN, "server context");
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	const char *what = NULL;
	if (o->cert == NULL || o->key == NULL || !use_cert(ctx, o))
		what = "our certificate or key";
	else if (o->ca != NULL &&
	         !use_ca(ctx, o, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, true))
		what = "the CA certificates";
	if (what != NULL) {
		espat_tlsf_log_errors(log, ESPAT_LOG_INFO, what);
		SSL_CTX_free(ctx);
		*err = ESPAT_NET_EINVAL;
		return NULL;
	}
	/* No resumption: each connection is a full handshake, and TLS 1.3
	 * sends no tickets after it. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	return ctx;
}
