/* TCP/IP AT commands (guide 3.3): the table, links and their lifecycle,
 * AT+CIPSTART/STARTEX/CLOSE/STATE/STATUS/MUX/MODE, addresses, the server,
 * DNS. Sending lives in tcpip_send.c, receiving in tcpip_recv.c. */
#include "cmd/tcpip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/ble.h"
#include "cmd/params.h"
#include "cmd/tcpip_internal.h"

#define DOMAIN_TIMEOUT_MS 10000u  /* AT+CIPDOMAIN <timeout> 0 */
#define STO_DEFAULT 180u          /* AT+CIPSTO factory value, seconds */

static uint64_t now(const struct espat_module *m)
{
	return espat_module_now(m);
}

/* ---- addresses --------------------------------------------------------- */

static const char *const type_names[] = {
	[ESPAT_LT_TCP] = "TCP", [ESPAT_LT_TCP6] = "TCPv6", [ESPAT_LT_UDP] = "UDP",
	[ESPAT_LT_UDP6] = "UDPv6", [ESPAT_LT_SSL] = "SSL", [ESPAT_LT_SSL6] = "SSLv6",
};

const char *espat_link_type_name(enum espat_link_type t)
{
	return type_names[t];
}

static bool type_is_ssl(enum espat_link_type t)
{
	return t == ESPAT_LT_SSL || t == ESPAT_LT_SSL6;
}

bool espat_link_is_ssl(const struct espat_link *l)
{
	return type_is_ssl(l->type);
}

bool espat_link_is_udp(const struct espat_link *l)
{
	return l->type == ESPAT_LT_UDP || l->type == ESPAT_LT_UDP6;
}

static bool type_is_v6(enum espat_link_type t)
{
	return t == ESPAT_LT_TCP6 || t == ESPAT_LT_UDP6 || t == ESPAT_LT_SSL6;
}

/* <"type"> of AT+CIPSTART and AT+SAVETRANSLINK; the guide spells UDPv6
 * both ways. */
bool espat_link_type_parse(const char *s, size_t len, enum espat_link_type *t)
{
	static const struct {
		const char *name;
		enum espat_link_type t;
	} names[] = {
	    {"TCP", ESPAT_LT_TCP},   {"TCPv6", ESPAT_LT_TCP6}, {"UDP", ESPAT_LT_UDP},
	    {"UDPv6", ESPAT_LT_UDP6}, {"UDPV6", ESPAT_LT_UDP6}, {"SSL", ESPAT_LT_SSL},
	    {"SSLv6", ESPAT_LT_SSL6},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == len && memcmp(names[i].name, s, len) == 0) {
			*t = names[i].t;
			return true;
		}
	return false;
}

static bool parse_type(const struct espat_arg *a, enum espat_link_type *t)
{
	return a->kind == ESPAT_ARG_STR && espat_link_type_parse(a->s, a->len, t);
}

/* ---- reachability and DNS ------------------------------------------------ */

/* ---- link lifecycle -------------------------------------------------------- */

struct espat_link *espat_link_get(struct espat_module *m, int64_t id)
{
	if (id < 0 || id >= ESPAT_LINKS)
		return NULL;
	return &T(m)->links[id];
}

static bool link_open(const struct espat_link *l)
{
	return l->state != ESPAT_LINK_FREE;
}

void espat_link_say_connect(struct espat_link *l)
{
	struct espat_module *m = l->m;
	if (espat_basic_sysmsg(m) & 2) {
		char ip[46];
		struct espat_endpoint local = {0};
		if (l->conn.sock && NET(m)->endpoints)
			NET(m)->endpoints(NET(m)->user, l->conn.sock, &local, NULL);
		espat_wr_reportf(&m->wr, "+LINK_CONN:0,%u,\"%s\",%u,\"%s\",%u,%u", l->id,
				 espat_link_type_name(l->type), l->server ? 1u : 0u,
				 espat_ip_str(&l->remote.ip, ip), l->remote.port,
				 l->local_port ? l->local_port : local.port);
	} else if (T(m)->mux) {
		espat_wr_reportf(&m->wr, "%u,CONNECT", l->id);
	} else {
		espat_wr_reportf(&m->wr, "CONNECT");
	}
}

static void say_closed(struct espat_link *l)
{
	struct espat_module *m = l->m;
	if (T(m)->mux)
		espat_wr_reportf(&m->wr, "%u,CLOSED", l->id);
	else
		espat_wr_reportf(&m->wr, "CLOSED");
}

void espat_link_close(struct espat_link *l, bool say, enum espat_close_how how)
{
	struct espat_module *m = l->m;
	if (!link_open(l))
		return;
	espat_conn_close(&l->conn, how);
	espat_timer_cancel(&m->timers, &l->timer);
	espat_send_link_gone(l);
	free(l->rx);
	uint8_t id = l->id;
	memset(l, 0, sizeof(*l));
	l->m = m;
	l->id = id;
	if (say)
		say_closed(l);
	T(m)->had_link = true;
}

/* A pending AT+CIPSTART(EX) ends with the link's fate. */
static void start_done(struct espat_link *l, bool ok)
{
	struct espat_module *m = l->m;
	bool cmd = l->cmd;
	l->cmd = false;
	if (ok) {
		espat_link_say_connect(l);
		if (cmd)
			espat_engine_complete(E(m), ESPAT_RC_OK);
		if (T(m)->pt_link == l)
			espat_pt_link_up(l);
		return;
	}
	if (T(m)->pt_link == l) {
		espat_pt_link_lost(l);
		return;
	}
	espat_link_close(l, false, ESPAT_CLOSE_ABORT);
	if (cmd)
		espat_engine_complete(E(m), espat_fail(E(m), ESPAT_ERR_EXEC));
}

static void sto_due(void *user);

void espat_link_touch(struct espat_link *l)
{
	struct espat_module *m = l->m;
	if (l->server && T(m)->sto > 0)
		espat_timer_arm(&m->timers, &l->timer, now(m) + (uint64_t)T(m)->sto * 1000u,
				sto_due, l);
}

static void sto_due(void *user)
{
	struct espat_link *l = user;
	espat_link_close(l, true, ESPAT_CLOSE_GRACEFUL);
}

static void apply_opts(struct espat_link *l)
{
	struct espat_module *m = l->m;
	if (espat_link_is_udp(l) || !l->conn.sock || !NET(m)->set_tcpopt)
		return;
	struct espat_tcpopt o = T(m)->opt[l->id];
	if (l->keepalive)
		o.keepalive_s = l->keepalive;
	NET(m)->set_tcpopt(NET(m)->user, l->conn.sock, &o);
}

/* The link's connection is up or failed (cmd/conn.h). */
static void on_dialled(void *user, int err)
{
	struct espat_link *l = user;
	if (err) {
		start_done(l, false);
		return;
	}
	l->state = ESPAT_LINK_UP;
	l->remote = l->conn.remote;
	l->local_port = l->conn.local_port;
	apply_opts(l);
	espat_conn_pause(&l->conn, false);
	start_done(l, true);
}

int espat_link_start(struct espat_module *m, struct espat_link *l, enum espat_link_type type,
		     const char *host, size_t host_len, uint16_t port, uint16_t local_port,
		     uint8_t udp_mode, uint16_t keepalive, uint32_t timeout_ms)
{
	l->state = ESPAT_LINK_RESOLVING;
	l->type = type;
	l->server = false;
	l->passive = T(m)->recvtype[l->id] != 0;
	memcpy(l->host, host, host_len);
	l->host[host_len] = 0;
	l->remote.port = port;
	l->local_port = local_port;
	l->udp_mode = udp_mode;
	l->keepalive = keepalive;
	l->timeout_ms = timeout_ms;
	struct espat_conn_tls tls;
	struct espat_conn_req r = {
	    .kind = espat_link_is_udp(l) ? ESPAT_SOCK_UDP : ESPAT_SOCK_TCP,
	    .v6 = type_is_v6(type),
	    .host = host,
	    .host_len = host_len,
	    .port = port,
	    .local_port = espat_link_is_udp(l) ? local_port : 0,
	    .timeout_ms = timeout_ms,
	};
	if (espat_link_is_ssl(l)) {
		espat_ssl_conn_tls(m, l->id, &tls);
		r.tls = &tls;
	}
	int err;
	int rc = espat_conn_open(&l->conn, m, &r, &espat_link_cbs, on_dialled, l, &err);
	if (rc < 0)
		return -1;
	if (rc == 1) { /* UDP to an address: bound at once */
		l->state = ESPAT_LINK_UP;
		l->remote = l->conn.remote;
		l->local_port = l->conn.local_port;
		start_done(l, true);
		return 0;
	}
	l->state = l->conn.phase == ESPAT_CONN_RESOLVING ? ESPAT_LINK_RESOLVING
							 : ESPAT_LINK_CONNECTING;
	return 0;
}

void espat_link_lost(struct espat_link *l, int err)
{
	struct espat_module *m = l->m;
	(void)err;
	if (l->state == ESPAT_LINK_RESOLVING || l->state == ESPAT_LINK_CONNECTING) {
		start_done(l, false); /* a failed connect: its command's ERROR */
		return;
	}
	if (T(m)->pt_link == l) {
		espat_pt_link_lost(l);
		return;
	}
	if (l->passive && l->rx_len > 0) {
		/* CLOSED waits until the buffered data is read (guide 3.3.33) */
		espat_conn_close(&l->conn, ESPAT_CLOSE_GRACEFUL);
		l->state = ESPAT_LINK_GONE;
		espat_timer_cancel(&m->timers, &l->timer);
		espat_send_link_gone(l);
		return;
	}
	espat_link_close(l, true, ESPAT_CLOSE_GRACEFUL);
}

int espat_tcpip_link_reset(struct espat_module *m, uint8_t id)
{
	struct espat_link *l = espat_link_get(m, id);
	if (!l || l->state != ESPAT_LINK_UP || !l->conn.sock)
		return -1;
	espat_conn_close(&l->conn, ESPAT_CLOSE_ABORT);
	espat_link_lost(l, ESPAT_NET_ERESET);
	return 0;
}

static void close_all(struct espat_module *m, bool say)
{
	for (size_t i = 0; i < ESPAT_LINKS; i++)
		espat_link_close(&T(m)->links[i], say, ESPAT_CLOSE_ABORT);
}

static void net_changed(struct espat_module *m)
{
	if (espat_wifi_online(m))
		return;
	/* the way out is gone: every link dies with its network */
	for (size_t i = 0; i < ESPAT_LINKS; i++) {
		struct espat_link *l = &T(m)->links[i];
		if (l->state != ESPAT_LINK_FREE && l->state != ESPAT_LINK_GONE)
			espat_link_lost(l, ESPAT_NET_EUNREACH);
	}
}

static void tx_room(struct espat_module *m)
{
	for (size_t i = 0; i < ESPAT_LINKS; i++)
		if (T(m)->links[i].paused)
			espat_recv_update(&T(m)->links[i]);
}

/* ---- AT+CIPSTART, AT+CIPSTARTEX ------------------------------------------- */

/* Argument i as a string of at most max bytes. */
static bool arg_str(const struct espat_args *a, size_t i, size_t max)
{
	return i < a->n && a->v[i].kind == ESPAT_ARG_STR && a->v[i].len <= max;
}

static bool arg_int(const struct espat_args *a, size_t i, int64_t lo, int64_t hi)
{
	return i < a->n && a->v[i].kind == ESPAT_ARG_INT && a->v[i].i >= lo && a->v[i].i <= hi;
}

static bool omitted(const struct espat_args *a, size_t i)
{
	return i >= a->n || a->v[i].kind == ESPAT_ARG_OMITTED;
}

static struct espat_link *free_link(struct espat_module *m)
{
	for (size_t i = 0; i < ESPAT_LINKS; i++)
		if (!link_open(&T(m)->links[i]))
			return &T(m)->links[i];
	return NULL;
}

static enum espat_rc start(struct espat_module *m, const struct espat_args *a, bool ex)
{
	struct espat_tcpip *t = T(m);
	struct espat_engine *e = E(m);
	size_t i = 0;
	struct espat_link *l = NULL;
	if (t->mux && !ex) {
		if (!arg_int(a, 0, 0, ESPAT_LINKS - 1))
			return espat_fail(e, ESPAT_ERR_INVALID(0));
		l = &t->links[a->v[0].i];
		i = 1;
	}
	enum espat_link_type type;
	if (!parse_type(&a->v[i], &type))
		return espat_fail(e, ESPAT_ERR_INVALID(i));
	if (!arg_str(a, i + 1, ESPAT_HOST_MAX) || a->v[i + 1].len == 0)
		return espat_fail(e, ESPAT_ERR_INVALID(i + 1));
	if (!arg_int(a, i + 2, 1, 65535))
		return espat_fail(e, ESPAT_ERR_INVALID(i + 2));
	uint16_t port = (uint16_t)a->v[i + 2].i;
	uint16_t keepalive = 0, local_port = 0;
	uint8_t udp_mode = 0;
	int64_t timeout = 0;
	size_t k = i + 3;
	bool udp = type == ESPAT_LT_UDP || type == ESPAT_LT_UDP6;
	if (udp) {
		/* [<local port>,<mode>,<"local IP">][,<timeout>] */
		if (!omitted(a, k)) {
			if (!arg_int(a, k, 0, 65535))
				return espat_fail(e, ESPAT_ERR_INVALID(k));
			local_port = (uint16_t)a->v[k].i;
		}
		/* <mode> 0 without <local port> means no local port (COMPAT
		 * #93): lwesp sends `...,7008,,0`; another mode needs one */
		if (!omitted(a, k + 1)) {
			if (!arg_int(a, k + 1, 0, 2) || (omitted(a, k) && a->v[k + 1].i != 0))
				return espat_fail(e, ESPAT_ERR_INVALID(k + 1));
			udp_mode = (uint8_t)a->v[k + 1].i;
		}
		k += 2;
	} else {
		if (!omitted(a, k)) {
			if (!arg_int(a, k, 0, 7200))
				return espat_fail(e, ESPAT_ERR_INVALID(k));
			keepalive = (uint16_t)a->v[k].i;
		}
		k += 1;
	}
	if (!omitted(a, k)) { /* <"local IP">: one of the module's own addresses */
		struct espat_ip lip;
		if (!arg_str(a, k, 45) || !espat_ip_parse(a->v[k].s, a->v[k].len, &lip))
			return espat_fail(e, ESPAT_ERR_INVALID(k));
	}
	k += 1;
	if (!omitted(a, k)) {
		if (!arg_int(a, k, 0, 60000))
			return espat_fail(e, ESPAT_ERR_INVALID(k));
		timeout = a->v[k].i;
	}
	if (a->n > k + 1)
		return espat_fail(e, ESPAT_ERR_NUM(k + 1, a->n));
	if (type_is_v6(type) && !t->ipv6)
		return espat_fail(e, ESPAT_ERR_EXEC);
	if (!t->mux)
		l = &t->links[0];
	else if (ex && !(l = free_link(m)))
		return espat_fail(e, ESPAT_ERR_EXEC);
	if (link_open(l)) {
		espat_wr_linef(&m->wr, "%s", m->dialect->already_connected);
		return espat_fail(e, ESPAT_ERR_EXEC);
	}
	if (!espat_wifi_online(m) || !NET(m)->open) {
		espat_wr_linef(&m->wr, "no ip");
		return espat_fail(e, ESPAT_ERR_EXEC);
	}
	if (type_is_ssl(type) && !espat_ssl_client_ready(m, l->id, true))
		return espat_fail(e, ESPAT_ERR_EXEC); /* NO CERT FOUND, ... */
	l->cmd = true;
	if (espat_link_start(m, l, type, a->v[i + 1].s, a->v[i + 1].len, port, local_port,
			     udp_mode, keepalive, (uint32_t)timeout) < 0) {
		l->cmd = false;
		espat_link_close(l, false, ESPAT_CLOSE_ABORT);
		return espat_fail(e, ESPAT_ERR_EXEC);
	}
	/* a UDP socket is bound at once: start_done() already completed the
	 * command (CONNECT, OK) from inside this handler */
	if (!l->cmd)
		return ESPAT_RC_DONE;
	return ESPAT_RC_PENDING;
}

enum espat_rc espat_tcpip_cipstart_set(struct espat_module *m, const struct espat_args *a)
{
	return start(m, a, false);
}

static enum espat_rc cipstartex_set(struct espat_module *m, const struct espat_args *a)
{
	return start(m, a, true);
}

/* ---- AT+CIPCLOSE ------------------------------------------------------------ */

enum espat_rc espat_tcpip_cipclose_exec(struct espat_module *m, const struct espat_args *a)
{
	struct espat_link *l = &T(m)->links[0];
	if (T(m)->mux || !link_open(l) || l->state == ESPAT_LINK_RESOLVING ||
	    l->state == ESPAT_LINK_CONNECTING)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	espat_link_close(l, true, ESPAT_CLOSE_GRACEFUL);
	return ESPAT_RC_OK;
}

enum espat_rc espat_tcpip_cipclose_set(struct espat_module *m, const struct espat_args *a)
{
	int64_t id = a->v[0].i;
	if (!T(m)->mux)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	if (id == ESPAT_LINK_ALL) {
		for (size_t i = 0; i < ESPAT_LINKS; i++)
			if (T(m)->links[i].state == ESPAT_LINK_UP ||
			    T(m)->links[i].state == ESPAT_LINK_GONE)
				espat_link_close(&T(m)->links[i], true, ESPAT_CLOSE_GRACEFUL);
		return ESPAT_RC_OK;
	}
	struct espat_link *l = &T(m)->links[id];
	if (l->state != ESPAT_LINK_UP && l->state != ESPAT_LINK_GONE)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	espat_link_close(l, true, ESPAT_CLOSE_GRACEFUL);
	return ESPAT_RC_OK;
}

/* ---- AT+CIPSTATE, AT+CIPSTATUS, AT+CIFSR ---------------------------------- */

static void link_lines(struct espat_module *m, const char *prefix)
{
	for (size_t i = 0; i < ESPAT_LINKS; i++) {
		struct espat_link *l = &T(m)->links[i];
		if (l->state != ESPAT_LINK_UP)
			continue;
		char ip[46];
		espat_wr_linef(&m->wr, "%s:%u,\"%s\",\"%s\",%u,%u,%u", prefix, l->id,
			       espat_link_type_name(l->type), espat_ip_str(&l->remote.ip, ip),
			       l->remote.port, l->local_port, l->server ? 1u : 0u);
	}
}

static enum espat_rc cipstate_query(struct espat_module *m, const struct espat_args *a)
{
	link_lines(m, "+CIPSTATE");
	return ESPAT_RC_OK;
}

static enum espat_rc cipstatus_exec(struct espat_module *m, const struct espat_args *a)
{
	enum espat_sta_state st = espat_wifi_sta_state(m);
	unsigned stat;
	bool any = false;
	for (size_t i = 0; i < ESPAT_LINKS; i++)
		any |= T(m)->links[i].state == ESPAT_LINK_UP;
	if (!espat_wifi_sta_enabled(m))
		stat = 0;
	else if (st == ESPAT_STA_GOT_IP)
		stat = any ? 3 : T(m)->had_link ? 4 : 2;
	else if (st == ESPAT_STA_NONE)
		stat = 1;
	else
		stat = 5;
	espat_wr_linef(&m->wr, "STATUS:%u", stat);
	link_lines(m, "+CIPSTATUS");
	return ESPAT_RC_OK;
}

enum espat_rc espat_tcpip_cifsr_exec(struct espat_module *m, const struct espat_args *a)
{
	char ip[16], mac[18];
	if (espat_wifi_ap_enabled(m)) {
		espat_wr_linef(&m->wr, "+CIFSR:APIP,\"%s\"",
			       espat_ip4_str(espat_wifi_ap_ip(m).ip, ip));
		espat_wr_linef(&m->wr, "+CIFSR:APMAC,\"%s\"", espat_mac_str(espat_wifi_ap_mac(m), mac));
	}
	if (espat_wifi_sta_enabled(m)) {
		espat_wr_linef(&m->wr, "+CIFSR:STAIP,\"%s\"",
			       espat_ip4_str(espat_wifi_sta_ip(m).ip, ip));
		espat_wr_linef(&m->wr, "+CIFSR:STAMAC,\"%s\"",
			       espat_mac_str(espat_wifi_sta_mac(m), mac));
	}
	return ESPAT_RC_OK;
}

/* ---- AT+CIPMUX, AT+CIPMODE, AT+CIPDINFO, AT+CIPV6 -------------------------- */

static bool any_link(const struct espat_module *m)
{
	for (size_t i = 0; i < ESPAT_LINKS; i++)
		if (link_open(&m->tcpip->links[i]))
			return true;
	return false;
}

enum espat_rc espat_tcpip_cipmux_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CIPMUX:%u", T(m)->mux);
	return ESPAT_RC_OK;
}

enum espat_rc espat_tcpip_cipmux_set(struct espat_module *m, const struct espat_args *a)
{
	uint8_t v = (uint8_t)a->v[0].i;
	if (v == T(m)->mux)
		return ESPAT_RC_OK;
	/* guide 3.3.15: only without links; multiple needs normal mode;
	 * single needs the server deleted */
	if (any_link(m) && m->dialect->link_builded)
		espat_wr_linef(&m->wr, "%s", m->dialect->link_builded);
	if (any_link(m) || (v == 1 && T(m)->mode == 1) || (v == 0 && T(m)->srv))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	T(m)->mux = v;
	return ESPAT_RC_OK;
}

enum espat_rc espat_tcpip_cipmode_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CIPMODE:%u", T(m)->mode);
	return ESPAT_RC_OK;
}

enum espat_rc espat_tcpip_cipmode_set(struct espat_module *m, const struct espat_args *a)
{
	uint8_t v = (uint8_t)a->v[0].i;
	/* Passthrough needs one link: single connection, or a server that
	 * takes one client (the guide's own example 4.2.10). */
	if (v == 1 && T(m)->mux && !(T(m)->srv && T(m)->srv_max == 1))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	/* "If Bluetooth LE is initialized, AT+CIPMODE cannot be set to 1"
	 * [000:6644] (COMPAT #452) */
	if (v == 1 && espat_ble_on(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	T(m)->mode = v;
	for (size_t i = 0; i < ESPAT_LINKS; i++)
		if (link_open(&T(m)->links[i]))
			espat_recv_update(&T(m)->links[i]);
	return ESPAT_RC_OK;
}

static enum espat_rc cipdinfo_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CIPDINFO:%s", T(m)->dinfo ? "true" : "false");
	return ESPAT_RC_OK;
}

enum espat_rc espat_tcpip_cipdinfo_set(struct espat_module *m, const struct espat_args *a)
{
	T(m)->dinfo = a->v[0].i == 1;
	return ESPAT_RC_OK;
}

static enum espat_rc cipv6_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CIPV6:%u", T(m)->ipv6 ? 1u : 0u);
	return ESPAT_RC_OK;
}

static enum espat_rc cipv6_set(struct espat_module *m, const struct espat_args *a)
{
	T(m)->ipv6 = a->v[0].i == 1;
	espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, "cipv6", "%u", T(m)->ipv6 ? 1u : 0u);
	return ESPAT_RC_OK;
}

/* ---- the server ------------------------------------------------------------- */

static unsigned server_links(const struct espat_module *m)
{
	unsigned n = 0;
	for (size_t i = 0; i < ESPAT_LINKS; i++)
		n += link_open(&m->tcpip->links[i]) && m->tcpip->links[i].server;
	return n;
}

static void on_accepted(void *user, struct espat_sock *s)
{
	struct espat_module *m = user;
	struct espat_tcpip *t = T(m);
	struct espat_link *l = free_link(m);
	unsigned n = server_links(m);
	if (!l || n >= t->srv_max) {
		NET(m)->close(NET(m)->user, s, ESPAT_CLOSE_ABORT);
		espat_wr_reportf(&m->wr, "Have %u Connections", n);
		return;
	}
	l->state = ESPAT_LINK_UP;
	l->type = t->srv_type;
	l->server = true;
	l->passive = t->recvtype[l->id] != 0;
	espat_conn_adopt(&l->conn, m, s, &espat_link_cbs, l);
	l->remote = l->conn.remote;
	l->local_port = l->conn.local_port;
	apply_opts(l);
	espat_link_say_connect(l);
	espat_link_touch(l);
	espat_pt_accepted(l);
	espat_conn_pause(&l->conn, false);
}

static void server_close(struct espat_module *m, bool clients)
{
	struct espat_tcpip *t = T(m);
	if (t->srv)
		NET(m)->close(NET(m)->user, t->srv, ESPAT_CLOSE_ABORT);
	t->srv = NULL;
	t->srv_port = 0;
	t->srv_ca = false;
	if (!clients)
		return;
	for (size_t i = 0; i < ESPAT_LINKS; i++)
		if (t->links[i].server)
			espat_link_close(&t->links[i], true, ESPAT_CLOSE_GRACEFUL);
}

static enum espat_rc cipserver_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_tcpip *t = T(m);
	if (!t->srv)
		espat_wr_linef(&m->wr, "+CIPSERVER:0");
	else
		espat_wr_linef(&m->wr, "+CIPSERVER:1,%u,\"%s\",%u", t->srv_port,
			       espat_link_type_name(t->srv_type), t->srv_ca ? 1u : 0u);
	return ESPAT_RC_OK;
}

enum espat_rc espat_tcpip_cipserver_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_tcpip *t = T(m);
	struct espat_engine *e = E(m);
	int64_t mode = a->v[0].i;
	if (mode == 0) {
		if (a->n > 2)
			return espat_fail(e, ESPAT_ERR_NUM(2, a->n));
		if (!omitted(a, 1) && !arg_int(a, 1, 0, 1))
			return espat_fail(e, ESPAT_ERR_INVALID(1));
		if (!t->srv)
			return espat_fail(e, ESPAT_ERR_EXEC);
		server_close(m, !omitted(a, 1) && a->v[1].i == 1);
		return ESPAT_RC_OK;
	}
	uint16_t port = 333;
	if (!omitted(a, 1)) {
		if (!arg_int(a, 1, 1, 65535))
			return espat_fail(e, ESPAT_ERR_INVALID(1));
		port = (uint16_t)a->v[1].i;
	}
	enum espat_link_type type = ESPAT_LT_TCP;
	if (!omitted(a, 2) &&
	    (!parse_type(&a->v[2], &type) || espat_link_is_udp(&(struct espat_link){.type = type})))
		return espat_fail(e, ESPAT_ERR_INVALID(2));
	bool v6 = type_is_v6(type), ssl = type_is_ssl(type);
	if (!omitted(a, 3) && !arg_int(a, 3, 0, 1))
		return espat_fail(e, ESPAT_ERR_INVALID(3));
	bool ca = !omitted(a, 3) && a->v[3].i == 1;
	if (!t->mux || t->srv || (v6 && !t->ipv6) || !NET(m)->listen)
		return espat_fail(e, ESPAT_ERR_EXEC);
	/* an SSL server serves server_cert with server_key, and with <CA
	 * enable> 1 verifies its clients with server_ca (guide 6.8) */
	struct espat_ssl_creds creds;
	if (ssl && espat_ssl_server_creds(m, ca, true, &creds) < 0)
		return espat_fail(e, ESPAT_ERR_EXEC);
	int err = 0;
	static const struct espat_sock_cbs srv_cbs = {.accepted = on_accepted};
	t->srv = NET(m)->listen(NET(m)->user, port, v6, ssl ? &creds.o : NULL, &srv_cbs, m, &err);
	if (ssl)
		espat_ssl_creds_free(&creds);
	if (!t->srv)
		return espat_fail(e, ESPAT_ERR_EXEC);
	t->srv_port = port;
	t->srv_v6 = v6;
	t->srv_type = type;
	t->srv_ca = ssl && ca;
	return ESPAT_RC_OK;
}

static enum espat_rc cipservermaxconn_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CIPSERVERMAXCONN:%u", T(m)->srv_max);
	return ESPAT_RC_OK;
}

static enum espat_rc cipservermaxconn_set(struct espat_module *m, const struct espat_args *a)
{
	if (T(m)->srv)
		return espat_fail(E(m), ESPAT_ERR_EXEC); /* set before creating the server */
	T(m)->srv_max = (uint8_t)a->v[0].i;
	return ESPAT_RC_OK;
}

enum espat_rc espat_tcpip_cipsto_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CIPSTO:%u", T(m)->sto);
	return ESPAT_RC_OK;
}

enum espat_rc espat_tcpip_cipsto_set(struct espat_module *m, const struct espat_args *a)
{
	T(m)->sto = (uint16_t)a->v[0].i;
	for (size_t i = 0; i < ESPAT_LINKS; i++) {
		struct espat_link *l = &T(m)->links[i];
		if (l->server && l->state == ESPAT_LINK_UP) {
			if (T(m)->sto)
				espat_link_touch(l);
			else
				espat_timer_cancel(&m->timers, &l->timer);
		}
	}
	return ESPAT_RC_OK;
}

/* ---- AT+CIPDNS, AT+CIPDOMAIN ----------------------------------------------- */

static enum espat_rc cipdns_query(struct espat_module *m, const struct espat_args *a)
{
	char line[200], ip[46];
	bool manual;
	struct espat_ip srv[ESPAT_DNS_SERVERS_MAX];
	size_t nsrv = espat_conn_dns_get(m, &manual, srv);
	size_t o = (size_t)snprintf(line, sizeof(line), "+CIPDNS:%u", manual ? 1u : 0u);
	uint32_t dhcp[2];
	size_t ndhcp = manual ? 0 : espat_wifi_dhcp_dns(m, dhcp);
	if (ndhcp > 0) {
		/* the servers DHCP gave */
		for (size_t i = 0; i < ndhcp; i++)
			o += (size_t)snprintf(line + o, sizeof(line) - o, ",\"%s\"",
					      espat_ip4_str(dhcp[i], ip));
	} else {
		/* the manual ones, or the fallbacks */
		for (size_t i = 0; i < nsrv; i++)
			o += (size_t)snprintf(line + o, sizeof(line) - o, ",\"%s\"",
					      espat_ip_str(&srv[i], ip));
	}
	espat_wr_linef(&m->wr, "%s", line);
	return ESPAT_RC_OK;
}

static enum espat_rc cipdns_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_engine *e = E(m);
	int64_t en = a->v[0].i;
	if (en == 0) {
		if (a->n > 1)
			return espat_fail(e, ESPAT_ERR_NUM(1, a->n));
		espat_conn_dns_auto(m);
		return ESPAT_RC_OK;
	}
	struct espat_ip s[ESPAT_DNS_SERVERS_MAX];
	size_t n = 0;
	for (size_t i = 1; i < a->n; i++) {
		if (omitted(a, i))
			continue;
		if (!arg_str(a, i, 45) || !espat_ip_parse(a->v[i].s, a->v[i].len, &s[n]))
			return espat_fail(e, ESPAT_ERR_INVALID(i));
		for (size_t k = 0; k < n; k++)
			if (memcmp(&s[k], &s[n], sizeof(s[k])) == 0)
				return espat_fail(e, ESPAT_ERR_INVALID(i)); /* must differ */
		n++;
	}
	espat_conn_dns_manual(m, s, n);
	return ESPAT_RC_OK;
}

static void domain_end(struct espat_module *m, int err, const struct espat_ip *ip)
{
	struct espat_tcpip *t = T(m);
	espat_timer_cancel(&m->timers, &t->domain_timer);
	if (t->domain)
		espat_conn_resolve_cancel(m, t->domain);
	t->domain = NULL;
	if (err) {
		espat_engine_complete(E(m), espat_fail(E(m), ESPAT_ERR_EXEC));
		return;
	}
	char s[46];
	espat_wr_linef(&m->wr, "+CIPDOMAIN:\"%s\"", espat_ip_str(ip, s));
	espat_engine_complete(E(m), ESPAT_RC_OK);
}

static void domain_resolved(void *user, int err, const struct espat_ip *ip)
{
	struct espat_module *m = user;
	T(m)->domain = NULL;
	domain_end(m, err, ip);
}

static void domain_timeout(void *user)
{
	domain_end(user, ESPAT_NET_ETIMEDOUT, NULL);
}

static enum espat_rc cipdomain_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_tcpip *t = T(m);
	uint8_t net = omitted(a, 1) ? 1 : (uint8_t)a->v[1].i;
	uint32_t timeout = omitted(a, 2) ? 0 : (uint32_t)a->v[2].i;
	if (a->v[0].len == 0 || memchr(a->v[0].s, 0, a->v[0].len))
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	if (net == 3 && !t->ipv6)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	enum espat_dns_family family = net == 2   ? ESPAT_DNS_V4_ONLY
				       : net == 3 ? ESPAT_DNS_V6_ONLY
						  : ESPAT_DNS_PREFER_V4;
	if (!t->ipv6 && family == ESPAT_DNS_PREFER_V4)
		family = ESPAT_DNS_V4_ONLY;
	int err = 0;
	t->domain = espat_conn_resolve(m, a->v[0].s, family, timeout, domain_resolved, m, &err);
	if (!t->domain)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	espat_timer_arm(&m->timers, &t->domain_timer,
			now(m) + (timeout ? timeout : DOMAIN_TIMEOUT_MS), domain_timeout, m);
	return ESPAT_RC_PENDING;
}

/* ---- AT+CIPTCPOPT, AT+CIPRECONNINTV, AT+CIPSENDLCFG ------------------------ */

static enum espat_rc ciptcpopt_query(struct espat_module *m, const struct espat_args *a)
{
	size_t n = T(m)->mux ? ESPAT_LINKS : 1;
	for (size_t i = 0; i < n; i++) {
		const struct espat_tcpopt *o = &T(m)->opt[i];
		espat_wr_linef(&m->wr, "+CIPTCPOPT:%u,%d,%u,%u,%u", (unsigned)i, (int)o->linger_s,
			       o->nodelay ? 1u : 0u, (unsigned)o->sndtimeo_ms,
			       (unsigned)o->keepalive_s);
	}
	return ESPAT_RC_OK;
}

static void save_tcpopt(struct espat_module *m)
{
	char text[ESPAT_LINKS * 40];
	size_t o = 0;
	for (size_t i = 0; i < ESPAT_LINKS; i++) {
		const struct espat_tcpopt *p = &T(m)->opt[i];
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s%d,%u,%u,%u", i ? "," : "",
				      (int)p->linger_s, p->nodelay ? 1u : 0u,
				      (unsigned)p->sndtimeo_ms, (unsigned)p->keepalive_s);
	}
	espat_settings_save(&m->settings, ESPAT_SAVE_SYSSTORE, "tcpopt", text);
}

static enum espat_rc ciptcpopt_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_tcpip *t = T(m);
	struct espat_engine *e = E(m);
	size_t i = 0;
	int64_t id = 0;
	if (t->mux) {
		if (!arg_int(a, 0, 0, ESPAT_LINK_ALL))
			return espat_fail(e, ESPAT_ERR_INVALID(0));
		id = a->v[0].i;
		i = 1;
	}
	if (a->n > i + 4)
		return espat_fail(e, ESPAT_ERR_NUM(i + 4, a->n));
	struct espat_tcpopt o = t->opt[id == ESPAT_LINK_ALL ? 0 : id];
	static const int64_t lo[4] = {-1, 0, 0, 0}, hi[4] = {60, 1, 10000, 7200};
	for (size_t k = 0; k < 4; k++) {
		if (omitted(a, i + k))
			continue;
		if (!arg_int(a, i + k, lo[k], hi[k]))
			return espat_fail(e, ESPAT_ERR_INVALID(i + k));
		int64_t v = a->v[i + k].i;
		if (k == 0)
			o.linger_s = (int32_t)v;
		else if (k == 1)
			o.nodelay = v == 1;
		else if (k == 2)
			o.sndtimeo_ms = (uint32_t)v;
		else
			o.keepalive_s = (uint32_t)v;
	}
	for (size_t k = 0; k < ESPAT_LINKS; k++) {
		if (id != ESPAT_LINK_ALL && (int64_t)k != id)
			continue;
		t->opt[k] = o;
		if (t->links[k].state == ESPAT_LINK_UP)
			apply_opts(&t->links[k]);
	}
	save_tcpopt(m);
	return ESPAT_RC_OK;
}

static enum espat_rc cipreconnintv_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CIPRECONNINTV:%u", T(m)->reconnintv);
	return ESPAT_RC_OK;
}

static enum espat_rc cipreconnintv_set(struct espat_module *m, const struct espat_args *a)
{
	T(m)->reconnintv = (uint16_t)a->v[0].i;
	espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, "reconnintv", "%u",
			     T(m)->reconnintv);
	return ESPAT_RC_OK;
}

static enum espat_rc cipsendlcfg_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CIPSENDLCFG:%u,%u", (unsigned)T(m)->sendl_report,
		       (unsigned)T(m)->sendl_transmit);
	return ESPAT_RC_OK;
}

static enum espat_rc cipsendlcfg_set(struct espat_module *m, const struct espat_args *a)
{
	T(m)->sendl_report = (uint32_t)a->v[0].i;
	if (!omitted(a, 1))
		T(m)->sendl_transmit = (uint32_t)a->v[1].i;
	return ESPAT_RC_OK;
}

/* ---- the table ---------------------------------------------------------------- */

static const struct espat_param p_any8[] = {
	P_ANY_OPT("p1"), P_ANY_OPT("p2"), P_ANY_OPT("p3"), P_ANY_OPT("p4"),
	P_ANY_OPT("p5"), P_ANY_OPT("p6"), P_ANY_OPT("p7"), P_ANY_OPT("p8"),
};
static const struct espat_param p_start[] = {
	{.name = "link ID|type", .type = ESPAT_P_ANY},
	P_ANY_OPT("type|remote host"), P_ANY_OPT("remote host|remote port"), P_ANY_OPT("p4"),
	P_ANY_OPT("p5"), P_ANY_OPT("p6"), P_ANY_OPT("p7"), P_ANY_OPT("p8"),
};
static const struct espat_param p_bit[] = {P_INT("mode", 0, 1)};
static const struct espat_param p_close[] = {P_INT("link ID", 0, ESPAT_LINK_ALL)};
static const struct espat_param p_server[] = {
	P_INT("mode", 0, 1), P_ANY_OPT("param2"), P_ANY_OPT("type"), P_ANY_OPT("CA enable"),
};
static const struct espat_param p_maxconn[] = {P_INT("num", 1, ESPAT_LINKS)};
static const struct espat_param p_sto[] = {P_INT("time", 0, 7200)};
static const struct espat_param p_dns[] = {
	P_INT("enable", 0, 1), P_STR_OPT("DNS IP1", 45), P_STR_OPT("DNS IP2", 45),
	P_STR_OPT("DNS IP3", 45),
};
static const struct espat_param p_domain[] = {
	P_STR("domain name", ESPAT_DNS_NAME_MAX), P_INT_OPT("ip network", 1, 3),
	P_INT_OPT("timeout", 0, 60000),
};
static const struct espat_param p_reconnintv[] = {P_INT("interval", 1, 36000)};
static const struct espat_param p_sendlcfg[] = {
	P_INT("report size", 100, 1048576), P_INT_OPT("transmit size", 100, 2920),
};
static const struct espat_param p_send[] = {
	{.name = "link ID|length", .type = ESPAT_P_INT, .min = 0, .max = INT32_MAX},
	P_ANY_OPT("length|remote host"), P_ANY_OPT("remote host|remote port"),
	P_ANY_OPT("remote port"),
};
static const struct espat_param p_recvdata[] = {
	{.name = "link ID|len", .type = ESPAT_P_INT, .min = 0, .max = UINT32_MAX},
	P_INT_OPT("len", 0, UINT32_MAX),
};
static const struct espat_param p_recvtype[] = {
	P_INT("link ID|mode", 0, ESPAT_LINK_ALL), P_INT_OPT("mode", 0, 1),
};

static const struct espat_cmd rows[] = {
	{.name = "+CIPV6", .query = cipv6_query, .set = cipv6_set, .params = p_bit,
	 .nparams = N(p_bit), .help = "enable IPv6"},
	{.name = "+CIPSTATE", .query = cipstate_query, .help = "connection information"},
	{.name = "+CIPSTATUS", .exec = cipstatus_exec, .help = "connection status (deprecated)"},
	{.name = "+CIPDOMAIN", .set = cipdomain_set, .params = p_domain, .nparams = N(p_domain),
	 .help = "resolve a domain name"},
	{.name = "+CIPSTART", .set = espat_tcpip_cipstart_set, .params = p_start, .nparams = N(p_start),
	 .help = "open a TCP or UDP connection"},
	{.name = "+CIPSTARTEX", .set = cipstartex_set, .params = p_start, .nparams = N(p_start),
	 .help = "open a connection with an automatically assigned ID"},
	{.name = "+CIPSEND", .set = espat_cipsend_set, .exec = espat_cipsend_exec,
	 .params = p_send, .nparams = N(p_send), .help = "send data"},
	{.name = "+CIPSENDL", .set = espat_cipsendl_set, .params = p_send, .nparams = N(p_send),
	 .help = "send long data in parallel"},
	{.name = "+CIPSENDLCFG", .query = cipsendlcfg_query, .set = cipsendlcfg_set,
	 .params = p_sendlcfg, .nparams = N(p_sendlcfg), .help = "configure AT+CIPSENDL"},
	{.name = "+CIPSENDEX", .set = espat_cipsendex_set, .params = p_send, .nparams = N(p_send),
	 .help = "send data ended by \\0"},
	{.name = "+CIPCLOSE", .set = espat_tcpip_cipclose_set, .exec = espat_tcpip_cipclose_exec, .params = p_close,
	 .nparams = N(p_close), .help = "close a connection"},
	{.name = "+CIFSR", .exec = espat_tcpip_cifsr_exec, .help = "local addresses"},
	{.name = "+CIPMUX", .query = espat_tcpip_cipmux_query, .set = espat_tcpip_cipmux_set, .params = p_bit,
	 .nparams = N(p_bit), .help = "multiple connections"},
	{.name = "+CIPSERVER", .query = cipserver_query, .set = espat_tcpip_cipserver_set, .params = p_server,
	 .nparams = N(p_server), .help = "create or delete a TCP server"},
	{.name = "+CIPSERVERMAXCONN", .query = cipservermaxconn_query,
	 .set = cipservermaxconn_set, .params = p_maxconn, .nparams = N(p_maxconn),
	 .help = "server connection limit"},
	{.name = "+CIPMODE", .query = espat_tcpip_cipmode_query, .set = espat_tcpip_cipmode_set, .params = p_bit,
	 .nparams = N(p_bit), .help = "transmission mode"},
	{.name = "+CIPSTO", .query = espat_tcpip_cipsto_query, .set = espat_tcpip_cipsto_set, .params = p_sto,
	 .nparams = N(p_sto), .help = "server idle timeout"},
	{.name = "+CIPDINFO", .query = cipdinfo_query, .set = espat_tcpip_cipdinfo_set, .params = p_bit,
	 .nparams = N(p_bit), .help = "remote address in +IPD"},
	{.name = "+CIPRECONNINTV", .query = cipreconnintv_query, .set = cipreconnintv_set,
	 .params = p_reconnintv, .nparams = N(p_reconnintv),
	 .help = "passthrough reconnect interval"},
	{.name = "+CIPRECVTYPE", .query = espat_ciprecvtype_query, .set = espat_ciprecvtype_set,
	 .params = p_recvtype, .nparams = N(p_recvtype), .help = "active or passive receive"},
	{.name = "+CIPRECVMODE", .query = espat_ciprecvmode_query, .set = espat_ciprecvmode_set,
	 .params = p_bit, .nparams = N(p_bit), .help = "receive mode of every link (legacy)"},
	{.name = "+CIPRECVDATA", .set = espat_ciprecvdata_set, .params = p_recvdata,
	 .nparams = N(p_recvdata), .help = "read passive data"},
	{.name = "+CIPRECVLEN", .query = espat_ciprecvlen_query, .help = "passive data lengths"},
	{.name = "+CIPDNS", .query = cipdns_query, .set = cipdns_set, .params = p_dns,
	 .nparams = N(p_dns), .help = "DNS servers"},
	{.name = "+CIPTCPOPT", .query = ciptcpopt_query, .set = ciptcpopt_set, .params = p_any8,
	 .nparams = 5, .help = "socket options"},
};

const struct espat_cmd_table espat_tcpip_table = {
	.family = "tcpip",
	.rows = rows,
	.n = sizeof(rows) / sizeof(rows[0]),
};

/* ---- lifecycle ------------------------------------------------------------------ */

void espat_tcpip_init(struct espat_module *m)
{
	struct espat_tcpip *t = T(m);
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < ESPAT_LINKS; i++) {
		t->links[i].m = m;
		t->links[i].id = (uint8_t)i;
		t->opt[i].linger_s = -1;
	}
	t->reconnintv = 1;
	t->sendl_report = 1024;
	t->sendl_transmit = 2920;
	t->srv_max = ESPAT_LINKS;
	t->sto = STO_DEFAULT;
}

static void load_settings(struct espat_module *m)
{
	struct espat_tcpip *t = T(m);
	struct espat_args a;
	if (espat_settings_load(&m->settings, "cipv6", &a) && a.n == 1 &&
	    a.v[0].kind == ESPAT_ARG_INT)
		t->ipv6 = a.v[0].i == 1;
	if (espat_settings_load(&m->settings, "reconnintv", &a) && a.n == 1 &&
	    a.v[0].kind == ESPAT_ARG_INT && a.v[0].i >= 1 && a.v[0].i <= 36000)
		t->reconnintv = (uint16_t)a.v[0].i;
	if (espat_settings_load(&m->settings, "tcpopt", &a) && a.n == 4 * ESPAT_LINKS) {
		for (size_t i = 0; i < ESPAT_LINKS; i++) {
			const struct espat_arg *v = &a.v[4 * i];
			if (v[0].kind != ESPAT_ARG_INT || v[1].kind != ESPAT_ARG_INT ||
			    v[2].kind != ESPAT_ARG_INT || v[3].kind != ESPAT_ARG_INT)
				continue;
			t->opt[i].linger_s = (int32_t)v[0].i;
			t->opt[i].nodelay = v[1].i == 1;
			t->opt[i].sndtimeo_ms = (uint32_t)v[2].i;
			t->opt[i].keepalive_s = (uint32_t)v[3].i;
		}
	}
}

void espat_tcpip_boot(struct espat_module *m)
{
	load_settings(m);
	/* the SSL row's settings before an SSL AT+SAVETRANSLINK link opens */
	espat_ssl_load(m);
	espat_pt_boot(m);
}

void espat_tcpip_free(struct espat_module *m)
{
	struct espat_tcpip *t = T(m);
	espat_pt_free(m);
	if (t->domain)
		espat_conn_resolve_cancel(m, t->domain);
	t->domain = NULL;
	espat_timer_cancel(&m->timers, &t->domain_timer);
	server_close(m, false);
	close_all(m, false);
}

void espat_tcpip_event(struct espat_module *m, enum espat_event ev)
{
	switch (ev) {
	case ESPAT_EV_NET_CHANGED:
		net_changed(m);
		break;
	case ESPAT_EV_TX_ROOM:
		tx_room(m);
		break;
	case ESPAT_EV_INPUT_DONE:
		espat_pt_after_input(m);
		break;
	default:
		break;
	}
}

const struct espat_family espat_tcpip_family = {
	.name = "tcpip",
	.table = &espat_tcpip_table,
	.state_size = sizeof(struct espat_tcpip),
	.state_slot = offsetof(struct espat_module, tcpip),
	.init = espat_tcpip_init,
	.boot = espat_tcpip_boot,
	.free = espat_tcpip_free,
	.events = ESPAT_EV(ESPAT_EV_NET_CHANGED) | ESPAT_EV(ESPAT_EV_TX_ROOM) |
		  ESPAT_EV(ESPAT_EV_INPUT_DONE),
	.on_event = espat_tcpip_event,
};

/* ---- for other families ------------------------------------------------------- */

bool espat_tcpip_mux(const struct espat_module *m)
{
	return m->tcpip->mux != 0;
}

bool espat_tcpip_ipv6(const struct espat_module *m)
{
	return m->tcpip->ipv6;
}
