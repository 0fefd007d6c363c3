/* The module's WebSocket client. See wsc.h. */
#include "cmd/wsc.h"

#include <stdlib.h>
#include <string.h>

/* Bytes of one send(): a frame header and the first payload bytes, masked
 * here; a longer payload goes in further sends of this size. */
#define SEND_CHUNK 1024

static uint64_t now(const struct espat_module *m)
{
	return espat_module_now(m);
}

static uint32_t rnd(const struct espat_module *m)
{
	return m->ports.sys.random(m->ports.sys.user);
}

static void random_bytes(const struct espat_module *m, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 4) {
		uint32_t v = rnd(m);
		for (size_t k = 0; k < 4 && i + k < n; k++)
			p[i + k] = (uint8_t)(v >> (8 * k));
	}
}

/* Ends the client quietly: the connection (how), the deadline, the owned
 * buffers. Every callback that may follow checks gen. */
static void stop(struct espat_wsc *w, enum espat_close_how how)
{
	if (w->state == ESPAT_WSC_IDLE)
		return;
	espat_conn_close(&w->conn, how);
	espat_timer_cancel(&w->m->timers, &w->timer);
	free(w->request);
	w->request = NULL;
	w->request_len = 0;
	free(w->http);
	w->http = NULL;
	w->state = ESPAT_WSC_IDLE;
	w->gen++;
}

/* The handshake failed: open(err), and the client is idle. */
static void fail_open(struct espat_wsc *w, int err)
{
	const struct espat_wsc_cbs *cb = w->cb;
	void *user = w->user;
	stop(w, ESPAT_CLOSE_ABORT);
	cb->open(user, err);
}

/* The end of an open client: closed(err, code). */
static void finish(struct espat_wsc *w, enum espat_close_how how, int err, uint16_t code)
{
	const struct espat_wsc_cbs *cb = w->cb;
	void *user = w->user;
	stop(w, how);
	cb->closed(user, err, code);
}

void espat_wsc_abort(struct espat_wsc *w)
{
	stop(w, ESPAT_CLOSE_ABORT);
}

/* One masked frame out: the header and the payload, masked in pieces
 * through a stack buffer. 0 or the connection's error. */
static int send_frame(struct espat_wsc *w, uint8_t opcode, bool fin, const uint8_t *p, size_t n)
{
	uint8_t key[4], buf[SEND_CHUNK];
	random_bytes(w->m, key, sizeof(key));
	size_t h = espat_ws_write_header(buf, sizeof(buf), fin, opcode, n, key);
	if (h == 0)
		return ESPAT_NET_EINVAL;
	size_t off = 0, used = h;
	do {
		size_t k = n - off < sizeof(buf) - used ? n - off : sizeof(buf) - used;
		if (k)
			memcpy(buf + used, p + off, k);
		espat_ws_mask(buf + used, k, key, off);
		int rc = espat_conn_send(&w->conn, buf, used + k, NULL);
		if (rc != 0)
			return rc;
		off += k;
		used = 0;
	} while (off < n);
	return 0;
}

/* A close frame with code and reason; a code that may not be sent (1005,
 * from a peer that gave none) makes an empty one. */
static int send_close_reason(struct espat_wsc *w, uint16_t code, const uint8_t *reason,
                             size_t reason_len)
{
	uint8_t pl[ESPAT_WS_CTRL_MAX];
	size_t n = espat_ws_close_build(pl, sizeof(pl), code, (const char *)reason, reason_len);
	return send_frame(w, ESPAT_WS_CLOSE, true, pl, n);
}

static int send_close(struct espat_wsc *w, uint16_t code)
{
	return send_close_reason(w, code, NULL, 0);
}

int espat_wsc_send(struct espat_wsc *w, uint8_t opcode, bool fin, const uint8_t *p, size_t n)
{
	if (w->state != ESPAT_WSC_OPEN)
		return ESPAT_NET_EINVAL;
	switch (opcode) {
	case ESPAT_WS_CONT:
	case ESPAT_WS_TEXT:
	case ESPAT_WS_BINARY:
	case ESPAT_WS_PING:
	case ESPAT_WS_PONG:
		return send_frame(w, opcode, fin, p, n);
	default:
		return ESPAT_NET_EINVAL; /* a close goes through espat_wsc_close() */
	}
}

static void on_close_wait(void *user)
{
	finish(user, ESPAT_CLOSE_ABORT, ESPAT_NET_ETIMEDOUT, 1006);
}

int espat_wsc_close_reason(struct espat_wsc *w, uint16_t code, const uint8_t *reason, size_t n)
{
	switch (w->state) {
	case ESPAT_WSC_CONNECTING:
	case ESPAT_WSC_UPGRADING:
		stop(w, ESPAT_CLOSE_ABORT);
		return 0;
	case ESPAT_WSC_OPEN: {
		uint8_t pl[ESPAT_WS_CTRL_MAX];
		if (code != 1005 &&
		    espat_ws_close_build(pl, sizeof(pl), code, (const char *)reason, n) == 0)
			return ESPAT_NET_EINVAL;
		if (code == 1005 && n)
			return ESPAT_NET_EINVAL;
		/* a failed send ends the connection: closed() comes from it */
		send_close_reason(w, code, reason, n);
		w->state = ESPAT_WSC_CLOSING;
		espat_timer_arm(&w->m->timers, &w->timer, now(w->m) + ESPAT_WSC_CLOSE_WAIT_MS,
		                on_close_wait, w);
		return 0;
	}
	default:
		return 0;
	}
}

void espat_wsc_close(struct espat_wsc *w, uint16_t code)
{
	espat_wsc_close_reason(w, code, NULL, 0);
}

size_t espat_wsc_queued(const struct espat_wsc *w)
{
	return espat_conn_queued(&w->conn);
}

void espat_wsc_pause(struct espat_wsc *w, bool paused)
{
	espat_conn_pause(&w->conn, paused);
}

/* ---- frames ------------------------------------------------------------- */

/* A control frame is complete (its payload in w->ctrl). */
static void control(struct espat_wsc *w, uint8_t opcode)
{
	switch (opcode) {
	case ESPAT_WS_PING:
		/* after our close frame, nothing more goes out */
		if (w->state == ESPAT_WSC_OPEN)
			send_frame(w, ESPAT_WS_PONG, true, w->ctrl, w->ctrl_len);
		if (w->cb->ping)
			w->cb->ping(w->user);
		return;
	case ESPAT_WS_PONG:
		if (w->cb->pong)
			w->cb->pong(w->user);
		return;
	case ESPAT_WS_CLOSE: {
		uint16_t code = 1005;
		const uint8_t *reason;
		size_t reason_len;
		espat_ws_close_parse(w->ctrl, w->ctrl_len, &code, &reason, &reason_len);
		if (w->state == ESPAT_WSC_OPEN)
			send_close(w, code); /* the echo; CLOSING: ours is out already */
		finish(w, ESPAT_CLOSE_GRACEFUL, 0, code);
		return;
	}
	default:
		return;
	}
}

/* Runs the frame parser over a piece of the stream. */
static void frames(struct espat_wsc *w, const uint8_t *p, size_t n)
{
	unsigned gen = w->gen;
	struct espat_ws_ev ev;
	do {
		size_t used = espat_ws_feed(&w->ws, p, n, &ev);
		p += used;
		n -= used;
		bool data = ev.opcode < ESPAT_WS_CLOSE;
		switch (ev.type) {
		case ESPAT_WS_EV_FRAME_START:
			w->ctrl_len = 0;
			if (data && w->cb->frame_start)
				w->cb->frame_start(w->user, ev.opcode, ev.fin, ev.len);
			break;
		case ESPAT_WS_EV_PAYLOAD:
			if (data) {
				w->cb->data(w->user, ev.data, ev.n);
			} else if (ev.n <= sizeof(w->ctrl) - w->ctrl_len) {
				memcpy(w->ctrl + w->ctrl_len, ev.data, ev.n);
				w->ctrl_len += ev.n;
			}
			break;
		case ESPAT_WS_EV_FRAME_END:
			if (!data)
				control(w, ev.opcode);
			else if (w->cb->frame_end)
				w->cb->frame_end(w->user);
			break;
		case ESPAT_WS_EV_ERROR:
			if (w->state == ESPAT_WSC_OPEN)
				send_close(w, 1002); /* best effort: the abort may drop it */
			finish(w, ESPAT_CLOSE_ABORT, ESPAT_NET_EIO, 1002);
			return;
		default:
			break;
		}
		if (w->gen != gen)
			return;
	} while (ev.type != ESPAT_WS_EV_NEED_MORE);
}

/* ---- the upgrade response ------------------------------------------------ */

/* Does a comma-separated list hold token (any case)? */
static bool has_token(struct espat_http_str list, const char *token)
{
	size_t i = 0;
	while (i <= list.len) {
		size_t j = i;
		while (j < list.len && list.s[j] != ',')
			j++;
		struct espat_http_str t = {list.s + i, j - i};
		while (t.len && (t.s[0] == ' ' || t.s[0] == '\t'))
			t.s++, t.len--;
		while (t.len && (t.s[t.len - 1] == ' ' || t.s[t.len - 1] == '\t'))
			t.len--;
		if (espat_http_str_ieq(t, token))
			return true;
		i = j + 1;
	}
	return false;
}

static void header(struct espat_wsc *w, const struct espat_http_ev *ev)
{
	if (espat_http_str_ieq(ev->name, "upgrade"))
		w->upgrade_ok = espat_http_str_ieq(ev->value, "websocket");
	else if (espat_http_str_ieq(ev->name, "connection"))
		w->connection_ok = has_token(ev->value, "upgrade");
	else if (espat_http_str_ieq(ev->name, "sec-websocket-accept"))
		w->accept_ok =
		    espat_ws_accept_check(w->key, strlen(w->key), ev->value.s, ev->value.len);
	else if (espat_http_str_ieq(ev->name, "sec-websocket-extensions") && ev->value.len)
		w->extension_seen = true; /* none was asked for (4.1) */
}

/* The server switched protocols: frames from here on. */
static void opened(struct espat_wsc *w, const uint8_t *p, size_t n)
{
	free(w->http);
	w->http = NULL;
	espat_timer_cancel(&w->m->timers, &w->timer);
	espat_ws_parser_init(&w->ws, ESPAT_WS_CLIENT);
	w->state = ESPAT_WSC_OPEN;
	unsigned gen = w->gen;
	w->cb->open(w->user, 0);
	if (w->gen == gen && n)
		frames(w, p, n);
}

/* Runs the HTTP parser over a piece of the upgrade response. */
static void upgrade(struct espat_wsc *w, const uint8_t *p, size_t n)
{
	struct espat_http_ev ev;
	do {
		size_t used = espat_http_feed(w->http, p, n, &ev);
		p += used;
		n -= used;
		switch (ev.type) {
		case ESPAT_HTTP_EV_STATUS: /* a message: its checks start over */
			w->upgrade_ok = w->connection_ok = w->accept_ok = w->extension_seen = false;
			break;
		case ESPAT_HTTP_EV_HEADER:
			header(w, &ev);
			break;
		case ESPAT_HTTP_EV_HEADERS_DONE:
			if (ev.head.status >= 200) { /* refused; no need for its body */
				fail_open(w, ESPAT_NET_EIO);
				return;
			}
			break;
		case ESPAT_HTTP_EV_DONE:
			if (!ev.head.upgrade)
				break; /* an interim 1xx; the answer follows */
			if (!w->upgrade_ok || !w->connection_ok || !w->accept_ok ||
			    w->extension_seen) {
				fail_open(w, ESPAT_NET_EIO);
				return;
			}
			opened(w, p, n); /* the parser took nothing past the head */
			return;
		case ESPAT_HTTP_EV_ERROR:
			fail_open(w, ESPAT_NET_EIO);
			return;
		default:
			break;
		}
	} while (ev.type != ESPAT_HTTP_EV_NEED_MORE);
}

/* ---- the connection ------------------------------------------------------ */

static void on_data(void *user, const uint8_t *p, size_t n, const struct espat_endpoint *from)
{
	struct espat_wsc *w = user;
	if (w->state == ESPAT_WSC_UPGRADING)
		upgrade(w, p, n);
	else if (w->state == ESPAT_WSC_OPEN || w->state == ESPAT_WSC_CLOSING)
		frames(w, p, n);
}

static void on_closed(void *user, int err)
{
	struct espat_wsc *w = user;
	if (w->state == ESPAT_WSC_UPGRADING)
		fail_open(w, err ? err : ESPAT_NET_EIO); /* the answer cut short */
	else
		finish(w, err ? ESPAT_CLOSE_ABORT : ESPAT_CLOSE_GRACEFUL,
		       err ? err : ESPAT_NET_ERESET, 1006);
}

static void on_drained(void *user)
{
	struct espat_wsc *w = user;
	/* the upgrade request's own drained() is not the owner's business */
	if ((w->state == ESPAT_WSC_OPEN || w->state == ESPAT_WSC_CLOSING) && w->cb->drained)
		w->cb->drained(w->user);
}

static const struct espat_sock_cbs sock_cbs = {
    .data = on_data,
    .closed = on_closed,
    .drained = on_drained,
};

static void on_upgrade_timeout(void *user)
{
	fail_open(user, ESPAT_NET_ETIMEDOUT);
}

/* The connection is up (or failed): the upgrade request goes out, and
 * what is left of the timeout bounds the answer. */
static void on_up(void *user, int err)
{
	struct espat_wsc *w = user;
	if (err) {
		fail_open(w, err);
		return;
	}
	w->http = malloc(sizeof(*w->http));
	if (!w->http) {
		fail_open(w, ESPAT_NET_ENOMEM);
		return;
	}
	espat_http_parser_init(w->http, ESPAT_HTTP_RESPONSE);
	w->state = ESPAT_WSC_UPGRADING;
	int rc = espat_conn_send(&w->conn, (const uint8_t *)w->request, w->request_len, NULL);
	free(w->request);
	w->request = NULL;
	w->request_len = 0;
	if (rc != 0) {
		fail_open(w, rc);
		return;
	}
	espat_timer_arm(&w->m->timers, &w->timer, w->deadline, on_upgrade_timeout, w);
}

/* The upgrade request with a fresh nonce, owned by w until sent; its key
 * kept for the answer. host is NUL-terminated. False when a field is bad
 * or memory is short (*err says which). */
static bool build(struct espat_wsc *w, const struct espat_wsc_req *r, const char *host, int *err)
{
	size_t cap = 256 + strlen(host);
	cap += r->path ? strlen(r->path) : 1;
	cap += r->protocol ? strlen(r->protocol) : 0;
	for (size_t i = 0; i < r->nheaders; i++)
		cap += strlen(r->headers[i]) + 2;
	uint8_t nonce[ESPAT_WS_NONCE_LEN];
	random_bytes(w->m, nonce, sizeof(nonce));
	espat_ws_key(w->key, nonce);
	struct espat_ws_request rq = {
	    .host = host,
	    .port = r->port,
	    .tls = r->secure,
	    .path = r->path,
	    .nonce = nonce,
	    .protocol = r->protocol,
	    .headers = r->headers,
	    .n_headers = r->nheaders,
	};
	w->request = malloc(cap);
	if (!w->request) {
		*err = ESPAT_NET_ENOMEM;
		return false;
	}
	w->request_len = espat_ws_request_build(w->request, cap, &rq);
	if (w->request_len == 0) {
		free(w->request);
		w->request = NULL;
		*err = ESPAT_NET_EINVAL;
		return false;
	}
	return true;
}

int espat_wsc_open(struct espat_wsc *w, struct espat_module *m, const struct espat_wsc_req *r,
                   const struct espat_wsc_cbs *cb, void *user, int *err)
{
	stop(w, ESPAT_CLOSE_ABORT);
	unsigned gen = w->gen;
	memset(w, 0, sizeof(*w));
	w->gen = gen + 1;
	w->m = m;
	w->cb = cb;
	w->user = user;
	*err = 0;
	char host[ESPAT_DNS_NAME_MAX + 1];
	if (!r->host || r->host_len == 0 || r->host_len >= sizeof(host) ||
	    memchr(r->host, 0, r->host_len) || r->nheaders > ESPAT_WSC_HEADERS_MAX) {
		*err = ESPAT_NET_EINVAL;
		return -1;
	}
	memcpy(host, r->host, r->host_len);
	host[r->host_len] = 0;
	if (!build(w, r, host, err))
		return -1;
	w->timeout_ms = r->timeout_ms ? r->timeout_ms : ESPAT_CONN_TIMEOUT_MS;
	w->deadline = now(m) + w->timeout_ms;
	static const struct espat_conn_tls no_checks = {.auth = 0};
	struct espat_conn_req cr = {
	    .kind = ESPAT_SOCK_TCP,
	    .v6 = memchr(r->host, ':', r->host_len) != NULL, /* an IPv6 literal */
	    .host = r->host,
	    .host_len = r->host_len,
	    .port = r->port,
	    .timeout_ms = w->timeout_ms,
	    .tls = r->secure ? (r->tls ? r->tls : &no_checks) : NULL,
	    .nodelay = true,
	};
	w->state = ESPAT_WSC_CONNECTING;
	if (espat_conn_open(&w->conn, m, &cr, &sock_cbs, on_up, w, err) < 0) {
		free(w->request);
		w->request = NULL;
		w->request_len = 0;
		w->state = ESPAT_WSC_IDLE;
		return -1;
	}
	return 0;
}
