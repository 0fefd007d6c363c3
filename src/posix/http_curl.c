#include "posix/http_curl.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct espat_http_req {
	struct espat_http_req *next;
	struct espat_http_curl *h;
	CURL *easy;
	struct curl_slist *headers;
	struct espat_http_cbs cb;
	void *cbuser;
	char save_as[ESPAT_HTTP_SAVE_NAME_MAX + 1]; /* "" = none */
	char tmp[ESPAT_HTTP_SAVE_NAME_MAX + 8];     /* ".<save_as>.tmp" */
	int fd;                                     /* the temporary being written, or -1 */
	bool added;                                 /* in the multi handle */
	bool resolved;                              /* RESOLVED reported */
	bool status_sent;                           /* status() reported */
	bool file_err;                              /* writing the temporary failed */
	bool dead; /* cancelled inside a curl callback: freed once curl returns */
};

/* A socket curl asked us to watch. */
struct espat_http_curl_sock {
	struct espat_loop_watch w;
	struct espat_http_curl *h;
	curl_socket_t fd;
	struct espat_http_curl_sock *next; /* h->socks */
};

static void sock_free(struct espat_http_curl *h, struct espat_http_curl_sock *sw)
{
	for (struct espat_http_curl_sock **pp = &h->socks; *pp; pp = &(*pp)->next) {
		if (*pp == sw) {
			*pp = sw->next;
			break;
		}
	}
	espat_loop_del(h->loop, &sw->w);
	free(sw);
}

/* ---- requests ---------------------------------------------------------------- */

static void unlink_req(struct espat_http_curl *h, struct espat_http_req *r)
{
	for (struct espat_http_req **pp = &h->reqs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			return;
		}
	}
}

/* Drops the temporary file (a transfer that did not complete). */
static void drop_tmp(struct espat_http_req *r)
{
	if (r->fd < 0)
		return;
	close(r->fd);
	r->fd = -1;
	unlinkat(r->h->dirfd, r->tmp, 0);
}

/* Takes r out of curl and frees it. Not from inside a curl callback. */
static void req_free(struct espat_http_curl *h, struct espat_http_req *r)
{
	unlink_req(h, r);
	if (r->added)
		curl_multi_remove_handle(h->multi, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	drop_tmp(r);
	free(r);
}

/* Puts the saved body in place: fsync, rename over the name, fsync the
 * directory. 0 or -1. */
static int commit_file(struct espat_http_req *r)
{
	int fd = r->fd;
	r->fd = -1;
	int rc = fsync(fd);
	if (close(fd) < 0)
		rc = -1;
	if (rc == 0)
		rc = renameat(r->h->dirfd, r->tmp, r->h->dirfd, r->save_as);
	if (rc == 0)
		rc = fsync(r->h->dirfd);
	else
		unlinkat(r->h->dirfd, r->tmp, 0);
	return rc;
}

static int map_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return ESPAT_NET_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
		return ESPAT_NET_ENOTFOUND;
	case CURLE_COULDNT_CONNECT:
		return ESPAT_NET_EREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return ESPAT_NET_ETIMEDOUT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return ESPAT_NET_ERESET;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return ESPAT_NET_EINVAL;
	case CURLE_OUT_OF_MEMORY:
		return ESPAT_NET_ENOMEM;
	default:
		return ESPAT_NET_EIO;
	}
}

/* A transfer curl finished: report it and free it. */
static void finish(struct espat_http_curl *h, struct espat_http_req *r, CURLcode rc)
{
	int err = map_error(rc);
	if (err == 0 && r->file_err)
		err = ESPAT_NET_EIO;
	if (err == 0 && r->fd >= 0 && commit_file(r) != 0)
		err = ESPAT_NET_EIO;
	if (err != 0)
		espat_log_debug(h->log, "http: %s", curl_easy_strerror(rc));
	struct espat_http_cbs cb = r->cb;
	void *cbuser = r->cbuser;
	req_free(h, r);
	if (cb.done)
		cb.done(cbuser, err);
}

/* After curl returns: hand over finished transfers, free cancelled ones,
 * add the ones started meanwhile. */
static void reap(struct espat_http_curl *h)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;
		char *priv = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		struct espat_http_req *r = (struct espat_http_req *)priv;
		if (r && !r->dead)
			finish(h, r, rc);
	}
	for (struct espat_http_req *r = h->reqs, *next; r; r = next) {
		next = r->next;
		if (r->dead) {
			req_free(h, r);
		} else if (!r->added) {
			if (curl_multi_add_handle(h->multi, r->easy) == CURLM_OK) {
				r->added = true;
			} else {
				struct espat_http_cbs cb = r->cb;
				void *cbuser = r->cbuser;
				req_free(h, r);
				if (cb.done)
					cb.done(cbuser, ESPAT_NET_ENOMEM);
				return; /* done() may have changed the list */
			}
		}
	}
}

/* Runs curl for a ready socket (or the timeout), then reaps. */
static void drive(struct espat_http_curl *h, curl_socket_t fd, int flags)
{
	int running = 0;
	h->depth++;
	curl_multi_socket_action(h->multi, fd, flags, &running);
	h->depth--;
	reap(h);
}

/* ---- curl's callbacks (h->depth > 0) -------------------------------------- */

static void send_status(struct espat_http_req *r)
{
	long code = 0;
	curl_off_t len = -1;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(r->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	r->status_sent = true;
	if (r->cb.status)
		r->cb.status(r->cbuser, (int)code, len < 0 ? -1 : (int64_t)len);
}

static curl_socket_t on_opensocket(void *user, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct espat_http_req *r = user;
	if (!r->dead && !r->resolved) {
		r->resolved = true;
		if (r->cb.phase)
			r->cb.phase(r->cbuser, ESPAT_HTTP_RESOLVED);
	}
	if (r->dead)
		return CURL_SOCKET_BAD;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static int on_prereq(void *user, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	struct espat_http_req *r = user;
	if (!r->dead && r->cb.phase)
		r->cb.phase(r->cbuser, ESPAT_HTTP_CONNECTED);
	return r->dead ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
}

/* Header lines; the blank line ends a block. A 1xx block is an interim
 * answer: the status is the next block's. */
static size_t on_header(char *p, size_t size, size_t n, void *user)
{
	struct espat_http_req *r = user;
	if (r->dead)
		return 0;
	if ((n == 2 && p[0] == '\r' && p[1] == '\n') || (n == 1 && p[0] == '\n')) {
		long code = 0;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200 && !r->status_sent)
			send_status(r);
	}
	return r->dead ? 0 : n;
}

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
	struct espat_http_req *r = user;
	if (r->dead)
		return 0;
	if (!r->status_sent)
		send_status(r);
	for (size_t off = 0; r->fd >= 0 && off < n;) {
		ssize_t w = write(r->fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r->file_err = true;
			return 0; /* curl ends the transfer: done(EIO) */
		}
		off += (size_t)w;
	}
	if (!r->dead && r->cb.body)
		r->cb.body(r->cbuser, (const uint8_t *)p, n);
	return r->dead ? 0 : n;
}

static void on_fd(void *user, uint32_t events)
{
	struct espat_http_curl_sock *sw = user;
	int flags = 0;
	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	drive(sw->h, sw->fd, flags); /* sw may be gone afterwards */
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *user, void *socketp)
{
	struct espat_http_curl *h = user;
	struct espat_http_curl_sock *sw = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (sw) {
			curl_multi_assign(h->multi, s, NULL);
			sock_free(h, sw);
		}
		return 0;
	}
	uint32_t ev =
	    ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	if (sw)
		return espat_loop_mod(h->loop, &sw->w, ev) == 0 ? 0 : -1;
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return -1;
	sw->h = h;
	sw->fd = s;
	if (espat_loop_add(h->loop, &sw->w, s, ev, on_fd, sw) < 0) {
		free(sw);
		return -1;
	}
	sw->next = h->socks;
	h->socks = sw;
	curl_multi_assign(h->multi, s, sw);
	return 0;
}

static void on_timeout(void *user)
{
	drive(user, CURL_SOCKET_TIMEOUT, 0);
}

static int on_timer(CURLM *multi, long timeout_ms, void *user)
{
	struct espat_http_curl *h = user;
	if (timeout_ms < 0)
		espat_loop_timer_cancel(h->loop, &h->timer);
	else
		espat_loop_timer_arm(h->loop, &h->timer,
		                     espat_loop_now_ns() + (uint64_t)timeout_ms * 1000000u,
		                     on_timeout, h);
	return 0;
}

/* ---- the port ---------------------------------------------------------------- */

/* The easy handle's options; false when curl refuses one. */
static bool setup_easy(struct espat_http_req *r, const struct espat_http_get *g)
{
	CURL *e = r->easy;
	bool ok = curl_easy_setopt(e, CURLOPT_URL, g->url) == CURLE_OK;
	ok = ok && curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
	ok = ok && curl_easy_setopt(e, CURLOPT_PRIVATE, r) == CURLE_OK;
	ok = ok && curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
	ok = ok && curl_easy_setopt(e, CURLOPT_PROXY, "") == CURLE_OK;
	ok = ok && curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers) == CURLE_OK;
	ok =
	    ok && curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, g->verify_peer ? 1L : 0L) == CURLE_OK;
	ok =
	    ok && curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, g->verify_peer ? 2L : 0L) == CURLE_OK;
	ok = ok && curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_opensocket) == CURLE_OK;
	ok = ok && curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, r) == CURLE_OK;
	ok = ok && curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq) == CURLE_OK;
	ok = ok && curl_easy_setopt(e, CURLOPT_PREREQDATA, r) == CURLE_OK;
	ok = ok && curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
	ok = ok && curl_easy_setopt(e, CURLOPT_HEADERDATA, r) == CURLE_OK;
	ok = ok && curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
	ok = ok && curl_easy_setopt(e, CURLOPT_WRITEDATA, r) == CURLE_OK;
	return ok;
}

static struct espat_http_req *curl_get(void *user, const struct espat_http_get *g,
                                       const struct espat_http_cbs *cb, void *cbuser, int *err)
{
	struct espat_http_curl *h = user;
	*err = ESPAT_NET_EINVAL;
	if (!g->url || strlen(g->url) > ESPAT_HTTP_URL_MAX ||
	    (g->save_as && (h->dirfd < 0 || !espat_http_save_name_ok(g->save_as))))
		return NULL;
	*err = ESPAT_NET_ENOMEM;
	struct espat_http_req *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->h = h;
	r->fd = -1;
	r->cb = *cb;
	r->cbuser = cbuser;
	r->easy = curl_easy_init();
	bool ok = r->easy != NULL;
	for (size_t i = 0; ok && i < ESPAT_HTTP_HEADERS_MAX && g->headers[i]; i++) {
		struct curl_slist *l = curl_slist_append(r->headers, g->headers[i]);
		ok = l != NULL;
		if (ok)
			r->headers = l;
	}
	if (ok && !setup_easy(r, g)) {
		*err = ESPAT_NET_EINVAL;
		ok = false;
	}
	if (ok && g->save_as) {
		snprintf(r->save_as, sizeof(r->save_as), "%s", g->save_as);
		snprintf(r->tmp, sizeof(r->tmp), ".%s.tmp", g->save_as);
		r->fd = openat(h->dirfd, r->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (r->fd < 0) {
			espat_log_warn(h->log, "http: cannot write %s: %s", r->tmp,
			               strerror(errno));
			*err = ESPAT_NET_EIO;
			ok = false;
		}
	}
	r->next = h->reqs;
	h->reqs = r;
	/* inside a curl callback the handle joins once curl returns (reap) */
	if (ok && h->depth == 0) {
		ok = curl_multi_add_handle(h->multi, r->easy) == CURLM_OK;
		r->added = ok;
	}
	if (!ok) {
		req_free(h, r);
		return NULL;
	}
	return r;
}

static void curl_cancel(void *user, struct espat_http_req *r)
{
	struct espat_http_curl *h = user;
	if (h->depth > 0) {
		r->dead = true; /* curl is on the stack: free it once curl returns */
		return;
	}
	req_free(h, r);
}

struct espat_http espat_http_curl_port(struct espat_http_curl *h)
{
	return (struct espat_http){.get = curl_get, .cancel = curl_cancel, .user = h};
}

int espat_http_curl_init(struct espat_http_curl *h, struct espat_loop *loop,
                         const struct espat_log *log, const char *data_dir)
{
	memset(h, 0, sizeof(*h));
	h->loop = loop;
	h->log = log;
	h->dirfd = -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		errno = ENOMEM;
		return -1;
	}
	h->global = true;
	h->multi = curl_multi_init();
	if (!h->multi) {
		espat_http_curl_free(h);
		errno = ENOMEM;
		return -1;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	if (data_dir) {
		h->dirfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (h->dirfd < 0) {
			int e = errno;
			espat_http_curl_free(h);
			errno = e;
			return -1;
		}
	}
	return 0;
}

void espat_http_curl_free(struct espat_http_curl *h)
{
	while (h->reqs)
		req_free(h, h->reqs);
	if (h->multi) {
		curl_multi_cleanup(h->multi);
		h->multi = NULL;
	}
	while (h->socks) /* whatever curl did not tell us to forget */
		sock_free(h, h->socks);
	if (h->loop)
		espat_loop_timer_cancel(h->loop, &h->timer);
	if (h->dirfd >= 0)
		close(h->dirfd);
	h->dirfd = -1;
	if (h->global)
		curl_global_cleanup();
	h->global = false;
}
