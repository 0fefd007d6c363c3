/* The test port's HTTP client: scripted servers in memory, answers
 * delivered on the test clock. A test routes URLs to responses (status and
 * body) or to failures; each step of a request (resolved, connected,
 * status, every body piece, the end) comes step_ms after the one before,
 * when the test port polls (espat_tp_advance). Files a GET saves
 * (save_as) are kept here, by name, like a data dir in memory. */
#ifndef ESPAT_TESTPORT_HTTP_MEM_H
#define ESPAT_TESTPORT_HTTP_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port/http.h"

#define ESPAT_HTTP_MEM_ROUTES 16
#define ESPAT_HTTP_MEM_FILES 4
#define ESPAT_HTTP_MEM_LOG 8 /* requests remembered, newest last */
#define ESPAT_HTTP_MEM_STEP_MS 10u
#define ESPAT_HTTP_MEM_CHUNK 1024u

/* How a scripted request goes wrong. */
enum espat_http_mem_fail {
	ESPAT_HTTP_MEM_ANSWER,  /* the scripted response */
	ESPAT_HTTP_MEM_NO_NAME, /* the host name does not resolve: done(ENOTFOUND) */
	ESPAT_HTTP_MEM_REFUSED, /* resolved, nothing listens: done(EREFUSED) */
	ESPAT_HTTP_MEM_CUT,     /* the connection breaks after half the body: done(ERESET) */
	ESPAT_HTTP_MEM_SILENT,  /* connected, then never an answer */
};

/* One URL's response. */
struct espat_http_mem_route {
	char url[ESPAT_HTTP_URL_MAX + 1]; /* matched exactly */
	enum espat_http_mem_fail fail;
	int status;
	uint8_t *body; /* owned */
	size_t len;
	bool no_length; /* send no Content-Length: status() gets -1 */
};

/* A file written through save_as. */
struct espat_http_mem_file {
	char name[ESPAT_HTTP_SAVE_NAME_MAX + 1];
	uint8_t *data; /* owned */
	size_t len;
};

/* A request as the server saw it. */
struct espat_http_mem_seen {
	char url[ESPAT_HTTP_URL_MAX + 1];
	char headers[256]; /* the extra headers, each followed by "\n" (cut if longer) */
};

struct espat_http_mem {
	const uint64_t *now; /* the test clock, borrowed */
	uint32_t step_ms;    /* between two steps of a request */
	size_t chunk;        /* body bytes per body() call */
	struct espat_http_mem_route routes[ESPAT_HTTP_MEM_ROUTES];
	size_t nroutes;
	struct espat_http_mem_file files[ESPAT_HTTP_MEM_FILES];
	size_t nfiles;
	struct espat_http_mem_seen seen[ESPAT_HTTP_MEM_LOG];
	size_t nseen;                      /* entries of seen[] in use */
	size_t ngets;                      /* GETs started, ever */
	struct espat_http_req *reqs;       /* requests under way, owned */
	struct espat_http_req *delivering; /* whose callback runs now */
};

void espat_http_mem_init(struct espat_http_mem *h, const uint64_t *now);
/* Frees routes, files and any request still under way (no callbacks). */
void espat_http_mem_free(struct espat_http_mem *h);
struct espat_http espat_http_mem_port(struct espat_http_mem *h);

/* Routes url to status + body (copied), replacing an earlier route of the
 * same URL. Returns the route (tweak fail / no_length there), or NULL when
 * the table is full or the URL too long. A URL with no route whose
 * scheme://host:port has one answers 404 with an empty body; one whose
 * server is unknown altogether does not resolve. */
struct espat_http_mem_route *espat_http_mem_route(struct espat_http_mem *h, const char *url,
                                                  int status, const void *body, size_t len);

/* The clock time of the next step due, or UINT64_MAX. */
uint64_t espat_http_mem_next(const struct espat_http_mem *h);
/* Runs every step due at *now, in time order. */
void espat_http_mem_poll(struct espat_http_mem *h);

/* Requests under way. */
size_t espat_http_mem_live(const struct espat_http_mem *h);
/* The newest request (NULL before the first). */
const struct espat_http_mem_seen *espat_http_mem_last(const struct espat_http_mem *h);
/* A saved file by name, or NULL. */
const struct espat_http_mem_file *espat_http_mem_file(const struct espat_http_mem *h,
                                                      const char *name);

#endif
