/* A small HTTP client as the cmd layer sees it: one GET at a time per
 * request, its response streamed back (status, then body pieces, then the
 * end). The OTA commands (cmd/ota.c) fetch the update server's version list
 * and firmware images through it. The Linux port implements it with
 * libcurl's multi interface in the event loop (posix/http_curl.c); the test
 * port with scripted responses on the test clock (testport/http_mem.c).
 *
 * Contract for every implementation:
 *  - nothing blocks; every callback runs from the platform's loop, never
 *    from inside get() (a caller can finish its bookkeeping first);
 *  - callbacks of one request come in order: phase(RESOLVED), then
 *    phase(CONNECTED), then status() once, then body() pieces, then done()
 *    exactly once; a request that fails early skips what did not happen
 *    (a name that does not resolve: done() only);
 *  - the owner may cancel() at any time, also from inside any of the
 *    request's callbacks; afterwards no callback of that request runs and
 *    the request is freed; after done() the request is already freed
 *    (do not cancel it). */
#ifndef ESPAT_PORT_HTTP_H
#define ESPAT_PORT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port/net.h" /* enum espat_net_err: done()'s err */

#define ESPAT_HTTP_URL_MAX 1024     /* bytes of a URL, without the NUL */
#define ESPAT_HTTP_HEADERS_MAX 4    /* extra request headers per GET */
#define ESPAT_HTTP_SAVE_NAME_MAX 32 /* bytes of a save_as name */

struct espat_http_req; /* opaque, owned by the implementation */

/* Milestones before the response, as a device on the wire meets them. */
enum espat_http_phase {
	ESPAT_HTTP_RESOLVED,  /* the server's address is known */
	ESPAT_HTTP_CONNECTED, /* the connection (and TLS, for https) is up */
};

struct espat_http_cbs {
	void (*phase)(void *user, enum espat_http_phase ph);
	/* The response's status code and Content-Length (-1: not given).
	 * Redirects are not followed: a 3xx is a status like any other. */
	void (*status)(void *user, int status, int64_t length);
	/* A piece of the body, valid only during the call. */
	void (*body)(void *user, const uint8_t *p, size_t n);
	/* The end: err 0 when the whole body arrived (and, with save_as, the
	 * file is in place), else an enum espat_net_err: ENOTFOUND (the name
	 * does not resolve), EREFUSED/EUNREACH (no connection), ETIMEDOUT,
	 * ERESET (the connection broke), EINVAL (a URL the port cannot
	 * fetch), EIO (a short body, a file that could not be written, ...). */
	void (*done)(void *user, int err);
};

struct espat_http_get {
	const char *url;                             /* http:// or https://, NUL-terminated */
	const char *headers[ESPAT_HTTP_HEADERS_MAX]; /* "Name: value" lines; NULL ends */
	/* NULL, or the name of a file in the module's data dir (letters,
	 * digits, '_', '-', '.', not starting with '.'; see
	 * espat_http_save_name_ok()): the body is also written there. The
	 * file is replaced only when done() reports 0, atomically, so a cut
	 * transfer (or a power cut) leaves the old file. */
	const char *save_as;
	/* TLS (https): check the server's certificate chain and name. The
	 * OTA client of a real module does not (its TLS has no CA set). */
	bool verify_peer;
};

/* Whether name is a valid save_as name (the contract above); every
 * implementation refuses others with EINVAL. */
static inline bool espat_http_save_name_ok(const char *name)
{
	size_t n = 0;
	for (; name[n]; n++) {
		char c = name[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	/* no leading '.': no "." or "..", and room for the ports' temporaries */
	return n > 0 && n <= ESPAT_HTTP_SAVE_NAME_MAX && name[0] != '.';
}

struct espat_http {
	/* Starts a GET; everything in g is copied. NULL with *err set when it
	 * cannot even start (bad URL or save_as name: EINVAL; out of memory:
	 * ENOMEM). */
	struct espat_http_req *(*get)(void *user, const struct espat_http_get *g,
	                              const struct espat_http_cbs *cb, void *cbuser, int *err);
	/* Ends a request that has not reported done(): no callback for it
	 * runs afterwards, a save_as file is left as it was. */
	void (*cancel)(void *user, struct espat_http_req *r);
	void *user;
};

#endif
