/* Sockets and listeners of the Linux net port; DNS and ping are in
 * net_posix_dns.c and net_posix_ping.c. Rules in net_posix.h. */
#include "posix/net_posix.h"
#include "posix/bytebuf.h"
#include "posix/net_posix_internal.h"

#include <ares.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_READS_PER_WAKE 16 /* 1 MiB per socket per wake-up: others get their turn */
#define UDP_READS_PER_WAKE 32 /* datagrams per socket per wake-up */
#define ACCEPTS_PER_WAKE 16
#define DISCARD_READS 64           /* graceful close: unread input thrown away, 64 KiB each */
#define ACCEPT_RETRY_NS 100000000u /* out of descriptors: accept again after 100 ms */

enum sock_state {
	SS_CONNECTING, /* TCP: connect() under way */
	SS_OPEN,       /* connected TCP, UDP, listener */
	SS_CLOSING,    /* closed gracefully by the owner, flushing in the background */
	SS_SHUT,       /* fd closed; the struct waits for the callback on the stack */
};

/* One queued UDP datagram. */
struct dgram {
	struct dgram *next;
	struct sockaddr_storage to;
	socklen_t tolen;
	size_t n;
	uint8_t p[];
};

struct espat_sock {
	struct espat_net_posix *np;
	struct espat_sock *prev, *next; /* np->socks */
	enum espat_sock_kind kind;
	enum sock_state state;
	bool listener;
	int fd;
	int family;                      /* AF_INET or AF_INET6 */
	struct espat_loop_watch watch;   /* registered only while some event is wanted */
	struct espat_loop_timer defer;   /* zero-delay results; listener: accept retry */
	struct espat_loop_timer give_up; /* SS_CLOSING: ESPAT_NET_CLOSE_FLUSH_MS */
	struct espat_sock_cbs cb;
	void *cbuser;
	struct espat_endpoint remote; /* TCP: the peer; UDP: the default destination */
	bool paused;
	bool owner_closed;   /* close() ran: no callback may run any more */
	unsigned busy;       /* callbacks of this socket on the stack: free waits */
	bool pend_connected; /* connected(pend_err) is due from `defer` */
	int pend_err;
	bool want_drained;  /* a send() since the last drained() */
	bool eof;           /* TCP: the read side is finished (closed() reported) */
	int werr;           /* TCP: errno of the failed write or connect; the socket is dead */
	bool accept_paused; /* listener: out of descriptors */
	bool linger_timed;  /* SO_LINGER on with a timeout (lifted before close) */
	struct espat_bytebuf q; /* TCP send queue: not yet in the kernel */
	struct dgram *dq, *dq_tail; /* UDP send queue */
	size_t dq_bytes;
};

/* ---- lifetime ------------------------------------------------------------- */

/* A socket around fd, which it takes: NULL (fd closed) when out of memory. */
static struct espat_sock *sock_new(struct espat_net_posix *np, enum espat_sock_kind kind, int fd,
                                   int family)
{
	struct espat_sock *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		close(fd);
		return NULL;
	}
	s->np = np;
	s->kind = kind;
	s->fd = fd;
	s->family = family;
	s->state = SS_OPEN;
	s->next = np->socks;
	if (np->socks != NULL)
		np->socks->prev = s;
	np->socks = s;
	return s;
}

static void queue_drop(struct espat_sock *s)
{
	espat_bytebuf_free(&s->q);
	while (s->dq != NULL) {
		struct dgram *d = s->dq;
		s->dq = d->next;
		free(d);
	}
	s->dq_tail = NULL;
	s->dq_bytes = 0;
	s->want_drained = false;
}

static size_t queued_bytes(const struct espat_sock *s)
{
	return s->kind == ESPAT_SOCK_UDP ? s->dq_bytes : espat_bytebuf_size(&s->q);
}

/* Closes the fd and stops every event; the struct stays (see sock_free). */
static void sock_shut(struct espat_sock *s)
{
	struct espat_loop *l = s->np->loop;
	espat_loop_del(l, &s->watch);
	espat_loop_timer_cancel(l, &s->defer);
	espat_loop_timer_cancel(l, &s->give_up);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->state = SS_SHUT;
	queue_drop(s);
}

static void sock_free(struct espat_sock *s)
{
	sock_shut(s);
	struct espat_net_posix *np = s->np;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		np->socks = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	free(s);
}

/* Callbacks of s run between cb_enter() and cb_leave(). cb_leave() is true
 * when the owner closed s inside the callback: the caller returns at once
 * and touches s no more (it may be freed). */
static void cb_enter(struct espat_sock *s)
{
	s->busy++;
}

static bool cb_leave(struct espat_sock *s)
{
	s->busy--;
	if (!s->owner_closed)
		return false;
	if (s->busy == 0 && s->state == SS_SHUT)
		sock_free(s);
	return true;
}

/* ---- events wanted -------------------------------------------------------- */

static void on_sock(void *user, uint32_t events);

/* Registers exactly the events s needs now. With none it leaves epoll
 * altogether: a dead or paused socket would otherwise wake the loop with
 * EPOLLHUP/EPOLLERR (which epoll reports whatever was asked) forever. */
static int sock_watch(struct espat_sock *s)
{
	uint32_t ev = 0;
	bool out = queued_bytes(s) > 0 && s->werr == 0;
	switch (s->state) {
	case SS_CONNECTING:
		ev = EPOLLOUT;
		break;
	case SS_OPEN:
		if (s->listener)
			ev = s->accept_paused ? 0 : EPOLLIN;
		else
			ev = (!s->paused && !s->eof ? EPOLLIN : 0) | (out ? EPOLLOUT : 0);
		break;
	case SS_CLOSING:
		ev = EPOLLOUT | (s->kind == ESPAT_SOCK_TCP && !s->eof ? EPOLLIN : 0);
		break;
	case SS_SHUT:
		break;
	}
	struct espat_loop *l = s->np->loop;
	if (ev == 0) {
		espat_loop_del(l, &s->watch);
		return 0;
	}
	int rc = s->watch.added ? espat_loop_mod(l, &s->watch, ev)
	                        : espat_loop_add(l, &s->watch, s->fd, ev, on_sock, s);
	if (rc < 0)
		espat_log_warn(s->np->log, "net: epoll: %s", strerror(errno));
	return rc;
}

/* ---- sending -------------------------------------------------------------- */

/* Writes to the kernel; the number of bytes taken, or -1 with errno
 * (EAGAIN when it takes nothing now). */
static ssize_t write_some(int fd, const uint8_t *p, size_t n)
{
	for (;;) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EWOULDBLOCK)
			errno = EAGAIN;
		return w;
	}
}

/* Hands the TCP queue to the kernel. 0, or the errno of a failed write
 * (the socket is then dead: werr set, queue dropped). */
static int flush_tcp(struct espat_sock *s)
{
	while (espat_bytebuf_size(&s->q) > 0) {
		ssize_t w = write_some(s->fd, espat_bytebuf_data(&s->q), espat_bytebuf_size(&s->q));
		if (w < 0 && errno == EAGAIN)
			return 0;
		if (w <= 0) {
			s->werr = w < 0 ? errno : EIO;
			queue_drop(s);
			return s->werr;
		}
		espat_bytebuf_take(&s->q, (size_t)w);
	}
	return 0;
}

/* Sends queued datagrams while the kernel takes them. A datagram the
 * kernel refuses for any reason but a full buffer is dropped: UDP may
 * lose datagrams, and one bad destination must not block the rest. */
static void flush_udp(struct espat_sock *s)
{
	while (s->dq != NULL) {
		struct dgram *d = s->dq;
		ssize_t w =
		    sendto(s->fd, d->p, d->n, MSG_NOSIGNAL, (struct sockaddr *)&d->to, d->tolen);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
			return;
		if (w < 0)
			espat_log_debug(s->np->log, "net: UDP datagram dropped: %s",
			                strerror(errno));
		s->dq = d->next;
		if (s->dq == NULL)
			s->dq_tail = NULL;
		s->dq_bytes -= d->n;
		free(d);
	}
}

static int send_tcp(struct espat_sock *s, const uint8_t *p, size_t n)
{
	if (s->werr != 0)
		return espat_netp_err(s->werr);
	size_t off = 0;
	if (s->state == SS_OPEN && espat_bytebuf_size(&s->q) == 0) {
		while (off < n) {
			ssize_t w = write_some(s->fd, p + off, n - off);
			if (w < 0 && errno == EAGAIN)
				break;
			if (w <= 0) {
				s->werr = w < 0 ? errno : EIO;
				queue_drop(s);
				sock_watch(s);
				return espat_netp_err(s->werr);
			}
			off += (size_t)w;
		}
	}
	if (off < n && !espat_bytebuf_append(&s->q, p + off, n - off)) {
		/* Part of the bytes may be in the stream already: the
		 * stream is broken, so the socket is too. */
		s->werr = ENOMEM;
		queue_drop(s);
		sock_watch(s);
		return ESPAT_NET_ENOMEM;
	}
	return 0;
}

static int send_udp(struct espat_sock *s, const uint8_t *p, size_t n,
                    const struct espat_endpoint *to)
{
	if (to == NULL)
		to = &s->remote;
	struct sockaddr_storage ss;
	socklen_t sl;
	if (to->port == 0 || espat_netp_sockaddr(to, s->family, &ss, &sl) < 0)
		return ESPAT_NET_EINVAL;
	if (s->dq == NULL) {
		for (;;) {
			ssize_t w = sendto(s->fd, p, n, MSG_NOSIGNAL, (struct sockaddr *)&ss, sl);
			if (w >= 0)
				return 0;
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
				break;
			return espat_netp_err(errno);
		}
	}
	struct dgram *d = malloc(sizeof(*d) + n);
	if (d == NULL)
		return ESPAT_NET_ENOMEM;
	d->next = NULL;
	d->to = ss;
	d->tolen = sl;
	d->n = n;
	if (n > 0)
		memcpy(d->p, p, n);
	if (s->dq_tail != NULL)
		s->dq_tail->next = d;
	else
		s->dq = d;
	s->dq_tail = d;
	s->dq_bytes += n;
	return 0;
}

static void on_defer(void *user);

static int net_send(void *user, struct espat_sock *s, const uint8_t *p, size_t n,
                    const struct espat_endpoint *to)
{
	if (s->owner_closed || s->listener)
		return ESPAT_NET_EINVAL;
	int rc = s->kind == ESPAT_SOCK_UDP ? send_udp(s, p, n, to) : send_tcp(s, p, n);
	if (rc != 0)
		return rc;
	s->want_drained = true;
	if (queued_bytes(s) == 0) {
		if (s->state == SS_OPEN)
			espat_loop_timer_arm(s->np->loop, &s->defer, espat_loop_now_ns(), on_defer,
			                     s);
	} else {
		sock_watch(s);
	}
	return 0;
}

static size_t net_queued(void *user, struct espat_sock *s)
{
	return queued_bytes(s);
}

/* ---- closing ---------------------------------------------------------------- */

/* Drops what the peer sent and nobody will read, so that close() sends FIN
 * rather than RST. MSG_TRUNC makes TCP discard without copying, so the
 * shared read buffer (maybe still in a data() callback's hands, when the
 * owner closes from inside it) is not touched. Sets eof at end of stream
 * or error. */
static void discard_input(struct espat_sock *s)
{
	for (int i = 0; i < DISCARD_READS; i++) {
		ssize_t r = recv(s->fd, NULL, ESPAT_NET_RECV_BUF, MSG_TRUNC | MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0)
			continue;
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			s->eof = true;
		return;
	}
}

static void set_linger(int fd, bool on, int secs)
{
	struct linger lg = {.l_onoff = on, .l_linger = secs};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

/* Closes the fd now: a reset when abort, else FIN after the kernel's
 * buffer. Frees s unless one of its callbacks is on the stack. */
static void sock_finish(struct espat_sock *s, bool abort)
{
	if (s->kind == ESPAT_SOCK_TCP && !s->listener && s->fd >= 0 && s->state != SS_CONNECTING) {
		if (abort) {
			set_linger(s->fd, true, 0);
		} else {
			if (!s->eof)
				discard_input(s);
			if (s->linger_timed)
				set_linger(s->fd, false, 0);
		}
	}
	sock_shut(s);
	if (s->busy == 0)
		sock_free(s);
}

static void on_give_up(void *user)
{
	struct espat_sock *s = user;
	espat_log_info(s->np->log,
	               "net: graceful close: %zu bytes still queued after %u ms, resetting",
	               queued_bytes(s), ESPAT_NET_CLOSE_FLUSH_MS);
	sock_finish(s, true);
}

static void on_closing(struct espat_sock *s, uint32_t events)
{
	if (s->kind == ESPAT_SOCK_UDP) {
		flush_udp(s);
		if (s->dq == NULL)
			sock_finish(s, false);
		return;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !s->eof)
		discard_input(s);
	if (flush_tcp(s) != 0) {
		sock_finish(s, true);
		return;
	}
	if (espat_bytebuf_size(&s->q) == 0) {
		sock_finish(s, false);
		return;
	}
	sock_watch(s);
}

static void net_close(void *user, struct espat_sock *s, enum espat_close_how how)
{
	if (s == NULL || s->owner_closed)
		return;
	s->owner_closed = true;
	s->cb = (struct espat_sock_cbs){0};
	s->pend_connected = false;
	s->want_drained = false;
	espat_loop_timer_cancel(s->np->loop, &s->defer);
	if (how == ESPAT_CLOSE_GRACEFUL && s->state == SS_OPEN && !s->listener && s->werr == 0 &&
	    queued_bytes(s) > 0) {
		s->state = SS_CLOSING;
		espat_loop_timer_arm(s->np->loop, &s->give_up,
		                     espat_loop_now_ns() +
		                         (uint64_t)ESPAT_NET_CLOSE_FLUSH_MS * ESPAT_NETP_NS_PER_MS,
		                     on_give_up, s);
		sock_watch(s);
		return;
	}
	sock_finish(s, how == ESPAT_CLOSE_ABORT);
}

/* ---- receiving ------------------------------------------------------------ */

/* closed(err) once; the read side is finished. */
static bool report_closed(struct espat_sock *s, int err)
{
	s->eof = true;
	sock_watch(s);
	if (s->cb.closed == NULL)
		return false;
	cb_enter(s);
	s->cb.closed(s->cbuser, err);
	return cb_leave(s);
}

/* Reads while there is input, the owner is not paused and the per-wake
 * budget lasts. True when the owner closed s in a callback. */
static bool read_tcp(struct espat_sock *s)
{
	struct espat_net_posix *np = s->np;
	for (int i = 0; i < TCP_READS_PER_WAKE && !s->paused && !s->eof; i++) {
		ssize_t r = recv(s->fd, np->rbuf, ESPAT_NET_RECV_BUF, 0);
		if (r > 0) {
			if (s->cb.data != NULL) {
				cb_enter(s);
				s->cb.data(s->cbuser, np->rbuf, (size_t)r, &s->remote);
				if (cb_leave(s))
					return true;
			}
			if ((size_t)r < ESPAT_NET_RECV_BUF)
				break; /* most likely empty: epoll says if not */
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* End of stream. A failed write comes first: it may have
		 * consumed the reset already, leaving a plain EOF (or
		 * ENOTCONN) here. */
		int e = s->werr != 0 ? s->werr : r == 0 ? 0 : errno;
		if (e != 0 && s->werr == 0) {
			s->werr = e;
			queue_drop(s);
		}
		return report_closed(s, espat_netp_err(e));
	}
	sock_watch(s);
	return false;
}

static bool read_udp(struct espat_sock *s)
{
	struct espat_net_posix *np = s->np;
	for (int i = 0; i < UDP_READS_PER_WAKE && !s->paused; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t r =
		    recvfrom(s->fd, np->rbuf, ESPAT_NET_RECV_BUF, 0, (struct sockaddr *)&ss, &sl);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0) {
			/* An ICMP error of an earlier send: not this socket's
			 * end, nothing to report. */
			espat_log_debug(np->log, "net: UDP: %s", strerror(errno));
			continue;
		}
		if (s->cb.data == NULL)
			continue;
		struct espat_endpoint from;
		espat_netp_endpoint((struct sockaddr *)&ss, &from);
		cb_enter(s);
		s->cb.data(s->cbuser, np->rbuf, (size_t)r, &from);
		if (cb_leave(s))
			return true;
	}
	sock_watch(s);
	return false;
}

/* ---- events --------------------------------------------------------------- */

/* drained() when a send() wants it and the queue is empty. */
static bool maybe_drained(struct espat_sock *s)
{
	if (!s->want_drained || queued_bytes(s) > 0)
		return false;
	s->want_drained = false;
	if (s->cb.drained == NULL)
		return false;
	cb_enter(s);
	s->cb.drained(s->cbuser);
	return cb_leave(s);
}

static void on_defer(void *user)
{
	struct espat_sock *s = user;
	if (s->listener) {
		s->accept_paused = false;
		sock_watch(s);
		return;
	}
	if (s->pend_connected) {
		s->pend_connected = false;
		if (s->cb.connected != NULL) {
			cb_enter(s);
			s->cb.connected(s->cbuser, s->pend_err);
			if (cb_leave(s))
				return;
		}
	}
	if (s->state == SS_OPEN)
		maybe_drained(s);
}

/* A connect that failed says why on stderr at the default level: the AT
 * port only says ERROR (COMPAT #94). */
static void log_connect_failed(struct espat_sock *s, int e)
{
	char ep[64];
	espat_netp_ep_str(&s->remote, ep, sizeof(ep));
	const char *why = e == ECONNREFUSED ? " (nothing listens on that port)"
	                  : e == ENETUNREACH || e == EHOSTUNREACH ? " (the host has no route there)"
	                                                          : "";
	espat_log_norepeat(s->np->log, &s->np->connect_rep, ESPAT_LOG_WARN,
	                   "net: connect to %s failed: %s%s", ep, strerror(e), why);
}

static void connect_done(struct espat_sock *s)
{
	int e = 0;
	socklen_t len = sizeof(e);
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	s->state = SS_OPEN;
	if (e != 0) {
		s->werr = e;
		s->eof = true;
		queue_drop(s);
		log_connect_failed(s, e);
	}
	sock_watch(s);
	if (s->cb.connected != NULL) {
		cb_enter(s);
		s->cb.connected(s->cbuser, espat_netp_err(e));
		if (cb_leave(s))
			return;
	}
	if (e == 0 && queued_bytes(s) > 0) {
		flush_tcp(s);
		sock_watch(s);
	}
	if (e == 0)
		maybe_drained(s);
}

static void accept_some(struct espat_sock *s)
{
	struct espat_net_posix *np = s->np;
	for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(s->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* Out of fds or memory: level-triggered epoll would
			 * spin, so stop listening for a moment. */
			espat_log_warn(np->log, "net: accept: %s", strerror(errno));
			s->accept_paused = true;
			sock_watch(s);
			espat_loop_timer_arm(np->loop, &s->defer,
			                     espat_loop_now_ns() + ACCEPT_RETRY_NS, on_defer, s);
			return;
		}
		struct espat_sock *c = sock_new(np, ESPAT_SOCK_TCP, fd, s->family);
		if (c == NULL)
			continue;
		c->paused = true;
		espat_netp_endpoint((struct sockaddr *)&ss, &c->remote);
		if (s->cb.accepted == NULL) {
			net_close(np, c, ESPAT_CLOSE_ABORT);
			continue;
		}
		cb_enter(s);
		s->cb.accepted(s->cbuser, c);
		if (cb_leave(s))
			return;
	}
}

static void on_sock(void *user, uint32_t events)
{
	struct espat_sock *s = user;
	if (s->state == SS_CLOSING) {
		on_closing(s, events);
		return;
	}
	if (s->listener) {
		accept_some(s);
		return;
	}
	if (s->state == SS_CONNECTING) {
		connect_done(s);
		return;
	}
	if (s->kind == ESPAT_SOCK_UDP) {
		if (s->dq != NULL && (events & EPOLLOUT)) {
			flush_udp(s);
			if (maybe_drained(s))
				return;
		}
		if (events & EPOLLIN)
			read_udp(s);
		else
			sock_watch(s);
		return;
	}
	if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && espat_bytebuf_size(&s->q) > 0) {
		/* A failed write leaves the error to the read side, which
		 * reports it after any bytes still to be read. */
		if (flush_tcp(s) == 0 && maybe_drained(s))
			return;
	}
	if (!s->paused && !s->eof && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		read_tcp(s);
	else
		sock_watch(s);
}

/* ---- opening -------------------------------------------------------------- */

static int ip_family(const struct espat_ip *ip)
{
	return ip->v6 ? AF_INET6 : AF_INET;
}

static struct espat_sock *open_udp(struct espat_net_posix *np, const struct espat_sock_opts *o,
                                   int *err)
{
	int family = ip_family(o->mcast ? &o->group : &o->remote.ip);
	int fd = espat_netp_udp_fd(np->log, o, family);
	if (fd < 0) {
		*err = espat_netp_err(errno);
		return NULL;
	}
	struct espat_sock *s = sock_new(np, ESPAT_SOCK_UDP, fd, family);
	if (s == NULL) {
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	s->remote = o->remote;
	return s;
}

static struct espat_sock *open_tcp(struct espat_net_posix *np, const struct espat_sock_opts *o,
                                   int *err)
{
	int family = ip_family(&o->remote.ip);
	struct sockaddr_storage ss;
	socklen_t sl;
	if (o->remote.port == 0 || espat_netp_sockaddr(&o->remote, family, &ss, &sl) < 0) {
		*err = ESPAT_NET_EINVAL;
		return NULL;
	}
	int fd = espat_netp_tcp_fd(o, family);
	if (fd < 0) {
		*err = espat_netp_err(errno);
		return NULL;
	}
	struct espat_sock *s = sock_new(np, ESPAT_SOCK_TCP, fd, family);
	if (s == NULL) {
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	s->remote = o->remote;
	int rc;
	do {
		rc = connect(fd, (struct sockaddr *)&ss, sl);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0 && errno == EINPROGRESS) {
		s->state = SS_CONNECTING;
		return s;
	}
	/* Finished already (loopback can refuse at once): the result
	 * waits for the loop, as every result does. */
	int e = rc < 0 ? errno : 0;
	if (rc < 0) {
		s->werr = e;
		s->eof = true;
		log_connect_failed(s, e);
	}
	s->pend_connected = true;
	s->pend_err = espat_netp_err(e);
	espat_loop_timer_arm(np->loop, &s->defer, espat_loop_now_ns(), on_defer, s);
	return s;
}

static struct espat_sock *net_open(void *user, const struct espat_sock_opts *o,
                                   const struct espat_sock_cbs *cb, void *cbuser, int *err)
{
	struct espat_net_posix *np = user;
	if (o->tls) { /* TLS is the filter's (posix/tls_openssl.h) */
		*err = ESPAT_NET_EINVAL;
		return NULL;
	}
	struct espat_sock *s =
	    o->kind == ESPAT_SOCK_UDP ? open_udp(np, o, err) : open_tcp(np, o, err);
	if (s == NULL)
		return NULL;
	s->cb = *cb;
	s->cbuser = cbuser;
	if (sock_watch(s) == 0)
		return s;
	/* epoll refused the fd (out of memory): nothing would ever come. */
	sock_free(s);
	*err = ESPAT_NET_ENOMEM;
	return NULL;
}

static struct espat_sock *net_listen(void *user, uint16_t port, bool v6,
                                     const struct espat_tls_opts *tls,
                                     const struct espat_sock_cbs *cb, void *cbuser, int *err)
{
	struct espat_net_posix *np = user;
	if (tls) { /* TLS is the filter's (posix/tls_openssl.h) */
		*err = ESPAT_NET_EINVAL;
		return NULL;
	}
	int fd = espat_netp_listen_fd(port, v6);
	if (fd < 0) {
		*err = espat_netp_err(errno);
		return NULL;
	}
	struct espat_sock *s = sock_new(np, ESPAT_SOCK_TCP, fd, v6 ? AF_INET6 : AF_INET);
	if (s == NULL) {
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	s->listener = true;
	s->cb = *cb;
	s->cbuser = cbuser;
	if (sock_watch(s) < 0) {
		sock_free(s);
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	return s;
}

/* ---- the rest of the port --------------------------------------------------- */

static void net_attach(void *user, struct espat_sock *s, const struct espat_sock_cbs *cb,
                       void *cbuser)
{
	s->cb = *cb;
	s->cbuser = cbuser;
}

static void net_pause(void *user, struct espat_sock *s, bool paused)
{
	if (s->owner_closed || s->paused == paused)
		return;
	s->paused = paused;
	sock_watch(s);
}

static int net_set_tcpopt(void *user, struct espat_sock *s, const struct espat_tcpopt *o)
{
	if (s->kind != ESPAT_SOCK_TCP || s->listener || s->state == SS_SHUT)
		return ESPAT_NET_EINVAL;
	if (espat_netp_tcpopt(s->fd, o) < 0)
		return espat_netp_err(errno);
	s->linger_timed = o->linger_s > 0;
	return 0;
}

static void net_endpoints(void *user, struct espat_sock *s, struct espat_endpoint *local,
                          struct espat_endpoint *remote)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (local != NULL) {
		memset(local, 0, sizeof(*local));
		if (s->fd >= 0 && getsockname(s->fd, (struct sockaddr *)&ss, &sl) == 0)
			espat_netp_endpoint((struct sockaddr *)&ss, local);
	}
	if (remote != NULL)
		*remote = s->remote;
}

int espat_net_posix_init(struct espat_net_posix *np, struct espat_loop *loop,
                         const struct espat_log *log)
{
	*np =
	    (struct espat_net_posix){.loop = loop, .log = log, .ping_methods = ESPAT_NET_PING_ALL};
	np->rbuf = malloc(ESPAT_NET_RECV_BUF);
	if (np->rbuf == NULL)
		return -1;
	/* Reference-counted; needed before any channel on some builds. */
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		free(np->rbuf);
		np->rbuf = NULL;
		errno = ENOMEM;
		return -1;
	}
	np->ping_id = (uint16_t)getpid();
	return 0;
}

void espat_net_posix_free(struct espat_net_posix *np)
{
	if (np->rbuf == NULL)
		return;
	while (np->socks != NULL)
		sock_free(np->socks);
	espat_netp_dns_free_all(np);
	espat_netp_ping_free_all(np);
	free(np->rbuf);
	np->rbuf = NULL;
	ares_library_cleanup();
}

struct espat_net espat_net_posix_port(struct espat_net_posix *np)
{
	return (struct espat_net){
	    .open = net_open,
	    .listen = net_listen,
	    .attach = net_attach,
	    .send = net_send,
	    .queued = net_queued,
	    .pause = net_pause,
	    .set_tcpopt = net_set_tcpopt,
	    .endpoints = net_endpoints,
	    .close = net_close,
	    .resolve = espat_netp_resolve,
	    .resolve_cancel = espat_netp_resolve_cancel,
	    .ping = espat_netp_ping,
	    .ping_cancel = espat_netp_ping_cancel,
	    .user = np,
	};
}
