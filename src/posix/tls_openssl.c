/* TLS sockets of the filter: OpenSSL sessions over the lower port's
 * sockets, and the port functions that route a call to the lower port
 * (plain sockets) or to a session (TLS sockets, tagged). Contexts from
 * options are in tls_openssl_ctx.c. Rules in tls_openssl.h.
 *
 * One session is one SSL over one lower TCP socket, joined by a BIO of
 * ours: its writes are lower send()s (the lower port queues what the kernel
 * does not take), its reads take the ciphertext kept from earlier lower
 * data() calls, then the piece the lower port is delivering now. Every
 * entry from outside (a lower callback, run()) holds the socket while it
 * works, so that an owner's close() from inside one of its callbacks only
 * marks it; the last holder frees it. */
#include "posix/tls_openssl.h"
#include "posix/bytebuf.h"
#include "posix/tls_openssl_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

#define TAG ((uintptr_t)1) /* set in the pointers handed out for TLS sockets */
#define NS_PER_MS 1000000u
#define NS_PER_S 1000000000u

enum tls_state {
	TS_CONNECTING, /* client: the lower TCP connect is under way */
	TS_HANDSHAKE,  /* the session is being set up */
	TS_OPEN,       /* application data both ways */
	TS_DONE,       /* nothing more is read: closed() or a failed connected() was reported */
	TS_LISTENING,  /* a listener */
};

/* Bytes waiting: p[off..len). */
struct espat_tlsf_sock {
	struct espat_tls_filter *f;
	struct espat_tlsf_sock *prev, *next; /* f->socks */
	enum tls_state state;
	struct espat_sock *low;         /* the lower socket or listener; NULL once closed */
	SSL *ssl;                       /* the session; NULL for a listener */
	SSL_CTX *ctx;                   /* listener: the context of its peers' sessions */
	struct espat_tlsf_sock *parent; /* a peer still in its handshake: its listener */
	struct espat_sock_cbs cb;
	void *cbuser;
	struct espat_endpoint remote; /* the peer: `from` of data() */
	bool server;                  /* accepted: a failed handshake is dropped silently */
	bool verify;                  /* the peer's certificate is checked against a CA */
	bool paused;                  /* by the owner */
	bool owner_closed;         /* close() ran, or the filter dropped it: no callback any more */
	unsigned busy;             /* entries on the stack: the free waits for the last */
	bool ready;                /* run() has plaintext or a close to deliver */
	bool want_drained;         /* a send() since the last drained() */
	bool established;          /* the handshake finished */
	bool broken;               /* a fatal error: no more writes, no close_notify */
	bool low_closed;           /* the lower closed(): no more ciphertext comes */
	int low_err;               /* its error */
	int send_err;              /* a lower send() failed: the stream is broken */
	uint64_t deadline_ns;      /* TS_HANDSHAKE: given up then */
	const uint8_t *in;         /* the lower data() piece being read ... */
	size_t in_n;               /* ... and how much of it SSL has not taken */
	struct espat_bytebuf rx;   /* ciphertext kept for later (the owner paused) */
	struct espat_bytebuf tx;   /* plaintext sent before the handshake finished */
	int64_t (*clock)(void *);  /* listener: the module's clock, or NULL ... */
	void *clock_user;
	int64_t now;               /* ... else its time at listen() ... (client: at open()) */
	uint64_t now_at_ns;        /* ... and the monotonic time then */
	struct espat_tlsf_psk psk; /* client: its PSK (the SSL's app data) */
	char sni[256];             /* client: the name it asked for, for the log; "" none */
	char check_name[256];      /* client: the name its server's certificate must hold */
};

/* ---- handles ---------------------------------------------------------------- */

static bool is_tls(const struct espat_sock *s)
{
	return ((uintptr_t)s & TAG) != 0;
}

static struct espat_tlsf_sock *tls_of(struct espat_sock *s)
{
	return (struct espat_tlsf_sock *)((uintptr_t)s & ~TAG);
}

static struct espat_sock *handle(struct espat_tlsf_sock *t)
{
	return (struct espat_sock *)((uintptr_t)t | TAG);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void fmt_ep(const struct espat_endpoint *ep, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	if (inet_ntop(ep->ip.v6 ? AF_INET6 : AF_INET, ep->ip.a, ip, sizeof(ip)) == NULL)
		ip[0] = '\0';
	snprintf(out, len, ep->ip.v6 ? "[%s]:%u" : "%s:%u", ip, ep->port);
}

/* ---- lifetime --------------------------------------------------------------- */

static struct espat_tlsf_sock *sock_new(struct espat_tls_filter *f, enum tls_state state)
{
	struct espat_tlsf_sock *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->f = f;
	t->state = state;
	t->next = f->socks;
	if (f->socks != NULL)
		f->socks->prev = t;
	f->socks = t;
	return t;
}

static void sock_free(struct espat_tlsf_sock *t)
{
	struct espat_tls_filter *f = t->f;
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		f->socks = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	SSL_free(t->ssl); /* and its BIO */
	SSL_CTX_free(t->ctx);
	espat_bytebuf_free(&t->rx);
	espat_bytebuf_free(&t->tx);
	OPENSSL_cleanse(&t->psk, sizeof(t->psk));
	free(t);
}

static void hold(struct espat_tlsf_sock *t)
{
	t->busy++;
}

static void release(struct espat_tlsf_sock *t)
{
	if (--t->busy == 0 && t->owner_closed)
		sock_free(t);
}

/* The end of t for its owner: the lower socket closed as asked, no
 * callback any more, the free once nobody holds it. A listener takes its
 * peers still in the handshake with it. */
static void drop(struct espat_tlsf_sock *t, enum espat_close_how how)
{
	struct espat_tls_filter *f = t->f;
	t->owner_closed = true;
	t->cb = (struct espat_sock_cbs){0};
	t->ready = false;
	if (t->low != NULL) {
		f->lower.close(f->lower.user, t->low, how);
		t->low = NULL;
	}
	if (t->state == TS_LISTENING) {
		for (struct espat_tlsf_sock *c = f->socks, *next; c != NULL; c = next) {
			next = c->next;
			if (c->parent == t && !c->owner_closed)
				drop(c, ESPAT_CLOSE_ABORT);
		}
	}
	if (t->busy == 0)
		sock_free(t);
}

/* ---- the BIO between a session and its lower socket ------------------------ */

static int bio_write(BIO *b, const char *p, size_t n, size_t *written)
{
	struct espat_tlsf_sock *t = BIO_get_data(b);
	const struct espat_net *lw = &t->f->lower;
	BIO_clear_retry_flags(b);
	if (t->low == NULL || t->send_err != 0)
		return 0;
	int rc = lw->send(lw->user, t->low, (const uint8_t *)p, n, NULL);
	if (rc != 0) {
		t->send_err = rc;
		return 0;
	}
	*written = n;
	return 1;
}

/* Kept ciphertext first, then the piece being delivered; nothing at hand
 * is "retry" (more will come, or the lower closed() says it will not). */
static int bio_read(BIO *b, char *p, size_t n, size_t *got)
{
	struct espat_tlsf_sock *t = BIO_get_data(b);
	BIO_clear_retry_flags(b);
	size_t k;
	if (espat_bytebuf_size(&t->rx) > 0) {
		k = espat_bytebuf_size(&t->rx) < n ? espat_bytebuf_size(&t->rx) : n;
		memcpy(p, espat_bytebuf_data(&t->rx), k);
		espat_bytebuf_take(&t->rx, k);
	} else if (t->in_n > 0) {
		k = t->in_n < n ? t->in_n : n;
		memcpy(p, t->in, k);
		t->in += k;
		t->in_n -= k;
	} else {
		BIO_set_retry_read(b);
		return 0;
	}
	*got = k;
	return 1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	return cmd == BIO_CTRL_FLUSH; /* lower send()s need no flush */
}

static bool attach_bio(struct espat_tlsf_sock *t)
{
	BIO *b = BIO_new(t->f->bio_method);
	if (b == NULL)
		return false;
	BIO_set_data(b, t);
	BIO_set_init(b, 1);
	SSL_set_bio(t->ssl, b, b); /* the SSL takes our one reference */
	return true;
}

/* ---- the session ------------------------------------------------------------ */

/* Logs the thread's OpenSSL errors with what happened to t. */
static void log_failure(struct espat_tlsf_sock *t, const char *what, const char *hint)
{
	char ep[64], line[192];
	fmt_ep(&t->remote, ep, sizeof(ep));
	long vr = t->ssl != NULL ? SSL_get_verify_result(t->ssl) : X509_V_OK;
	snprintf(line, sizeof(line), "%s %s %s%s%s%s%s", t->server ? "server" : "client", what, ep,
	         hint ? ", " : "", hint ? hint : "",
	         t->verify && vr != X509_V_OK ? ", certificate: " : "",
	         t->verify && vr != X509_V_OK ? X509_verify_cert_error_string(vr) : "");
	espat_tlsf_log_errors(t->f->log, ESPAT_LOG_INFO, line);
}

/* closed(err) once; nothing more is read. */
static void finish(struct espat_tlsf_sock *t, int err)
{
	t->state = TS_DONE;
	espat_bytebuf_free(&t->rx);
	if (t->cb.closed != NULL)
		t->cb.closed(t->cbuser, err);
}

/* A client's failed handshake, in one line at the default level (the AT
 * port only says ERROR); before log_failure(), which empties OpenSSL's
 * error queue. */
static void say_why(struct espat_tlsf_sock *t, const char *hint)
{
	char ep[64], peer[sizeof(t->sni) + sizeof(ep) + 4], why[512];
	fmt_ep(&t->remote, ep, sizeof(ep));
	if (t->sni[0])
		snprintf(peer, sizeof(peer), "%s (%s)", t->sni, ep);
	else
		snprintf(peer, sizeof(peer), "%s", ep);
	espat_tlsf_why(t->ssl, t->verify, t->check_name[0] ? t->check_name : NULL, t->now, hint,
	               why, sizeof(why));
	espat_log_norepeat(t->f->log, &t->f->why_rep, ESPAT_LOG_WARN,
	                   "tls: SSL connection to %s failed: %s", peer, why);
}

/* A client hears connected(err); an accepted peer is closed without a word
 * (gracefully: the alert OpenSSL wrote still reaches it). */
static void handshake_failed(struct espat_tlsf_sock *t, int err, const char *hint)
{
	if (!t->server)
		say_why(t, hint);
	log_failure(t, "handshake failed with", hint);
	t->state = TS_DONE;
	espat_bytebuf_free(&t->rx);
	if (t->server) {
		drop(t, ESPAT_CLOSE_GRACEFUL);
		return;
	}
	if (t->cb.connected != NULL)
		t->cb.connected(t->cbuser, err);
}

/* ECERT when the peer's certificate did not verify, else ETLS. */
static int handshake_err(struct espat_tlsf_sock *t)
{
	if (t->verify && SSL_get_verify_result(t->ssl) != X509_V_OK)
		return ESPAT_NET_ECERT;
	unsigned long e = ERR_peek_error();
	if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED)
		return ESPAT_NET_ECERT;
	return ESPAT_NET_ETLS;
}

/* Hands plaintext to the session, which sends its records at once. 0, or
 * the error that broke the stream. */
static int ssl_write(struct espat_tlsf_sock *t, const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t w = 0;
		ERR_clear_error();
		if (SSL_write_ex(t->ssl, p, n, &w)) {
			p += w;
			n -= w;
			continue;
		}
		/* Our BIO never asks to retry and renegotiation is off, so
		 * any failure is final. */
		t->broken = true;
		log_failure(t, "write to", NULL);
		return t->send_err != 0 ? t->send_err : ESPAT_NET_ETLS;
	}
	return 0;
}

/* The plaintext a client sent before its handshake finished goes out now
 * (a failure shows when reading); for a send() of nothing, the lower port
 * is asked for the drained() the owner waits for. */
static void flush_held(struct espat_tlsf_sock *t)
{
	static const uint8_t nothing[1];
	if (espat_bytebuf_size(&t->tx) > 0)
		ssl_write(t, espat_bytebuf_data(&t->tx), espat_bytebuf_size(&t->tx));
	else if (t->want_drained)
		t->f->lower.send(t->f->lower.user, t->low, nothing, 0, NULL);
	espat_bytebuf_free(&t->tx);
}

/* The handshake is over: a client hears connected(0), a listener's owner
 * gets the peer (paused, as port/net.h has it). True when t is still its
 * owner's and open. */
static bool handshake_done(struct espat_tlsf_sock *t)
{
	struct espat_tls_filter *f = t->f;
	t->state = TS_OPEN;
	t->established = true;
	if (f->log != NULL && f->log->level >= ESPAT_LOG_DEBUG) {
		char ep[64];
		fmt_ep(&t->remote, ep, sizeof(ep));
		espat_log_debug(f->log, "tls: %s %s: %s %s", t->server ? "from" : "to", ep,
		                SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl));
	}
	if (!t->server) {
		flush_held(t);
		if (t->paused)
			f->lower.pause(f->lower.user, t->low, true);
		if (t->cb.connected != NULL)
			t->cb.connected(t->cbuser, 0);
		return !t->owner_closed;
	}
	struct espat_tlsf_sock *ls = t->parent;
	t->parent = NULL;
	t->paused = true;
	f->lower.pause(f->lower.user, t->low, true);
	if (ls->cb.accepted == NULL) {
		drop(t, ESPAT_CLOSE_ABORT);
		return false;
	}
	hold(ls);
	ls->cb.accepted(ls->cbuser, handle(t));
	release(ls);
	return !t->owner_closed;
}

/* Advances the handshake; true once it finished and t is open. */
static bool handshake(struct espat_tlsf_sock *t)
{
	ERR_clear_error();
	int r = SSL_do_handshake(t->ssl);
	if (r == 1)
		return handshake_done(t);
	int e = SSL_get_error(t->ssl, r);
	if (e == SSL_ERROR_WANT_READ && !t->low_closed && t->send_err == 0)
		return false;
	const char *hint = e == SSL_ERROR_WANT_READ && t->low_closed ? "the peer closed"
	                   : t->send_err != 0                        ? "the connection failed"
	                                                             : NULL;
	handshake_failed(t, e == SSL_ERROR_SSL ? handshake_err(t) : ESPAT_NET_ETLS, hint);
	return false;
}

/* Plaintext to the owner while it reads; closed() when the stream ends. */
static void read_plain(struct espat_tlsf_sock *t)
{
	uint8_t *p = t->f->pbuf;
	while (!t->paused && !t->owner_closed && t->state == TS_OPEN) {
		size_t got = 0;
		ERR_clear_error();
		if (SSL_read_ex(t->ssl, p, ESPAT_TLS_READ_MAX, &got)) {
			if (t->cb.data != NULL)
				t->cb.data(t->cbuser, p, got, &t->remote);
			continue;
		}
		int e = SSL_get_error(t->ssl, 0);
		/* After a failed send() too: the lower port reports its end
		 * once every byte before it was read. */
		if (e == SSL_ERROR_WANT_READ) {
			if (t->low_closed)
				finish(t, t->low_err); /* a FIN without close_notify is no error */
			return;
		}
		if (e == SSL_ERROR_ZERO_RETURN) {
			finish(t, 0);
			return;
		}
		t->broken = true;
		log_failure(t, "read from", NULL);
		finish(t, t->send_err != 0 ? t->send_err : ESPAT_NET_ETLS);
		return;
	}
}

/* Runs the session over the ciphertext at hand: the handshake (which sends
 * what a client held back), then plaintext in while the owner reads. The
 * caller holds t. */
static void pump(struct espat_tlsf_sock *t)
{
	if (t->state == TS_HANDSHAKE && !handshake(t))
		return;
	if (t->state != TS_OPEN || t->owner_closed)
		return;
	read_plain(t);
}

/* An error outside the session (out of memory): the stream cannot go on. */
static void fail(struct espat_tlsf_sock *t, int err)
{
	t->broken = true;
	if (t->state == TS_HANDSHAKE)
		handshake_failed(t, err, "out of memory");
	else
		finish(t, err);
}

/* ---- lower callbacks -------------------------------------------------------- */

static void low_connected(void *user, int err)
{
	struct espat_tlsf_sock *t = user;
	if (t->owner_closed || t->state != TS_CONNECTING)
		return;
	hold(t);
	if (err != 0) {
		t->state = TS_DONE;
		if (t->cb.connected != NULL)
			t->cb.connected(t->cbuser, err);
	} else {
		t->state = TS_HANDSHAKE;
		t->deadline_ns = now_ns() + (uint64_t)t->f->handshake_ms * NS_PER_MS;
		pump(t);
	}
	release(t);
}

static void low_data(void *user, const uint8_t *p, size_t n, const struct espat_endpoint *from)
{
	struct espat_tlsf_sock *t = user;
	if (t->owner_closed || t->state == TS_DONE)
		return; /* after closed(): nothing is read any more */
	hold(t);
	t->in = p;
	t->in_n = n;
	pump(t);
	if (t->in_n > 0 && !t->owner_closed && t->state != TS_DONE &&
	    !espat_bytebuf_append(&t->rx, t->in, t->in_n))
		fail(t, ESPAT_NET_ENOMEM);
	t->in = NULL;
	t->in_n = 0;
	release(t);
}

static void low_closed(void *user, int err)
{
	struct espat_tlsf_sock *t = user;
	if (t->owner_closed || t->state == TS_DONE)
		return;
	hold(t);
	t->low_closed = true;
	t->low_err = err;
	pump(t);
	release(t);
}

static void low_drained(void *user)
{
	struct espat_tlsf_sock *t = user;
	if (t->owner_closed || !t->want_drained || !t->established || espat_bytebuf_size(&t->tx) > 0)
		return;
	t->want_drained = false;
	if (t->cb.drained == NULL)
		return;
	hold(t);
	t->cb.drained(t->cbuser);
	release(t);
}

static void low_accepted(void *user, struct espat_sock *s);

static const struct espat_sock_cbs low_cbs = {
    .connected = low_connected,
    .data = low_data,
    .closed = low_closed,
    .drained = low_drained,
    .accepted = low_accepted,
};

/* A peer of a TLS listener: its handshake runs here; the owner hears of it
 * once that succeeded. */
static void low_accepted(void *user, struct espat_sock *s)
{
	struct espat_tlsf_sock *ls = user;
	struct espat_tls_filter *f = ls->f;
	struct espat_tlsf_sock *t = ls->owner_closed ? NULL : sock_new(f, TS_HANDSHAKE);
	if (t == NULL) {
		f->lower.close(f->lower.user, s, ESPAT_CLOSE_ABORT);
		return;
	}
	t->low = s;
	t->server = true;
	t->parent = ls;
	t->verify = ls->verify;
	f->lower.endpoints(f->lower.user, s, NULL, &t->remote);
	t->ssl = SSL_new(ls->ctx);
	if (t->ssl == NULL || !attach_bio(t)) {
		espat_tlsf_log_errors(f->log, ESPAT_LOG_WARN, "accepted peer");
		drop(t, ESPAT_CLOSE_ABORT);
		return;
	}
	uint64_t now = now_ns();
	/* The module's clock now, or its time at listen() advanced since. */
	int64_t wall = ls->clock ? ls->clock(ls->clock_user)
	                         : ls->now + (int64_t)((now - ls->now_at_ns) / NS_PER_S);
	X509_VERIFY_PARAM_set_time(SSL_get0_param(t->ssl), (time_t)wall);
	SSL_set_accept_state(t->ssl);
	t->deadline_ns = now + (uint64_t)f->handshake_ms * NS_PER_MS;
	f->lower.attach(f->lower.user, s, &low_cbs, t);
	f->lower.pause(f->lower.user, s, false);
}

/* ---- the port --------------------------------------------------------------- */

static struct espat_sock *port_open(void *user, const struct espat_sock_opts *o,
                                    const struct espat_sock_cbs *cb, void *cbuser, int *err)
{
	struct espat_tls_filter *f = user;
	if (o->tls == NULL)
		return f->lower.open(f->lower.user, o, cb, cbuser, err);
	if (o->kind != ESPAT_SOCK_TCP) {
		*err = ESPAT_NET_EINVAL;
		return NULL;
	}
	struct espat_tlsf_sock *t = sock_new(f, TS_CONNECTING);
	if (t == NULL) {
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	t->remote = o->remote;
	t->now = o->tls->now;
	snprintf(t->sni, sizeof(t->sni), "%s", o->tls->sni ? o->tls->sni : "");
	if (o->tls->ca != NULL)
		snprintf(t->check_name, sizeof(t->check_name), "%s",
		         o->tls->check_name ? o->tls->check_name : "");
	t->ssl = espat_tlsf_client_new(o->tls, &t->psk, &t->verify, f->log, err);
	if (t->ssl != NULL && !attach_bio(t)) {
		*err = ESPAT_NET_ENOMEM;
	} else if (t->ssl != NULL) {
		struct espat_sock_opts plain = *o;
		plain.tls = NULL;
		t->low = f->lower.open(f->lower.user, &plain, &low_cbs, t, err);
	}
	if (t->low == NULL) {
		sock_free(t);
		return NULL;
	}
	t->cb = *cb;
	t->cbuser = cbuser;
	return handle(t);
}

static struct espat_sock *port_listen(void *user, uint16_t port, bool v6,
                                      const struct espat_tls_opts *tls,
                                      const struct espat_sock_cbs *cb, void *cbuser, int *err)
{
	struct espat_tls_filter *f = user;
	if (tls == NULL)
		return f->lower.listen(f->lower.user, port, v6, NULL, cb, cbuser, err);
	struct espat_tlsf_sock *t = sock_new(f, TS_LISTENING);
	if (t == NULL) {
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	t->ctx = espat_tlsf_server_ctx(tls, f->log, err);
	if (t->ctx != NULL)
		t->low = f->lower.listen(f->lower.user, port, v6, NULL, &low_cbs, t, err);
	if (t->low == NULL) {
		sock_free(t);
		return NULL;
	}
	t->verify = tls->ca != NULL;
	t->clock = tls->clock;
	t->clock_user = tls->clock_user;
	t->now = tls->now;
	t->now_at_ns = now_ns();
	t->cb = *cb;
	t->cbuser = cbuser;
	return handle(t);
}

static void port_attach(void *user, struct espat_sock *s, const struct espat_sock_cbs *cb,
                        void *cbuser)
{
	struct espat_tls_filter *f = user;
	if (!is_tls(s)) {
		f->lower.attach(f->lower.user, s, cb, cbuser);
		return;
	}
	struct espat_tlsf_sock *t = tls_of(s);
	t->cb = *cb;
	t->cbuser = cbuser;
}

static int port_send(void *user, struct espat_sock *s, const uint8_t *p, size_t n,
                     const struct espat_endpoint *to)
{
	struct espat_tls_filter *f = user;
	if (!is_tls(s))
		return f->lower.send(f->lower.user, s, p, n, to);
	struct espat_tlsf_sock *t = tls_of(s);
	if (t->owner_closed || t->state == TS_LISTENING)
		return ESPAT_NET_EINVAL;
	if (t->send_err != 0)
		return t->send_err;
	if (t->broken || (t->state == TS_DONE && !t->established))
		return ESPAT_NET_ETLS;
	if (!t->established || espat_bytebuf_size(&t->tx) > 0) {
		if (!espat_bytebuf_append(&t->tx, p, n))
			return ESPAT_NET_ENOMEM;
	} else if (n == 0) {
		/* nothing to encrypt; the lower port still owes drained() */
		int rc = f->lower.send(f->lower.user, t->low, p, 0, NULL);
		if (rc != 0)
			return rc;
	} else {
		int rc = ssl_write(t, p, n);
		if (rc != 0)
			return rc;
	}
	t->want_drained = true;
	return 0;
}

static size_t port_queued(void *user, struct espat_sock *s)
{
	struct espat_tls_filter *f = user;
	if (!is_tls(s))
		return f->lower.queued(f->lower.user, s);
	struct espat_tlsf_sock *t = tls_of(s);
	size_t q = t->low != NULL ? f->lower.queued(f->lower.user, t->low) : 0;
	return q + espat_bytebuf_size(&t->tx);
}

/* Something to deliver that needs no more from the peer. */
static bool has_input(struct espat_tlsf_sock *t)
{
	return espat_bytebuf_size(&t->rx) > 0 || SSL_has_pending(t->ssl) || t->low_closed || t->broken;
}

static void port_pause(void *user, struct espat_sock *s, bool paused)
{
	struct espat_tls_filter *f = user;
	if (!is_tls(s)) {
		f->lower.pause(f->lower.user, s, paused);
		return;
	}
	struct espat_tlsf_sock *t = tls_of(s);
	if (t->owner_closed || t->state == TS_LISTENING || t->paused == paused)
		return;
	t->paused = paused;
	/* The handshake reads whatever the owner wants; the lower socket
	 * follows the owner from its end on. */
	if (t->low != NULL && t->established)
		f->lower.pause(f->lower.user, t->low, paused);
	if (!paused && t->state == TS_OPEN && has_input(t)) {
		t->ready = true;
		if (f->wake != NULL)
			f->wake(f->wake_user);
	}
}

static int port_set_tcpopt(void *user, struct espat_sock *s, const struct espat_tcpopt *o)
{
	struct espat_tls_filter *f = user;
	if (!is_tls(s))
		return f->lower.set_tcpopt(f->lower.user, s, o);
	struct espat_tlsf_sock *t = tls_of(s);
	if (t->low == NULL)
		return ESPAT_NET_EINVAL;
	return f->lower.set_tcpopt(f->lower.user, t->low, o);
}

static void port_endpoints(void *user, struct espat_sock *s, struct espat_endpoint *local,
                           struct espat_endpoint *remote)
{
	struct espat_tls_filter *f = user;
	if (!is_tls(s)) {
		f->lower.endpoints(f->lower.user, s, local, remote);
		return;
	}
	struct espat_tlsf_sock *t = tls_of(s);
	if (t->low != NULL) {
		f->lower.endpoints(f->lower.user, t->low, local, remote);
		return;
	}
	if (local != NULL)
		memset(local, 0, sizeof(*local));
	if (remote != NULL)
		*remote = t->remote;
}

static void port_close(void *user, struct espat_sock *s, enum espat_close_how how)
{
	struct espat_tls_filter *f = user;
	if (s == NULL)
		return;
	if (!is_tls(s)) {
		f->lower.close(f->lower.user, s, how);
		return;
	}
	struct espat_tlsf_sock *t = tls_of(s);
	if (t->owner_closed)
		return;
	if (how == ESPAT_CLOSE_GRACEFUL && t->low != NULL && t->established && !t->broken &&
	    t->send_err == 0) {
		ERR_clear_error();
		SSL_shutdown(t->ssl); /* close_notify, through the lower send() */
		ERR_clear_error();
	}
	drop(t, how);
}

static struct espat_dns_req *port_resolve(void *user, const struct espat_dns_query *q,
                                          espat_dns_fn *done, void *cbuser, int *err)
{
	struct espat_tls_filter *f = user;
	return f->lower.resolve(f->lower.user, q, done, cbuser, err);
}

static void port_resolve_cancel(void *user, struct espat_dns_req *r)
{
	struct espat_tls_filter *f = user;
	f->lower.resolve_cancel(f->lower.user, r);
}

static struct espat_ping_req *port_ping(void *user, const struct espat_ip *ip, uint32_t timeout_ms,
                                        espat_ping_fn *done, void *cbuser, int *err)
{
	struct espat_tls_filter *f = user;
	return f->lower.ping(f->lower.user, ip, timeout_ms, done, cbuser, err);
}

static void port_ping_cancel(void *user, struct espat_ping_req *r)
{
	struct espat_tls_filter *f = user;
	f->lower.ping_cancel(f->lower.user, r);
}

/* ---- the filter ------------------------------------------------------------- */

void espat_tls_filter_run(struct espat_tls_filter *f)
{
	uint64_t now = now_ns();
	struct espat_tlsf_sock *t = f->socks;
	while (t != NULL) {
		hold(t);
		if (t->ready && !t->owner_closed) {
			t->ready = false;
			pump(t);
		}
		if (!t->owner_closed && t->state == TS_HANDSHAKE && now >= t->deadline_ns) {
			t->broken = true;
			handshake_failed(t, ESPAT_NET_ETIMEDOUT, "timed out");
		}
		/* t is held, so still linked: its next is current */
		struct espat_tlsf_sock *next = t->next;
		release(t);
		t = next;
	}
}

uint64_t espat_tls_filter_next_ns(const struct espat_tls_filter *f)
{
	uint64_t next = UINT64_MAX;
	for (const struct espat_tlsf_sock *t = f->socks; t != NULL; t = t->next) {
		if (t->owner_closed)
			continue;
		if (t->ready)
			return 0;
		if (t->state == TS_HANDSHAKE && t->deadline_ns < next)
			next = t->deadline_ns;
	}
	return next;
}

int espat_tls_filter_init(struct espat_tls_filter *f, const struct espat_net *lower,
                          void (*wake)(void *), void *wake_user, const struct espat_log *log)
{
	*f = (struct espat_tls_filter){
	    .lower = *lower,
	    .wake = wake,
	    .wake_user = wake_user,
	    .log = log,
	    .handshake_ms = ESPAT_TLS_HANDSHAKE_MS,
	};
	BIO_METHOD *m = NULL;
	f->pbuf = malloc(ESPAT_TLS_READ_MAX);
	if (f->pbuf != NULL && OPENSSL_init_ssl(0, NULL))
		m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "espat net socket");
	if (m == NULL || !BIO_meth_set_write_ex(m, bio_write) ||
	    !BIO_meth_set_read_ex(m, bio_read) || !BIO_meth_set_ctrl(m, bio_ctrl)) {
		BIO_meth_free(m);
		free(f->pbuf);
		f->pbuf = NULL;
		ERR_clear_error();
		errno = ENOMEM;
		return -1;
	}
	f->bio_method = m;
	return 0;
}

void espat_tls_filter_free(struct espat_tls_filter *f)
{
	if (f->pbuf == NULL)
		return;
	while (f->socks != NULL) {
		struct espat_tlsf_sock *t = f->socks;
		if (t->low != NULL)
			f->lower.close(f->lower.user, t->low, ESPAT_CLOSE_ABORT);
		sock_free(t);
	}
	BIO_meth_free(f->bio_method);
	f->bio_method = NULL;
	free(f->pbuf);
	f->pbuf = NULL;
}

struct espat_net espat_tls_filter_port(struct espat_tls_filter *f)
{
	return (struct espat_net){
	    .open = port_open,
	    .listen = port_listen,
	    .attach = port_attach,
	    .send = port_send,
	    .queued = port_queued,
	    .pause = port_pause,
	    .set_tcpopt = port_set_tcpopt,
	    .endpoints = port_endpoints,
	    .close = port_close,
	    .resolve = port_resolve,
	    .resolve_cancel = port_resolve_cancel,
	    .ping = port_ping,
	    .ping_cancel = port_ping_cancel,
	    .user = f,
	};
}
