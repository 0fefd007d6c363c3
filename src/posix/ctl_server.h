/* The control socket: a Unix stream socket served from the event loop.
 *
 * Protocol (docs/internals/ctl.md): a client connects, sends one request
 * -- a JSON array of strings, ended by "\n" -- and reads one reply line (a
 * JSON object, ended by "\n"); then the server closes the connection. The
 * server turns the request into argv and calls the handler, which returns
 * the reply. It knows nothing of the module: what the commands mean is the
 * handler's business (app/ctl.c).
 *
 * Never blocks the loop: sockets are non-blocking, a request is buffered
 * up to ESPAT_CTL_REQ_MAX bytes, a reply is written as the client takes
 * it (EPOLLOUT), and a connection that has not finished within
 * ESPAT_CTL_CONN_TIMEOUT_MS is dropped. At most ESPAT_CTL_CONNS clients
 * are served at once; more wait in the listen backlog. */
#ifndef ESPAT_POSIX_CTL_SERVER_H
#define ESPAT_POSIX_CTL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "posix/log.h"
#include "posix/loop.h"

#define ESPAT_CTL_REQ_MAX (64u * 1024u)  /* bytes of one request, "\n" included */
#define ESPAT_CTL_CONNS 16               /* clients served at once */
#define ESPAT_CTL_CONN_TIMEOUT_MS 10000u /* from accept to the last reply byte */
#define ESPAT_CTL_PATH_MAX 108           /* sockaddr_un's sun_path */

/* Runs one request. argv[0..argc) are NUL-terminated and valid for the
 * call only. Returns the reply, one line of JSON without the "\n",
 * malloc'd (the server frees it); NULL means out of memory. */
typedef char *espat_ctl_handler_fn(void *user, const char *const *argv, size_t argc);

struct espat_ctl_conn; /* one client, private to ctl_server.c */

struct espat_ctl_server {
	struct espat_loop *loop;     /* borrowed */
	const struct espat_log *log; /* borrowed */
	espat_ctl_handler_fn *handler;
	void *user;
	int fd;                        /* listening socket, -1 when closed */
	struct espat_loop_watch watch; /* fd */
	struct espat_loop_timer retry; /* resume accepting after EMFILE */
	bool paused;                   /* not accepting (full, or out of fds) */
	char path[ESPAT_CTL_PATH_MAX]; /* bound path, unlinked at close */
	dev_t dev;                     /* the socket file we made (unlink only it) */
	ino_t ino;
	struct espat_ctl_conn *conns; /* open connections */
	size_t nconns;
};

/* Binds path (a stale socket there is removed; any other file is refused),
 * mode 0600, and starts serving. 0, or -1 with a one-line reason in err
 * (nothing left open). */
int espat_ctl_server_open(struct espat_ctl_server *s, struct espat_loop *loop,
                          const struct espat_log *log, const char *path,
                          espat_ctl_handler_fn *handler, void *user, char *err, size_t errlen);
/* Drops every connection, closes the socket and unlinks its path if it is
 * still ours. No-op when not open. */
void espat_ctl_server_close(struct espat_ctl_server *s);

#endif
