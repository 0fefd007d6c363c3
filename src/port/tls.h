/* TLS as the cmd layer asks for it: a TCP socket of the net port (port/net.h)
 * with a TLS session on top. The request travels with the socket:
 * espat_sock_opts.tls for a client, the tls argument of listen() for a
 * server. A net port that cannot do TLS fails such requests with
 * ESPAT_NET_EINVAL; the Linux port layers OpenSSL over its sockets as a
 * filter (posix/tls_openssl.h), the way curl stacks connection filters.
 *
 * What changes for a TLS socket, on top of the contract in port/net.h:
 *  - connected(0) comes after the handshake, not after TCP's; a failed
 *    handshake is connected(ESPAT_NET_ETLS or ESPAT_NET_ECERT);
 *  - a listener reports accepted() only for peers whose handshake succeeded
 *    (failures are closed silently);
 *  - data() carries plaintext, send() takes plaintext, queued() counts
 *    plaintext not yet encrypted plus ciphertext not yet in the kernel;
 *  - closed(0) follows the peer's close_notify or its FIN; closed(ETLS)
 *    follows a fatal alert or a broken record;
 *  - close(GRACEFUL) sends close_notify before the FIN.
 *
 * Every pointer in struct espat_tls_opts is borrowed for the call to open()
 * or listen() only: the port copies what it keeps. */
#ifndef ESPAT_PORT_TLS_H
#define ESPAT_PORT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESPAT_TLS_ALPN_MAX 5 /* AT+CIPSSLCALPN <counts> */

struct espat_tls_opts {
	/* Our certificate (chain) and its private key, PEM. Client: presented
	 * when the server asks (auth modes 1 and 3). Server: required. */
	const uint8_t *cert;
	size_t cert_len;
	const uint8_t *key;
	size_t key_len;
	/* CA certificates (PEM) the peer's certificate must chain to. Client:
	 * verify the server (auth modes 2 and 3); NULL: accept any server.
	 * Server: require and verify a client certificate; NULL: ask none. */
	const uint8_t *ca;
	size_t ca_len;
	/* Client: the host name the server's certificate must hold (CN or a
	 * DNS subjectAltName); NULL: no name check. Only with ca. */
	const char *check_name;
	/* Client: the server name sent in the ClientHello; NULL: none. */
	const char *sni;
	/* Client: ALPN protocols offered, in order of preference. */
	const char *alpn[ESPAT_TLS_ALPN_MAX];
	size_t nalpn;
	/* Client: a pre-shared key and the identity that names it; psk_len 0:
	 * no PSK. With a PSK the PSK cipher suites are offered. */
	const uint8_t *psk;
	size_t psk_len;
	const uint8_t *psk_identity;
	size_t psk_identity_len;
	/* The module's wall clock (seconds since 1970) that certificate
	 * validity periods are checked against, not the host's. */
	int64_t now;
	/* Server: reads the module's clock at each handshake, since a server
	 * outlives changes of it (SNTP, AT+SYSTIMESTAMP); NULL: now, run on
	 * by the host's clock. */
	int64_t (*clock)(void *user);
	void *clock_user;
};

#endif
