/* AT+CIPSNTPCFG, AT+CIPSNTPTIME, AT+CIPSNTPINTV, AT+PING and AT+MDNS over the
 * net port. The SNTP client follows lwIP's sntp.c (which esp-at runs): one
 * server at a time, the next one after a DNS failure, a refusal or 15 s of
 * silence, a pause once all have failed, a new sync every AT+CIPSNTPINTV
 * seconds after a good one. */
#include "cmd/svc.h"

#include <stdio.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/conn.h"
#include "cmd/family.h"
#include "cmd/params.h"
#include "proto/sntp.h"
#include "cmd/tcpip.h"
#include "cmd/wifi.h"

#define E(m) (&(m)->eng)
#define NET(m) (&(m)->ports.net)

#define S(m) (&(m)->svc->sntp)
#define P(m) (&(m)->svc->ping)
#define M(m) (&(m)->svc->mdns)

/* AT+CIPSNTPCFG's servers when none is given (guide 3.3.20 note). */
static const char *const default_servers[ESPAT_SNTP_SERVERS] = {
	"cn.ntp.org.cn",
	"ntp.sjtu.edu.cn",
	"us.pool.ntp.org",
};

/* The A record of AT+MDNS: the module's servers listen on the host's
 * loopback (docs/ARCHITECTURE.md, "Addresses"), the only address where a
 * host peer that resolved <hostname>.local can reach them. */
static const uint8_t mdns_a_ip[4] = {127, 0, 0, 1};

static const struct espat_endpoint mdns_group = {
	.ip = {.a = {224, 0, 0, 251}},
	.port = ESPAT_MDNS_PORT,
};

static void sntp_default_servers(struct espat_svc_sntp *s)
{
	for (size_t i = 0; i < ESPAT_SNTP_SERVERS; i++)
		snprintf(s->servers[i], sizeof(s->servers[i]), "%s", default_servers[i]);
	s->nservers = ESPAT_SNTP_SERVERS;
}

static uint64_t now(const struct espat_module *m)
{
	return espat_module_now(m);
}

/* Whether the port can do UDP at all (test setups may leave it empty). */
static bool net_udp(const struct espat_module *m)
{
	const struct espat_net *n = &m->ports.net;
	return n->open && n->send && n->close;
}

/* Names resolve IPv4 first; to IPv6 only under AT+CIPV6=1 (as AT+CIPDOMAIN
 * does): without it the station has no IPv6 address to use. */
static enum espat_dns_family dns_family(const struct espat_module *m)
{
	return espat_tcpip_ipv6(m) ? ESPAT_DNS_PREFER_V4 : ESPAT_DNS_V4_ONLY;
}

static bool ip_eq(const struct espat_ip *a, const struct espat_ip *b)
{
	return a->v6 == b->v6 && memcmp(a->a, b->a, a->v6 ? 16 : 4) == 0;
}

/* A string argument as a C string: false when it holds a NUL byte. */
static bool arg_cstr(const struct espat_arg *v, char *dst, size_t cap)
{
	if (v->kind != ESPAT_ARG_STR || v->len >= cap || memchr(v->s, 0, v->len))
		return false;
	memcpy(dst, v->s, v->len);
	dst[v->len] = '\0';
	return true;
}

static void cancel_dns(struct espat_module *m, struct espat_dns_req **r)
{
	if (*r && NET(m)->resolve_cancel)
		NET(m)->resolve_cancel(NET(m)->user, *r);
	*r = NULL;
}

static void close_sock(struct espat_module *m, struct espat_sock **s, enum espat_close_how how)
{
	if (*s)
		NET(m)->close(NET(m)->user, *s, how);
	*s = NULL;
}

/* ---- the RTC ------------------------------------------------------------------ */


/* Sets the RTC to unix_s + ms/1000 at this moment. The fraction is kept by
 * backdating the set time, so the next second ticks when it should. */
static void rtc_set(struct espat_module *m, int64_t unix_s, uint32_t ms)
{
	uint64_t t = now(m);
	espat_rtc_set(m, unix_s, t >= ms ? t - ms : t);
}

/* ---- SNTP --------------------------------------------------------------------- */

static void sntp_attempt(struct espat_module *m);

/* Stops whatever the client has under way. */
static void sntp_cancel(struct espat_module *m)
{
	struct espat_svc_sntp *s = S(m);
	cancel_dns(m, &s->dns);
	close_sock(m, &s->sock, ESPAT_CLOSE_ABORT);
	espat_timer_cancel(&m->timers, &s->timer);
}

/* The current server failed (DNS, socket, refusal, silence): on to the next. */
static void sntp_next(struct espat_module *m)
{
	struct espat_svc_sntp *s = S(m);
	s->cur = (uint8_t)((s->cur + 1) % s->nservers);
	s->tried++;
	sntp_attempt(m);
}

static void sntp_due(void *user)
{
	struct espat_module *m = user;
	if (S(m)->phase == ESPAT_SNTP_ASKING) /* no reply in time */
		sntp_next(m);
	else
		sntp_attempt(m);
}

static void sntp_wait(struct espat_module *m, enum espat_sntp_phase ph, uint64_t ms)
{
	struct espat_svc_sntp *s = S(m);
	s->phase = ph;
	espat_timer_arm(&m->timers, &s->timer, now(m) + ms, sntp_due, m);
}

static void sntp_data(void *user, const uint8_t *p, size_t n, const struct espat_endpoint *from)
{
	struct espat_module *m = user;
	struct espat_svc_sntp *s = S(m);
	if (s->phase != ESPAT_SNTP_ASKING || !from || from->port != ESPAT_SNTP_PORT ||
	    !ip_eq(&from->ip, &s->server.ip))
		return;
	int64_t t;
	uint32_t ms;
	switch (espat_sntp_parse(p, n, s->xmit, &t, &ms)) {
	case ESPAT_SNTP_IGNORE:
		return;
	case ESPAT_SNTP_REFUSE:
		sntp_next(m);
		return;
	case ESPAT_SNTP_TIME:
		break;
	}
	sntp_cancel(m);
	rtc_set(m, t, ms);
	s->synced = true;
	s->synced_ms = now(m);
	s->tried = 0;
	espat_wr_reportf(&m->wr, "+TIME_UPDATED");
	sntp_wait(m, ESPAT_SNTP_IDLE, (uint64_t)s->interval_s * 1000u);
}

static const struct espat_sock_cbs sntp_cbs = {.data = sntp_data};

/* Sends a request to ip:123 and waits for the reply. */
static void sntp_ask(struct espat_module *m, const struct espat_ip *ip)
{
	struct espat_svc_sntp *s = S(m);
	struct espat_sock_opts o = {.kind = ESPAT_SOCK_UDP,
				    .remote = {.ip = *ip, .port = ESPAT_SNTP_PORT}};
	int err = 0;
	s->sock = NET(m)->open(NET(m)->user, &o, &sntp_cbs, m, &err);
	if (!s->sock) {
		sntp_next(m);
		return;
	}
	s->server = o.remote;
	/* Our clock in the seconds, a random fraction: the reply must echo it
	 * (RFC 4330 5), so it doubles as a nonce. */
	uint64_t rnd = m->ports.sys.random(m->ports.sys.user) | 1u;
	s->xmit = (espat_ntp_from_unix(espat_rtc_now(m), 0) & ~(uint64_t)0xFFFFFFFFu) | rnd;
	uint8_t pkt[ESPAT_SNTP_PKT];
	espat_sntp_request(pkt, s->xmit);
	if (NET(m)->send(NET(m)->user, s->sock, pkt, sizeof(pkt), NULL) != 0) {
		sntp_next(m);
		return;
	}
	sntp_wait(m, ESPAT_SNTP_ASKING, ESPAT_SNTP_RECV_MS);
}

static void sntp_resolved(void *user, int err, const struct espat_ip *ip)
{
	struct espat_module *m = user;
	S(m)->dns = NULL;
	if (err || !ip)
		sntp_next(m);
	else
		sntp_ask(m, ip);
}

/* Asks servers[cur], or waits: for the network, or after a round in which
 * every server failed. Recursion through sntp_next() is bounded by the
 * number of servers. */
static void sntp_attempt(struct espat_module *m)
{
	struct espat_svc_sntp *s = S(m);
	sntp_cancel(m);
	if (!s->enabled) {
		s->phase = ESPAT_SNTP_OFF;
		return;
	}
	if (!net_udp(m) || !espat_wifi_online(m)) {
		sntp_wait(m, ESPAT_SNTP_OFFLINE, ESPAT_SVC_OFFLINE_POLL_MS);
		return;
	}
	if (s->tried >= s->nservers) {
		s->tried = 0;
		sntp_wait(m, ESPAT_SNTP_BACKOFF, ESPAT_SNTP_RETRY_MS);
		return;
	}
	const char *name = s->servers[s->cur];
	struct espat_ip ip;
	if (espat_ip_parse(name, strlen(name), &ip)) {
		if (ip.v6 && !espat_tcpip_ipv6(m))
			sntp_next(m);
		else
			sntp_ask(m, &ip);
		return;
	}
	if (!NET(m)->resolve) {
		sntp_next(m);
		return;
	}
	int err = 0;
	s->phase = ESPAT_SNTP_RESOLVING;
	s->dns = espat_conn_resolve(m, name, dns_family(m), 0, sntp_resolved, m, &err);
	if (!s->dns)
		sntp_next(m);
}

static enum espat_rc cipsntpcfg_query(struct espat_module *m, const struct espat_args *a)
{
	const struct espat_svc_sntp *s = S(m);
	char line[32 + ESPAT_SNTP_SERVERS * (ESPAT_SNTP_NAME_MAX + 3)];
	int n = snprintf(line, sizeof(line), "+CIPSNTPCFG:%d,%d", s->enabled ? 1 : 0,
			 (int)s->tz_shown);
	for (size_t i = 0; i < s->nservers && n > 0 && (size_t)n < sizeof(line); i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ",\"%s\"", s->servers[i]);
	espat_wr_linef(&m->wr, "%s", line);
	return ESPAT_RC_OK;
}

static enum espat_rc cipsntpcfg_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_svc_sntp *s = S(m);
	int32_t tz_min, tz_shown;
	if (!espat_sntp_tz_parse(a->v[1].i, &tz_min, &tz_shown))
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	char servers[ESPAT_SNTP_SERVERS][ESPAT_SNTP_NAME_MAX + 1] = {{0}};
	size_t n = 0;
	for (size_t i = 2; i < a->n; i++, n++)
		if (!arg_cstr(&a->v[i], servers[n], sizeof(servers[n])) || servers[n][0] == '\0')
			return espat_fail(E(m), ESPAT_ERR_INVALID(i));
	bool enable = a->v[0].i == 1;
	if (enable && !net_udp(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	sntp_cancel(m);
	s->enabled = enable;
	s->tz_min = tz_min;
	s->tz_shown = tz_shown;
	if (n) {
		memcpy(s->servers, servers, sizeof(s->servers));
		s->nservers = (uint8_t)n;
	} else {
		sntp_default_servers(s);
	}
	s->cur = 0;
	s->tried = 0;
	s->synced = false;
	sntp_attempt(m);
	return ESPAT_RC_OK;
}

static enum espat_rc cipsntptime_query(struct espat_module *m, const struct espat_args *a)
{
	char t[ESPAT_ASCTIME_MAX];
	espat_asctime(t, espat_rtc_now(m) + (int64_t)S(m)->tz_min * 60);
	espat_wr_linef(&m->wr, "+CIPSNTPTIME:%s", t);
	return ESPAT_RC_OK;
}

static enum espat_rc cipsntpintv_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CIPSNTPINTV:%u", (unsigned)S(m)->interval_s);
	return ESPAT_RC_OK;
}

static enum espat_rc cipsntpintv_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_svc_sntp *s = S(m);
	s->interval_s = (uint32_t)a->v[0].i;
	/* A new interval counts from the last sync; one already overdue runs now. */
	if (s->phase == ESPAT_SNTP_IDLE) {
		uint64_t due = s->synced_ms + (uint64_t)s->interval_s * 1000u;
		espat_timer_arm(&m->timers, &s->timer, due > now(m) ? due : now(m), sntp_due, m);
	}
	return ESPAT_RC_OK;
}

/* ---- AT+PING ------------------------------------------------------------------- */

/* "+PING:TIMEOUT" (ESP32-C3); v1.5 says only ERROR. */
static void ping_timeout_line(struct espat_module *m)
{
	if (m->dialect->ping_timeout)
		espat_wr_linef(&m->wr, "%s", m->dialect->ping_timeout);
}

/* Prints the outcome and finishes the pending command. */
static void ping_end(struct espat_module *m, int err, uint32_t rtt_ms)
{
	struct espat_svc_ping *p = P(m);
	p->running = false;
	p->req = NULL;
	p->dns = NULL;
	if (err == 0) {
		espat_wr_linef(&m->wr, "%s%u", m->dialect->ping_prefix, (unsigned)rtt_ms);
		espat_engine_complete(E(m), ESPAT_RC_OK);
	} else {
		ping_timeout_line(m);
		espat_engine_complete(E(m), espat_fail(E(m), ESPAT_ERR_EXEC));
	}
}

static void ping_done(void *user, int err, uint32_t rtt_ms)
{
	ping_end(user, err, rtt_ms);
}

static bool ping_go(struct espat_module *m, const struct espat_ip *ip)
{
	int err = 0;
	P(m)->req = NET(m)->ping(NET(m)->user, ip, ESPAT_PING_TIMEOUT_MS, ping_done, m, &err);
	return P(m)->req != NULL;
}

static void ping_resolved(void *user, int err, const struct espat_ip *ip)
{
	struct espat_module *m = user;
	P(m)->dns = NULL;
	if (err || !ip || !ping_go(m, ip))
		ping_end(m, err ? err : ESPAT_NET_EIO, 0);
}

enum espat_rc espat_svc_ping_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_svc_ping *p = P(m);
	char host[ESPAT_PING_HOST_MAX + 1];
	if (!arg_cstr(&a->v[0], host, sizeof(host)) || host[0] == '\0')
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	if (!NET(m)->ping || !NET(m)->resolve)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	struct espat_ip ip;
	bool literal = espat_ip_parse(host, strlen(host), &ip);
	/* Offline (or IPv6 without AT+CIPV6=1) the request cannot leave, nor
	 * can a name be looked up: the guide's failure answer, at once. */
	if (!espat_wifi_online(m) || (literal && ip.v6 && !espat_tcpip_ipv6(m)) ||
	    (literal && !ping_go(m, &ip))) {
		ping_timeout_line(m);
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	}
	p->running = true;
	if (literal)
		return ESPAT_RC_PENDING;
	int err = 0;
	p->dns = espat_conn_resolve(m, host, dns_family(m), 0, ping_resolved, m, &err);
	if (!p->dns) {
		p->running = false;
		ping_timeout_line(m);
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	}
	return ESPAT_RC_PENDING;
}

/* ---- AT+MDNS -------------------------------------------------------------------- */

static void mdns_send(struct espat_module *m, size_t n, const struct espat_endpoint *to)
{
	struct espat_svc_mdns *d = M(m);
	if (n > 0 && d->sock)
		NET(m)->send(NET(m)->user, d->sock, d->buf, n, to);
}

static void mdns_due(void *user);

/* Looks at the network again in a while (offline, or the socket could not
 * be opened). */
static void mdns_later(struct espat_module *m)
{
	espat_timer_arm(&m->timers, &M(m)->timer, now(m) + ESPAT_SVC_OFFLINE_POLL_MS, mdns_due, m);
}

static void mdns_announce(struct espat_module *m)
{
	struct espat_svc_mdns *d = M(m);
	mdns_send(m, espat_mdns_announce(&d->cfg, false, d->buf, sizeof(d->buf)), &mdns_group);
	if (d->announce_left > 0)
		d->announce_left--;
	if (d->announce_left > 0) /* RFC 6762 8.3: the next one a second later */
		espat_timer_arm(&m->timers, &d->timer, now(m) + 1000u, mdns_due, m);
}

static void mdns_data(void *user, const uint8_t *p, size_t n, const struct espat_endpoint *from)
{
	struct espat_module *m = user;
	struct espat_svc_mdns *d = M(m);
	struct espat_mdns_query q;
	if (!d->on || !from || !espat_wifi_online(m) || !espat_mdns_parse(p, n, &q))
		return;
	bool legacy = from->port != ESPAT_MDNS_PORT;
	size_t len = espat_mdns_answer(&d->cfg, &q, legacy, d->buf, sizeof(d->buf));
	mdns_send(m, len, legacy ? from : &mdns_group);
}

static const struct espat_sock_cbs mdns_cbs = {.data = mdns_data};

/* The network is (maybe) up: open the socket if needed and announce.
 * Offline, look again later. False when the socket cannot be opened. */
static bool mdns_up(struct espat_module *m)
{
	struct espat_svc_mdns *d = M(m);
	d->online = espat_wifi_online(m);
	if (!d->online) {
		mdns_later(m);
		return true;
	}
	if (!d->sock) {
		struct espat_sock_opts o = {.kind = ESPAT_SOCK_UDP,
					    .local_port = ESPAT_MDNS_PORT,
					    .reuse = true,
					    .mcast = true,
					    .group = mdns_group.ip};
		int err = 0;
		d->sock = NET(m)->open(NET(m)->user, &o, &mdns_cbs, m, &err);
		if (!d->sock)
			return false;
	}
	d->announce_left = 2;
	mdns_announce(m);
	return true;
}

static void mdns_due(void *user)
{
	struct espat_module *m = user;
	struct espat_svc_mdns *d = M(m);
	if (!d->on)
		return;
	if (!espat_wifi_online(m)) { /* gone since: wait for it to come back */
		d->online = false;
		mdns_later(m);
		return;
	}
	if (!d->online || !d->sock) {
		if (!mdns_up(m)) /* the port is taken or the host refuses: try again */
			mdns_later(m);
	} else if (d->announce_left > 0) {
		mdns_announce(m);
	}
}

/* Ends the responder; goodbye: first tell the network the records are
 * gone (RFC 6762 10.1). */
static void mdns_stop(struct espat_module *m, bool goodbye)
{
	struct espat_svc_mdns *d = M(m);
	espat_timer_cancel(&m->timers, &d->timer);
	if (d->sock && goodbye && espat_wifi_online(m))
		mdns_send(m, espat_mdns_announce(&d->cfg, true, d->buf, sizeof(d->buf)),
			  &mdns_group);
	close_sock(m, &d->sock, goodbye ? ESPAT_CLOSE_GRACEFUL : ESPAT_CLOSE_ABORT);
	d->on = false;
	d->online = false;
	d->announce_left = 0;
}

/* Argument i of AT+MDNS, given (not omitted). */
static bool given(const struct espat_args *a, size_t i)
{
	return i < a->n && a->v[i].kind != ESPAT_ARG_OMITTED;
}

/* Fills c from AT+MDNS=1,...; 0, or the ERR CODE. */
static uint32_t mdns_parse_args(const struct espat_args *a, struct espat_mdns_cfg *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->ip, mdns_a_ip, sizeof(c->ip));
	if (!given(a, 1) || !given(a, 2) || !given(a, 3))
		return ESPAT_ERR_NUM(4, a->n);
	if (!arg_cstr(&a->v[1], c->host, sizeof(c->host)) || !c->host[0])
		return ESPAT_ERR_INVALID(1);
	if (!arg_cstr(&a->v[2], c->service, sizeof(c->service)) || !c->service[0])
		return ESPAT_ERR_INVALID(2);
	c->port = (uint16_t)a->v[3].i;
	if (!given(a, 4))
		memcpy(c->instance, c->host, sizeof(c->host));
	else if (!arg_cstr(&a->v[4], c->instance, sizeof(c->instance)) || !c->instance[0])
		return ESPAT_ERR_INVALID(4);
	if (!given(a, 5))
		memcpy(c->proto, "_tcp", sizeof("_tcp"));
	else if (!arg_cstr(&a->v[5], c->proto, sizeof(c->proto)) || !c->proto[0])
		return ESPAT_ERR_INVALID(5);
	if (a->n <= 6)
		return 0;
	if (!given(a, 6))
		return ESPAT_ERR_INVALID(6);
	size_t ntxt = (size_t)a->v[6].i;
	if (a->n != 7 + 2 * ntxt)
		return ESPAT_ERR_NUM(7 + 2 * ntxt, a->n);
	for (size_t i = 0; i < ntxt; i++) {
		const struct espat_arg *k = &a->v[7 + 2 * i], *v = &a->v[8 + 2 * i];
		/* RFC 6763 6.4: a key is printable ASCII other than '=', not empty */
		if (k->kind != ESPAT_ARG_STR || k->len == 0)
			return ESPAT_ERR_INVALID(7 + 2 * i);
		for (size_t j = 0; j < k->len; j++) {
			unsigned char ch = (unsigned char)k->s[j];
			if (ch < 0x20 || ch > 0x7E || ch == '=')
				return ESPAT_ERR_INVALID(7 + 2 * i);
		}
		if (v->kind != ESPAT_ARG_STR || k->len + 1 + v->len > 255) /* one TXT string */
			return ESPAT_ERR_INVALID(8 + 2 * i);
		size_t len = k->len + 1 + v->len;
		if (c->txt_len + 1 + len > sizeof(c->txt))
			return ESPAT_ERR_LENGTH(8 + 2 * i);
		uint8_t *t = c->txt + c->txt_len;
		t[0] = (uint8_t)len;
		memcpy(t + 1, k->s, k->len);
		t[1 + k->len] = '=';
		memcpy(t + 2 + k->len, v->s, v->len);
		c->txt_len += 1 + len;
	}
	return 0;
}

enum espat_rc espat_svc_mdns_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_svc_mdns *d = M(m);
	if (a->v[0].i == 0) {
		/* "Please do not set the following parameters" (guide 3.3.38) */
		if (a->n > 1)
			return espat_fail(E(m), ESPAT_ERR_NUM(1, a->n));
		if (d->on)
			mdns_stop(m, true);
		return ESPAT_RC_OK;
	}
	/* ESP-IDF's mdns_init() refuses a second start: AT+MDNS=0 first. */
	if (d->on)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	uint32_t code = mdns_parse_args(a, &d->cfg);
	if (code)
		return espat_fail(E(m), code);
	if (!net_udp(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	d->on = true;
	if (!mdns_up(m)) {
		mdns_stop(m, false);
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	}
	return ESPAT_RC_OK;
}

/* ---- the family (SNTP waiting for the network starts when it comes; mDNS
 * opens its socket and announces) ----------------------------------------------------------------- */

static void svc_net_changed(struct espat_module *m)
{
	bool online = espat_wifi_online(m);
	if (S(m)->enabled && S(m)->phase == ESPAT_SNTP_OFFLINE && online)
		sntp_attempt(m);
	struct espat_svc_mdns *d = M(m);
	if (d->on && online && !d->online) {
		if (!mdns_up(m)) /* announce again on the new link */
			mdns_later(m);
	} else if (d->on) {
		d->online = online;
	}
}

void espat_svc_init(struct espat_module *m)
{
	struct espat_svc_sntp *s = S(m);
	sntp_default_servers(s);
	s->interval_s = ESPAT_SNTP_INTV_DEFAULT;
	s->phase = ESPAT_SNTP_OFF;
}

void espat_svc_free(struct espat_module *m)
{
	struct espat_svc_ping *p = P(m);
	sntp_cancel(m);
	S(m)->phase = ESPAT_SNTP_OFF;
	cancel_dns(m, &p->dns);
	if (p->req && NET(m)->ping_cancel)
		NET(m)->ping_cancel(NET(m)->user, p->req);
	p->req = NULL;
	p->running = false;
	/* A restart or power cut says no goodbye: the chip just stops. */
	mdns_stop(m, false);
}

static const struct espat_param p_sntpcfg[] = {
	P_INT("enable", 0, 1),
	/* both formats of <timezone>; espat_sntp_tz_parse() checks the minutes */
	P_INT("timezone", -1259, 1459),
	P_STR_OPT("SNTP server1", ESPAT_SNTP_NAME_MAX),
	P_STR_OPT("SNTP server2", ESPAT_SNTP_NAME_MAX),
	P_STR_OPT("SNTP server3", ESPAT_SNTP_NAME_MAX),
};
static const struct espat_param p_sntpintv[] = {P_INT("interval second", 15, 4294967)};
static const struct espat_param p_ping[] = {P_STR("host", ESPAT_PING_HOST_MAX)};

#define TXT_PAIR P_STR_OPT("key", 255), P_STR_OPT("value", 255)
static const struct espat_param p_mdns[] = {
	P_INT("enable", 0, 1),
	P_STR_OPT("hostname", ESPAT_MDNS_LABEL_MAX),
	P_STR_OPT("service_type", ESPAT_MDNS_LABEL_MAX),
	P_INT_OPT("port", 1, 65535),
	P_STR_OPT("instance", ESPAT_MDNS_LABEL_MAX),
	P_STR_OPT("proto", ESPAT_MDNS_LABEL_MAX),
	P_INT_OPT("txt_number", 1, ESPAT_MDNS_TXT_MAX),
	TXT_PAIR, TXT_PAIR, TXT_PAIR, TXT_PAIR, TXT_PAIR,
	TXT_PAIR, TXT_PAIR, TXT_PAIR, TXT_PAIR, TXT_PAIR,
};
#undef TXT_PAIR

static const struct espat_cmd svc_rows[] = {
	{.name = "+CIPSNTPCFG", .query = cipsntpcfg_query, .set = cipsntpcfg_set,
	 .params = p_sntpcfg, .nparams = N(p_sntpcfg),
	 .help = "Query/Set the time zone and the SNTP server"},
	{.name = "+CIPSNTPTIME", .query = cipsntptime_query, .help = "Query the SNTP time"},
	{.name = "+CIPSNTPINTV", .query = cipsntpintv_query, .set = cipsntpintv_set,
	 .params = p_sntpintv, .nparams = N(p_sntpintv),
	 .help = "Query/Set the SNTP time synchronization interval"},
	{.name = "+PING", .set = espat_svc_ping_set, .params = p_ping, .nparams = N(p_ping),
	 .help = "Ping the remote host"},
	{.name = "+MDNS", .set = espat_svc_mdns_set, .params = p_mdns, .nparams = N(p_mdns),
	 .help = "Configure the mDNS function"},
};

const struct espat_cmd_table espat_svc_table = {
	.family = "svc",
	.rows = svc_rows,
	.n = sizeof(svc_rows) / sizeof(svc_rows[0]),
};

void espat_svc_event(struct espat_module *m, enum espat_event ev)
{
	svc_net_changed(m);
}

const struct espat_family espat_svc_family = {
	.name = "svc",
	.table = &espat_svc_table,
	.state_size = sizeof(struct espat_svc),
	.state_slot = offsetof(struct espat_module, svc),
	.init = espat_svc_init,
	.free = espat_svc_free,
	.events = ESPAT_EV(ESPAT_EV_NET_CHANGED),
	.on_event = espat_svc_event,
};
