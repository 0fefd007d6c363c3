/* HTTP/1.1 codec (src/proto/http.c): the parser fed whole, byte by byte, in
 * random pieces and cut at every position must give the same events; the
 * writers give exact bytes or nothing; the URL splitter. */
#include "support.h"

#include "proto/http.h"


/* ---- an event log --------------------------------------------------------- */

/* The events of a run as text, one line each; consecutive BODY pieces merge
 * into one line, so any split of the input gives the same log. */
struct rec {
	struct espat_http_parser p;
	char *log;
	size_t len, cap;
	bool in_body;    /* the last line logged is an open BODY line */
	bool dead;       /* ERROR seen: the rest of the input is not fed */
	char start[256]; /* the start line fields as STATUS/REQUEST gave them */
};

static void put_log(struct rec *r, const char *s, size_t n)
{
	t_text_put(&r->log, &r->len, &r->cap, s, n);
}

static void printf_log(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_log(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	t_text_vprintf(&r->log, &r->len, &r->cap, fmt, ap);
	va_end(ap);
}

static const char *framing_name(enum espat_http_framing f)
{
	static const char *names[] = {"none", "length", "chunked", "close"};
	return names[f];
}

static void start_fields(const struct espat_http_head *h, char *out, size_t cap)
{
	snprintf(out, cap, "%d %d [%.*s] [%.*s] [%.*s]", h->version, h->status, (int)h->method.len,
	         h->method.s, (int)h->target.len, h->target.s, (int)h->reason.len, h->reason.s);
}

static void log_ev(struct rec *r, const struct espat_http_ev *ev)
{
	const struct espat_http_head *h = &ev->head;
	char start[256];
	if (ev->type == ESPAT_HTTP_EV_BODY) {
		if (r->in_body)
			r->len -= 2; /* reopen "...]\n" */
		else
			put_log(r, "BODY [", 6);
		put_log(r, (const char *)ev->data, ev->len);
		put_log(r, "]\n", 2);
		r->in_body = true;
		return;
	}
	r->in_body = false;
	switch (ev->type) {
	case ESPAT_HTTP_EV_NEED_MORE:
		printf_log(r, "NEED_MORE\n");
		break;
	case ESPAT_HTTP_EV_STATUS:
		printf_log(r, "STATUS %d %d [%.*s]\n", h->version, h->status, (int)h->reason.len,
		           h->reason.s);
		start_fields(h, r->start, sizeof(r->start));
		break;
	case ESPAT_HTTP_EV_REQUEST:
		printf_log(r, "REQUEST [%.*s] [%.*s] %d\n", (int)h->method.len, h->method.s,
		           (int)h->target.len, h->target.s, h->version);
		start_fields(h, r->start, sizeof(r->start));
		break;
	case ESPAT_HTTP_EV_HEADER:
	case ESPAT_HTTP_EV_TRAILER:
		printf_log(r, "%s [%.*s] [%.*s]\n",
		           ev->type == ESPAT_HTTP_EV_HEADER ? "HEADER" : "TRAILER",
		           (int)ev->name.len, ev->name.s, (int)ev->value.len, ev->value.s);
		break;
	case ESPAT_HTTP_EV_HEADERS_DONE:
	case ESPAT_HTTP_EV_DONE:
		/* the start line is repeated as it was */
		start_fields(h, start, sizeof(start));
		assert_string_equal(start, r->start);
		printf_log(r, "%s %d cl=%lld %s ka=%d%s\n",
		           ev->type == ESPAT_HTTP_EV_DONE ? "DONE" : "HEADERS_DONE", h->status,
		           (long long)h->content_length, framing_name(h->framing), h->keep_alive,
		           h->upgrade ? " up" : "");
		break;
	case ESPAT_HTTP_EV_ERROR:
		printf_log(r, "ERROR %s\n", espat_http_err_str(ev->err));
		break;
	default:
		fail_msg("unexpected event %d", ev->type);
	}
}

/* Feeds one piece as a caller must: until NEED_MORE or ERROR. */
static void sink(void *user, const uint8_t *buf, size_t n)
{
	struct rec *r = user;
	int zero_run = 0;
	while (!r->dead) {
		struct espat_http_ev ev;
		size_t used = espat_http_feed(&r->p, buf, n, &ev);
		assert_true(used <= n);
		if (ev.type == ESPAT_HTTP_EV_NEED_MORE) {
			assert_int_equal(used, n);
			return;
		}
		if (ev.type == ESPAT_HTTP_EV_BODY) {
			/* a slice of the input itself, never a copy: the last
			 * bytes consumed (a chunk-size line may come before) */
			assert_true(ev.len > 0 && ev.len <= used);
			assert_ptr_equal(ev.data + ev.len, buf + used);
		}
		/* no event repeats without progress (ERROR is final) */
		zero_run = used == 0 ? zero_run + 1 : 0;
		assert_true(zero_run <= 1 || ev.type == ESPAT_HTTP_EV_ERROR);
		log_ev(r, &ev);
		r->dead = ev.type == ESPAT_HTTP_EV_ERROR;
		buf += used;
		n -= used;
	}
}

static void rec_init(struct rec *r, enum espat_http_mode mode)
{
	memset(r, 0, sizeof(*r));
	espat_http_parser_init(&r->p, mode);
	put_log(r, "", 0);
}

static void rec_eof(struct rec *r)
{
	struct espat_http_ev ev;
	espat_http_eof(&r->p, &ev);
	put_log(r, "EOF ", 4);
	r->in_body = false;
	log_ev(r, &ev);
}

/* How a run cuts its input: a split mode, or (cut > 0) two pieces. */
struct cutting {
	enum t_split split;
	uint32_t seed;
	size_t cut;
};

static char *run(enum espat_http_mode mode, const void *in, size_t n, struct cutting c, bool eof)
{
	struct rec *r = malloc(sizeof(*r));
	assert_non_null(r);
	rec_init(r, mode);
	if (c.cut > 0) {
		sink(r, in, c.cut);
		sink(r, (const uint8_t *)in + c.cut, n - c.cut);
	} else {
		t_feed(sink, r, in, n, c.split, &c.seed);
	}
	if (eof)
		rec_eof(r);
	char *log = r->log;
	free(r);
	return log;
}

static void same_log(const char *got, const char *want, const char *how, size_t arg)
{
	if (strcmp(got, want) == 0)
		return;
	print_error("log mismatch (%s %zu)\nwant:\n%s\ngot:\n%s\n", how, arg, want, got);
	fail();
}

/* The input cut in every way gives want; eof: end with espat_http_eof(). */
static void check_n(enum espat_http_mode mode, const void *in, size_t n, bool eof, const char *want)
{
	char *log = run(mode, in, n, (struct cutting){T_WHOLE, 0, 0}, eof);
	same_log(log, want, "whole", 0);
	free(log);
	log = run(mode, in, n, (struct cutting){T_BYTES, 0, 0}, eof);
	same_log(log, want, "bytes", 0);
	free(log);
	for (uint32_t seed = 1; seed <= 30; seed++) {
		log = run(mode, in, n, (struct cutting){T_RANDOM, seed, 0}, eof);
		same_log(log, want, "random seed", seed);
		free(log);
	}
	for (size_t cut = 1; cut < n && n <= 8192; cut++) {
		log = run(mode, in, n, (struct cutting){T_WHOLE, 0, cut}, eof);
		same_log(log, want, "cut at", cut);
		free(log);
	}
}

static void check(enum espat_http_mode mode, const char *in, bool eof, const char *want)
{
	check_n(mode, in, strlen(in), eof, want);
}

#define RESP ESPAT_HTTP_RESPONSE
#define REQ ESPAT_HTTP_REQUEST
#define NO_EOF false
#define AT_EOF true

/* ---- responses ------------------------------------------------------------ */

static void content_length_body(void **state)
{
	check(RESP,
	      "HTTP/1.1 200 OK\r\n"
	      "Content-Type: text/plain\r\n"
	      "content-length:   5  \r\n"
	      "\r\n"
	      "hello",
	      AT_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Content-Type] [text/plain]\n"
	      "HEADER [content-length] [5]\n"
	      "HEADERS_DONE 200 cl=5 length ka=1\n"
	      "BODY [hello]\n"
	      "DONE 200 cl=5 length ka=1\n"
	      "EOF NEED_MORE\n");
	/* HTTP/1.0, an empty reason without its SP, Content-Length 0 */
	check(RESP, "HTTP/1.0 404\r\nContent-Length: 0\r\n\r\n", NO_EOF,
	      "STATUS 10 404 []\n"
	      "HEADER [Content-Length] [0]\n"
	      "HEADERS_DONE 404 cl=0 length ka=0\n"
	      "DONE 404 cl=0 length ka=0\n");
	/* bare LF line ends, keep-alive in 1.0, a reason with spaces */
	check(RESP, "HTTP/1.0 200 Fine By Me\nConnection: Keep-Alive\nContent-Length: 2\n\nok",
	      NO_EOF,
	      "STATUS 10 200 [Fine By Me]\n"
	      "HEADER [Connection] [Keep-Alive]\n"
	      "HEADER [Content-Length] [2]\n"
	      "HEADERS_DONE 200 cl=2 length ka=1\n"
	      "BODY [ok]\n"
	      "DONE 200 cl=2 length ka=1\n");
}

static void chunked_body(void **state)
{
	check(RESP,
	      "HTTP/1.1 200 OK\r\n"
	      "Transfer-Encoding: chunked\r\n"
	      "\r\n"
	      "5;name=val\r\n"
	      "hello\r\n"
	      "7 ; a=\"b;c\"\r\n"
	      ", world\r\n"
	      "0000\r\n"
	      "Expires: never\r\n"
	      "X-Sum:  abc \r\n"
	      "\r\n",
	      AT_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Transfer-Encoding] [chunked]\n"
	      "HEADERS_DONE 200 cl=-1 chunked ka=1\n"
	      "BODY [hello, world]\n"
	      "TRAILER [Expires] [never]\n"
	      "TRAILER [X-Sum] [abc]\n"
	      "DONE 200 cl=-1 chunked ka=1\n"
	      "EOF NEED_MORE\n");
	/* hex of either case, a chunk bigger than 9, no trailers */
	check(RESP,
	      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n"
	      "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n",
	      NO_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Transfer-Encoding] [gzip, CHUNKED]\n"
	      "HEADERS_DONE 200 cl=-1 chunked ka=1\n"
	      "BODY [abcdefghijklmnopqrstuvwxyz]\n"
	      "DONE 200 cl=-1 chunked ka=1\n");
	/* chunked wins over Content-Length, and the connection closes after */
	check(RESP,
	      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "3\r\nabc\r\n0\r\n\r\n",
	      NO_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Content-Length] [100]\n"
	      "HEADER [Transfer-Encoding] [chunked]\n"
	      "HEADERS_DONE 200 cl=-1 chunked ka=0\n"
	      "BODY [abc]\n"
	      "DONE 200 cl=-1 chunked ka=0\n");
}

static void read_until_close(void **state)
{
	check(RESP, "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nall of this\r\n\r\nand more", AT_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Server] [x]\n"
	      "HEADERS_DONE 200 cl=-1 close ka=0\n"
	      "BODY [all of this\r\n\r\nand more]\n"
	      "EOF DONE 200 cl=-1 close ka=0\n");
	/* an empty body until close */
	check(RESP, "HTTP/1.1 200 OK\r\n\r\n", AT_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADERS_DONE 200 cl=-1 close ka=0\n"
	      "EOF DONE 200 cl=-1 close ka=0\n");
	/* a coding other than chunked last: until close */
	check(RESP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nzz", AT_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Transfer-Encoding] [chunked, gzip]\n"
	      "HEADERS_DONE 200 cl=-1 close ka=0\n"
	      "BODY [zz]\n"
	      "EOF DONE 200 cl=-1 close ka=0\n");
}

static void truncated_at_eof(void **state)
{
	check(RESP, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", AT_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Content-Length] [10]\n"
	      "HEADERS_DONE 200 cl=10 length ka=1\n"
	      "BODY [half]\n"
	      "EOF ERROR truncated message\n");
	check(RESP, "HTTP/1.1 200 OK\r\nContent-Le", AT_EOF,
	      "STATUS 11 200 [OK]\n"
	      "EOF ERROR truncated message\n");
	check(RESP, "HTTP/1.1 2", AT_EOF, "EOF ERROR truncated message\n");
	check(RESP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello", AT_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Transfer-Encoding] [chunked]\n"
	      "HEADERS_DONE 200 cl=-1 chunked ka=1\n"
	      "BODY [hello]\n"
	      "EOF ERROR truncated message\n");
	/* the last chunk without the empty line that ends the trailers */
	check(RESP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", AT_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Transfer-Encoding] [chunked]\n"
	      "HEADERS_DONE 200 cl=-1 chunked ka=1\n"
	      "EOF ERROR truncated message\n");
	/* nothing at all, or only empty lines: a clean close */
	check(RESP, "\r\n\r\n", AT_EOF, "EOF NEED_MORE\n");
}

static void no_body_responses(void **state)
{
	/* HEAD: Content-Length is the resource's size, no body follows; the
	 * next response comes right after the head */
	check(ESPAT_HTTP_RESPONSE_TO_HEAD,
	      "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
	      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	      AT_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Content-Length] [1234]\n"
	      "HEADERS_DONE 200 cl=1234 none ka=1\n"
	      "DONE 200 cl=1234 none ka=1\n"
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Transfer-Encoding] [chunked]\n"
	      "HEADERS_DONE 200 cl=-1 none ka=1\n"
	      "DONE 200 cl=-1 none ka=1\n"
	      "EOF NEED_MORE\n");
	check(RESP,
	      "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"
	      "HTTP/1.1 304 Not Modified\r\n\r\n"
	      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
	      AT_EOF,
	      "STATUS 11 204 [No Content]\n"
	      "HEADER [Content-Length] [7]\n"
	      "HEADERS_DONE 204 cl=7 none ka=1\n"
	      "DONE 204 cl=7 none ka=1\n"
	      "STATUS 11 304 [Not Modified]\n"
	      "HEADERS_DONE 304 cl=-1 none ka=1\n"
	      "DONE 304 cl=-1 none ka=1\n"
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Content-Length] [1]\n"
	      "HEADERS_DONE 200 cl=1 length ka=1\n"
	      "BODY [x]\n"
	      "DONE 200 cl=1 length ka=1\n"
	      "EOF NEED_MORE\n");
}

/* A client that sends GET then HEAD on one connection switches the mode
 * between the responses. */
static void head_then_get(void **state)
{
	const char *get = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n";
	struct rec r;
	rec_init(&r, ESPAT_HTTP_RESPONSE_TO_HEAD);
	sink(&r, (const uint8_t *)head, strlen(head));
	espat_http_set_mode(&r.p, RESP);
	sink(&r, (const uint8_t *)get, strlen(get));
	assert_string_equal(r.log, "STATUS 11 200 [OK]\n"
	                           "HEADER [Content-Length] [3]\n"
	                           "HEADERS_DONE 200 cl=3 none ka=1\n"
	                           "DONE 200 cl=3 none ka=1\n"
	                           "STATUS 11 200 [OK]\n"
	                           "HEADER [Content-Length] [3]\n"
	                           "HEADERS_DONE 200 cl=3 length ka=1\n"
	                           "BODY [abc]\n"
	                           "DONE 200 cl=3 length ka=1\n");
	free(r.log);
}

static void continue_then_ok(void **state)
{
	check(RESP,
	      "HTTP/1.1 100 Continue\r\n\r\n"
	      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\nContent-Length: 9\r\n\r\n"
	      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
	      NO_EOF,
	      "STATUS 11 100 [Continue]\n"
	      "HEADERS_DONE 100 cl=-1 none ka=1\n"
	      "DONE 100 cl=-1 none ka=1\n"
	      "STATUS 11 103 [Early Hints]\n"
	      "HEADER [Link] [</a.css>]\n"
	      "HEADER [Content-Length] [9]\n"
	      "HEADERS_DONE 103 cl=9 none ka=1\n"
	      "DONE 103 cl=9 none ka=1\n"
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Content-Length] [2]\n"
	      "HEADERS_DONE 200 cl=2 length ka=1\n"
	      "BODY [hi]\n"
	      "DONE 200 cl=2 length ka=1\n");
}

static void switching_protocols(void **state)
{
	/* after a 101 the bytes are the new protocol's: none is taken */
	const char *in = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                 "Connection: Upgrade\r\n\r\n\x81\x02hi";
	struct rec r;
	rec_init(&r, RESP);
	struct espat_http_ev ev;
	const uint8_t *p = (const uint8_t *)in;
	size_t n = strlen(in), used;
	do {
		used = espat_http_feed(&r.p, p, n, &ev);
		p += used;
		n -= used;
		log_ev(&r, &ev);
	} while (ev.type != ESPAT_HTTP_EV_ERROR && ev.type != ESPAT_HTTP_EV_NEED_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(n, 4);
	assert_memory_equal(p, "\x81\x02hi", 4);
	assert_string_equal(r.log, "STATUS 11 101 [Switching Protocols]\n"
	                           "HEADER [Upgrade] [websocket]\n"
	                           "HEADER [Connection] [Upgrade]\n"
	                           "HEADERS_DONE 101 cl=-1 none ka=1 up\n"
	                           "DONE 101 cl=-1 none ka=1 up\n"
	                           "ERROR protocol switched\n");
	free(r.log);
}

static void pipelined_responses(void **state)
{
	check(RESP,
	      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
	      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nsecond\r\n0\r\n\r\n"
	      "\r\n" /* a stray empty line between messages is skipped */
	      "HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 5\r\n\r\nthird",
	      AT_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Content-Length] [5]\n"
	      "HEADERS_DONE 200 cl=5 length ka=1\n"
	      "BODY [first]\n"
	      "DONE 200 cl=5 length ka=1\n"
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Transfer-Encoding] [chunked]\n"
	      "HEADERS_DONE 200 cl=-1 chunked ka=1\n"
	      "BODY [second]\n"
	      "DONE 200 cl=-1 chunked ka=1\n"
	      "STATUS 11 201 [Created]\n"
	      "HEADER [Connection] [close]\n"
	      "HEADER [Content-Length] [5]\n"
	      "HEADERS_DONE 201 cl=5 length ka=0\n"
	      "BODY [third]\n"
	      "DONE 201 cl=5 length ka=0\n"
	      "EOF NEED_MORE\n");
}

/* ---- requests ------------------------------------------------------------- */

static void requests(void **state)
{
	check(REQ,
	      "GET /index.html?x=1 HTTP/1.1\r\nHost: 192.168.4.1\r\nAccept: */*\r\n\r\n"
	      "POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\na=1&b=2"
	      "PUT /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ndata\r\n0\r\n\r\n"
	      "OPTIONS * HTTP/1.0\r\n\r\n",
	      AT_EOF,
	      "REQUEST [GET] [/index.html?x=1] 11\n"
	      "HEADER [Host] [192.168.4.1]\n"
	      "HEADER [Accept] [*/*]\n"
	      "HEADERS_DONE 0 cl=-1 none ka=1\n"
	      "DONE 0 cl=-1 none ka=1\n"
	      "REQUEST [POST] [/form] 11\n"
	      "HEADER [Host] [h]\n"
	      "HEADER [Content-Length] [7]\n"
	      "HEADERS_DONE 0 cl=7 length ka=1\n"
	      "BODY [a=1&b=2]\n"
	      "DONE 0 cl=7 length ka=1\n"
	      "REQUEST [PUT] [/up] 11\n"
	      "HEADER [Transfer-Encoding] [chunked]\n"
	      "HEADERS_DONE 0 cl=-1 chunked ka=1\n"
	      "BODY [data]\n"
	      "DONE 0 cl=-1 chunked ka=1\n"
	      "REQUEST [OPTIONS] [*] 10\n"
	      "HEADERS_DONE 0 cl=-1 none ka=0\n"
	      "DONE 0 cl=-1 none ka=0\n"
	      "EOF NEED_MORE\n");
	/* a WebSocket upgrade request; a request never reads until close */
	check(REQ, "GET /ws HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n\r\n", AT_EOF,
	      "REQUEST [GET] [/ws] 11\n"
	      "HEADER [Connection] [keep-alive, Upgrade]\n"
	      "HEADERS_DONE 0 cl=-1 none ka=1 up\n"
	      "DONE 0 cl=-1 none ka=1 up\n"
	      "EOF NEED_MORE\n");
	check(REQ, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", NO_EOF,
	      "REQUEST [POST] [/] 11\n"
	      "HEADER [Transfer-Encoding] [gzip]\n"
	      "ERROR unsupported Transfer-Encoding\n");
	check(REQ, "GET  / HTTP/1.1\r\n\r\n", NO_EOF, "ERROR bad start line\n");
	check(REQ, "GET / HTTP/1.1 \r\n\r\n", NO_EOF, "ERROR bad start line\n");
	check(REQ, "GET /\r\n\r\n", NO_EOF, "ERROR bad start line\n");
	check(REQ, "G(T / HTTP/1.1\r\n\r\n", NO_EOF, "ERROR bad start line\n");
	check(REQ, "GET / HTTP/2.0\r\n\r\n", NO_EOF, "ERROR unsupported HTTP version\n");
	check(REQ, "GET /a\rb HTTP/1.1\r\n\r\n", NO_EOF, "ERROR bad start line\n");
}

/* ---- malformed input ------------------------------------------------------ */

static void bad_status_lines(void **state)
{
	static const char *bad[] = {
	    "HTTP/1.1 200OK\r\n",     "HTTP/1.1  200 OK\r\n", "HTTP/1.1 20 OK\r\n",
	    "HTTP/1.1 2000 OK\r\n",   "HTTP/1.1 099 Low\r\n", "HTTP/1.1 600 High\r\n",
	    "HTTP/1.1 2x0 OK\r\n",    "http/1.1 200 OK\r\n",  "HTTP/1.1\r\n",
	    "HTTP/11 200 OK\r\n",     "ICY 200 OK\r\n",       "HTTP/1.1 200 O\x01K\r\n",
	    "HTTP/1.1 200 OK\rX\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check(RESP, bad[i], NO_EOF, "ERROR bad start line\n");
	check(RESP, "HTTP/1.2 200 OK\r\n", NO_EOF, "ERROR unsupported HTTP version\n");
	check(RESP, "HTTP/2.0 200 OK\r\n", NO_EOF, "ERROR unsupported HTTP version\n");
	/* ERROR is final */
	struct rec r;
	rec_init(&r, RESP);
	sink(&r, (const uint8_t *)"junk\r\n", 6);
	struct espat_http_ev ev;
	assert_int_equal(espat_http_feed(&r.p, (const uint8_t *)"HTTP/1.1 200 OK\r\n", 17, &ev), 0);
	assert_int_equal(ev.type, ESPAT_HTTP_EV_ERROR);
	assert_int_equal(ev.err, ESPAT_HTTP_ERR_START_LINE);
	espat_http_eof(&r.p, &ev);
	assert_int_equal(ev.err, ESPAT_HTTP_ERR_START_LINE);
	free(r.log);
}

static void bad_headers(void **state)
{
	static const char *bad[] = {
	    "NoColon\r\n",  ": empty name\r\n", "Bad Name: x\r\n", "Space : x\r\n", " folded\r\n",
	    "\tfolded\r\n", "X: a\x01z\r\n",    "X: a\rz\r\n",     "X: a\x7fz\r\n", "X\x80: y\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char in[128];
		snprintf(in, sizeof(in), "HTTP/1.1 200 OK\r\nA: 1\r\n%s\r\n", bad[i]);
		check(RESP, in, NO_EOF,
		      "STATUS 11 200 [OK]\n"
		      "HEADER [A] [1]\n"
		      "ERROR bad header line\n");
	}
	/* empty values, HTAB and obs-text inside a value are fine */
	check(RESP,
	      "HTTP/1.1 200 OK\r\nX:\r\nY: \t \r\nZ: a\tb \xc3\xa9\r\nContent-Length: 0\r\n\r\n",
	      NO_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADER [X] []\n"
	      "HEADER [Y] []\n"
	      "HEADER [Z] [a\tb \xc3\xa9]\n"
	      "HEADER [Content-Length] [0]\n"
	      "HEADERS_DONE 200 cl=0 length ka=1\n"
	      "DONE 200 cl=0 length ka=1\n");
}

static void bad_lengths(void **state)
{
	static const struct {
		const char *value;
		const char *err;
	} cases[] = {
	    {"99999999999999999999999", "length overflow"},
	    {"9223372036854775808", "length overflow"},
	    {"-1", "bad Content-Length"},
	    {"+5", "bad Content-Length"},
	    {"5x", "bad Content-Length"},
	    {"0x10", "bad Content-Length"},
	    {"1 2", "bad Content-Length"},
	    {"", "bad Content-Length"},
	    {"5,", "bad Content-Length"},
	    {"5, 6", "bad Content-Length"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char in[128], want[256];
		snprintf(in, sizeof(in), "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\n",
		         cases[i].value);
		snprintf(want, sizeof(want), "STATUS 11 200 [OK]\nERROR %s\n", cases[i].err);
		check(RESP, in, NO_EOF, want);
	}
	/* the largest length is fine */
	check(RESP, "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\nab", NO_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Content-Length] [9223372036854775807]\n"
	      "HEADERS_DONE 200 cl=9223372036854775807 length ka=1\n"
	      "BODY [ab]\n");
	/* duplicates: equal ones are one length, different ones conflict */
	check(RESP, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3, 03\r\n\r\nabc",
	      NO_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Content-Length] [3]\n"
	      "HEADER [content-length] [3, 03]\n"
	      "HEADERS_DONE 200 cl=3 length ka=1\n"
	      "BODY [abc]\n"
	      "DONE 200 cl=3 length ka=1\n");
	check(RESP, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc", NO_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Content-Length] [3]\n"
	      "ERROR bad Content-Length\n");
	check(REQ, "POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n", NO_EOF,
	      "REQUEST [POST] [/] 11\n"
	      "ERROR length overflow\n");
}

static void bad_chunks(void **state)
{
	static const struct {
		const char *body;
		const char *log; /* after HEADERS_DONE */
	} cases[] = {
	    {"x\r\n", "ERROR bad chunk size\n"},
	    {"\r\n", "ERROR bad chunk size\n"},
	    {" 5\r\nhello\r\n", "ERROR bad chunk size\n"},
	    {"-5\r\n", "ERROR bad chunk size\n"},
	    {"5x\r\n", "ERROR bad chunk size\n"},
	    {"0x5\r\n", "ERROR bad chunk size\n"},
	    {"5 x\r\n", "ERROR bad chunk size\n"},
	    {"5\r\x01\n", "ERROR bad chunk size\n"},
	    {"80000000000000000\r\n", "ERROR length overflow\n"},
	    {"10000000000000000\r\n", "ERROR length overflow\n"},
	    {"3\r\nabcd\r\n", "BODY [abc]\nERROR bad chunk end\n"},
	    {"3\r\nabc0\r\n\r\n", "BODY [abc]\nERROR bad chunk end\n"},
	    {"0\r\nbad trailer\r\n\r\n", "ERROR bad header line\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char in[256], want[512];
		snprintf(in, sizeof(in), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s",
		         cases[i].body);
		snprintf(want, sizeof(want),
		         "STATUS 11 200 [OK]\n"
		         "HEADER [Transfer-Encoding] [chunked]\n"
		         "HEADERS_DONE 200 cl=-1 chunked ka=1\n%s",
		         cases[i].log);
		check(RESP, in, NO_EOF, want);
	}
	/* the largest chunk size is fine (and leading zeros do not count) */
	check(RESP,
	      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "0000000000000000007fffffffffffffff\r\nab",
	      NO_EOF,
	      "STATUS 11 200 [OK]\n"
	      "HEADER [Transfer-Encoding] [chunked]\n"
	      "HEADERS_DONE 200 cl=-1 chunked ka=1\n"
	      "BODY [ab]\n");
}

/* Builds "HTTP/1.1 200 OK\r\nX: vvv...\r\n\r\n" whose X line, CR LF
 * included, is line bytes long. */
static size_t long_header(char *dst, size_t line)
{
	size_t n = (size_t)sprintf(dst, "HTTP/1.1 200 OK\r\nX: ");
	memset(dst + n, 'v', line - 5);
	n += line - 5;
	memcpy(dst + n, "\r\nContent-Length: 0\r\n\r\n", 23);
	return n + 23;
}

static void line_limit(void **state)
{
	static char in[3 * ESPAT_HTTP_LINE_MAX], want[3 * ESPAT_HTTP_LINE_MAX];
	/* the longest line fits; cut at every position it still comes out whole */
	size_t n = long_header(in, ESPAT_HTTP_LINE_MAX);
	snprintf(want, sizeof(want),
	         "STATUS 11 200 [OK]\n"
	         "HEADER [X] [%.*s]\n"
	         "HEADER [Content-Length] [0]\n"
	         "HEADERS_DONE 200 cl=0 length ka=1\n"
	         "DONE 200 cl=0 length ka=1\n",
	         ESPAT_HTTP_LINE_MAX - 5, in + 20);
	check_n(RESP, in, n, NO_EOF, want);
	/* one more byte is an error, never a truncated header */
	n = long_header(in, ESPAT_HTTP_LINE_MAX + 1);
	check_n(RESP, in, n, NO_EOF, "STATUS 11 200 [OK]\nERROR line too long\n");
	/* an endless line fails without waiting for its end */
	memset(in, 'A', sizeof(in));
	check_n(RESP, in, sizeof(in), NO_EOF, "ERROR line too long\n");
	/* the start line has the same limit, and is kept beside a long header */
	n = (size_t)sprintf(in, "GET /");
	memset(in + n, 'p', ESPAT_HTTP_LINE_MAX - 16);
	n += ESPAT_HTTP_LINE_MAX - 16;
	n += (size_t)sprintf(in + n, " HTTP/1.1\r\n");
	assert_int_equal(n, ESPAT_HTTP_LINE_MAX);
	size_t h = n;
	n += (size_t)sprintf(in + n, "X: ");
	memset(in + n, 'h', ESPAT_HTTP_LINE_MAX - 5);
	n += ESPAT_HTTP_LINE_MAX - 5;
	n += (size_t)sprintf(in + n, "\r\n\r\n");
	struct rec r;
	rec_init(&r, REQ);
	sink(&r, (const uint8_t *)in, n);
	assert_false(r.dead);
	assert_int_equal(espat_http_feed(&r.p, NULL, 0, &(struct espat_http_ev){0}), 0);
	free(r.log);
	rec_init(&r, REQ);
	struct espat_http_ev ev;
	const uint8_t *p = (const uint8_t *)in;
	size_t used = espat_http_feed(&r.p, p, n, &ev);
	assert_int_equal(ev.type, ESPAT_HTTP_EV_REQUEST);
	assert_int_equal(used, h);
	assert_int_equal(ev.head.target.len, ESPAT_HTTP_LINE_MAX - 15);
	used += espat_http_feed(&r.p, p + used, n - used, &ev);
	assert_int_equal(ev.type, ESPAT_HTTP_EV_HEADER);
	assert_int_equal(ev.value.len, ESPAT_HTTP_LINE_MAX - 5);
	used += espat_http_feed(&r.p, p + used, n - used, &ev);
	assert_int_equal(ev.type, ESPAT_HTTP_EV_HEADERS_DONE);
	assert_int_equal(ev.head.target.len, ESPAT_HTTP_LINE_MAX - 15);
	assert_memory_equal(ev.head.target.s, in + 4, ESPAT_HTTP_LINE_MAX - 15);
	assert_int_equal(used, n);
	free(r.log);
	rec_init(&r, RESP);
	n = (size_t)sprintf(in, "HTTP/1.1 200 ");
	memset(in + n, 'r', ESPAT_HTTP_LINE_MAX);
	check_n(RESP, in, n + ESPAT_HTTP_LINE_MAX, NO_EOF, "ERROR line too long\n");
	free(r.log);
}

/* Every split of a message with many headers, bodies and trailers gives
 * the same events as the whole (check() cuts at every position). */
static void split_everywhere(void **state)
{
	check(REQ,
	      "\r\nPOST /api/v1/x?y=%20 HTTP/1.1\r\n"
	      "Host: example.com:8080\r\n"
	      "User-Agent: espat/1.0 (linux)\r\n"
	      "Content-Type: application/json; charset=utf-8\r\n"
	      "Transfer-Encoding: chunked\r\n"
	      "\r\n"
	      "b;ext\r\n{\"a\":[1,2]}\r\n"
	      "1\r\n}\r\n"
	      "0\r\nDigest: sha-256=abc\r\n\r\n"
	      "GET / HTTP/1.1\r\n\r\n",
	      AT_EOF,
	      "REQUEST [POST] [/api/v1/x?y=%20] 11\n"
	      "HEADER [Host] [example.com:8080]\n"
	      "HEADER [User-Agent] [espat/1.0 (linux)]\n"
	      "HEADER [Content-Type] [application/json; charset=utf-8]\n"
	      "HEADER [Transfer-Encoding] [chunked]\n"
	      "HEADERS_DONE 0 cl=-1 chunked ka=1\n"
	      "BODY [{\"a\":[1,2]}}]\n"
	      "TRAILER [Digest] [sha-256=abc]\n"
	      "DONE 0 cl=-1 chunked ka=1\n"
	      "REQUEST [GET] [/] 11\n"
	      "HEADERS_DONE 0 cl=-1 none ka=1\n"
	      "DONE 0 cl=-1 none ka=1\n"
	      "EOF NEED_MORE\n");
}

/* ---- a large body --------------------------------------------------------- */

static uint8_t body_byte(uint64_t i)
{
	return (uint8_t)(i * 2654435761u >> 13);
}

/* Feeds in[0..n) in pieces of up to 64 KiB; the body must come out whole and
 * every BODY slice must point into the piece it came from. */
static void stream_large(enum espat_http_mode mode, const uint8_t *in, size_t n, uint64_t size)
{
	struct espat_http_parser p;
	espat_http_parser_init(&p, mode);
	uint64_t got = 0, events = 0;
	bool done = false;
	uint32_t seed = 99;
	size_t pos = 0;
	while (pos < n) {
		size_t k = 1 + t_rand(&seed) % 65536;
		if (k > n - pos)
			k = n - pos;
		const uint8_t *piece = in + pos, *cur = piece;
		size_t left = k;
		struct espat_http_ev ev;
		do {
			size_t used = espat_http_feed(&p, cur, left, &ev);
			assert_int_not_equal(ev.type, ESPAT_HTTP_EV_ERROR);
			if (ev.type == ESPAT_HTTP_EV_BODY) {
				assert_true(ev.data >= piece && ev.data + ev.len <= piece + k);
				for (size_t i = 0; i < ev.len; i++)
					if (ev.data[i] != body_byte(got + i))
						fail_msg("body byte %llu",
						         (unsigned long long)(got + i));
				got += ev.len;
				events++;
			}
			done |= ev.type == ESPAT_HTTP_EV_DONE;
			cur += used;
			left -= used;
		} while (ev.type != ESPAT_HTTP_EV_NEED_MORE);
		pos += k;
	}
	assert_true(done);
	assert_true(got == size);
	/* pieces are large: the body is not cut into tiny events */
	assert_true(events < 400);
}

static void large_body(void **state)
{
	const uint64_t size = 5u << 20;
	uint8_t *in = malloc(size + 4096);
	assert_non_null(in);
	/* Content-Length */
	size_t n = (size_t)sprintf((char *)in, "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n",
	                           (unsigned long long)size);
	for (uint64_t i = 0; i < size; i++)
		in[n + i] = body_byte(i);
	stream_large(RESP, in, n + size, size);
	free(in);

	/* chunked, 100000-byte chunks */
	const size_t chunk = 100000;
	in = malloc(size + size / chunk * 16 + 4096);
	assert_non_null(in);
	n = (size_t)sprintf((char *)in,
	                    "PUT /fw.bin HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (uint64_t i = 0; i < size; i += chunk) {
		size_t k = size - i < chunk ? (size_t)(size - i) : chunk;
		n += espat_http_write_chunk_head((char *)in + n, 32, k);
		for (size_t j = 0; j < k; j++)
			in[n + j] = body_byte(i + j);
		n += k;
		memcpy(in + n, "\r\n", 2);
		n += 2;
	}
	memcpy(in + n, "0\r\n\r\n", 5);
	stream_large(REQ, in, n + 5, size);
	free(in);
}

/* ---- writers -------------------------------------------------------------- */

#define S(lit) ((struct espat_http_str){(lit), sizeof(lit) - 1})

/* write() gives want exactly when cap has room for it and its NUL, and 0
 * (touching nothing past cap) for every smaller cap. */
typedef size_t writer_fn(char *buf, size_t cap, const void *arg);

static void check_writer(writer_fn *write, const void *arg, const char *want)
{
	char buf[1024];
	size_t n = strlen(want);
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(write(buf, sizeof(buf), arg), n);
	assert_string_equal(buf, want);
	for (size_t cap = 0; cap <= n; cap++) {
		memset(buf, 'Z', sizeof(buf));
		assert_int_equal(write(buf, cap, arg), 0);
		assert_int_equal(buf[cap], 'Z');
	}
	assert_int_equal(write(buf, n + 1, arg), n);
}

struct req_args {
	const char *method;
	struct espat_http_str target, host;
	uint16_t port;
	const char *const *headers;
	size_t n_headers;
	int64_t content_length;
};

static size_t write_req(char *buf, size_t cap, const void *arg)
{
	const struct req_args *a = arg;
	return espat_http_write_request(buf, cap, a->method, a->target, a->host, a->port,
	                                a->headers, a->n_headers, a->content_length);
}

struct resp_args {
	int status;
	const char *const *headers;
	size_t n_headers;
	int64_t content_length;
};

static size_t write_resp(char *buf, size_t cap, const void *arg)
{
	const struct resp_args *a = arg;
	return espat_http_write_response(buf, cap, a->status, a->headers, a->n_headers,
	                                 a->content_length);
}

static size_t write_chunk(char *buf, size_t cap, const void *arg)
{
	return espat_http_write_chunk_head(buf, cap, *(const uint64_t *)arg);
}

static void request_writer(void **state)
{
	const char *const hdrs[] = {"User-Agent: espat", "Content-Type: text/plain"};
	check_writer(write_req,
	             &(struct req_args){"POST", S("/a?b=c"), S("example.com"), 8080, hdrs, 2, 5},
	             "POST /a?b=c HTTP/1.1\r\n"
	             "Host: example.com:8080\r\n"
	             "User-Agent: espat\r\n"
	             "Content-Type: text/plain\r\n"
	             "Content-Length: 5\r\n"
	             "\r\n");
	check_writer(write_req, &(struct req_args){"GET", S("/"), S("h"), 0, NULL, 0, -1},
	             "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	/* a URL's target and IPv6 host go in as the splitter gives them */
	check_writer(write_req, &(struct req_args){"HEAD", S("?q"), S("::1"), 8443, NULL, 0, 0},
	             "HEAD /?q HTTP/1.1\r\nHost: [::1]:8443\r\nContent-Length: 0\r\n\r\n");
	check_writer(write_req, &(struct req_args){"GET", S(""), S("h"), 0, NULL, 0, -1},
	             "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	/* bad fields: nothing is written, whatever the room */
	char buf[512];
	const char *const inject[] = {"X: a\r\nEvil: 1"};
	const char *const no_name[] = {": x"};
	const char *const no_colon[] = {"X"};
	const char *const empty[] = {""};
	struct req_args bad[] = {
	    {"GET", S("/a b"), S("h"), 0, NULL, 0, -1},
	    {"GET", S("/a\r\n"), S("h"), 0, NULL, 0, -1},
	    {"GET", S("/"), S(""), 0, NULL, 0, -1},
	    {"GET", S("/"), S("h h"), 0, NULL, 0, -1},
	    {"GE T", S("/"), S("h"), 0, NULL, 0, -1},
	    {"", S("/"), S("h"), 0, NULL, 0, -1},
	    {"GET", S("/"), S("h"), 0, inject, 1, -1},
	    {"GET", S("/"), S("h"), 0, no_name, 1, -1},
	    {"GET", S("/"), S("h"), 0, no_colon, 1, -1},
	    {"GET", S("/"), S("h"), 0, empty, 1, -1},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(write_req(buf, sizeof(buf), &bad[i]), 0);

	/* what the writer writes, the parser reads back */
	size_t n =
	    write_req(buf, sizeof(buf), &(struct req_args){"POST", S("/x"), S("h"), 0, hdrs, 2, 2});
	memcpy(buf + n, "ok", 2);
	check_n(REQ, buf, n + 2, AT_EOF,
	        "REQUEST [POST] [/x] 11\n"
	        "HEADER [Host] [h]\n"
	        "HEADER [User-Agent] [espat]\n"
	        "HEADER [Content-Type] [text/plain]\n"
	        "HEADER [Content-Length] [2]\n"
	        "HEADERS_DONE 0 cl=2 length ka=1\n"
	        "BODY [ok]\n"
	        "DONE 0 cl=2 length ka=1\n"
	        "EOF NEED_MORE\n");
}

static void response_writer(void **state)
{
	const char *const hdrs[] = {"Content-Type: text/html", "Connection: close"};
	check_writer(write_resp, &(struct resp_args){200, hdrs, 2, 12},
	             "HTTP/1.1 200 OK\r\n"
	             "Content-Type: text/html\r\n"
	             "Connection: close\r\n"
	             "Content-Length: 12\r\n"
	             "\r\n");
	check_writer(write_resp, &(struct resp_args){404, NULL, 0, 0},
	             "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	const char *const te[] = {"Transfer-Encoding: chunked"};
	check_writer(write_resp, &(struct resp_args){500, te, 1, -1},
	             "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n");
	/* a code without a phrase in the table keeps its (empty) reason slot */
	check_writer(write_resp, &(struct resp_args){299, NULL, 0, -1}, "HTTP/1.1 299 \r\n\r\n");
	char buf[64];
	assert_int_equal(write_resp(buf, sizeof(buf), &(struct resp_args){99, NULL, 0, -1}), 0);
	assert_int_equal(write_resp(buf, sizeof(buf), &(struct resp_args){600, NULL, 0, -1}), 0);
	const char *const bad[] = {"X: \n"};
	assert_int_equal(write_resp(buf, sizeof(buf), &(struct resp_args){200, bad, 1, -1}), 0);

	assert_string_equal(espat_http_reason(101), "Switching Protocols");
	assert_string_equal(espat_http_reason(413), "Content Too Large");
	assert_string_equal(espat_http_reason(505), "HTTP Version Not Supported");
	assert_string_equal(espat_http_reason(799), "");

	uint64_t sizes[] = {0, 10, 0xabcdef, UINT64_MAX};
	const char *want[] = {"0\r\n", "a\r\n", "abcdef\r\n", "ffffffffffffffff\r\n"};
	for (size_t i = 0; i < 4; i++)
		check_writer(write_chunk, &sizes[i], want[i]);
}

/* ---- URLs ----------------------------------------------------------------- */

static void url_good(void **state)
{
	static const struct {
		const char *url;
		enum espat_http_scheme scheme;
		const char *userinfo, *host;
		uint16_t port;
		bool port_given, tls;
		const char *target;
	} cases[] = {
	    {"http://example.com", ESPAT_HTTP_SCHEME_HTTP, "", "example.com", 80, false, false,
	     "/"},
	    {"https://user@host:8443/path?q", ESPAT_HTTP_SCHEME_HTTPS, "user", "host", 8443, true,
	     true, "/path?q"},
	    {"HTTPS://u:p%40ss@h/", ESPAT_HTTP_SCHEME_HTTPS, "u:p%40ss", "h", 443, false, true,
	     "/"},
	    {"ws://192.168.4.1:1/ws", ESPAT_HTTP_SCHEME_WS, "", "192.168.4.1", 1, true, false,
	     "/ws"},
	    {"wss://[::1]/chat#frag", ESPAT_HTTP_SCHEME_WSS, "", "::1", 443, false, true, "/chat"},
	    {"http://[fe80::1:2]:65535", ESPAT_HTTP_SCHEME_HTTP, "", "fe80::1:2", 65535, true,
	     false, "/"},
	    {"http://h?x=1", ESPAT_HTTP_SCHEME_HTTP, "", "h", 80, false, false, "?x=1"},
	    {"http://h#top", ESPAT_HTTP_SCHEME_HTTP, "", "h", 80, false, false, "/"},
	    {"http://a@b@h:80/p@q", ESPAT_HTTP_SCHEME_HTTP, "a@b", "h", 80, true, false, "/p@q"},
	    {"http://x.y-z_w~.com:08080/a/b/../c?d=e&f=g", ESPAT_HTTP_SCHEME_HTTP, "",
	     "x.y-z_w~.com", 8080, true, false, "/a/b/../c?d=e&f=g"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct espat_http_url u;
		const char *url = cases[i].url;
		if (!espat_http_url_parse(url, strlen(url), &u))
			fail_msg("rejected %s", url);
		assert_int_equal(u.scheme, cases[i].scheme);
		assert_true(espat_http_str_ieq(u.userinfo, cases[i].userinfo));
		assert_true(espat_http_str_ieq(u.host, cases[i].host));
		assert_int_equal(u.port, cases[i].port);
		assert_int_equal(u.port_given, cases[i].port_given);
		assert_int_equal(u.tls, cases[i].tls);
		assert_true(espat_http_str_ieq(u.target, cases[i].target));
		/* slices of the input (but the default "/") */
		assert_true(u.host.s > url && u.host.s + u.host.len <= url + strlen(url));
	}
	/* only len bytes count */
	struct espat_http_url u;
	assert_true(espat_http_url_parse("http://host:80/pathXXX", 14, &u));
	assert_int_equal(u.port, 80);
	assert_true(espat_http_str_ieq(u.target, "/"));
}

static void url_bad(void **state)
{
	static const char *bad[] = {
	    "",
	    "example.com/path",
	    "//example.com/",
	    "example.com:80",
	    "ftp://example.com/",
	    "http:/example.com",
	    "http:example.com",
	    "http://",
	    "http:///path",
	    "http://user@/path",
	    "http://:80/",
	    "http://h:0/",
	    "http://h:65536/",
	    "http://h:99999999999999999999/",
	    "http://h:/",
	    "http://h:8o/",
	    "http://h:-1/",
	    "http://h:80:80/",
	    "http://[::1/",
	    "http://[]/",
	    "http://[1.2.3.4]/",
	    "http://[::g]/",
	    "http://[::1]x/",
	    "http://[::1]:/",
	    "http://h/a b",
	    "http://h/a\r\nX: y",
	    "http://h\t/",
	    "http://ho<st/",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct espat_http_url u;
		if (espat_http_url_parse(bad[i], strlen(bad[i]), &u))
			fail_msg("accepted \"%s\"",
			         t_esc((const uint8_t *)bad[i], strlen(bad[i]), 0));
	}
	struct espat_http_url u;
	assert_false(espat_http_url_parse(NULL, 0, &u));
	assert_false(espat_http_url_parse("http://h/\0", 10, &u));
}

static void err_names(void **state)
{
	for (int e = ESPAT_HTTP_ERR_NONE; e <= ESPAT_HTTP_ERR_UPGRADED; e++)
		assert_string_not_equal(espat_http_err_str((enum espat_http_err)e),
		                        "unknown error");
	struct espat_http_str s = S("Content-Type");
	assert_true(espat_http_str_ieq(s, "content-TYPE"));
	assert_false(espat_http_str_ieq(s, "content-typ"));
	assert_false(espat_http_str_ieq(s, "content-types"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(content_length_body),
	    cmocka_unit_test(chunked_body),
	    cmocka_unit_test(read_until_close),
	    cmocka_unit_test(truncated_at_eof),
	    cmocka_unit_test(no_body_responses),
	    cmocka_unit_test(head_then_get),
	    cmocka_unit_test(continue_then_ok),
	    cmocka_unit_test(switching_protocols),
	    cmocka_unit_test(pipelined_responses),
	    cmocka_unit_test(requests),
	    cmocka_unit_test(bad_status_lines),
	    cmocka_unit_test(bad_headers),
	    cmocka_unit_test(bad_lengths),
	    cmocka_unit_test(bad_chunks),
	    cmocka_unit_test(line_limit),
	    cmocka_unit_test(split_everywhere),
	    cmocka_unit_test(large_body),
	    cmocka_unit_test(request_writer),
	    cmocka_unit_test(response_writer),
	    cmocka_unit_test(url_good),
	    cmocka_unit_test(url_bad),
	    cmocka_unit_test(err_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
