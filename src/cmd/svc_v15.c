/* AT+PING and AT+MDNS of the ESP8266 v1.5 instruction set: the services
 * family's state and lifecycle (svc.c) with v1.5's rows. AT+PING is the
 * shared one (the dialect prints "+<time>" and no TIMEOUT line); v1.5's
 * AT+MDNS=<enable>,<hostname>,<server_name>,<server_port> is the ESP32-C3
 * command with the service type "_<server_name>" over TCP. There is no SNTP
 * in v1.5. */
#include <stddef.h>
#include <string.h>

#include "cmd/family.h"
#include "cmd/params.h"
#include "cmd/svc.h"
#include "proto/mdns.h"

#define E(m) (&(m)->eng)

/* v1.5: "Do not contain special characters (for example, '.')" in the
 * names [004:1071]. */
static bool plain_name(const struct espat_arg *a)
{
	return a->kind == ESPAT_ARG_STR && a->len > 0 && memchr(a->s, '.', a->len) == NULL;
}

static enum espat_rc mdns_set(struct espat_module *m, const struct espat_args *a)
{
	if (a->v[0].i == 0) {
		/* the names that may follow are ignored when disabling */
		struct espat_args off = {.n = 1};
		off.v[0] = a->v[0];
		return espat_svc_mdns_set(m, &off);
	}
	if (a->n != 4)
		return espat_fail(E(m), ESPAT_ERR_NUM(4, a->n));
	if (!plain_name(&a->v[1]))
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	if (!plain_name(&a->v[2]) || a->v[2].len + 1 > ESPAT_MDNS_LABEL_MAX)
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	if (a->v[3].kind != ESPAT_ARG_INT)
		return espat_fail(E(m), ESPAT_ERR_TYPE(3));
	struct espat_args b = *a;
	char service[ESPAT_MDNS_LABEL_MAX + 2];
	service[0] = '_';
	memcpy(service + 1, a->v[2].s, a->v[2].len);
	service[1 + a->v[2].len] = 0;
	b.v[2].s = service;
	b.v[2].len = 1 + a->v[2].len;
	return espat_svc_mdns_set(m, &b);
}

static const struct espat_param p_ping[] = {P_STR("IP", ESPAT_PING_HOST_MAX)};
static const struct espat_param p_mdns[] = {
    P_INT("enable", 0, 1),
    P_STR_OPT("hostname", ESPAT_MDNS_LABEL_MAX),
    P_STR_OPT("server_name", ESPAT_MDNS_LABEL_MAX),
    P_INT_OPT("server_port", 1, 65535),
};

static const struct espat_cmd rows[] = {
    {.name = "+MDNS",
     .set = mdns_set,
     .params = p_mdns,
     .nparams = N(p_mdns),
     .help = "Set MDNS function"},
    {.name = "+PING",
     .set = espat_svc_ping_set,
     .params = p_ping,
     .nparams = N(p_ping),
     .help = "Function Ping"},
};

static const struct espat_cmd_table table = {
    .family = "svc",
    .rows = rows,
    .n = sizeof(rows) / sizeof(rows[0]),
};

const struct espat_family espat_svc_v15_family = {
    .name = "svc",
    .table = &table,
    .state_size = sizeof(struct espat_svc),
    .state_slot = offsetof(struct espat_module, svc),
    .init = espat_svc_init,
    .free = espat_svc_free,
    .events = ESPAT_EV(ESPAT_EV_NET_CHANGED),
    .on_event = espat_svc_event,
};
