/* TCP/IP commands of the ESP8266 v1.5 instruction set (its section 5): the
 * same links, sockets and data paths as tcpip*.c (the family's state and
 * lifecycle), with v1.5's rows: AT+CIPSTATUS codes 2-5, one SSL link at a
 * time and no SSL passthrough, AT+CIPSSLSIZE. The dialect supplies what
 * the shared paths print differently (ALREADY CONNECT, Link is builded,
 * the 2048-byte send limit). */
#include <stddef.h>
#include <string.h>

#include "cmd/params.h"
#include "cmd/tcpip_internal.h"

static bool open_link(const struct espat_link *l)
{
	return l->state != ESPAT_LINK_FREE;
}

/* STATUS:<stat>: 2 got IP, 3 connected, 4 disconnected, 5 no Wi-Fi
 * connection (v1.5 5.2); then one line per link. */
static enum espat_rc cipstatus_exec(struct espat_module *m, const struct espat_args *a)
{
	struct espat_tcpip *t = T(m);
	bool any = false;
	for (size_t i = 0; i < ESPAT_LINKS; i++)
		any |= t->links[i].state == ESPAT_LINK_UP;
	unsigned stat = 5;
	if (espat_wifi_sta_enabled(m) && espat_wifi_sta_state(m) == ESPAT_STA_GOT_IP)
		stat = any ? 3 : t->had_link ? 4 : 2;
	espat_wr_linef(&m->wr, "STATUS:%u", stat);
	for (size_t i = 0; i < ESPAT_LINKS; i++) {
		const struct espat_link *l = &t->links[i];
		if (l->state != ESPAT_LINK_UP)
			continue;
		char ip[46];
		espat_wr_linef(&m->wr, "+CIPSTATUS:%u,\"%s\",\"%s\",%u,%u,%u", l->id,
		               espat_link_type_name(l->type), espat_ip_str(&l->remote.ip, ip),
		               l->remote.port, l->local_port, l->server ? 1u : 0u);
	}
	return ESPAT_RC_OK;
}

/* v1.5 has no IPv6 links and one SSL link at most ("ESP8266 can only set
 * one SSL connection at most"). */
static enum espat_rc cipstart_set(struct espat_module *m, const struct espat_args *a)
{
	size_t i = T(m)->mux ? 1 : 0;
	if (i < a->n && a->v[i].kind == ESPAT_ARG_STR) {
		enum espat_link_type type;
		if (!espat_link_type_parse(a->v[i].s, a->v[i].len, &type) ||
		    (type != ESPAT_LT_TCP && type != ESPAT_LT_UDP && type != ESPAT_LT_SSL))
			return espat_fail(E(m), ESPAT_ERR_INVALID(i));
		if (type == ESPAT_LT_SSL)
			for (size_t k = 0; k < ESPAT_LINKS; k++)
				if (open_link(&T(m)->links[k]) &&
				    espat_link_is_ssl(&T(m)->links[k]))
					return espat_fail(E(m), ESPAT_ERR_EXEC);
	}
	return espat_tcpip_cipstart_set(m, a);
}

/* AT+CIPSEND without a length is passthrough, which SSL links lack. */
static enum espat_rc cipsend_exec(struct espat_module *m, const struct espat_args *a)
{
	const struct espat_link *l = &T(m)->links[0];
	if (!T(m)->mux && open_link(l) && espat_link_is_ssl(l))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	return espat_cipsend_exec(m, a);
}

/* AT+CIPSERVER=<mode>[,<port>]: TCP only. */
static enum espat_rc cipserver_set(struct espat_module *m, const struct espat_args *a)
{
	if (a->v[0].i == 0 && a->n > 1)
		return espat_fail(E(m), ESPAT_ERR_NUM(1, a->n));
	return espat_tcpip_cipserver_set(m, a);
}

static enum espat_rc cipsslsize_set(struct espat_module *m, const struct espat_args *a)
{
	m->ssl->v15_bufsize = (uint16_t)a->v[0].i;
	return ESPAT_RC_OK;
}

static const struct espat_param p_bit[] = {P_INT("mode", 0, 1)};
static const struct espat_param p_start[] = {
    P_ANY_OPT("link ID|type"),
    P_ANY_OPT("type|remote IP"),
    P_ANY_OPT("remote IP|remote port"),
    P_ANY_OPT("remote port|keep alive|local port"),
    P_ANY_OPT("keep alive|local port|mode"),
    P_ANY_OPT("mode"),
};
static const struct espat_param p_send[] = {
    {.name = "link ID|length", .type = ESPAT_P_INT, .min = 0, .max = INT32_MAX},
    P_ANY_OPT("length|remote IP"),
    P_ANY_OPT("remote IP|remote port"),
    P_ANY_OPT("remote port"),
};
static const struct espat_param p_close[] = {P_INT("link ID", 0, ESPAT_LINK_ALL)};
static const struct espat_param p_server[] = {P_INT("mode", 0, 1), P_INT_OPT("port", 1, 65535)};
static const struct espat_param p_sto[] = {P_INT("time", 0, 7200)};
static const struct espat_param p_sslsize[] = {P_INT("size", 2048, 4096)};

/* clang-format off */
static const struct espat_cmd rows[] = {
	{.name = "+CIPSTATUS", .exec = cipstatus_exec, .help = "Get connection status"},
	{.name = "+CIPSTART", .set = cipstart_set, .params = p_start, .nparams = N(p_start),
	 .help = "Establish TCP connection, UDP transmission or SSL connection"},
	{.name = "+CIPSEND", .set = espat_cipsend_set, .exec = cipsend_exec, .params = p_send,
	 .nparams = N(p_send), .help = "Send data"},
	{.name = "+CIPSENDEX", .set = espat_cipsendex_set, .params = p_send, .nparams = N(p_send),
	 .help = "Send data, ended by \\0"},
	{.name = "+CIPCLOSE", .set = espat_tcpip_cipclose_set, .exec = espat_tcpip_cipclose_exec,
	 .params = p_close, .nparams = N(p_close), .help = "Close TCP/UDP/SSL connection"},
	{.name = "+CIFSR", .exec = espat_tcpip_cifsr_exec, .help = "Get local IP address"},
	{.name = "+CIPMUX", .query = espat_tcpip_cipmux_query, .set = espat_tcpip_cipmux_set,
	 .params = p_bit, .nparams = N(p_bit), .help = "Set multiple connections mode"},
	{.name = "+CIPSERVER", .set = cipserver_set, .params = p_server, .nparams = N(p_server),
	 .help = "Configure as TCP server"},
	{.name = "+CIPMODE", .query = espat_tcpip_cipmode_query, .set = espat_tcpip_cipmode_set,
	 .params = p_bit, .nparams = N(p_bit), .help = "Set transmission mode"},
	{.name = "+CIPSTO", .query = espat_tcpip_cipsto_query, .set = espat_tcpip_cipsto_set,
	 .params = p_sto, .nparams = N(p_sto), .help = "Set timeout when ESP8266 runs as TCP server"},
	{.name = "+CIPDINFO", .set = espat_tcpip_cipdinfo_set, .params = p_bit, .nparams = N(p_bit),
	 .help = "Show remote IP and remote port with +IPD"},
};

static const struct espat_cmd ssl_rows[] = {
	{.name = "+CIPSSLSIZE", .set = cipsslsize_set, .params = p_sslsize,
	 .nparams = N(p_sslsize), .help = "Set the size of SSL buffer"},
};
/* clang-format on */

static const struct espat_cmd_table table = {
    .family = "tcpip",
    .rows = rows,
    .n = sizeof(rows) / sizeof(rows[0]),
};

static const struct espat_cmd_table ssl_table = {
    .family = "ssl",
    .rows = ssl_rows,
    .n = sizeof(ssl_rows) / sizeof(ssl_rows[0]),
};

const struct espat_family espat_tcpip_v15_family = {
    .name = "tcpip",
    .table = &table,
    .state_size = sizeof(struct espat_tcpip),
    .state_slot = offsetof(struct espat_module, tcpip),
    .init = espat_tcpip_init,
    .boot = espat_tcpip_boot,
    .free = espat_tcpip_free,
    .events =
        ESPAT_EV(ESPAT_EV_NET_CHANGED) | ESPAT_EV(ESPAT_EV_TX_ROOM) | ESPAT_EV(ESPAT_EV_INPUT_DONE),
    .on_event = espat_tcpip_event,
};

/* The SSL state (no client certificates in v1.5: auth 0) and its one
 * command; the buffer size starts at v1.5's 2048. */
static void ssl_v15_init(struct espat_module *m)
{
	m->ssl->v15_bufsize = 2048;
}

const struct espat_family espat_ssl_v15_family = {
    .name = "ssl",
    .table = &ssl_table,
    .state_size = sizeof(struct espat_ssl),
    .state_slot = offsetof(struct espat_module, ssl),
    .init = ssl_v15_init,
};
