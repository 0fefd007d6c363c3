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

/* ---- AT+CIPSENDBUF, AT+CIPBUFSTATUS, AT+CIPCHECKSEQ, AT+CIPBUFRESET ---------- */

static size_t queued(const struct espat_link *l)
{
	struct espat_module *m = l->m;
	return l->conn.sock ? NET(m)->queued(NET(m)->user, l->conn.sock) : 0;
}

static struct espat_segs *segs_of(const struct espat_link *l)
{
	struct espat_segs *s = &l->m->tcpip->segs[l->id];
	if (s->next == 0)
		s->next = 1; /* IDs start from 1 */
	return s;
}

static size_t segs_pending(const struct espat_segs *s)
{
	size_t n = 0;
	for (size_t i = 0; i < ESPAT_SEG_HISTORY; i++)
		n += s->ring[i].id != 0 && !s->ring[i].done;
	return n;
}

/* The stack took the bytes up to handed - queued: every segment that ends
 * there is sent, "<segment ID>,SEND OK" ("<link ID>,<segment ID>,SEND
 * OK" with AT+CIPMUX=1), oldest first. */
void espat_segs_drained(struct espat_link *l)
{
	struct espat_module *m = l->m;
	struct espat_segs *s = &m->tcpip->segs[l->id];
	if (s->handed == 0)
		return;
	/* bytes of other sends (AT+CIPSEND) queued behind count as ours: a
	 * segment is never reported early */
	size_t q = queued(l);
	uint64_t out = q >= s->handed ? 0 : s->handed - q;
	for (;;) {
		struct espat_seg *first = NULL;
		for (size_t i = 0; i < ESPAT_SEG_HISTORY; i++) {
			struct espat_seg *g = &s->ring[i];
			if (g->id && !g->done && g->end <= out && (!first || g->id < first->id))
				first = g;
		}
		if (!first)
			return;
		first->done = first->ok = true;
		if (first->id > s->acked)
			s->acked = first->id;
		if (m->tcpip->mux)
			espat_wr_reportf(&m->wr, "%u,%u,SEND OK", l->id, first->id);
		else
			espat_wr_reportf(&m->wr, "%u,SEND OK", first->id);
	}
}

/* The link closed: segments still queued failed; the count starts again
 * on the next link with this ID. */
void espat_segs_gone(struct espat_link *l)
{
	struct espat_module *m = l->m;
	memset(&m->tcpip->segs[l->id], 0, sizeof(m->tcpip->segs[l->id]));
	if (m->tcpip->seg_link == l)
		m->tcpip->seg_link = NULL;
}

/* The link a v1.5 buffer command names: "=<link ID>,..." with AT+CIPMUX=1,
 * link 0 without; it must be an open TCP link. *i is the index of the
 * next argument. NULL: answer ERROR. */
static struct espat_link *seg_link(struct espat_module *m, const struct espat_args *a, size_t *i)
{
	struct espat_tcpip *t = T(m);
	int64_t id = 0;
	*i = 0;
	if (t->mux) {
		if (a->n < 1 || a->v[0].kind != ESPAT_ARG_INT || a->v[0].i >= ESPAT_LINKS)
			return NULL;
		id = a->v[0].i;
		*i = 1;
	}
	struct espat_link *l = &t->links[id];
	if (l->state != ESPAT_LINK_UP || !l->conn.sock || espat_link_is_udp(l) ||
	    espat_link_is_ssl(l))
		return NULL;
	return l;
}

static enum espat_rc sendbuf_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_tcpip *t = T(m);
	memcpy(t->tx_buf + t->tx_len, p, n);
	t->tx_len += n;
	if (!last)
		return ESPAT_RC_PENDING;
	struct espat_link *l = t->seg_link;
	t->seg_link = NULL;
	if (!l || !l->conn.sock)
		return ESPAT_RC_DONE; /* the link went while the data came */
	struct espat_segs *s = segs_of(l);
	struct espat_seg *g = &s->ring[s->next % ESPAT_SEG_HISTORY];
	*g = (struct espat_seg){.id = s->next, .end = s->handed + t->tx_len};
	s->sent = s->next++;
	if (NET(m)->send(NET(m)->user, l->conn.sock, t->tx_buf, t->tx_len, NULL) != 0) {
		g->done = true; /* AT+CIPCHECKSEQ: FALSE */
		return ESPAT_RC_DONE;
	}
	s->handed += t->tx_len;
	espat_link_touch(l);
	return ESPAT_RC_DONE;
}

/* +++ before <length> bytes: the data is dropped, no segment. */
static enum espat_rc sendbuf_cancel(struct espat_module *m)
{
	T(m)->seg_link = NULL;
	return ESPAT_RC_DONE;
}

static enum espat_rc cipsendbuf_set(struct espat_module *m, const struct espat_args *a)
{
	size_t i;
	struct espat_link *l = seg_link(m, a, &i);
	if (!l)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	if (a->n != i + 1 || a->v[i].kind != ESPAT_ARG_INT)
		return espat_fail(E(m), ESPAT_ERR_NUM(i + 1, a->n));
	int64_t len = a->v[i].i;
	if (len < 1 || len > (int64_t)m->dialect->send_max)
		return espat_fail(E(m), ESPAT_ERR_INVALID(i));
	if (queued(l) + (size_t)len > ESPAT_SEGBUF_SIZE ||
	    segs_pending(segs_of(l)) >= ESPAT_SEG_QUEUE)
		return espat_fail(E(m), ESPAT_ERR_EXEC); /* buffer full */
	struct espat_segs *s = segs_of(l);
	espat_wr_linef(&m->wr, "%u,%u", s->next, s->acked);
	T(m)->seg_link = l;
	T(m)->tx_len = 0;
	espat_engine_expect_data(E(m), (size_t)len, sendbuf_data);
	espat_engine_data_escape(E(m), sendbuf_cancel);
	return ESPAT_RC_OK_PROMPT;
}

/* "=<link ID>" with AT+CIPMUX=1, bare without (seg_link() refuses the
 * other form): both rows' set and execute. */
static enum espat_rc bufstatus(struct espat_module *m, const struct espat_args *a)
{
	size_t i;
	struct espat_link *l = seg_link(m, a, &i);
	if (!l || a->n > i)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	const struct espat_segs *s = segs_of(l);
	size_t q = queued(l), pend = segs_pending(s);
	espat_wr_linef(&m->wr, "%u,%u,%u,%u,%u", s->next, s->sent, s->acked,
	               (unsigned)(q < ESPAT_SEGBUF_SIZE ? ESPAT_SEGBUF_SIZE - q : 0),
	               (unsigned)(pend < ESPAT_SEG_QUEUE ? ESPAT_SEG_QUEUE - pend : 0));
	return ESPAT_RC_OK;
}

static enum espat_rc cipcheckseq_set(struct espat_module *m, const struct espat_args *a)
{
	size_t i;
	struct espat_link *l = seg_link(m, a, &i);
	if (!l)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	if (a->n != i + 1 || a->v[i].kind != ESPAT_ARG_INT)
		return espat_fail(E(m), ESPAT_ERR_NUM(i + 1, a->n));
	int64_t id = a->v[i].i;
	const struct espat_seg *g = &segs_of(l)->ring[(uint64_t)id % ESPAT_SEG_HISTORY];
	if (id < 1 || id > UINT32_MAX || g->id != (uint32_t)id)
		return espat_fail(E(m), ESPAT_ERR_INVALID(i)); /* not among the latest 32 */
	const char *st = g->ok ? "TRUE" : "FALSE";
	if (T(m)->mux)
		espat_wr_linef(&m->wr, "%u,%u,%s", l->id, g->id, st);
	else
		espat_wr_linef(&m->wr, "%u,%s", g->id, st);
	return ESPAT_RC_OK;
}

static enum espat_rc bufreset(struct espat_module *m, const struct espat_args *a)
{
	size_t i;
	struct espat_link *l = seg_link(m, a, &i);
	if (!l || a->n > i || queued(l) > 0 || segs_pending(segs_of(l)) > 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	struct espat_segs *s = segs_of(l);
	memset(s, 0, sizeof(*s));
	s->next = 1;
	return ESPAT_RC_OK;
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
static const struct espat_param p_sendbuf[] = {
    {.name = "link ID|length", .type = ESPAT_P_INT, .min = 0, .max = INT32_MAX},
    P_INT_OPT("length", 0, INT32_MAX),
};
static const struct espat_param p_linkid[] = {P_INT("link ID", 0, ESPAT_LINKS - 1)};
static const struct espat_param p_checkseq[] = {
    {.name = "link ID|segment ID", .type = ESPAT_P_INT, .min = 0, .max = UINT32_MAX},
    P_INT_OPT("segment ID", 0, UINT32_MAX),
};

/* clang-format off */
static const struct espat_cmd rows[] = {
	{.name = "+CIPSTATUS", .exec = cipstatus_exec, .help = "Get connection status"},
	{.name = "+CIPSTART", .set = cipstart_set, .params = p_start, .nparams = N(p_start),
	 .help = "Establish TCP connection, UDP transmission or SSL connection"},
	{.name = "+CIPSEND", .set = espat_cipsend_set, .exec = cipsend_exec, .params = p_send,
	 .nparams = N(p_send), .help = "Send data"},
	{.name = "+CIPSENDEX", .set = espat_cipsendex_set, .params = p_send, .nparams = N(p_send),
	 .help = "Send data, ended by \\0"},
	{.name = "+CIPSENDBUF", .set = cipsendbuf_set, .params = p_sendbuf,
	 .nparams = N(p_sendbuf), .help = "Write data into TCP-send-buffer"},
	{.name = "+CIPBUFSTATUS", .set = bufstatus, .exec = bufstatus,
	 .params = p_linkid, .nparams = N(p_linkid), .help = "Check status of TCP-send-buffer"},
	{.name = "+CIPCHECKSEQ", .set = cipcheckseq_set, .params = p_checkseq,
	 .nparams = N(p_checkseq), .help = "Check if specific segment sent successfully or not"},
	{.name = "+CIPBUFRESET", .set = bufreset, .exec = bufreset,
	 .params = p_linkid, .nparams = N(p_linkid), .help = "Reset segment ID count"},
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
