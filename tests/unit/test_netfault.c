/* The fault layer (src/world/netfault.c) over the in-memory network,
 * driven through the net port directly: every callback appends a line with
 * the clock to a log the tests compare whole, so the time each event
 * arrives, the order, and the absence of events are all checked. */
#include "support.h"

#include "testport/net_mem.h"
#include "world/netfault.h"

struct fix;

struct sk {
	struct fix *f;
	char name;
	struct espat_sock *s;
	struct espat_sock *got; /* a listener's accepted socket */
};

struct fix {
	uint64_t now;
	struct espat_net_mem n;
	struct espat_netfault nf;
	struct espat_net net; /* the fault port */
	char log[8192];
	size_t loglen;
	unsigned wakes;
};

static uint64_t clk(void *user)
{
	return ((struct fix *)user)->now;
}

static void woke(void *user)
{
	((struct fix *)user)->wakes++;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->now = 1000;
	espat_net_mem_init(&f->n, &f->now);
	struct espat_net lower = espat_net_mem_port(&f->n);
	espat_netfault_init(&f->nf, &lower, clk, f, woke, f);
	f->net = espat_netfault_port(&f->nf);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	espat_netfault_free(&f->nf);
	assert_int_equal(espat_net_mem_open_socks(&f->n), 0);
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
	int k = snprintf(f->log + f->loglen, sizeof(f->log) - f->loglen, "%llu ",
	                 (unsigned long long)f->now);
	assert_true(k > 0 && (size_t)k < sizeof(f->log) - f->loglen);
	f->loglen += (size_t)k;
	va_list ap;
	va_start(ap, fmt);
	k = vsnprintf(f->log + f->loglen, sizeof(f->log) - f->loglen, fmt, ap);
	va_end(ap);
	assert_true(k >= 0 && (size_t)k < sizeof(f->log) - f->loglen);
	f->loglen += (size_t)k;
}

#define expect_log(f, want) expect_log_(f, want, __LINE__)
static void expect_log_(struct fix *f, const char *want, int line)
{
	if (strcmp(f->log, want) != 0)
		fail_msg("line %d: want \"%s\"\n got \"%s\"", line,
		         t_esc((const uint8_t *)want, strlen(want), 0),
		         t_esc((const uint8_t *)f->log, f->loglen, 1));
	f->loglen = 0;
	f->log[0] = 0;
}

static void cb_connected(void *user, int err)
{
	struct sk *k = user;
	logf_(k->f, "%c connected %s\n", k->name, err_name(err));
}

static void cb_data(void *user, const uint8_t *p, size_t n, const struct espat_endpoint *from)
{
	struct sk *k = user;
	logf_(k->f, "%c data %.*s\n", k->name, (int)n, (const char *)p);
}

static void cb_closed(void *user, int err)
{
	struct sk *k = user;
	logf_(k->f, "%c closed %s\n", k->name, err_name(err));
}

static void cb_drained(void *user)
{
	struct sk *k = user;
	logf_(k->f, "%c drained\n", k->name);
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

static void dns_done(void *user, int err, const struct espat_ip *ip)
{
	struct fix *f = user;
	if (err)
		logf_(f, "dns %s\n", err_name(err));
	else
		logf_(f, "dns %u.%u.%u.%u\n", ip->a[0], ip->a[1], ip->a[2], ip->a[3]);
}

static void ping_done(void *user, int err, uint32_t rtt)
{
	struct fix *f = user;
	logf_(f, "ping %s %u\n", err_name(err), rtt);
}

/* Everything due now, in both layers, until nothing is. */
static void settle(struct fix *f)
{
	for (int guard = 0; guard < 1000; guard++) {
		size_t k = espat_net_mem_run(&f->n);
		if (espat_netfault_next_ms(&f->nf) <= f->now) {
			espat_netfault_run(&f->nf);
			continue;
		}
		if (k == 0)
			return;
	}
	fail_msg("settle does not end");
}

/* Moves the clock by ms, stopping at each due time of either layer. */
static void advance(struct fix *f, uint64_t ms)
{
	uint64_t target = f->now + ms;
	for (int guard = 0; guard < 10000; guard++) {
		settle(f);
		uint64_t a = espat_net_mem_next_due(&f->n), b = espat_netfault_next_ms(&f->nf);
		uint64_t next = a < b ? a : b;
		if (next > target)
			break;
		f->now = next > f->now ? next : f->now;
	}
	f->now = target;
	settle(f);
}

static struct espat_endpoint ep4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	return (struct espat_endpoint){espat_ip4(a, b, c, d), port};
}

static struct espat_sock *open_tcp(struct fix *f, struct sk *k, char name,
                                   struct espat_endpoint remote)
{
	*k = (struct sk){.f = f, .name = name};
	struct espat_sock_opts o = {.kind = ESPAT_SOCK_TCP, .remote = remote};
	int err = -1;
	k->s = f->net.open(f->net.user, &o, &cbs, k, &err);
	return k->s;
}

/* A socket connected to a served 10.0.0.1:80, and its connection. */
static struct espat_mem_conn *up(struct fix *f, struct sk *k)
{
	struct espat_endpoint ep = ep4(10, 0, 0, 1, 80);
	assert_int_equal(espat_net_mem_serve(&f->n, ep), 0);
	assert_non_null(open_tcp(f, k, 'a', ep));
	advance(f, 0);
	char want[64];
	snprintf(want, sizeof(want), "%llu a connected OK\n", (unsigned long long)f->now);
	expect_log(f, want);
	return espat_net_mem_last_conn(&f->n);
}

static void close_sock(struct fix *f, struct sk *k)
{
	f->net.close(f->net.user, k->s, ESPAT_CLOSE_ABORT);
	k->s = NULL;
}

static size_t peer_got(struct espat_mem_conn *c, char *buf, size_t cap)
{
	size_t n = espat_mem_conn_take(c, buf, cap - 1);
	buf[n] = 0;
	return n;
}

/* ---- no fault: the lower port as it is ------------------------------------ */

static void test_pass_through(void **state)
{
	struct fix *f = *state;
	struct sk a;
	struct espat_mem_conn *c = up(f, &a);
	assert_int_equal(f->net.send(f->net.user, a.s, (const uint8_t *)"hi", 2, NULL), 0);
	settle(f);
	char buf[64];
	assert_int_equal(peer_got(c, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "hi");
	assert_int_equal(espat_mem_conn_send(c, "yo", 2), 0);
	espat_mem_conn_close(c);
	settle(f);
	expect_log(f, "1000 a drained\n1000 a data yo\n1000 a closed OK\n");
	struct espat_endpoint local, remote;
	f->net.endpoints(f->net.user, a.s, &local, &remote);
	assert_int_equal(remote.port, 80);
	assert_int_equal(local.port, c->local.port);
	assert_int_equal(f->wakes, 0); /* nothing was held */
	close_sock(f, &a);
}

/* ---- DNS -------------------------------------------------------------------- */

static void test_dns_fail_and_hang(void **state)
{
	struct fix *f = *state;
	assert_int_equal(espat_net_mem_dns_add(&f->n, "ok.test", espat_ip4(1, 2, 3, 4)), 0);
	assert_int_equal(espat_net_mem_dns_add(&f->n, "bad.test", espat_ip4(5, 6, 7, 8)), 0);
	espat_netfault_set_dns(&f->nf, "BAD.test", ESPAT_NETFAULT_DNS_FAIL);
	struct espat_dns_query q = {.name = "bad.test", .family = ESPAT_DNS_V4_ONLY};
	int err = 0;
	assert_non_null(f->net.resolve(f->net.user, &q, dns_done, f, &err));
	expect_log(f, ""); /* never from inside the call */
	settle(f);
	expect_log(f, "1000 dns EDNS\n");
	q.name = "ok.test";
	assert_non_null(f->net.resolve(f->net.user, &q, dns_done, f, &err));
	settle(f);
	expect_log(f, "1000 dns 1.2.3.4\n");

	/* every name hangs but ok.test: the query's timeout ends it */
	espat_netfault_set_dns(&f->nf, NULL, ESPAT_NETFAULT_DNS_HANG);
	espat_netfault_set_dns(&f->nf, "ok.test", ESPAT_NETFAULT_DNS_OK);
	assert_int_equal(espat_netfault_dns_for(&f->nf, "bad.test"), ESPAT_NETFAULT_DNS_FAIL);
	assert_int_equal(espat_netfault_dns_for(&f->nf, "x.test"), ESPAT_NETFAULT_DNS_HANG);
	q.name = "x.test";
	q.timeout_ms = 3000;
	assert_non_null(f->net.resolve(f->net.user, &q, dns_done, f, &err));
	advance(f, 2999);
	expect_log(f, "");
	advance(f, 1);
	expect_log(f, "4000 dns EDNS\n");
	/* an address asks no DNS server: no fault */
	assert_int_equal(espat_net_mem_dns_add(&f->n, "10.1.2.3", espat_ip4(10, 1, 2, 3)), 0);
	q.name = "10.1.2.3";
	assert_non_null(f->net.resolve(f->net.user, &q, dns_done, f, &err));
	settle(f);
	expect_log(f, "4000 dns 10.1.2.3\n");
	q.name = "x.test";
	/* a cancelled hang says nothing */
	struct espat_dns_req *r = f->net.resolve(f->net.user, &q, dns_done, f, &err);
	f->net.resolve_cancel(f->net.user, r);
	advance(f, 10000);
	expect_log(f, "");
	q.name = "ok.test";
	assert_non_null(f->net.resolve(f->net.user, &q, dns_done, f, &err));
	settle(f);
	expect_log(f, "14000 dns 1.2.3.4\n");
	assert_int_equal(f->nf.dns_faulted, 3);
	/* ok with no name clears every rule */
	espat_netfault_set_dns(&f->nf, NULL, ESPAT_NETFAULT_DNS_OK);
	assert_int_equal(f->nf.ndns, 0);
}

/* ---- connects ---------------------------------------------------------------- */

static void test_connect_refuse_and_blackhole(void **state)
{
	struct fix *f = *state;
	struct espat_endpoint ep = ep4(10, 0, 0, 1, 80), other = ep4(10, 0, 0, 1, 81);
	assert_int_equal(espat_net_mem_serve(&f->n, ep), 0);
	assert_int_equal(espat_net_mem_serve(&f->n, other), 0);
	struct espat_ip ip = espat_ip4(10, 0, 0, 1);
	espat_netfault_set_conn(&f->nf, &ip, 0, ESPAT_NETFAULT_CONN_BLACKHOLE);
	espat_netfault_set_conn(&f->nf, &ip, 80, ESPAT_NETFAULT_CONN_REFUSE);
	assert_int_equal(espat_netfault_conn_for(&f->nf, &ep), ESPAT_NETFAULT_CONN_REFUSE);
	assert_int_equal(espat_netfault_conn_for(&f->nf, &other), ESPAT_NETFAULT_CONN_BLACKHOLE);

	struct sk a, b;
	assert_non_null(open_tcp(f, &a, 'a', ep));
	assert_non_null(open_tcp(f, &b, 'b', other));
	expect_log(f, "");
	advance(f, 0);
	expect_log(f, "1000 a connected EREFUSED\n");
	/* the blackholed one: nothing, ever; its bytes wait */
	assert_int_equal(f->net.send(f->net.user, b.s, (const uint8_t *)"abc", 3, NULL), 0);
	assert_int_equal(f->net.queued(f->net.user, b.s), 3);
	advance(f, 600000);
	expect_log(f, "");
	assert_int_equal(espat_net_mem_nconns(&f->n), 0); /* nothing reached the network */
	close_sock(f, &a);
	close_sock(f, &b);
	/* the rule is gone: the same connect goes through */
	espat_netfault_set_conn(&f->nf, NULL, 0, ESPAT_NETFAULT_CONN_OK);
	assert_non_null(open_tcp(f, &a, 'a', ep));
	advance(f, 0);
	expect_log(f, "601000 a connected OK\n");
	close_sock(f, &a);
	assert_int_equal(f->nf.conns_faulted, 2);
}

/* ---- latency ------------------------------------------------------------------- */

static void test_latency(void **state)
{
	struct fix *f = *state;
	espat_netfault_set_latency(&f->nf, 50);
	struct espat_endpoint ep = ep4(10, 0, 0, 1, 80);
	assert_int_equal(espat_net_mem_serve(&f->n, ep), 0);
	struct sk a;
	assert_non_null(open_tcp(f, &a, 'a', ep));
	advance(f, 99);
	expect_log(f, "");
	advance(f, 1);
	expect_log(f, "1100 a connected OK\n"); /* SYN out, SYN-ACK back: 2 x 50 */
	struct espat_mem_conn *c = espat_net_mem_last_conn(&f->n);
	assert_int_equal(f->net.send(f->net.user, a.s, (const uint8_t *)"one", 3, NULL), 0);
	assert_int_equal(f->net.send(f->net.user, a.s, (const uint8_t *)"two", 3, NULL), 0);
	assert_int_equal(f->net.queued(f->net.user, a.s), 6);
	advance(f, 49);
	char buf[64];
	assert_int_equal(peer_got(c, buf, sizeof(buf)), 0);
	advance(f, 1);
	assert_int_equal(peer_got(c, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "onetwo");
	expect_log(f, "1150 a drained\n");
	assert_int_equal(espat_mem_conn_send(c, "x", 1), 0);
	espat_mem_conn_close(c);
	advance(f, 49);
	expect_log(f, "");
	advance(f, 1);
	expect_log(f, "1200 a data x\n1200 a closed OK\n"); /* the FIN behind the bytes */
	close_sock(f, &a);

	/* DNS and ping take a round trip more */
	assert_int_equal(espat_net_mem_dns_add(&f->n, "ok.test", espat_ip4(1, 2, 3, 4)), 0);
	struct espat_dns_query q = {.name = "ok.test", .family = ESPAT_DNS_V4_ONLY};
	int err = 0;
	assert_non_null(f->net.resolve(f->net.user, &q, dns_done, f, &err));
	advance(f, 100);
	expect_log(f, "1300 dns 1.2.3.4\n");
	struct espat_ip ip = espat_ip4(10, 0, 0, 9);
	assert_int_equal(espat_net_mem_ping_host(&f->n, ip, 20), 0);
	assert_non_null(f->net.ping(f->net.user, &ip, 1000, ping_done, f, &err));
	advance(f, 1000);
	expect_log(f, "1420 ping OK 120\n");
	/* past the timeout with the latency: a timeout, at the timeout */
	espat_netfault_set_latency(&f->nf, 500);
	assert_non_null(f->net.ping(f->net.user, &ip, 1000, ping_done, f, &err));
	advance(f, 2000);
	expect_log(f, "3300 ping ETIMEDOUT 0\n");
}

/* ---- loss ---------------------------------------------------------------------- */

static void test_loss_udp_and_tcp(void **state)
{
	struct fix *f = *state;
	struct espat_endpoint pep = ep4(10, 0, 0, 2, 7000);
	struct espat_mem_udp_peer *peer = espat_net_mem_udp_peer(&f->n, pep);
	assert_non_null(peer);
	struct sk u = {.f = f, .name = 'u'};
	struct espat_sock_opts o = {.kind = ESPAT_SOCK_UDP, .remote = pep, .local_port = 5000};
	int err = 0;
	u.s = f->net.open(f->net.user, &o, &cbs, &u, &err);
	assert_non_null(u.s);
	espat_netfault_set_loss(&f->nf, 100);
	/* both ways lost; a lost send still drains */
	assert_int_equal(f->net.send(f->net.user, u.s, (const uint8_t *)"d1", 2, NULL), 0);
	assert_int_equal(espat_mem_udp_send(peer, 5000, "d2", 2), 0);
	advance(f, 1000);
	expect_log(f, "1000 u drained\n");
	assert_int_equal(peer->n, 0);
	assert_int_equal(f->nf.dgrams_lost, 2);
	espat_netfault_set_loss(&f->nf, 0);
	assert_int_equal(f->net.send(f->net.user, u.s, (const uint8_t *)"d3", 2, NULL), 0);
	assert_int_equal(espat_mem_udp_send(peer, 5000, "d4", 2), 0);
	advance(f, 0);
	expect_log(f, "2000 u drained\n2000 u data d4\n");
	assert_int_equal(peer->n, 1);
	/* about half of many datagrams are lost (a seeded draw: the same
	 * count every run) */
	espat_netfault_set_loss(&f->nf, 50);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(espat_mem_udp_send(peer, 5000, "z", 1), 0);
		settle(f);
	}
	f->loglen = 0;
	f->log[0] = 0;
	assert_true(f->nf.dgrams_lost > 2 + 60 && f->nf.dgrams_lost < 2 + 140);
	close_sock(f, &u);

	/* TCP: nothing lost, only late, in order */
	espat_netfault_set_loss(&f->nf, 0);
	struct sk a;
	struct espat_mem_conn *c = up(f, &a);
	espat_netfault_set_loss(&f->nf, 100);
	assert_int_equal(espat_mem_conn_send(c, "abc", 3), 0);
	assert_int_equal(espat_mem_conn_send(c, "def", 3), 0);
	uint64_t t0 = f->now;
	/* 200+400+...+6400 = 12600 ms of retransmissions, then it arrives */
	advance(f, 12599);
	expect_log(f, "");
	espat_netfault_set_loss(&f->nf, 0);
	advance(f, 1);
	char want[64];
	snprintf(want, sizeof(want), "%llu a data abcdef\n", (unsigned long long)(t0 + 12600));
	expect_log(f, want);
	close_sock(f, &a);
}

/* ---- freeze ------------------------------------------------------------------------ */

static void test_freeze_and_keepalive(void **state)
{
	struct fix *f = *state;
	struct sk a;
	struct espat_mem_conn *c = up(f, &a);
	struct espat_netfault_match m = {.remote = c->peer, .local_port = c->local.port};
	assert_int_equal(espat_netfault_freeze(&f->nf, &m, true), 1);
	assert_int_equal(espat_netfault_frozen(&f->nf), 1);
	assert_int_equal(espat_mem_conn_send(c, "in", 2), 0);
	assert_int_equal(f->net.send(f->net.user, a.s, (const uint8_t *)"out", 3, NULL), 0);
	advance(f, 600000);
	expect_log(f, ""); /* silence both ways, no keep-alive: forever */
	char buf[64];
	assert_int_equal(peer_got(c, buf, sizeof(buf)), 0);
	assert_int_equal(f->net.queued(f->net.user, a.s), 3);
	/* thawed: what was held flows, in order */
	assert_int_equal(espat_netfault_freeze(&f->nf, &m, false), 1);
	advance(f, 0);
	expect_log(f, "601000 a data in\n601000 a drained\n");
	assert_int_equal(peer_got(c, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "out");

	/* with keep-alive (idle 5 s, 3 probes 1 s apart) the silence kills it */
	struct espat_tcpopt o = {.linger_s = -1, .keepalive_s = 5};
	assert_int_equal(f->net.set_tcpopt(f->net.user, a.s, &o), 0);
	struct espat_netfault_match all = {.all = true};
	assert_int_equal(espat_netfault_freeze(&f->nf, &all, true), 1);
	advance(f, 7999);
	expect_log(f, "");
	advance(f, 1);
	expect_log(f, "609000 a closed ETIMEDOUT\n");
	assert_int_equal(espat_netfault_frozen(&f->nf), 0);
	assert_int_equal(c->closed_by_module, ESPAT_MEM_CLOSED_ABORT);
	assert_int_not_equal(f->net.send(f->net.user, a.s, (const uint8_t *)"x", 1, NULL), 0);
	close_sock(f, &a);
	/* another local port matches nothing */
	m.local_port = 1;
	assert_int_equal(espat_netfault_freeze(&f->nf, &m, true), 0);
}

/* ---- drop ------------------------------------------------------------------------- */

static void test_drop_all(void **state)
{
	struct fix *f = *state;
	struct sk a, l = {.f = f, .name = 'l'};
	struct espat_mem_conn *c = up(f, &a);
	int err = 0;
	l.s = f->net.listen(f->net.user, 333, false, NULL, &cbs, &l, &err);
	assert_non_null(l.s);
	struct espat_mem_conn *in = espat_net_mem_connect(&f->n, 333, ep4(10, 0, 0, 3, 4444));
	assert_non_null(in);
	settle(f);
	expect_log(f, "1000 l accepted\n");
	struct sk b = {.f = f, .name = 'b', .s = l.got};
	f->net.attach(f->net.user, b.s, &cbs, &b);
	f->net.pause(f->net.user, b.s, false);
	assert_int_equal(espat_netfault_drop_all(&f->nf), 2);
	expect_log(f, ""); /* from the loop, not from inside the call */
	settle(f);
	expect_log(f, "1000 b closed ERESET\n1000 a closed ERESET\n");
	assert_int_equal(c->closed_by_module, ESPAT_MEM_CLOSED_ABORT);
	assert_int_equal(in->closed_by_module, ESPAT_MEM_CLOSED_ABORT);
	/* the listener still listens */
	assert_non_null(espat_net_mem_connect(&f->n, 333, ep4(10, 0, 0, 3, 4445)));
	settle(f);
	expect_log(f, "1000 l accepted\n");
	f->net.close(f->net.user, l.got, ESPAT_CLOSE_ABORT);
	close_sock(f, &a);
	close_sock(f, &b);
	close_sock(f, &l);
}

/* Latency on a listener: the peer is accepted L later, and a socket closed
 * with sends still held by latency sends them first. */
static void test_latency_accept_and_close(void **state)
{
	struct fix *f = *state;
	espat_netfault_set_latency(&f->nf, 30);
	struct sk l = {.f = f, .name = 'l'};
	int err = 0;
	l.s = f->net.listen(f->net.user, 333, false, NULL, &cbs, &l, &err);
	assert_non_null(l.s);
	struct espat_mem_conn *in = espat_net_mem_connect(&f->n, 333, ep4(10, 0, 0, 3, 4444));
	advance(f, 29);
	expect_log(f, "");
	advance(f, 1);
	expect_log(f, "1030 l accepted\n");
	struct sk b = {.f = f, .name = 'b', .s = l.got};
	f->net.attach(f->net.user, b.s, &cbs, &b);
	f->net.pause(f->net.user, b.s, false);
	assert_int_equal(f->net.send(f->net.user, b.s, (const uint8_t *)"bye", 3, NULL), 0);
	f->net.close(f->net.user, b.s, ESPAT_CLOSE_GRACEFUL);
	settle(f);
	char buf[16];
	assert_int_equal(peer_got(in, buf, sizeof(buf)), 3);
	assert_int_equal(in->closed_by_module, ESPAT_MEM_CLOSED_GRACEFUL);
	/* a peer accepted while the listener closes is dropped with it */
	assert_non_null(espat_net_mem_connect(&f->n, 333, ep4(10, 0, 0, 3, 4445)));
	settle(f);
	close_sock(f, &l);
	advance(f, 100);
	expect_log(f, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pass_through, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dns_fail_and_hang, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connect_refuse_and_blackhole, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_latency, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loss_udp_and_tcp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_freeze_and_keepalive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drop_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_latency_accept_and_close, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
