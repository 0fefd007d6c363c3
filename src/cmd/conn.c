/* The client-connection service. See conn.h. */
#include "cmd/conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/wifi.h"

#define NET(m) (&(m)->ports.net)

/* The DNS setting (AT+CIPDNS). */
struct espat_conn_svc {
	bool manual;                                /* AT+CIPDNS=1 */
	struct espat_ip dns[ESPAT_DNS_SERVERS_MAX]; /* manual, or the fallbacks */
	uint8_t ndns;
};

/* TLS options with everything they point to, owned by the connection
 * while the name resolves. */
struct espat_conn_creds {
	struct espat_tls_opts o;
	struct espat_pki_pem pem;
	char name[ESPAT_DNS_NAME_MAX + 1]; /* backing of o.check_name */
	char sni[ESPAT_DNS_NAME_MAX + 1];  /* backing of o.sni */
	char alpn[ESPAT_TLS_ALPN_MAX][ESPAT_CONN_NAME_MAX + 1];
	uint8_t psk[64], identity[64];
};

static uint64_t now(const struct espat_module *m)
{
	return espat_module_now(m);
}

/* ---- DNS ------------------------------------------------------------------ */

static const uint8_t dns_fallback[2][4] = {{208, 67, 222, 222}, {8, 8, 8, 8}};

static void dns_defaults(struct espat_conn_svc *s)
{
	s->ndns = 2;
	memset(s->dns, 0, sizeof(s->dns));
	memcpy(s->dns[0].a, dns_fallback[0], 4);
	memcpy(s->dns[1].a, dns_fallback[1], 4);
}

static void dns_save(struct espat_module *m)
{
	const struct espat_conn_svc *s = m->conn;
	if (!s->manual) {
		espat_settings_save(&m->settings, ESPAT_SAVE_SYSSTORE, "cipdns", "0");
		return;
	}
	char text[160], ip[46];
	size_t o = (size_t)snprintf(text, sizeof(text), "1");
	for (size_t i = 0; i < s->ndns; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, ",\"%s\"",
		                      espat_ip_str(&s->dns[i], ip));
	espat_settings_save(&m->settings, ESPAT_SAVE_SYSSTORE, "cipdns", text);
}

void espat_conn_dns_manual(struct espat_module *m, const struct espat_ip *srv, size_t n)
{
	struct espat_conn_svc *s = m->conn;
	s->manual = true;
	if (n == 0 || n > ESPAT_DNS_SERVERS_MAX) {
		dns_defaults(s);
	} else {
		memcpy(s->dns, srv, n * sizeof(srv[0]));
		s->ndns = (uint8_t)n;
	}
	dns_save(m);
}

void espat_conn_dns_auto(struct espat_module *m)
{
	m->conn->manual = false;
	dns_defaults(m->conn);
	dns_save(m);
}

size_t espat_conn_dns_get(const struct espat_module *m, bool *manual,
                          struct espat_ip out[ESPAT_DNS_SERVERS_MAX])
{
	const struct espat_conn_svc *s = m->conn;
	*manual = s->manual;
	memcpy(out, s->dns, s->ndns * sizeof(s->dns[0]));
	return s->ndns;
}

static uint32_t ip4_of(const struct espat_ip *ip)
{
	return (uint32_t)ip->a[0] << 24 | (uint32_t)ip->a[1] << 16 | (uint32_t)ip->a[2] << 8 |
	       ip->a[3];
}

/* The simulated network's own addresses answer as the router, which
 * resolves through the host. */
static bool is_router(const struct espat_module *m, const struct espat_ip *ip)
{
	if (ip->v6)
		return false;
	uint32_t v = ip4_of(ip), dns[2];
	size_t n = espat_wifi_dhcp_dns(m, dns);
	for (size_t i = 0; i < n; i++)
		if (v == dns[i])
			return true;
	struct espat_ip4 sta = espat_wifi_sta_ip(m);
	return sta.mask && (v & sta.mask) == (sta.ip & sta.mask);
}

/* The servers to ask: the manual ones, unless one is the router (then, as
 * for the DHCP-given server, the host's resolver: nservers 0). */
static void dns_servers(const struct espat_module *m, struct espat_dns_query *q)
{
	const struct espat_conn_svc *s = m->conn;
	q->nservers = 0;
	if (!s->manual)
		return;
	for (size_t i = 0; i < s->ndns; i++) {
		if (is_router(m, &s->dns[i])) {
			q->nservers = 0;
			return;
		}
		q->servers[q->nservers++] = s->dns[i];
	}
}

struct espat_dns_req *espat_conn_resolve(struct espat_module *m, const char *name,
                                         enum espat_dns_family family, uint32_t timeout_ms,
                                         espat_dns_fn *done, void *user, int *err)
{
	if (!NET(m)->resolve) {
		*err = ESPAT_NET_EINVAL;
		return NULL;
	}
	if (!espat_wifi_online(m)) {
		*err = ESPAT_NET_EUNREACH;
		return NULL;
	}
	struct espat_dns_query q = {.name = name, .family = family, .timeout_ms = timeout_ms};
	dns_servers(m, &q);
	return NET(m)->resolve(NET(m)->user, &q, done, user, err);
}

void espat_conn_resolve_cancel(struct espat_module *m, struct espat_dns_req *r)
{
	if (r && NET(m)->resolve_cancel)
		NET(m)->resolve_cancel(NET(m)->user, r);
}

/* ---- TLS options ------------------------------------------------------------ */

static bool auth_own(uint8_t auth)
{
	return auth == 1 || auth == 3;
}

static bool auth_verify(uint8_t auth)
{
	return auth == 2 || auth == 3;
}

static void creds_free(struct espat_conn_creds *k)
{
	if (!k)
		return;
	espat_pki_pem_free(&k->pem);
	free(k);
}

/* Everything the handshake needs, loaded and copied now. NULL when the PKI
 * is absent or memory is short. */
static struct espat_conn_creds *creds_make(struct espat_module *m, const struct espat_conn_tls *t,
                                           const char *host)
{
	struct espat_conn_creds *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	struct espat_pki_need need = {.set = t->set,
	                              .own = auth_own(t->auth),
	                              .pki = t->pki,
	                              .verify = auth_verify(t->auth),
	                              .ca = t->ca};
	if (espat_pki_load(m, &need, &k->pem) < 0) {
		free(k);
		return NULL;
	}
	espat_pki_to_tls(&k->pem, &k->o);
	k->o.now = espat_rtc_now(m);
	/* A host given by name is the default SNI and, when the server is
	 * verified, the name its certificate must hold; an address is
	 * neither (RFC 6066 allows no literal address in SNI). COMPAT. */
	struct espat_ip ip;
	bool named = host[0] && !espat_ip_parse(host, strlen(host), &ip);
	const char *sni = t->sni && t->sni[0] ? t->sni : named ? host : "";
	snprintf(k->sni, sizeof(k->sni), "%s", sni);
	if (k->sni[0])
		k->o.sni = k->sni;
	if (need.verify) {
		const char *cn = t->check_name && t->check_name[0] ? t->check_name
		                 : named                           ? host
		                                                   : "";
		snprintf(k->name, sizeof(k->name), "%s", cn);
		if (k->name[0])
			k->o.check_name = k->name;
	}
	for (size_t i = 0; i < t->nalpn && i < ESPAT_TLS_ALPN_MAX; i++) {
		snprintf(k->alpn[i], sizeof(k->alpn[i]), "%s", t->alpn[i]);
		k->o.alpn[i] = k->alpn[i];
		k->o.nalpn = i + 1;
	}
	if (t->psk_len && t->psk_len <= sizeof(k->psk) &&
	    t->psk_identity_len <= sizeof(k->identity)) {
		memcpy(k->psk, t->psk, t->psk_len);
		memcpy(k->identity, t->psk_identity, t->psk_identity_len);
		k->o.psk = k->psk;
		k->o.psk_len = t->psk_len;
		k->o.psk_identity = k->identity;
		k->o.psk_identity_len = t->psk_identity_len;
	}
	return k;
}

/* ---- connections ------------------------------------------------------------ */

static void reset(struct espat_conn *c)
{
	struct espat_module *m = c->m;
	if (c->sock)
		NET(m)->close(NET(m)->user, c->sock, ESPAT_CLOSE_ABORT);
	c->sock = NULL;
	espat_conn_resolve_cancel(m, c->dns);
	c->dns = NULL;
	espat_timer_cancel(&m->timers, &c->timer);
	creds_free(c->creds);
	c->creds = NULL;
	c->phase = ESPAT_CONN_IDLE;
}

static void fail(struct espat_conn *c, int err)
{
	reset(c);
	c->done(c->user, err ? err : ESPAT_NET_EIO);
}

static void on_connected(void *user, int err)
{
	struct espat_conn *c = user;
	struct espat_module *m = c->m;
	if (err) {
		fail(c, err);
		return;
	}
	espat_timer_cancel(&m->timers, &c->timer);
	c->phase = ESPAT_CONN_UP;
	if (c->nodelay && NET(m)->set_tcpopt) {
		const struct espat_tcpopt o = {.linger_s = -1, .nodelay = true};
		NET(m)->set_tcpopt(NET(m)->user, c->sock, &o);
	}
	struct espat_endpoint local = {0};
	if (NET(m)->endpoints)
		NET(m)->endpoints(NET(m)->user, c->sock, &local, NULL);
	c->local_port = local.port;
	c->done(c->user, 0);
}

/* The socket's callbacks: connected() is ours, the rest the owner's. */
static void on_data(void *user, const uint8_t *p, size_t n, const struct espat_endpoint *from)
{
	struct espat_conn *c = user;
	if (c->cbs.data)
		c->cbs.data(c->user, p, n, from);
}

static void on_closed(void *user, int err)
{
	struct espat_conn *c = user;
	if (c->phase != ESPAT_CONN_UP) {
		fail(c, err ? err : ESPAT_NET_ERESET);
		return;
	}
	if (c->cbs.closed)
		c->cbs.closed(c->user, err);
}

static void on_drained(void *user)
{
	struct espat_conn *c = user;
	if (c->cbs.drained)
		c->cbs.drained(c->user);
}

static const struct espat_sock_cbs conn_cbs = {
    .connected = on_connected,
    .data = on_data,
    .closed = on_closed,
    .drained = on_drained,
};

/* Opens the socket toward c->remote. 0 under way, 1 up (UDP), -1 failed
 * (*err set, the connection is IDLE). */
static int open_socket(struct espat_conn *c, int *err)
{
	struct espat_module *m = c->m;
	struct espat_sock_opts o = {
	    .kind = c->kind,
	    .remote = c->remote,
	    .local_port = c->kind == ESPAT_SOCK_UDP ? c->local_port : 0,
	    .tls = c->creds ? &c->creds->o : NULL,
	};
	c->sock = NET(m)->open(NET(m)->user, &o, &conn_cbs, c, err);
	creds_free(c->creds); /* the port copied what it keeps */
	c->creds = NULL;
	if (!c->sock) {
		reset(c);
		return -1;
	}
	if (c->kind == ESPAT_SOCK_UDP) {
		espat_timer_cancel(&m->timers, &c->timer);
		struct espat_endpoint local = {0};
		if (NET(m)->endpoints)
			NET(m)->endpoints(NET(m)->user, c->sock, &local, NULL);
		c->local_port = local.port;
		c->phase = ESPAT_CONN_UP;
		return 1;
	}
	c->phase = ESPAT_CONN_CONNECTING;
	return 0;
}

static void on_resolved(void *user, int err, const struct espat_ip *ip)
{
	struct espat_conn *c = user;
	c->dns = NULL;
	if (err) {
		fail(c, err);
		return;
	}
	c->remote.ip = *ip;
	if (c->resolved) {
		c->resolved(c->user);
		if (c->phase != ESPAT_CONN_RESOLVING)
			return; /* the owner closed it */
	}
	int rc = open_socket(c, &err);
	if (rc < 0)
		c->done(c->user, err ? err : ESPAT_NET_EIO);
	else if (rc == 1)
		c->done(c->user, 0);
}

static void timed_out(void *user)
{
	fail(user, ESPAT_NET_ETIMEDOUT);
}

int espat_conn_open(struct espat_conn *c, struct espat_module *m, const struct espat_conn_req *r,
                    const struct espat_sock_cbs *cbs, espat_conn_done_fn *done, void *user,
                    int *err)
{
	memset(c, 0, sizeof(*c));
	c->m = m;
	c->kind = r->kind;
	c->local_port = r->local_port;
	c->remote.port = r->port;
	c->cbs = *cbs;
	c->done = done;
	c->resolved = r->resolved;
	c->nodelay = r->nodelay;
	c->user = user;
	*err = 0;
	if (!NET(m)->open) {
		*err = ESPAT_NET_EINVAL;
		return -1;
	}
	if (!espat_wifi_online(m)) {
		*err = ESPAT_NET_EUNREACH;
		return -1;
	}
	char host[ESPAT_DNS_NAME_MAX + 1];
	if (r->host_len == 0 || r->host_len > ESPAT_DNS_NAME_MAX) {
		*err = ESPAT_NET_EINVAL;
		return -1;
	}
	memcpy(host, r->host, r->host_len);
	host[r->host_len] = 0;
	if (r->tls && r->kind == ESPAT_SOCK_TCP && !(c->creds = creds_make(m, r->tls, host))) {
		*err = ESPAT_NET_ECERT;
		return -1;
	}
	uint32_t timeout = r->timeout_ms ? r->timeout_ms : ESPAT_CONN_TIMEOUT_MS;
	struct espat_ip ip;
	if (espat_ip_parse(host, r->host_len, &ip)) {
		if (ip.v6 != r->v6) {
			reset(c);
			*err = ESPAT_NET_EINVAL;
			return -1;
		}
		c->remote.ip = ip;
		int rc = open_socket(c, err);
		if (rc == 0)
			espat_timer_arm(&m->timers, &c->timer, now(m) + timeout, timed_out, c);
		return rc;
	}
	c->dns = espat_conn_resolve(m, host, r->v6 ? ESPAT_DNS_V6_ONLY : ESPAT_DNS_V4_ONLY,
	                            r->timeout_ms, on_resolved, c, err);
	if (!c->dns) {
		reset(c);
		return -1;
	}
	c->phase = ESPAT_CONN_RESOLVING;
	espat_timer_arm(&m->timers, &c->timer, now(m) + timeout, timed_out, c);
	return 0;
}

void espat_conn_adopt(struct espat_conn *c, struct espat_module *m, struct espat_sock *s,
                      const struct espat_sock_cbs *cbs, void *user)
{
	memset(c, 0, sizeof(*c));
	c->m = m;
	c->kind = ESPAT_SOCK_TCP;
	c->cbs = *cbs;
	c->user = user;
	c->sock = s;
	c->phase = ESPAT_CONN_UP;
	struct espat_endpoint local = {0};
	NET(m)->endpoints(NET(m)->user, s, &local, &c->remote);
	c->local_port = local.port;
	NET(m)->attach(NET(m)->user, s, &conn_cbs, c);
}

void espat_conn_close(struct espat_conn *c, enum espat_close_how how)
{
	if (!c->m)
		return;
	struct espat_module *m = c->m;
	if (c->sock)
		NET(m)->close(NET(m)->user, c->sock, how);
	c->sock = NULL;
	reset(c);
}

int espat_conn_send(struct espat_conn *c, const uint8_t *p, size_t n,
                    const struct espat_endpoint *to)
{
	if (c->phase != ESPAT_CONN_UP)
		return ESPAT_NET_EINVAL;
	return NET(c->m)->send(NET(c->m)->user, c->sock, p, n, to);
}

size_t espat_conn_queued(const struct espat_conn *c)
{
	if (c->phase != ESPAT_CONN_UP || !NET(c->m)->queued)
		return 0;
	return NET(c->m)->queued(NET(c->m)->user, c->sock);
}

void espat_conn_pause(struct espat_conn *c, bool paused)
{
	if (c->phase == ESPAT_CONN_UP && NET(c->m)->pause)
		NET(c->m)->pause(NET(c->m)->user, c->sock, paused);
}

/* ---- the row ------------------------------------------------------------------ */

static void conn_init(struct espat_module *m)
{
	dns_defaults(m->conn);
}

static void conn_boot(struct espat_module *m)
{
	struct espat_conn_svc *s = m->conn;
	struct espat_args a;
	if (espat_settings_load(&m->settings, "cipdns", &a) && a.n >= 1 &&
	    a.v[0].kind == ESPAT_ARG_INT && a.v[0].i == 1) {
		size_t n = 0;
		struct espat_ip srv[ESPAT_DNS_SERVERS_MAX];
		for (size_t i = 1; i < a.n && n < ESPAT_DNS_SERVERS_MAX; i++)
			if (a.v[i].kind == ESPAT_ARG_STR &&
			    espat_ip_parse(a.v[i].s, a.v[i].len, &srv[n]))
				n++;
		if (n > 0) {
			s->manual = true;
			memcpy(s->dns, srv, n * sizeof(srv[0]));
			s->ndns = (uint8_t)n;
		}
	}
}

const struct espat_family espat_conn_family = {
    .name = "conn",
    .state_size = sizeof(struct espat_conn_svc),
    .state_slot = offsetof(struct espat_module, conn),
    .init = conn_init,
    .boot = conn_boot,
};
