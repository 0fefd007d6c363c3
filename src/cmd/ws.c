/* AT+WS* (guide 3.8). Three links, 0-2, each a WebSocket client (cmd/wsc.h):
 *
 *   AT+WSCFG sets a link's ping interval, pong timeout, buffer size and TLS
 *       authentication for its next AT+WSOPEN;
 *   AT+WSHEAD adds "Name: value" lines (after `>`) that every upgrade
 *       request carries; AT+WSHEAD? lists them;
 *   AT+WSOPEN dials and upgrades: +WS_CONNECTED:<link> then OK, or ERROR;
 *       AT+WSOPEN? lists the links;
 *   AT+WSSEND sends one frame of <length> bytes entered after `>`: SEND OK
 *       once it left, ERROR when the link is not up or breaks;
 *   AT+WSCLOSE runs the closing handshake: +WS_CLOSED:<link> then OK.
 *
 * Messages come out as +WS_DATA:<link>,<len>,<data>: the fragments of a
 * message reassembled, in pieces of at most <buffer_size> bytes. Pings
 * go out after <ping_intv_sec> of silence; no pong within
 * <ping_timeout_sec> of one, or a broken connection, prints
 * +WS_DISCONNECTED:<link>, and the link dials again every 10 s (state 3,
 * then 1) until it is back (+WS_CONNECTED) or AT+WSCLOSE; a closing
 * handshake either way prints +WS_CLOSED:<link> and frees the link. */
#include "cmd/ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/params.h"
#include "cmd/wifi.h"
#include "proto/http.h"

static struct espat_engine *E(struct espat_module *m)
{
	return &m->eng;
}

static struct espat_ws *W(struct espat_module *m)
{
	return m->ws;
}

static uint64_t now(struct espat_module *m)
{
	return espat_module_now(m);
}

static enum espat_rc fail(struct espat_module *m)
{
	return espat_fail(E(m), ESPAT_ERR_EXEC);
}

static bool arg_given(const struct espat_args *a, size_t i)
{
	return i < a->n && a->v[i].kind != ESPAT_ARG_OMITTED;
}

/* A string argument into out (cap bytes with the NUL); false when it holds
 * a NUL or does not fit. An omitted one is "". */
static bool arg_str(const struct espat_args *a, size_t i, char *out, size_t cap)
{
	out[0] = '\0';
	if (!arg_given(a, i))
		return true;
	if (a->v[i].kind != ESPAT_ARG_STR || a->v[i].len >= cap ||
	    memchr(a->v[i].s, '\0', a->v[i].len))
		return false;
	memcpy(out, a->v[i].s, a->v[i].len);
	out[a->v[i].len] = '\0';
	return true;
}

static const struct espat_wsf_cfg cfg_default = {
    .ping_s = ESPAT_WSF_PING_DEFAULT,
    .pong_s = ESPAT_WSF_PONG_DEFAULT,
    .buf_size = ESPAT_WSF_BUF_DEFAULT,
};

/* ---- completing the waiting command ------------------------------------ */

static bool waiting(const struct espat_ws *s, const struct espat_wsf_link *l, enum espat_wsf_op op)
{
	return s->op == op && s->op_link == l->id;
}

static void op_done(struct espat_module *m, enum espat_rc rc)
{
	struct espat_ws *s = W(m);
	s->op = ESPAT_WSF_OP_NONE;
	espat_timer_cancel(&m->timers, &s->op_timer);
	espat_engine_complete(E(m), rc);
}

/* ---- a link's life ------------------------------------------------------ */

static void quiet_timers(struct espat_wsf_link *l)
{
	struct espat_timers *t = &l->m->timers;
	espat_timer_cancel(t, &l->ping_timer);
	espat_timer_cancel(t, &l->pong_timer);
	l->pong_wait = false;
}

/* Frees the link: no client, no timers (CLOSED). */
static void link_end(struct espat_wsf_link *l)
{
	espat_wsc_abort(&l->wsc);
	quiet_timers(l);
	espat_timer_cancel(&l->m->timers, &l->retry_timer);
	free(l->rx);
	l->rx = NULL;
	l->rx_len = 0;
	l->state = ESPAT_WSF_CLOSED;
}

static void ping_due(void *user);

static void arm_ping(struct espat_wsf_link *l)
{
	espat_timer_arm(&l->m->timers, &l->ping_timer, now(l->m) + (uint64_t)l->run.ping_s * 1000u,
	                ping_due, l);
}

/* Something came from the server: the ping interval starts again, as
 * esp_websocket_client counts it from the last read. */
static void heard(struct espat_wsf_link *l)
{
	if (l->state == ESPAT_WSF_OPEN)
		arm_ping(l);
}

static int dial(struct espat_wsf_link *l, int *err);

static void retry_due(void *user)
{
	struct espat_wsf_link *l = user;
	int err = 0;
	l->state = ESPAT_WSF_RECONNECTING;
	if (dial(l, &err) != 0) {
		l->state = ESPAT_WSF_WAITING;
		espat_timer_arm(&l->m->timers, &l->retry_timer, now(l->m) + ESPAT_WSF_RECONNECT_MS,
		                retry_due, l);
	}
}

/* The connection broke (a read error, the peer gone without a close, no
 * pong): +WS_DISCONNECTED, and a new attempt after the reconnect wait. */
static void broken(struct espat_wsf_link *l)
{
	struct espat_module *m = l->m;
	struct espat_ws *s = W(m);
	espat_wsc_abort(&l->wsc);
	quiet_timers(l);
	l->rx_len = 0;
	if (waiting(s, l, ESPAT_WSF_OP_SEND))
		op_done(m, fail(m));
	espat_wr_reportf(&m->wr, "+WS_DISCONNECTED:%u", l->id);
	l->state = ESPAT_WSF_WAITING;
	espat_timer_arm(&m->timers, &l->retry_timer, now(m) + ESPAT_WSF_RECONNECT_MS, retry_due, l);
}

/* The closing handshake ended (either side began it): +WS_CLOSED, and the
 * link is free. AT+WSCLOSE prints it as its answer, before OK. */
static void closed_cleanly(struct espat_wsf_link *l)
{
	struct espat_module *m = l->m;
	struct espat_ws *s = W(m);
	link_end(l);
	if (waiting(s, l, ESPAT_WSF_OP_CLOSE)) {
		espat_wr_linef(&m->wr, "+WS_CLOSED:%u", l->id);
		op_done(m, ESPAT_RC_OK);
		return;
	}
	if (waiting(s, l, ESPAT_WSF_OP_SEND))
		op_done(m, fail(m));
	espat_wr_reportf(&m->wr, "+WS_CLOSED:%u", l->id);
}

static void pong_due(void *user)
{
	broken(user);
}

static void ping_due(void *user)
{
	struct espat_wsf_link *l = user;
	struct espat_module *m = l->m;
	espat_wsc_send(&l->wsc, ESPAT_WS_PING, true, NULL, 0); /* a failure closes the link */
	if (!l->pong_wait) {
		l->pong_wait = true;
		espat_timer_arm(&m->timers, &l->pong_timer,
		                now(m) + (uint64_t)l->run.pong_s * 1000u, pong_due, l);
	}
	arm_ping(l);
}

/* ---- the WebSocket client's callbacks ---------------------------------- */

/* One +WS_DATA: the gathered piece of a data frame. */
static void data_out(struct espat_wsf_link *l)
{
	struct espat_writer *wr = &l->m->wr;
	char head[48];
	int h = snprintf(head, sizeof(head), "+WS_DATA:%u,%zu,", l->id, l->rx_len);
	espat_wr_open(wr);
	espat_wr_part(wr, (const uint8_t *)head, (size_t)h);
	if (l->rx_len)
		espat_wr_part(wr, l->rx, l->rx_len);
	espat_wr_part(wr, (const uint8_t *)"\r\n", 2);
	espat_wr_close(wr);
	l->rx_len = 0;
}

static void ws_open(void *user, int err)
{
	struct espat_wsf_link *l = user;
	struct espat_module *m = l->m;
	struct espat_ws *s = W(m);
	bool first = waiting(s, l, ESPAT_WSF_OP_OPEN);
	if (err) {
		if (first) {
			link_end(l);
			op_done(m, fail(m));
			return;
		}
		l->state = ESPAT_WSF_WAITING; /* a reconnect failed: the next one is due */
		espat_timer_arm(&m->timers, &l->retry_timer, now(m) + ESPAT_WSF_RECONNECT_MS,
		                retry_due, l);
		return;
	}
	l->state = ESPAT_WSF_OPEN;
	l->rx_len = 0;
	arm_ping(l);
	if (first) {
		espat_wr_linef(&m->wr, "+WS_CONNECTED:%u", l->id);
		op_done(m, ESPAT_RC_OK);
	} else {
		espat_wr_reportf(&m->wr, "+WS_CONNECTED:%u", l->id);
	}
}

static void ws_frame_start(void *user, uint8_t opcode, bool fin, uint64_t len)
{
	struct espat_wsf_link *l = user;
	heard(l);
	if (opcode != ESPAT_WS_CONT) { /* a new message */
		l->rx_len = 0;
		l->msg_len = 0;
	}
	l->rx_fin = fin;
}

static void ws_data(void *user, const uint8_t *p, size_t n)
{
	struct espat_wsf_link *l = user;
	heard(l);
	while (n) {
		size_t k = l->run.buf_size - l->rx_len;
		if (k > n)
			k = n;
		memcpy(l->rx + l->rx_len, p, k);
		l->rx_len += k;
		l->msg_len += k;
		p += k;
		n -= k;
		if (l->rx_len == l->run.buf_size)
			data_out(l);
	}
}

/* The end of a frame: the end of its message prints what is gathered (an
 * empty message as +WS_DATA:<id>,0,); a fragment waits for the rest. */
static void ws_frame_end(void *user)
{
	struct espat_wsf_link *l = user;
	if (l->rx_fin && (l->rx_len || l->msg_len == 0))
		data_out(l);
}

static void ws_pong(void *user)
{
	struct espat_wsf_link *l = user;
	heard(l);
	l->pong_wait = false;
	espat_timer_cancel(&l->m->timers, &l->pong_timer);
}

static void ws_ping(void *user)
{
	heard(user);
}

static void ws_closed(void *user, int err, uint16_t code)
{
	struct espat_wsf_link *l = user;
	/* a close we began (AT+WSCLOSE, AT+WSSEND opcode 8) ends cleanly
	 * even when the server never answers it */
	if (err == 0 || l->state == ESPAT_WSF_CLOSING)
		closed_cleanly(l);
	else
		broken(l);
}

static void ws_drained(void *user)
{
	struct espat_wsf_link *l = user;
	struct espat_module *m = l->m;
	if (waiting(W(m), l, ESPAT_WSF_OP_SEND)) {
		espat_wr_result(&m->wr, "SEND OK");
		op_done(m, ESPAT_RC_DONE);
	}
}

static const struct espat_wsc_cbs ws_cbs = {
    .open = ws_open,
    .frame_start = ws_frame_start,
    .data = ws_data,
    .frame_end = ws_frame_end,
    .pong = ws_pong,
    .ping = ws_ping,
    .closed = ws_closed,
    .drained = ws_drained,
};

/* Dials the link's URI with its settings and AT+WSHEAD's headers. 0 when
 * under way (ws_open() follows), or -1 with *err. */
static int dial(struct espat_wsf_link *l, int *err)
{
	struct espat_module *m = l->m;
	struct espat_ws *s = W(m);
	struct espat_http_url u;
	if (!espat_http_url_parse(l->uri, strlen(l->uri), &u)) {
		*err = ESPAT_NET_EINVAL;
		return -1;
	}
	if (!l->rx) {
		l->rx = malloc(l->run.buf_size);
		if (!l->rx) {
			*err = ESPAT_NET_ENOMEM;
			return -1;
		}
	}
	char path[ESPAT_WSF_URI_MAX + 1];
	memcpy(path, u.target.s, u.target.len);
	path[u.target.len] = '\0';
	char auth[ESPAT_WSF_AUTH_MAX + 32];
	const char *hdr[ESPAT_WSC_HEADERS_MAX];
	size_t nh = 0;
	for (size_t i = 0; i < s->nhead; i++)
		hdr[nh++] = s->head[i];
	if (l->auth[0]) {
		snprintf(auth, sizeof(auth), "Authorization: %s", l->auth);
		hdr[nh++] = auth;
	}
	struct espat_conn_tls tls = {
	    .auth = l->run.auth,
	    .set = ESPAT_PKI_CLIENT,
	    .pki = l->run.pki,
	    .ca = l->run.ca,
	};
	struct espat_wsc_req r = {
	    .host = u.host.s,
	    .host_len = u.host.len,
	    .port = u.port,
	    .secure = u.tls,
	    .tls = &tls,
	    .path = path,
	    .protocol = l->proto[0] ? l->proto : NULL,
	    .headers = hdr,
	    .nheaders = nh,
	    .timeout_ms = l->timeout_ms,
	};
	return espat_wsc_open(&l->wsc, m, &r, &ws_cbs, l, err);
}

/* ---- AT+WSCFG ------------------------------------------------------------ */

static const struct espat_param p_cfg[] = {
    P_INT("link_id", 0, ESPAT_WSF_LINKS - 1),
    P_INT("ping_intv_sec", 1, 7200),
    P_INT("ping_timeout_sec", 1, 7200),
    P_INT_OPT("buffer_size", 1, ESPAT_WSF_BUF_MAX),
    P_INT_OPT("auth_mode", 0, 3),
    P_INT_OPT("pki_number", 0, 255),
    P_INT_OPT("ca_number", 0, 255),
};

static enum espat_rc cfg_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wsf_cfg c = cfg_default;
	c.ping_s = (uint16_t)a->v[1].i;
	c.pong_s = (uint16_t)a->v[2].i;
	if (arg_given(a, 3))
		c.buf_size = (uint16_t)a->v[3].i;
	if (arg_given(a, 4)) {
		c.auth = (uint8_t)a->v[4].i;
		bool pki = arg_given(a, 5), ca = arg_given(a, 6);
		if (c.auth != 0 && (!pki || !ca))
			return espat_fail(E(m), ESPAT_ERR_INVALID(pki ? 6 : 5));
		c.pki = pki ? (uint8_t)a->v[5].i : 0;
		c.ca = ca ? (uint8_t)a->v[6].i : 0;
	} else if (arg_given(a, 5) || arg_given(a, 6)) {
		return espat_fail(E(m), ESPAT_ERR_INVALID(4));
	}
	W(m)->link[a->v[0].i].cfg = c;
	return ESPAT_RC_OK;
}

/* ---- AT+WSHEAD ----------------------------------------------------------- */

static enum espat_rc head_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ws *s = W(m);
	for (size_t i = 0; i < s->nhead; i++)
		espat_wr_linef(&m->wr, "+WSHEAD:%zu,\"%s\"", i, s->head[i]);
	return ESPAT_RC_OK;
}

static void heads_clear(struct espat_ws *s)
{
	for (size_t i = 0; i < s->nhead; i++)
		free(s->head[i]);
	s->nhead = 0;
}

static void entry_free(struct espat_ws *s)
{
	free(s->entry);
	s->entry = NULL;
	s->entry_len = s->entry_got = 0;
}

/* The length of a header line's name ("Name: value"), or 0 when the line
 * is not one: a token before ':', no CR, LF or NUL anywhere. */
static size_t header_name_len(const char *h, size_t n)
{
	if (memchr(h, '\r', n) || memchr(h, '\n', n) || memchr(h, '\0', n))
		return 0;
	const char *c = memchr(h, ':', n);
	if (!c || c == h)
		return 0;
	for (const char *p = h; p < c; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return 0;
	return (size_t)(c - h);
}

static enum espat_rc head_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_ws *s = W(m);
	memcpy(s->entry + s->entry_got, p, n);
	s->entry_got += n;
	if (!last)
		return ESPAT_RC_PENDING;
	char *h = (char *)s->entry;
	size_t len = s->entry_got;
	h[len] = '\0';
	s->entry = NULL;
	s->entry_len = s->entry_got = 0;
	size_t name = header_name_len(h, len);
	if (name == 0) {
		free(h);
		return fail(m);
	}
	/* a header of the same name is replaced */
	for (size_t i = 0; i < s->nhead; i++) {
		if (strncasecmp(s->head[i], h, name) == 0 && s->head[i][name] == ':') {
			free(s->head[i]);
			s->head[i] = h;
			return ESPAT_RC_OK;
		}
	}
	if (s->nhead == ESPAT_WSF_HEADS_MAX) {
		free(h);
		return fail(m);
	}
	s->head[s->nhead++] = h;
	return ESPAT_RC_OK;
}

static const struct espat_param p_head[] = {
    P_INT("req_header_len", 0, ESPAT_WSF_HEAD_LEN_MAX),
};

static enum espat_rc head_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ws *s = W(m);
	size_t len = (size_t)a->v[0].i;
	if (len == 0) {
		heads_clear(s);
		return ESPAT_RC_OK;
	}
	entry_free(s);
	s->entry = malloc(len + 1);
	if (!s->entry)
		return fail(m);
	s->entry_len = len;
	espat_engine_expect_data(E(m), len, head_data);
	return ESPAT_RC_OK_PROMPT;
}

/* ---- AT+WSOPEN ----------------------------------------------------------- */

static enum espat_rc open_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ws *s = W(m);
	for (size_t i = 0; i < ESPAT_WSF_LINKS; i++) {
		const struct espat_wsf_link *l = &s->link[i];
		if (l->state != ESPAT_WSF_CLOSED)
			espat_wr_linef(&m->wr, "+WSOPEN:%zu,%d,\"%s\"", i, (int)l->state, l->uri);
	}
	return ESPAT_RC_OK;
}

static const struct espat_param p_open[] = {
    P_INT("link_id", 0, ESPAT_WSF_LINKS - 1),      P_STR("uri", ESPAT_WSF_URI_MAX),
    P_STR_OPT("subprotocol", ESPAT_WSF_PROTO_MAX), P_INT_OPT("timeout_ms", 0, 180000),
    P_STR_OPT("auth", ESPAT_WSF_AUTH_MAX),
};

static enum espat_rc open_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ws *s = W(m);
	struct espat_wsf_link *l = &s->link[a->v[0].i];
	if (l->state != ESPAT_WSF_CLOSED)
		return fail(m);
	struct espat_http_url u;
	if (!arg_str(a, 1, l->uri, sizeof(l->uri)) ||
	    !espat_http_url_parse(l->uri, strlen(l->uri), &u) ||
	    (u.scheme != ESPAT_HTTP_SCHEME_WS && u.scheme != ESPAT_HTTP_SCHEME_WSS)) {
		l->uri[0] = '\0';
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	}
	if (!arg_str(a, 2, l->proto, sizeof(l->proto)))
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	if (!arg_str(a, 4, l->auth, sizeof(l->auth)))
		return espat_fail(E(m), ESPAT_ERR_INVALID(4));
	l->timeout_ms = arg_given(a, 3) ? (uint32_t)a->v[3].i : ESPAT_WSF_OPEN_TIMEOUT_MS;
	l->run = l->cfg;
	int err = 0;
	l->state = ESPAT_WSF_RECONNECTING;
	if (dial(l, &err) != 0) {
		link_end(l);
		return fail(m);
	}
	s->op = ESPAT_WSF_OP_OPEN;
	s->op_link = l->id;
	return ESPAT_RC_PENDING;
}

/* ---- AT+WSSEND ----------------------------------------------------------- */

static void send_timeout(void *user)
{
	struct espat_module *m = user;
	op_done(m, fail(m));
}

static enum espat_rc send_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_ws *s = W(m);
	memcpy(s->entry + s->entry_got, p, n);
	s->entry_got += n;
	if (!last)
		return ESPAT_RC_PENDING;
	struct espat_wsf_link *l = &s->link[s->entry_link];
	uint8_t *d = s->entry;
	size_t len = s->entry_got;
	enum espat_rc rc;
	if (l->state != ESPAT_WSF_OPEN) {
		rc = fail(m);
	} else if (s->entry_opcode == ESPAT_WS_CLOSE) {
		/* the data is the close frame's payload: a code and a reason */
		uint16_t code;
		const uint8_t *reason;
		size_t rlen;
		if (espat_ws_close_parse(d, len, &code, &reason, &rlen) != ESPAT_WS_ERR_NONE ||
		    espat_wsc_close_reason(&l->wsc, code, reason, rlen) != 0) {
			rc = fail(m);
		} else {
			l->state = ESPAT_WSF_CLOSING;
			quiet_timers(l);
			espat_wr_result(&m->wr, "SEND OK");
			rc = ESPAT_RC_DONE;
		}
	} else if (espat_wsc_send(&l->wsc, s->entry_opcode, true, d, len) != 0) {
		rc = fail(m);
	} else {
		s->op = ESPAT_WSF_OP_SEND;
		s->op_link = l->id;
		if (s->entry_timeout_ms)
			espat_timer_arm(&m->timers, &s->op_timer, now(m) + s->entry_timeout_ms,
			                send_timeout, m);
		rc = ESPAT_RC_PENDING; /* ws_drained() says SEND OK */
	}
	entry_free(s);
	return rc;
}

static const struct espat_param p_send[] = {
    P_INT("link_id", 0, ESPAT_WSF_LINKS - 1),
    P_INT("length", 1, ESPAT_WSF_BUF_MAX - 10),
    P_INT_OPT("opcode", 0, 0xF),
    P_INT_OPT("timeout_ms", 0, 60000),
};

static enum espat_rc send_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ws *s = W(m);
	struct espat_wsf_link *l = &s->link[a->v[0].i];
	size_t len = (size_t)a->v[1].i;
	uint8_t op = arg_given(a, 2) ? (uint8_t)a->v[2].i : ESPAT_WS_TEXT;
	if (l->state != ESPAT_WSF_OPEN)
		return fail(m);
	if (len > (size_t)l->run.buf_size - 10 && l->run.buf_size > 10)
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	if (l->run.buf_size <= 10)
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	bool control = op >= ESPAT_WS_CLOSE;
	bool known = op <= ESPAT_WS_BINARY || (op >= ESPAT_WS_CLOSE && op <= ESPAT_WS_PONG);
	if (!known)
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	if (control && len > ESPAT_WS_CTRL_MAX)
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	entry_free(s);
	s->entry = malloc(len);
	if (!s->entry)
		return fail(m);
	s->entry_len = len;
	s->entry_link = l->id;
	s->entry_opcode = op;
	s->entry_timeout_ms = arg_given(a, 3) ? (uint32_t)a->v[3].i : ESPAT_WSF_SEND_TIMEOUT_MS;
	espat_engine_expect_data(E(m), len, send_data);
	return ESPAT_RC_OK_PROMPT;
}

/* ---- AT+WSCLOSE ---------------------------------------------------------- */

static const struct espat_param p_close[] = {
    P_INT("link_id", 0, ESPAT_WSF_LINKS - 1),
};

static enum espat_rc close_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ws *s = W(m);
	struct espat_wsf_link *l = &s->link[a->v[0].i];
	if (l->state == ESPAT_WSF_CLOSED)
		return fail(m);
	if (l->state == ESPAT_WSF_WAITING || l->state == ESPAT_WSF_RECONNECTING) {
		link_end(l); /* between attempts, or dialling again */
		espat_wr_linef(&m->wr, "+WS_CLOSED:%u", l->id);
		return ESPAT_RC_OK;
	}
	if (l->state == ESPAT_WSF_OPEN) {
		quiet_timers(l);
		l->state = ESPAT_WSF_CLOSING;
		espat_wsc_close(&l->wsc, 1000);
	}
	s->op = ESPAT_WSF_OP_CLOSE; /* closed() finishes */
	s->op_link = l->id;
	return ESPAT_RC_PENDING;
}

/* ---- table, lifecycle ---------------------------------------------------- */

static const struct espat_cmd ws_rows[] = {
    {.name = "+WSCFG",
     .set = cfg_set,
     .params = p_cfg,
     .nparams = N(p_cfg),
     .help = "Set the WebSocket configuration"},
    {.name = "+WSHEAD",
     .query = head_query,
     .set = head_set,
     .params = p_head,
     .nparams = N(p_head),
     .help = "Set/Query WebSocket request headers"},
    {.name = "+WSOPEN",
     .query = open_query,
     .set = open_set,
     .params = p_open,
     .nparams = N(p_open),
     .help = "Query/Open a WebSocket connection"},
    {.name = "+WSSEND",
     .set = send_set,
     .params = p_send,
     .nparams = N(p_send),
     .help = "Send data to a WebSocket connection"},
    {.name = "+WSCLOSE",
     .set = close_set,
     .params = p_close,
     .nparams = N(p_close),
     .help = "Close a WebSocket connection"},
};

const struct espat_cmd_table espat_ws_table = {
    .family = "ws",
    .rows = ws_rows,
    .n = sizeof(ws_rows) / sizeof(ws_rows[0]),
};

static void ws_init(struct espat_module *m)
{
	struct espat_ws *s = W(m);
	for (uint8_t i = 0; i < ESPAT_WSF_LINKS; i++) {
		s->link[i].m = m;
		s->link[i].id = i;
		s->link[i].cfg = cfg_default;
	}
}

/* The way out gone (the AP left): every link breaks as a dead socket would;
 * a first AT+WSOPEN under way fails. */
static void ws_event(struct espat_module *m, enum espat_event ev)
{
	struct espat_ws *s = W(m);
	if (ev != ESPAT_EV_NET_CHANGED || espat_wifi_online(m))
		return;
	for (size_t i = 0; i < ESPAT_WSF_LINKS; i++) {
		struct espat_wsf_link *l = &s->link[i];
		if (waiting(s, l, ESPAT_WSF_OP_OPEN)) {
			link_end(l);
			op_done(m, fail(m));
		} else if (l->state == ESPAT_WSF_CLOSING) {
			closed_cleanly(l);
		} else if (l->state == ESPAT_WSF_OPEN) {
			broken(l);
		} else if (l->state == ESPAT_WSF_RECONNECTING) {
			espat_wsc_abort(&l->wsc);
			l->state = ESPAT_WSF_WAITING;
			espat_timer_arm(&m->timers, &l->retry_timer,
			                now(m) + ESPAT_WSF_RECONNECT_MS, retry_due, l);
		}
	}
}

static void ws_free(struct espat_module *m)
{
	struct espat_ws *s = W(m);
	for (size_t i = 0; i < ESPAT_WSF_LINKS; i++)
		link_end(&s->link[i]);
	espat_timer_cancel(&m->timers, &s->op_timer);
	heads_clear(s);
	entry_free(s);
}

const struct espat_family espat_ws_family = {
    .name = "ws",
    .table = &espat_ws_table,
    .state_size = sizeof(struct espat_ws),
    .state_slot = offsetof(struct espat_module, ws),
    .init = ws_init,
    .free = ws_free,
    .events = ESPAT_EV(ESPAT_EV_NET_CHANGED),
    .on_event = ws_event,
};
