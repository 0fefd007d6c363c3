#include "app/ctl_fault.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "app/ctl.h"
#include "cmd/addr.h"
#include "cmd/module.h"
#include "cmd/mqtt.h"
#include "cmd/tcpip.h"
#include "core/args.h"
#include "world/netfault.h"

#define MSG_MAX 512

static char *failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *failf(const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return espat_ctl_reply_fail(msg);
}

static const char *const dns_names[] = {
    [ESPAT_NETFAULT_DNS_OK] = "ok",
    [ESPAT_NETFAULT_DNS_FAIL] = "fail",
    [ESPAT_NETFAULT_DNS_HANG] = "hang",
};

static const char *const conn_names[] = {
    [ESPAT_NETFAULT_CONN_OK] = "ok",
    [ESPAT_NETFAULT_CONN_BLACKHOLE] = "blackhole",
    [ESPAT_NETFAULT_CONN_REFUSE] = "refuse",
};

/* The index of word in names[n], or -1. */
static int word_of(const char *word, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(word, names[i]) == 0)
			return (int)i;
	}
	return -1;
}

/* An integer argument lo..hi. */
static bool int_arg(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	return espat_parse_int(s, strlen(s), out) && *out >= lo && *out <= hi;
}

json_t *espat_ctl_fault_json(struct espat_ctl *c)
{
	const struct espat_netfault *f = c->fault;
	if (f == NULL)
		return json_null();
	json_t *dns = json_array();
	for (size_t i = 0; dns && i < f->ndns; i++)
		json_array_append_new(dns, json_pack("{s:s,s:s}", "name",
		                                     f->dns[i].name[0] ? f->dns[i].name : "*",
		                                     "how", dns_names[f->dns[i].how]));
	json_t *conn = json_array();
	for (size_t i = 0; conn && i < f->nconn; i++) {
		const struct espat_netfault_conn_rule *r = &f->conn[i];
		char ip[46];
		json_array_append_new(conn,
		                      json_pack("{s:s,s:i,s:s}", "host",
		                                r->any_host ? "*" : espat_ip_str(&r->ip, ip),
		                                "port", (int)r->port, "how", conn_names[r->how]));
	}
	return json_pack("{s:o,s:o,s:i,s:i,s:I,s:I,s:I,s:I,s:I}", "dns", dns, "connect", conn,
	                 "latency_ms", (int)f->latency_ms, "loss_pct", (int)f->loss_pct, "frozen",
	                 (json_int_t)espat_netfault_frozen(f), "dgrams_lost",
	                 (json_int_t)f->dgrams_lost, "tcp_retransmits",
	                 (json_int_t)f->tcp_retransmits, "dns_faulted", (json_int_t)f->dns_faulted,
	                 "connects_faulted", (json_int_t)f->conns_faulted);
}

static char *no_layer(void)
{
	return espat_ctl_reply_fail("fault: this espat has no fault layer");
}

char *espat_ctl_fault_list(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	if (c->fault == NULL)
		return no_layer();
	return espat_ctl_reply_ok("faults", espat_ctl_fault_json(c));
}

char *espat_ctl_fault_dns(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	if (c->fault == NULL)
		return no_layer();
	int how = word_of(argv[0], dns_names, sizeof(dns_names) / sizeof(dns_names[0]));
	if (how < 0)
		return failf("fault dns: expected fail, hang or ok, got '%s'", argv[0]);
	const char *name = argc > 1 ? argv[1] : NULL;
	if (name && (name[0] == '\0' || strlen(name) > ESPAT_DNS_NAME_MAX))
		return failf("fault dns: a name is 1 to %d bytes", ESPAT_DNS_NAME_MAX);
	if (espat_netfault_set_dns(c->fault, name, (enum espat_netfault_dns)how) < 0)
		return failf("fault dns: at most %d rules", ESPAT_NETFAULT_RULES);
	return espat_ctl_reply_ok("faults", espat_ctl_fault_json(c));
}

/* "ADDR", "ADDR:PORT", "[V6]:PORT" or "V6"; port 0 when not given. */
static bool parse_hostport(const char *s, struct espat_ip *ip, uint16_t *port)
{
	const char *host = s, *colon = NULL;
	size_t len = strlen(s);
	*port = 0;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL)
			return false;
		host = s + 1;
		len = (size_t)(end - host);
		if (end[1] == ':')
			colon = end + 1;
		else if (end[1] != '\0')
			return false;
	} else if (strchr(s, ':') == strrchr(s, ':') && strchr(s, ':') != NULL) {
		colon = strchr(s, ':'); /* one colon: IPv4 and a port */
		len = (size_t)(colon - s);
	}
	if (colon) {
		int64_t p;
		if (!int_arg(colon + 1, 1, 65535, &p))
			return false;
		*port = (uint16_t)p;
	}
	return espat_ip_parse(host, len, ip);
}

char *espat_ctl_fault_connect(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	if (c->fault == NULL)
		return no_layer();
	int how = word_of(argv[0], conn_names, sizeof(conn_names) / sizeof(conn_names[0]));
	if (how < 0)
		return failf("fault connect: expected blackhole, refuse or ok, got '%s'", argv[0]);
	struct espat_ip ip;
	uint16_t port = 0;
	if (argc > 1 && !parse_hostport(argv[1], &ip, &port))
		return failf("fault connect: '%s' is not ADDR, ADDR:PORT or [V6ADDR]:PORT (an "
		             "address, not a name: fault dns faults names)",
		             argv[1]);
	if (espat_netfault_set_conn(c->fault, argc > 1 ? &ip : NULL, port,
	                            (enum espat_netfault_conn)how) < 0)
		return failf("fault connect: at most %d rules", ESPAT_NETFAULT_RULES);
	return espat_ctl_reply_ok("faults", espat_ctl_fault_json(c));
}

char *espat_ctl_fault_latency(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	int64_t ms;
	if (c->fault == NULL)
		return no_layer();
	if (!int_arg(argv[0], 0, ESPAT_NETFAULT_LATENCY_MAX, &ms))
		return failf("fault latency: MS must be 0..%u", ESPAT_NETFAULT_LATENCY_MAX);
	espat_netfault_set_latency(c->fault, (uint32_t)ms);
	return espat_ctl_reply_ok("faults", espat_ctl_fault_json(c));
}

char *espat_ctl_fault_loss(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	int64_t pct;
	if (c->fault == NULL)
		return no_layer();
	if (!int_arg(argv[0], 0, 100, &pct))
		return failf("fault loss: PCT must be 0..100");
	espat_netfault_set_loss(c->fault, (uint8_t)pct);
	return espat_ctl_reply_ok("faults", espat_ctl_fault_json(c));
}

/* The sockets `ID|mqtt|all` names, through the module's view of its
 * connections (their peer and local port: what the fault layer sees under
 * TLS too). */
static const char *which(struct espat_ctl *c, const char *arg, struct espat_netfault_match *m)
{
	struct espat_module *mod = c->module(c->user);
	int64_t id;
	*m = (struct espat_netfault_match){0};
	if (strcmp(arg, "all") == 0) {
		m->all = true;
		return NULL;
	}
	const struct espat_conn *conn;
	if (strcmp(arg, "mqtt") == 0) {
		conn = &mod->mqtt->conn;
		if (conn->phase != ESPAT_CONN_UP)
			return "the MQTT client has no connection";
	} else if (int_arg(arg, 0, ESPAT_LINKS - 1, &id)) {
		const struct espat_link *l = &mod->tcpip->links[id];
		conn = &l->conn;
		if (l->state != ESPAT_LINK_UP || conn->phase != ESPAT_CONN_UP)
			return "that link is not open";
	} else {
		return "expected a link ID 0..4, mqtt or all";
	}
	m->remote = conn->remote;
	m->local_port = conn->local_port;
	return NULL;
}

static char *freeze(struct espat_ctl *c, const char *verb, const char *arg, bool on)
{
	if (c->fault == NULL)
		return no_layer();
	struct espat_netfault_match m;
	const char *why = which(c, arg, &m);
	if (why)
		return failf("fault %s %s: %s", verb, arg, why);
	size_t n = espat_netfault_freeze(c->fault, &m, on);
	if (n == 0 && !m.all)
		return failf("fault %s %s: no such connection on the network", verb, arg);
	return espat_ctl_reply_ok("sockets", json_integer((json_int_t)n));
}

char *espat_ctl_fault_freeze(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	return freeze(c, "freeze", argv[0], true);
}

char *espat_ctl_fault_thaw(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	return freeze(c, "thaw", argv[0], false);
}

char *espat_ctl_fault_drop(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	if (c->fault == NULL)
		return no_layer();
	size_t n = espat_netfault_drop_all(c->fault);
	return espat_ctl_reply_ok("sockets", json_integer((json_int_t)n));
}

char *espat_ctl_fault_clear(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	if (c->fault == NULL)
		return no_layer();
	espat_netfault_clear(c->fault);
	return espat_ctl_reply_ok("faults", espat_ctl_fault_json(c));
}
