/* Scripted HTTP servers on the in-memory network (testport/net_mem.h), for
 * unit tests of the families that fetch over HTTP (OTA today). A test
 * routes URLs to responses; the servers they name come into being on the
 * memory network: a host name resolves (to an address of 10.77.0.0/24), its
 * port accepts connections, and each connection gets one request, parsed
 * with the HTTP codec, and its answer step_ms later. So the module's whole
 * path is under test: its HTTP client, the client-connection service, DNS,
 * the net port.
 *
 * An https:// server takes only TLS connections of the memory network's
 * stand-in (bytes in clear, see net_mem.h) and an http:// one only plain
 * ones; a mismatch is reset, as a real server would fail the handshake. */
#ifndef ESPAT_TESTPORT_HTTP_MEM_H
#define ESPAT_TESTPORT_HTTP_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "testport/net_mem.h"

#define ESPAT_HTTP_MEM_ROUTES 16
#define ESPAT_HTTP_MEM_SERVERS 8
#define ESPAT_HTTP_MEM_URL_MAX 1024
#define ESPAT_HTTP_MEM_LOG 8 /* requests remembered, newest last */
#define ESPAT_HTTP_MEM_STEP_MS 10u
#define ESPAT_HTTP_MEM_CHUNK 1024u

/* How a scripted answer goes wrong. */
enum espat_http_mem_fail {
	ESPAT_HTTP_MEM_ANSWER, /* the scripted response */
	ESPAT_HTTP_MEM_CUT,    /* the connection is reset after half the body */
	ESPAT_HTTP_MEM_SILENT, /* the request is read, never answered */
};

/* One URL's response. */
struct espat_http_mem_route {
	char url[ESPAT_HTTP_MEM_URL_MAX + 1]; /* matched exactly */
	enum espat_http_mem_fail fail;
	int status;
	uint8_t *body; /* owned */
	size_t len;
	bool no_length; /* no Content-Length: the body ends with the connection */
};

/* A server: the scheme://host[:port] of one or more routes. */
struct espat_http_mem_server {
	char origin[ESPAT_HTTP_MEM_URL_MAX + 1];
	struct espat_endpoint ep;
	bool tls;
};

/* A request as a server saw it. */
struct espat_http_mem_seen {
	char url[ESPAT_HTTP_MEM_URL_MAX + 1]; /* origin + target */
	char method[16];
	char headers[256]; /* header lines but Host, each followed by "\n" (cut if longer) */
};

struct espat_http_mem_peer; /* a server's end of one connection */

struct espat_http_mem {
	struct espat_net_mem *net; /* borrowed */
	uint32_t step_ms;          /* a server's think time before it answers */
	size_t chunk;              /* most bytes per data() the module gets */
	struct espat_http_mem_route routes[ESPAT_HTTP_MEM_ROUTES];
	size_t nroutes;
	struct espat_http_mem_server servers[ESPAT_HTTP_MEM_SERVERS];
	size_t nservers;
	struct espat_http_mem_seen seen[ESPAT_HTTP_MEM_LOG];
	size_t nseen;    /* entries of seen[] in use */
	size_t requests; /* requests the servers read, ever */
	struct espat_http_mem_peer *peers[ESPAT_NET_MEM_CONNS]; /* by connection index, owned */
};

void espat_http_mem_init(struct espat_http_mem *h, struct espat_net_mem *net);
void espat_http_mem_free(struct espat_http_mem *h);

/* Routes url (http:// or https://) to status + body (copied), replacing an
 * earlier route of the same URL, and brings up its server. Returns the
 * route (tweak fail / no_length there), or NULL when a table is full or the
 * URL is bad. A URL without a route on a known server answers 404 with an
 * empty body; a host no route names does not resolve. */
struct espat_http_mem_route *espat_http_mem_route(struct espat_http_mem *h, const char *url,
                                                  int status, const void *body, size_t len);
/* The server of url's origin stops listening: connects are refused. */
void espat_http_mem_refuse(struct espat_http_mem *h, const char *url);

/* The clock time a server acts next, or UINT64_MAX. */
uint64_t espat_http_mem_next(const struct espat_http_mem *h);
/* Reads what the module sent and answers what is due. */
void espat_http_mem_poll(struct espat_http_mem *h);

/* Connections to the servers the module has not closed yet. */
size_t espat_http_mem_live(const struct espat_http_mem *h);
/* The newest request (NULL before the first). */
const struct espat_http_mem_seen *espat_http_mem_last(const struct espat_http_mem *h);

#endif
