/* The HTTP client commands (guide 3.6); see cmd/http.h. One request runs at
 * a time: the command is pending (other input gets busy p...) until the
 * response has streamed out and the final result is printed. */
#include "cmd/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/params.h"
#include "cmd/tcpip.h"
#include "cmd/tcpip_ssl.h"
#include "cmd/wifi.h"
#include "proto/http.h"

#define USER_AGENT "User-Agent: ESP32 HTTP Client/1.0"
#define FORM_TYPE "Content-Type: application/x-www-form-urlencoded"

/* "Failed to Establish Connection" and 0x7000 + an HTTP status (guide
 * 3.6.9), as the extension of "execution failed" (COMPAT 131). */
#define ERR_HTTP(x) espat_err(ESPAT_SUB_EXEC_FAIL, 0x7000u + (uint32_t)(x))

static struct espat_http *H(struct espat_module *m)
{
	return m->http;
}

static struct espat_engine *E(struct espat_module *m)
{
	return &m->eng;
}

static enum espat_rc fail(struct espat_module *m, uint32_t code)
{
	return espat_fail(E(m), code);
}

static const char *tag_of(enum espat_httpcmd_op op)
{
	switch (op) {
	case ESPAT_HTTPCMD_GETSIZE:
		return "+HTTPGETSIZE";
	case ESPAT_HTTPCMD_CGET:
		return "+HTTPCGET";
	case ESPAT_HTTPCMD_CPOST:
		return "+HTTPCPOST";
	case ESPAT_HTTPCMD_CPUT:
		return "+HTTPCPUT";
	default:
		return "+HTTPCLIENT";
	}
}

static bool sends_data(enum espat_httpcmd_op op)
{
	return op == ESPAT_HTTPCMD_CPOST || op == ESPAT_HTTPCMD_CPUT;
}

/* ---- request headers ------------------------------------------------------------ */

/* The header lines of one request, borrowed: later lines replace earlier
 * ones of the same name (defaults, then the command's, then AT+HTTPCHEAD). */
struct hlist {
	const char *v[ESPAT_HTTPC_HEADERS_MAX];
	size_t n;
};

/* The length of line's field name ("Name: value"); 0 when it is no header
 * line (no name, a byte that cannot be in a name, or a control byte). */
static size_t name_len(const char *line, size_t len)
{
	size_t k = 0;
	while (k < len && line[k] != ':') {
		unsigned char c = (unsigned char)line[k];
		if (c <= ' ' || c >= 0x7f || strchr("\"(),/;<=>?@[\\]{}", c))
			return 0;
		k++;
	}
	if (k == 0 || k == len)
		return 0;
	for (size_t i = k; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < ' ' && c != '\t') || c == 0x7f)
			return 0;
	}
	return k;
}

static bool same_name(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

/* The index in v[0..n) of the header line named as line's first k bytes
 * (case-insensitively), or -1. */
static long header_index(const char *const *v, size_t n, const char *line, size_t k)
{
	for (size_t i = 0; i < n; i++)
		if (name_len(v[i], strlen(v[i])) == k && same_name(v[i], line, k))
			return (long)i;
	return -1;
}

/* Adds a NUL-terminated line; false when it is no header line or the list
 * is full. Host and Content-Length are the module's (URL, body): a given
 * one is dropped (COMPAT 128). */
static bool hl_put(struct hlist *l, const char *line)
{
	size_t k = name_len(line, strlen(line));
	if (k == 0)
		return false;
	struct espat_http_str name = {line, k};
	if (espat_http_str_ieq(name, "host") || espat_http_str_ieq(name, "content-length"))
		return true;
	long i = header_index(l->v, l->n, line, k);
	if (i >= 0) {
		l->v[i] = line;
		return true;
	}
	if (l->n == ESPAT_HTTPC_HEADERS_MAX)
		return false;
	l->v[l->n++] = line;
	return true;
}

static bool hl_globals(struct espat_http *h, struct hlist *l)
{
	for (size_t i = 0; i < h->nheads; i++)
		if (!hl_put(l, h->heads[i]))
			return false;
	return true;
}

/* ---- the exchange ------------------------------------------------------------------ */

static const struct espat_httpc_cbs cbs;

/* Writes one record, "<tag>:<n>,<data>" CR LF, as one message (so
 * AT+SYSMSGFILTER sees it whole). */
static void record(struct espat_module *m, const char *a, size_t an, const char *b, size_t bn)
{
	struct espat_http *h = H(m);
	int k = snprintf((char *)h->rec, h->rec_cap, "%s:%zu,", tag_of(h->op), an + bn);
	if (k < 0 || (size_t)k + an + bn + 2 > h->rec_cap)
		return;
	memcpy(h->rec + k, a, an);
	if (bn)
		memcpy(h->rec + k + an, b, bn);
	memcpy(h->rec + k + an + bn, "\r\n", 2);
	espat_wr_msg(&m->wr, h->rec, (size_t)k + an + bn + 2);
}


/* The UART is behind: hold the response back until ESPAT_EV_TX_ROOM. */
static void hold_check(struct espat_module *m)
{
	struct espat_http *h = H(m);
	if (!h->held && espat_module_tx_queued(m) > ESPAT_TX_HIGH) {
		h->held = true;
		espat_httpc_pause(&h->hc, true);
	}
}

static void on_header(void *user, struct espat_http_str name, struct espat_http_str value)
{
	struct espat_module *m = user;
	struct espat_http *h = H(m);
	/* AT+HTTPCLIENT's HEAD prints the response's head, line by line */
	if (h->op != ESPAT_HTTPCMD_CLIENT || !h->head)
		return;
	char line[ESPAT_HTTP_LINE_MAX + 4];
	int k = snprintf(line, sizeof(line), "%.*s: ", (int)name.len, name.s);
	if (k < 0 || (size_t)k >= sizeof(line))
		return;
	record(m, line, (size_t)k, value.s, value.len);
}

static void on_status(void *user, int status, int64_t length)
{
	struct espat_http *h = H(user);
	h->status = status;
	h->length = length;
}

static void on_body(void *user, const uint8_t *p, size_t n)
{
	struct espat_module *m = user;
	struct espat_http *h = H(m);
	if (h->op == ESPAT_HTTPCMD_GETSIZE)
		return;
	while (n) {
		size_t k = n < h->rec_max ? n : h->rec_max;
		record(m, (const char *)p, k, NULL, 0);
		p += k;
		n -= k;
	}
	hold_check(m);
}

/* Ends the request's bookkeeping; the exchange itself is over. */
static void end(struct espat_http *h)
{
	h->op = ESPAT_HTTPCMD_NONE;
	free(h->rec);
	h->rec = NULL;
	h->held = false;
}

/* A request that failed (err: an espat_net_err) or got status >= 400. */
static void finish_failed(struct espat_module *m, enum espat_httpcmd_op op, int status)
{
	if (status >= 400) { /* also for AT+HTTPCPOST/CPUT: esp-at#827 (COMPAT 131) */
		espat_engine_complete(E(m), fail(m, ERR_HTTP(status)));
	} else if (sends_data(op)) {
		espat_wr_result(&m->wr, "SEND FAIL");
		espat_engine_complete(E(m), ESPAT_RC_DONE);
	} else {
		espat_engine_complete(E(m), fail(m, ERR_HTTP(0)));
	}
}

static void on_done(void *user, int err)
{
	struct espat_module *m = user;
	struct espat_http *h = H(m);
	enum espat_httpcmd_op op = h->op;
	int status = h->status;
	int64_t length = h->length;
	end(h);
	if (err) {
		finish_failed(m, op, 0);
		return;
	}
	if (status >= 400) {
		finish_failed(m, op, status);
		return;
	}
	switch (op) {
	case ESPAT_HTTPCMD_GETSIZE:
		if (length < 0) { /* chunked or until close: no size (COMPAT 125) */
			espat_engine_complete(E(m), fail(m, ERR_HTTP(0)));
			return;
		}
		espat_wr_linef(&m->wr, "+HTTPGETSIZE:%lld", (long long)length);
		espat_engine_complete(E(m), ESPAT_RC_OK);
		return;
	case ESPAT_HTTPCMD_CPOST:
	case ESPAT_HTTPCMD_CPUT:
		espat_wr_result(&m->wr, "SEND OK");
		espat_engine_complete(E(m), ESPAT_RC_DONE);
		return;
	default:
		espat_engine_complete(E(m), ESPAT_RC_OK);
		return;
	}
}

static const struct espat_httpc_cbs cbs = {
    .status = on_status,
    .body = on_body,
    .done = on_done,
    .header = on_header,
};

/* One request's parameters. */
struct req {
	enum espat_httpcmd_op op;
	const char *method;
	const char *url;
	size_t url_len;
	const struct hlist *hl;
	const uint8_t *body;
	size_t body_len;
	bool send_length; /* Content-Length, also 0 */
	size_t rec_max;   /* data bytes per record */
	uint32_t timeout_ms;
};

/* Starts the request: 0 (the answer follows) or an espat_net_err. */
static int begin(struct espat_module *m, const struct req *q)
{
	struct espat_http *h = H(m);
	h->rec_max = q->rec_max;
	h->rec_cap = (q->rec_max > ESPAT_HTTP_LINE_MAX ? q->rec_max : ESPAT_HTTP_LINE_MAX) + 48;
	h->rec = malloc(h->rec_cap);
	if (!h->rec)
		return ESPAT_NET_ENOMEM;
	h->op = q->op;
	h->head = strcmp(q->method, "HEAD") == 0;
	h->status = 0;
	h->length = -1;
	h->held = false;
	/* https as AT+CIPSSLCCONF set link 0 (COMPAT 127): no checks by default */
	struct espat_conn_tls tls;
	espat_ssl_conn_tls(m, 0, &tls);
	struct espat_httpc_req r = {
	    .method = q->method,
	    .url = q->url,
	    .url_len = q->url_len,
	    .headers = q->hl->v,
	    .nheaders = q->hl->n,
	    .body = q->body,
	    .body_len = q->body_len,
	    .send_length = q->send_length,
	    .tls = &tls,
	    .timeout_ms = q->timeout_ms,
	    .idle_ms = q->timeout_ms,
	};
	int err = 0;
	if (espat_httpc_start(&h->hc, m, &r, &cbs, m, &err) < 0) {
		end(h);
		return err ? err : ESPAT_NET_EIO;
	}
	return 0;
}

/* A URL the client can fetch: http:// or https://. */
static bool url_ok(const char *s, size_t n)
{
	struct espat_http_url u;
	return n > 0 && espat_http_url_parse(s, n, &u) &&
	       (u.scheme == ESPAT_HTTP_SCHEME_HTTP || u.scheme == ESPAT_HTTP_SCHEME_HTTPS);
}

/* The URL argument at index i, or the AT+HTTPURLCFG one for "" (or none):
 * false when neither is there or it cannot be fetched. */
static bool pick_url(struct espat_module *m, const struct espat_args *a, size_t i, const char **s,
                     size_t *n)
{
	struct espat_http *h = H(m);
	if (i < a->n && a->v[i].kind == ESPAT_ARG_STR && a->v[i].len > 0) {
		*s = a->v[i].s;
		*n = a->v[i].len;
	} else if (h->url) {
		*s = h->url;
		*n = h->url_len;
	} else {
		return false;
	}
	return url_ok(*s, *n);
}

/* ---- AT+HTTPCLIENT ---------------------------------------------------------------- */

#define CLIENT_FIXED 6 /* opt, content-type, url, host, path, transport_type */

static const struct espat_param p_client[] = {
    /* clang-format off */
    P_INT("opt", 1, 5),
    P_INT("content-type", 0, 3),
    P_STR_OPT("url", ESPAT_LINE_MAX),
    P_STR_OPT("host", ESPAT_LINE_MAX),
    P_STR_OPT("path", ESPAT_LINE_MAX),
    P_INT("transport_type", 1, 2),
#define HDR P_STR_OPT("http_req_header", ESPAT_LINE_MAX)
    HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR,
    HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR,
    /* clang-format on */
};

static const char *const methods[] = {"", "HEAD", "GET", "POST", "PUT", "DELETE"};
static const char *const content_types[] = {
    FORM_TYPE,
    "Content-Type: application/json",
    "Content-Type: multipart/form-data",
    "Content-Type: text/xml",
};

static const char *str_arg(const struct espat_args *a, size_t i, size_t *len)
{
	if (i < a->n && a->v[i].kind == ESPAT_ARG_STR) {
		*len = a->v[i].len;
		return a->v[i].s;
	}
	*len = 0;
	return "";
}

static enum espat_rc client_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_http *h = H(m);
	int opt = (int)a->v[0].i;
	/* the URL: <"url">, else the AT+HTTPURLCFG one, else host and path
	 * with the scheme of <transport_type> (COMPAT 122) */
	char built[2 * ESPAT_LINE_MAX + 16];
	const char *url;
	size_t url_len, ul, hl_, pl;
	const char *host = str_arg(a, 3, &hl_), *path = str_arg(a, 4, &pl);
	str_arg(a, 2, &ul);
	if (ul > 0 || h->url) {
		if (!pick_url(m, a, 2, &url, &url_len))
			return fail(m, ESPAT_ERR_INVALID(2));
	} else {
		if (hl_ == 0)
			return fail(m, ESPAT_ERR_INVALID(3));
		int k = snprintf(built, sizeof(built), "%s://%.*s%s%.*s",
		                 a->v[5].i == 2 ? "https" : "http", (int)hl_, host,
		                 pl > 0 && path[0] == '/' ? "" : "/", (int)pl, path);
		if (k < 0 || (size_t)k >= sizeof(built) || !url_ok(built, (size_t)k))
			return fail(m, ESPAT_ERR_INVALID(3));
		url = built;
		url_len = (size_t)k;
	}
	/* <"data"> only for POST; the rest are header lines (COMPAT 123) */
	size_t first = CLIENT_FIXED;
	size_t blen = 0;
	const char *body = "";
	if (opt == 3) {
		body = str_arg(a, CLIENT_FIXED, &blen);
		first++;
	}
	struct hlist l = {.n = 0};
	hl_put(&l, USER_AGENT);
	hl_put(&l, content_types[a->v[1].i]);
	for (size_t i = first; i < a->n; i++)
		if (a->v[i].kind == ESPAT_ARG_STR && !hl_put(&l, a->v[i].s))
			return fail(m, ESPAT_ERR_INVALID(i));
	if (!hl_globals(h, &l))
		return fail(m, ERR_HTTP(0));
	struct req q = {
	    .op = ESPAT_HTTPCMD_CLIENT,
	    .method = methods[opt],
	    .url = url,
	    .url_len = url_len,
	    .hl = &l,
	    .body = (const uint8_t *)body,
	    .body_len = blen,
	    .send_length = opt >= 3, /* POST, PUT, DELETE (COMPAT 124) */
	    .rec_max = ESPAT_HTTPCMD_CLIENT_REC,
	    .timeout_ms = ESPAT_HTTPCMD_TIMEOUT_DEFAULT,
	};
	if (begin(m, &q) != 0)
		return fail(m, ERR_HTTP(0));
	return ESPAT_RC_PENDING;
}

/* ---- AT+HTTPGETSIZE, AT+HTTPCGET ---------------------------------------------------- */

static const struct espat_param p_get[] = {
    P_STR("url", ESPAT_LINE_MAX),
    P_INT_OPT("tx size", 0, ESPAT_HTTPCMD_BUF_MAX),
    P_INT_OPT("rx size", 0, ESPAT_HTTPCMD_BUF_MAX),
    P_INT_OPT("timeout", 0, ESPAT_HTTPCMD_TIMEOUT_MAX),
};

static int64_t int_or(const struct espat_args *a, size_t i, int64_t dflt)
{
	return i < a->n && a->v[i].kind == ESPAT_ARG_INT ? a->v[i].i : dflt;
}

static enum espat_rc get_common(struct espat_module *m, const struct espat_args *a,
                                enum espat_httpcmd_op op)
{
	struct espat_http *h = H(m);
	const char *url;
	size_t url_len;
	if (!pick_url(m, a, 0, &url, &url_len))
		return fail(m, ESPAT_ERR_INVALID(0));
	struct hlist l = {.n = 0};
	hl_put(&l, USER_AGENT);
	if (!hl_globals(h, &l))
		return fail(m, ERR_HTTP(0));
	/* 0 is esp_http_client's defaults: a 512-byte buffer, 5 s (COMPAT 126) */
	int64_t rx = int_or(a, 2, ESPAT_HTTPCMD_BUF_DEFAULT);
	int64_t to = int_or(a, 3, ESPAT_HTTPCMD_TIMEOUT_DEFAULT);
	struct req q = {
	    .op = op,
	    .method = op == ESPAT_HTTPCMD_GETSIZE ? "HEAD" : "GET",
	    .url = url,
	    .url_len = url_len,
	    .hl = &l,
	    .rec_max = rx > 0 ? (size_t)rx : ESPAT_HTTPCMD_CLIENT_REC,
	    .timeout_ms = to > 0 ? (uint32_t)to : ESPAT_HTTPCMD_TIMEOUT_DEFAULT,
	};
	if (begin(m, &q) != 0)
		return fail(m, ERR_HTTP(0));
	return ESPAT_RC_PENDING;
}

static enum espat_rc getsize_set(struct espat_module *m, const struct espat_args *a)
{
	return get_common(m, a, ESPAT_HTTPCMD_GETSIZE);
}

static enum espat_rc cget_set(struct espat_module *m, const struct espat_args *a)
{
	return get_common(m, a, ESPAT_HTTPCMD_CGET);
}

/* ---- data entry: AT+HTTPCPOST, AT+HTTPCPUT, AT+HTTPURLCFG, AT+HTTPCHEAD ----------------- */

static void pending_free(struct espat_http *h)
{
	free(h->ebuf);
	h->ebuf = NULL;
	h->elen = h->egot = 0;
	h->entry = ESPAT_HTTPCMD_ENTRY_NONE;
	free(h->purl);
	h->purl = NULL;
	for (size_t i = 0; i < h->nphdr; i++)
		free(h->phdr[i]);
	h->nphdr = 0;
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* Adds or replaces (same name) an AT+HTTPCHEAD header; takes line. */
static bool global_put(struct espat_http *h, char *line)
{
	size_t k = name_len(line, strlen(line));
	if (k == 0)
		return false;
	long i = header_index((const char *const *)h->heads, h->nheads, line, k);
	if (i >= 0) {
		free(h->heads[i]);
		h->heads[i] = line;
		return true;
	}
	if (h->nheads == ESPAT_HTTPCMD_HEADS_MAX)
		return false;
	h->heads[h->nheads++] = line;
	return true;
}

/* The body is in: the request goes out, or SEND FAIL. */
static enum espat_rc body_in(struct espat_module *m)
{
	struct espat_http *h = H(m);
	struct hlist l = {.n = 0};
	hl_put(&l, USER_AGENT);
	hl_put(&l, FORM_TYPE); /* the default of both (COMPAT 124) */
	bool ok = true;
	for (size_t i = 0; i < h->nphdr; i++)
		ok = ok && hl_put(&l, h->phdr[i]);
	ok = ok && hl_globals(h, &l);
	struct req q = {
	    .op = h->pop,
	    .method = h->pop == ESPAT_HTTPCMD_CPUT ? "PUT" : "POST",
	    .url = h->purl,
	    .url_len = strlen(h->purl),
	    .hl = &l,
	    .body = h->ebuf,
	    .body_len = h->elen,
	    .send_length = true,
	    .rec_max = ESPAT_HTTPCMD_CLIENT_REC,
	    .timeout_ms = ESPAT_HTTPCMD_TIMEOUT_DEFAULT,
	};
	int err = ok ? begin(m, &q) : ESPAT_NET_EINVAL; /* the request has its own copy */
	pending_free(h);
	if (err) {
		espat_wr_result(&m->wr, "SEND FAIL");
		return ESPAT_RC_DONE;
	}
	return ESPAT_RC_PENDING;
}

static enum espat_rc entry_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_http *h = H(m);
	if (h->ebuf && h->egot + n <= h->elen) {
		memcpy(h->ebuf + h->egot, p, n);
		h->egot += n;
	}
	if (!last)
		return ESPAT_RC_PENDING;
	enum espat_httpcmd_entry what = h->entry;
	if (h->egot != h->elen) { /* cannot happen: the engine counts */
		pending_free(h);
		return fail(m, ESPAT_ERR_EXEC);
	}
	switch (what) {
	case ESPAT_HTTPCMD_ENTRY_URL: {
		char *u = dup_n((const char *)h->ebuf, h->elen);
		size_t len = h->elen;
		pending_free(h);
		if (!u)
			return fail(m, ESPAT_ERR_EXEC);
		free(H(m)->url);
		H(m)->url = u;
		H(m)->url_len = len;
		espat_wr_result(&m->wr, "SET OK");
		return ESPAT_RC_DONE;
	}
	case ESPAT_HTTPCMD_ENTRY_HEAD: {
		size_t len = h->elen;
		char *line = dup_n((const char *)h->ebuf, len);
		pending_free(h);
		if (!line || strlen(line) != len || !global_put(h, line)) { /* a NUL is no header */
			free(line);
			return fail(m, ESPAT_ERR_INVALID(0));
		}
		return ESPAT_RC_OK;
	}
	case ESPAT_HTTPCMD_ENTRY_BODY:
		return body_in(m);
	default:
		pending_free(h);
		return fail(m, ESPAT_ERR_EXEC);
	}
}

/* A guarded +++ while the body is typed: nothing is sent. */
static enum espat_rc entry_escape(struct espat_module *m)
{
	pending_free(H(m));
	return fail(m, ESPAT_ERR_EXEC);
}

/* Takes len bytes after ">"; false without memory. */
static bool entry_start(struct espat_module *m, enum espat_httpcmd_entry what, size_t len)
{
	struct espat_http *h = H(m);
	h->ebuf = malloc(len);
	if (!h->ebuf)
		return false;
	h->entry = what;
	h->elen = len;
	h->egot = 0;
	espat_engine_expect_data(E(m), len, entry_data);
	return true;
}

static const struct espat_param p_post[] = {
    /* clang-format off */
    P_STR("url", ESPAT_LINE_MAX),
    P_INT("length", 1, ESPAT_HTTPCMD_BODY_MAX),
    P_INT_OPT("http_req_header_cnt", 0, ESPAT_HTTPCMD_ARGS_HEADERS),
    HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR,
    HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR, HDR,
    HDR, HDR, HDR,
    /* clang-format on */
};

static enum espat_rc post_common(struct espat_module *m, const struct espat_args *a,
                                 enum espat_httpcmd_op op)
{
	struct espat_http *h = H(m);
	const char *url;
	size_t url_len;
	if (!pick_url(m, a, 0, &url, &url_len))
		return fail(m, ESPAT_ERR_INVALID(0));
	/* <http_req_header_cnt> counts the header arguments that follow */
	size_t given = a->n > 3 ? a->n - 3 : 0;
	if ((size_t)int_or(a, 2, 0) != given)
		return fail(m, ESPAT_ERR_INVALID(2));
	struct hlist check = {.n = 0};
	for (size_t i = 3; i < a->n; i++)
		if (a->v[i].kind != ESPAT_ARG_STR || !hl_put(&check, a->v[i].s))
			return fail(m, ESPAT_ERR_INVALID(i));
	pending_free(h);
	h->pop = op;
	h->purl = dup_n(url, url_len);
	bool ok = h->purl != NULL;
	for (size_t i = 3; ok && i < a->n; i++) {
		h->phdr[h->nphdr] = dup_n(a->v[i].s, a->v[i].len);
		ok = h->phdr[h->nphdr++] != NULL;
	}
	if (!ok || !entry_start(m, ESPAT_HTTPCMD_ENTRY_BODY, (size_t)a->v[1].i)) {
		pending_free(h);
		return fail(m, ESPAT_ERR_EXEC);
	}
	espat_engine_data_escape(E(m), entry_escape);
	return ESPAT_RC_OK_PROMPT;
}

static enum espat_rc cpost_set(struct espat_module *m, const struct espat_args *a)
{
	return post_common(m, a, ESPAT_HTTPCMD_CPOST);
}

static enum espat_rc cput_set(struct espat_module *m, const struct espat_args *a)
{
	return post_common(m, a, ESPAT_HTTPCMD_CPUT);
}

/* ---- AT+HTTPURLCFG ------------------------------------------------------------------ */

static const struct espat_param p_urlcfg[] = {
    P_INT("url_length", 0, ESPAT_HTTPCMD_URL_MAX),
};

static enum espat_rc urlcfg_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_http *h = H(m);
	if (h->url)
		espat_wr_linef(&m->wr, "+HTTPURLCFG:%zu,%s", h->url_len, h->url);
	return ESPAT_RC_OK;
}

static enum espat_rc urlcfg_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_http *h = H(m);
	size_t len = (size_t)a->v[0].i;
	if (len == 0) {
		free(h->url);
		h->url = NULL;
		h->url_len = 0;
		return ESPAT_RC_OK;
	}
	if (len < ESPAT_HTTPCMD_URL_MIN)
		return fail(m, ESPAT_ERR_INVALID(0));
	pending_free(h);
	if (!entry_start(m, ESPAT_HTTPCMD_ENTRY_URL, len))
		return fail(m, ESPAT_ERR_EXEC);
	return ESPAT_RC_OK_PROMPT;
}

/* ---- AT+HTTPCHEAD ------------------------------------------------------------------- */

static const struct espat_param p_chead[] = {
    P_INT("req_header_len", 0, ESPAT_HTTPCMD_HEAD_MAX),
};

static enum espat_rc chead_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_http *h = H(m);
	for (size_t i = 0; i < h->nheads; i++)
		espat_wr_linef(&m->wr, "+HTTPCHEAD:%zu,\"%s\"", i, h->heads[i]);
	return ESPAT_RC_OK;
}

static void heads_clear(struct espat_http *h)
{
	for (size_t i = 0; i < h->nheads; i++)
		free(h->heads[i]);
	h->nheads = 0;
}

static enum espat_rc chead_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_http *h = H(m);
	size_t len = (size_t)a->v[0].i;
	if (len == 0) {
		heads_clear(h);
		return ESPAT_RC_OK;
	}
	pending_free(h);
	if (!entry_start(m, ESPAT_HTTPCMD_ENTRY_HEAD, len))
		return fail(m, ESPAT_ERR_EXEC);
	return ESPAT_RC_OK_PROMPT;
}

/* ---- table, lifecycle ------------------------------------------------------------------ */

static const struct espat_cmd http_rows[] = {
    {.name = "+HTTPCLIENT",
     .set = client_set,
     .params = p_client,
     .nparams = N(p_client),
     .help = "Send HTTP Client Request"},
    {.name = "+HTTPGETSIZE",
     .set = getsize_set,
     .params = p_get,
     .nparams = N(p_get),
     .help = "Get HTTP Resource Size"},
    {.name = "+HTTPCGET",
     .set = cget_set,
     .params = p_get,
     .nparams = N(p_get),
     .help = "Get HTTP Resource"},
    {.name = "+HTTPCPOST",
     .set = cpost_set,
     .params = p_post,
     .nparams = N(p_post),
     .help = "Post HTTP data of specified length"},
    {.name = "+HTTPCPUT",
     .set = cput_set,
     .params = p_post,
     .nparams = N(p_post),
     .help = "Put HTTP data of specified length"},
    {.name = "+HTTPURLCFG",
     .query = urlcfg_query,
     .set = urlcfg_set,
     .params = p_urlcfg,
     .nparams = N(p_urlcfg),
     .help = "Set/Get long HTTP URL"},
    {.name = "+HTTPCHEAD",
     .query = chead_query,
     .set = chead_set,
     .params = p_chead,
     .nparams = N(p_chead),
     .help = "Set/Query HTTP request headers"},
};

static const struct espat_cmd_table http_table = {
    .family = "http",
    .rows = http_rows,
    .n = sizeof(http_rows) / sizeof(http_rows[0]),
};

static void http_event(struct espat_module *m, enum espat_event ev)
{
	struct espat_http *h = H(m);
	if (h->op == ESPAT_HTTPCMD_NONE)
		return;
	if (ev == ESPAT_EV_TX_ROOM && h->held && espat_module_tx_queued(m) <= ESPAT_TX_HIGH) {
		h->held = false;
		espat_httpc_pause(&h->hc, false);
	} else if (ev == ESPAT_EV_NET_CHANGED && !espat_wifi_online(m)) {
		/* the way out is gone: the request fails as a dead socket would */
		espat_httpc_cancel(&h->hc);
		on_done(m, ESPAT_NET_EUNREACH);
	}
}

static void http_free(struct espat_module *m)
{
	struct espat_http *h = H(m);
	espat_httpc_cancel(&h->hc);
	end(h);
	pending_free(h);
	heads_clear(h);
	free(h->url);
	h->url = NULL;
}

const struct espat_family espat_http_family = {
    .name = "http",
    .table = &http_table,
    .state_size = sizeof(struct espat_http),
    .state_slot = offsetof(struct espat_module, http),
    .free = http_free,
    .events = ESPAT_EV(ESPAT_EV_NET_CHANGED) | ESPAT_EV(ESPAT_EV_TX_ROOM),
    .on_event = http_event,
};
