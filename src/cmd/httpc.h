/* The module's HTTP/1.1 client: one request and its response over the
 * client-connection service (cmd/conn.h), spoken with the HTTP codec
 * (proto/http.h). Every family that fetches over HTTP uses it (OTA today;
 * the HTTP client commands next), so the module's network view applies:
 * Wi-Fi state, its DNS servers, the world's faults, TLS as ESP-AT sets it.
 *
 * An exchange lives in its owner (struct espat_httpc, no allocation but
 * the request's bytes) and ends with exactly one done(). Callbacks come in
 * order: phase(RESOLVED) (also for a literal address, as a device on the
 * wire meets its milestones), phase(CONNECTED) once the connection (and
 * TLS) is up and the request goes out, header() per field of the final
 * response (when given), status() once for the final response (interim
 * 1xx responses are skipped), body() pieces, done().
 * Nothing runs from inside espat_httpc_start(). The owner may cancel at any
 * time, also from inside a callback: nothing of the exchange runs after.
 *
 * The response may be held back (espat_httpc_pause(): the owner's output is
 * full) and, with idle_ms, the exchange fails when the server goes quiet.
 *
 * One request per connection ("Connection: close" is not sent, but the
 * connection closes once the response is complete): redirects are not
 * followed, bodies are not decoded (a 3xx or a gzip body is the owner's
 * business). */
#ifndef ESPAT_CMD_HTTPC_H
#define ESPAT_CMD_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/conn.h"
#include "cmd/family.h"
#include "core/timers.h"
#include "proto/http.h"

#define ESPAT_HTTPC_HEADERS_MAX 64 /* extra request header lines */

enum espat_httpc_phase {
	ESPAT_HTTPC_RESOLVED,  /* the server's address is known */
	ESPAT_HTTPC_CONNECTED, /* connected (TLS up): the request goes out */
};

struct espat_httpc_cbs {
	void (*phase)(void *user, enum espat_httpc_phase ph); /* may be NULL */
	/* The final response's status and Content-Length (-1: not given, or
	 * chunked; a response to HEAD gives the length a GET would get). */
	void (*status)(void *user, int status, int64_t length);
	/* A piece of the body, valid during the call. */
	void (*body)(void *user, const uint8_t *p, size_t n);
	/* The end: 0 when the whole response came; else an enum
	 * espat_net_err: the connection's failure (ENOTFOUND, EREFUSED,
	 * ETIMEDOUT, ETLS, ECERT, ...), ERESET when it broke during the
	 * response, EIO for a response the codec refuses or one cut short by
	 * a close. */
	void (*done)(void *user, int err);
	/* NULL, or each field line of the final response's head, in order,
	 * before status(); the slices are valid during the call. */
	void (*header)(void *user, struct espat_http_str name, struct espat_http_str value);
};

struct espat_httpc_req {
	const char *method;                /* a token: "GET", "HEAD", "POST", ... */
	const char *url;                   /* http:// or https:// (proto/http.h's splitter) */
	size_t url_len;
	const char *const *headers;        /* "Name: value" lines, without CR LF */
	size_t nheaders;                   /* at most ESPAT_HTTPC_HEADERS_MAX */
	const uint8_t *body;               /* sent after the head; copied */
	size_t body_len;
	bool send_length;                  /* Content-Length: body_len (also 0) */
	const struct espat_conn_tls *tls;  /* https: ESP-AT's settings; NULL: no checks */
	uint32_t timeout_ms;               /* name + connect + handshake; 0: the service's */
	uint32_t idle_ms;                  /* once the request is out: at most this long
	                                      without a response byte (ETIMEDOUT); 0: no limit */
};

enum espat_httpc_state {
	ESPAT_HTTPC_IDLE,
	ESPAT_HTTPC_OPENING,   /* the connection is being made */
	ESPAT_HTTPC_WAITING,   /* the request is out; the response is coming */
};

struct espat_httpc {
	struct espat_module *m;
	enum espat_httpc_state state;
	struct espat_conn conn;
	struct espat_http_parser parser;
	const struct espat_httpc_cbs *cb;
	void *user;
	uint8_t *out;           /* the request (head and body), owned, until sent */
	size_t out_len;
	bool literal;           /* the URL's host is an address: no DNS */
	bool resolved_told;     /* phase(RESOLVED) reported */
	bool final;             /* the final response's head came */
	int cur_status;         /* the status line being read (its headers follow) */
	uint32_t idle_ms;       /* the request's idle_ms */
	bool paused;            /* espat_httpc_pause(): the response is held back */
	unsigned gen;           /* changes when the exchange ends: callbacks check it */
	struct espat_timer tell; /* reports RESOLVED for a literal address */
	struct espat_timer idle; /* WAITING: the server's silence (idle_ms) */
};

/* Starts an exchange. 0 when under way (done() follows); -1 with *err when
 * it cannot start: a URL it cannot fetch or a bad header (EINVAL), no way
 * out (EUNREACH), the PKI missing (ECERT), no memory. */
int espat_httpc_start(struct espat_httpc *h, struct espat_module *m,
                      const struct espat_httpc_req *r, const struct espat_httpc_cbs *cb,
                      void *user, int *err);
/* Ends the exchange in any state; no callback of it runs afterwards. */
void espat_httpc_cancel(struct espat_httpc *h);
/* Holds back (true) or lets in (false) the response's bytes, e.g. while the
 * owner's output toward the host is full; a held-back exchange does not
 * count as idle. Any state. */
void espat_httpc_pause(struct espat_httpc *h, bool paused);
static inline bool espat_httpc_busy(const struct espat_httpc *h)
{
	return h->state != ESPAT_HTTPC_IDLE;
}

#endif
