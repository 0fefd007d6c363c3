#include "proto/http.h"

#include <string.h>

/* ---- characters --------------------------------------------------------- */

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int hex_val(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* tchar of RFC 9110 5.6.2: the characters of a method or a field name. */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* A control byte other than HTAB (CR and LF included), or DEL. */
static bool is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Not allowed in a request-target, a Host or a URL: SP, HTAB, controls. */
static bool is_space_or_ctl(unsigned char c)
{
	return c <= ' ' || c == 0x7f;
}

static bool has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (is_ctl((unsigned char)s[i]))
			return true;
	return false;
}

static size_t tchar_run(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	return i;
}

static struct espat_http_str trim(const char *s, size_t n)
{
	while (n > 0 && is_ows((unsigned char)s[0])) {
		s++;
		n--;
	}
	while (n > 0 && is_ows((unsigned char)s[n - 1]))
		n--;
	return (struct espat_http_str){s, n};
}

bool espat_http_str_ieq(struct espat_http_str s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)s.s[i]) != lower((unsigned char)lit[i]))
			return false;
	return true;
}

/* The next element of the comma-separated list v from *pos, trimmed (maybe
 * empty); false once v is used up. */
static bool list_next(struct espat_http_str v, size_t *pos, struct espat_http_str *el)
{
	if (*pos > v.len)
		return false;
	const char *start = v.s + *pos;
	const char *comma = memchr(start, ',', v.len - *pos);
	size_t n = comma ? (size_t)(comma - start) : v.len - *pos;
	*pos += n + 1;
	*el = trim(start, n);
	return true;
}

/* A decimal length: digits only, at most INT64_MAX. */
static enum espat_http_err parse_length(struct espat_http_str s, int64_t *out)
{
	if (s.len == 0)
		return ESPAT_HTTP_ERR_CONTENT_LENGTH;
	int64_t v = 0;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.s[i];
		if (!is_digit(c))
			return ESPAT_HTTP_ERR_CONTENT_LENGTH;
		if (v > (INT64_MAX - (c - '0')) / 10)
			return ESPAT_HTTP_ERR_OVERFLOW;
		v = v * 10 + (c - '0');
	}
	*out = v;
	return ESPAT_HTTP_ERR_NONE;
}

/* ---- parser ------------------------------------------------------------- */

/* Where the reason phrase starts in "HTTP/1.1 200 OK". */
#define REASON_AT 13

static void reset_message(struct espat_http_parser *p)
{
	p->base = 0;
	p->version = 0;
	p->status = 0;
	p->method_len = 0;
	p->target_len = 0;
	p->content_length = -1;
	p->framing = ESPAT_HTTP_BODY_NONE;
	p->remaining = 0;
	p->te_seen = false;
	p->te_chunked = false;
	p->conn_close = false;
	p->conn_keep = false;
	p->conn_upgrade = false;
	p->keep_alive = false;
	p->upgrade = false;
}

void espat_http_parser_init(struct espat_http_parser *p, enum espat_http_mode mode)
{
	memset(p, 0, sizeof(*p));
	p->mode = mode;
	p->state = ESPAT_HTTP_ST_START;
	reset_message(p);
}

void espat_http_set_mode(struct espat_http_parser *p, enum espat_http_mode mode)
{
	p->mode = mode;
}

/* The start line's fields; with full, the head's too. */
static void fill_head(const struct espat_http_parser *p, struct espat_http_head *h, bool full)
{
	h->version = p->version;
	h->status = p->status;
	h->method = (struct espat_http_str){p->buf, p->method_len};
	h->target = (struct espat_http_str){p->buf + p->method_len + 1, p->target_len};
	if (p->status != 0 && p->base > REASON_AT)
		h->reason = (struct espat_http_str){p->buf + REASON_AT, p->base - REASON_AT};
	else
		h->reason = (struct espat_http_str){p->buf, 0};
	if (!full)
		return;
	h->content_length = p->framing == ESPAT_HTTP_BODY_CHUNKED ? -1 : p->content_length;
	h->framing = p->framing;
	h->keep_alive = p->keep_alive;
	h->upgrade = p->upgrade;
}

static enum espat_http_ev_type fail(struct espat_http_parser *p, struct espat_http_ev *ev,
                                    enum espat_http_err err)
{
	p->state = ESPAT_HTTP_ST_ERROR;
	p->err = err;
	ev->type = ESPAT_HTTP_EV_ERROR;
	ev->err = err;
	return ev->type;
}

static enum espat_http_ev_type done(struct espat_http_parser *p, struct espat_http_ev *ev)
{
	ev->type = ESPAT_HTTP_EV_DONE;
	fill_head(p, &ev->head, true);
	/* The start line stays in buf for ev; the next line goes over it. */
	p->base = 0;
	p->line_len = 0;
	p->state = ESPAT_HTTP_ST_START;
	if (p->status == 101) {
		p->state = ESPAT_HTTP_ST_ERROR;
		p->err = ESPAT_HTTP_ERR_UPGRADED;
	}
	return ev->type;
}

/* "HTTP/1.0" or "HTTP/1.1": 10 or 11; another HTTP/d.d: -1; else 0. */
static int parse_version(const char *s, size_t n)
{
	if (n != 8 || memcmp(s, "HTTP/", 5) != 0 || !is_digit((unsigned char)s[5]) || s[6] != '.' ||
	    !is_digit((unsigned char)s[7]))
		return 0;
	if (s[5] == '1' && (s[7] == '0' || s[7] == '1'))
		return 10 + (s[7] - '0');
	return -1;
}

/* status-line = HTTP-version SP 3DIGIT [ SP reason ]; a missing SP before
 * an empty reason is tolerated. */
static enum espat_http_err parse_status_line(struct espat_http_parser *p, const char *s, size_t n)
{
	int v = parse_version(s, n < 8 ? n : 8);
	if (v < 0)
		return ESPAT_HTTP_ERR_VERSION;
	if (v == 0 || n < 12 || s[8] != ' ' || (n > 12 && s[12] != ' '))
		return ESPAT_HTTP_ERR_START_LINE;
	int status = 0;
	for (size_t i = 9; i < 12; i++) {
		if (!is_digit((unsigned char)s[i]))
			return ESPAT_HTTP_ERR_START_LINE;
		status = status * 10 + (s[i] - '0');
	}
	if (status < 100 || status > 599)
		return ESPAT_HTTP_ERR_START_LINE;
	p->version = v;
	p->status = status;
	return ESPAT_HTTP_ERR_NONE;
}

/* request-line = method SP request-target SP HTTP-version */
static enum espat_http_err parse_request_line(struct espat_http_parser *p, const char *s, size_t n)
{
	size_t m = tchar_run(s, n);
	if (m == 0 || m == n || s[m] != ' ')
		return ESPAT_HTTP_ERR_START_LINE;
	const char *t = s + m + 1;
	const char *sp = memchr(t, ' ', n - m - 1);
	if (sp == NULL || sp == t)
		return ESPAT_HTTP_ERR_START_LINE;
	size_t tlen = (size_t)(sp - t);
	size_t vlen = n - m - 1 - tlen - 1;
	int v = parse_version(sp + 1, vlen);
	if (v <= 0)
		return v < 0 ? ESPAT_HTTP_ERR_VERSION : ESPAT_HTTP_ERR_START_LINE;
	p->version = v;
	p->method_len = m;
	p->target_len = tlen;
	return ESPAT_HTTP_ERR_NONE;
}

static enum espat_http_ev_type on_start_line(struct espat_http_parser *p, const char *s, size_t n,
                                             struct espat_http_ev *ev)
{
	if (n == 0)
		return ESPAT_HTTP_EV_NEED_MORE; /* an empty line before a message */
	reset_message(p);
	bool request = p->mode == ESPAT_HTTP_REQUEST;
	enum espat_http_err err =
	    request ? parse_request_line(p, s, n) : parse_status_line(p, s, n);
	if (err != ESPAT_HTTP_ERR_NONE)
		return fail(p, ev, err);
	p->base = n;
	p->state = ESPAT_HTTP_ST_HEADER;
	ev->type = request ? ESPAT_HTTP_EV_REQUEST : ESPAT_HTTP_EV_STATUS;
	fill_head(p, &ev->head, false);
	return ev->type;
}

/* What the fields that frame the message and the connection say. */
static enum espat_http_err note_field(struct espat_http_parser *p, struct espat_http_str name,
                                      struct espat_http_str value)
{
	struct espat_http_str el;
	size_t pos = 0;
	if (espat_http_str_ieq(name, "content-length")) {
		while (list_next(value, &pos, &el)) {
			int64_t n = 0;
			enum espat_http_err err = parse_length(el, &n);
			if (err != ESPAT_HTTP_ERR_NONE)
				return err;
			if (p->content_length >= 0 && p->content_length != n)
				return ESPAT_HTTP_ERR_CONTENT_LENGTH;
			p->content_length = n;
		}
	} else if (espat_http_str_ieq(name, "transfer-encoding")) {
		/* Codings apply in order; only the last one says whether the
		 * message is framed by chunks. */
		while (list_next(value, &pos, &el)) {
			if (el.len == 0)
				continue;
			p->te_seen = true;
			p->te_chunked = espat_http_str_ieq(el, "chunked");
		}
	} else if (espat_http_str_ieq(name, "connection")) {
		while (list_next(value, &pos, &el)) {
			p->conn_close |= espat_http_str_ieq(el, "close");
			p->conn_keep |= espat_http_str_ieq(el, "keep-alive");
			p->conn_upgrade |= espat_http_str_ieq(el, "upgrade");
		}
	}
	return ESPAT_HTTP_ERR_NONE;
}

/* The body framing of RFC 9112 6.3, once the head is complete. */
static enum espat_http_ev_type end_head(struct espat_http_parser *p, struct espat_http_ev *ev)
{
	if (p->version == 11)
		p->keep_alive = !p->conn_close;
	else
		p->keep_alive = p->conn_keep && !p->conn_close;
	/* Both framings (or chunked in HTTP/1.0) smell of smuggling: finish
	 * this message by the stronger rule, then close (6.3 item 3). */
	if (p->te_seen && (p->content_length >= 0 || p->version == 10))
		p->keep_alive = false;

	if (p->mode == ESPAT_HTTP_REQUEST) {
		p->upgrade = p->conn_upgrade;
		if (p->te_seen && !p->te_chunked)
			return fail(p, ev, ESPAT_HTTP_ERR_TRANSFER_ENCODING);
		if (p->te_seen)
			p->framing = ESPAT_HTTP_BODY_CHUNKED;
		else if (p->content_length >= 0)
			p->framing = ESPAT_HTTP_BODY_LENGTH;
		else
			p->framing = ESPAT_HTTP_BODY_NONE;
	} else {
		p->upgrade = p->status == 101;
		if (p->status < 200 || p->status == 204 || p->status == 304 ||
		    p->mode == ESPAT_HTTP_RESPONSE_TO_HEAD)
			p->framing = ESPAT_HTTP_BODY_NONE;
		else if (p->te_seen)
			p->framing =
			    p->te_chunked ? ESPAT_HTTP_BODY_CHUNKED : ESPAT_HTTP_BODY_CLOSE;
		else if (p->content_length >= 0)
			p->framing = ESPAT_HTTP_BODY_LENGTH;
		else
			p->framing = ESPAT_HTTP_BODY_CLOSE;
		if (p->framing == ESPAT_HTTP_BODY_CLOSE)
			p->keep_alive = false;
	}

	switch (p->framing) {
	case ESPAT_HTTP_BODY_NONE:
		p->state = ESPAT_HTTP_ST_DONE;
		break;
	case ESPAT_HTTP_BODY_LENGTH:
		p->remaining = (uint64_t)p->content_length;
		p->state = ESPAT_HTTP_ST_BODY_LENGTH;
		break;
	case ESPAT_HTTP_BODY_CHUNKED:
		p->state = ESPAT_HTTP_ST_CHUNK_SIZE;
		break;
	case ESPAT_HTTP_BODY_CLOSE:
		p->state = ESPAT_HTTP_ST_BODY_CLOSE;
		break;
	}
	ev->type = ESPAT_HTTP_EV_HEADERS_DONE;
	fill_head(p, &ev->head, true);
	return ev->type;
}

/* field-line = field-name ":" OWS field-value OWS; in the head or, as a
 * trailer, after the last chunk. An empty line ends either. */
static enum espat_http_ev_type on_field_line(struct espat_http_parser *p, const char *s, size_t n,
                                             struct espat_http_ev *ev)
{
	bool trailer = p->state == ESPAT_HTTP_ST_TRAILER;
	if (n == 0)
		return trailer ? done(p, ev) : end_head(p, ev);
	size_t colon = tchar_run(s, n);
	/* no name, no colon, SP before the colon, or obs-fold (leading SP) */
	if (colon == 0 || colon == n || s[colon] != ':')
		return fail(p, ev, ESPAT_HTTP_ERR_HEADER);
	ev->name = (struct espat_http_str){s, colon};
	ev->value = trim(s + colon + 1, n - colon - 1);
	if (!trailer) {
		enum espat_http_err err = note_field(p, ev->name, ev->value);
		if (err != ESPAT_HTTP_ERR_NONE)
			return fail(p, ev, err);
	}
	ev->type = trailer ? ESPAT_HTTP_EV_TRAILER : ESPAT_HTTP_EV_HEADER;
	return ev->type;
}

/* chunk-size [ BWS ";" chunk-ext ] */
static enum espat_http_ev_type on_chunk_size(struct espat_http_parser *p, const char *s, size_t n,
                                             struct espat_http_ev *ev)
{
	uint64_t v = 0;
	size_t i = 0;
	for (; i < n && hex_val((unsigned char)s[i]) >= 0; i++) {
		if (v > (uint64_t)INT64_MAX >> 4)
			return fail(p, ev, ESPAT_HTTP_ERR_OVERFLOW);
		v = v << 4 | (uint64_t)hex_val((unsigned char)s[i]);
	}
	if (i == 0)
		return fail(p, ev, ESPAT_HTTP_ERR_CHUNK_SIZE);
	while (i < n && is_ows((unsigned char)s[i]))
		i++;
	if (i < n && s[i] != ';')
		return fail(p, ev, ESPAT_HTTP_ERR_CHUNK_SIZE);
	p->remaining = v;
	p->state = v == 0 ? ESPAT_HTTP_ST_TRAILER : ESPAT_HTTP_ST_CHUNK_DATA;
	return ESPAT_HTTP_EV_NEED_MORE;
}

static enum espat_http_err line_error(enum espat_http_state st)
{
	switch (st) {
	case ESPAT_HTTP_ST_START:
		return ESPAT_HTTP_ERR_START_LINE;
	case ESPAT_HTTP_ST_CHUNK_SIZE:
		return ESPAT_HTTP_ERR_CHUNK_SIZE;
	case ESPAT_HTTP_ST_CHUNK_END:
		return ESPAT_HTTP_ERR_CHUNK_END;
	default:
		return ESPAT_HTTP_ERR_HEADER;
	}
}

/* Gathers in[0..n) up to a LF into the line buffer and handles a complete
 * line. Returns NEED_MORE when there is nothing to report yet. */
static enum espat_http_ev_type on_line_bytes(struct espat_http_parser *p, const uint8_t *in,
                                             size_t n, size_t *used, struct espat_http_ev *ev)
{
	if (n == 0)
		return ESPAT_HTTP_EV_NEED_MORE;
	const uint8_t *lf = memchr(in, '\n', n);
	size_t take = lf ? (size_t)(lf - in) + 1 : n;
	*used += take;
	if (take > ESPAT_HTTP_LINE_MAX - p->line_len)
		return fail(p, ev, ESPAT_HTTP_ERR_TOO_LONG);
	/* base < LINE_MAX and line_len + take <= LINE_MAX: it fits in buf */
	char *s = p->buf + p->base;
	memcpy(s + p->line_len, in, take);
	p->line_len += take;
	if (!lf)
		return ESPAT_HTTP_EV_NEED_MORE;

	size_t len = p->line_len - 1;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	p->line_len = 0; /* the line stays in buf until the next call */
	if (has_ctl(s, len))
		return fail(p, ev, line_error(p->state));
	switch (p->state) {
	case ESPAT_HTTP_ST_START:
		return on_start_line(p, s, len, ev);
	case ESPAT_HTTP_ST_CHUNK_SIZE:
		return on_chunk_size(p, s, len, ev);
	case ESPAT_HTTP_ST_CHUNK_END:
		if (len != 0)
			return fail(p, ev, ESPAT_HTTP_ERR_CHUNK_END);
		p->state = ESPAT_HTTP_ST_CHUNK_SIZE;
		return ESPAT_HTTP_EV_NEED_MORE;
	default:
		return on_field_line(p, s, len, ev);
	}
}

static enum espat_http_ev_type on_body_bytes(struct espat_http_parser *p, const uint8_t *in,
                                             size_t n, size_t *used, struct espat_http_ev *ev)
{
	if (p->state == ESPAT_HTTP_ST_BODY_LENGTH && p->remaining == 0)
		return done(p, ev);
	if (n == 0)
		return ESPAT_HTTP_EV_NEED_MORE;
	size_t take = n;
	if (p->state != ESPAT_HTTP_ST_BODY_CLOSE) {
		if (p->remaining < take)
			take = (size_t)p->remaining;
		p->remaining -= take;
		if (p->state == ESPAT_HTTP_ST_CHUNK_DATA && p->remaining == 0)
			p->state = ESPAT_HTTP_ST_CHUNK_END;
	}
	*used += take;
	ev->type = ESPAT_HTTP_EV_BODY;
	ev->data = in;
	ev->len = take;
	return ev->type;
}

static void clear_ev(struct espat_http_ev *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->head.content_length = -1;
}

size_t espat_http_feed(struct espat_http_parser *p, const uint8_t *buf, size_t len,
                       struct espat_http_ev *ev)
{
	size_t used = 0;
	clear_ev(ev);
	for (;;) {
		enum espat_http_ev_type t;
		/* Pointer arithmetic on a NULL buf is undefined, even + 0. */
		const uint8_t *in = len > 0 ? buf + used : NULL;
		switch (p->state) {
		case ESPAT_HTTP_ST_BODY_LENGTH:
		case ESPAT_HTTP_ST_BODY_CLOSE:
		case ESPAT_HTTP_ST_CHUNK_DATA:
			t = on_body_bytes(p, in, len - used, &used, ev);
			break;
		case ESPAT_HTTP_ST_DONE:
			t = done(p, ev);
			break;
		case ESPAT_HTTP_ST_ERROR:
			t = fail(p, ev, p->err);
			break;
		default:
			t = on_line_bytes(p, in, len - used, &used, ev);
			break;
		}
		if (t != ESPAT_HTTP_EV_NEED_MORE)
			return used;
		/* A line handled without an event (an empty line before a
		 * message, a chunk-size line) made progress; go on. */
		if (used == len)
			return used;
	}
}

void espat_http_eof(struct espat_http_parser *p, struct espat_http_ev *ev)
{
	clear_ev(ev);
	switch (p->state) {
	case ESPAT_HTTP_ST_START:
		if (p->line_len != 0)
			fail(p, ev, ESPAT_HTTP_ERR_TRUNCATED);
		break;
	case ESPAT_HTTP_ST_BODY_CLOSE:
	case ESPAT_HTTP_ST_DONE:
		done(p, ev);
		break;
	case ESPAT_HTTP_ST_BODY_LENGTH:
		if (p->remaining == 0)
			done(p, ev);
		else
			fail(p, ev, ESPAT_HTTP_ERR_TRUNCATED);
		break;
	case ESPAT_HTTP_ST_ERROR:
		fail(p, ev, p->err);
		break;
	default:
		fail(p, ev, ESPAT_HTTP_ERR_TRUNCATED);
		break;
	}
}

const char *espat_http_err_str(enum espat_http_err err)
{
	switch (err) {
	case ESPAT_HTTP_ERR_NONE:
		return "no error";
	case ESPAT_HTTP_ERR_START_LINE:
		return "bad start line";
	case ESPAT_HTTP_ERR_VERSION:
		return "unsupported HTTP version";
	case ESPAT_HTTP_ERR_HEADER:
		return "bad header line";
	case ESPAT_HTTP_ERR_TOO_LONG:
		return "line too long";
	case ESPAT_HTTP_ERR_CONTENT_LENGTH:
		return "bad Content-Length";
	case ESPAT_HTTP_ERR_OVERFLOW:
		return "length overflow";
	case ESPAT_HTTP_ERR_TRANSFER_ENCODING:
		return "unsupported Transfer-Encoding";
	case ESPAT_HTTP_ERR_CHUNK_SIZE:
		return "bad chunk size";
	case ESPAT_HTTP_ERR_CHUNK_END:
		return "bad chunk end";
	case ESPAT_HTTP_ERR_TRUNCATED:
		return "truncated message";
	case ESPAT_HTTP_ERR_UPGRADED:
		return "protocol switched";
	}
	return "unknown error";
}

/* ---- writers ------------------------------------------------------------ */

/* A bounded output; once something does not fit, nothing more is written
 * and the result is 0. */
struct out {
	char *buf;
	size_t cap;
	size_t len;
	bool bad;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->bad || n > o->cap - o->len) {
		o->bad = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_num(struct out *o, uint64_t v, unsigned radix)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = "0123456789abcdef"[v % radix];
		v /= radix;
	} while (v > 0);
	put(o, tmp + i, sizeof(tmp) - i);
}

/* "Name: value" with no control byte but HTAB. */
static bool header_line_ok(const char *h)
{
	size_t n = strlen(h);
	size_t colon = tchar_run(h, n);
	return colon > 0 && colon < n && h[colon] == ':' && !has_ctl(h, n);
}

static void put_fields(struct out *o, const char *const *headers, size_t n_headers,
                       int64_t content_length)
{
	for (size_t i = 0; i < n_headers; i++) {
		if (!header_line_ok(headers[i])) {
			o->bad = true;
			return;
		}
		put_str(o, headers[i]);
		put(o, "\r\n", 2);
	}
	if (content_length >= 0) {
		put_str(o, "Content-Length: ");
		put_num(o, (uint64_t)content_length, 10);
		put(o, "\r\n", 2);
	}
	put(o, "\r\n", 2);
}

static size_t finish(struct out *o)
{
	if (o->bad || o->len >= o->cap)
		return 0;
	o->buf[o->len] = '\0';
	return o->len;
}

/* Text for a request line or a Host field. */
static bool word_ok(struct espat_http_str s)
{
	for (size_t i = 0; i < s.len; i++)
		if (is_space_or_ctl((unsigned char)s.s[i]))
			return false;
	return true;
}

size_t espat_http_write_request(char *buf, size_t cap, const char *method,
                                struct espat_http_str target, struct espat_http_str host,
                                uint16_t port, const char *const *headers, size_t n_headers,
                                int64_t content_length)
{
	struct out o = {buf, cap, 0, false};
	size_t mlen = strlen(method);
	if (mlen == 0 || tchar_run(method, mlen) != mlen || !word_ok(target) || host.len == 0 ||
	    !word_ok(host))
		return 0;
	put(&o, method, mlen);
	put(&o, " ", 1);
	if (target.len == 0 || target.s[0] == '?')
		put(&o, "/", 1);
	put(&o, target.s, target.len);
	put_str(&o, " HTTP/1.1\r\nHost: ");
	bool v6 = memchr(host.s, ':', host.len) != NULL;
	if (v6)
		put(&o, "[", 1);
	put(&o, host.s, host.len);
	if (v6)
		put(&o, "]", 1);
	if (port != 0) {
		put(&o, ":", 1);
		put_num(&o, port, 10);
	}
	put(&o, "\r\n", 2);
	put_fields(&o, headers, n_headers, content_length);
	return finish(&o);
}

size_t espat_http_write_response(char *buf, size_t cap, int status, const char *const *headers,
                                 size_t n_headers, int64_t content_length)
{
	struct out o = {buf, cap, 0, false};
	if (status < 100 || status > 599)
		return 0;
	put_str(&o, "HTTP/1.1 ");
	put_num(&o, (uint64_t)status, 10);
	put(&o, " ", 1);
	put_str(&o, espat_http_reason(status));
	put(&o, "\r\n", 2);
	put_fields(&o, headers, n_headers, content_length);
	return finish(&o);
}

size_t espat_http_write_chunk_head(char *buf, size_t cap, uint64_t size)
{
	struct out o = {buf, cap, 0, false};
	put_num(&o, size, 16);
	put(&o, "\r\n", 2);
	return finish(&o);
}

const char *espat_http_reason(int status)
{
	static const struct {
		int code;
		const char *reason;
	} table[] = {
	    {100, "Continue"},
	    {101, "Switching Protocols"},
	    {200, "OK"},
	    {201, "Created"},
	    {202, "Accepted"},
	    {204, "No Content"},
	    {206, "Partial Content"},
	    {301, "Moved Permanently"},
	    {302, "Found"},
	    {303, "See Other"},
	    {304, "Not Modified"},
	    {307, "Temporary Redirect"},
	    {308, "Permanent Redirect"},
	    {400, "Bad Request"},
	    {401, "Unauthorized"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {408, "Request Timeout"},
	    {409, "Conflict"},
	    {411, "Length Required"},
	    {413, "Content Too Large"},
	    {414, "URI Too Long"},
	    {415, "Unsupported Media Type"},
	    {426, "Upgrade Required"},
	    {431, "Request Header Fields Too Large"},
	    {500, "Internal Server Error"},
	    {501, "Not Implemented"},
	    {502, "Bad Gateway"},
	    {503, "Service Unavailable"},
	    {504, "Gateway Timeout"},
	    {505, "HTTP Version Not Supported"},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].code == status)
			return table[i].reason;
	return "";
}

/* ---- URLs --------------------------------------------------------------- */

/* A reg-name or IPv4 address: unreserved, sub-delims and '%' (RFC 3986). */
static bool host_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return true;
	return c != 0 && strchr("-._~%!$&'()*+,;=", c) != NULL;
}

static bool parse_host(const char *s, size_t n, struct espat_http_url *u, size_t *end)
{
	size_t i = 0;
	if (n > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		if (rb == NULL)
			return false;
		size_t hlen = (size_t)(rb - s) - 1;
		bool colon = false;
		for (size_t k = 1; k <= hlen; k++) {
			unsigned char c = (unsigned char)s[k];
			if (hex_val(c) < 0 && c != ':' && c != '.')
				return false;
			colon |= c == ':';
		}
		if (!colon)
			return false;
		u->host = (struct espat_http_str){s + 1, hlen};
		*end = hlen + 2;
		return true;
	}
	while (i < n && host_char((unsigned char)s[i]))
		i++;
	if (i == 0)
		return false;
	u->host = (struct espat_http_str){s, i};
	*end = i;
	return true;
}

static bool parse_port(const char *s, size_t n, uint16_t *port)
{
	if (n == 0 || n > 5)
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

bool espat_http_url_parse(const char *url, size_t len, struct espat_http_url *u)
{
	static const struct {
		const char *name;
		enum espat_http_scheme scheme;
		uint16_t port;
		bool tls;
	} schemes[] = {
	    {"http", ESPAT_HTTP_SCHEME_HTTP, 80, false},
	    {"https", ESPAT_HTTP_SCHEME_HTTPS, 443, true},
	    {"ws", ESPAT_HTTP_SCHEME_WS, 80, false},
	    {"wss", ESPAT_HTTP_SCHEME_WSS, 443, true},
	};
	memset(u, 0, sizeof(*u));
	for (size_t i = 0; i < len; i++)
		if (is_space_or_ctl((unsigned char)url[i]))
			return false;

	const char *sep = len > 0 ? memchr(url, ':', len) : NULL;
	if (sep == NULL || (size_t)(sep - url) + 3 > len || sep[1] != '/' || sep[2] != '/')
		return false;
	struct espat_http_str name = {url, (size_t)(sep - url)};
	size_t k = 0;
	while (k < sizeof(schemes) / sizeof(schemes[0]) &&
	       !espat_http_str_ieq(name, schemes[k].name))
		k++;
	if (k == sizeof(schemes) / sizeof(schemes[0]))
		return false;
	u->scheme = schemes[k].scheme;
	u->port = schemes[k].port;
	u->tls = schemes[k].tls;

	/* authority: up to the first '/', '?' or '#' */
	const char *a = sep + 3;
	size_t rest = len - (size_t)(a - url);
	size_t alen = 0;
	while (alen < rest && a[alen] != '/' && a[alen] != '?' && a[alen] != '#')
		alen++;
	for (size_t i = alen; i > 0; i--) {
		if (a[i - 1] == '@') {
			u->userinfo = (struct espat_http_str){a, i - 1};
			a += i;
			alen -= i;
			rest -= i;
			break;
		}
	}
	if (u->userinfo.s == NULL)
		u->userinfo = (struct espat_http_str){a, 0};

	size_t hend = 0;
	if (!parse_host(a, alen, u, &hend))
		return false;
	if (hend < alen) {
		if (a[hend] != ':' || !parse_port(a + hend + 1, alen - hend - 1, &u->port))
			return false;
		u->port_given = true;
	}

	const char *t = a + alen;
	size_t tlen = rest - alen;
	const char *hash = tlen > 0 ? memchr(t, '#', tlen) : NULL;
	if (hash != NULL)
		tlen = (size_t)(hash - t);
	u->target = tlen > 0 ? (struct espat_http_str){t, tlen} : (struct espat_http_str){"/", 1};
	return true;
}
