/* HTTP/1.1 codec (RFC 9112): an incremental parser for responses (the HTTP
 * client, OTA downloads) and requests (the web server), writers for request
 * heads, response heads and chunk headers, and a URL splitter. Pure: libc
 * only, no allocation, no socket, no clock.
 *
 * Parser contract. espat_http_feed() takes (buf, len), returns the bytes it
 * consumed and sets one event. Call it again with the rest until the event
 * is NEED_MORE (then all of buf was consumed) or ERROR:
 *
 *   do {
 *           size_t used = espat_http_feed(&p, buf, len, &ev);
 *           buf += used, len -= used;
 *           ... handle ev ...
 *   } while (ev.type != ESPAT_HTTP_EV_NEED_MORE && ev.type != ESPAT_HTTP_EV_ERROR);
 *
 * Looping until len is 0 is not enough: DONE may consume nothing (after the
 * last body byte, or right after HEADERS_DONE of a message without a body).
 * Each message gives STATUS (response) or REQUEST, HEADER per field line,
 * HEADERS_DONE, BODY pieces, TRAILER per trailer line (chunked only), DONE.
 * The next message may follow at once: bytes after DONE are never taken as
 * body (keep-alive, pipelining). When the connection closes, call
 * espat_http_eof(): it ends a body read until close (DONE), says NEED_MORE
 * between messages and ERROR TRUNCATED inside one.
 *
 * Slices. Start-line, header and trailer slices point into the parser's
 * line buffer; BODY slices point into buf (body bytes are never copied, a
 * multi-MB download streams through). All stay valid until the next call on
 * the parser (a BODY slice, as long as buf). The start line is kept for the
 * whole head: HEADERS_DONE and DONE repeat method, target and reason.
 *
 * Limits. A line (start line, field line, chunk-size line), its line end
 * included, is at most ESPAT_HTTP_LINE_MAX bytes; a longer one is ERROR
 * TOO_LONG, never truncated. Lengths (Content-Length, chunk sizes) go up to
 * INT64_MAX, more is ERROR OVERFLOW. The number of fields and the body size
 * are not limited here: a caller that wants a cap counts events and bytes.
 *
 * Decisions.
 *  - Line ends are CR LF or a bare LF (RFC 9112 2.2 allows it; sloppy
 *    servers exist). A CR elsewhere, or any control byte but HTAB, in a
 *    line is an error: such bytes are how requests get smuggled.
 *  - Empty lines before a start line are skipped (RFC 9112 2.2).
 *  - Only HTTP/1.0 and HTTP/1.1; other versions are ERROR VERSION.
 *  - obs-fold (a field line starting with SP or HTAB) and whitespace
 *    between a field name and its colon are ERROR HEADER (5.1, 5.2).
 *  - Interim 1xx responses are reported as messages of their own (STATUS,
 *    HEADERs, HEADERS_DONE, DONE, never a body) and the final response
 *    follows; a client that does not care skips messages with status < 200.
 *  - 101 Switching Protocols: its DONE has head.upgrade set, and the bytes
 *    after it belong to the new protocol: the parser takes no more (ERROR
 *    UPGRADED, consuming nothing).
 *  - Body framing (6.3): none for 1xx, 204, 304 and a response to HEAD
 *    (mode RESPONSE_TO_HEAD); else chunked when Transfer-Encoding ends in
 *    "chunked" (it wins over Content-Length, and then keep_alive is false);
 *    else Content-Length; else a response reads until close and a request
 *    has none. Transfer-Encoding not ending in chunked: a response reads
 *    until close, a request is ERROR TRANSFER_ENCODING. CONNECT is not
 *    special (no 2xx-to-CONNECT tunnel).
 *  - Content-Length: digits only; a list or repeat of one value ("5, 5")
 *    is that value, different values are ERROR CONTENT_LENGTH.
 *  - keep_alive: HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with
 *    "Connection: keep-alive"; never with a body read until close.
 *  - Chunk extensions are skipped; trailer fields are reported (TRAILER)
 *    but never change the framing.
 *  - ERROR is final: every later call returns it again, consuming nothing,
 *    until espat_http_parser_init(). */
#ifndef ESPAT_PROTO_HTTP_H
#define ESPAT_PROTO_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESPAT_HTTP_LINE_MAX 2048 /* bytes of one line, its line end included */

/* A non-owning slice of text; not NUL-terminated. */
struct espat_http_str {
	const char *s;
	size_t len;
};

enum espat_http_mode {
	ESPAT_HTTP_REQUEST,          /* parse requests (a server) */
	ESPAT_HTTP_RESPONSE,         /* parse responses (a client) */
	ESPAT_HTTP_RESPONSE_TO_HEAD, /* parse responses to HEAD: never a body */
};

enum espat_http_ev_type {
	ESPAT_HTTP_EV_NEED_MORE,    /* all input consumed, nothing to report */
	ESPAT_HTTP_EV_STATUS,       /* a status line: head.version/status/reason */
	ESPAT_HTTP_EV_REQUEST,      /* a request line: head.method/target/version */
	ESPAT_HTTP_EV_HEADER,       /* a field: name, value */
	ESPAT_HTTP_EV_HEADERS_DONE, /* the head is complete: all of head */
	ESPAT_HTTP_EV_BODY,         /* data[0..len) is body (never empty) */
	ESPAT_HTTP_EV_TRAILER,      /* a trailer field after the last chunk: name, value */
	ESPAT_HTTP_EV_DONE,         /* the message is complete: all of head */
	ESPAT_HTTP_EV_ERROR,        /* err says why; the parser is dead */
};

enum espat_http_err {
	ESPAT_HTTP_ERR_NONE,
	ESPAT_HTTP_ERR_START_LINE,        /* malformed status line or request line */
	ESPAT_HTTP_ERR_VERSION,           /* HTTP/x.y other than 1.0 and 1.1 */
	ESPAT_HTTP_ERR_HEADER,            /* malformed field line, obs-fold */
	ESPAT_HTTP_ERR_TOO_LONG,          /* a line longer than ESPAT_HTTP_LINE_MAX */
	ESPAT_HTTP_ERR_CONTENT_LENGTH,    /* not digits, or conflicting values */
	ESPAT_HTTP_ERR_OVERFLOW,          /* a length or chunk size past INT64_MAX */
	ESPAT_HTTP_ERR_TRANSFER_ENCODING, /* a request's coding not ending in chunked */
	ESPAT_HTTP_ERR_CHUNK_SIZE,        /* malformed chunk-size line */
	ESPAT_HTTP_ERR_CHUNK_END,         /* chunk data not followed by a line end */
	ESPAT_HTTP_ERR_TRUNCATED,         /* eof inside a message */
	ESPAT_HTTP_ERR_UPGRADED,          /* fed after a 101 response */
};

enum espat_http_framing {
	ESPAT_HTTP_BODY_NONE,    /* no body */
	ESPAT_HTTP_BODY_LENGTH,  /* content_length bytes (maybe 0) */
	ESPAT_HTTP_BODY_CHUNKED, /* chunked transfer coding */
	ESPAT_HTTP_BODY_CLOSE,   /* until the connection closes (responses only) */
};

/* What the start line and the head say. STATUS and REQUEST set the start
 * line fields only; HEADERS_DONE and DONE set all of them. */
struct espat_http_head {
	int version;                  /* 10 or 11 */
	int status;                   /* response: 100..599; request: 0 */
	struct espat_http_str method; /* request: "GET", ... */
	struct espat_http_str target; /* request: "/path?q", as sent */
	struct espat_http_str reason; /* response: "OK", maybe empty */
	int64_t content_length;       /* -1 when absent or chunked; also set when
	                                 the framing ignores it (HEAD, 304) */
	enum espat_http_framing framing;
	bool keep_alive; /* the connection may carry another message */
	bool upgrade;    /* response: 101; request: "Connection: upgrade" */
};

/* One event; fields not named by the type are zero (content_length -1). */
struct espat_http_ev {
	enum espat_http_ev_type type;
	enum espat_http_err err;     /* ERROR: why */
	struct espat_http_str name;  /* HEADER, TRAILER: the field name as sent */
	struct espat_http_str value; /* HEADER, TRAILER: surrounding SP/HTAB trimmed */
	const uint8_t *data;         /* BODY: a slice of buf */
	size_t len;                  /* BODY: bytes in data, never 0 */
	struct espat_http_head head;
};

/* Parser states; internal, in the header only so the struct can live in
 * its owner without allocation. */
enum espat_http_state {
	ESPAT_HTTP_ST_START,       /* gathering a start line */
	ESPAT_HTTP_ST_HEADER,      /* gathering field lines */
	ESPAT_HTTP_ST_BODY_LENGTH, /* streaming a Content-Length body */
	ESPAT_HTTP_ST_BODY_CLOSE,  /* streaming a body until eof */
	ESPAT_HTTP_ST_CHUNK_SIZE,  /* gathering a chunk-size line */
	ESPAT_HTTP_ST_CHUNK_DATA,  /* streaming chunk data */
	ESPAT_HTTP_ST_CHUNK_END,   /* gathering the line end after chunk data */
	ESPAT_HTTP_ST_TRAILER,     /* gathering trailer lines */
	ESPAT_HTTP_ST_DONE,        /* DONE is due */
	ESPAT_HTTP_ST_ERROR,       /* final (err; also after a 101) */
};

struct espat_http_parser {
	enum espat_http_mode mode;
	enum espat_http_state state;
	enum espat_http_err err;
	/* The start line (line end stripped) at buf[0..base), then the line
	 * being gathered at buf[base..base + line_len). */
	char buf[2 * ESPAT_HTTP_LINE_MAX];
	size_t base;
	size_t line_len;
	/* the message so far */
	int version;
	int status;
	size_t method_len; /* request: the method at buf[0..method_len) */
	size_t target_len; /* request: the target follows it and a SP */
	int64_t content_length;
	enum espat_http_framing framing;
	uint64_t remaining; /* body bytes left: of the Content-Length body or the chunk */
	bool te_seen;       /* a Transfer-Encoding coding was given */
	bool te_chunked;    /* ... and the last one was chunked */
	bool conn_close;    /* Connection: close */
	bool conn_keep;     /* Connection: keep-alive */
	bool conn_upgrade;  /* Connection: upgrade */
	bool keep_alive;
	bool upgrade;
};

void espat_http_parser_init(struct espat_http_parser *p, enum espat_http_mode mode);

/* Changes what the next responses answer (RESPONSE or RESPONSE_TO_HEAD), for
 * a client that sends HEAD and GET on one connection. Takes effect at the
 * next HEADERS_DONE; call it before feeding the response's last head byte. */
void espat_http_set_mode(struct espat_http_parser *p, enum espat_http_mode mode);

/* Consumes bytes of buf and sets *ev; see the contract above. Never returns
 * more than len. Only NEED_MORE, DONE and ERROR may consume nothing;
 * NEED_MORE consumes all of buf. buf may be NULL when len is 0. */
size_t espat_http_feed(struct espat_http_parser *p, const uint8_t *buf, size_t len,
                       struct espat_http_ev *ev);

/* The connection closed: sets *ev to DONE (a body read until close, or a
 * message whose DONE was still due), NEED_MORE (between messages) or ERROR
 * (TRUNCATED inside a message, or the earlier error). After DONE or
 * NEED_MORE the parser waits for a new message as after init. */
void espat_http_eof(struct espat_http_parser *p, struct espat_http_ev *ev);

/* A short English name of err, for logs. */
const char *espat_http_err_str(enum espat_http_err err);

/* Does s equal the NUL-terminated lit, ignoring ASCII case? For field
 * names: espat_http_str_ieq(ev.name, "content-type"). */
bool espat_http_str_ieq(struct espat_http_str s, const char *lit);

/* ---- writers ------------------------------------------------------------ */

/* Each writer puts its text, NUL-terminated, into buf and returns its length
 * without the NUL; or 0 when it does not fit in cap or a field is bad. It
 * never truncates. Header lines are "Name: value" without CR LF; a control
 * character (HTAB aside) in one, or a line without a "name:" start, is bad:
 * no caller can smuggle a line end into a head. */

/* A request head: "METHOD target HTTP/1.1", "Host: host[:port]", the header
 * lines, "Content-Length: n" when content_length >= 0, an empty line.
 * method is a token; target an origin-form (an empty one, or one starting
 * with '?', gets a leading '/', so a URL's path goes in as it is); host a
 * name or address without brackets (an IPv6 one gets them); port 0 leaves
 * it out (the scheme's default). Bad: SP, HTAB or a control byte in target or
 * host, an empty host. */
size_t espat_http_write_request(char *buf, size_t cap, const char *method,
                                struct espat_http_str target, struct espat_http_str host,
                                uint16_t port, const char *const *headers, size_t n_headers,
                                int64_t content_length);

/* A response head: "HTTP/1.1 status reason", the header lines,
 * "Content-Length: n" when content_length >= 0, an empty line. For a
 * chunked body pass "Transfer-Encoding: chunked" and -1. Bad: a status
 * outside 100..599. */
size_t espat_http_write_response(char *buf, size_t cap, int status, const char *const *headers,
                                 size_t n_headers, int64_t content_length);

/* The reason phrase of status (RFC 9110), or "" for a code not in the
 * table. */
const char *espat_http_reason(int status);

/* A chunk-size line, "<hex>\r\n". The chunk's data and "\r\n" follow; a
 * chunked body ends with the line for 0 and "\r\n" (no trailers). */
size_t espat_http_write_chunk_head(char *buf, size_t cap, uint64_t size);

/* ---- URLs --------------------------------------------------------------- */

enum espat_http_scheme {
	ESPAT_HTTP_SCHEME_HTTP,  /* default port 80 */
	ESPAT_HTTP_SCHEME_HTTPS, /* 443 */
	ESPAT_HTTP_SCHEME_WS,    /* 80 */
	ESPAT_HTTP_SCHEME_WSS,   /* 443 */
};

/* A URL split into slices of the text given to espat_http_url_parse(). */
struct espat_http_url {
	enum espat_http_scheme scheme;
	struct espat_http_str userinfo; /* before '@' ("user:pass"), maybe empty */
	struct espat_http_str host;     /* an IPv6 literal without its brackets */
	uint16_t port;                  /* given, else the scheme's default */
	bool port_given;                /* the URL named the port */
	struct espat_http_str target;   /* path and query, "#fragment" dropped;
	                                   "/" (static) when both are empty */
	bool tls;                       /* https or wss */
};

/* Splits scheme://[userinfo@]host[:port][/path][?query][#fragment] of
 * url[0..len). The scheme (any case) is http, https, ws or wss; host is a
 * name, an IPv4 address or a bracketed IPv6 literal (no zone id), never
 * empty; a port is 1..65535 and, after a ':', not empty. False on anything
 * else, and on SP, HTAB or a control byte anywhere. */
bool espat_http_url_parse(const char *url, size_t len, struct espat_http_url *u);

#endif
