/* The in-memory network: see net_mem.h for the model and the limits.
 *
 * Shape of the code: the port's calls (p_*) change state and raise events;
 * espat_net_mem_run() takes due events off the queue in FIFO order and
 * delivers them. A delivery finishes its own bookkeeping (including raising
 * follow-up events) before it calls the module, and never touches the socket
 * afterwards: the callback may close it, and close() removes every queued
 * event of that socket. Sockets, connections and requests are separate heap
 * blocks, so a module that uses a socket after close() trips ASan.
 *
 * struct espat_sock / espat_dns_req / espat_ping_req stay undefined here:
 * the port hands out pointers to this file's own structs cast to them, so
 * the test port and the posix port can be linked into one program (the
 * transcript runner) without two definitions of one struct tag. */
#include "testport/net_mem.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum ev_kind {
	EV_NONE,      /* a free slot */
	EV_CONNECTED, /* connected(err) */
	EV_READABLE,  /* data() of what waits, then closed() after the peer's FIN or RST */
	EV_DRAINED,   /* drained() */
	EV_ACCEPTED,  /* accepted(child) on a listener */
	EV_DNS,       /* a resolve() answer */
	EV_PING,      /* a ping() answer */
};

enum sock_kind { SK_TCP, SK_UDP, SK_LISTEN };

enum sock_state {
	ST_CONNECTING, /* TCP until connected() */
	ST_OPEN,
	ST_DEAD, /* the connect failed or the peer reset: send() fails with dead_err */
};

/* A datagram waiting for the module's data(). */
struct udp_in {
	struct espat_endpoint from;
	uint8_t *p; /* owned */
	size_t len;
};

struct espat_mem_sock {
	struct espat_net_mem *net;
	uint64_t id; /* opening order: the oldest of a shared UDP port gets datagrams */
	enum sock_kind kind;
	enum sock_state state;
	int dead_err;
	struct espat_sock_cbs cb;
	void *user;
	bool paused;
	bool v6;
	bool reuse;
	uint16_t local_port;
	struct espat_endpoint remote;               /* TCP: the peer; UDP: default destination */
	struct espat_mem_conn *conn;                /* TCP to a served endpoint or accepted */
	struct espat_mem_buf pending;               /* TCP without conn: sent while connecting */
	bool fin_told;                              /* closed() ran: nothing more comes */
	struct udp_in udp[ESPAT_NET_MEM_UDP_QUEUE]; /* ring */
	size_t udp_head, udp_n;
};

struct espat_mem_req {
	bool ping;
	espat_dns_fn *dns_done;
	espat_ping_fn *ping_done;
	void *user;
	int err;            /* the answer, decided when the request starts */
	struct espat_ip ip; /* DNS */
	uint32_t rtt_ms;    /* ping */
};

static uint64_t now_of(const struct espat_net_mem *n)
{
	return *n->now;
}

static void set_err(int *err, int e)
{
	if (err)
		*err = e;
}

static struct espat_mem_sock *msock(struct espat_sock *s)
{
	return (struct espat_mem_sock *)s;
}

/* ---- addresses ---- */

struct espat_ip espat_ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (struct espat_ip){.v6 = false, .a = {a, b, c, d}};
}

static bool parse_ip(const char *text, struct espat_ip *ip)
{
	*ip = (struct espat_ip){0};
	if (inet_pton(AF_INET, text, ip->a) == 1)
		return true;
	if (inet_pton(AF_INET6, text, ip->a) == 1) {
		ip->v6 = true;
		return true;
	}
	return false;
}

struct espat_ip espat_mem_ip(const char *text)
{
	struct espat_ip ip;
	if (!parse_ip(text, &ip))
		abort();
	return ip;
}

bool espat_mem_ip_eq(const struct espat_ip *a, const struct espat_ip *b)
{
	return a->v6 == b->v6 && memcmp(a->a, b->a, a->v6 ? 16 : 4) == 0;
}

bool espat_mem_ep_eq(const struct espat_endpoint *a, const struct espat_endpoint *b)
{
	return a->port == b->port && espat_mem_ip_eq(&a->ip, &b->ip);
}

static bool is_mcast(const struct espat_ip *ip)
{
	return ip->v6 ? ip->a[0] == 0xFF : (ip->a[0] & 0xF0) == 0xE0;
}

static struct espat_endpoint local_ep(const struct espat_mem_sock *s)
{
	const struct espat_net_mem *n = s->net;
	return (struct espat_endpoint){s->v6 ? n->local_v6 : n->local_v4, s->local_port};
}

/* ---- buffers ---- */

/* Appends; -1 past ESPAT_NET_MEM_BUF_MAX or out of memory. p is never left
 * NULL, so an empty buffer can still be handed to data(). */
static int buf_add(struct espat_mem_buf *b, const void *p, size_t n)
{
	if (n > ESPAT_NET_MEM_BUF_MAX - b->len)
		return -1;
	if (!b->p || b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		if (cap > ESPAT_NET_MEM_BUF_MAX)
			cap = ESPAT_NET_MEM_BUF_MAX;
		uint8_t *q = realloc(b->p, cap);
		if (!q)
			return -1;
		b->p = q;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* Drops the first k bytes. */
static void buf_consume(struct espat_mem_buf *b, size_t k)
{
	if (k == 0)
		return;
	memmove(b->p, b->p + k, b->len - k);
	b->len -= k;
}

static void buf_free(struct espat_mem_buf *b)
{
	free(b->p);
	*b = (struct espat_mem_buf){0};
}

/* ---- the event queue ---- */

static struct espat_mem_ev *ev_push(struct espat_net_mem *n, enum ev_kind kind,
                                    struct espat_mem_sock *s, struct espat_mem_req *r, int err,
                                    uint64_t due)
{
	for (size_t i = 0; i < ESPAT_NET_MEM_EVENTS; i++) {
		struct espat_mem_ev *e = &n->ev[i];
		if (e->kind != EV_NONE)
			continue;
		n->nev++;
		*e = (struct espat_mem_ev){.kind = (int)kind,
		                           .seq = ++n->seq,
		                           .due = due,
		                           .sock = s,
		                           .req = r,
		                           .err = err};
		return e;
	}
	abort(); /* cannot happen: ESPAT_NET_MEM_EVENTS bounds what can be queued */
}

static struct espat_mem_ev *ev_find(struct espat_net_mem *n, enum ev_kind kind,
                                    const struct espat_mem_sock *s)
{
	for (size_t i = 0; i < ESPAT_NET_MEM_EVENTS; i++)
		if (n->ev[i].kind == (int)kind && n->ev[i].sock == s)
			return &n->ev[i];
	return NULL;
}

/* Queues one delivery of whatever waits on s (at most one is queued). */
static void kick(struct espat_net_mem *n, struct espat_mem_sock *s)
{
	if (!ev_find(n, EV_READABLE, s))
		ev_push(n, EV_READABLE, s, NULL, 0, now_of(n));
}

/* Takes the oldest due event off the queue into *out. */
static bool ev_pop_due(struct espat_net_mem *n, struct espat_mem_ev *out)
{
	struct espat_mem_ev *best = NULL;
	uint64_t now = now_of(n);
	if (n->nev == 0)
		return false; /* the common case: skip the scan */
	for (size_t i = 0; i < ESPAT_NET_MEM_EVENTS; i++) {
		struct espat_mem_ev *e = &n->ev[i];
		if (e->kind != EV_NONE && e->due <= now && (!best || e->seq < best->seq))
			best = e;
	}
	if (!best)
		return false;
	*out = *best;
	best->kind = EV_NONE;
	n->nev--;
	return true;
}

uint64_t espat_net_mem_next_due(const struct espat_net_mem *n)
{
	uint64_t due = UINT64_MAX;
	for (size_t i = 0; i < ESPAT_NET_MEM_EVENTS && n->nev > 0; i++)
		if (n->ev[i].kind != EV_NONE && n->ev[i].due < due)
			due = n->ev[i].due;
	return due;
}

/* ---- sockets and connections ---- */

static bool has_input(const struct espat_mem_sock *s)
{
	if (s->kind == SK_UDP)
		return s->udp_n > 0;
	const struct espat_mem_conn *c = s->conn;
	return c && (c->in.len > 0 || ((c->peer_closed || c->peer_reset) && !s->fin_told));
}

static struct espat_mem_sock *sock_new(struct espat_net_mem *n, enum sock_kind kind, int *err)
{
	if (n->nsocks == ESPAT_NET_MEM_SOCKS) {
		set_err(err, ESPAT_NET_ENOMEM);
		return NULL;
	}
	struct espat_mem_sock *s = calloc(1, sizeof(*s));
	if (!s) {
		set_err(err, ESPAT_NET_ENOMEM);
		return NULL;
	}
	for (size_t i = 0; i < ESPAT_NET_MEM_SOCKS; i++) {
		if (!n->socks[i]) {
			n->socks[i] = s;
			break;
		}
	}
	n->nsocks++;
	s->net = n;
	s->id = ++n->sock_ids;
	s->kind = kind;
	return s;
}

static void sock_destroy(struct espat_net_mem *n, struct espat_mem_sock *s);

/* Removes every queued event of s. A listener's accepted-but-undelivered
 * sockets have no owner: they are aborted, as a kernel resets its backlog. */
static void ev_purge(struct espat_net_mem *n, struct espat_mem_sock *s)
{
	for (size_t i = 0; i < ESPAT_NET_MEM_EVENTS; i++) {
		struct espat_mem_ev *e = &n->ev[i];
		if (e->kind == EV_NONE || e->sock != s)
			continue;
		e->kind = EV_NONE;
		n->nev--;
		if (e->child) {
			struct espat_mem_sock *child = e->child;
			if (child->conn) {
				child->conn->sock = NULL;
				child->conn->closed_by_module = ESPAT_MEM_CLOSED_ABORT;
			}
			sock_destroy(n, child);
		}
	}
}

static void sock_destroy(struct espat_net_mem *n, struct espat_mem_sock *s)
{
	ev_purge(n, s);
	for (size_t i = 0; i < s->udp_n; i++)
		free(s->udp[(s->udp_head + i) % ESPAT_NET_MEM_UDP_QUEUE].p);
	buf_free(&s->pending);
	for (size_t i = 0; i < ESPAT_NET_MEM_SOCKS; i++) {
		if (n->socks[i] == s) {
			n->socks[i] = NULL;
			n->nsocks--;
			break;
		}
	}
	free(s);
}

size_t espat_net_mem_open_socks(const struct espat_net_mem *n)
{
	return n->nsocks;
}

static struct espat_mem_conn *conn_new(struct espat_net_mem *n, struct espat_mem_sock *s,
                                       bool inbound)
{
	if (n->nconns == ESPAT_NET_MEM_CONNS)
		return NULL;
	struct espat_mem_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->net = n;
	c->sock = s;
	c->local = local_ep(s);
	c->peer = s->remote;
	c->inbound = inbound;
	c->window = ESPAT_MEM_WINDOW_OPEN;
	n->conns[n->nconns++] = c;
	s->conn = c;
	return c;
}

static void raise_drained(struct espat_net_mem *n, struct espat_mem_sock *s);

/* Moves queued module bytes to the peer as far as its window and buffer
 * allow; an emptied queue raises drained() (if send() left bytes queued)
 * and, after a graceful close, is the FIN. */
static void conn_pump(struct espat_mem_conn *c)
{
	if (!c->established || c->peer_reset || c->closed_by_module == ESPAT_MEM_CLOSED_ABORT)
		return;
	size_t k = c->q.len < c->window ? c->q.len : c->window;
	if (k > ESPAT_NET_MEM_BUF_MAX - c->rx.len && c->taken) {
		buf_consume(&c->rx, c->taken);
		c->taken = 0;
	}
	if (k > ESPAT_NET_MEM_BUF_MAX - c->rx.len)
		k = ESPAT_NET_MEM_BUF_MAX - c->rx.len;
	if (k && buf_add(&c->rx, c->q.p, k) == 0) {
		buf_consume(&c->q, k);
		if (c->window != ESPAT_MEM_WINDOW_OPEN)
			c->window -= k;
		c->read_total += k;
	}
	if (c->q.len)
		return;
	if (c->owe_drained && c->sock) {
		c->owe_drained = false;
		raise_drained(c->net, c->sock);
	}
	if (c->closed_by_module == ESPAT_MEM_CLOSED_GRACEFUL)
		c->fin = true;
}

/* Whether port is taken for a new socket of that protocol. Accepted sockets
 * share their listener's port and never count. */
static bool port_taken(const struct espat_net_mem *n, bool udp, uint16_t port, bool reuse)
{
	for (size_t i = 0; i < ESPAT_NET_MEM_SOCKS; i++) {
		const struct espat_mem_sock *s = n->socks[i];
		if (!s || (s->kind == SK_UDP) != udp || s->local_port != port)
			continue;
		if ((s->conn && s->conn->inbound) || (reuse && s->reuse))
			continue;
		return true;
	}
	return false;
}

static uint16_t ephemeral_port(struct espat_net_mem *n, bool udp)
{
	uint16_t *next = udp ? &n->eph_udp : &n->eph_tcp;
	for (;;) { /* ends: at most ESPAT_NET_MEM_SOCKS ports are taken */
		uint16_t p = *next;
		*next = p == 65535 ? 49152 : (uint16_t)(p + 1);
		if (!port_taken(n, udp, p, false))
			return p;
	}
}

/* ---- scripting tables ---- */

static struct espat_mem_host *host_find(struct espat_net_mem *n, const struct espat_ip *ip)
{
	for (size_t i = 0; i < ESPAT_NET_MEM_HOSTS; i++)
		if (n->hosts[i].used && espat_mem_ip_eq(&n->hosts[i].ip, ip))
			return &n->hosts[i];
	return NULL;
}

static struct espat_mem_host *host_get(struct espat_net_mem *n, const struct espat_ip *ip)
{
	struct espat_mem_host *h = host_find(n, ip);
	for (size_t i = 0; !h && i < ESPAT_NET_MEM_HOSTS; i++) {
		if (!n->hosts[i].used) {
			h = &n->hosts[i];
			*h = (struct espat_mem_host){.used = true, .ip = *ip};
		}
	}
	return h;
}

static int server_find(const struct espat_net_mem *n, const struct espat_endpoint *ep)
{
	for (size_t i = 0; i < ESPAT_NET_MEM_SERVERS; i++)
		if (n->served[i] && espat_mem_ep_eq(&n->servers[i], ep))
			return (int)i;
	return -1;
}

int espat_net_mem_serve(struct espat_net_mem *n, struct espat_endpoint ep)
{
	if (server_find(n, &ep) >= 0)
		return 0;
	for (size_t i = 0; i < ESPAT_NET_MEM_SERVERS; i++) {
		if (!n->served[i]) {
			n->served[i] = true;
			n->servers[i] = ep;
			return 0;
		}
	}
	return -1;
}

void espat_net_mem_unserve(struct espat_net_mem *n, struct espat_endpoint ep)
{
	int i = server_find(n, &ep);
	if (i >= 0)
		n->served[i] = false;
}

int espat_net_mem_blackhole(struct espat_net_mem *n, struct espat_ip ip)
{
	struct espat_mem_host *h = host_get(n, &ip);
	if (!h)
		return -1;
	h->blackhole = true;
	return 0;
}

int espat_net_mem_unreachable(struct espat_net_mem *n, struct espat_ip ip)
{
	struct espat_mem_host *h = host_get(n, &ip);
	if (!h)
		return -1;
	h->unreachable = true;
	return 0;
}

int espat_net_mem_ping_host(struct espat_net_mem *n, struct espat_ip ip, uint32_t rtt_ms)
{
	struct espat_mem_host *h = host_get(n, &ip);
	if (!h)
		return -1;
	h->pings = true;
	h->rtt_ms = rtt_ms;
	return 0;
}

struct espat_mem_conn *espat_net_mem_conn(struct espat_net_mem *n, size_t i)
{
	return i < n->nconns ? n->conns[i] : NULL;
}

size_t espat_net_mem_nconns(const struct espat_net_mem *n)
{
	return n->nconns;
}

struct espat_mem_conn *espat_net_mem_last_conn(struct espat_net_mem *n)
{
	return n->nconns ? n->conns[n->nconns - 1] : NULL;
}

struct espat_mem_conn *espat_net_mem_connect(struct espat_net_mem *n, uint16_t port,
                                             struct espat_endpoint peer)
{
	struct espat_mem_sock *l = NULL;
	for (size_t i = 0; i < ESPAT_NET_MEM_SOCKS && !l; i++)
		if (n->socks[i] && n->socks[i]->kind == SK_LISTEN &&
		    n->socks[i]->local_port == port)
			l = n->socks[i];
	if (!l || n->nconns == ESPAT_NET_MEM_CONNS)
		return NULL;
	struct espat_mem_sock *s = sock_new(n, SK_TCP, NULL);
	if (!s)
		return NULL;
	s->state = ST_OPEN;
	s->paused = true;
	s->v6 = l->v6;
	s->local_port = port;
	s->remote = peer;
	struct espat_mem_conn *c = conn_new(n, s, true);
	if (!c) {
		sock_destroy(n, s);
		return NULL;
	}
	c->established = true;
	ev_push(n, EV_ACCEPTED, l, NULL, 0, now_of(n))->child = s;
	return c;
}

int espat_mem_conn_send(struct espat_mem_conn *c, const void *p, size_t len)
{
	if (!c->sock || c->peer_closed || c->peer_reset)
		return -1;
	if (buf_add(&c->in, p, len) < 0)
		return -1;
	if (len)
		kick(c->net, c->sock);
	return 0;
}

void espat_mem_conn_set_chunk(struct espat_mem_conn *c, size_t max)
{
	c->chunk = max;
}

size_t espat_mem_conn_take(struct espat_mem_conn *c, void *buf, size_t cap)
{
	size_t k = c->rx.len - c->taken;
	if (k > cap)
		k = cap;
	if (k)
		memcpy(buf, c->rx.p + c->taken, k);
	c->taken += k;
	conn_pump(c); /* a peer that reads makes room */
	return k;
}

const uint8_t *espat_mem_conn_view(const struct espat_mem_conn *c, size_t *len)
{
	*len = c->rx.len;
	return c->rx.p ? c->rx.p : (const uint8_t *)"";
}

void espat_mem_conn_close(struct espat_mem_conn *c)
{
	if (c->peer_closed || c->peer_reset)
		return;
	c->peer_closed = true;
	if (c->sock)
		kick(c->net, c->sock);
}

void espat_mem_conn_reset(struct espat_mem_conn *c)
{
	if (c->peer_reset)
		return;
	c->peer_reset = true;
	buf_free(&c->q);
	c->owe_drained = false;
	struct espat_mem_sock *s = c->sock;
	if (!s)
		return;
	if (s->state == ST_CONNECTING) {
		struct espat_mem_ev *e = ev_find(c->net, EV_CONNECTED, s);
		if (e)
			e->err = ESPAT_NET_ERESET;
		return;
	}
	kick(c->net, s);
}

void espat_mem_conn_set_window(struct espat_mem_conn *c, size_t bytes)
{
	c->window = bytes;
	conn_pump(c);
}

void espat_mem_conn_read_more(struct espat_mem_conn *c, size_t bytes)
{
	if (c->window != ESPAT_MEM_WINDOW_OPEN)
		c->window = bytes > ESPAT_MEM_WINDOW_OPEN - 1 - c->window
		                ? ESPAT_MEM_WINDOW_OPEN - 1
		                : c->window + bytes;
	conn_pump(c);
}

/* ---- UDP peers ---- */

static struct espat_mem_udp_peer *udp_find(struct espat_net_mem *n, const struct espat_endpoint *ep)
{
	for (size_t i = 0; i < ESPAT_NET_MEM_UDP_PEERS; i++)
		if (n->udp[i].used && espat_mem_ep_eq(&n->udp[i].ep, ep))
			return &n->udp[i];
	return NULL;
}

struct espat_mem_udp_peer *espat_net_mem_udp_peer(struct espat_net_mem *n, struct espat_endpoint ep)
{
	struct espat_mem_udp_peer *u = udp_find(n, &ep);
	for (size_t i = 0; !u && i < ESPAT_NET_MEM_UDP_PEERS; i++) {
		if (!n->udp[i].used) {
			u = &n->udp[i];
			*u = (struct espat_mem_udp_peer){.net = n, .used = true, .ep = ep};
		}
	}
	return u;
}

int espat_mem_udp_send(struct espat_mem_udp_peer *peer, uint16_t module_port, const void *p,
                       size_t len)
{
	struct espat_net_mem *n = peer->net;
	if (len > ESPAT_NET_MEM_DGRAM_MAX)
		return -1;
	struct espat_mem_sock *s = NULL;
	for (size_t i = 0; i < ESPAT_NET_MEM_SOCKS; i++) {
		struct espat_mem_sock *k = n->socks[i];
		if (k && k->kind == SK_UDP && k->local_port == module_port &&
		    k->v6 == peer->ep.ip.v6 && (!s || k->id < s->id))
			s = k;
	}
	if (!s || s->udp_n == ESPAT_NET_MEM_UDP_QUEUE)
		return -1;
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -1;
	if (len)
		memcpy(copy, p, len);
	s->udp[(s->udp_head + s->udp_n) % ESPAT_NET_MEM_UDP_QUEUE] =
	    (struct udp_in){.from = peer->ep, .p = copy, .len = len};
	s->udp_n++;
	kick(n, s);
	return 0;
}

void espat_mem_udp_clear(struct espat_mem_udp_peer *peer)
{
	for (size_t i = 0; i < peer->n; i++)
		free(peer->dgrams[i].data);
	free(peer->dgrams);
	peer->dgrams = NULL;
	peer->n = peer->cap = 0;
	peer->dropped = 0;
}

/* A module datagram reaching a peer. */
static int udp_record(struct espat_mem_udp_peer *u, const struct espat_endpoint *from,
                      const uint8_t *p, size_t len)
{
	if (u->n == ESPAT_NET_MEM_DGRAMS) {
		u->dropped++;
		return 0;
	}
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 16;
		struct espat_mem_dgram *d = realloc(u->dgrams, cap * sizeof(*d));
		if (!d)
			return ESPAT_NET_ENOMEM;
		u->dgrams = d;
		u->cap = cap;
	}
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return ESPAT_NET_ENOMEM;
	if (len)
		memcpy(copy, p, len);
	u->dgrams[u->n++] = (struct espat_mem_dgram){.from = *from, .data = copy, .len = len};
	return 0;
}

/* ---- DNS table ---- */

static bool dns_name_ok(const char *name)
{
	size_t len = strnlen(name, ESPAT_DNS_NAME_MAX + 1);
	return len > 0 && len <= ESPAT_DNS_NAME_MAX;
}

static int dns_row(struct espat_net_mem *n, const char *name, struct espat_ip ip, int err)
{
	if (!dns_name_ok(name))
		return -1;
	for (size_t i = 0; i < ESPAT_NET_MEM_DNS; i++) {
		struct espat_mem_dns *d = &n->dns[i];
		if (d->used)
			continue;
		*d = (struct espat_mem_dns){.used = true, .ip = ip, .err = err};
		memcpy(d->name, name, strlen(name) + 1);
		return 0;
	}
	return -1;
}

int espat_net_mem_dns_add(struct espat_net_mem *n, const char *name, struct espat_ip ip)
{
	return dns_row(n, name, ip, 0);
}

int espat_net_mem_dns_fail(struct espat_net_mem *n, const char *name, int err)
{
	if (err == 0)
		return -1;
	return dns_row(n, name, (struct espat_ip){0}, err);
}

/* The answer for a name: 0 with *ip, or an error. A failure row for the
 * name wins over its addresses; "*" applies to names with no row. */
static int dns_lookup(const struct espat_net_mem *n, const char *name, enum espat_dns_family fam,
                      struct espat_ip *ip)
{
	const struct espat_ip *v4 = NULL, *v6 = NULL;
	bool known = false;
	int fail = 0, any_fail = 0;
	for (size_t i = 0; i < ESPAT_NET_MEM_DNS; i++) {
		const struct espat_mem_dns *d = &n->dns[i];
		if (!d->used)
			continue;
		if (strcasecmp(d->name, name) != 0) {
			if (d->err && strcmp(d->name, "*") == 0 && !any_fail)
				any_fail = d->err;
			continue;
		}
		known = true;
		if (d->err && !fail)
			fail = d->err;
		else if (!d->err && d->ip.v6 && !v6)
			v6 = &d->ip;
		else if (!d->err && !d->ip.v6 && !v4)
			v4 = &d->ip;
	}
	if (fail)
		return fail;
	if (!known && any_fail)
		return any_fail;
	const struct espat_ip *pick = fam == ESPAT_DNS_V4_ONLY   ? v4
	                              : fam == ESPAT_DNS_V6_ONLY ? v6
	                              : v4                       ? v4
	                                                         : v6;
	if (!pick)
		return ESPAT_NET_ENOTFOUND;
	*ip = *pick;
	return 0;
}

/* ---- requests ---- */

static struct espat_mem_req *req_new(struct espat_net_mem *n, int *err)
{
	for (size_t i = 0; i < ESPAT_NET_MEM_REQS; i++) {
		if (n->reqs[i])
			continue;
		n->reqs[i] = calloc(1, sizeof(struct espat_mem_req));
		if (!n->reqs[i])
			break;
		return n->reqs[i];
	}
	set_err(err, ESPAT_NET_ENOMEM);
	return NULL;
}

static void req_free(struct espat_net_mem *n, struct espat_mem_req *r)
{
	for (size_t i = 0; i < ESPAT_NET_MEM_REQS; i++)
		if (n->reqs[i] == r)
			n->reqs[i] = NULL;
	for (size_t i = 0; i < ESPAT_NET_MEM_EVENTS; i++)
		if (n->ev[i].kind != EV_NONE && n->ev[i].req == r) {
			n->ev[i].kind = EV_NONE;
			n->nev--;
		}
	free(r);
}

/* ---- the port ---- */

static struct espat_sock *p_open(void *user, const struct espat_sock_opts *o,
                                 const struct espat_sock_cbs *cb, void *cbuser, int *err)
{
	struct espat_net_mem *n = user;
	bool udp = o->kind == ESPAT_SOCK_UDP;
	if ((!udp && o->remote.port == 0) || (udp && o->tls) ||
	    (udp && o->mcast && (!is_mcast(&o->group) || o->group.v6 != o->remote.ip.v6))) {
		set_err(err, ESPAT_NET_EINVAL);
		return NULL;
	}
	if (o->local_port && port_taken(n, udp, o->local_port, o->reuse)) {
		set_err(err, ESPAT_NET_EADDRINUSE);
		return NULL;
	}
	struct espat_mem_sock *s = sock_new(n, udp ? SK_UDP : SK_TCP, err);
	if (!s)
		return NULL;
	if (cb)
		s->cb = *cb;
	s->user = cbuser;
	s->v6 = o->remote.ip.v6;
	s->reuse = o->reuse;
	s->remote = o->remote;
	s->local_port = o->local_port ? o->local_port : ephemeral_port(n, udp);
	if (udp) {
		s->state = ST_OPEN;
		return (struct espat_sock *)s;
	}
	s->state = ST_CONNECTING;
	uint64_t due = now_of(n) + n->connect_ms;
	const struct espat_mem_host *h = host_find(n, &o->remote.ip);
	if (h && h->blackhole)
		return (struct espat_sock *)s; /* the SYN goes nowhere */
	if (h && h->unreachable) {
		ev_push(n, EV_CONNECTED, s, NULL, ESPAT_NET_EUNREACH, due);
	} else if (server_find(n, &o->remote) < 0) {
		ev_push(n, EV_CONNECTED, s, NULL, ESPAT_NET_EREFUSED, due);
	} else if (!conn_new(n, s, false)) {
		sock_destroy(n, s);
		set_err(err, ESPAT_NET_ENOMEM);
		return NULL;
	} else {
		if (o->tls) { /* the stand-in: what was asked, bytes in clear */
			s->conn->tls = true;
			s->conn->tls_verify = o->tls->ca != NULL;
			s->conn->tls_cert = o->tls->cert != NULL;
			if (o->tls->sni)
				snprintf(s->conn->tls_sni, sizeof(s->conn->tls_sni), "%s",
				         o->tls->sni);
		}
		ev_push(n, EV_CONNECTED, s, NULL, 0, due);
	}
	return (struct espat_sock *)s;
}

static struct espat_sock *p_listen(void *user, uint16_t port, bool v6,
                                   const struct espat_tls_opts *tls,
                                   const struct espat_sock_cbs *cb, void *cbuser, int *err)
{
	struct espat_net_mem *n = user;
	if (port == 0 || tls) { /* no TLS on the in-memory network */
		set_err(err, ESPAT_NET_EINVAL);
		return NULL;
	}
	if (port_taken(n, false, port, false)) {
		set_err(err, ESPAT_NET_EADDRINUSE);
		return NULL;
	}
	struct espat_mem_sock *s = sock_new(n, SK_LISTEN, err);
	if (!s)
		return NULL;
	if (cb)
		s->cb = *cb;
	s->user = cbuser;
	s->state = ST_OPEN;
	s->v6 = v6;
	s->local_port = port;
	return (struct espat_sock *)s;
}

static void p_attach(void *user, struct espat_sock *sock, const struct espat_sock_cbs *cb,
                     void *cbuser)
{
	struct espat_mem_sock *s = msock(sock);
	s->cb = cb ? *cb : (struct espat_sock_cbs){0};
	s->user = cbuser;
}

static int udp_out(struct espat_net_mem *n, struct espat_mem_sock *s, const uint8_t *p, size_t len,
                   const struct espat_endpoint *to)
{
	const struct espat_endpoint *dst = to ? to : &s->remote;
	if (dst->port == 0 || dst->ip.v6 != s->v6 || len > ESPAT_NET_MEM_DGRAM_MAX)
		return ESPAT_NET_EINVAL;
	const struct espat_mem_host *h = host_find(n, &dst->ip);
	if (h && (h->blackhole || h->unreachable))
		return 0; /* UDP does not know */
	struct espat_mem_udp_peer *u = udp_find(n, dst);
	if (!u) {
		n->udp_unrouted++;
		return 0;
	}
	struct espat_endpoint from = local_ep(s);
	return udp_record(u, &from, p, len);
}

/* drained() after a send() once nothing is queued, as the posix port does
 * (even when the bytes went at once): at most one is queued. */
static void raise_drained(struct espat_net_mem *n, struct espat_mem_sock *s)
{
	if (!ev_find(n, EV_DRAINED, s))
		ev_push(n, EV_DRAINED, s, NULL, 0, now_of(n));
}

static int p_send(void *user, struct espat_sock *sock, const uint8_t *p, size_t len,
                  const struct espat_endpoint *to)
{
	struct espat_mem_sock *s = msock(sock);
	if (s->kind == SK_LISTEN)
		return ESPAT_NET_EINVAL;
	if (s->kind == SK_UDP) {
		int err = udp_out(user, s, p, len, to);
		if (err == 0)
			raise_drained(user, s);
		return err;
	}
	if (s->state == ST_DEAD)
		return s->dead_err;
	struct espat_mem_conn *c = s->conn;
	if (c && c->peer_reset)
		return ESPAT_NET_ERESET;
	/* while connecting, bytes wait for the connection like in a kernel */
	if (buf_add(c ? &c->q : &s->pending, p, len) < 0)
		return ESPAT_NET_ENOMEM;
	if (c) {
		c->owe_drained = true;
		conn_pump(c);
	}
	return 0;
}

static size_t p_queued(void *user, struct espat_sock *sock)
{
	struct espat_mem_sock *s = msock(sock);
	return s->conn ? s->conn->q.len : s->pending.len;
}

static void p_pause(void *user, struct espat_sock *sock, bool paused)
{
	struct espat_mem_sock *s = msock(sock);
	s->paused = paused;
	if (!paused && has_input(s))
		kick(user, s);
}

static int p_set_tcpopt(void *user, struct espat_sock *sock, const struct espat_tcpopt *o)
{
	struct espat_mem_sock *s = msock(sock);
	if (s->kind != SK_TCP || !o)
		return ESPAT_NET_EINVAL;
	if (s->conn) {
		s->conn->tcpopt_set = true;
		s->conn->tcpopt = *o;
	}
	return 0;
}

static void p_endpoints(void *user, struct espat_sock *sock, struct espat_endpoint *local,
                        struct espat_endpoint *remote)
{
	struct espat_mem_sock *s = msock(sock);
	if (local)
		*local = local_ep(s);
	if (remote)
		*remote = s->remote;
}

static void p_close(void *user, struct espat_sock *sock, enum espat_close_how how)
{
	struct espat_mem_sock *s = msock(sock);
	struct espat_mem_conn *c = s->conn;
	if (c) {
		/* SO_LINGER on with 0 s turns a close into a reset, as in a kernel */
		bool abort_ =
		    how == ESPAT_CLOSE_ABORT || (c->tcpopt_set && c->tcpopt.linger_s == 0);
		c->sock = NULL;
		c->closed_by_module = abort_ ? ESPAT_MEM_CLOSED_ABORT : ESPAT_MEM_CLOSED_GRACEFUL;
		c->established = true; /* a connect in progress completes in the background */
		c->owe_drained = false;
		buf_free(&c->in);
		if (abort_)
			buf_free(&c->q);
		else
			conn_pump(c);
	}
	sock_destroy(user, s);
}

static struct espat_dns_req *p_resolve(void *user, const struct espat_dns_query *q,
                                       espat_dns_fn *done, void *cbuser, int *err)
{
	struct espat_net_mem *n = user;
	if (!q || !q->name || !done || !dns_name_ok(q->name)) {
		set_err(err, ESPAT_NET_EINVAL);
		return NULL;
	}
	struct espat_mem_req *r = req_new(n, err);
	if (!r)
		return NULL;
	r->dns_done = done;
	r->user = cbuser;
	uint64_t due = now_of(n);
	struct espat_ip lit;
	if (parse_ip(q->name, &lit)) {
		/* a literal is its own answer: no server is asked */
		if ((lit.v6 && q->family == ESPAT_DNS_V4_ONLY) ||
		    (!lit.v6 && q->family == ESPAT_DNS_V6_ONLY))
			r->err = ESPAT_NET_ENOTFOUND;
		else
			r->ip = lit;
	} else {
		struct espat_mem_dns_seen *seen = &n->dns_last;
		memcpy(seen->name, q->name, strlen(q->name) + 1);
		seen->family = q->family;
		seen->nservers =
		    q->nservers < ESPAT_DNS_SERVERS_MAX ? q->nservers : ESPAT_DNS_SERVERS_MAX;
		memset(seen->servers, 0, sizeof(seen->servers));
		memcpy(seen->servers, q->servers, seen->nservers * sizeof(seen->servers[0]));
		seen->timeout_ms = q->timeout_ms;
		n->dns_queries++;
		uint32_t t = q->timeout_ms ? q->timeout_ms : ESPAT_NET_MEM_DNS_TIMEOUT;
		r->err = dns_lookup(n, q->name, q->family, &r->ip);
		if (r->err == ESPAT_NET_ETIMEDOUT || n->dns_ms >= t) {
			r->err = ESPAT_NET_ETIMEDOUT;
			due += t;
		} else {
			due += n->dns_ms;
		}
	}
	ev_push(n, EV_DNS, NULL, r, 0, due);
	return (struct espat_dns_req *)r;
}

static void p_req_cancel(void *user, struct espat_mem_req *r)
{
	if (r)
		req_free(user, r);
}

static void p_resolve_cancel(void *user, struct espat_dns_req *r)
{
	p_req_cancel(user, (struct espat_mem_req *)r);
}

static struct espat_ping_req *p_ping(void *user, const struct espat_ip *ip, uint32_t timeout_ms,
                                     espat_ping_fn *done, void *cbuser, int *err)
{
	struct espat_net_mem *n = user;
	if (!ip || !done) {
		set_err(err, ESPAT_NET_EINVAL);
		return NULL;
	}
	struct espat_mem_req *r = req_new(n, err);
	if (!r)
		return NULL;
	r->ping = true;
	r->ping_done = done;
	r->user = cbuser;
	n->pings++;
	n->ping_last = *ip;
	uint32_t t = timeout_ms ? timeout_ms : ESPAT_NET_MEM_PING_TIMEOUT;
	uint64_t due = now_of(n);
	const struct espat_mem_host *h = host_find(n, ip);
	if (h && h->unreachable && !h->blackhole) {
		r->err = ESPAT_NET_EUNREACH;
	} else if (h && h->pings && !h->blackhole && h->rtt_ms < t) {
		r->rtt_ms = h->rtt_ms;
		due += h->rtt_ms;
	} else {
		r->err = ESPAT_NET_ETIMEDOUT;
		due += t;
	}
	ev_push(n, EV_PING, NULL, r, 0, due);
	return (struct espat_ping_req *)r;
}

static void p_ping_cancel(void *user, struct espat_ping_req *r)
{
	p_req_cancel(user, (struct espat_mem_req *)r);
}

struct espat_net espat_net_mem_port(struct espat_net_mem *n)
{
	return (struct espat_net){
	    .open = p_open,
	    .listen = p_listen,
	    .attach = p_attach,
	    .send = p_send,
	    .queued = p_queued,
	    .pause = p_pause,
	    .set_tcpopt = p_set_tcpopt,
	    .endpoints = p_endpoints,
	    .close = p_close,
	    .resolve = p_resolve,
	    .resolve_cancel = p_resolve_cancel,
	    .ping = p_ping,
	    .ping_cancel = p_ping_cancel,
	    .user = n,
	};
}

/* ---- delivery ---- */

/* Copies the bytes for data() into n->scratch: the callback may close s,
 * which frees the buffer they came from. */
static const uint8_t *scratch_fill(struct espat_net_mem *n, const uint8_t *p, size_t len)
{
	n->scratch.len = 0;
	if (buf_add(&n->scratch, p, len) < 0)
		abort(); /* len <= ESPAT_NET_MEM_BUF_MAX; only out of memory */
	return n->scratch.p;
}

static void deliver_readable(struct espat_net_mem *n, struct espat_mem_sock *s)
{
	if (s->state != ST_OPEN || s->paused || !has_input(s))
		return; /* raised again by connected() / pause(false) */
	if (s->kind == SK_UDP) {
		/* the datagram leaves the socket's queue first: data() may close s */
		struct udp_in d = s->udp[s->udp_head];
		s->udp_head = (s->udp_head + 1) % ESPAT_NET_MEM_UDP_QUEUE;
		s->udp_n--;
		if (s->udp_n)
			kick(n, s);
		if (s->cb.data)
			s->cb.data(s->user, d.p, d.len, &d.from);
		free(d.p);
		return;
	}
	struct espat_mem_conn *c = s->conn;     /* has_input: not NULL */
	struct espat_endpoint from = s->remote; /* a copy: data() may close s */
	if (c->in.len) {
		size_t k = c->chunk && c->chunk < c->in.len ? c->chunk : c->in.len;
		const uint8_t *p = scratch_fill(n, c->in.p, k);
		buf_consume(&c->in, k);
		if (has_input(s))
			kick(n, s); /* the rest, or the FIN, after what is queued */
		if (s->cb.data)
			s->cb.data(s->user, p, k, &from);
		return;
	}
	/* every byte is handed over: now the FIN or RST, once */
	int err = c->peer_reset ? ESPAT_NET_ERESET : 0;
	s->fin_told = true;
	if (err) {
		s->state = ST_DEAD;
		s->dead_err = err;
	}
	if (s->cb.closed)
		s->cb.closed(s->user, err);
}

static void deliver(struct espat_net_mem *n, const struct espat_mem_ev *e)
{
	struct espat_mem_sock *s = e->sock;
	switch ((enum ev_kind)e->kind) {
	case EV_CONNECTED:
		s->state = e->err ? ST_DEAD : ST_OPEN;
		s->dead_err = e->err;
		buf_free(&s->pending); /* only sockets that never connect have any */
		if (!e->err && s->conn) {
			s->conn->established = true;
			conn_pump(s->conn); /* what was sent while connecting */
			if (has_input(s))
				kick(n, s);
		}
		if (s->cb.connected)
			s->cb.connected(s->user, e->err);
		break;
	case EV_READABLE:
		deliver_readable(n, s);
		break;
	case EV_DRAINED:
		if (s->cb.drained)
			s->cb.drained(s->user);
		break;
	case EV_ACCEPTED:
		if (!s->cb.accepted) {
			p_close(n, (struct espat_sock *)e->child, ESPAT_CLOSE_ABORT);
			break;
		}
		s->cb.accepted(s->user, (struct espat_sock *)e->child);
		break;
	case EV_DNS:
	case EV_PING: {
		/* the request is over before done() runs: done() may start another */
		struct espat_mem_req r = *e->req;
		req_free(n, e->req);
		if (r.ping)
			r.ping_done(r.user, r.err, r.err ? 0 : r.rtt_ms);
		else
			r.dns_done(r.user, r.err, r.err ? NULL : &r.ip);
		break;
	}
	case EV_NONE:
		break;
	}
}

size_t espat_net_mem_run(struct espat_net_mem *n)
{
	if (n->running)
		return 0;
	n->running = true;
	size_t k = 0;
	struct espat_mem_ev e;
	/* bounded: data arrives only from the test, so this ends; the cap only
	 * turns a bug into a stall instead of a hang */
	while (k < 1000000 && ev_pop_due(n, &e)) {
		deliver(n, &e);
		k++;
	}
	n->running = false;
	return k;
}

/* ---- life ---- */

void espat_net_mem_init(struct espat_net_mem *n, const uint64_t *now)
{
	memset(n, 0, sizeof(*n));
	n->now = now;
	n->local_v4 = espat_ip4(192, 168, 3, 112);
	n->local_v6 = espat_mem_ip("fe80::3685:18ff:fe12:3456");
	n->eph_tcp = 49152;
	n->eph_udp = 49152;
}

void espat_net_mem_free(struct espat_net_mem *n)
{
	for (size_t i = 0; i < ESPAT_NET_MEM_EVENTS; i++)
		n->ev[i].kind = EV_NONE; /* no purging of children: they are in socks[] */
	n->nev = 0;
	for (size_t i = 0; i < ESPAT_NET_MEM_SOCKS; i++)
		if (n->socks[i])
			sock_destroy(n, n->socks[i]);
	for (size_t i = 0; i < n->nconns; i++) {
		struct espat_mem_conn *c = n->conns[i];
		buf_free(&c->in);
		buf_free(&c->q);
		buf_free(&c->rx);
		free(c);
	}
	for (size_t i = 0; i < ESPAT_NET_MEM_REQS; i++)
		free(n->reqs[i]);
	for (size_t i = 0; i < ESPAT_NET_MEM_UDP_PEERS; i++)
		if (n->udp[i].used)
			espat_mem_udp_clear(&n->udp[i]);
	buf_free(&n->scratch);
	memset(n, 0, sizeof(*n));
}
