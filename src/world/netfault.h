/* The network's faults: a net port (port/net.h) layered over another one
 * that makes the world's network misbehave on request, the way a user
 * stages field failures with `espat ctl fault ...` (docs/internals/ctl.md,
 * "Faults"). The app puts it between the Linux port and the TLS filter,
 * so TLS, MQTT, HTTP and links all ride on faulty TCP; unit tests put it
 * over the memory network.
 *
 * What it models (all in user space, on the module's loop; no threads, no
 * root, no tc; deterministic, so a test can say exactly what the AT port
 * shows):
 *  - DNS: per name or for all, a query fails at once (EDNS: the server
 *    answered SERVFAIL) or hangs (no server answers: EDNS after the
 *    query's timeout_ms, ESPAT_NETFAULT_DNS_TIMEOUT_MS when 0; the module's
 *    own timer usually ends it first). An address literal asks no server
 *    and is never faulted;
 *  - connects: per address[:port] or for all, a TCP connect is blackholed
 *    (no lower socket is opened and connected() never comes: only the
 *    caller's timeout ends it) or refused (connected(EREFUSED), as a RST
 *    answers the SYN). UDP datagrams to a blackholed address vanish;
 *    pings to it time out. A rule is read when a socket opens: links
 *    already up keep going;
 *  - latency L ms one way, in both directions: bytes, a peer's close and
 *    an accepted peer arrive L later, sends leave L later; a connect, a DNS
 *    answer and a ping take 2L more. Order is kept per socket and
 *    direction;
 *  - loss P %: a UDP datagram (either way) is dropped with probability P.
 *    TCP never loses or corrupts bytes: a lost segment is retransmitted,
 *    so each chunk is, with probability P per try, held one more
 *    retransmission timeout (ESPAT_NETFAULT_RTO_MS, doubling, at most
 *    ESPAT_NETFAULT_RETRIES tries), and everything behind it waits
 *    (head-of-line blocking). A seeded xorshift draws, so a run repeats;
 *  - freeze: chosen sockets go silent both ways (the lower socket is
 *    paused, sends are held and count in queued()); nothing is reported.
 *    Only the owner's timeouts notice, and the keep-alive the owner set
 *    (set_tcpopt keepalive_s: TCP_KEEPIDLE s, then 3 probes 1 s apart):
 *    KEEPIDLE + 3 s after the freeze the socket reports
 *    closed(ETIMEDOUT). A thaw delivers what was held, in order;
 *  - drop: every TCP connection (dialled or accepted, not listeners) is
 *    reset at once: the lower socket is aborted and the owner sees
 *    closed(ERESET) (connected(ERESET) for one still connecting).
 *
 * With no fault set every call goes straight to the lower port and every
 * lower callback straight to the owner (one more indirect call); only
 * held events cost memory, and inbound bytes held per socket are bounded
 * by ESPAT_NETFAULT_HOLD_MAX (beyond it the lower socket is paused, so the
 * peer's TCP window closes).
 *
 * Time: now_ms() is the module's loop clock. Its owner calls
 * espat_netfault_run() soon after wake() and at espat_netfault_next_ms();
 * run() is never called from inside a net callback. Single-threaded. */
#ifndef ESPAT_WORLD_NETFAULT_H
#define ESPAT_WORLD_NETFAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port/net.h"

#define ESPAT_NETFAULT_RULES 16               /* DNS rules, and connect rules */
#define ESPAT_NETFAULT_DNS_TIMEOUT_MS 5000u   /* a hung query's timeout_ms 0 */
#define ESPAT_NETFAULT_PING_TIMEOUT_MS 1000u  /* a ping's timeout_ms 0 */
#define ESPAT_NETFAULT_RTO_MS 200u            /* first retransmission timeout */
#define ESPAT_NETFAULT_RETRIES 6u             /* at most this many lost tries per chunk */
#define ESPAT_NETFAULT_HOLD_MAX (256u * 1024) /* inbound bytes held per socket */
#define ESPAT_NETFAULT_LATENCY_MAX 60000u     /* ms */
#define ESPAT_NETFAULT_SPARE 8                /* freed sockets kept for reuse */
#define ESPAT_NETFAULT_NEVER UINT64_MAX

enum espat_netfault_dns {
	ESPAT_NETFAULT_DNS_OK,
	ESPAT_NETFAULT_DNS_FAIL, /* answered at once: EDNS */
	ESPAT_NETFAULT_DNS_HANG, /* no answer: EDNS after the query's timeout */
};

enum espat_netfault_conn {
	ESPAT_NETFAULT_CONN_OK,
	ESPAT_NETFAULT_CONN_BLACKHOLE, /* no answer at all */
	ESPAT_NETFAULT_CONN_REFUSE,    /* connected(EREFUSED) */
};

struct espat_netfault_dns_rule {
	char name[ESPAT_DNS_NAME_MAX + 1]; /* "" every name */
	enum espat_netfault_dns how;
};

struct espat_netfault_conn_rule {
	bool any_host;      /* every address */
	struct espat_ip ip; /* unless any_host */
	uint16_t port;      /* 0 every port */
	enum espat_netfault_conn how;
};

struct espat_nf_sock; /* a socket of this port (netfault.c) */
struct espat_nf_req;  /* a DNS or ping request */

/* Read-only outside netfault.c, except through the calls below. */
struct espat_netfault {
	struct espat_net lower;         /* copied; its user borrowed */
	uint64_t (*now_ms)(void *user); /* the loop's clock */
	void *clock_user;
	void (*wake)(void *user); /* run() wanted soon; may be NULL */
	void *wake_user;
	struct espat_netfault_dns_rule dns[ESPAT_NETFAULT_RULES];
	size_t ndns;
	struct espat_netfault_conn_rule conn[ESPAT_NETFAULT_RULES];
	size_t nconn;
	uint32_t latency_ms;         /* one way */
	uint8_t loss_pct;            /* 0..100 */
	uint32_t rng;                /* xorshift32 state; never 0 */
	struct espat_nf_sock *socks; /* every socket not yet closed by its owner */
	struct espat_nf_req *reqs;   /* every request not yet answered or cancelled */
	struct espat_nf_sock *spare; /* closed sockets' memory, for the next ones */
	size_t nspare;
	/* counters since init, for `fault list` */
	uint64_t dgrams_lost, tcp_retransmits, dns_faulted, conns_faulted;
};

/* Layers the fault port over lower (copied; lower->user must outlive f).
 * No fault is set. */
void espat_netfault_init(struct espat_netfault *f, const struct espat_net *lower,
                         uint64_t (*now_ms)(void *), void *clock_user, void (*wake)(void *),
                         void *wake_user);
/* Closes (aborts) every socket and forgets every request left, without
 * callbacks. Before the lower port is freed; not from inside a callback. */
void espat_netfault_free(struct espat_netfault *f);
/* The fault port (user is f). */
struct espat_net espat_netfault_port(struct espat_netfault *f);

/* Delivers what is due (held bytes, delayed events, answers, keep-alive
 * deaths of frozen sockets). Not from inside a net callback. */
void espat_netfault_run(struct espat_netfault *f);
/* When run() is wanted next, on now_ms()'s clock; ESPAT_NETFAULT_NEVER
 * when nothing is pending. */
uint64_t espat_netfault_next_ms(const struct espat_netfault *f);

/* ---- setting faults (0, or -1 when the rule table is full) ------------- */

/* name NULL or "": every name. OK with no name clears every DNS rule; OK
 * for a name makes it an exception to an all-names rule. A name's rule
 * wins over the all-names one; names compare without case. */
int espat_netfault_set_dns(struct espat_netfault *f, const char *name, enum espat_netfault_dns how);
/* ip NULL: every address; port 0: every port. OK with no address clears
 * every connect rule. The most specific rule wins (address and port, then
 * address, then all). */
int espat_netfault_set_conn(struct espat_netfault *f, const struct espat_ip *ip, uint16_t port,
                            enum espat_netfault_conn how);
void espat_netfault_set_latency(struct espat_netfault *f, uint32_t ms);
void espat_netfault_set_loss(struct espat_netfault *f, uint8_t pct);
/* Every setting back to none and every frozen socket thawed. */
void espat_netfault_clear(struct espat_netfault *f);

/* The rule that applies to name / to a connect to ep (for `fault list`
 * and tests). */
enum espat_netfault_dns espat_netfault_dns_for(const struct espat_netfault *f, const char *name);
enum espat_netfault_conn espat_netfault_conn_for(const struct espat_netfault *f,
                                                 const struct espat_endpoint *ep);

/* ---- acting on open sockets ---------------------------------------------- */

/* Which sockets: all (every TCP connection and UDP socket, not
 * listeners), or the one whose remote is *remote (TCP; ignored for UDP)
 * and whose local port is local_port (0: any). */
struct espat_netfault_match {
	bool all;
	struct espat_endpoint remote;
	uint16_t local_port;
};

/* Freezes (on) or thaws the matching sockets; returns how many matched. */
size_t espat_netfault_freeze(struct espat_netfault *f, const struct espat_netfault_match *m,
                             bool on);
/* Resets every TCP connection (not listeners); returns how many. */
size_t espat_netfault_drop_all(struct espat_netfault *f);
/* Sockets frozen now. */
size_t espat_netfault_frozen(const struct espat_netfault *f);

#endif
