/* The Linux net port (port/net.h) over host sockets in the event loop.
 *
 * What the port binds (docs/internals/net.md):
 *  - TCP clients connect from the host's own addresses (bound to a local
 *    port only when asked); UDP sockets bind the wildcard address so host
 *    peers reach them; listeners bind 127.0.0.1 (or ::1) only: the module's
 *    server is reachable from this host, not from the network.
 *  - IPv6 UDP sockets are dual-stack: they reach IPv4 peers through
 *    IPv4-mapped addresses, and such senders are reported as IPv4. UDP
 *    sockets may send to broadcast addresses, as lwIP's may.
 *
 * Delivery rules on top of the contract in port/net.h:
 *  - every result of a call (a connect that failed or finished at once, a
 *    numeric name, a ping that could not be sent) comes from a zero-delay
 *    loop timer, never from inside the call;
 *  - data() of TCP gets the peer as `from`, like UDP;
 *  - drained() runs once after one or more send()s, when everything they
 *    queued is in the kernel: deferred when the kernel took it all at once,
 *    else from the EPOLLOUT that empties the queue. Several send()s before
 *    that coalesce into one drained(). A caller can use it as "send
 *    complete"; it does not run when the queue was dropped by an error;
 *  - a socket paused at EOF or reset learns of it when it is resumed, so
 *    closed() always follows every byte the peer sent;
 *  - close(GRACEFUL) with bytes still queued keeps the socket in the
 *    background until the queue is in the kernel (then FIN), for at most
 *    ESPAT_NET_CLOSE_FLUSH_MS; past that it resets. Unread input is
 *    discarded before the close so the kernel sends FIN, not RST. A
 *    SO_LINGER with a timeout set by set_tcpopt() is lifted before the
 *    close so close() never blocks the loop (the kernel still sends what it
 *    holds); linger 0 keeps its meaning: close resets. A socket still
 *    connecting is closed at once, its queue dropped;
 *  - set_tcpopt() sets SO_SNDTIMEO as asked, but it is inert on these
 *    non-blocking sockets: the cmd layer times its sends.
 *
 * Ping (ESPAT_NET_PING_*): an ICMP datagram socket (SOCK_DGRAM +
 * IPPROTO_ICMP[V6]) when net.ipv4.ping_group_range admits our group (no
 * privilege needed, the kernel matches replies for us); else a raw ICMP
 * socket (needs CAP_NET_RAW, e.g. root); else a TCP connect to port 7,
 * where a refusal or an accept both prove the host answered. The first
 * kind the host allows is used, per request: as root under Debian's
 * default range ("1 0", no group) that is the raw socket. Round trips are
 * rounded up to whole ms; timeout_ms 0 means ESPAT_NET_PING_TIMEOUT_MS.
 *
 * DNS runs on c-ares (one channel per request, so a timeout or a cancel
 * ends exactly that request): no servers given = the host's resolv.conf
 * and /etc/hosts ("fb"); servers given = exactly those, port 53, DNS only.
 *
 * Single-threaded: every function runs on the loop's thread. */
#ifndef ESPAT_POSIX_NET_POSIX_H
#define ESPAT_POSIX_NET_POSIX_H

#include <stdint.h>

#include "port/net.h"
#include "posix/log.h"
#include "posix/loop.h"

#define ESPAT_NET_RECV_BUF (64u * 1024u) /* bytes per read; one UDP datagram fits */
#define ESPAT_NET_CLOSE_FLUSH_MS 10000u  /* graceful close: flush at most this long */
#define ESPAT_NET_DNS_TIMEOUT_MS 5000u   /* a query's bound when it names none */
#define ESPAT_NET_PING_TIMEOUT_MS 1000u  /* a ping's bound when it names none (0) */
#define ESPAT_NET_LISTEN_BACKLOG 16

/* Ping methods, as bits of espat_net_posix.ping_methods. */
#define ESPAT_NET_PING_DGRAM 1u /* unprivileged ICMP socket */
#define ESPAT_NET_PING_RAW 2u   /* raw ICMP socket */
#define ESPAT_NET_PING_TCP 4u   /* TCP connect probe to port 7 */
#define ESPAT_NET_PING_ALL 7u

struct espat_net_posix {
	struct espat_loop *loop;      /* borrowed */
	const struct espat_log *log;  /* borrowed, may be NULL */
	struct espat_sock *socks;     /* every socket not yet freed, closing ones too */
	struct espat_dns_req *dns;    /* requests in flight */
	struct espat_ping_req *pings; /* requests in flight */
	uint8_t *rbuf;                /* ESPAT_NET_RECV_BUF, shared by every read */
	unsigned ping_methods;        /* ESPAT_NET_PING_* tried, in that order; tests narrow it */
	uint16_t ping_id;             /* ICMP identifier of the last raw ping */
	/* The warnings of a failed connect and a failed lookup (one line each,
	 * at the default level), quiet while the same failure repeats. */
	struct espat_log_repeat connect_rep, dns_rep;
};

/* 0, or -1 with errno set (nothing left allocated). */
int espat_net_posix_init(struct espat_net_posix *np, struct espat_loop *loop,
                         const struct espat_log *log);
/* Closes every socket (graceful closes still flushing included), DNS
 * request and ping; no callback runs. Not from inside a net callback;
 * before the loop is freed (it removes its watches and timers). */
void espat_net_posix_free(struct espat_net_posix *np);
/* The port's function table; user is np. */
struct espat_net espat_net_posix_port(struct espat_net_posix *np);

#endif
