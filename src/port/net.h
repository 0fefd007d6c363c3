/* The network as the cmd layer sees it: TCP and UDP sockets, listeners,
 * name resolution and ping. The Linux port implements it with real host
 * sockets in its event loop; the test port with an in-memory network the
 * test scripts.
 *
 * Contract for every implementation:
 *  - nothing blocks; results come back through callbacks run from the
 *    platform's loop, never from inside the call that started the work (a
 *    handler can finish its bookkeeping after open() before connected()
 *    runs);
 *  - a socket is owned by whoever opened (or was handed) it until close();
 *    after close() no callback for it runs, even one already due;
 *  - send() takes every byte or fails: the port queues what the kernel does
 *    not take yet (queued() tells how much), so a caller that wants
 *    back-pressure watches queued() and the drained callback. */
#ifndef ESPAT_PORT_NET_H
#define ESPAT_PORT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port/tls.h"

/* Errors reported by the port (0 is success). */
enum espat_net_err {
	ESPAT_NET_OK = 0,
	ESPAT_NET_EREFUSED,  /* connection refused: nothing listens there */
	ESPAT_NET_ETIMEDOUT, /* no answer in time */
	ESPAT_NET_EUNREACH,  /* no route to that address */
	ESPAT_NET_ERESET,    /* the peer reset an open connection */
	ESPAT_NET_EADDRINUSE,/* the local port is taken */
	ESPAT_NET_ENOTFOUND, /* DNS: the name does not exist (or has no address of that family) */
	ESPAT_NET_EDNS,      /* DNS: no server answered, or it failed */
	ESPAT_NET_EINVAL,    /* bad request (address family mismatch, ...) */
	ESPAT_NET_ENOMEM,    /* out of descriptors or memory */
	ESPAT_NET_EIO,       /* anything else */
	ESPAT_NET_ETLS,      /* TLS: the handshake failed, or a fatal alert / broken record */
	ESPAT_NET_ECERT,     /* TLS: the peer's certificate did not verify */
};

/* An IPv4 or IPv6 address. IPv4 uses a[0..3] in network order. */
struct espat_ip {
	bool v6;
	uint8_t a[16];
};

struct espat_endpoint {
	struct espat_ip ip;
	uint16_t port;
};

struct espat_sock; /* opaque, owned by the port's implementation */

/* Callbacks of one socket. Any may be NULL. user is the cbuser given at
 * open() / attach(). */
struct espat_sock_cbs {
	/* TCP: the connect finished; err 0, or why it failed (the socket is
	 * then dead: close it). */
	void (*connected)(void *user, int err);
	/* Bytes arrived: a piece of the TCP stream, or one whole UDP datagram
	 * with its sender. p is valid only during the call. Not called while
	 * the socket is paused. */
	void (*data)(void *user, const uint8_t *p, size_t n, const struct espat_endpoint *from);
	/* TCP: the peer closed (err 0, after every byte it sent was handed to
	 * data()) or the connection failed (err != 0). Nothing more will come;
	 * the owner still calls close(). */
	void (*closed)(void *user, int err);
	/* Everything queued by send() has been handed to the kernel. */
	void (*drained)(void *user);
	/* Listeners: a peer connected. s is connected, paused and has no
	 * callbacks; the owner takes it: attach() then pause(false), or
	 * close() it. */
	void (*accepted)(void *user, struct espat_sock *s);
};

enum espat_sock_kind {
	ESPAT_SOCK_TCP,
	ESPAT_SOCK_UDP,
};

struct espat_sock_opts {
	enum espat_sock_kind kind;
	/* TCP: where to connect. UDP: the default destination of send() (port
	 * 0: none; every send() then names one). Its family picks the socket's
	 * family. */
	struct espat_endpoint remote;
	uint16_t local_port; /* 0: the system picks one */
	bool reuse;          /* SO_REUSEADDR (and SO_REUSEPORT) before binding */
	/* UDP: join this multicast group (IPv4 224.0.0.0/4 or IPv6 ff00::/8)
	 * on the host's interfaces, and let sent multicast loop back. */
	bool mcast;
	struct espat_ip group;
	/* TCP: run a TLS client over the connection (port/tls.h); NULL: plain.
	 * Borrowed for the call. */
	const struct espat_tls_opts *tls;
};

/* AT+CIPTCPOPT and keep-alive, applied to a live TCP socket. */
struct espat_tcpopt {
	int32_t linger_s;     /* SO_LINGER: -1 off, else on with this many seconds */
	bool nodelay;         /* TCP_NODELAY */
	uint32_t sndtimeo_ms; /* SO_SNDTIMEO (0: none); the cmd layer also times sends */
	uint32_t keepalive_s; /* 0 off; else TCP_KEEPIDLE = this, KEEPINTVL 1, KEEPCNT 3 */
};

enum espat_close_how {
	ESPAT_CLOSE_GRACEFUL, /* send what is queued, then FIN (in the background) */
	ESPAT_CLOSE_ABORT,    /* drop the queue and reset (RST) */
};

/* Name resolution. */
enum espat_dns_family {
	ESPAT_DNS_PREFER_V4, /* IPv4 if the name has one, else IPv6 */
	ESPAT_DNS_V4_ONLY,
	ESPAT_DNS_V6_ONLY,
};

#define ESPAT_DNS_SERVERS_MAX 3
#define ESPAT_DNS_NAME_MAX 253

struct espat_dns_query {
	const char *name; /* NUL-terminated host name, borrowed for the call */
	enum espat_dns_family family;
	/* Servers to ask, in order; n == 0 asks the host's own resolver
	 * (its /etc/hosts and resolv.conf): the simulated router's DNS. */
	struct espat_ip servers[ESPAT_DNS_SERVERS_MAX];
	size_t nservers;
	uint32_t timeout_ms; /* 0: the port's default (a few seconds) */
};

struct espat_dns_req;  /* opaque */
struct espat_ping_req; /* opaque */

/* err 0 and the first address of the family asked for, or an error. */
typedef void espat_dns_fn(void *user, int err, const struct espat_ip *ip);
/* err 0 and the round trip in ms, or ESPAT_NET_ETIMEDOUT / another error. */
typedef void espat_ping_fn(void *user, int err, uint32_t rtt_ms);

struct espat_net {
	/* Opens a TCP (connecting; connected() follows) or UDP socket (bound,
	 * usable at once). NULL with *err set when it cannot even start. */
	struct espat_sock *(*open)(void *user, const struct espat_sock_opts *o,
				   const struct espat_sock_cbs *cb, void *cbuser, int *err);
	/* A TCP listener on port of the host's loopback (127.0.0.1, or ::1
	 * when v6), where peers on the host reach the module's server.
	 * accepted() reports peers. tls non-NULL: a TLS server (port/tls.h,
	 * borrowed for the call). NULL with *err set on failure. */
	struct espat_sock *(*listen)(void *user, uint16_t port, bool v6,
				     const struct espat_tls_opts *tls,
				     const struct espat_sock_cbs *cb, void *cbuser, int *err);
	/* Gives an accepted socket its callbacks (it stays paused). */
	void (*attach)(void *user, struct espat_sock *s, const struct espat_sock_cbs *cb,
		       void *cbuser);
	/* Queues bytes: TCP stream bytes, or one UDP datagram to `to` (NULL:
	 * the default remote). 0, or an error (the socket is dead, or UDP with
	 * no destination). */
	int (*send)(void *user, struct espat_sock *s, const uint8_t *p, size_t n,
		    const struct espat_endpoint *to);
	/* Bytes queued by send() not yet handed to the kernel. */
	size_t (*queued)(void *user, struct espat_sock *s);
	/* Stops (true) or resumes (false) reading: a paused TCP socket lets
	 * the kernel's window fill and the peer block; UDP datagrams wait in
	 * (and may overflow) the kernel's buffer. */
	void (*pause)(void *user, struct espat_sock *s, bool paused);
	/* Applies socket options; 0 or an error. */
	int (*set_tcpopt)(void *user, struct espat_sock *s, const struct espat_tcpopt *o);
	/* The socket's local and remote addresses (remote of UDP: the default
	 * destination). Either pointer may be NULL. */
	void (*endpoints)(void *user, struct espat_sock *s, struct espat_endpoint *local,
			  struct espat_endpoint *remote);
	/* Ends the socket and frees it; no callback for it runs afterwards. */
	void (*close)(void *user, struct espat_sock *s, enum espat_close_how how);

	/* Starts resolving; done() follows (never from inside the call). NULL
	 * with *err set when it cannot start. */
	struct espat_dns_req *(*resolve)(void *user, const struct espat_dns_query *q,
					 espat_dns_fn *done, void *cbuser, int *err);
	/* Forgets a request: done() will not run. */
	void (*resolve_cancel)(void *user, struct espat_dns_req *r);

	/* One echo request to ip; done() follows with the round trip, or
	 * ETIMEDOUT after timeout_ms. */
	struct espat_ping_req *(*ping)(void *user, const struct espat_ip *ip, uint32_t timeout_ms,
				       espat_ping_fn *done, void *cbuser, int *err);
	void (*ping_cancel)(void *user, struct espat_ping_req *r);

	void *user;
};

#endif
