/* Shared between the files of the TLS filter (tls_openssl*.c); not for
 * other files. tls_openssl_ctx.c turns a struct espat_tls_opts into OpenSSL
 * objects; tls_openssl.c runs sessions over the lower port's sockets. */
#ifndef ESPAT_POSIX_TLS_OPENSSL_INTERNAL_H
#define ESPAT_POSIX_TLS_OPENSSL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "posix/tls_openssl.h"

/* A client's pre-shared key, copied from its options; the SSL's app data
 * while the session lives (the PSK callback reads it). */
struct espat_tlsf_psk {
	uint8_t key[PSK_MAX_PSK_LEN];
	size_t key_len; /* 0: no PSK */
	char identity[PSK_MAX_IDENTITY_LEN + 1];
};

/* A client session for o: versions, ciphers, our certificate, the CA store
 * and verify mode, the name check, SNI, ALPN, the PSK (copied into *psk,
 * which must outlive the SSL) and the module's time. *verify tells whether
 * the server's certificate is checked. NULL with *err set: EINVAL for
 * options OpenSSL refuses (bad PEM, a key that does not match its
 * certificate, an oversized PSK or ALPN name), ENOMEM. */
SSL *espat_tlsf_client_new(const struct espat_tls_opts *o, struct espat_tlsf_psk *psk, bool *verify,
                           const struct espat_log *log, int *err);
/* A server context for o: our certificate (required) and, with o->ca, the
 * client certificate demanded and verified. NULL with *err set, as above. */
SSL_CTX *espat_tlsf_server_ctx(const struct espat_tls_opts *o, const struct espat_log *log,
                               int *err);
/* Why a client's handshake on ssl failed, as one clause for the user
 * ("the module's clock is not set ..."), from the verify result (when
 * verify), the name checked (may be NULL), the module's clock, the hint
 * (may be NULL) or OpenSSL's last error, which it leaves queued. */
void espat_tlsf_why(SSL *ssl, bool verify, const char *check_name, int64_t now, const char *hint,
                    char *out, size_t len);
/* Logs the thread's OpenSSL errors in one line ("tls: what: reason;
 * reason") at lvl and clears them. */
void espat_tlsf_log_errors(const struct espat_log *log, enum espat_log_level lvl, const char *what);

#endif
