/* The Linux HTTP port (port/http.h): libcurl's multi interface driven by
 * the event loop. curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION);
 * the loop tells curl when a socket is ready or the time has come
 * (curl_multi_socket_action). Name resolution is curl's (its own threaded
 * resolver: the host's resolv.conf and /etc/hosts).
 *
 * How the port's contract maps onto curl:
 *  - RESOLVED: curl asks us to open a socket for the resolved address
 *    (CURLOPT_OPENSOCKETFUNCTION); CONNECTED: curl is about to send the
 *    request on the connected (TLS-ready) connection
 *    (CURLOPT_PREREQFUNCTION); status(): the end of the response headers
 *    (the last 1xx interim block is skipped);
 *  - a cancel() from inside a curl callback only marks the request; it is
 *    taken out of curl once curl returns, and its callbacks stop at once;
 *  - save_as writes DATA_DIR/.<name>.tmp as the body comes, then fsync,
 *    rename over DATA_DIR/<name> and fsync the directory before done(0);
 *    a failed or cancelled transfer removes the temporary;
 *  - no proxy (the module's traffic goes straight out, like its sockets),
 *    no redirects, no content decoding; http and https only.
 *
 * Single-threaded: every function runs on the loop's thread. */
#ifndef ESPAT_POSIX_HTTP_CURL_H
#define ESPAT_POSIX_HTTP_CURL_H

#include <stdbool.h>

#include "port/http.h"
#include "posix/log.h"
#include "posix/loop.h"

struct espat_http_curl {
	struct espat_loop *loop;            /* borrowed */
	const struct espat_log *log;        /* borrowed, may be NULL */
	int dirfd;                          /* the data dir (save_as), owned; -1: none */
	void *multi;                        /* CURLM *, owned */
	struct espat_loop_timer timer;      /* curl's next timeout */
	struct espat_http_req *reqs;        /* requests under way, owned */
	struct espat_http_curl_sock *socks; /* sockets curl has us watch, owned */
	int depth;                          /* > 0 while curl runs our callbacks */
	bool global;                        /* curl_global_init() done */
};

/* Sets up the client; data_dir (may be NULL: no save_as) is where saved
 * bodies go. 0, or -1 with errno set. */
int espat_http_curl_init(struct espat_http_curl *h, struct espat_loop *loop,
                         const struct espat_log *log, const char *data_dir);
/* Ends every request (no callbacks) and releases curl. */
void espat_http_curl_free(struct espat_http_curl *h);
struct espat_http espat_http_curl_port(struct espat_http_curl *h);

#endif
