/* Drives the Linux net port (posix/net_posix.h) against real peers: the
 * steps given on the command line run in order, in one event loop, and
 * print what happened as lines that tests/e2e/test_net_posix.py reads.
 * With --tls the steps run on the TLS filter (posix/tls_openssl.h) layered
 * over that port, as the app does (tests/e2e/test_tls_filter.py).
 *
 *   net_check [--timeout MS] [--ping-method dgram|raw|tcp] [-v]
 *             [--tls [--handshake-ms MS]] STEP...
 *
 * Sockets live in numbered slots (0, 1, ...); a step acts on the current
 * slot, which is the one opened (or accepted) last, or chosen by "use".
 * Addresses are literals: 127.0.0.1:80, [::1]:80. Steps:
 *
 *   tcp ADDR                 connect                     "open OK slot=N"
 *   tcp-from LPORT ADDR      connect from a local port
 *   udp ADDR LPORT           UDP (ADDR port 0: no default destination)
 *   mcast GROUP PORT         UDP joined to a multicast group
 *   listen PORT v4|v6        listener on loopback
 *   accept                   wait for a peer, attach, resume  "accepted from=ADDR slot=N"
 *   wait-accepted            wait for a peer, leave it queued  "pending N"
 *   use N                    make slot N current
 *   wait-connected           "connected ERR"
 *   send TEXT | sendto ADDR TEXT
 *   send-pattern N           N bytes, byte k = k & 0xff   "sent N queued Q"
 *   recv N                   wait for N bytes in all      "recv N crc=X pattern=ok|bad@K"
 *   dgram                    wait for a datagram          "dgram from=ADDR len=N text=..."
 *   wait-drained             "drained queued=0 maxq=M"
 *   wait-closed              "closed ERR rx=N"
 *   queued | endpoints | fds
 *   pause | resume | close | abort | sleep MS
 *   await                    run the loop until the test says go: a line on
 *                            stdin (each line is one go; stdin closed first
 *                            is an error)
 *   close-in-data            the next data() closes the socket from inside
 *   wait-closed-in-data      until that close has run (its line came then)
 *   pause-in-data            the next data() pauses the socket from inside,
 *                            after counting its bytes
 *   wait-paused-in-data      until that pause has run  "paused-in-data rx=N"
 *   tcpopt LINGER NODELAY SNDTIMEO_MS KEEPALIVE_S
 *   resolve NAME any|v4|v6 TIMEOUT_MS SERVERS|-   "resolve ERR [IP] ms=T"
 *   resolve-cancel NAME      start, cancel, wait 200 ms   "resolve-cancel ok"
 *   ping IP TIMEOUT_MS       "ping ERR rtt=R ms=T"
 *   resolve-bg NAME SERVERS | ping-bg IP TIMEOUT_MS
 *                            start and leave running: the port must free
 *                            it at exit without calling back
 *   cycles N ADDR            N connect/close cycles   "cycles N fds before=A after=B"
 *   close-early ADDR         open, close at once, wait 200 ms: no callback
 *
 * With --tls, "tcp" and "listen" ask for TLS once a tls-* step said so:
 *
 *   tls-on                   TLS with the options set so far (none: a client
 *                            that accepts any server)
 *   tls-set KEY VALUE        set one option and turn TLS on; KEY is cert,
 *                            key, ca (PEM files), name (check_name), sni,
 *                            alpn (comma-separated), psk (hex), id (the PSK
 *                            identity), now (seconds since 1970; default:
 *                            the host's clock at the tls-on or first tls-set)
 *   tls-off                  plain again, every option forgotten
 *
 * A callback for a slot after its close prints "BUG ..." and the exit code
 * is 1; a step that does not finish before the --timeout (default 10 s)
 * prints "TIMEOUT step" and exits 2. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "port/net.h"
#include "posix/log.h"
#include "posix/loop.h"
#include "posix/net_posix.h"
#include "posix/tls_openssl.h"

#define SLOTS 64
#define DGRAMS 32
#define DGRAM_MAX 2048
#define ACCEPT_QUEUE 16
#define PSK_BYTES_MAX 64

struct dgram {
	struct espat_endpoint from;
	size_t len;
	uint8_t p[DGRAM_MAX];
};

struct slot {
	struct espat_sock *s;
	bool open;      /* ours: close() not called yet */
	bool connected; /* connected() ran */
	int conn_err;
	bool closed; /* closed() ran */
	int close_err;
	unsigned drained;
	bool close_in_data;
	bool closed_in_data; /* close-in-data happened */
	bool pause_in_data;
	bool paused_in_data; /* pause-in-data happened */
	bool paused;         /* by the pause step: data() must not run */
	size_t rx;           /* stream bytes received */
	uint32_t crc;        /* CRC-32 of them (zlib's) */
	bool bad;            /* a byte differed from the pattern */
	size_t bad_at;
	size_t maxq; /* most bytes queued() ever showed */
	struct dgram dg[DGRAMS];
	size_t dg_head, dg_n;
	struct espat_sock *acc[ACCEPT_QUEUE]; /* listener: accepted, not yet taken */
	size_t acc_n;
};

struct check {
	struct espat_loop loop;
	struct espat_log log;
	struct espat_net_posix np;
	struct espat_net net;
	struct slot slots[SLOTS];
	size_t nslots, cur;
	uint64_t deadline_ns;
	struct espat_loop_timer wake; /* keeps run_until() from sleeping past its end */
	bool verbose;
	bool bug;
	/* the pending resolve / ping */
	bool dns_done, ping_done;
	int dns_err, ping_err;
	struct espat_ip dns_ip;
	uint32_t ping_rtt;
	unsigned stray; /* callbacks that must not have run */
	/* await: the test's go-aheads on stdin */
	struct espat_loop_watch in;
	unsigned goes; /* lines read and not yet used */
	bool in_eof;
	/* --tls */
	bool use_tls;
	struct espat_tls_filter tf;
	struct espat_loop_timer tls_timer; /* the filter's run() */
	bool tls_on;                       /* tcp and listen ask for TLS */
	struct espat_tls_opts topts;
	uint8_t *pem[3]; /* cert, key, ca files read */
	char *alpn;      /* the alpn list, split in place */
	uint8_t psk[PSK_BYTES_MAX];
};

static const char *const err_names[] = {
    "OK",   "EREFUSED", "ETIMEDOUT", "EUNREACH", "ERESET", "EADDRINUSE", "ENOTFOUND",
    "EDNS", "EINVAL",   "ENOMEM",    "EIO",      "ETLS",   "ECERT",
};

static const char *err_name(int e)
{
	return e >= 0 && (size_t)e < sizeof(err_names) / sizeof(err_names[0]) ? err_names[e] : "E?";
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void fmt_ep(const struct espat_endpoint *ep, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	inet_ntop(ep->ip.v6 ? AF_INET6 : AF_INET, ep->ip.a, ip, sizeof(ip));
	snprintf(buf, len, ep->ip.v6 ? "[%s]:%u" : "%s:%u", ip, ep->port);
}

static bool parse_u32(const char *s, uint32_t max, uint32_t *v)
{
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	char *end;
	unsigned long x = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || x > max)
		return false;
	*v = (uint32_t)x;
	return true;
}

static bool parse_ip(const char *s, struct espat_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, ip->a) == 1)
		return true;
	ip->v6 = true;
	return inet_pton(AF_INET6, s, ip->a) == 1;
}

/* "1.2.3.4:80" or "[::1]:80". */
static bool parse_ep(const char *s, struct espat_endpoint *ep)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return false;
	size_t hl = (size_t)(colon - s);
	memcpy(host, s, hl);
	host[hl] = '\0';
	char *h = host;
	if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
		h[hl - 1] = '\0';
		h++;
	}
	uint32_t port;
	if (!parse_ip(h, &ep->ip) || !parse_u32(colon + 1, 65535, &port))
		return false;
	ep->port = (uint16_t)port;
	return true;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return -1;
	int n = 0;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the directory's own fd */
}

/* ---- callbacks -------------------------------------------------------------- */

static struct check *the_check; /* for the callbacks' verbose lines and the bug flag */

/* The slot of a callback; NULL (and a BUG line) when it was closed. */
static struct slot *slot_of(void *user, const char *what)
{
	struct slot *sl = user;
	if (!sl->open) {
		out("BUG %s after close", what);
		the_check->bug = true;
		return NULL;
	}
	return sl;
}

static void on_connected(void *user, int err)
{
	struct slot *sl = slot_of(user, "connected");
	if (sl == NULL)
		return;
	sl->connected = true;
	sl->conn_err = err;
	if (the_check->verbose)
		out("# connected %s", err_name(err));
}

static void on_data(void *user, const uint8_t *p, size_t n, const struct espat_endpoint *from)
{
	struct slot *sl = slot_of(user, "data");
	if (sl == NULL)
		return;
	if (the_check->verbose)
		out("# data %zu", n);
	if (sl->paused) {
		out("BUG data while paused");
		the_check->bug = true;
	}
	if (sl->close_in_data) {
		sl->close_in_data = false;
		sl->closed_in_data = true;
		sl->open = false;
		the_check->net.close(the_check->net.user, sl->s, ESPAT_CLOSE_GRACEFUL);
		out("closed-in-data after %zu bytes", n);
		return;
	}
	for (size_t i = 0; i < n && !sl->bad; i++) {
		if (p[i] != (uint8_t)(sl->rx + i)) {
			sl->bad = true;
			sl->bad_at = sl->rx + i;
		}
	}
	sl->rx += n;
	sl->crc = crc32_update(sl->crc, p, n);
	if (sl->pause_in_data) {
		sl->pause_in_data = false;
		sl->paused_in_data = true;
		sl->paused = true;
		the_check->net.pause(the_check->net.user, sl->s, true);
	}
	if (sl->dg_n < DGRAMS) {
		struct dgram *d = &sl->dg[(sl->dg_head + sl->dg_n) % DGRAMS];
		d->from = *from;
		d->len = n < DGRAM_MAX ? n : DGRAM_MAX;
		memcpy(d->p, p, d->len);
		sl->dg_n++;
	}
}

static void on_closed(void *user, int err)
{
	struct slot *sl = slot_of(user, "closed");
	if (sl == NULL)
		return;
	sl->closed = true;
	sl->close_err = err;
	if (the_check->verbose)
		out("# closed %s", err_name(err));
}

static void on_drained(void *user)
{
	struct slot *sl = slot_of(user, "drained");
	if (sl == NULL)
		return;
	sl->drained++;
}

static void on_accepted(void *user, struct espat_sock *s)
{
	struct slot *sl = slot_of(user, "accepted");
	if (sl == NULL)
		return;
	if (sl->acc_n == ACCEPT_QUEUE) {
		the_check->net.close(the_check->net.user, s, ESPAT_CLOSE_ABORT);
		return;
	}
	sl->acc[sl->acc_n++] = s;
}

static const struct espat_sock_cbs cbs = {
    .connected = on_connected,
    .data = on_data,
    .closed = on_closed,
    .drained = on_drained,
    .accepted = on_accepted,
};

static void on_dns(void *user, int err, const struct espat_ip *ip)
{
	struct check *c = user;
	c->dns_done = true;
	c->dns_err = err;
	if (ip != NULL)
		c->dns_ip = *ip;
}

static void on_stray_dns(void *user, int err, const struct espat_ip *ip)
{
	struct check *c = user;
	c->stray++;
}

static void on_stray_ping(void *user, int err, uint32_t rtt)
{
	struct check *c = user;
	c->stray++;
}

static void on_ping(void *user, int err, uint32_t rtt)
{
	struct check *c = user;
	c->ping_done = true;
	c->ping_err = err;
	c->ping_rtt = rtt;
}

/* ---- running ---------------------------------------------------------------- */

static void on_wake(void *user)
{
}

/* Runs the loop until *flag (or, with flag NULL, until ms have passed).
 * False at the global deadline. */
static bool run_until(struct check *c, const bool *flag, uint32_t ms)
{
	uint64_t until = c->deadline_ns;
	if (flag == NULL) {
		uint64_t t = espat_loop_now_ns() + (uint64_t)ms * 1000000u;
		until = t < until ? t : until;
	}
	espat_loop_timer_arm(&c->loop, &c->wake, until, on_wake, c);
	while (flag == NULL || !*flag) {
		if (espat_loop_now_ns() >= until)
			break;
		if (espat_loop_run_once(&c->loop) < 0) {
			out("loop: %s", strerror(errno));
			exit(3);
		}
	}
	espat_loop_timer_cancel(&c->loop, &c->wake);
	return flag == NULL || *flag;
}

/* A flag for run_until() from a condition that the callbacks change. */
static bool run_while(struct check *c, bool (*cond)(struct slot *), struct slot *sl)
{
	while (cond(sl)) {
		if (espat_loop_now_ns() >= c->deadline_ns)
			return false;
		espat_loop_timer_arm(&c->loop, &c->wake, c->deadline_ns, on_wake, c);
		if (espat_loop_run_once(&c->loop) < 0)
			exit(3);
	}
	espat_loop_timer_cancel(&c->loop, &c->wake);
	return true;
}

static struct slot *new_slot(struct check *c)
{
	if (c->nslots == SLOTS) {
		out("too many slots");
		exit(3);
	}
	struct slot *sl = &c->slots[c->nslots];
	memset(sl, 0, sizeof(*sl));
	c->cur = c->nslots++;
	return sl;
}

static struct slot *cur(struct check *c)
{
	if (c->nslots == 0) {
		out("no socket yet");
		exit(3);
	}
	return &c->slots[c->cur];
}

static void track_queued(struct check *c, struct slot *sl)
{
	size_t q = c->net.queued(c->net.user, sl->s);
	if (q > sl->maxq)
		sl->maxq = q;
}

static bool open_sock(struct check *c, const struct espat_sock_opts *o)
{
	struct slot *sl = new_slot(c);
	int err = 0;
	sl->s = c->net.open(c->net.user, o, &cbs, sl, &err);
	sl->open = sl->s != NULL;
	if (sl->s == NULL) {
		c->nslots--;
		out("open %s", err_name(err));
	} else {
		out("open OK slot=%zu", c->cur);
	}
	return true;
}

static bool not_connected(struct slot *sl)
{
	return !sl->connected && !sl->closed;
}

static bool not_drained(struct slot *sl)
{
	return sl->drained == 0 && !sl->closed;
}

static bool not_closed(struct slot *sl)
{
	return !sl->closed;
}

static bool no_dgram(struct slot *sl)
{
	return sl->dg_n == 0;
}

static bool none_accepted(struct slot *sl)
{
	return sl->acc_n == 0;
}

static bool not_closed_in_data(struct slot *sl)
{
	return !sl->closed_in_data;
}

static bool not_paused_in_data(struct slot *sl)
{
	return !sl->paused_in_data && !sl->closed;
}

/* stdin readable: every newline is one go for await. */
static void on_stdin(void *user, uint32_t events)
{
	struct check *c = user;
	char buf[256];
	ssize_t n = read(0, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		c->in_eof = true;
		espat_loop_del(&c->loop, &c->in);
		return;
	}
	for (ssize_t k = 0; k < n; k++)
		c->goes += buf[k] == '\n';
}

/* Runs the loop until the test's next go (0), 2 at the deadline, 1 when
 * stdin closed without one. */
static int await_go(struct check *c)
{
	if (!c->in.added && !c->in_eof &&
	    espat_loop_add(&c->loop, &c->in, 0, EPOLLIN, on_stdin, c) < 0) {
		out("await: stdin: %s", strerror(errno));
		return 1;
	}
	uint64_t end = c->deadline_ns;
	espat_loop_timer_arm(&c->loop, &c->wake, end, on_wake, c);
	while (c->goes == 0 && !c->in_eof && espat_loop_now_ns() < end) {
		if (espat_loop_run_once(&c->loop) < 0) {
			out("loop: %s", strerror(errno));
			exit(3);
		}
	}
	espat_loop_timer_cancel(&c->loop, &c->wake);
	if (c->goes > 0) {
		c->goes--;
		return 0;
	}
	if (c->in_eof) {
		out("await: stdin closed without a go");
		return 1;
	}
	return 2;
}

static size_t want_rx;
static bool rx_short(struct slot *sl)
{
	return sl->rx < want_rx && !sl->closed;
}

static void print_text(const char *tag, const struct dgram *d)
{
	char from[64], text[DGRAM_MAX * 4 + 1];
	fmt_ep(&d->from, from, sizeof(from));
	size_t o = 0;
	for (size_t i = 0; i < d->len; i++) {
		uint8_t b = d->p[i];
		if (b >= 0x21 && b < 0x7f && b != '\\')
			text[o++] = (char)b;
		else
			o += (size_t)snprintf(text + o, sizeof(text) - o, "\\x%02x", b);
	}
	text[o] = '\0';
	out("%s from=%s len=%zu text=%s", tag, from, d->len, text);
}

static int cycles(struct check *c, uint32_t n, const struct espat_endpoint *to)
{
	int before = count_fds();
	struct espat_sock_opts o = {.kind = ESPAT_SOCK_TCP, .remote = *to};
	for (uint32_t i = 0; i < n; i++) {
		struct slot *sl = new_slot(c);
		int err = 0;
		sl->s = c->net.open(c->net.user, &o, &cbs, sl, &err);
		if (sl->s == NULL) {
			out("cycles: open %s at %u", err_name(err), i);
			return 1;
		}
		sl->open = true;
		if (!run_while(c, not_connected, sl))
			return 2;
		if (sl->conn_err != 0) {
			out("cycles: connected %s at %u", err_name(sl->conn_err), i);
			return 1;
		}
		sl->open = false;
		c->net.close(c->net.user, sl->s, i % 2 ? ESPAT_CLOSE_ABORT : ESPAT_CLOSE_GRACEFUL);
		c->nslots--;
	}
	run_until(c, NULL, 100);
	out("cycles %u fds before=%d after=%d", n, before, count_fds());
	return 0;
}

static int resolve(struct check *c, const char *name, const char *fam, const char *tmo,
                   const char *servers)
{
	struct espat_dns_query q = {.name = name};
	if (strcmp(fam, "v4") == 0)
		q.family = ESPAT_DNS_V4_ONLY;
	else if (strcmp(fam, "v6") == 0)
		q.family = ESPAT_DNS_V6_ONLY;
	else
		q.family = ESPAT_DNS_PREFER_V4;
	if (!parse_u32(tmo, UINT32_MAX, &q.timeout_ms))
		return 3;
	if (strcmp(servers, "-") != 0) {
		char buf[256];
		snprintf(buf, sizeof(buf), "%s", servers);
		for (char *save = NULL, *t = strtok_r(buf, ",", &save); t != NULL;
		     t = strtok_r(NULL, ",", &save)) {
			if (q.nservers == ESPAT_DNS_SERVERS_MAX ||
			    !parse_ip(t, &q.servers[q.nservers]))
				return 3;
			q.nservers++;
		}
	}
	c->dns_done = false;
	int err = 0;
	uint64_t t0 = espat_loop_now_ns();
	struct espat_dns_req *r = c->net.resolve(c->net.user, &q, on_dns, c, &err);
	if (r == NULL) {
		out("resolve %s (at once)", err_name(err));
		return 0;
	}
	if (c->dns_done) {
		out("BUG resolve answered inside the call");
		c->bug = true;
	}
	if (!run_until(c, &c->dns_done, 0))
		return 2;
	unsigned ms = (unsigned)((espat_loop_now_ns() - t0) / 1000000u);
	if (c->dns_err == 0) {
		char ip[INET6_ADDRSTRLEN];
		inet_ntop(c->dns_ip.v6 ? AF_INET6 : AF_INET, c->dns_ip.a, ip, sizeof(ip));
		out("resolve OK %s ms=%u", ip, ms);
	} else {
		out("resolve %s ms=%u", err_name(c->dns_err), ms);
	}
	return 0;
}

static int ping(struct check *c, const char *ipstr, const char *tmo)
{
	struct espat_ip ip;
	uint32_t timeout;
	if (!parse_ip(ipstr, &ip) || !parse_u32(tmo, UINT32_MAX, &timeout))
		return 3;
	c->ping_done = false;
	int err = 0;
	uint64_t t0 = espat_loop_now_ns();
	struct espat_ping_req *r = c->net.ping(c->net.user, &ip, timeout, on_ping, c, &err);
	if (r == NULL) {
		out("ping %s (at once)", err_name(err));
		return 0;
	}
	if (c->ping_done) {
		out("BUG ping answered inside the call");
		c->bug = true;
	}
	if (!run_until(c, &c->ping_done, 0))
		return 2;
	out("ping %s rtt=%u ms=%u", err_name(c->ping_err), c->ping_rtt,
	    (unsigned)((espat_loop_now_ns() - t0) / 1000000u));
	return 0;
}

/* ---- --tls ------------------------------------------------------------------ */

static void on_tls_timer(void *user)
{
	struct check *c = user;
	espat_tls_filter_run(&c->tf);
}

static void tls_wake(void *user)
{
	struct check *c = user;
	espat_loop_timer_arm(&c->loop, &c->tls_timer, espat_loop_now_ns(), on_tls_timer, c);
}

/* Before every wait: the filter's next handshake deadline. */
static void tls_prepare(void *user)
{
	struct check *c = user;
	uint64_t due = espat_tls_filter_next_ns(&c->tf);
	if (due == UINT64_MAX)
		espat_loop_timer_cancel(&c->loop, &c->tls_timer);
	else
		espat_loop_timer_arm(&c->loop, &c->tls_timer, due, on_tls_timer, c);
}

static void tls_on(struct check *c)
{
	if (!c->tls_on)
		c->topts.now = (int64_t)time(NULL);
	c->tls_on = true;
}

static void tls_off(struct check *c)
{
	for (size_t k = 0; k < 3; k++) {
		free(c->pem[k]);
		c->pem[k] = NULL;
	}
	free(c->alpn);
	c->alpn = NULL;
	c->topts = (struct espat_tls_opts){0};
	c->tls_on = false;
}

/* A whole file in memory (NUL-terminated, not counted in *len). */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return NULL;
	uint8_t *p = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (cap - n < 4096) {
			uint8_t *q = realloc(p, cap + 65536);
			if (q == NULL)
				break;
			p = q;
			cap += 65536;
		}
		size_t r = fread(p + n, 1, cap - n - 1, fp);
		n += r;
		if (r == 0) {
			p[n] = '\0';
			*len = n;
			fclose(fp);
			return p;
		}
	}
	free(p);
	fclose(fp);
	return NULL;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool tls_set(struct check *c, const char *key, const char *val)
{
	static const char *const files[] = {"cert", "key", "ca"};
	struct espat_tls_opts *o = &c->topts;
	if (val == NULL)
		return false;
	tls_on(c);
	for (size_t k = 0; k < 3; k++) {
		if (strcmp(key, files[k]) != 0)
			continue;
		size_t n = 0;
		uint8_t *p = slurp(val, &n);
		if (p == NULL) {
			out("tls-set %s: cannot read %s", key, val);
			return false;
		}
		free(c->pem[k]);
		c->pem[k] = p;
		if (k == 0) {
			o->cert = p;
			o->cert_len = n;
		} else if (k == 1) {
			o->key = p;
			o->key_len = n;
		} else {
			o->ca = p;
			o->ca_len = n;
		}
		return true;
	}
	if (strcmp(key, "name") == 0) {
		o->check_name = val;
	} else if (strcmp(key, "sni") == 0) {
		o->sni = val;
	} else if (strcmp(key, "id") == 0) {
		o->psk_identity = (const uint8_t *)val;
		o->psk_identity_len = strlen(val);
	} else if (strcmp(key, "psk") == 0) {
		size_t n = strlen(val);
		if (n % 2 != 0 || n / 2 > sizeof(c->psk))
			return false;
		for (size_t k = 0; k < n / 2; k++) {
			int hi = hexval(val[2 * k]), lo = hexval(val[2 * k + 1]);
			if (hi < 0 || lo < 0)
				return false;
			c->psk[k] = (uint8_t)(hi << 4 | lo);
		}
		o->psk = c->psk;
		o->psk_len = n / 2;
	} else if (strcmp(key, "alpn") == 0) {
		free(c->alpn);
		c->alpn = strdup(val);
		o->nalpn = 0;
		if (c->alpn == NULL)
			return false;
		for (char *save = NULL, *t = strtok_r(c->alpn, ",", &save); t != NULL;
		     t = strtok_r(NULL, ",", &save)) {
			if (o->nalpn == ESPAT_TLS_ALPN_MAX)
				return false;
			o->alpn[o->nalpn++] = t;
		}
	} else if (strcmp(key, "now") == 0) {
		errno = 0;
		char *end;
		long long v = strtoll(val, &end, 10);
		if (errno != 0 || *end != '\0' || end == val)
			return false;
		o->now = v;
	} else {
		return false;
	}
	return true;
}

static const char *arg(int argc, char **argv, int i, int k)
{
	return i + k < argc ? argv[i + k] : NULL;
}

/* Consumes k arguments of the step; false when there are fewer. */
static bool take(int argc, int *i, int k)
{
	if (*i + k > argc)
		return false;
	*i += k;
	return true;
}

/* Runs the step at argv[*i], advancing *i past its arguments. 0, 2 on
 * timeout, 3 on a usage error. */
static int step(struct check *c, int argc, char **argv, int *i)
{
	const char *op = argv[(*i)++];
	const char *a0 = arg(argc, argv, *i, 0), *a1 = arg(argc, argv, *i, 1);
	const char *a2 = arg(argc, argv, *i, 2), *a3 = arg(argc, argv, *i, 3);
	uint32_t u = 0;
	struct espat_endpoint ep;
	if (strcmp(op, "tcp") == 0 || strcmp(op, "tcp-from") == 0) {
		struct espat_sock_opts o = {.kind = ESPAT_SOCK_TCP,
		                            .tls = c->tls_on ? &c->topts : NULL};
		if (op[3] == '-') {
			if (!take(argc, i, 2))
				return 3;
			if (!parse_u32(a0, 65535, &u) || !parse_ep(a1, &o.remote))
				return 3;
			o.local_port = (uint16_t)u;
		} else {
			if (!take(argc, i, 1))
				return 3;
			if (!parse_ep(a0, &o.remote))
				return 3;
		}
		open_sock(c, &o);
	} else if (strcmp(op, "udp") == 0) {
		if (!take(argc, i, 2))
			return 3;
		struct espat_sock_opts o = {.kind = ESPAT_SOCK_UDP,
		                            .tls = c->tls_on ? &c->topts : NULL};
		if (!parse_ep(a0, &o.remote) || !parse_u32(a1, 65535, &u))
			return 3;
		o.local_port = (uint16_t)u;
		open_sock(c, &o);
	} else if (strcmp(op, "mcast") == 0) {
		if (!take(argc, i, 2))
			return 3;
		struct espat_sock_opts o = {.kind = ESPAT_SOCK_UDP, .mcast = true, .reuse = true};
		if (!parse_ip(a0, &o.group) || !parse_u32(a1, 65535, &u))
			return 3;
		o.local_port = (uint16_t)u;
		o.remote.ip.v6 = o.group.v6;
		open_sock(c, &o);
	} else if (strcmp(op, "listen") == 0) {
		if (!take(argc, i, 2))
			return 3;
		if (!parse_u32(a0, 65535, &u))
			return 3;
		struct slot *sl = new_slot(c);
		int err = 0;
		sl->s = c->net.listen(c->net.user, (uint16_t)u, strcmp(a1, "v6") == 0,
		                      c->tls_on ? &c->topts : NULL, &cbs, sl, &err);
		sl->open = sl->s != NULL;
		if (sl->s == NULL) {
			c->nslots--;
			out("listen %s", err_name(err));
		} else {
			struct espat_endpoint local;
			char buf[64];
			c->net.endpoints(c->net.user, sl->s, &local, NULL);
			fmt_ep(&local, buf, sizeof(buf));
			out("listen OK slot=%zu local=%s", c->cur, buf);
		}
	} else if (strcmp(op, "accept") == 0) {
		struct slot *ls = cur(c);
		if (!run_while(c, none_accepted, ls))
			return 2;
		struct espat_sock *s = ls->acc[0];
		memmove(ls->acc, ls->acc + 1, (--ls->acc_n) * sizeof(ls->acc[0]));
		struct slot *sl = new_slot(c);
		sl->s = s;
		sl->open = true;
		c->net.attach(c->net.user, s, &cbs, sl);
		c->net.pause(c->net.user, s, false);
		struct espat_endpoint remote;
		char buf[64];
		c->net.endpoints(c->net.user, s, NULL, &remote);
		fmt_ep(&remote, buf, sizeof(buf));
		out("accepted from=%s slot=%zu", buf, c->cur);
	} else if (strcmp(op, "wait-accepted") == 0) {
		struct slot *ls = cur(c);
		if (!run_while(c, none_accepted, ls))
			return 2;
		out("pending %zu", ls->acc_n);
	} else if (strcmp(op, "use") == 0) {
		if (!take(argc, i, 1))
			return 3;
		if (!parse_u32(a0, (uint32_t)c->nslots - 1, &u))
			return 3;
		c->cur = u;
	} else if (strcmp(op, "wait-connected") == 0) {
		struct slot *sl = cur(c);
		if (!run_while(c, not_connected, sl))
			return 2;
		out("connected %s", sl->connected ? err_name(sl->conn_err) : "none");
	} else if (strcmp(op, "send") == 0 || strcmp(op, "sendto") == 0) {
		struct slot *sl = cur(c);
		const char *text = a0;
		const struct espat_endpoint *to = NULL;
		if (op[4] == 't') {
			if (!take(argc, i, 2))
				return 3;
			if (!parse_ep(a0, &ep))
				return 3;
			to = &ep;
			text = a1;
		} else {
			if (!take(argc, i, 1))
				return 3;
		}
		if (text == NULL)
			return 3;
		int rc = c->net.send(c->net.user, sl->s, (const uint8_t *)text, strlen(text), to);
		out("send %s", err_name(rc));
	} else if (strcmp(op, "send-pattern") == 0) {
		if (!take(argc, i, 1))
			return 3;
		if (!parse_u32(a0, 1u << 30, &u))
			return 3;
		struct slot *sl = cur(c);
		uint8_t *p = malloc(u ? u : 1);
		if (p == NULL)
			return 3;
		for (uint32_t k = 0; k < u; k++)
			p[k] = (uint8_t)k;
		int rc = c->net.send(c->net.user, sl->s, p, u, NULL);
		free(p);
		track_queued(c, sl);
		out("sent %u %s queued=%zu", u, err_name(rc), c->net.queued(c->net.user, sl->s));
	} else if (strcmp(op, "recv") == 0) {
		if (!take(argc, i, 1))
			return 3;
		if (!parse_u32(a0, UINT32_MAX, &u))
			return 3;
		struct slot *sl = cur(c);
		want_rx = u;
		if (!run_while(c, rx_short, sl))
			return 2;
		char pat[48];
		if (sl->bad)
			snprintf(pat, sizeof(pat), "bad@%zu", sl->bad_at);
		else
			snprintf(pat, sizeof(pat), "ok");
		out("recv %zu crc=%08x pattern=%s", sl->rx, sl->crc, pat);
	} else if (strcmp(op, "dgram") == 0) {
		struct slot *sl = cur(c);
		if (!run_while(c, no_dgram, sl))
			return 2;
		print_text("dgram", &sl->dg[sl->dg_head]);
		sl->dg_head = (sl->dg_head + 1) % DGRAMS;
		sl->dg_n--;
	} else if (strcmp(op, "wait-drained") == 0) {
		struct slot *sl = cur(c);
		/* Watch queued() grow and shrink while waiting. */
		while (not_drained(sl)) {
			track_queued(c, sl);
			if (espat_loop_now_ns() >= c->deadline_ns)
				return 2;
			espat_loop_timer_arm(&c->loop, &c->wake, c->deadline_ns, on_wake, c);
			espat_loop_run_once(&c->loop);
		}
		espat_loop_timer_cancel(&c->loop, &c->wake);
		out("drained %u queued=%zu maxq=%zu", sl->drained,
		    c->net.queued(c->net.user, sl->s), sl->maxq);
		sl->drained = 0;
	} else if (strcmp(op, "wait-closed") == 0) {
		struct slot *sl = cur(c);
		if (!run_while(c, not_closed, sl))
			return 2;
		out("closed %s rx=%zu", err_name(sl->close_err), sl->rx);
	} else if (strcmp(op, "queued") == 0) {
		out("queued %zu", c->net.queued(c->net.user, cur(c)->s));
	} else if (strcmp(op, "endpoints") == 0) {
		struct espat_endpoint l, r;
		char lb[64], rb[64];
		c->net.endpoints(c->net.user, cur(c)->s, &l, &r);
		fmt_ep(&l, lb, sizeof(lb));
		fmt_ep(&r, rb, sizeof(rb));
		out("endpoints local=%s remote=%s", lb, rb);
	} else if (strcmp(op, "fds") == 0) {
		out("fds %d", count_fds());
	} else if (strcmp(op, "pause") == 0 || strcmp(op, "resume") == 0) {
		cur(c)->paused = op[0] == 'p';
		c->net.pause(c->net.user, cur(c)->s, cur(c)->paused);
		out("%s", op);
	} else if (strcmp(op, "close") == 0 || strcmp(op, "abort") == 0) {
		struct slot *sl = cur(c);
		sl->open = false;
		c->net.close(c->net.user, sl->s,
		             op[0] == 'c' ? ESPAT_CLOSE_GRACEFUL : ESPAT_CLOSE_ABORT);
		out("%s", op);
	} else if (strcmp(op, "close-in-data") == 0) {
		cur(c)->close_in_data = true;
	} else if (strcmp(op, "wait-closed-in-data") == 0) {
		if (!run_while(c, not_closed_in_data, cur(c)))
			return 2;
	} else if (strcmp(op, "pause-in-data") == 0) {
		cur(c)->pause_in_data = true;
	} else if (strcmp(op, "wait-paused-in-data") == 0) {
		if (!run_while(c, not_paused_in_data, cur(c)))
			return 2;
		out("paused-in-data rx=%zu", cur(c)->rx);
	} else if (strcmp(op, "await") == 0) {
		return await_go(c);
	} else if (strcmp(op, "sleep") == 0) {
		if (!take(argc, i, 1))
			return 3;
		if (!parse_u32(a0, 600000, &u))
			return 3;
		run_until(c, NULL, u);
	} else if (strcmp(op, "tcpopt") == 0) {
		if (!take(argc, i, 4))
			return 3;
		uint32_t nd, st, ka;
		struct espat_tcpopt o;
		if (strcmp(a0, "-1") == 0)
			o.linger_s = -1;
		else if (parse_u32(a0, 3600, &u))
			o.linger_s = (int32_t)u;
		else
			return 3;
		if (!parse_u32(a1, 1, &nd) || !parse_u32(a2, UINT32_MAX, &st) ||
		    !parse_u32(a3, 7200, &ka))
			return 3;
		o.nodelay = nd;
		o.sndtimeo_ms = st;
		o.keepalive_s = ka;
		out("tcpopt %s", err_name(c->net.set_tcpopt(c->net.user, cur(c)->s, &o)));
	} else if (strcmp(op, "resolve") == 0) {
		if (!take(argc, i, 4))
			return 3;
		return resolve(c, a0, a1, a2, a3);
	} else if (strcmp(op, "resolve-cancel") == 0) {
		if (!take(argc, i, 1))
			return 3;
		struct espat_dns_query q = {.name = a0, .timeout_ms = 1000};
		int err = 0;
		unsigned before = c->stray;
		struct espat_dns_req *r = c->net.resolve(c->net.user, &q, on_stray_dns, c, &err);
		if (r != NULL)
			c->net.resolve_cancel(c->net.user, r);
		run_until(c, NULL, 200);
		out("resolve-cancel %s", c->stray == before ? "ok" : "BUG");
		c->bug = c->bug || c->stray != before;
	} else if (strcmp(op, "resolve-bg") == 0) {
		if (!take(argc, i, 2))
			return 3;
		struct espat_dns_query q = {.name = a0, .timeout_ms = 5000};
		if (strcmp(a1, "-") != 0 && !parse_ip(a1, &q.servers[q.nservers++]))
			return 3;
		int err = 0;
		out("resolve-bg %s", c->net.resolve(c->net.user, &q, on_stray_dns, c, &err)
		                         ? "started"
		                         : err_name(err));
	} else if (strcmp(op, "ping-bg") == 0) {
		if (!take(argc, i, 2))
			return 3;
		struct espat_ip ip;
		if (!parse_ip(a0, &ip) || !parse_u32(a1, UINT32_MAX, &u))
			return 3;
		int err = 0;
		out("ping-bg %s", c->net.ping(c->net.user, &ip, u, on_stray_ping, c, &err)
		                      ? "started"
		                      : err_name(err));
	} else if (strcmp(op, "ping") == 0) {
		if (!take(argc, i, 2))
			return 3;
		return ping(c, a0, a1);
	} else if (strcmp(op, "cycles") == 0) {
		if (!take(argc, i, 2))
			return 3;
		if (!parse_u32(a0, 1000000, &u) || !parse_ep(a1, &ep))
			return 3;
		return cycles(c, u, &ep);
	} else if (strcmp(op, "tls-on") == 0) {
		tls_on(c);
	} else if (strcmp(op, "tls-set") == 0) {
		if (!take(argc, i, 2) || !tls_set(c, a0, a1))
			return 3;
	} else if (strcmp(op, "tls-off") == 0) {
		tls_off(c);
	} else if (strcmp(op, "close-early") == 0) {
		if (!take(argc, i, 1))
			return 3;
		struct espat_sock_opts o = {.kind = ESPAT_SOCK_TCP};
		if (!parse_ep(a0, &o.remote))
			return 3;
		struct slot *sl = new_slot(c);
		int err = 0;
		sl->s = c->net.open(c->net.user, &o, &cbs, sl, &err);
		if (sl->s != NULL)
			c->net.close(c->net.user, sl->s, ESPAT_CLOSE_GRACEFUL);
		run_until(c, NULL, 200);
		c->nslots--;
		out("close-early %s", c->bug ? "BUG" : "ok");
	} else {
		out("unknown step %s", op);
		return 3;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct check c;
	the_check = &c;
	c.log = (struct espat_log){.level = ESPAT_LOG_WARN, .out = stderr};
	uint32_t timeout = 10000, hs_ms = ESPAT_TLS_HANDSHAKE_MS;
	unsigned methods = ESPAT_NET_PING_ALL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-v") == 0) {
			c.verbose = true;
			c.log.level = ESPAT_LOG_DEBUG;
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc &&
		           parse_u32(argv[i + 1], 3600000, &timeout)) {
			i++;
		} else if (strcmp(argv[i], "--tls") == 0) {
			c.use_tls = true;
		} else if (strcmp(argv[i], "--handshake-ms") == 0 && i + 1 < argc &&
		           parse_u32(argv[i + 1], 3600000, &hs_ms)) {
			i++;
		} else if (strcmp(argv[i], "--ping-method") == 0 && i + 1 < argc) {
			const char *m = argv[++i];
			methods = strcmp(m, "dgram") == 0 ? ESPAT_NET_PING_DGRAM
			          : strcmp(m, "raw") == 0 ? ESPAT_NET_PING_RAW
			          : strcmp(m, "tcp") == 0 ? ESPAT_NET_PING_TCP
			                                  : ESPAT_NET_PING_ALL;
		} else {
			fprintf(stderr, "usage: net_check [--timeout MS] [--ping-method M] [-v] "
			                "[--tls [--handshake-ms MS]] STEP...\n");
			return 3;
		}
	}
	if (espat_loop_init(&c.loop) < 0 || espat_net_posix_init(&c.np, &c.loop, &c.log) < 0) {
		perror("net_check: init");
		return 3;
	}
	c.np.ping_methods = methods;
	c.net = espat_net_posix_port(&c.np);
	if (c.use_tls) {
		if (espat_tls_filter_init(&c.tf, &c.net, tls_wake, &c, &c.log) < 0) {
			perror("net_check: TLS filter");
			return 3;
		}
		c.tf.handshake_ms = hs_ms;
		c.net = espat_tls_filter_port(&c.tf);
		c.loop.prepare = tls_prepare;
		c.loop.prepare_user = &c;
	}
	c.deadline_ns = espat_loop_now_ns() + (uint64_t)timeout * 1000000u;
	int rc = 0;
	while (i < argc && rc == 0) {
		const char *op = argv[i];
		rc = step(&c, argc, argv, &i);
		if (rc == 2)
			out("TIMEOUT %s", op);
		else if (rc == 3)
			out("usage error at step %s", op);
	}
	espat_loop_del(&c.loop, &c.in);
	if (c.use_tls) {
		espat_loop_timer_cancel(&c.loop, &c.tls_timer);
		espat_tls_filter_free(&c.tf);
		tls_off(&c);
	}
	espat_net_posix_free(&c.np);
	espat_loop_free(&c.loop);
	if (c.stray != 0) {
		out("BUG %u callbacks of requests left running", c.stray);
		c.bug = true;
	}
	if (rc == 0 && c.bug)
		rc = 1;
	out("exit %d", rc);
	return rc;
}
