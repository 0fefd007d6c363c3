/* Receiving (guide 3.3.32-3.3.34, Table 5): data from a link's socket
 * becomes +IPD in active mode, waits in the link's buffer in passive mode
 * (AT+CIPRECVTYPE, AT+CIPRECVDATA, AT+CIPRECVLEN, the legacy
 * AT+CIPRECVMODE), or goes to the UART raw in passthrough receiving mode.
 *
 * Flow control: a socket stops being read while its passive buffer is full
 * (the TCP window then closes on the peer, as the real 5760-byte window
 * does) or while the UART has more than ESPAT_TX_HIGH bytes queued (the
 * host reads slower than the network delivers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/tcpip_internal.h"


/* Passthrough receiving mode applies to the link passthrough would use. */
static bool raw_link(const struct espat_link *l)
{
	const struct espat_tcpip *t = l->m->tcpip;
	if (t->mode != 1)
		return false;
	return t->mux == 0 ? l->id == 0 : (l->server && t->srv && t->srv_max == 1);
}

void espat_recv_update(struct espat_link *l)
{
	struct espat_module *m = l->m;
	if (!l->conn.sock || l->state != ESPAT_LINK_UP)
		return;
	bool full = l->passive && l->rx_len >= ESPAT_RECV_WINDOW;
	bool pause = full || espat_module_tx_queued(m) > ESPAT_TX_HIGH;
	if (pause != l->paused) {
		l->paused = pause;
		NET(m)->pause(NET(m)->user, l->conn.sock, pause);
	}
}

static void say_ipd_len(struct espat_link *l)
{
	struct espat_module *m = l->m;
	if (m->tcpip->mux)
		espat_wr_reportf(&m->wr, "+IPD,%u,%zu", l->id, l->rx_len);
	else
		espat_wr_reportf(&m->wr, "+IPD,%zu", l->rx_len);
	l->ipd_said = true;
}

/* "\r\n+IPD,<id>,<len>[,"ip",port]:<data>" as one message: nothing can
 * come between the header and its data. */
static void ipd(struct espat_link *l, const uint8_t *p, size_t n, const struct espat_endpoint *from)
{
	struct espat_module *m = l->m;
	uint8_t msg[96 + ESPAT_IPD_MAX];
	char ip[46];
	int h;
	const struct espat_endpoint *r = from ? from : &l->remote;
	if (m->tcpip->dinfo && m->tcpip->mux)
		h = snprintf((char *)msg, 96, "\r\n+IPD,%u,%zu,\"%s\",%u:", l->id, n,
			     espat_ip_str(&r->ip, ip), r->port);
	else if (m->tcpip->dinfo)
		h = snprintf((char *)msg, 96, "\r\n+IPD,%zu,\"%s\",%u:", n,
			     espat_ip_str(&r->ip, ip), r->port);
	else if (m->tcpip->mux)
		h = snprintf((char *)msg, 96, "\r\n+IPD,%u,%zu:", l->id, n);
	else
		h = snprintf((char *)msg, 96, "\r\n+IPD,%zu:", n);
	memcpy(msg + h, p, n);
	espat_wr_report(&m->wr, msg, (size_t)h + n);
}

/* Keeps data in the passive buffer. UDP datagrams that do not fit are
 * dropped (as the real stack drops them); TCP never overflows by more than
 * one read, because the socket is paused at the window. The buffer is
 * allocated at the first data: out of memory, a datagram is dropped like
 * one that does not fit, and a TCP link, whose bytes were already taken
 * from the stream, is aborted and reported CLOSED (never a gap in it). */
static void keep(struct espat_link *l, const uint8_t *p, size_t n, const struct espat_endpoint *from)
{
	bool udp = espat_link_is_udp(l);
	size_t cap = ESPAT_RECV_WINDOW + (udp ? 0 : 65536);
	if (l->rx_len + n > cap || (udp && (l->ndg == ESPAT_DGRAMS_MAX || n > UINT16_MAX)))
		return;
	if (!l->rx) {
		l->rx = malloc(cap);
		if (!l->rx) {
			if (!udp) {
				espat_conn_close(&l->conn, ESPAT_CLOSE_ABORT);
				espat_link_lost(l, ESPAT_NET_ENOMEM);
			}
			return;
		}
	}
	memcpy(l->rx + l->rx_len, p, n);
	l->rx_len += n;
	if (udp)
		l->dg[l->ndg++] = (struct espat_dgram){.len = (uint16_t)n, .from = *from};
	else if (from)
		l->rx_from = *from;
	if (!l->ipd_said)
		say_ipd_len(l);
}

void espat_recv_data(struct espat_link *l, const uint8_t *p, size_t n,
		     const struct espat_endpoint *from)
{
	struct espat_module *m = l->m;
	espat_link_touch(l);
	if (espat_link_is_udp(l) && from) {
		bool other = from->port != l->remote.port ||
			     memcmp(&from->ip, &l->remote.ip, sizeof(from->ip)) != 0;
		if (other && (l->udp_mode == 2 || (l->udp_mode == 1 && !l->udp_moved))) {
			l->remote = *from;
			l->udp_moved = true;
		}
	}
	if (raw_link(l)) {
		espat_wr_raw(&m->wr, p, n);
	} else if (l->passive) {
		keep(l, p, n, from ? from : &l->remote);
	} else {
		while (n > 0) {
			size_t k = n < ESPAT_IPD_MAX ? n : ESPAT_IPD_MAX;
			ipd(l, p, k, from);
			p += k;
			n -= k;
		}
	}
	espat_recv_update(l);
}

static void on_data(void *user, const uint8_t *p, size_t n, const struct espat_endpoint *from)
{
	espat_recv_data(user, p, n, from);
}

static void on_closed(void *user, int err)
{
	espat_link_lost(user, err);
}

static void on_drained(void *user)
{
	espat_send_drained(user);
}

const struct espat_sock_cbs espat_link_cbs = {
	.data = on_data,
	.closed = on_closed,
	.drained = on_drained,
};

/* ---- AT+CIPRECVDATA, AT+CIPRECVLEN ------------------------------------------ */

enum espat_rc espat_ciprecvdata_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_tcpip *t = T(m);
	int64_t id = 0, len;
	if (t->mux) {
		if (a->n != 2 || a->v[1].kind != ESPAT_ARG_INT || a->v[0].i >= ESPAT_LINKS)
			return espat_fail(E(m), ESPAT_ERR_INVALID(a->n != 2 ? 1 : 0));
		id = a->v[0].i;
		len = a->v[1].i;
	} else {
		if (a->n != 1)
			return espat_fail(E(m), ESPAT_ERR_NUM(1, a->n));
		len = a->v[0].i;
	}
	struct espat_link *l = &t->links[id];
	if ((l->state != ESPAT_LINK_UP && l->state != ESPAT_LINK_GONE) || !l->passive ||
	    l->rx_len == 0 || len == 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	size_t n = (size_t)len < l->rx_len ? (size_t)len : l->rx_len;
	size_t drop = n; /* bytes leaving the buffer */
	struct espat_endpoint from = l->rx_from;
	if (espat_link_is_udp(l)) {
		/* one datagram per read; what a short read leaves of it is lost */
		from = l->dg[0].from;
		drop = l->dg[0].len;
		if (n > drop)
			n = drop;
		memmove(l->dg, l->dg + 1, (l->ndg - 1) * sizeof(l->dg[0]));
		l->ndg--;
	}
	char head[96], ip[46];
	int h = t->dinfo ? snprintf(head, sizeof(head), "+CIPRECVDATA:%zu,\"%s\",%u,", n,
				    espat_ip_str(&from.ip, ip), from.port)
			 : snprintf(head, sizeof(head), "+CIPRECVDATA:%zu,", n);
	espat_wr_open(&m->wr);
	espat_wr_part(&m->wr, (const uint8_t *)head, (size_t)h);
	espat_wr_part(&m->wr, l->rx, n);
	espat_wr_part(&m->wr, (const uint8_t *)"\r\n", 2);
	espat_wr_close(&m->wr);
	memmove(l->rx, l->rx + drop, l->rx_len - drop);
	l->rx_len -= drop;
	l->ipd_said = false;
	espat_wr_ok(&m->wr);
	if (l->state == ESPAT_LINK_GONE && l->rx_len == 0)
		espat_link_close(l, true, ESPAT_CLOSE_GRACEFUL);
	else
		espat_recv_update(l);
	return ESPAT_RC_DONE;
}

enum espat_rc espat_ciprecvlen_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_tcpip *t = T(m);
	char line[96];
	size_t o = (size_t)snprintf(line, sizeof(line), "+CIPRECVLEN:");
	size_t n = t->mux ? ESPAT_LINKS : 1;
	for (size_t i = 0; i < n; i++) {
		const struct espat_link *l = &t->links[i];
		if (i)
			line[o++] = ',';
		if (l->state == ESPAT_LINK_UP || l->state == ESPAT_LINK_GONE)
			o += (size_t)snprintf(line + o, sizeof(line) - o, "%zu", l->rx_len);
	}
	line[o] = 0;
	espat_wr_linef(&m->wr, "%s", line);
	return ESPAT_RC_OK;
}

/* ---- AT+CIPRECVTYPE, AT+CIPRECVMODE ------------------------------------------ */

/* Switches one link ID's mode; data a passive link held goes out as +IPD
 * when it turns active. */
static void set_type(struct espat_module *m, size_t id, uint8_t mode)
{
	struct espat_link *l = &T(m)->links[id];
	T(m)->recvtype[id] = mode;
	if (l->state != ESPAT_LINK_UP)
		return;
	l->passive = mode == 1;
	if (!l->passive && l->rx_len > 0) {
		/* as active mode would have said it: UDP one datagram (and its
		 * sender) per +IPD, TCP the stream; at most 2920 bytes each */
		bool udp = espat_link_is_udp(l);
		size_t n = udp ? l->ndg : 1, at = 0;
		for (size_t i = 0; i < n; i++) {
			size_t len = udp ? l->dg[i].len : l->rx_len;
			for (size_t o = 0; o < len; o += ESPAT_IPD_MAX)
				ipd(l, l->rx + at + o, len - o < ESPAT_IPD_MAX ? len - o : ESPAT_IPD_MAX,
				    udp ? &l->dg[i].from : NULL);
			at += len;
		}
		l->rx_len = 0;
		l->ndg = 0;
	}
	l->ipd_said = false;
	espat_recv_update(l);
}

enum espat_rc espat_ciprecvtype_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_tcpip *t = T(m);
	if (!t->mux) {
		espat_wr_linef(&m->wr, "+CIPRECVTYPE:%u", t->recvtype[0]);
		return ESPAT_RC_OK;
	}
	for (size_t i = 0; i < ESPAT_LINKS; i++)
		espat_wr_linef(&m->wr, "+CIPRECVTYPE:%u,%u", (unsigned)i, t->recvtype[i]);
	return ESPAT_RC_OK;
}

enum espat_rc espat_ciprecvtype_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_tcpip *t = T(m);
	if (t->mode == 1)
		return espat_fail(E(m), ESPAT_ERR_EXEC); /* not in passthrough (guide 3.3.33) */
	if (!t->mux) {
		if (a->n != 1 || a->v[0].i > 1)
			return espat_fail(E(m), a->n != 1 ? ESPAT_ERR_NUM(1, a->n)
							 : ESPAT_ERR_INVALID(0));
		set_type(m, 0, (uint8_t)a->v[0].i);
		return ESPAT_RC_OK;
	}
	if (a->n != 2 || a->v[1].kind != ESPAT_ARG_INT)
		return espat_fail(E(m), ESPAT_ERR_NUM(2, a->n));
	for (size_t i = 0; i < ESPAT_LINKS; i++)
		if (a->v[0].i == ESPAT_LINK_ALL || (int64_t)i == a->v[0].i)
			set_type(m, i, (uint8_t)a->v[1].i);
	return ESPAT_RC_OK;
}

enum espat_rc espat_ciprecvmode_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CIPRECVMODE:%u", T(m)->recvtype[0]);
	return ESPAT_RC_OK;
}

enum espat_rc espat_ciprecvmode_set(struct espat_module *m, const struct espat_args *a)
{
	if (T(m)->mode == 1)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	for (size_t i = 0; i < ESPAT_LINKS; i++)
		set_type(m, i, (uint8_t)a->v[0].i);
	return ESPAT_RC_OK;
}
