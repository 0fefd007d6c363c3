#include "world/netfault.h"

#include <stdlib.h>
#include <string.h>

/* What a held item is. Inbound items wait in a socket's `in` queue for
 * the owner; NF_SEND items in its `out` queue for the lower port. */
enum nf_ev {
	NF_CONNECTED, /* err */
	NF_DATA,      /* p[n], ep = from (has_ep) */
	NF_CLOSED,    /* err */
	NF_DRAINED,
	NF_ACCEPTED, /* child */
	NF_SEND,     /* p[n], ep = to (has_ep) */
};

struct nf_item {
	struct nf_item *next;
	uint64_t due;
	enum nf_ev ev;
	int err;
	bool has_ep;
	struct espat_endpoint ep;
	struct espat_nf_sock *child;
	size_t n;
	uint8_t p[];
};

struct nf_queue {
	struct nf_item *head, *tail;
	size_t bytes;
};

struct espat_nf_sock {
	struct espat_netfault *f;
	struct espat_nf_sock *next;
	struct espat_sock *low; /* NULL: blackholed, refused, or dropped */
	struct espat_sock_cbs cb;
	void *cbuser;
	enum espat_sock_kind kind;
	bool listener;
	bool up;          /* TCP: connected (or accepted) */
	bool dead;        /* dropped or timed out: sends fail */
	bool user_paused; /* the owner's pause() */
	bool low_paused;  /* what the lower socket was told */
	bool frozen;
	uint64_t frozen_at;
	uint32_t keepalive_s; /* set_tcpopt's */
	struct espat_endpoint remote;
	struct nf_queue in, out;
};

enum nf_req_kind { NF_REQ_DNS, NF_REQ_PING };

struct espat_nf_req {
	struct espat_netfault *f;
	struct espat_nf_req *next;
	enum nf_req_kind kind;
	void *low; /* the lower request while it runs */
	espat_dns_fn *dns_done;
	espat_ping_fn *ping_done;
	void *user;
	bool ready; /* answered: err, ip, rtt due at `due` */
	uint64_t due;
	uint64_t deadline; /* ping: ETIMEDOUT from here */
	int err;
	struct espat_ip ip;
	uint32_t rtt;
};

static uint64_t now(const struct espat_netfault *f)
{
	return f->now_ms(f->clock_user);
}

static void wake(struct espat_netfault *f)
{
	if (f->wake)
		f->wake(f->wake_user);
}

/* true with probability loss_pct %. */
static bool lost(struct espat_netfault *f)
{
	if (f->loss_pct == 0)
		return false;
	uint32_t x = f->rng;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	f->rng = x;
	return x % 100u < f->loss_pct;
}

/* The retransmissions a TCP chunk needs: their timeouts, summed. */
static uint64_t tcp_loss_delay(struct espat_netfault *f)
{
	uint64_t d = 0, rto = ESPAT_NETFAULT_RTO_MS;
	for (unsigned i = 0; i < ESPAT_NETFAULT_RETRIES && lost(f); i++) {
		d += rto;
		rto *= 2;
		f->tcp_retransmits++;
	}
	return d;
}

static bool ip_eq(const struct espat_ip *a, const struct espat_ip *b)
{
	return a->v6 == b->v6 && memcmp(a->a, b->a, a->v6 ? 16 : 4) == 0;
}

/* ---- queues ---------------------------------------------------------------- */

static struct nf_item *item_new(enum nf_ev ev, const uint8_t *p, size_t n)
{
	struct nf_item *it = calloc(1, sizeof(*it) + n);
	if (it == NULL)
		return NULL;
	it->ev = ev;
	it->n = n;
	if (n)
		memcpy(it->p, p, n);
	return it;
}

/* Appends it, due no earlier than the item before it (order is kept). */
static void q_push(struct nf_queue *q, struct nf_item *it, uint64_t due)
{
	if (q->tail && q->tail->due > due)
		due = q->tail->due;
	it->due = due;
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->bytes += it->n;
}

static struct nf_item *q_pop(struct nf_queue *q)
{
	struct nf_item *it = q->head;
	q->head = it->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->bytes -= it->n;
	it->next = NULL;
	return it;
}

static void sock_close(void *user, struct espat_sock *s, enum espat_close_how how);

static void q_clear(struct espat_netfault *f, struct nf_queue *q)
{
	while (q->head) {
		struct nf_item *it = q_pop(q);
		if (it->ev == NF_ACCEPTED)
			sock_close(f, (struct espat_sock *)it->child, ESPAT_CLOSE_ABORT);
		free(it);
	}
}

/* ---- sockets --------------------------------------------------------------- */

static struct espat_nf_sock *S(struct espat_sock *s)
{
	return (struct espat_nf_sock *)s;
}

/* The lower socket is paused while the owner, a freeze or a full hold
 * says so. */
static void sync_pause(struct espat_nf_sock *s)
{
	bool want = s->user_paused || s->frozen || s->in.bytes > ESPAT_NETFAULT_HOLD_MAX;
	if (s->low && want != s->low_paused) {
		s->low_paused = want;
		s->f->lower.pause(s->f->lower.user, s->low, want);
	}
}

/* An inbound event goes straight to the owner when nothing is held
 * before it and no fault delays it. */
static bool direct_in(const struct espat_nf_sock *s, uint64_t delay)
{
	return delay == 0 && !s->frozen && s->in.head == NULL;
}

static void hold_in(struct espat_nf_sock *s, struct nf_item *it, uint64_t delay)
{
	if (it == NULL)
		return; /* out of memory: the event is lost, as on a full stack */
	q_push(&s->in, it, now(s->f) + delay);
	sync_pause(s);
	wake(s->f);
}

static void on_connected(void *user, int err)
{
	struct espat_nf_sock *s = user;
	struct espat_netfault *f = s->f;
	uint64_t delay = 2ull * f->latency_ms;
	if (err == 0)
		s->up = true;
	if (err == 0 && s->out.head)
		wake(f); /* sends made while connecting go now */
	if (direct_in(s, delay)) {
		if (s->cb.connected)
			s->cb.connected(s->cbuser, err);
		return;
	}
	struct nf_item *it = item_new(NF_CONNECTED, NULL, 0);
	if (it)
		it->err = err;
	hold_in(s, it, delay);
}

static void on_data(void *user, const uint8_t *p, size_t n, const struct espat_endpoint *from)
{
	struct espat_nf_sock *s = user;
	struct espat_netfault *f = s->f;
	uint64_t delay = f->latency_ms;
	if (s->kind == ESPAT_SOCK_UDP) {
		if (lost(f)) {
			f->dgrams_lost++;
			return;
		}
	} else {
		delay += tcp_loss_delay(f);
	}
	if (direct_in(s, delay) && !s->user_paused) {
		if (s->cb.data)
			s->cb.data(s->cbuser, p, n, from);
		return;
	}
	struct nf_item *it = item_new(NF_DATA, p, n);
	if (it && from) {
		it->has_ep = true;
		it->ep = *from;
	}
	hold_in(s, it, delay);
}

static void on_closed(void *user, int err)
{
	struct espat_nf_sock *s = user;
	uint64_t delay = s->f->latency_ms;
	if (direct_in(s, delay)) {
		if (s->cb.closed)
			s->cb.closed(s->cbuser, err);
		return;
	}
	struct nf_item *it = item_new(NF_CLOSED, NULL, 0);
	if (it)
		it->err = err;
	hold_in(s, it, delay);
}

static void on_drained(void *user)
{
	struct espat_nf_sock *s = user;
	/* held sends are not drained yet: the lower port says so again
	 * after they went */
	if (s->out.head == NULL && s->cb.drained)
		s->cb.drained(s->cbuser);
}

static const struct espat_sock_cbs nf_cbs;

static struct espat_nf_sock *sock_new(struct espat_netfault *f, enum espat_sock_kind kind)
{
	struct espat_nf_sock *s = f->spare;
	if (s != NULL) {
		f->spare = s->next;
		f->nspare--;
		memset(s, 0, sizeof(*s));
	} else if ((s = calloc(1, sizeof(*s))) == NULL) {
		return NULL;
	}
	s->f = f;
	s->kind = kind;
	s->next = f->socks;
	f->socks = s;
	return s;
}

static void sock_unlink(struct espat_nf_sock *s)
{
	struct espat_nf_sock **pp = &s->f->socks;
	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (*pp)
		*pp = s->next;
}

/* A socket's memory, unlinked: kept for the next socket (a link opened
 * and closed over and over allocates nothing here), up to
 * ESPAT_NETFAULT_SPARE. */
static void sock_free(struct espat_nf_sock *s)
{
	struct espat_netfault *f = s->f;
	if (f->nspare >= ESPAT_NETFAULT_SPARE) {
		free(s);
		return;
	}
	s->next = f->spare;
	f->spare = s;
	f->nspare++;
}

static void on_accepted(void *user, struct espat_sock *low)
{
	struct espat_nf_sock *l = user;
	struct espat_netfault *f = l->f;
	struct espat_nf_sock *c = sock_new(f, ESPAT_SOCK_TCP);
	if (c == NULL) {
		f->lower.close(f->lower.user, low, ESPAT_CLOSE_ABORT);
		return;
	}
	c->low = low;
	c->up = true;
	c->user_paused = c->low_paused = true; /* handed over paused */
	f->lower.endpoints(f->lower.user, low, NULL, &c->remote);
	f->lower.attach(f->lower.user, low, &nf_cbs, c);
	uint64_t delay = f->latency_ms;
	if (direct_in(l, delay)) {
		if (l->cb.accepted)
			l->cb.accepted(l->cbuser, (struct espat_sock *)c);
		else
			sock_close(f, (struct espat_sock *)c, ESPAT_CLOSE_ABORT);
		return;
	}
	struct nf_item *it = item_new(NF_ACCEPTED, NULL, 0);
	if (it == NULL) {
		sock_close(f, (struct espat_sock *)c, ESPAT_CLOSE_ABORT);
		return;
	}
	it->child = c;
	hold_in(l, it, delay);
}

static const struct espat_sock_cbs nf_cbs = {
    .connected = on_connected,
    .data = on_data,
    .closed = on_closed,
    .drained = on_drained,
    .accepted = on_accepted,
};

static struct espat_sock *sock_open(void *user, const struct espat_sock_opts *o,
                                    const struct espat_sock_cbs *cb, void *cbuser, int *err)
{
	struct espat_netfault *f = user;
	enum espat_netfault_conn how = o->kind == ESPAT_SOCK_TCP
	                                   ? espat_netfault_conn_for(f, &o->remote)
	                                   : ESPAT_NETFAULT_CONN_OK;
	struct espat_nf_sock *s = sock_new(f, o->kind);
	if (s == NULL) {
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	s->cb = *cb;
	s->cbuser = cbuser;
	s->remote = o->remote;
	if (how != ESPAT_NETFAULT_CONN_OK) {
		/* nothing is opened: nothing answers, or a RST does */
		f->conns_faulted++;
		if (how == ESPAT_NETFAULT_CONN_REFUSE) {
			struct nf_item *it = item_new(NF_CONNECTED, NULL, 0);
			if (it == NULL) {
				sock_unlink(s);
				sock_free(s);
				*err = ESPAT_NET_ENOMEM;
				return NULL;
			}
			it->err = ESPAT_NET_EREFUSED;
			q_push(&s->in, it, now(f) + 2ull * f->latency_ms);
			wake(f);
		}
		return (struct espat_sock *)s;
	}
	s->low = f->lower.open(f->lower.user, o, &nf_cbs, s, err);
	if (s->low == NULL) {
		sock_unlink(s);
		sock_free(s);
		return NULL;
	}
	if (o->kind == ESPAT_SOCK_UDP)
		s->up = true;
	return (struct espat_sock *)s;
}

static struct espat_sock *sock_listen(void *user, uint16_t port, bool v6,
                                      const struct espat_tls_opts *tls,
                                      const struct espat_sock_cbs *cb, void *cbuser, int *err)
{
	struct espat_netfault *f = user;
	struct espat_nf_sock *s = sock_new(f, ESPAT_SOCK_TCP);
	if (s == NULL) {
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	s->listener = true;
	s->cb = *cb;
	s->cbuser = cbuser;
	s->low = f->lower.listen(f->lower.user, port, v6, tls, &nf_cbs, s, err);
	if (s->low == NULL) {
		sock_unlink(s);
		sock_free(s);
		return NULL;
	}
	return (struct espat_sock *)s;
}

static void sock_attach(void *user, struct espat_sock *sk, const struct espat_sock_cbs *cb,
                        void *cbuser)
{
	struct espat_nf_sock *s = S(sk);
	s->cb = *cb;
	s->cbuser = cbuser;
}

/* Hands a held send to the lower port. */
static void send_low(struct espat_nf_sock *s, const struct nf_item *it)
{
	struct espat_netfault *f = s->f;
	if (s->low)
		f->lower.send(f->lower.user, s->low, it->p, it->n, it->has_ep ? &it->ep : NULL);
}

static int sock_send(void *user, struct espat_sock *sk, const uint8_t *p, size_t n,
                     const struct espat_endpoint *to)
{
	struct espat_netfault *f = user;
	struct espat_nf_sock *s = S(sk);
	if (s->dead)
		return ESPAT_NET_ERESET;
	uint64_t delay = f->latency_ms;
	if (s->kind == ESPAT_SOCK_UDP) {
		const struct espat_endpoint *dst = to ? to : &s->remote;
		if (dst->port == 0)
			return f->lower.send(f->lower.user, s->low, p, n, to); /* its error */
		bool gone = espat_netfault_conn_for(f, dst) == ESPAT_NETFAULT_CONN_BLACKHOLE;
		if (gone || lost(f)) {
			/* into the void; drained() follows as for a datagram sent */
			if (!gone)
				f->dgrams_lost++;
			hold_in(s, item_new(NF_DRAINED, NULL, 0), 0);
			return 0;
		}
	} else if (s->up) {
		delay += tcp_loss_delay(f);
	}
	if (s->low && s->up && delay == 0 && !s->frozen && s->out.head == NULL)
		return f->lower.send(f->lower.user, s->low, p, n, to);
	struct nf_item *it = item_new(NF_SEND, p, n);
	if (it == NULL)
		return ESPAT_NET_ENOMEM;
	if (to) {
		it->has_ep = true;
		it->ep = *to;
	}
	/* before the connect ends (blackholed: forever) the bytes wait */
	q_push(&s->out, it, now(f) + delay);
	wake(f);
	return 0;
}

static size_t sock_queued(void *user, struct espat_sock *sk)
{
	struct espat_netfault *f = user;
	struct espat_nf_sock *s = S(sk);
	return s->out.bytes + (s->low ? f->lower.queued(f->lower.user, s->low) : 0);
}

static void sock_pause(void *user, struct espat_sock *sk, bool paused)
{
	struct espat_netfault *f = user;
	struct espat_nf_sock *s = S(sk);
	s->user_paused = paused;
	sync_pause(s);
	if (!paused && s->in.head)
		wake(f);
}

static int sock_set_tcpopt(void *user, struct espat_sock *sk, const struct espat_tcpopt *o)
{
	struct espat_netfault *f = user;
	struct espat_nf_sock *s = S(sk);
	s->keepalive_s = o->keepalive_s;
	if (s->low)
		return f->lower.set_tcpopt(f->lower.user, s->low, o);
	return 0;
}

static void sock_endpoints(void *user, struct espat_sock *sk, struct espat_endpoint *local,
                           struct espat_endpoint *remote)
{
	struct espat_netfault *f = user;
	struct espat_nf_sock *s = S(sk);
	if (s->low) {
		f->lower.endpoints(f->lower.user, s->low, local, remote);
		return;
	}
	if (local)
		*local = (struct espat_endpoint){.ip.v6 = s->remote.ip.v6};
	if (remote)
		*remote = s->remote;
}

static void sock_close(void *user, struct espat_sock *sk, enum espat_close_how how)
{
	struct espat_netfault *f = user;
	struct espat_nf_sock *s = S(sk);
	sock_unlink(s);
	if (s->low) {
		/* a graceful close sends what latency still held (early: the
		 * peer gets the tail without the delay); a frozen link's peer
		 * hears nothing until its own timeout, which a reset stands
		 * in for */
		if (s->frozen)
			how = ESPAT_CLOSE_ABORT;
		while (how == ESPAT_CLOSE_GRACEFUL && s->out.head) {
			struct nf_item *it = q_pop(&s->out);
			send_low(s, it);
			free(it);
		}
		f->lower.close(f->lower.user, s->low, how);
	}
	q_clear(f, &s->out);
	q_clear(f, &s->in);
	sock_free(s);
}

/* ---- DNS and ping ------------------------------------------------------------ */

static void req_unlink(struct espat_nf_req *r)
{
	struct espat_nf_req **pp = &r->f->reqs;
	while (*pp && *pp != r)
		pp = &(*pp)->next;
	if (*pp)
		*pp = r->next;
}

static struct espat_nf_req *req_new(struct espat_netfault *f, enum nf_req_kind kind, void *user)
{
	struct espat_nf_req *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->f = f;
	r->kind = kind;
	r->user = user;
	r->deadline = ESPAT_NETFAULT_NEVER;
	r->next = f->reqs;
	f->reqs = r;
	return r;
}

static void answer_at(struct espat_nf_req *r, uint64_t due)
{
	r->low = NULL;
	r->ready = true;
	r->due = due;
	wake(r->f);
}

static void on_resolved(void *user, int err, const struct espat_ip *ip)
{
	struct espat_nf_req *r = user;
	struct espat_netfault *f = r->f;
	if (f->latency_ms == 0) {
		espat_dns_fn *done = r->dns_done;
		void *u = r->user;
		req_unlink(r);
		free(r);
		done(u, err, ip);
		return;
	}
	r->err = err;
	if (ip)
		r->ip = *ip;
	answer_at(r, now(f) + 2ull * f->latency_ms);
}

/* An address literal asks no DNS server, so no DNS fault reaches it: a
 * name holding a ':' (IPv6), or made of digits and dots only (IPv4; a
 * host name's last label is never all digits). */
static bool is_literal(const char *name)
{
	if (strchr(name, ':'))
		return true;
	for (const char *p = name; *p; p++) {
		if ((*p < '0' || *p > '9') && *p != '.')
			return false;
	}
	return name[0] != '\0';
}

static struct espat_dns_req *dns_resolve(void *user, const struct espat_dns_query *q,
                                         espat_dns_fn *done, void *cbuser, int *err)
{
	struct espat_netfault *f = user;
	struct espat_nf_req *r = req_new(f, NF_REQ_DNS, cbuser);
	if (r == NULL) {
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	r->dns_done = done;
	enum espat_netfault_dns how =
	    is_literal(q->name) ? ESPAT_NETFAULT_DNS_OK : espat_netfault_dns_for(f, q->name);
	if (how != ESPAT_NETFAULT_DNS_OK) {
		f->dns_faulted++;
		r->err = ESPAT_NET_EDNS;
		uint32_t t = q->timeout_ms ? q->timeout_ms : ESPAT_NETFAULT_DNS_TIMEOUT_MS;
		answer_at(r, now(f) + (how == ESPAT_NETFAULT_DNS_HANG ? t : 2ull * f->latency_ms));
		return (struct espat_dns_req *)r;
	}
	r->low = f->lower.resolve(f->lower.user, q, on_resolved, r, err);
	if (r->low == NULL) {
		req_unlink(r);
		free(r);
		return NULL;
	}
	return (struct espat_dns_req *)r;
}

static void req_cancel(struct espat_nf_req *r)
{
	struct espat_netfault *f = r->f;
	if (r->low && r->kind == NF_REQ_DNS)
		f->lower.resolve_cancel(f->lower.user, r->low);
	else if (r->low)
		f->lower.ping_cancel(f->lower.user, r->low);
	req_unlink(r);
	free(r);
}

static void dns_cancel(void *user, struct espat_dns_req *r)
{
	req_cancel((struct espat_nf_req *)r);
}

static void on_pinged(void *user, int err, uint32_t rtt)
{
	struct espat_nf_req *r = user;
	struct espat_netfault *f = r->f;
	uint64_t extra = 2ull * f->latency_ms;
	r->err = err;
	r->rtt = err ? 0 : rtt + (uint32_t)extra;
	uint64_t due = now(f) + extra;
	if (err == 0 && due > r->deadline) {
		/* the added delay takes it past the timeout */
		r->err = ESPAT_NET_ETIMEDOUT;
		r->rtt = 0;
		due = r->deadline;
	}
	answer_at(r, due);
}

static struct espat_ping_req *ping_start(void *user, const struct espat_ip *ip, uint32_t timeout_ms,
                                         espat_ping_fn *done, void *cbuser, int *err)
{
	struct espat_netfault *f = user;
	struct espat_nf_req *r = req_new(f, NF_REQ_PING, cbuser);
	if (r == NULL) {
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	r->ping_done = done;
	if (f->lower.ping == NULL) {
		req_unlink(r);
		free(r);
		*err = ESPAT_NET_EIO;
		return NULL;
	}
	uint32_t t = timeout_ms ? timeout_ms : ESPAT_NETFAULT_PING_TIMEOUT_MS;
	r->deadline = now(f) + t;
	struct espat_endpoint ep = {.ip = *ip};
	bool gone = espat_netfault_conn_for(f, &ep) == ESPAT_NETFAULT_CONN_BLACKHOLE;
	/* the request or the reply is lost */
	if (gone || lost(f) || lost(f)) {
		r->err = ESPAT_NET_ETIMEDOUT;
		answer_at(r, r->deadline);
		return (struct espat_ping_req *)r;
	}
	r->low = f->lower.ping(f->lower.user, ip, timeout_ms, on_pinged, r, err);
	if (r->low == NULL) {
		req_unlink(r);
		free(r);
		return NULL;
	}
	return (struct espat_ping_req *)r;
}

static void ping_cancel(void *user, struct espat_ping_req *r)
{
	req_cancel((struct espat_nf_req *)r);
}

/* ---- the loop's side ----------------------------------------------------------- */

static uint64_t keepalive_death(const struct espat_nf_sock *s)
{
	if (!s->frozen || s->keepalive_s == 0 || s->dead || s->low == NULL)
		return ESPAT_NETFAULT_NEVER;
	return s->frozen_at + (uint64_t)s->keepalive_s * 1000u + 3000u; /* KEEPINTVL 1, CNT 3 */
}

/* The connection is gone under its owner: the lower socket is reset,
 * whatever was held is dropped, and the owner hears err. */
static void sock_kill(struct espat_nf_sock *s, int err)
{
	struct espat_netfault *f = s->f;
	if (s->low)
		f->lower.close(f->lower.user, s->low, ESPAT_CLOSE_ABORT);
	s->low = NULL;
	s->dead = true;
	s->frozen = false;
	q_clear(f, &s->in);
	q_clear(f, &s->out);
	struct nf_item *it = item_new(s->up ? NF_CLOSED : NF_CONNECTED, NULL, 0);
	if (it) {
		it->err = err;
		q_push(&s->in, it, now(f));
	}
	wake(f);
}

/* One due thing done; false when nothing was due. A callback may close
 * any socket or request, so the caller scans again from the start. */
static bool run_one(struct espat_netfault *f, uint64_t t)
{
	for (struct espat_nf_sock *s = f->socks; s; s = s->next) {
		if (keepalive_death(s) <= t) {
			sock_kill(s, ESPAT_NET_ETIMEDOUT);
			return true;
		}
		if (s->frozen)
			continue;
		while (s->out.head && s->out.head->due <= t && (s->up || s->dead)) {
			struct nf_item *it = q_pop(&s->out);
			send_low(s, it);
			free(it);
		}
		if (s->user_paused || s->in.head == NULL || s->in.head->due > t)
			continue;
		struct nf_item *it = q_pop(&s->in);
		sync_pause(s);
		void *u = s->cbuser;
		const struct espat_sock_cbs *cb = &s->cb;
		switch (it->ev) {
		case NF_CONNECTED:
			if (cb->connected)
				cb->connected(u, it->err);
			break;
		case NF_DATA:
			if (cb->data)
				cb->data(u, it->p, it->n, it->has_ep ? &it->ep : NULL);
			break;
		case NF_CLOSED:
			if (cb->closed)
				cb->closed(u, it->err);
			break;
		case NF_DRAINED:
			if (cb->drained)
				cb->drained(u);
			break;
		case NF_ACCEPTED:
			if (cb->accepted)
				cb->accepted(u, (struct espat_sock *)it->child);
			else
				sock_close(f, (struct espat_sock *)it->child, ESPAT_CLOSE_ABORT);
			break;
		case NF_SEND:
			break; /* never inbound */
		}
		free(it);
		return true;
	}
	for (struct espat_nf_req *r = f->reqs; r; r = r->next) {
		if (!r->ready || r->due > t)
			continue;
		req_unlink(r);
		if (r->kind == NF_REQ_DNS)
			r->dns_done(r->user, r->err, r->err ? NULL : &r->ip);
		else
			r->ping_done(r->user, r->err, r->rtt);
		free(r);
		return true;
	}
	return false;
}

void espat_netfault_run(struct espat_netfault *f)
{
	uint64_t t = now(f);
	/* bounded: each pass ends one held item or request */
	for (unsigned guard = 0; guard < 100000u && run_one(f, t); guard++)
		;
}

uint64_t espat_netfault_next_ms(const struct espat_netfault *f)
{
	uint64_t next = ESPAT_NETFAULT_NEVER;
	for (const struct espat_nf_sock *s = f->socks; s; s = s->next) {
		uint64_t k = keepalive_death(s);
		if (k < next)
			next = k;
		if (s->frozen)
			continue;
		if (s->out.head && (s->up || s->dead) && s->out.head->due < next)
			next = s->out.head->due;
		if (!s->user_paused && s->in.head && s->in.head->due < next)
			next = s->in.head->due;
	}
	for (const struct espat_nf_req *r = f->reqs; r; r = r->next) {
		if (r->ready && r->due < next)
			next = r->due;
	}
	return next;
}

/* ---- settings ------------------------------------------------------------------ */

static bool name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
		char y = (*b >= 'A' && *b <= 'Z') ? (char)(*b + 32) : *b;
		if (x != y)
			return false;
		if (x == '\0')
			return true;
	}
}

int espat_netfault_set_dns(struct espat_netfault *f, const char *name, enum espat_netfault_dns how)
{
	if (name == NULL)
		name = "";
	if (name[0] == '\0' && how == ESPAT_NETFAULT_DNS_OK) {
		f->ndns = 0;
		return 0;
	}
	if (strlen(name) > ESPAT_DNS_NAME_MAX)
		return -1;
	for (size_t i = 0; i < f->ndns; i++) {
		if (name_eq(f->dns[i].name, name)) {
			f->dns[i].how = how;
			return 0;
		}
	}
	if (f->ndns == ESPAT_NETFAULT_RULES)
		return -1;
	struct espat_netfault_dns_rule *r = &f->dns[f->ndns++];
	memcpy(r->name, name, strlen(name) + 1);
	r->how = how;
	return 0;
}

enum espat_netfault_dns espat_netfault_dns_for(const struct espat_netfault *f, const char *name)
{
	enum espat_netfault_dns all = ESPAT_NETFAULT_DNS_OK;
	for (size_t i = 0; i < f->ndns; i++) {
		if (f->dns[i].name[0] == '\0')
			all = f->dns[i].how;
		else if (name_eq(f->dns[i].name, name))
			return f->dns[i].how;
	}
	return all;
}

static bool conn_key_eq(const struct espat_netfault_conn_rule *r, const struct espat_ip *ip,
                        uint16_t port)
{
	if (r->port != port || r->any_host != (ip == NULL))
		return false;
	return ip == NULL || ip_eq(&r->ip, ip);
}

int espat_netfault_set_conn(struct espat_netfault *f, const struct espat_ip *ip, uint16_t port,
                            enum espat_netfault_conn how)
{
	if (ip == NULL && port == 0 && how == ESPAT_NETFAULT_CONN_OK) {
		f->nconn = 0;
		return 0;
	}
	for (size_t i = 0; i < f->nconn; i++) {
		if (conn_key_eq(&f->conn[i], ip, port)) {
			f->conn[i].how = how;
			return 0;
		}
	}
	if (f->nconn == ESPAT_NETFAULT_RULES)
		return -1;
	struct espat_netfault_conn_rule *r = &f->conn[f->nconn++];
	*r = (struct espat_netfault_conn_rule){.any_host = ip == NULL, .port = port, .how = how};
	if (ip)
		r->ip = *ip;
	return 0;
}

enum espat_netfault_conn espat_netfault_conn_for(const struct espat_netfault *f,
                                                 const struct espat_endpoint *ep)
{
	/* specificity: 3 address and port, 2 address, 1 every address (and
	 * port), 0 nothing */
	int best = 0;
	enum espat_netfault_conn how = ESPAT_NETFAULT_CONN_OK;
	for (size_t i = 0; i < f->nconn; i++) {
		const struct espat_netfault_conn_rule *r = &f->conn[i];
		if (!r->any_host && !ip_eq(&r->ip, &ep->ip))
			continue;
		if (r->port != 0 && r->port != ep->port)
			continue;
		int k = r->any_host ? 1 : r->port ? 3 : 2;
		if (k > best) {
			best = k;
			how = r->how;
		}
	}
	return how;
}

void espat_netfault_set_latency(struct espat_netfault *f, uint32_t ms)
{
	f->latency_ms = ms > ESPAT_NETFAULT_LATENCY_MAX ? ESPAT_NETFAULT_LATENCY_MAX : ms;
}

void espat_netfault_set_loss(struct espat_netfault *f, uint8_t pct)
{
	f->loss_pct = pct > 100 ? 100 : pct;
}

void espat_netfault_clear(struct espat_netfault *f)
{
	f->ndns = 0;
	f->nconn = 0;
	f->latency_ms = 0;
	f->loss_pct = 0;
	struct espat_netfault_match all = {.all = true};
	espat_netfault_freeze(f, &all, false);
}

/* ---- open sockets ----------------------------------------------------------------- */

static bool matches(struct espat_netfault *f, struct espat_nf_sock *s,
                    const struct espat_netfault_match *m)
{
	if (s->listener || s->dead)
		return false;
	if (m->all)
		return true;
	if (s->low == NULL)
		return false;
	struct espat_endpoint local = {0}, remote = {0};
	f->lower.endpoints(f->lower.user, s->low, &local, &remote);
	if (m->local_port && local.port != m->local_port)
		return false;
	if (s->kind == ESPAT_SOCK_UDP)
		return m->local_port != 0;
	return remote.port == m->remote.port && ip_eq(&remote.ip, &m->remote.ip);
}

size_t espat_netfault_freeze(struct espat_netfault *f, const struct espat_netfault_match *m,
                             bool on)
{
	size_t n = 0;
	uint64_t t = now(f);
	for (struct espat_nf_sock *s = f->socks; s; s = s->next) {
		if (!matches(f, s, m))
			continue;
		n++;
		if (s->frozen == on)
			continue;
		s->frozen = on;
		s->frozen_at = t;
		sync_pause(s);
	}
	if (n && !on)
		wake(f);
	return n;
}

size_t espat_netfault_drop_all(struct espat_netfault *f)
{
	size_t n = 0;
	for (struct espat_nf_sock *s = f->socks; s; s = s->next) {
		if (s->listener || s->dead || s->kind != ESPAT_SOCK_TCP || s->low == NULL)
			continue;
		sock_kill(s, ESPAT_NET_ERESET);
		n++;
	}
	return n;
}

size_t espat_netfault_frozen(const struct espat_netfault *f)
{
	size_t n = 0;
	for (const struct espat_nf_sock *s = f->socks; s; s = s->next)
		n += s->frozen;
	return n;
}

/* ---- life ---------------------------------------------------------------------------- */

void espat_netfault_init(struct espat_netfault *f, const struct espat_net *lower,
                         uint64_t (*now_ms)(void *), void *clock_user, void (*wake_fn)(void *),
                         void *wake_user)
{
	*f = (struct espat_netfault){
	    .lower = *lower,
	    .now_ms = now_ms,
	    .clock_user = clock_user,
	    .wake = wake_fn,
	    .wake_user = wake_user,
	    .rng = 0x9E3779B9u,
	};
}

void espat_netfault_free(struct espat_netfault *f)
{
	while (f->socks)
		sock_close(f, (struct espat_sock *)f->socks, ESPAT_CLOSE_ABORT);
	while (f->reqs)
		req_cancel(f->reqs);
	while (f->spare) {
		struct espat_nf_sock *s = f->spare;
		f->spare = s->next;
		free(s);
	}
	f->nspare = 0;
}

struct espat_net espat_netfault_port(struct espat_netfault *f)
{
	return (struct espat_net){
	    .open = sock_open,
	    .listen = sock_listen,
	    .attach = sock_attach,
	    .send = sock_send,
	    .queued = sock_queued,
	    .pause = sock_pause,
	    .set_tcpopt = sock_set_tcpopt,
	    .endpoints = sock_endpoints,
	    .close = sock_close,
	    .resolve = dns_resolve,
	    .resolve_cancel = dns_cancel,
	    .ping = ping_start,
	    .ping_cancel = ping_cancel,
	    .user = f,
	};
}
