/* An in-memory network behind the net port (src/port/net.h), for unit
 * tests, in-process transcripts and fuzz targets: no real sockets, time
 * from the test clock, every peer scripted by the test.
 *
 * The module's side is the port contract: nothing is delivered from inside
 * the module's call; events (connected, data, closed, drained, accepted,
 * DNS and ping results) wait on one FIFO and run only from
 * espat_net_mem_run() (espat_tp_settle / espat_tp_advance call it), in the
 * order they were raised, each once the test clock reaches its due time.
 * After close() / resolve_cancel() / ping_cancel() nothing more runs for
 * that object, even an event already queued.
 *
 * Where the contract leaves room, this port does what the posix port
 * (src/posix/net_posix.c) does, so a test here means the same there:
 * drained() follows every successful send() once nothing is queued (also
 * when the bytes went at once, and for UDP); send() while a TCP connect is
 * in progress queues; TCP data() gets the peer as `from`; a reset reaches
 * the module after the bytes before it and only while not paused; SO_LINGER
 * 0 turns a graceful close into a reset. What it does not model: a graceful
 * close's queue never gives up (posix resets after a while), and the
 * module cannot connect to its own listeners.
 *
 * TLS is a stand-in: a client socket asking for TLS connects as a plain
 * one would (the handshake always succeeds, at once) and its bytes travel
 * in clear; the connection records what the module asked for (tls,
 * tls_verify, tls_cert, tls_sni), so a test checks the request and plays a
 * server that speaks the protocol above TLS. Real TLS is tested end to end
 * against real servers. Listeners refuse TLS.
 *
 * The test's side (the "scripting API" below) plays everything else:
 *  - TCP servers the module connects to (espat_net_mem_serve), hosts where
 *    connects hang (blackhole) or fail (unreachable); each accepted
 *    connection is a struct espat_mem_conn the test drives: send bytes,
 *    read what the module sent, close, reset, throttle with a window;
 *  - peers connecting to the module's listeners (espat_net_mem_connect);
 *  - UDP peers (espat_net_mem_udp_peer) that record datagrams and send;
 *  - a DNS table with failures and a latency; hosts that answer ping.
 *
 * Limits (all fixed; running out makes open()/listen()/resolve()/ping()
 * fail with ESPAT_NET_ENOMEM, a scripting call return -1 or NULL):
 * ESPAT_NET_MEM_SOCKS module sockets open at once, ESPAT_NET_MEM_CONNS
 * connections over the network's life (never reused, so a test's pointer
 * stays valid until espat_net_mem_free), ESPAT_NET_MEM_BUF_MAX bytes per
 * stream buffer, and the table sizes below.
 *
 * Module sockets have the simulated local address local_v4 (192.168.3.112)
 * or local_v6, whatever the contract says about listeners on loopback: the
 * memory network has one interface. Ephemeral local ports count up from
 * 49152, separately for TCP and UDP, so the first UDP socket is 49152. */
#ifndef ESPAT_TESTPORT_NET_MEM_H
#define ESPAT_TESTPORT_NET_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port/net.h"

#define ESPAT_NET_MEM_SOCKS 32           /* module sockets (incl. listeners) open at once */
#define ESPAT_NET_MEM_CONNS 256          /* TCP connections over the network's life */
#define ESPAT_NET_MEM_REQS 32            /* DNS + ping requests in flight */
#define ESPAT_NET_MEM_SERVERS 16         /* espat_net_mem_serve endpoints */
#define ESPAT_NET_MEM_HOSTS 16           /* blackhole / unreachable / ping hosts */
#define ESPAT_NET_MEM_UDP_PEERS 16       /* espat_net_mem_udp_peer endpoints */
#define ESPAT_NET_MEM_DNS 32             /* DNS table rows (answers and failures) */
#define ESPAT_NET_MEM_BUF_MAX (1u << 20) /* bytes per stream buffer */
#define ESPAT_NET_MEM_UDP_QUEUE 64       /* datagrams waiting per module UDP socket */
#define ESPAT_NET_MEM_DGRAMS 1024        /* datagrams recorded per UDP peer */
#define ESPAT_NET_MEM_DGRAM_MAX 65507    /* largest UDP payload */
#define ESPAT_NET_MEM_DNS_TIMEOUT 5000   /* ms, a query's timeout_ms == 0 */
#define ESPAT_NET_MEM_PING_TIMEOUT 1000  /* ms, a ping's timeout_ms == 0 */
/* Queued events can never exceed this: per socket one each of connected,
 * readable, drained and accepted (as the child); per request one. */
#define ESPAT_NET_MEM_EVENTS (ESPAT_NET_MEM_SOCKS * 4 + ESPAT_NET_MEM_REQS)
/* espat_mem_conn_set_window: no limit (the default). */
#define ESPAT_MEM_WINDOW_OPEN SIZE_MAX

struct espat_mem_sock; /* a module socket: struct espat_sock of this port */
struct espat_mem_req;  /* a DNS or ping request */

/* A growable byte buffer with a hard cap of ESPAT_NET_MEM_BUF_MAX. */
struct espat_mem_buf {
	uint8_t *p; /* owned */
	size_t len, cap;
};

/* How the module ended its side of a connection. */
enum espat_mem_close {
	ESPAT_MEM_OPEN,            /* not closed yet */
	ESPAT_MEM_CLOSED_GRACEFUL, /* close(GRACEFUL): queue sent, then FIN */
	ESPAT_MEM_CLOSED_ABORT,    /* close(ABORT): queue dropped, RST */
};

/* One TCP connection between a module socket and a scripted peer. Tests read
 * the fields; they change them only through the espat_mem_conn_* calls. */
struct espat_mem_conn {
	struct espat_net_mem *net;
	struct espat_mem_sock *sock; /* the module's end; NULL once it closed it */
	struct espat_endpoint local; /* the module's end */
	struct espat_endpoint peer;  /* the scripted end */
	bool inbound;                /* the peer connected to a module listener */
	bool established;            /* the module saw connected(0), or accepted it */
	/* peer -> module */
	struct espat_mem_buf in; /* sent by the peer, not yet handed to data() */
	size_t chunk;            /* most bytes per data() call; 0: all waiting */
	bool peer_closed;        /* the peer sent FIN (closed(0) after `in`) */
	bool peer_reset;         /* the peer reset (closed(ERESET) after `in`) */
	/* module -> peer */
	struct espat_mem_buf q;  /* queued(): not yet read by the peer */
	struct espat_mem_buf rx; /* read by the peer: the view */
	size_t taken;            /* rx bytes consumed by espat_mem_conn_take */
	size_t window;           /* bytes the peer still reads; ESPAT_MEM_WINDOW_OPEN */
	bool owe_drained;        /* a send() since the last drained() */
	uint64_t read_total;     /* bytes the peer has read, ever */
	enum espat_mem_close closed_by_module;
	bool fin;                   /* the module's FIN reached the peer */
	bool tcpopt_set;            /* set_tcpopt was called */
	struct espat_tcpopt tcpopt; /* its last options */
	/* TLS as the module asked for it (the stand-in below) */
	bool tls;          /* a TLS client connection */
	bool tls_verify;   /* it verifies the server (a CA was given) */
	bool tls_cert;     /* it presents a certificate */
	char tls_sni[256]; /* the SNI it sent; "" none */
};

/* A datagram the module sent to a UDP peer. */
struct espat_mem_dgram {
	struct espat_endpoint from; /* the module socket's local endpoint */
	uint8_t *data;              /* owned */
	size_t len;
};

struct espat_mem_udp_peer {
	struct espat_net_mem *net;
	bool used;
	struct espat_endpoint ep;
	struct espat_mem_dgram *dgrams; /* owned, oldest first */
	size_t n, cap;
	size_t dropped; /* datagrams beyond ESPAT_NET_MEM_DGRAMS, not recorded */
};

/* Internal: one queued event. */
struct espat_mem_ev {
	int kind;                     /* 0: free slot */
	uint64_t seq;                 /* FIFO order */
	uint64_t due;                 /* test clock time it may run */
	struct espat_mem_sock *sock;  /* socket events: the socket */
	struct espat_mem_sock *child; /* accepted: the new socket */
	struct espat_mem_req *req;    /* DNS / ping */
	int err;
};

/* Internal: a host rule. */
struct espat_mem_host {
	bool used;
	struct espat_ip ip;
	bool blackhole;   /* connects never complete */
	bool unreachable; /* connects and pings fail with EUNREACH */
	bool pings;       /* answers ping after rtt_ms */
	uint32_t rtt_ms;
};

/* Internal: a DNS row; err != 0 makes it a failure. */
struct espat_mem_dns {
	bool used;
	char name[ESPAT_DNS_NAME_MAX + 1];
	struct espat_ip ip;
	int err;
};

/* The last query resolve() sent to "the network" (literals excluded). */
struct espat_mem_dns_seen {
	char name[ESPAT_DNS_NAME_MAX + 1];
	enum espat_dns_family family;
	struct espat_ip servers[ESPAT_DNS_SERVERS_MAX];
	size_t nservers; /* 0: the host's resolver */
	uint32_t timeout_ms;
};

struct espat_net_mem {
	const uint64_t *now; /* the test clock, ms (borrowed) */
	/* knobs the test may set at any time */
	uint32_t connect_ms;      /* delay of connected() (and of its errors) */
	uint32_t dns_ms;          /* delay of a DNS answer */
	struct espat_ip local_v4; /* the module's address, 192.168.3.112 */
	struct espat_ip local_v6; /* fe80::3685:18ff:fe12:3456 (from the test MAC) */
	/* what the module did, for tests to check */
	struct espat_mem_dns_seen dns_last;
	unsigned dns_queries;      /* resolve() calls that asked the network */
	struct espat_ip ping_last; /* address of the last ping() */
	unsigned pings;            /* ping() calls */
	size_t udp_unrouted;       /* datagrams sent where no UDP peer was */
	/* internal */
	struct espat_mem_sock *socks[ESPAT_NET_MEM_SOCKS];
	size_t nsocks;
	struct espat_mem_conn *conns[ESPAT_NET_MEM_CONNS];
	size_t nconns;
	struct espat_mem_req *reqs[ESPAT_NET_MEM_REQS];
	struct espat_endpoint servers[ESPAT_NET_MEM_SERVERS];
	bool served[ESPAT_NET_MEM_SERVERS];
	struct espat_mem_host hosts[ESPAT_NET_MEM_HOSTS];
	struct espat_mem_udp_peer udp[ESPAT_NET_MEM_UDP_PEERS];
	struct espat_mem_dns dns[ESPAT_NET_MEM_DNS];
	struct espat_mem_ev ev[ESPAT_NET_MEM_EVENTS];
	size_t nev;                   /* slots of ev[] in use: with none, the scans are skipped */
	uint64_t seq;                 /* last event sequence number */
	uint64_t sock_ids;            /* last socket id (age order) */
	uint16_t eph_tcp, eph_udp;    /* next ephemeral port to try */
	struct espat_mem_sock *cur;   /* socket whose callback runs; NULL if it closed */
	struct espat_mem_buf scratch; /* bytes handed to data() during the call */
	bool running;                 /* inside espat_net_mem_run */
};

/* ---- life ---------------------------------------------------------------- */

/* now: the clock the due times refer to; must outlive n. */
void espat_net_mem_init(struct espat_net_mem *n, const uint64_t *now);
/* Frees everything, including sockets the module left open (their
 * pointers die with it). */
void espat_net_mem_free(struct espat_net_mem *n);
/* The port, bound to n. */
struct espat_net espat_net_mem_port(struct espat_net_mem *n);

/* Runs every event due at *now, in FIFO order, including those the
 * callbacks raise; returns how many were taken off the queue (delivered, or
 * dropped because their socket is paused or their peer reset). */
size_t espat_net_mem_run(struct espat_net_mem *n);
/* The earliest due time of a queued event, or UINT64_MAX (ESPAT_NEVER). */
uint64_t espat_net_mem_next_due(const struct espat_net_mem *n);
/* Module sockets open now (listeners and accepted ones included): a test
 * checks the module closed every socket it had. */
size_t espat_net_mem_open_socks(const struct espat_net_mem *n);

/* ---- addresses ----------------------------------------------------------- */

struct espat_ip espat_ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
/* A numeric IPv4 or IPv6 address; aborts on anything else (test input). */
struct espat_ip espat_mem_ip(const char *text);
bool espat_mem_ip_eq(const struct espat_ip *a, const struct espat_ip *b);
bool espat_mem_ep_eq(const struct espat_endpoint *a, const struct espat_endpoint *b);

/* ---- scripting: TCP -------------------------------------------------------- */

/* A peer server at ep: the module's open() to it gets connected(0) after
 * connect_ms and a new connection. An endpoint nobody serves refuses
 * (connected(ESPAT_NET_EREFUSED)). 0, or -1 when the table is full. */
int espat_net_mem_serve(struct espat_net_mem *n, struct espat_endpoint ep);
/* Stops serving ep (connections made stay). */
void espat_net_mem_unserve(struct espat_net_mem *n, struct espat_endpoint ep);
/* Connects to ip (any port) never complete, its pings never answer and
 * datagrams to it vanish: the module's own timeouts must act. 0 or -1. */
int espat_net_mem_blackhole(struct espat_net_mem *n, struct espat_ip ip);
/* Connects to ip fail with ESPAT_NET_EUNREACH after connect_ms, pings at
 * once. 0 or -1. */
int espat_net_mem_unreachable(struct espat_net_mem *n, struct espat_ip ip);

/* Connections in the order they were made (by the module's open() to a
 * server, or by espat_net_mem_connect); NULL past the end. */
struct espat_mem_conn *espat_net_mem_conn(struct espat_net_mem *n, size_t i);
size_t espat_net_mem_nconns(const struct espat_net_mem *n);
struct espat_mem_conn *espat_net_mem_last_conn(struct espat_net_mem *n);

/* A peer at `peer` connects to the module's listener on port: accepted()
 * follows with a paused socket without callbacks. NULL when nothing
 * listens there or a limit is reached. */
struct espat_mem_conn *espat_net_mem_connect(struct espat_net_mem *n, uint16_t port,
                                             struct espat_endpoint peer);

/* The peer sends bytes: data() (from = the peer) when the module's socket
 * is connected and not paused; they wait meanwhile. 0, or -1 after the
 * peer closed or reset, after the module closed, or over
 * ESPAT_NET_MEM_BUF_MAX. */
int espat_mem_conn_send(struct espat_mem_conn *c, const void *p, size_t len);
/* Most bytes per data() call (0: everything waiting, the default): the
 * stream arrives in pieces, as from a real socket. */
void espat_mem_conn_set_chunk(struct espat_mem_conn *c, size_t max);
/* Copies up to cap bytes the peer read and nobody took yet; returns how
 * many. */
size_t espat_mem_conn_take(struct espat_mem_conn *c, void *buf, size_t cap);
/* Everything the peer read from the module so far, taken or not (from the
 * start, unless more than ESPAT_NET_MEM_BUF_MAX made it drop taken bytes). */
const uint8_t *espat_mem_conn_view(const struct espat_mem_conn *c, size_t *len);
/* The peer's FIN: closed(0) once the module has had every byte sent
 * before (so not while it is paused). Half-close: the module may still
 * send to the peer. */
void espat_mem_conn_close(struct espat_mem_conn *c);
/* The peer's RST: what the module queued is lost and its send() fails with
 * ESPAT_NET_ERESET at once; what the peer sent before still arrives, then
 * closed(ESPAT_NET_ERESET) (as a Linux socket reads its queue before the
 * error, and as the posix port only reads while not paused). A connect in
 * progress fails with it instead. */
void espat_mem_conn_reset(struct espat_mem_conn *c);
/* The peer reads only `bytes` more (ESPAT_MEM_WINDOW_OPEN: all); the
 * module's bytes beyond wait in queued(). */
void espat_mem_conn_set_window(struct espat_mem_conn *c, size_t bytes);
/* The peer reads `bytes` more: queued bytes move, and when the queue
 * empties the module gets drained(). */
void espat_mem_conn_read_more(struct espat_mem_conn *c, size_t bytes);

/* ---- scripting: UDP -------------------------------------------------------- */

/* Declares (or finds) the UDP peer at ep; NULL when the table is full. */
struct espat_mem_udp_peer *espat_net_mem_udp_peer(struct espat_net_mem *n,
                                                  struct espat_endpoint ep);
/* The peer sends one datagram to the module's UDP socket bound to
 * module_port (the oldest one, if several share it): data() with from = the
 * peer. 0, or -1 when no socket is bound there, the socket's queue
 * (ESPAT_NET_MEM_UDP_QUEUE) is full or len > ESPAT_NET_MEM_DGRAM_MAX. */
int espat_mem_udp_send(struct espat_mem_udp_peer *peer, uint16_t module_port, const void *p,
                       size_t len);
/* Forgets the recorded datagrams. */
void espat_mem_udp_clear(struct espat_mem_udp_peer *peer);

/* ---- scripting: DNS and ping ----------------------------------------------- */

/* name resolves to ip (names compare case-insensitively); several rows per
 * name give its v4 and v6 addresses, the first of the family asked for
 * answers. 0 or -1. */
int espat_net_mem_dns_add(struct espat_net_mem *n, const char *name, struct espat_ip ip);
/* Queries for name fail with err (ESPAT_NET_ENOTFOUND, ESPAT_NET_EDNS, or
 * ESPAT_NET_ETIMEDOUT, which answers after the query's timeout); name "*"
 * fails every name without a row of its own. 0 or -1. */
int espat_net_mem_dns_fail(struct espat_net_mem *n, const char *name, int err);
/* ip answers ping after rtt_ms (ETIMEDOUT if that is not within the
 * request's timeout); others time out. 0 or -1. */
int espat_net_mem_ping_host(struct espat_net_mem *n, struct espat_ip ip, uint32_t rtt_ms);

#endif
