/* The TLS filter: OpenSSL layered over a net port (port/net.h), the way curl
 * stacks a TLS connection filter on a socket filter. The filter is itself a
 * net port: the app hands it the plain Linux port and gives the module the
 * filter's port instead. Sockets without TLS pass straight through; TLS
 * sockets (espat_sock_opts.tls, listen()'s tls) get a session on top of a
 * plain TCP socket of the lower port. docs/internals/tls.md has the longer
 * story.
 *
 * Plain traffic costs nothing: a socket without TLS is the lower port's own
 * socket, opened with the owner's callbacks, so its bytes and events never
 * pass through here. A TLS socket is a struct of ours whose pointer is
 * handed out with its lowest bit set; every port function tests that bit
 * and hands untagged sockets to the lower port as they are. The lower
 * port's socket pointers must therefore be even (any pointer to a struct
 * with an int or pointer member is).
 *
 * A TLS socket, on top of port/net.h and port/tls.h:
 *  - the session speaks through the lower socket: ciphertext goes out with
 *    the lower send() straight from OpenSSL (a BIO of ours), ciphertext in
 *    comes from the lower data(); nothing is copied into an OpenSSL buffer
 *    and nothing waits in one;
 *  - TLS 1.2 and 1.3 only. Client: with ca, the server's chain must verify
 *    against it (and hold check_name when given) at the module's clock
 *    (opts.now, not the host's): a failure is connected(ESPAT_NET_ECERT);
 *    without ca any server is accepted. Any other failed handshake is
 *    connected(ESPAT_NET_ETLS), a failed TCP connect keeps the lower
 *    error, a handshake that takes longer than handshake_ms is
 *    connected(ESPAT_NET_ETIMEDOUT). With a PSK the PSK suites are offered
 *    too (after the certificate ones); the same key serves TLS 1.3's
 *    external PSK;
 *  - server: cert and key are required (listen() fails with EINVAL
 *    without them). A peer is accepted() only after its handshake (bounded
 *    by handshake_ms); a failed one is closed without a word to the owner.
 *    With ca the peer must present a certificate that verifies at the
 *    module's clock (opts.clock at each handshake, or opts.now at listen()
 *    advanced by the host's monotonic clock since);
 *  - data() carries at most ESPAT_TLS_READ_MAX plaintext bytes (one
 *    record); a pause() from inside data() holds the rest (the ciphertext
 *    not yet decrypted, at most what the lower port delivered in one call)
 *    and pauses the lower socket too. pause(false) with bytes held calls
 *    wake(); run() delivers them;
 *  - send() before the handshake ended (a client that did not wait for
 *    connected()) holds the plaintext and writes it after; queued() counts
 *    it with the lower socket's queue;
 *  - closed(0) comes after the peer's close_notify or its FIN (a FIN
 *    without close_notify is not an error, as on the module), once every
 *    plaintext byte before it was delivered; closed(ESPAT_NET_ETLS) after a
 *    fatal alert or a broken record; a lower error (a reset) is passed on.
 *    A TLS 1.3 server that rejects the client's certificate does so after
 *    the client's handshake finished: the client sees connected(0), then
 *    closed(ESPAT_NET_ETLS);
 *  - close(GRACEFUL) writes held plaintext and close_notify, then closes
 *    the lower socket gracefully (which flushes in the background);
 *    close(ABORT) resets. Closing a listener drops its peers still in the
 *    handshake. After close() no callback for the socket runs; close() from
 *    inside any callback is safe.
 *
 * Time: the filter reads CLOCK_MONOTONIC (the clock of espat_loop_now_ns)
 * for handshake deadlines. Its owner calls espat_tls_filter_run() soon
 * after wake() and at espat_tls_filter_next_ns(); an owner that never asks
 * next_ns() gets no handshake timeouts.
 *
 * Single-threaded: every function runs on the loop's thread. */
#ifndef ESPAT_POSIX_TLS_OPENSSL_H
#define ESPAT_POSIX_TLS_OPENSSL_H

#include <stdbool.h>
#include <stdint.h>

#include "port/net.h"
#include "posix/log.h"

#define ESPAT_TLS_READ_MAX 16384u     /* plaintext bytes per data(): one record */
#define ESPAT_TLS_HANDSHAKE_MS 10000u /* default bound of a handshake, as esp-tls's */

struct espat_tlsf_sock; /* a TLS socket or listener (tls_openssl.c) */

struct espat_tls_filter {
	struct espat_net lower;   /* the plain port, copied; its user borrowed */
	void (*wake)(void *user); /* run() wanted soon (never called back from inside) */
	void *wake_user;
	const struct espat_log *log;   /* borrowed, may be NULL */
	void *bio_method;              /* BIO_METHOD * of our BIO over a lower socket, owned */
	uint8_t *pbuf;                 /* ESPAT_TLS_READ_MAX, plaintext for data() */
	struct espat_tlsf_sock *socks; /* every TLS socket and listener not yet freed */
	uint32_t handshake_ms;         /* ESPAT_TLS_HANDSHAKE_MS; tests narrow it */
	/* why a client's handshake failed: said once while it repeats */
	struct espat_log_repeat why_rep;
};

/* Layers the filter over lower (copied; lower->user must outlive f). wake
 * (may be NULL) is called when a TLS socket has work outside any lower
 * callback (a resumed socket holds plaintext): the owner then calls
 * espat_tls_filter_run() from its loop, not from inside wake. log may be
 * NULL. 0, or -1 with errno set (nothing left allocated). */
int espat_tls_filter_init(struct espat_tls_filter *f, const struct espat_net *lower,
                          void (*wake)(void *), void *wake_user, const struct espat_log *log);
/* Delivers what resumed sockets hold and ends handshakes past their bound.
 * Not from inside a net callback. */
void espat_tls_filter_run(struct espat_tls_filter *f);
/* When run() is wanted next, in espat_loop_now_ns() time: 0 when it has
 * work now, UINT64_MAX when nothing is pending. */
uint64_t espat_tls_filter_next_ns(const struct espat_tls_filter *f);
/* Closes every TLS socket left (reset, no callbacks) and frees the filter.
 * Not from inside a net callback; before the lower port is freed. */
void espat_tls_filter_free(struct espat_tls_filter *f);
/* The filter's port (user is f). */
struct espat_net espat_tls_filter_port(struct espat_tls_filter *f);

#endif
