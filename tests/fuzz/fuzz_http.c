/* libFuzzer target: the HTTP/1.1 codec (src/proto/http.c) on arbitrary
 * bytes. The first byte picks what runs: bits 0-1 the parser mode (request,
 * response, response to HEAD) or, for 3, the URL splitter; bits 2-7 the
 * piece size. The parser is fed in pieces and again whole; both runs must
 * give the same events, and every event must keep the contracts of
 * proto/http.h: consumption, progress, slice bounds, event order, body
 * totals. A split URL is written into a request head and parsed back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

/* What a run saw: a hash of the event stream (body bytes hashed as one
 * stream, so the cut of BODY events does not count) and where it ended. */
struct trace {
	uint64_t hash;
	size_t events; /* events other than BODY and NEED_MORE */
	enum espat_http_ev_type last;
};

static void mix(struct trace *t, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		t->hash = (t->hash ^ b[i]) * 0x100000001b3u;
}

static void mix_str(struct trace *t, struct espat_http_str s)
{
	mix(t, &s.len, sizeof(s.len));
	mix(t, s.s, s.len);
}

static bool in_parser(const struct espat_http_parser *p, struct espat_http_str s)
{
	return s.s >= p->buf && s.len <= sizeof(p->buf) && s.s + s.len <= p->buf + sizeof(p->buf);
}

/* Where a message is, as the events say. */
enum phase { IDLE, HEAD, BODY, TRAILERS, OVER };

struct run {
	struct espat_http_parser p;
	struct trace t;
	enum phase ph;
	struct espat_http_head head; /* of HEADERS_DONE */
	uint64_t body;               /* body bytes of the message */
};

static void check_head(const struct run *r, const struct espat_http_head *h)
{
	CHECK(h->version == 10 || h->version == 11);
	if (r->p.mode == ESPAT_HTTP_REQUEST) {
		CHECK(h->status == 0 && h->method.len > 0 && h->target.len > 0);
		CHECK(in_parser(&r->p, h->method) && in_parser(&r->p, h->target));
		CHECK(memchr(h->target.s, ' ', h->target.len) == NULL);
	} else {
		CHECK(h->status >= 100 && h->status <= 599);
		CHECK(in_parser(&r->p, h->reason));
	}
}

static void on_event(struct run *r, const struct espat_http_ev *ev)
{
	struct trace *t = &r->t;
	const struct espat_http_head *h = &ev->head;
	/* NEED_MORE and the cut of BODY depend on the pieces: not traced */
	if (ev->type != ESPAT_HTTP_EV_BODY && ev->type != ESPAT_HTTP_EV_NEED_MORE) {
		t->events++;
		mix(t, &ev->type, sizeof(ev->type));
	}
	switch (ev->type) {
	case ESPAT_HTTP_EV_NEED_MORE:
		break;
	case ESPAT_HTTP_EV_STATUS:
	case ESPAT_HTTP_EV_REQUEST:
		CHECK(r->ph == IDLE);
		CHECK((ev->type == ESPAT_HTTP_EV_REQUEST) == (r->p.mode == ESPAT_HTTP_REQUEST));
		check_head(r, h);
		mix(t, &h->status, sizeof(h->status));
		mix_str(t, h->method);
		mix_str(t, h->target);
		mix_str(t, h->reason);
		r->ph = HEAD;
		r->body = 0;
		break;
	case ESPAT_HTTP_EV_HEADER:
	case ESPAT_HTTP_EV_TRAILER:
		if (ev->type == ESPAT_HTTP_EV_HEADER) {
			CHECK(r->ph == HEAD);
		} else {
			CHECK(r->ph == BODY || r->ph == TRAILERS);
			CHECK(r->head.framing == ESPAT_HTTP_BODY_CHUNKED);
			r->ph = TRAILERS;
		}
		CHECK(in_parser(&r->p, ev->name) && in_parser(&r->p, ev->value));
		CHECK(ev->name.len > 0 && ev->name.len < ESPAT_HTTP_LINE_MAX);
		CHECK(ev->value.len < ESPAT_HTTP_LINE_MAX);
		for (size_t i = 0; i < ev->value.len; i++) {
			unsigned char c = (unsigned char)ev->value.s[i];
			CHECK(c >= 0x20 || c == '\t');
			CHECK(c != 0x7f);
		}
		if (ev->value.len > 0) {
			CHECK(ev->value.s[0] != ' ' && ev->value.s[0] != '\t');
			CHECK(ev->value.s[ev->value.len - 1] != ' ');
			CHECK(ev->value.s[ev->value.len - 1] != '\t');
		}
		mix_str(t, ev->name);
		mix_str(t, ev->value);
		break;
	case ESPAT_HTTP_EV_HEADERS_DONE:
		CHECK(r->ph == HEAD);
		check_head(r, h);
		CHECK(h->framing != ESPAT_HTTP_BODY_LENGTH || h->content_length >= 0);
		CHECK(h->framing != ESPAT_HTTP_BODY_CHUNKED || h->content_length == -1);
		CHECK(h->framing != ESPAT_HTTP_BODY_CLOSE ||
		      (r->p.mode == ESPAT_HTTP_RESPONSE && !h->keep_alive));
		if (r->p.mode == ESPAT_HTTP_RESPONSE_TO_HEAD || h->status == 204 ||
		    h->status == 304 || (h->status >= 100 && h->status < 200))
			CHECK(h->framing == ESPAT_HTTP_BODY_NONE);
		mix(t, &h->content_length, sizeof(h->content_length));
		mix(t, &h->framing, sizeof(h->framing));
		mix(t, &h->keep_alive, sizeof(h->keep_alive));
		r->head = *h;
		r->ph = BODY;
		break;
	case ESPAT_HTTP_EV_BODY:
		CHECK(r->ph == BODY && r->head.framing != ESPAT_HTTP_BODY_NONE);
		CHECK(ev->len > 0);
		r->body += ev->len;
		if (r->head.framing == ESPAT_HTTP_BODY_LENGTH)
			CHECK(r->body <= (uint64_t)r->head.content_length);
		mix(t, ev->data, ev->len);
		break;
	case ESPAT_HTTP_EV_DONE:
		CHECK(r->ph == BODY ||
		      (r->ph == TRAILERS && r->head.framing == ESPAT_HTTP_BODY_CHUNKED));
		CHECK(h->status == r->head.status && h->framing == r->head.framing);
		if (r->head.framing == ESPAT_HTTP_BODY_LENGTH)
			CHECK(r->body == (uint64_t)r->head.content_length);
		if (r->head.framing == ESPAT_HTTP_BODY_NONE)
			CHECK(r->body == 0);
		mix(t, &r->body, sizeof(r->body));
		r->ph = h->upgrade && r->p.mode != ESPAT_HTTP_REQUEST ? OVER : IDLE;
		break;
	case ESPAT_HTTP_EV_ERROR:
		CHECK(ev->err != ESPAT_HTTP_ERR_NONE);
		CHECK(ev->err != ESPAT_HTTP_ERR_UPGRADED || r->ph == OVER);
		CHECK(ev->err != ESPAT_HTTP_ERR_TRUNCATED); /* only from eof */
		mix(t, &ev->err, sizeof(ev->err));
		r->ph = OVER;
		break;
	}
	t->last = ev->type;
}

/* Feeds one piece as a caller must: until NEED_MORE or ERROR. */
static void feed_piece(struct run *r, const uint8_t *piece, size_t k)
{
	const uint8_t *cur = piece;
	size_t left = k;
	int zero_run = 0;
	struct espat_http_ev ev;
	do {
		size_t used = espat_http_feed(&r->p, cur, left, &ev);
		CHECK(used <= left);
		if (ev.type == ESPAT_HTTP_EV_NEED_MORE)
			CHECK(used == left);
		if (ev.type == ESPAT_HTTP_EV_BODY) {
			CHECK(ev.data >= piece && ev.data + ev.len <= piece + k);
			CHECK(ev.data + ev.len == cur + used);
		}
		/* progress: a zero-consumption event never repeats */
		zero_run = used == 0 && ev.type != ESPAT_HTTP_EV_NEED_MORE ? zero_run + 1 : 0;
		CHECK(zero_run <= 1 || ev.type == ESPAT_HTTP_EV_ERROR);
		on_event(r, &ev);
		cur += used;
		left -= used;
	} while (ev.type != ESPAT_HTTP_EV_NEED_MORE && ev.type != ESPAT_HTTP_EV_ERROR);

	if (ev.type == ESPAT_HTTP_EV_ERROR) {
		/* final: nothing more is taken */
		struct espat_http_ev again;
		CHECK(espat_http_feed(&r->p, piece, k, &again) == 0);
		CHECK(again.type == ESPAT_HTTP_EV_ERROR && again.err == ev.err);
	}
}

static void run_parser(struct run *r, enum espat_http_mode mode, const uint8_t *data, size_t size,
                       size_t chunk)
{
	memset(r, 0, sizeof(*r));
	espat_http_parser_init(&r->p, mode);
	size_t pos = 0;
	while (pos < size && r->t.last != ESPAT_HTTP_EV_ERROR) {
		size_t k = size - pos < chunk ? size - pos : chunk;
		feed_piece(r, data + pos, k);
		pos += k;
	}
	/* the connection closes */
	struct espat_http_ev ev;
	espat_http_eof(&r->p, &ev);
	switch (ev.type) {
	case ESPAT_HTTP_EV_NEED_MORE:
		CHECK(r->ph == IDLE);
		break;
	case ESPAT_HTTP_EV_DONE:
		on_event(r, &ev);
		break;
	case ESPAT_HTTP_EV_ERROR:
		CHECK(r->t.last == ESPAT_HTTP_EV_ERROR ? ev.err == r->p.err
		                                       : ev.err == ESPAT_HTTP_ERR_TRUNCATED);
		mix(&r->t, &ev.err, sizeof(ev.err));
		break;
	default:
		CHECK(false);
	}
}

/* A URL that splits goes into a request head that parses back to the same
 * target and host. */
static void check_url(const uint8_t *data, size_t size)
{
	const char *url = (const char *)data;
	struct espat_http_url u;
	if (!espat_http_url_parse(url, size, &u))
		return;
	CHECK(u.port >= 1);
	CHECK(u.host.len > 0 && u.host.s > url && u.host.s + u.host.len <= url + size);
	CHECK(u.target.len > 0);
	CHECK(u.userinfo.s >= url && u.userinfo.s + u.userinfo.len <= url + size);

	static char head[8192];
	size_t n = espat_http_write_request(head, sizeof(head), "GET", u.target, u.host,
	                                    u.port_given ? u.port : 0, NULL, 0, -1);
	if (n == 0) {
		CHECK(size > 4000); /* only too long to fit */
		return;
	}
	CHECK(n < sizeof(head) && head[n] == '\0');
	struct espat_http_parser *p = malloc(sizeof(*p));
	CHECK(p != NULL);
	espat_http_parser_init(p, ESPAT_HTTP_REQUEST);
	struct espat_http_ev ev;
	size_t used = espat_http_feed(p, (const uint8_t *)head, n, &ev);
	bool slash = u.target.s[0] == '?';
	if (4 + slash + u.target.len + 11 > ESPAT_HTTP_LINE_MAX) {
		CHECK(ev.type == ESPAT_HTTP_EV_ERROR && ev.err == ESPAT_HTTP_ERR_TOO_LONG);
		free(p);
		return;
	}
	CHECK(ev.type == ESPAT_HTTP_EV_REQUEST);
	struct espat_http_str t = ev.head.target;
	CHECK(t.len == u.target.len + slash);
	CHECK(memcmp(t.s + slash, u.target.s, u.target.len) == 0);
	used += espat_http_feed(p, (const uint8_t *)head + used, n - used, &ev);
	size_t off = memchr(u.host.s, ':', u.host.len) ? 1 : 0;
	if (6 + u.host.len + 2 * off + 6 + 2 > ESPAT_HTTP_LINE_MAX) {
		/* the Host line may be too long (with a port it surely is) */
		CHECK(ev.type == ESPAT_HTTP_EV_HEADER ||
		      (ev.type == ESPAT_HTTP_EV_ERROR && ev.err == ESPAT_HTTP_ERR_TOO_LONG));
		free(p);
		return;
	}
	CHECK(ev.type == ESPAT_HTTP_EV_HEADER && espat_http_str_ieq(ev.name, "host"));
	CHECK(ev.value.len >= u.host.len);
	CHECK(memcmp(ev.value.s + off, u.host.s, u.host.len) == 0);
	used += espat_http_feed(p, (const uint8_t *)head + used, n - used, &ev);
	CHECK(ev.type == ESPAT_HTTP_EV_HEADERS_DONE && used == n);
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	unsigned mode = data[0] & 3;
	size_t chunk = 1 + (data[0] >> 2) * (data[0] >> 2);
	data++;
	size--;

	if (mode == 3) {
		check_url(data, size);
		return 0;
	}
	static struct run pieces, whole;
	run_parser(&pieces, (enum espat_http_mode)mode, data, size, chunk);
	run_parser(&whole, (enum espat_http_mode)mode, data, size, size > 0 ? size : 1);
	CHECK(pieces.t.hash == whole.t.hash && pieces.t.events == whole.t.events);
	return 0;
}
