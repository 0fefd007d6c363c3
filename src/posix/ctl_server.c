#include "posix/ctl_server.h"
#include "posix/log.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define RETRY_NS 100000000u /* pause after EMFILE before accepting again */
#define READ_CHUNK 4096u

/* One client: reading its request, then writing its reply. */
struct espat_ctl_conn {
	struct espat_ctl_server *srv;
	int fd;
	struct espat_loop_watch watch;
	struct espat_loop_timer deadline; /* ESPAT_CTL_CONN_TIMEOUT_MS after accept */
	char *req;                        /* request bytes, at most ESPAT_CTL_REQ_MAX */
	size_t req_len, req_cap;
	char *reply; /* reply + "\n", malloc'd; NULL while reading */
	size_t reply_len, reply_off;
	struct espat_ctl_conn *next;
};

/* {"ok":false,"error":msg}, malloc'd; NULL when out of memory. */
static char *error_reply(const char *msg)
{
	json_t *o = json_pack("{s:b,s:s}", "ok", 0, "error", msg);
	if (o == NULL)
		return NULL;
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* ---- connections ------------------------------------------------------- */

static void set_listening(struct espat_ctl_server *s, bool on);

static void conn_close(struct espat_ctl_conn *c)
{
	struct espat_ctl_server *s = c->srv;
	for (struct espat_ctl_conn **pp = &s->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	s->nconns--;
	espat_loop_del(s->loop, &c->watch);
	espat_loop_timer_cancel(s->loop, &c->deadline);
	close(c->fd);
	free(c->req);
	free(c->reply);
	free(c);
	if (s->paused && s->nconns < ESPAT_CTL_CONNS && !s->retry.armed)
		set_listening(s, true);
}

/* Writes what the socket takes; closes when all is out or on error. */
static void conn_flush(struct espat_ctl_conn *c)
{
	while (c->reply_off < c->reply_len) {
		ssize_t n =
		    send(c->fd, c->reply + c->reply_off, c->reply_len - c->reply_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			espat_loop_mod(c->srv->loop, &c->watch, EPOLLOUT);
			return;
		}
		if (n <= 0) {
			conn_close(c); /* the client went away: its loss */
			return;
		}
		c->reply_off += (size_t)n;
	}
	conn_close(c);
}

/* Takes ownership of reply (NULL = out of memory) and starts sending it. */
static void conn_reply(struct espat_ctl_conn *c, char *reply)
{
	static const char oom[] = "{\"ok\":false,\"error\":\"out of memory\"}";
	size_t n = reply ? strlen(reply) : sizeof(oom) - 1;
	char *out = malloc(n + 1);
	if (out == NULL) {
		free(reply);
		conn_close(c);
		return;
	}
	memcpy(out, reply ? reply : oom, n);
	out[n] = '\n';
	free(reply);
	free(c->req);
	c->req = NULL;
	c->req_len = c->req_cap = 0;
	c->reply = out;
	c->reply_len = n + 1;
	c->reply_off = 0;
	/* Nothing more is read: shut our read side so a client still
	 * writing gets an error rather than filling our buffer. */
	shutdown(c->fd, SHUT_RD);
	conn_flush(c);
}

/* Parses the request in req[0..len) (without the "\n") and runs it. */
static void conn_run(struct espat_ctl_conn *c, size_t len)
{
	json_error_t jerr;
	json_t *a = json_loadb(c->req, len, JSON_REJECT_DUPLICATES, &jerr);
	if (a == NULL) {
		char msg[256];
		snprintf(msg, sizeof(msg), "bad request: not JSON (%s at position %d)", jerr.text,
		         jerr.position);
		conn_reply(c, error_reply(msg));
		return;
	}
	size_t argc = json_is_array(a) ? json_array_size(a) : 0;
	bool ok = json_is_array(a);
	for (size_t i = 0; ok && i < argc; i++)
		ok = json_is_string(json_array_get(a, i));
	if (!ok) {
		json_decref(a);
		conn_reply(c, error_reply("bad request: expected a JSON array of strings"));
		return;
	}
	const char **argv = calloc(argc + 1, sizeof(*argv));
	if (argv == NULL) {
		json_decref(a);
		conn_reply(c, NULL);
		return;
	}
	/* jansson refuses \u0000 by default, so every string is a C string. */
	for (size_t i = 0; i < argc; i++)
		argv[i] = json_string_value(json_array_get(a, i));
	char *reply = c->srv->handler(c->srv->user, argv, argc);
	free(argv);
	json_decref(a);
	conn_reply(c, reply);
}

static void conn_read(struct espat_ctl_conn *c)
{
	for (;;) {
		if (c->req_cap - c->req_len < READ_CHUNK && c->req_cap < ESPAT_CTL_REQ_MAX) {
			size_t cap = c->req_cap ? c->req_cap * 2 : READ_CHUNK;
			if (cap > ESPAT_CTL_REQ_MAX)
				cap = ESPAT_CTL_REQ_MAX;
			char *p = realloc(c->req, cap);
			if (p == NULL) {
				conn_reply(c, NULL);
				return;
			}
			c->req = p;
			c->req_cap = cap;
		}
		if (c->req_len == c->req_cap) {
			char msg[96];
			snprintf(msg, sizeof(msg),
			         "bad request: longer than %u bytes without a newline",
			         ESPAT_CTL_REQ_MAX);
			conn_reply(c, error_reply(msg));
			return;
		}
		ssize_t n = recv(c->fd, c->req + c->req_len, c->req_cap - c->req_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			conn_close(c);
			return;
		}
		if (n == 0) {
			/* End of input without "\n": take what came as the
			 * request; nothing at all is a client that gave up. */
			if (c->req_len == 0)
				conn_close(c);
			else
				conn_run(c, c->req_len);
			return;
		}
		char *lf = memchr(c->req + c->req_len, '\n', (size_t)n);
		c->req_len += (size_t)n;
		if (lf != NULL) {
			conn_run(c, (size_t)(lf - c->req));
			return;
		}
	}
}

static void on_conn(void *user, uint32_t events)
{
	struct espat_ctl_conn *c = user;
	if (c->reply != NULL)
		conn_flush(c);
	else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_read(c);
}

static void on_conn_deadline(void *user)
{
	struct espat_ctl_conn *c = user;
	espat_log_info(c->srv->log, "ctl: dropping a client that took longer than %u ms",
	               ESPAT_CTL_CONN_TIMEOUT_MS);
	conn_close(c);
}

/* ---- listening ------------------------------------------------------------ */

static void on_retry(void *user)
{
	struct espat_ctl_server *s = user;
	if (s->nconns < ESPAT_CTL_CONNS)
		set_listening(s, true);
}

static void set_listening(struct espat_ctl_server *s, bool on)
{
	s->paused = !on;
	espat_loop_mod(s->loop, &s->watch, on ? EPOLLIN : 0);
}

static void on_listen(void *user, uint32_t events)
{
	struct espat_ctl_server *s = user;
	while (s->nconns < ESPAT_CTL_CONNS) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* Out of fds or memory: level-triggered epoll would
			 * spin, so stop listening for a moment. */
			espat_log_warn(s->log, "ctl: accept: %s", strerror(errno));
			set_listening(s, false);
			espat_loop_timer_arm(s->loop, &s->retry, espat_loop_now_ns() + RETRY_NS,
			                     on_retry, s);
			return;
		}
		struct espat_ctl_conn *c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->srv = s;
		c->fd = fd;
		if (espat_loop_add(s->loop, &c->watch, fd, EPOLLIN, on_conn, c) < 0) {
			espat_log_warn(s->log, "ctl: %s", strerror(errno));
			close(fd);
			free(c);
			continue;
		}
		espat_loop_timer_arm(s->loop, &c->deadline,
		                     espat_loop_now_ns() +
		                         (uint64_t)ESPAT_CTL_CONN_TIMEOUT_MS * 1000000u,
		                     on_conn_deadline, c);
		c->next = s->conns;
		s->conns = c;
		s->nconns++;
	}
	set_listening(s, false); /* full: conn_close() resumes */
}

int espat_ctl_server_open(struct espat_ctl_server *s, struct espat_loop *loop,
                          const struct espat_log *log, const char *path,
                          espat_ctl_handler_fn *handler, void *user, char *err, size_t errlen)
{
	*s = (struct espat_ctl_server){
	    .loop = loop, .log = log, .handler = handler, .user = user, .fd = -1};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t plen = strlen(path);
	if (plen == 0)
		return espat_errf(err, errlen, "--ctl needs a path");
	if (plen >= sizeof(sa.sun_path))
		return espat_errf(err, errlen,
		             "--ctl %s: path too long for a Unix socket (max %zu bytes)", path,
		             sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, plen + 1);

	/* The data dir's lock is held, so a socket here is a stale one left
	 * by a killed espat of this data dir (or of a previous --ctl). */
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return espat_errf(err, errlen, "--ctl %s: exists and is not a socket", path);
		if (unlink(path) < 0)
			return espat_errf(err, errlen, "--ctl %s: cannot remove the stale socket: %s",
			             path, strerror(errno));
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return espat_errf(err, errlen, "--ctl %s: socket: %s", path, strerror(errno));
	/* Created 0600 from the start: no moment where others may connect. */
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	umask(old);
	if (rc < 0) {
		close(fd);
		return espat_errf(err, errlen, "--ctl %s: %s", path, strerror(e));
	}
	if (chmod(path, 0600) < 0 || lstat(path, &st) < 0 || listen(fd, 16) < 0) {
		e = errno;
		unlink(path);
		close(fd);
		return espat_errf(err, errlen, "--ctl %s: %s", path, strerror(e));
	}
	if (espat_loop_add(loop, &s->watch, fd, EPOLLIN, on_listen, s) < 0) {
		e = errno;
		unlink(path);
		close(fd);
		return espat_errf(err, errlen, "--ctl %s: %s", path, strerror(e));
	}
	s->fd = fd;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	memcpy(s->path, path, plen + 1);
	return 0;
}

void espat_ctl_server_close(struct espat_ctl_server *s)
{
	if (s->fd < 0)
		return;
	while (s->conns != NULL)
		conn_close(s->conns);
	espat_loop_timer_cancel(s->loop, &s->retry);
	espat_loop_del(s->loop, &s->watch);
	close(s->fd);
	s->fd = -1;
	struct stat st;
	if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
}
