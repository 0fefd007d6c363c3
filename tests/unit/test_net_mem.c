/* The in-memory network (src/testport/net_mem.c), driven through the net
 * port directly: every callback appends a line to a log the tests compare
 * whole, so order and absence of events are checked as well as content. */
#include "support.h"

#include <arpa/inet.h>

#include "testport/net_mem.h"

struct fix;

/* One module-side socket as the tests hold it; the callbacks' user. */
struct sk {
	struct fix *f;
	char name; /* in the log */
	struct espat_sock *s;
	char close_on; /* close s inside this callback: 'c' 'd' 'x' 'r' */
	enum espat_close_how how;
	bool pause_on_data;         /* pause(true) inside data() */
	bool udp;                   /* data() logs the sender */
	struct espat_endpoint from; /* the last data()\'s sender */
	struct espat_sock *got;     /* a listener's last accepted socket */
};

struct fix {
	uint64_t now;
	struct espat_net_mem n;
	struct espat_net net;
	char log[16384];
	size_t loglen;
	const uint64_t *clock; /* &now, or the test port's */
	uint64_t at;           /* *clock at the last callback */
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->now = 1000;
	f->clock = &f->now;
	espat_net_mem_init(&f->n, &f->now);
	f->net = espat_net_mem_port(&f->n);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	espat_net_mem_free(&f->n);
	free(f);
	return 0;
}

static const char *err_name(int err)
{
	static const char *names[] = {"OK",     "EREFUSED",   "ETIMEDOUT", "EUNREACH",
	                              "ERESET", "EADDRINUSE", "ENOTFOUND", "EDNS",
	                              "EINVAL", "ENOMEM",     "EIO"};
	return err >= 0 && err <= ESPAT_NET_EIO ? names[err] : "?";
}

__attribute__((format(printf, 2, 3))) static void logf_(struct fix *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(f->log + f->loglen, sizeof(f->log) - f->loglen, fmt, ap);
	va_end(ap);
	assert_true(k >= 0 && (size_t)k < sizeof(f->log) - f->loglen);
	f->loglen += (size_t)k;
	f->at = *f->clock;
}

/* The log since the last check is exactly want. */
static void expect_log(struct fix *f, const char *want)
{
	if (strcmp(f->log, want) != 0)
		fail_msg("want \"%s\"\n got \"%s\"", t_esc((const uint8_t *)want, strlen(want), 0),
		         t_esc((const uint8_t *)f->log, f->loglen, 1));
	f->loglen = 0;
	f->log[0] = 0;
}

static void ip_str(const struct espat_ip *ip, char *buf, size_t cap)
{
	if (ip->v6)
		snprintf(buf, cap, "v6");
	else
		snprintf(buf, cap, "%u.%u.%u.%u", ip->a[0], ip->a[1], ip->a[2], ip->a[3]);
}

/* ---- callbacks ---- */

static void maybe_close(struct sk *k, char when)
{
	if (k->close_on == when) {
		k->f->net.close(k->f->net.user, k->s, k->how);
		k->s = NULL;
	}
}

static void cb_connected(void *user, int err)
{
	struct sk *k = user;
	logf_(k->f, "%c connected %s\n", k->name, err_name(err));
	maybe_close(k, 'c');
}

static void cb_data(void *user, const uint8_t *p, size_t n, const struct espat_endpoint *from)
{
	struct sk *k = user;
	assert_non_null(from);
	k->from = *from;
	if (k->udp) {
		char ip[32];
		ip_str(&from->ip, ip, sizeof(ip));
		logf_(k->f, "%c data %.*s from %s:%u\n", k->name, (int)n, (const char *)p, ip,
		      from->port);
	} else {
		logf_(k->f, "%c data %.*s\n", k->name, (int)n, (const char *)p);
	}
	if (k->pause_on_data)
		k->f->net.pause(k->f->net.user, k->s, true);
	maybe_close(k, 'd');
}

static void cb_closed(void *user, int err)
{
	struct sk *k = user;
	logf_(k->f, "%c closed %s\n", k->name, err_name(err));
	maybe_close(k, 'x');
}

static void cb_drained(void *user)
{
	struct sk *k = user;
	logf_(k->f, "%c drained\n", k->name);
	maybe_close(k, 'r');
}

static void cb_accepted(void *user, struct espat_sock *s)
{
	struct sk *k = user;
	logf_(k->f, "%c accepted\n", k->name);
	k->got = s;
}

static const struct espat_sock_cbs cbs = {
    .connected = cb_connected,
    .data = cb_data,
    .closed = cb_closed,
    .drained = cb_drained,
    .accepted = cb_accepted,
};

/* ---- helpers ---- */

static struct espat_endpoint ep4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	return (struct espat_endpoint){espat_ip4(a, b, c, d), port};
}

static size_t run(struct fix *f)
{
	return espat_net_mem_run(&f->n);
}

/* Moves the clock by ms, delivering each event at its own due time. */
static void advance(struct fix *f, uint64_t ms)
{
	uint64_t target = f->now + ms;
	for (;;) {
		uint64_t next = espat_net_mem_next_due(&f->n);
		if (next > target)
			break;
		if (next > f->now)
			f->now = next;
		run(f);
	}
	f->now = target;
	run(f);
}

static struct espat_sock *open_tcp(struct fix *f, struct sk *k, char name,
                                   struct espat_endpoint remote, int *err)
{
	*k = (struct sk){.f = f, .name = name};
	struct espat_sock_opts o = {.kind = ESPAT_SOCK_TCP, .remote = remote};
	k->s = f->net.open(f->net.user, &o, &cbs, k, err);
	return k->s;
}

/* A served endpoint, a connected socket and its connection. */
static struct espat_mem_conn *connected_pair(struct fix *f, struct sk *k, char name)
{
	struct espat_endpoint ep = ep4(10, 0, 0, 1, 80);
	assert_int_equal(espat_net_mem_serve(&f->n, ep), 0);
	int err = -1;
	assert_non_null(open_tcp(f, k, name, ep, &err));
	struct espat_mem_conn *c = espat_net_mem_last_conn(&f->n);
	assert_non_null(c);
	run(f);
	char want[32];
	snprintf(want, sizeof(want), "%c connected OK\n", name);
	expect_log(f, want);
	return c;
}

static void psend(struct espat_mem_conn *c, const char *s)
{
	assert_int_equal(espat_mem_conn_send(c, s, strlen(s)), 0);
}

static int msend(struct fix *f, struct sk *k, const char *s)
{
	return f->net.send(f->net.user, k->s, (const uint8_t *)s, strlen(s), NULL);
}

static void expect_view(struct espat_mem_conn *c, const char *want)
{
	size_t len;
	const uint8_t *p = espat_mem_conn_view(c, &len);
	if (len != strlen(want) || memcmp(p, want, len) != 0)
		fail_msg("view: want \"%s\" got \"%.*s\"", want, (int)len, (const char *)p);
}

static void mclose(struct fix *f, struct sk *k, enum espat_close_how how)
{
	f->net.close(f->net.user, k->s, how);
	k->s = NULL;
}

/* ---- TCP client ---- */

static void test_connect_served(void **state)
{
	struct fix *f = *state;
	struct espat_endpoint ep = ep4(10, 0, 0, 1, 80);
	assert_int_equal(espat_net_mem_serve(&f->n, ep), 0);
	struct sk a;
	int err = -1;
	assert_non_null(open_tcp(f, &a, 'a', ep, &err));
	/* never from inside the call */
	expect_log(f, "");
	assert_int_equal(espat_net_mem_nconns(&f->n), 1);
	struct espat_mem_conn *c = espat_net_mem_last_conn(&f->n);
	assert_ptr_equal(c, espat_net_mem_conn(&f->n, 0));
	assert_null(espat_net_mem_conn(&f->n, 1));
	assert_false(c->established);
	assert_false(c->inbound);
	assert_int_equal(run(f), 1);
	expect_log(f, "a connected OK\n");
	assert_true(c->established);
	assert_int_equal(run(f), 0);

	struct espat_endpoint local, remote;
	f->net.endpoints(f->net.user, a.s, &local, &remote);
	assert_true(espat_mem_ep_eq(&remote, &ep));
	struct espat_endpoint want_local = ep4(192, 168, 3, 112, 49152);
	assert_true(espat_mem_ep_eq(&local, &want_local));
	assert_true(espat_mem_ep_eq(&c->local, &want_local));
	assert_true(espat_mem_ep_eq(&c->peer, &ep));
	f->net.endpoints(f->net.user, a.s, NULL, NULL);

	mclose(f, &a, ESPAT_CLOSE_GRACEFUL);
	assert_int_equal(c->closed_by_module, ESPAT_MEM_CLOSED_GRACEFUL);
	assert_true(c->fin);
	assert_null(c->sock);
	assert_int_equal(espat_net_mem_open_socks(&f->n), 0);
}

static void test_refused_unreachable_blackhole(void **state)
{
	struct fix *f = *state;
	struct sk a, b, h;
	int err = -1;
	assert_non_null(open_tcp(f, &a, 'a', ep4(10, 0, 0, 9, 80), &err));
	assert_int_equal(espat_net_mem_unreachable(&f->n, espat_ip4(10, 0, 0, 8)), 0);
	assert_non_null(open_tcp(f, &b, 'b', ep4(10, 0, 0, 8, 80), &err));
	assert_int_equal(espat_net_mem_blackhole(&f->n, espat_ip4(10, 0, 0, 7)), 0);
	assert_non_null(open_tcp(f, &h, 'h', ep4(10, 0, 0, 7, 80), &err));
	assert_int_equal(espat_net_mem_nconns(&f->n), 0);
	assert_null(espat_net_mem_last_conn(&f->n));
	run(f);
	expect_log(f, "a connected EREFUSED\nb connected EUNREACH\n");
	/* a dead socket's send fails with why it died */
	assert_int_equal(msend(f, &a, "x"), ESPAT_NET_EREFUSED);
	/* the blackhole never answers: only the module's timeout can act */
	assert_int_equal(espat_net_mem_next_due(&f->n), UINT64_MAX);
	advance(f, 3600 * 1000);
	expect_log(f, "");
	/* bytes sent meanwhile wait, and go with the socket */
	assert_int_equal(msend(f, &h, "x"), 0);
	assert_int_equal(f->net.queued(f->net.user, h.s), 1);
	mclose(f, &a, ESPAT_CLOSE_GRACEFUL);
	mclose(f, &b, ESPAT_CLOSE_ABORT);
	mclose(f, &h, ESPAT_CLOSE_ABORT);
	assert_int_equal(espat_net_mem_open_socks(&f->n), 0);

	/* a server that stops serving refuses again */
	struct espat_endpoint ep = ep4(10, 0, 0, 1, 80);
	espat_net_mem_serve(&f->n, ep);
	espat_net_mem_unserve(&f->n, ep);
	assert_non_null(open_tcp(f, &a, 'a', ep, &err));
	run(f);
	expect_log(f, "a connected EREFUSED\n");
	mclose(f, &a, ESPAT_CLOSE_ABORT);
}

static void test_connect_latency(void **state)
{
	struct fix *f = *state;
	f->n.connect_ms = 100;
	espat_net_mem_serve(&f->n, ep4(10, 0, 0, 1, 80));
	struct sk a, b;
	int err;
	open_tcp(f, &a, 'a', ep4(10, 0, 0, 1, 80), &err);
	open_tcp(f, &b, 'b', ep4(10, 0, 0, 2, 80), &err); /* refused, also after 100 ms */
	assert_int_equal(espat_net_mem_next_due(&f->n), 1100);
	run(f);
	advance(f, 99);
	expect_log(f, "");
	advance(f, 1);
	expect_log(f, "a connected OK\nb connected EREFUSED\n");
	assert_int_equal(f->at, 1100);
	mclose(f, &a, ESPAT_CLOSE_ABORT);
	mclose(f, &b, ESPAT_CLOSE_ABORT);
}

static void test_send_while_connecting(void **state)
{
	struct fix *f = *state;
	f->n.connect_ms = 100;
	espat_net_mem_serve(&f->n, ep4(10, 0, 0, 1, 80));
	struct sk a, b;
	int err;
	open_tcp(f, &a, 'a', ep4(10, 0, 0, 1, 80), &err);
	struct espat_mem_conn *c = espat_net_mem_last_conn(&f->n);
	assert_int_equal(msend(f, &a, "early"), 0);
	assert_int_equal(f->net.queued(f->net.user, a.s), 5);
	expect_view(c, "");
	run(f);
	expect_log(f, "");
	advance(f, 100);
	expect_log(f, "a connected OK\na drained\n");
	expect_view(c, "early");
	assert_int_equal(f->net.queued(f->net.user, a.s), 0);
	/* refused: what waited is dropped with the connection */
	open_tcp(f, &b, 'b', ep4(10, 0, 0, 9, 80), &err);
	assert_int_equal(msend(f, &b, "y"), 0);
	advance(f, 100);
	expect_log(f, "b connected EREFUSED\n");
	assert_int_equal(f->net.queued(f->net.user, b.s), 0);
	assert_int_equal(msend(f, &b, "y"), ESPAT_NET_EREFUSED);
	mclose(f, &a, ESPAT_CLOSE_GRACEFUL);
	mclose(f, &b, ESPAT_CLOSE_GRACEFUL);
}

static void test_stream_both_ways(void **state)
{
	struct fix *f = *state;
	struct sk a;
	struct espat_mem_conn *c = connected_pair(f, &a, 'a');
	psend(c, "hello");
	psend(c, " world");
	expect_log(f, "");
	run(f);
	/* what waits goes in one piece */
	expect_log(f, "a data hello world\n");
	assert_true(espat_mem_ep_eq(&a.from, &c->peer));

	assert_int_equal(msend(f, &a, "GET / HTTP/1.0\r\n"), 0);
	assert_int_equal(f->net.queued(f->net.user, a.s), 0);
	assert_int_equal(msend(f, &a, ""), 0);
	expect_log(f, "");
	run(f);
	expect_log(f, "a drained\n"); /* after every send, once: as the posix port */
	expect_view(c, "GET / HTTP/1.0\r\n");
	char buf[8];
	assert_int_equal(espat_mem_conn_take(c, buf, 4), 4);
	assert_memory_equal(buf, "GET ", 4);
	assert_int_equal(espat_mem_conn_take(c, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "/ HTTP/1", 8);
	assert_int_equal(espat_mem_conn_take(c, buf, sizeof(buf)), 4);
	assert_int_equal(espat_mem_conn_take(c, buf, sizeof(buf)), 0);
	/* the view keeps everything */
	expect_view(c, "GET / HTTP/1.0\r\n");
	assert_int_equal(c->read_total, 16);
	mclose(f, &a, ESPAT_CLOSE_GRACEFUL);
	/* the peer cannot send to a closed socket */
	assert_int_equal(espat_mem_conn_send(c, "x", 1), -1);
}

static void test_chunks_and_fifo(void **state)
{
	struct fix *f = *state;
	struct sk a, b;
	struct espat_mem_conn *ca = connected_pair(f, &a, 'a');
	struct espat_mem_conn *cb = connected_pair(f, &b, 'b');
	espat_mem_conn_set_chunk(ca, 3);
	psend(ca, "abcdefgh");
	psend(cb, "12");
	espat_mem_conn_close(ca);
	run(f);
	/* the rest of a goes behind what was queued meanwhile */
	expect_log(f, "a data abc\nb data 12\na data def\na data gh\na closed OK\n");
	/* after closed() the peer can still read (half-close) */
	assert_int_equal(msend(f, &a, "bye"), 0);
	expect_view(ca, "bye");
	assert_int_equal(espat_mem_conn_send(ca, "x", 1), -1);
	mclose(f, &a, ESPAT_CLOSE_GRACEFUL);
	mclose(f, &b, ESPAT_CLOSE_GRACEFUL);
	assert_true(ca->fin);
}

static void test_pause(void **state)
{
	struct fix *f = *state;
	struct sk a;
	struct espat_mem_conn *c = connected_pair(f, &a, 'a');
	f->net.pause(f->net.user, a.s, true);
	psend(c, "one");
	espat_mem_conn_close(c);
	assert_int_equal(run(f), 1); /* taken off and dropped while paused */
	advance(f, 10000);
	expect_log(f, "");
	/* still paused: unpausing raises it again, FIN after the data */
	f->net.pause(f->net.user, a.s, false);
	expect_log(f, "");
	run(f);
	expect_log(f, "a data one\na closed OK\n");

	/* pause inside data(): the rest waits */
	struct sk b;
	struct espat_mem_conn *cb = connected_pair(f, &b, 'b');
	b.pause_on_data = true;
	espat_mem_conn_set_chunk(cb, 2);
	psend(cb, "wxyz");
	run(f);
	expect_log(f, "b data wx\n");
	b.pause_on_data = false;
	f->net.pause(f->net.user, b.s, false);
	run(f);
	expect_log(f, "b data yz\n");
	mclose(f, &a, ESPAT_CLOSE_GRACEFUL);
	mclose(f, &b, ESPAT_CLOSE_GRACEFUL);
}

static void test_close_inside_callback(void **state)
{
	struct fix *f = *state;
	struct sk a;
	struct espat_mem_conn *c = connected_pair(f, &a, 'a');
	a.close_on = 'd';
	a.how = ESPAT_CLOSE_GRACEFUL;
	espat_mem_conn_set_chunk(c, 1);
	psend(c, "abc");
	espat_mem_conn_close(c);
	run(f);
	/* the rest of the stream and the FIN were queued: none of it runs */
	expect_log(f, "a data a\n");
	assert_int_equal(run(f), 0);
	assert_null(c->sock);
	assert_int_equal(c->closed_by_module, ESPAT_MEM_CLOSED_GRACEFUL);
	assert_true(c->fin);

	/* close inside connected() */
	struct sk b;
	espat_net_mem_serve(&f->n, ep4(10, 0, 0, 2, 80));
	int err;
	open_tcp(f, &b, 'b', ep4(10, 0, 0, 2, 80), &err);
	b.close_on = 'c';
	b.how = ESPAT_CLOSE_ABORT;
	struct espat_mem_conn *c2 = espat_net_mem_last_conn(&f->n);
	psend(c2, "early"); /* the server talks first */
	run(f);
	expect_log(f, "b connected OK\n");
	assert_int_equal(c2->closed_by_module, ESPAT_MEM_CLOSED_ABORT);
	assert_false(c2->fin);

	/* close inside closed() and inside drained() */
	struct sk d;
	struct espat_mem_conn *cd = connected_pair(f, &d, 'd');
	d.close_on = 'x';
	espat_mem_conn_close(cd);
	run(f);
	expect_log(f, "d closed OK\n");
	struct sk e;
	struct espat_mem_conn *ce = connected_pair(f, &e, 'e');
	e.close_on = 'r';
	espat_mem_conn_set_window(ce, 0);
	assert_int_equal(msend(f, &e, "zz"), 0);
	espat_mem_conn_read_more(ce, 2);
	run(f);
	expect_log(f, "e drained\n");
	assert_true(ce->fin);
	assert_int_equal(espat_net_mem_open_socks(&f->n), 0);
}

static void test_close_drops_queued_events(void **state)
{
	struct fix *f = *state;
	espat_net_mem_serve(&f->n, ep4(10, 0, 0, 1, 80));
	struct sk a;
	int err;
	open_tcp(f, &a, 'a', ep4(10, 0, 0, 1, 80), &err);
	struct espat_mem_conn *c = espat_net_mem_last_conn(&f->n);
	/* connected() is queued; closing first means it never runs */
	mclose(f, &a, ESPAT_CLOSE_GRACEFUL);
	assert_int_equal(run(f), 0);
	expect_log(f, "");
	assert_int_equal(espat_net_mem_next_due(&f->n), UINT64_MAX);
	/* the connect completed in the background, then FIN */
	assert_true(c->established);
	assert_true(c->fin);

	struct sk b;
	c = connected_pair(f, &b, 'b');
	psend(c, "data");
	espat_mem_conn_close(c);
	mclose(f, &b, ESPAT_CLOSE_ABORT);
	assert_int_equal(run(f), 0);
	expect_log(f, "");
	assert_int_equal(c->in.len, 0);
}

static void test_reset(void **state)
{
	struct fix *f = *state;
	struct sk a;
	struct espat_mem_conn *c = connected_pair(f, &a, 'a');
	f->net.pause(f->net.user, a.s, true);
	psend(c, "before");
	espat_mem_conn_set_window(c, 0);
	assert_int_equal(msend(f, &a, "queued"), 0);
	assert_int_equal(f->net.queued(f->net.user, a.s), 6);
	espat_mem_conn_reset(c);
	espat_mem_conn_reset(c); /* once is enough */
	assert_true(c->peer_reset);
	/* the module's queue is lost and its sends fail at once */
	assert_int_equal(f->net.queued(f->net.user, a.s), 0);
	assert_int_equal(msend(f, &a, "more"), ESPAT_NET_ERESET);
	assert_int_equal(espat_mem_conn_send(c, "x", 1), -1);
	espat_mem_conn_close(c); /* no FIN after a reset */
	/* paused: the module hears nothing yet */
	run(f);
	advance(f, 10000);
	expect_log(f, "");
	/* the bytes before the reset come first */
	f->net.pause(f->net.user, a.s, false);
	run(f);
	expect_log(f, "a data before\na closed ERESET\n");
	assert_int_equal(msend(f, &a, "more"), ESPAT_NET_ERESET);
	mclose(f, &a, ESPAT_CLOSE_GRACEFUL);
	assert_false(c->fin);

	/* reading: told at once */
	struct sk r;
	struct espat_mem_conn *cr = connected_pair(f, &r, 'r');
	espat_mem_conn_reset(cr);
	run(f);
	expect_log(f, "r closed ERESET\n");
	mclose(f, &r, ESPAT_CLOSE_ABORT);

	/* a reset during the connect fails it */
	f->n.connect_ms = 50;
	espat_net_mem_serve(&f->n, ep4(10, 0, 0, 2, 80));
	int err;
	open_tcp(f, &a, 'a', ep4(10, 0, 0, 2, 80), &err);
	espat_mem_conn_reset(espat_net_mem_last_conn(&f->n));
	advance(f, 50);
	expect_log(f, "a connected ERESET\n");
	assert_int_equal(msend(f, &a, "x"), ESPAT_NET_ERESET);
	mclose(f, &a, ESPAT_CLOSE_ABORT);

	/* a reset after the FIN was reported adds nothing */
	f->n.connect_ms = 0;
	struct sk b;
	struct espat_mem_conn *cb = connected_pair(f, &b, 'b');
	espat_mem_conn_close(cb);
	run(f);
	expect_log(f, "b closed OK\n");
	espat_mem_conn_reset(cb);
	run(f);
	expect_log(f, "");
	mclose(f, &b, ESPAT_CLOSE_GRACEFUL);
}

static void test_window_and_drained(void **state)
{
	struct fix *f = *state;
	struct sk a;
	struct espat_mem_conn *c = connected_pair(f, &a, 'a');
	espat_mem_conn_set_window(c, 4);
	assert_int_equal(msend(f, &a, "0123456789"), 0);
	assert_int_equal(f->net.queued(f->net.user, a.s), 6);
	expect_view(c, "0123");
	run(f);
	expect_log(f, "");
	espat_mem_conn_read_more(c, 3);
	assert_int_equal(f->net.queued(f->net.user, a.s), 3);
	run(f);
	expect_log(f, "");
	/* more sends while queued just queue */
	assert_int_equal(msend(f, &a, "ab"), 0);
	assert_int_equal(f->net.queued(f->net.user, a.s), 5);
	espat_mem_conn_read_more(c, 100);
	assert_int_equal(f->net.queued(f->net.user, a.s), 0);
	expect_view(c, "0123456789ab");
	expect_log(f, ""); /* drained comes from run(), never from inside a call */
	run(f);
	expect_log(f, "a drained\n");
	assert_int_equal(c->window, 100 - 5);
	/* window left: a fitting send is taken whole, drained() still follows */
	assert_int_equal(msend(f, &a, "cd"), 0);
	run(f);
	expect_log(f, "a drained\n");
	espat_mem_conn_set_window(c, ESPAT_MEM_WINDOW_OPEN);
	espat_mem_conn_read_more(c, 5); /* stays open */
	assert_int_equal(c->window, ESPAT_MEM_WINDOW_OPEN);

	/* graceful close sends the queue in the background, then FIN */
	espat_mem_conn_set_window(c, 1);
	assert_int_equal(msend(f, &a, "xyz"), 0);
	mclose(f, &a, ESPAT_CLOSE_GRACEFUL);
	assert_false(c->fin);
	espat_mem_conn_read_more(c, 5);
	assert_true(c->fin);
	expect_view(c, "0123456789abcdxyz");
	run(f);
	expect_log(f, ""); /* nobody to tell */

	/* abort drops the queue: no FIN */
	struct sk b;
	struct espat_mem_conn *cb = connected_pair(f, &b, 'b');
	espat_mem_conn_set_window(cb, 0);
	assert_int_equal(msend(f, &b, "gone"), 0);
	mclose(f, &b, ESPAT_CLOSE_ABORT);
	espat_mem_conn_read_more(cb, 10);
	assert_int_equal(cb->closed_by_module, ESPAT_MEM_CLOSED_ABORT);
	assert_false(cb->fin);
	expect_view(cb, "");
	assert_int_equal(cb->q.len, 0);
}

static void test_tcpopt_and_linger(void **state)
{
	struct fix *f = *state;
	struct sk a;
	struct espat_mem_conn *c = connected_pair(f, &a, 'a');
	assert_false(c->tcpopt_set);
	struct espat_tcpopt o = {
	    .linger_s = 0, .nodelay = true, .sndtimeo_ms = 100, .keepalive_s = 7};
	assert_int_equal(f->net.set_tcpopt(f->net.user, a.s, &o), 0);
	assert_true(c->tcpopt_set);
	assert_true(c->tcpopt.nodelay);
	assert_int_equal(c->tcpopt.keepalive_s, 7);
	/* SO_LINGER 0: a graceful close is a reset */
	mclose(f, &a, ESPAT_CLOSE_GRACEFUL);
	assert_int_equal(c->closed_by_module, ESPAT_MEM_CLOSED_ABORT);
	assert_false(c->fin);

	struct sk u = {.f = f, .name = 'u'};
	struct espat_sock_opts uo = {.kind = ESPAT_SOCK_UDP};
	int err;
	u.s = f->net.open(f->net.user, &uo, &cbs, &u, &err);
	assert_int_equal(f->net.set_tcpopt(f->net.user, u.s, &o), ESPAT_NET_EINVAL);
	mclose(f, &u, ESPAT_CLOSE_GRACEFUL);
}

/* ---- listeners ---- */

static void test_listener(void **state)
{
	struct fix *f = *state;
	struct sk l = {.f = f, .name = 'L'};
	int err = -1;
	l.s = f->net.listen(f->net.user, 333, false, NULL, &cbs, &l, &err);
	assert_non_null(l.s);
	struct sk l2 = {.f = f, .name = 'M'};
	assert_null(f->net.listen(f->net.user, 333, false, NULL, &cbs, &l2, &err));
	assert_int_equal(err, ESPAT_NET_EADDRINUSE);
	assert_null(f->net.listen(f->net.user, 0, false, NULL, &cbs, &l2, &err));
	assert_int_equal(err, ESPAT_NET_EINVAL);
	assert_null(espat_net_mem_connect(&f->n, 334, ep4(192, 168, 3, 2, 50000)));

	struct espat_mem_conn *c = espat_net_mem_connect(&f->n, 333, ep4(192, 168, 3, 2, 50000));
	assert_non_null(c);
	assert_true(c->inbound);
	assert_ptr_equal(c, espat_net_mem_last_conn(&f->n));
	expect_log(f, "");
	psend(c, "hi"); /* before anyone attached */
	run(f);
	expect_log(f, "L accepted\n");
	assert_non_null(l.got);
	/* paused, no callbacks: the data waits */
	run(f);
	expect_log(f, "");
	struct sk s = {.f = f, .name = 's', .s = l.got};
	f->net.attach(f->net.user, s.s, &cbs, &s);
	run(f);
	expect_log(f, ""); /* attach leaves it paused */
	f->net.pause(f->net.user, s.s, false);
	run(f);
	expect_log(f, "s data hi\n");
	struct espat_endpoint local, remote;
	f->net.endpoints(f->net.user, s.s, &local, &remote);
	struct espat_endpoint want_remote = ep4(192, 168, 3, 2, 50000);
	assert_true(espat_mem_ep_eq(&remote, &want_remote));
	assert_int_equal(local.port, 333);
	assert_int_equal(msend(f, &s, "yo"), 0);
	expect_view(c, "yo");
	/* a TCP client may not take the listener's port; accepted ones don't count */
	struct espat_sock_opts o = {
	    .kind = ESPAT_SOCK_TCP, .remote = ep4(10, 0, 0, 1, 80), .local_port = 333};
	struct sk t;
	assert_null(f->net.open(f->net.user, &o, &cbs, &t, &err));
	assert_int_equal(err, ESPAT_NET_EADDRINUSE);
	assert_int_equal(msend(f, &l, "x"), ESPAT_NET_EINVAL);

	/* the accepted socket outlives the listener */
	mclose(f, &l, ESPAT_CLOSE_GRACEFUL);
	assert_null(espat_net_mem_connect(&f->n, 333, ep4(192, 168, 3, 2, 50001)));
	espat_mem_conn_close(c);
	run(f);
	expect_log(f, "s drained\ns closed OK\n"); /* drained() of the send above */
	mclose(f, &s, ESPAT_CLOSE_GRACEFUL);
	assert_true(c->fin);
	assert_int_equal(espat_net_mem_open_socks(&f->n), 0);
}

static void test_listener_backlog_and_reset(void **state)
{
	struct fix *f = *state;
	struct sk l = {.f = f, .name = 'L'};
	int err;
	l.s = f->net.listen(f->net.user, 80, true, NULL, &cbs, &l, &err);
	/* a peer that resets before the module attached: told once it reads */
	struct espat_mem_conn *c1 = espat_net_mem_connect(&f->n, 80, ep4(192, 168, 3, 2, 1));
	espat_mem_conn_reset(c1);
	run(f);
	expect_log(f, "L accepted\n");
	struct sk s = {.f = f, .name = 's', .s = l.got};
	f->net.attach(f->net.user, s.s, &cbs, &s);
	run(f);
	expect_log(f, "");
	f->net.pause(f->net.user, s.s, false);
	run(f);
	expect_log(f, "s closed ERESET\n");
	mclose(f, &s, ESPAT_CLOSE_ABORT);
	/* accepted but not delivered when the listener closes: aborted */
	struct espat_mem_conn *c2 = espat_net_mem_connect(&f->n, 80, ep4(192, 168, 3, 2, 2));
	assert_int_equal(espat_net_mem_open_socks(&f->n), 2);
	mclose(f, &l, ESPAT_CLOSE_GRACEFUL);
	assert_int_equal(run(f), 0);
	expect_log(f, "");
	assert_int_equal(c2->closed_by_module, ESPAT_MEM_CLOSED_ABORT);
	assert_null(c2->sock);
	assert_int_equal(espat_net_mem_open_socks(&f->n), 0);
	/* a listener without accepted(): the peer is aborted too */
	struct espat_sock_cbs none = {0};
	l.s = f->net.listen(f->net.user, 80, false, NULL, &none, &l, &err);
	struct espat_mem_conn *c3 = espat_net_mem_connect(&f->n, 80, ep4(192, 168, 3, 2, 3));
	run(f);
	assert_int_equal(c3->closed_by_module, ESPAT_MEM_CLOSED_ABORT);
	mclose(f, &l, ESPAT_CLOSE_GRACEFUL);
	assert_int_equal(espat_net_mem_open_socks(&f->n), 0);
}

/* ---- UDP ---- */

static struct espat_sock *open_udp(struct fix *f, struct sk *k, char name,
                                   struct espat_endpoint remote, uint16_t local, bool reuse,
                                   int *err)
{
	*k = (struct sk){.f = f, .name = name, .udp = true};
	struct espat_sock_opts o = {
	    .kind = ESPAT_SOCK_UDP, .remote = remote, .local_port = local, .reuse = reuse};
	k->s = f->net.open(f->net.user, &o, &cbs, k, err);
	return k->s;
}

static void test_udp(void **state)
{
	struct fix *f = *state;
	struct espat_endpoint pe = ep4(10, 0, 0, 5, 7000), qe = ep4(10, 0, 0, 6, 7001);
	struct espat_mem_udp_peer *p = espat_net_mem_udp_peer(&f->n, pe);
	struct espat_mem_udp_peer *q = espat_net_mem_udp_peer(&f->n, qe);
	assert_ptr_equal(p, espat_net_mem_udp_peer(&f->n, pe));
	struct sk a, b;
	int err = -1;
	assert_non_null(open_udp(f, &a, 'a', pe, 0, false, &err));
	assert_non_null(open_udp(f, &b, 'b', (struct espat_endpoint){0}, 0, false, &err));
	struct espat_endpoint la, lb;
	f->net.endpoints(f->net.user, a.s, &la, NULL);
	f->net.endpoints(f->net.user, b.s, &lb, NULL);
	assert_int_equal(la.port, 49152);
	assert_int_equal(lb.port, 49153);
	run(f);
	expect_log(f, ""); /* UDP: no connected() */

	assert_int_equal(msend(f, &a, "one"), 0);
	assert_int_equal(f->net.send(f->net.user, a.s, (const uint8_t *)"two", 3, &qe), 0);
	assert_int_equal(f->net.send(f->net.user, a.s, (const uint8_t *)"", 0, NULL), 0);
	struct espat_endpoint nobody = ep4(10, 0, 0, 99, 1);
	assert_int_equal(f->net.send(f->net.user, a.s, (const uint8_t *)"x", 1, &nobody), 0);
	assert_int_equal(f->n.udp_unrouted, 1);
	assert_int_equal(msend(f, &b, "x"), ESPAT_NET_EINVAL); /* no destination */
	struct espat_endpoint v6 = {espat_mem_ip("2001:db8::1"), 53};
	assert_int_equal(f->net.send(f->net.user, a.s, (const uint8_t *)"x", 1, &v6),
	                 ESPAT_NET_EINVAL);
	run(f);
	expect_log(f, "a drained\n"); /* b's sends failed: none */
	assert_int_equal(p->n, 2);
	assert_int_equal(p->dgrams[0].len, 3);
	assert_memory_equal(p->dgrams[0].data, "one", 3);
	assert_true(espat_mem_ep_eq(&p->dgrams[0].from, &la));
	assert_int_equal(p->dgrams[1].len, 0);
	assert_int_equal(q->n, 1);
	assert_memory_equal(q->dgrams[0].data, "two", 3);
	espat_mem_udp_clear(p);
	assert_int_equal(p->n, 0);

	/* peer -> module, with the sender */
	assert_int_equal(espat_mem_udp_send(p, 49152, "hey", 3), 0);
	assert_int_equal(espat_mem_udp_send(q, 49152, "you", 3), 0);
	assert_int_equal(espat_mem_udp_send(p, 40000, "x", 1), -1); /* nothing bound */
	expect_log(f, "");
	run(f);
	expect_log(f, "a data hey from 10.0.0.5:7000\na data you from 10.0.0.6:7001\n");

	/* paused: datagrams wait, and a full queue drops */
	f->net.pause(f->net.user, a.s, true);
	for (int i = 0; i < ESPAT_NET_MEM_UDP_QUEUE; i++)
		assert_int_equal(espat_mem_udp_send(p, 49152, "d", 1), 0);
	assert_int_equal(espat_mem_udp_send(p, 49152, "d", 1), -1);
	run(f);
	expect_log(f, "");
	/* close in data(): the rest are freed with the socket */
	a.close_on = 'd';
	f->net.pause(f->net.user, a.s, false);
	run(f);
	expect_log(f, "a data d from 10.0.0.5:7000\n");
	mclose(f, &b, ESPAT_CLOSE_GRACEFUL);
	assert_int_equal(espat_net_mem_open_socks(&f->n), 0);
}

static void test_udp_ports(void **state)
{
	struct fix *f = *state;
	struct sk a, b, c;
	int err = -1;
	assert_non_null(open_udp(f, &a, 'a', (struct espat_endpoint){0}, 5000, false, &err));
	assert_null(open_udp(f, &b, 'b', (struct espat_endpoint){0}, 5000, true, &err));
	assert_int_equal(err, ESPAT_NET_EADDRINUSE);
	mclose(f, &a, ESPAT_CLOSE_GRACEFUL);
	/* both reuse: shared; the oldest gets the datagrams */
	assert_non_null(open_udp(f, &a, 'a', (struct espat_endpoint){0}, 5353, true, &err));
	assert_non_null(open_udp(f, &b, 'b', (struct espat_endpoint){0}, 5353, true, &err));
	struct espat_mem_udp_peer *p = espat_net_mem_udp_peer(&f->n, ep4(10, 0, 0, 5, 5353));
	espat_mem_udp_send(p, 5353, "m", 1);
	run(f);
	expect_log(f, "a data m from 10.0.0.5:5353\n");
	/* a TCP socket may use the same number */
	espat_net_mem_serve(&f->n, ep4(10, 0, 0, 1, 80));
	struct espat_sock_opts o = {
	    .kind = ESPAT_SOCK_TCP, .remote = ep4(10, 0, 0, 1, 80), .local_port = 5353};
	c = (struct sk){.f = f, .name = 'c'};
	c.s = f->net.open(f->net.user, &o, &cbs, &c, &err);
	assert_non_null(c.s);
	/* multicast: a group of the socket's family */
	struct sk m = {.f = f, .name = 'm'};
	struct espat_sock_opts mo = {.kind = ESPAT_SOCK_UDP,
	                             .mcast = true,
	                             .group = espat_ip4(224, 0, 0, 251),
	                             .local_port = 5354};
	m.s = f->net.open(f->net.user, &mo, &cbs, &m, &err);
	assert_non_null(m.s);
	mo.group = espat_ip4(10, 0, 0, 1);
	mo.local_port = 5355;
	assert_null(f->net.open(f->net.user, &mo, &cbs, &m, &err));
	assert_int_equal(err, ESPAT_NET_EINVAL);
	mo.group = espat_mem_ip("ff02::fb");
	assert_null(f->net.open(f->net.user, &mo, &cbs, &m, &err));
	mclose(f, &m, ESPAT_CLOSE_GRACEFUL);
	mclose(f, &a, ESPAT_CLOSE_GRACEFUL);
	mclose(f, &b, ESPAT_CLOSE_GRACEFUL);
	mclose(f, &c, ESPAT_CLOSE_GRACEFUL);
	/* an IPv6 socket and peer */
	struct espat_endpoint pe6 = {espat_mem_ip("2001:db8::5"), 9};
	struct espat_mem_udp_peer *p6 = espat_net_mem_udp_peer(&f->n, pe6);
	assert_non_null(open_udp(f, &a, 'a', pe6, 0, false, &err));
	assert_int_equal(msend(f, &a, "six"), 0);
	assert_int_equal(p6->n, 1);
	assert_true(espat_mem_ip_eq(&p6->dgrams[0].from.ip, &f->n.local_v6));
	struct espat_endpoint l6;
	f->net.endpoints(f->net.user, a.s, &l6, NULL);
	assert_true(l6.ip.v6);
	mclose(f, &a, ESPAT_CLOSE_GRACEFUL);
}

/* ---- DNS ---- */

struct dns_rec {
	struct fix *f;
	char tag;
	bool again; /* start another query from inside done() */
};

static void dns_done(void *user, int err, const struct espat_ip *ip)
{
	struct dns_rec *r = user;
	if (err) {
		assert_null(ip);
		logf_(r->f, "%c %s\n", r->tag, err_name(err));
		return;
	}
	char buf[64];
	if (ip->v6)
		inet_ntop(AF_INET6, ip->a, buf, sizeof(buf));
	else
		ip_str(ip, buf, sizeof(buf));
	logf_(r->f, "%c %s\n", r->tag, buf);
	if (r->again) {
		r->again = false;
		struct espat_dns_query q = {.name = "1.2.3.4"};
		int e;
		assert_non_null(r->f->net.resolve(r->f->net.user, &q, dns_done, r, &e));
	}
}

static struct espat_dns_req *resolve(struct fix *f, struct dns_rec *r, const char *name,
                                     enum espat_dns_family fam)
{
	struct espat_dns_query q = {.name = name, .family = fam};
	int err = -1;
	struct espat_dns_req *req = f->net.resolve(f->net.user, &q, dns_done, r, &err);
	assert_non_null(req);
	return req;
}

static void test_dns(void **state)
{
	struct fix *f = *state;
	struct espat_ip v4 = espat_ip4(93, 184, 216, 34), v6 = espat_mem_ip("2001:db8::34");
	assert_int_equal(espat_net_mem_dns_add(&f->n, "www.example.com", v6), 0);
	assert_int_equal(espat_net_mem_dns_add(&f->n, "www.example.com", v4), 0);
	assert_int_equal(espat_net_mem_dns_add(&f->n, "v6.example.com", v6), 0);
	struct dns_rec a = {.f = f, .tag = 'a'}, b = {.f = f, .tag = 'b'}, c = {.f = f, .tag = 'c'},
	               d = {.f = f, .tag = 'd'}, e = {.f = f, .tag = 'e'};
	resolve(f, &a, "WWW.Example.com", ESPAT_DNS_PREFER_V4);
	resolve(f, &b, "www.example.com", ESPAT_DNS_V6_ONLY);
	resolve(f, &c, "v6.example.com", ESPAT_DNS_V4_ONLY);
	resolve(f, &d, "v6.example.com", ESPAT_DNS_PREFER_V4);
	resolve(f, &e, "nx.example.com", ESPAT_DNS_PREFER_V4);
	expect_log(f, "");
	run(f);
	expect_log(f, "a 93.184.216.34\nb 2001:db8::34\nc ENOTFOUND\nd 2001:db8::34\n"
	              "e ENOTFOUND\n");
	assert_int_equal(f->n.dns_queries, 5);
	assert_string_equal(f->n.dns_last.name, "nx.example.com");

	/* literals answer themselves and ask nobody */
	resolve(f, &a, "10.1.2.3", ESPAT_DNS_PREFER_V4);
	resolve(f, &b, "::1", ESPAT_DNS_PREFER_V4);
	resolve(f, &c, "10.1.2.3", ESPAT_DNS_V6_ONLY);
	run(f);
	expect_log(f, "a 10.1.2.3\nb ::1\nc ENOTFOUND\n");
	assert_int_equal(f->n.dns_queries, 5);

	/* servers asked are recorded */
	struct espat_dns_query q = {.name = "www.example.com",
	                            .servers = {espat_ip4(8, 8, 8, 8), espat_ip4(1, 1, 1, 1)},
	                            .nservers = 2,
	                            .timeout_ms = 3000};
	int err;
	assert_non_null(f->net.resolve(f->net.user, &q, dns_done, &a, &err));
	assert_int_equal(f->n.dns_last.nservers, 2);
	struct espat_ip s1 = espat_ip4(1, 1, 1, 1);
	assert_true(espat_mem_ip_eq(&f->n.dns_last.servers[1], &s1));
	assert_int_equal(f->n.dns_last.timeout_ms, 3000);
	run(f);
	expect_log(f, "a 93.184.216.34\n");

	/* bad queries never start */
	q.name = "";
	assert_null(f->net.resolve(f->net.user, &q, dns_done, &a, &err));
	assert_int_equal(err, ESPAT_NET_EINVAL);
	char longname[ESPAT_DNS_NAME_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	q.name = longname;
	assert_null(f->net.resolve(f->net.user, &q, dns_done, &a, &err));
	assert_int_equal(espat_net_mem_dns_add(&f->n, longname, v4), -1);

	/* done() may start the next one */
	a.again = true;
	resolve(f, &a, "www.example.com", ESPAT_DNS_PREFER_V4);
	run(f);
	expect_log(f, "a 93.184.216.34\na 1.2.3.4\n");
}

static void test_dns_latency_failures_cancel(void **state)
{
	struct fix *f = *state;
	f->n.dns_ms = 30;
	espat_net_mem_dns_add(&f->n, "ok.test", espat_ip4(1, 2, 3, 4));
	assert_int_equal(espat_net_mem_dns_fail(&f->n, "bad.test", ESPAT_NET_EDNS), 0);
	assert_int_equal(espat_net_mem_dns_fail(&f->n, "slow.test", ESPAT_NET_ETIMEDOUT), 0);
	assert_int_equal(espat_net_mem_dns_fail(&f->n, "x", 0), -1);
	struct dns_rec a = {.f = f, .tag = 'a'}, b = {.f = f, .tag = 'b'}, c = {.f = f, .tag = 'c'},
	               d = {.f = f, .tag = 'd'};
	resolve(f, &a, "ok.test", ESPAT_DNS_PREFER_V4);
	resolve(f, &b, "bad.test", ESPAT_DNS_PREFER_V4);
	resolve(f, &c, "slow.test", ESPAT_DNS_PREFER_V4);
	struct espat_dns_req *rd = resolve(f, &d, "ok.test", ESPAT_DNS_PREFER_V4);
	f->net.resolve_cancel(f->net.user, rd);
	f->net.resolve_cancel(f->net.user, NULL);
	advance(f, 29);
	expect_log(f, "");
	advance(f, 1);
	expect_log(f, "a 1.2.3.4\nb EDNS\n");
	/* a timeout answers after the query's timeout (default 5 s) */
	advance(f, ESPAT_NET_MEM_DNS_TIMEOUT - 31);
	expect_log(f, "");
	advance(f, 1);
	expect_log(f, "c ETIMEDOUT\n");
	assert_int_equal(f->at, 1000 + ESPAT_NET_MEM_DNS_TIMEOUT);

	/* a latency beyond the timeout is a timeout */
	f->n.dns_ms = 2000;
	struct espat_dns_query q = {.name = "ok.test", .timeout_ms = 1500};
	int err;
	f->net.resolve(f->net.user, &q, dns_done, &a, &err);
	advance(f, 1499);
	expect_log(f, "");
	advance(f, 1);
	expect_log(f, "a ETIMEDOUT\n");

	/* "*" fails every name without its own row */
	f->n.dns_ms = 0;
	espat_net_mem_dns_fail(&f->n, "*", ESPAT_NET_EDNS);
	resolve(f, &a, "ok.test", ESPAT_DNS_PREFER_V4);
	resolve(f, &b, "other.test", ESPAT_DNS_PREFER_V4);
	run(f);
	expect_log(f, "a 1.2.3.4\nb EDNS\n");
}

/* ---- ping ---- */

static void ping_done(void *user, int err, uint32_t rtt)
{
	struct dns_rec *r = user;
	logf_(r->f, "%c %s %u\n", r->tag, err_name(err), (unsigned)rtt);
}

static void test_ping(void **state)
{
	struct fix *f = *state;
	espat_net_mem_ping_host(&f->n, espat_ip4(10, 0, 0, 1), 20);
	espat_net_mem_ping_host(&f->n, espat_ip4(10, 0, 0, 2), 900);
	espat_net_mem_unreachable(&f->n, espat_ip4(10, 0, 0, 3));
	struct espat_ip ips[] = {espat_ip4(10, 0, 0, 1), espat_ip4(10, 0, 0, 2),
	                         espat_ip4(10, 0, 0, 3), espat_ip4(10, 0, 0, 4),
	                         espat_ip4(10, 0, 0, 1)};
	struct dns_rec r[5] = {{.f = f, .tag = 'a'},
	                       {.f = f, .tag = 'b'},
	                       {.f = f, .tag = 'c'},
	                       {.f = f, .tag = 'd'},
	                       {.f = f, .tag = 'e'}};
	struct espat_ping_req *req[5];
	int err;
	for (int i = 0; i < 5; i++) {
		req[i] =
		    f->net.ping(f->net.user, &ips[i], i == 1 ? 500 : 0, ping_done, &r[i], &err);
		assert_non_null(req[i]);
	}
	assert_int_equal(f->n.pings, 5);
	f->net.ping_cancel(f->net.user, req[4]);
	run(f);
	expect_log(f, "c EUNREACH 0\n");
	advance(f, 20);
	expect_log(f, "a OK 20\n");
	advance(f, 480);
	expect_log(f, "b ETIMEDOUT 0\n"); /* rtt 900 > timeout 500 */
	advance(f, 499);
	expect_log(f, "");
	advance(f, 1);
	expect_log(f, "d ETIMEDOUT 0\n"); /* nobody: the default 1 s */
	assert_int_equal(espat_net_mem_next_due(&f->n), UINT64_MAX);
}

/* ---- limits and teardown ---- */

static void test_limits(void **state)
{
	struct fix *f = *state;
	struct sk k[ESPAT_NET_MEM_SOCKS + 1];
	int err;
	for (int i = 0; i < ESPAT_NET_MEM_SOCKS; i++)
		assert_non_null(
		    open_udp(f, &k[i], 'u', (struct espat_endpoint){0}, 0, false, &err));
	assert_null(
	    open_udp(f, &k[ESPAT_NET_MEM_SOCKS], 'u', (struct espat_endpoint){0}, 0, false, &err));
	assert_int_equal(err, ESPAT_NET_ENOMEM);
	struct sk l = {.f = f, .name = 'L'};
	assert_null(f->net.listen(f->net.user, 80, false, NULL, &cbs, &l, &err));
	assert_int_equal(err, ESPAT_NET_ENOMEM);
	for (int i = 0; i < ESPAT_NET_MEM_SOCKS; i++)
		mclose(f, &k[i], ESPAT_CLOSE_GRACEFUL);

	struct dns_rec r = {.f = f, .tag = 'r'};
	struct espat_dns_query q = {.name = "x.test"};
	struct espat_dns_req *reqs[ESPAT_NET_MEM_REQS];
	for (int i = 0; i < ESPAT_NET_MEM_REQS; i++)
		assert_non_null(reqs[i] = f->net.resolve(f->net.user, &q, dns_done, &r, &err));
	assert_null(f->net.resolve(f->net.user, &q, dns_done, &r, &err));
	assert_int_equal(err, ESPAT_NET_ENOMEM);
	struct espat_ip ip = espat_ip4(1, 1, 1, 1);
	assert_null(f->net.ping(f->net.user, &ip, 100, ping_done, &r, &err));
	for (int i = 0; i < ESPAT_NET_MEM_REQS; i++)
		f->net.resolve_cancel(f->net.user, reqs[i]);

	/* stream buffers have a cap */
	struct sk a;
	struct espat_mem_conn *c = connected_pair(f, &a, 'a');
	uint8_t *big = calloc(1, ESPAT_NET_MEM_BUF_MAX + 1);
	assert_non_null(big);
	assert_int_equal(espat_mem_conn_send(c, big, ESPAT_NET_MEM_BUF_MAX + 1), -1);
	espat_mem_conn_set_window(c, 0);
	assert_int_equal(f->net.send(f->net.user, a.s, big, ESPAT_NET_MEM_BUF_MAX + 1, NULL),
	                 ESPAT_NET_ENOMEM);
	/* a full peer buffer stops reading until the test takes bytes */
	espat_mem_conn_set_window(c, ESPAT_MEM_WINDOW_OPEN);
	assert_int_equal(f->net.send(f->net.user, a.s, big, ESPAT_NET_MEM_BUF_MAX, NULL), 0);
	assert_int_equal(f->net.send(f->net.user, a.s, big, 10, NULL), 0);
	assert_int_equal(f->net.queued(f->net.user, a.s), 10);
	assert_int_equal(espat_mem_conn_take(c, big, 100), 100);
	assert_int_equal(f->net.queued(f->net.user, a.s), 0);
	run(f);
	expect_log(f, "a drained\n");
	assert_int_equal(c->read_total, ESPAT_NET_MEM_BUF_MAX + 10);
	free(big);
	/* left open on purpose: espat_net_mem_free cleans up (ASan checks) */
	psend(c, "pending");
}

static void test_teardown_with_everything_pending(void **state)
{
	struct fix *f = *state;
	f->n.connect_ms = 10;
	espat_net_mem_serve(&f->n, ep4(10, 0, 0, 1, 80));
	struct sk a, u, l = {.f = f, .name = 'L'};
	int err;
	open_tcp(f, &a, 'a', ep4(10, 0, 0, 1, 80), &err);
	open_udp(f, &u, 'u', (struct espat_endpoint){0}, 0, false, &err);
	l.s = f->net.listen(f->net.user, 80, false, NULL, &cbs, &l, &err);
	espat_net_mem_connect(&f->n, 80, ep4(1, 2, 3, 4, 5));
	struct espat_mem_udp_peer *p = espat_net_mem_udp_peer(&f->n, ep4(1, 2, 3, 4, 6));
	espat_mem_udp_send(p, 49152, "x", 1);
	struct dns_rec r = {.f = f, .tag = 'r'};
	resolve(f, &r, "x.test", ESPAT_DNS_PREFER_V4);
	/* nothing delivered; teardown frees it all */
}

/* ---- the test port: settle and advance ---- */

static void test_testport_delivery(void **state)
{
	(void)state;
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	rig_start(r, T_WHOLE, 1);
	struct fix *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->net = r->tp.ports.net;
	f->clock = &r->tp.now;
	assert_ptr_equal(f->net.user, &r->tp.fault); /* the fault layer over tp.net */
	struct espat_net_mem *n = &r->tp.net;
	n->connect_ms = 250;
	espat_net_mem_serve(n, ep4(10, 0, 0, 1, 80));
	struct sk a;
	int err;
	open_tcp(f, &a, 'a', ep4(10, 0, 0, 1, 80), &err);
	espat_tp_settle(&r->tp, &r->m);
	expect_log(f, "");
	uint64_t t0 = r->tp.now;
	espat_tp_advance(&r->tp, &r->m, 1000);
	expect_log(f, "a connected OK\n");
	assert_int_equal(f->at, t0 + 250); /* advance stopped at the event's own time */
	assert_int_equal(r->tp.now, t0 + 1000);
	struct espat_mem_conn *c = espat_net_mem_last_conn(n);
	psend(c, "ping");
	espat_tp_settle(&r->tp, &r->m);
	expect_log(f, "a data ping\n");
	assert_int_equal(r->tp.now, t0 + 1000); /* settle keeps the clock */
	mclose(f, &a, ESPAT_CLOSE_GRACEFUL);
	assert_int_equal(espat_net_mem_open_socks(n), 0);
	rig_stop(r);
	free(f);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_connect_served, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_unreachable_blackhole, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connect_latency, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_send_while_connecting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chunks_and_fifo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pause, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_inside_callback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_drops_queued_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window_and_drained, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcpopt_and_linger, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_listener, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_listener_backlog_and_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_udp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_udp_ports, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dns, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dns_latency_failures_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_teardown_with_everything_pending, setup, teardown),
	    cmocka_unit_test(test_testport_delivery),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
