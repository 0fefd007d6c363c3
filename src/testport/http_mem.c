#include "testport/http_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http.h"

/* A server's end of one connection: the request being read, then the
 * answer going out. */
struct espat_http_mem_peer {
	const struct espat_http_mem_server *srv;
	struct espat_mem_conn *conn;
	struct espat_http_parser parser;
	struct espat_http_mem_seen req; /* the request so far */
	bool read;                      /* the whole request came */
	uint64_t due;                   /* when the answer starts; UINT64_MAX: never */
	uint8_t *out;                   /* the answer, owned */
	size_t out_len, sent;
	size_t stop_at;  /* CUT: bytes of out before the reset; else out_len */
	bool close_end;  /* close after the last byte (no Content-Length) */
	bool reset_end;  /* reset after stop_at bytes */
	bool finished;   /* nothing more to do */
};

void espat_http_mem_init(struct espat_http_mem *h, struct espat_net_mem *net)
{
	memset(h, 0, sizeof(*h));
	h->net = net;
	h->step_ms = ESPAT_HTTP_MEM_STEP_MS;
	h->chunk = ESPAT_HTTP_MEM_CHUNK;
}

void espat_http_mem_free(struct espat_http_mem *h)
{
	for (size_t i = 0; i < ESPAT_NET_MEM_CONNS; i++) {
		if (h->peers[i])
			free(h->peers[i]->out);
		free(h->peers[i]);
	}
	for (size_t i = 0; i < h->nroutes; i++)
		free(h->routes[i].body);
	memset(h, 0, sizeof(*h));
}

static uint64_t now_of(const struct espat_http_mem *h)
{
	return *h->net->now;
}

/* ---- routes and servers ------------------------------------------------------ */

/* Bytes of url's scheme://authority, or 0 when it is no http(s) URL. */
static size_t origin_len(const char *url, struct espat_http_url *u)
{
	if (!espat_http_url_parse(url, strlen(url), u) || (u->scheme != ESPAT_HTTP_SCHEME_HTTP &&
	                                                   u->scheme != ESPAT_HTTP_SCHEME_HTTPS))
		return 0;
	const char *p = strstr(url, "://") + 3;
	return (size_t)(p + strcspn(p, "/?#") - url);
}

static struct espat_http_mem_server *server_of(struct espat_http_mem *h, const char *url)
{
	struct espat_http_url u;
	size_t n = origin_len(url, &u);
	if (n == 0)
		return NULL;
	for (size_t i = 0; i < h->nservers; i++)
		if (strlen(h->servers[i].origin) == n && memcmp(h->servers[i].origin, url, n) == 0)
			return &h->servers[i];
	if (h->nservers == ESPAT_HTTP_MEM_SERVERS)
		return NULL;
	/* a new server: its address, its name in DNS (once per name) */
	char host[256];
	if (u.host.len >= sizeof(host))
		return NULL;
	memcpy(host, u.host.s, u.host.len);
	host[u.host.len] = '\0';
	struct espat_http_mem_server *s = &h->servers[h->nservers];
	struct espat_ip ip;
	if (strspn(host, "0123456789.") == u.host.len || strchr(host, ':')) {
		ip = espat_mem_ip(host);
	} else {
		ip = espat_ip4(10, 77, 0, (uint8_t)(h->nservers + 1));
		for (size_t i = 0; i < h->nservers; i++) {
			struct espat_http_url o;
			origin_len(h->servers[i].origin, &o);
			if (o.host.len == u.host.len && memcmp(o.host.s, host, u.host.len) == 0)
				ip = h->servers[i].ep.ip; /* the same name, another port */
		}
		if (espat_net_mem_dns_add(h->net, host, ip) < 0)
			return NULL;
	}
	s->ep = (struct espat_endpoint){.ip = ip, .port = u.port};
	s->tls = u.tls;
	memcpy(s->origin, url, n);
	s->origin[n] = '\0';
	if (espat_net_mem_serve(h->net, s->ep) < 0)
		return NULL;
	h->nservers++;
	return s;
}

struct espat_http_mem_route *espat_http_mem_route(struct espat_http_mem *h, const char *url,
                                                  int status, const void *body, size_t len)
{
	if (strlen(url) > ESPAT_HTTP_MEM_URL_MAX || !server_of(h, url))
		return NULL;
	struct espat_http_mem_route *r = NULL;
	for (size_t i = 0; i < h->nroutes; i++)
		if (strcmp(h->routes[i].url, url) == 0)
			r = &h->routes[i];
	if (!r) {
		if (h->nroutes == ESPAT_HTTP_MEM_ROUTES)
			return NULL;
		r = &h->routes[h->nroutes++];
		snprintf(r->url, sizeof(r->url), "%s", url);
	}
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return NULL;
	if (len)
		memcpy(copy, body, len);
	free(r->body);
	r->body = copy;
	r->len = len;
	r->status = status;
	r->fail = ESPAT_HTTP_MEM_ANSWER;
	r->no_length = false;
	return r;
}

void espat_http_mem_refuse(struct espat_http_mem *h, const char *url)
{
	struct espat_http_mem_server *s = server_of(h, url);
	if (s)
		espat_net_mem_unserve(h->net, s->ep);
}

static const struct espat_http_mem_route *lookup(const struct espat_http_mem *h, const char *url)
{
	for (size_t i = 0; i < h->nroutes; i++)
		if (strcmp(h->routes[i].url, url) == 0)
			return &h->routes[i];
	return NULL;
}

/* ---- connections ------------------------------------------------------------- */

static const struct espat_http_mem_server *server_at(const struct espat_http_mem *h,
                                                     const struct espat_endpoint *ep)
{
	for (size_t i = 0; i < h->nservers; i++)
		if (espat_mem_ep_eq(&h->servers[i].ep, ep))
			return &h->servers[i];
	return NULL;
}

static void append(char *dst, size_t cap, const char *s, size_t n)
{
	size_t have = strlen(dst);
	if (n > cap - 1 - have)
		n = cap - 1 - have;
	memcpy(dst + have, s, n);
	dst[have + n] = '\0';
}

/* The answer to a complete request, ready to go out at due. */
static void answer(struct espat_http_mem *h, struct espat_http_mem_peer *p)
{
	const struct espat_http_mem_route *r = lookup(h, p->req.url);
	static const struct espat_http_mem_route not_found = {.status = 404};
	if (!r)
		r = &not_found;
	h->requests++;
	if (h->nseen == ESPAT_HTTP_MEM_LOG) {
		memmove(h->seen, h->seen + 1, sizeof(h->seen[0]) * (ESPAT_HTTP_MEM_LOG - 1));
		h->nseen--;
	}
	h->seen[h->nseen++] = p->req;
	p->due = r->fail == ESPAT_HTTP_MEM_SILENT ? UINT64_MAX : now_of(h) + h->step_ms;
	char head[256];
	size_t n = espat_http_write_response(head, sizeof(head), r->status, NULL, 0,
	                                     r->no_length ? -1 : (int64_t)r->len);
	p->out = malloc(n + r->len + 1);
	if (!p->out)
		abort(); /* test infrastructure */
	memcpy(p->out, head, n);
	if (r->len)
		memcpy(p->out + n, r->body, r->len);
	p->out_len = n + r->len;
	p->stop_at = p->out_len;
	p->close_end = r->no_length;
	if (r->fail == ESPAT_HTTP_MEM_CUT) {
		p->stop_at = n + r->len / 2;
		p->reset_end = true;
	}
}

/* Reads the module's bytes as a server would. */
static void read_request(struct espat_http_mem *h, struct espat_http_mem_peer *p)
{
	uint8_t buf[4096];
	size_t n;
	while (!p->read && (n = espat_mem_conn_take(p->conn, buf, sizeof(buf))) > 0) {
		const uint8_t *q = buf;
		struct espat_http_ev ev;
		do {
			size_t used = espat_http_feed(&p->parser, q, n, &ev);
			q += used;
			n -= used;
			if (ev.type == ESPAT_HTTP_EV_REQUEST) {
				snprintf(p->req.method, sizeof(p->req.method), "%.*s",
				         (int)ev.head.method.len, ev.head.method.s);
				p->req.url[0] = '\0';
				append(p->req.url, sizeof(p->req.url), p->srv->origin,
				       strlen(p->srv->origin));
				append(p->req.url, sizeof(p->req.url), ev.head.target.s,
				       ev.head.target.len);
			} else if (ev.type == ESPAT_HTTP_EV_HEADER && !espat_http_str_ieq(ev.name, "host")) {
				append(p->req.headers, sizeof(p->req.headers), ev.name.s, ev.name.len);
				append(p->req.headers, sizeof(p->req.headers), ": ", 2);
				append(p->req.headers, sizeof(p->req.headers), ev.value.s, ev.value.len);
				append(p->req.headers, sizeof(p->req.headers), "\n", 1);
			} else if (ev.type == ESPAT_HTTP_EV_DONE) {
				p->read = true;
				answer(h, p);
				break;
			} else if (ev.type == ESPAT_HTTP_EV_ERROR) {
				espat_mem_conn_reset(p->conn); /* a 400 would do; a test wants to see it */
				p->finished = true;
				return;
			}
		} while (ev.type != ESPAT_HTTP_EV_NEED_MORE);
	}
}

/* Sends as much of the answer as the connection's buffer takes. */
static void write_answer(struct espat_http_mem_peer *p)
{
	struct espat_mem_conn *c = p->conn;
	while (p->sent < p->stop_at && c->in.len < ESPAT_NET_MEM_BUF_MAX) {
		size_t room = ESPAT_NET_MEM_BUF_MAX - c->in.len;
		size_t n = p->stop_at - p->sent < room ? p->stop_at - p->sent : room;
		if (espat_mem_conn_send(c, p->out + p->sent, n) < 0) {
			p->finished = true;
			return;
		}
		p->sent += n;
	}
	if (p->sent < p->stop_at)
		return;
	if (p->reset_end)
		espat_mem_conn_reset(c);
	else if (p->close_end)
		espat_mem_conn_close(c);
	p->finished = true;
}

void espat_http_mem_poll(struct espat_http_mem *h)
{
	size_t n = espat_net_mem_nconns(h->net);
	for (size_t i = 0; i < n && i < ESPAT_NET_MEM_CONNS; i++) {
		struct espat_mem_conn *c = espat_net_mem_conn(h->net, i);
		struct espat_http_mem_peer *p = h->peers[i];
		if (!p) {
			const struct espat_http_mem_server *srv = server_at(h, &c->peer);
			if (!srv || c->inbound)
				continue;
			if (!(p = calloc(1, sizeof(*p))))
				abort();
			h->peers[i] = p;
			p->srv = srv;
			p->conn = c;
			p->due = UINT64_MAX;
			espat_http_parser_init(&p->parser, ESPAT_HTTP_REQUEST);
			espat_mem_conn_set_chunk(c, h->chunk);
			if (c->tls != srv->tls) { /* the handshake would fail */
				espat_mem_conn_reset(c);
				p->finished = true;
			}
		}
		if (p->finished || c->peer_closed || c->peer_reset || !c->sock)
			continue;
		read_request(h, p);
		if (p->read && !p->finished && now_of(h) >= p->due)
			write_answer(p);
	}
}

uint64_t espat_http_mem_next(const struct espat_http_mem *h)
{
	uint64_t next = UINT64_MAX;
	/* peers[] is indexed by connection: none past the network's count */
	size_t n = espat_net_mem_nconns(h->net);
	for (size_t i = 0; i < n && i < ESPAT_NET_MEM_CONNS; i++) {
		const struct espat_http_mem_peer *p = h->peers[i];
		if (!p || p->finished || !p->read || !p->conn->sock)
			continue;
		uint64_t due = p->due;
		if (p->sent > 0 && p->conn->in.len >= ESPAT_NET_MEM_BUF_MAX)
			continue; /* waits for the module to read */
		if (due < next)
			next = due < now_of(h) ? now_of(h) : due;
	}
	return next;
}

size_t espat_http_mem_live(const struct espat_http_mem *h)
{
	size_t live = 0;
	for (size_t i = 0; i < ESPAT_NET_MEM_CONNS; i++)
		if (h->peers[i] && h->peers[i]->conn->sock)
			live++;
	return live;
}

const struct espat_http_mem_seen *espat_http_mem_last(const struct espat_http_mem *h)
{
	return h->nseen ? &h->seen[h->nseen - 1] : NULL;
}
