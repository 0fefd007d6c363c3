#include "cmd/httpc.h"

#include <stdlib.h>
#include <string.h>

static uint64_t now(struct espat_module *m)
{
	return espat_module_now(m);
}

/* Ends the exchange quietly: the connection, the request bytes, the
 * pending report. */
static void stop(struct espat_httpc *h)
{
	if (h->state == ESPAT_HTTPC_IDLE)
		return;
	espat_conn_close(&h->conn, ESPAT_CLOSE_ABORT);
	espat_timer_cancel(&h->m->timers, &h->tell);
	espat_timer_cancel(&h->m->timers, &h->idle);
	free(h->out);
	h->out = NULL;
	h->out_len = 0;
	h->state = ESPAT_HTTPC_IDLE;
	h->gen++;
}

static void finish(struct espat_httpc *h, int err)
{
	const struct espat_httpc_cbs *cb = h->cb;
	void *user = h->user;
	stop(h);
	cb->done(user, err);
}

void espat_httpc_cancel(struct espat_httpc *h)
{
	stop(h);
}

/* phase(RESOLVED) once; false when the owner ended the exchange in it. */
static bool tell_resolved(struct espat_httpc *h)
{
	if (h->resolved_told)
		return true;
	h->resolved_told = true;
	unsigned gen = h->gen;
	if (h->cb->phase)
		h->cb->phase(h->user, ESPAT_HTTPC_RESOLVED);
	return h->gen == gen;
}

static void on_resolved(void *user)
{
	tell_resolved(user);
}

static void on_tell(void *user)
{
	tell_resolved(user);
}

static void on_idle(void *user)
{
	finish(user, ESPAT_NET_ETIMEDOUT);
}

/* (Re)starts the silence clock while the response is awaited and let in. */
static void idle_arm(struct espat_httpc *h)
{
	if (h->state == ESPAT_HTTPC_WAITING && h->idle_ms && !h->paused)
		espat_timer_arm(&h->m->timers, &h->idle, now(h->m) + h->idle_ms, on_idle, h);
	else
		espat_timer_cancel(&h->m->timers, &h->idle);
}

void espat_httpc_pause(struct espat_httpc *h, bool paused)
{
	if (h->state == ESPAT_HTTPC_IDLE || h->paused == paused)
		return;
	h->paused = paused;
	if (h->state == ESPAT_HTTPC_WAITING)
		espat_conn_pause(&h->conn, paused);
	idle_arm(h);
}

/* Runs the parser over a piece of the response. */
static void on_data(void *user, const uint8_t *p, size_t n, const struct espat_endpoint *from)
{
	struct espat_httpc *h = user;
	unsigned gen = h->gen;
	struct espat_http_ev ev;
	idle_arm(h);
	do {
		size_t used = espat_http_feed(&h->parser, p, n, &ev);
		p += used;
		n -= used;
		switch (ev.type) {
		case ESPAT_HTTP_EV_STATUS:
			h->cur_status = ev.head.status;
			break;
		case ESPAT_HTTP_EV_HEADER:
			if (h->cur_status >= 200 && h->cb->header)
				h->cb->header(h->user, ev.name, ev.value);
			break;
		case ESPAT_HTTP_EV_HEADERS_DONE:
			if (ev.head.status < 200)
				break; /* an interim response */
			h->final = true;
			/* the length also of a response to HEAD (AT+HTTPGETSIZE) */
			h->cb->status(h->user, ev.head.status, ev.head.content_length);
			break;
		case ESPAT_HTTP_EV_BODY:
			if (h->final)
				h->cb->body(h->user, ev.data, ev.len);
			break;
		case ESPAT_HTTP_EV_DONE:
			if (h->final) {
				finish(h, 0);
				return;
			}
			break;
		case ESPAT_HTTP_EV_ERROR:
			finish(h, ESPAT_NET_EIO);
			return;
		default:
			break;
		}
		if (h->gen != gen)
			return;
	} while (ev.type != ESPAT_HTTP_EV_NEED_MORE);
}

static void on_closed(void *user, int err)
{
	struct espat_httpc *h = user;
	struct espat_http_ev ev;
	espat_http_eof(&h->parser, &ev);
	/* a body read until close ends here; anything else was cut short */
	finish(h, err == 0 && ev.type == ESPAT_HTTP_EV_DONE && h->final ? 0
	          : err                                                 ? err
	                                                                : ESPAT_NET_EIO);
}

static void on_drained(void *user)
{
}

static const struct espat_sock_cbs sock_cbs = {
    .data = on_data,
    .closed = on_closed,
    .drained = on_drained,
};

/* The connection is up (or failed): the request goes out. */
static void on_up(void *user, int err)
{
	struct espat_httpc *h = user;
	/* a literal address was "resolved" before its connect failed; a name
	 * that failed to resolve was not */
	if ((err == 0 || h->literal) && !tell_resolved(h))
		return;
	if (err) {
		finish(h, err);
		return;
	}
	unsigned gen = h->gen;
	h->state = ESPAT_HTTPC_WAITING;
	if (h->cb->phase)
		h->cb->phase(h->user, ESPAT_HTTPC_CONNECTED);
	if (h->gen != gen)
		return;
	int rc = espat_conn_send(&h->conn, h->out, h->out_len, NULL);
	free(h->out);
	h->out = NULL;
	h->out_len = 0;
	if (rc != 0) {
		finish(h, rc);
		return;
	}
	if (h->paused)
		espat_conn_pause(&h->conn, true);
	idle_arm(h);
}

/* The request's bytes: the head the codec writes, then the body. */
static bool build(struct espat_httpc *h, const struct espat_httpc_req *r,
                  const struct espat_http_url *u)
{
	size_t cap = 256 + r->url_len + (size_t)ESPAT_HTTP_LINE_MAX;
	for (size_t i = 0; i < r->nheaders; i++)
		cap += strlen(r->headers[i]) + 2;
	char *buf = malloc(cap + r->body_len);
	if (!buf)
		return false;
	size_t n = espat_http_write_request(buf, cap, r->method, u->target, u->host,
	                                    u->port_given ? u->port : 0, r->headers, r->nheaders,
	                                    r->send_length ? (int64_t)r->body_len : -1);
	if (n == 0) {
		free(buf);
		return false;
	}
	if (r->body_len)
		memcpy(buf + n, r->body, r->body_len);
	h->out = (uint8_t *)buf;
	h->out_len = n + r->body_len;
	return true;
}

int espat_httpc_start(struct espat_httpc *h, struct espat_module *m,
                      const struct espat_httpc_req *r, const struct espat_httpc_cbs *cb,
                      void *user, int *err)
{
	stop(h);
	unsigned gen = h->gen;
	memset(h, 0, sizeof(*h));
	h->gen = gen + 1;
	h->m = m;
	h->cb = cb;
	h->user = user;
	h->idle_ms = r->idle_ms;
	struct espat_http_url u;
	if (!espat_http_url_parse(r->url, r->url_len, &u) ||
	    (u.scheme != ESPAT_HTTP_SCHEME_HTTP && u.scheme != ESPAT_HTTP_SCHEME_HTTPS) ||
	    r->nheaders > ESPAT_HTTPC_HEADERS_MAX || !build(h, r, &u)) {
		*err = ESPAT_NET_EINVAL;
		return -1;
	}
	bool head = strcmp(r->method, "HEAD") == 0;
	espat_http_parser_init(&h->parser, head ? ESPAT_HTTP_RESPONSE_TO_HEAD : ESPAT_HTTP_RESPONSE);
	static const struct espat_conn_tls no_checks = {.auth = 0};
	struct espat_conn_req cr = {
	    .kind = ESPAT_SOCK_TCP,
	    .v6 = memchr(u.host.s, ':', u.host.len) != NULL, /* an IPv6 literal */
	    .host = u.host.s,
	    .host_len = u.host.len,
	    .port = u.port,
	    .timeout_ms = r->timeout_ms,
	    .tls = u.tls ? (r->tls ? r->tls : &no_checks) : NULL,
	    .resolved = on_resolved,
	    .nodelay = true,
	};
	h->state = ESPAT_HTTPC_OPENING;
	int rc = espat_conn_open(&h->conn, m, &cr, &sock_cbs, on_up, h, err);
	if (rc < 0) {
		free(h->out);
		h->out = NULL;
		h->state = ESPAT_HTTPC_IDLE;
		return -1;
	}
	h->literal = h->conn.phase != ESPAT_CONN_RESOLVING;
	if (h->literal) /* nothing to wait for: say so once the caller is back */
		espat_timer_arm(&m->timers, &h->tell, now(m), on_tell, h);
	return 0;
}
