/* Sending (guide 3.3.9-3.3.12): AT+CIPSEND with a length, AT+CIPSENDEX
 * (ended by \0, escapes), AT+CIPSENDL (long data streamed while it
 * arrives, with progress reports), and passthrough: AT+CIPSEND without
 * arguments after AT+CIPMODE=1, left with a guarded +++, reconnecting a
 * lost client link, and entered at power-on by AT+SAVETRANSLINK.
 *
 * "SEND OK" means the bytes reached the protocol stack (guide Table 4): the
 * net port's queue is empty. AT+CIPTCPOPT's <so_sndtimeo> bounds the wait;
 * a link that dies first ends in SEND FAIL. */
#include <stdio.h>
#include <string.h>

#include "cmd/tcpip_internal.h"

static uint64_t now(const struct espat_module *m)
{
	return espat_module_now(m);
}

static void rx_pause(struct espat_module *m, bool on)
{
	struct espat_tcpip *t = T(m);
	if (t->pt_rx_paused == on)
		return;
	t->pt_rx_paused = on;
	if (m->ports.pipe.rx_pause)
		m->ports.pipe.rx_pause(m->ports.pipe.user, on);
}

static size_t queued(struct espat_link *l)
{
	struct espat_module *m = l->m;
	return l->conn.sock ? NET(m)->queued(NET(m)->user, l->conn.sock) : 0;
}

/* ---- AT+CIPSEND=<len>, AT+CIPSENDEX ---------------------------------------------- */

static void tx_reset(struct espat_module *m)
{
	struct espat_tcpip *t = T(m);
	espat_timer_cancel(&m->timers, &t->tx_timer);
	t->tx = ESPAT_TX_NONE;
	t->tx_link = NULL;
	t->tx_len = 0;
	t->tx_wait = false;
	t->tx_bs = false;
	rx_pause(m, false);
}

/* Ends a waiting send with its result line. */
static void tx_result(struct espat_module *m, const char *text)
{
	tx_reset(m);
	espat_wr_result(&m->wr, text);
	espat_engine_complete(E(m), ESPAT_RC_DONE);
}

static void sndtimeo_due(void *user)
{
	tx_result(user, "SEND FAIL");
}

/* Where a send goes: this send's remote, else for UDP the link's (which
 * follows the peer in <mode> 1 and 2), else the connection. */
static const struct espat_endpoint *send_to(const struct espat_link *l)
{
	const struct espat_tcpip *t = l->m->tcpip;
	if (t->tx_has_to)
		return &t->tx_to;
	return espat_link_is_udp(l) ? &l->remote : NULL;
}

/* Hands the gathered bytes to the socket; SEND OK when the port says they
 * are all in the stack (its drained() always follows a send, never from
 * inside it), so bytes the host sent past <length> meet a running command
 * and get busy p... before SEND OK, as the guide's 4.2.1 note says. */
static enum espat_rc transmit(struct espat_module *m)
{
	struct espat_tcpip *t = T(m);
	struct espat_link *l = t->tx_link;
	if (!l || !l->conn.sock || NET(m)->send(NET(m)->user, l->conn.sock, t->tx_buf, t->tx_len,
					   send_to(l)) != 0) {
		tx_reset(m);
		espat_wr_result(&m->wr, "SEND FAIL");
		return ESPAT_RC_DONE;
	}
	espat_link_touch(l);
	t->tx_wait = true;
	uint32_t to = m->tcpip->opt[l->id].sndtimeo_ms;
	if (to)
		espat_timer_arm(&m->timers, &t->tx_timer, now(m) + to, sndtimeo_due, m);
	return ESPAT_RC_PENDING;
}

/* "\r\nRecv <n> bytes\r\n": framed like a result, on its own line after
 * the (unechoed) data, as real modules print it. */
static void say_recv(struct espat_module *m, size_t n)
{
	char line[48];
	int k = snprintf(line, sizeof(line), "\r\nRecv %zu bytes\r\n", n);
	espat_wr_msg(&m->wr, (const uint8_t *)line, (size_t)k);
}

static enum espat_rc send_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_tcpip *t = T(m);
	memcpy(t->tx_buf + t->tx_len, p, n);
	t->tx_len += n;
	if (!last)
		return ESPAT_RC_PENDING;
	say_recv(m, t->tx_len);
	return transmit(m);
}

/* CIPSENDEX: \0 ends the data; a backslash drops itself and keeps the
 * next byte (so \\0 sends "\0"). <length> counts the bytes sent. */
static enum espat_rc sendex_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_tcpip *t = T(m);
	size_t i = 0;
	bool end = false;
	for (; i < n && t->tx_len < t->tx_want; i++) {
		if (t->tx_bs) {
			t->tx_bs = false;
			if (p[i] == '0') {
				end = true;
				i++;
				break;
			}
			t->tx_buf[t->tx_len++] = p[i];
		} else if (p[i] == '\\') {
			t->tx_bs = true;
		} else {
			t->tx_buf[t->tx_len++] = p[i];
		}
	}
	if (!end && t->tx_len < t->tx_want && !last)
		return ESPAT_RC_PENDING;
	espat_engine_data_end(E(m), i);
	say_recv(m, t->tx_len);
	if (t->tx_len == 0) {
		tx_reset(m);
		espat_wr_result(&m->wr, "SEND OK");
		return ESPAT_RC_DONE;
	}
	return transmit(m);
}

static enum espat_rc send_cancel(struct espat_module *m)
{
	tx_reset(m);
	espat_wr_result(&m->wr, "SEND Canceled");
	return ESPAT_RC_DONE;
}

/* Parses [<link ID>,]<length>[,<"remote host">,<remote port>] into the
 * running send. Returns the ERR CODE, 0 on success. */
static uint32_t parse_send(struct espat_module *m, const struct espat_args *a, int64_t max_len,
			   int64_t *len)
{
	struct espat_tcpip *t = T(m);
	size_t i = 0;
	int64_t id = 0;
	if (t->mux) {
		if (a->n < 2)
			return ESPAT_ERR_NUM(2, a->n);
		id = a->v[0].i;
		if (id >= ESPAT_LINKS)
			return ESPAT_ERR_INVALID(0);
		i = 1;
	}
	if (a->v[i].kind != ESPAT_ARG_INT)
		return ESPAT_ERR_TYPE(i);
	*len = a->v[i].i;
	if (*len < 1 || *len > max_len)
		return ESPAT_ERR_INVALID(i);
	struct espat_link *l = &t->links[id];
	t->tx_has_to = false;
	if (a->n > i + 1) {
		if (a->n != i + 3)
			return ESPAT_ERR_NUM(i + 3, a->n);
		const struct espat_arg *h = &a->v[i + 1], *p = &a->v[i + 2];
		if (h->kind != ESPAT_ARG_STR || !espat_ip_parse(h->s, h->len, &t->tx_to.ip))
			return ESPAT_ERR_INVALID(i + 1);
		if (p->kind != ESPAT_ARG_INT || p->i < 1 || p->i > 65535)
			return ESPAT_ERR_INVALID(i + 2);
		if (!espat_link_is_udp(l))
			return ESPAT_ERR_EXEC;
		t->tx_to.port = (uint16_t)p->i;
		t->tx_has_to = true;
	}
	if (l->state != ESPAT_LINK_UP || !l->conn.sock || t->mode == 1)
		return ESPAT_ERR_EXEC;
	t->tx_link = l;
	t->tx_len = 0;
	t->tx_bs = false;
	t->tx_wait = false;
	return 0;
}

enum espat_rc espat_cipsend_set(struct espat_module *m, const struct espat_args *a)
{
	int64_t len;
	uint32_t err = parse_send(m, a, m->dialect->send_max, &len);
	if (err)
		return espat_fail(E(m), err);
	T(m)->tx = ESPAT_TX_SEND;
	T(m)->tx_want = (size_t)len;
	espat_engine_expect_data(E(m), (size_t)len, send_data);
	espat_engine_data_escape(E(m), send_cancel);
	return ESPAT_RC_OK_PROMPT;
}

enum espat_rc espat_cipsendex_set(struct espat_module *m, const struct espat_args *a)
{
	int64_t len;
	uint32_t err = parse_send(m, a, m->dialect->send_max, &len);
	if (err)
		return espat_fail(E(m), err);
	T(m)->tx = ESPAT_TX_SENDEX;
	T(m)->tx_want = (size_t)len;
	/* every data byte may come escaped: at most twice the length in input */
	espat_engine_expect_data(E(m), 2 * (size_t)len, sendex_data);
	espat_engine_data_escape(E(m), send_cancel);
	return ESPAT_RC_OK_PROMPT;
}

/* ---- AT+CIPSENDL ------------------------------------------------------------------- */

static void sendl_report(struct espat_module *m)
{
	struct espat_tcpip *t = T(m);
	while (t->l_sent >= t->l_reported + t->sendl_report) {
		t->l_reported += t->sendl_report;
		espat_wr_reportf(&m->wr, "+CIPSEND:%llu,%llu", (unsigned long long)t->l_reported,
				 (unsigned long long)t->l_recv);
	}
}

/* Sends what is gathered (all of it when force, else whole packets). */
static void sendl_flush(struct espat_module *m, bool force)
{
	struct espat_tcpip *t = T(m);
	struct espat_link *l = t->tx_link;
	while (t->tx_len > 0 && (force || t->tx_len >= t->sendl_transmit)) {
		size_t k = t->tx_len < t->sendl_transmit ? t->tx_len : t->sendl_transmit;
		if (!t->l_failed && l && l->conn.sock &&
		    NET(m)->send(NET(m)->user, l->conn.sock, t->tx_buf, k, send_to(l)) == 0) {
			t->l_handed += k;
			espat_link_touch(l);
		} else {
			t->l_failed = true;
		}
		memmove(t->tx_buf, t->tx_buf + k, t->tx_len - k);
		t->tx_len -= k;
	}
	if (!t->l_failed && l && queued(l) == 0)
		t->l_sent = t->l_handed;
	sendl_report(m);
	if (l && !t->l_failed && queued(l) > ESPAT_SOCK_HIGH)
		rx_pause(m, true);
}

static void sendl_finish(struct espat_module *m)
{
	struct espat_tcpip *t = T(m);
	if (t->l_failed) {
		tx_result(m, "SEND FAIL");
		return;
	}
	if (t->l_sent < t->l_total)
		return; /* drained() finishes */
	if (t->l_reported < t->l_total)
		espat_wr_reportf(&m->wr, "+CIPSEND:%llu,%llu", (unsigned long long)t->l_total,
				 (unsigned long long)t->l_recv);
	tx_result(m, "SEND OK");
}

static void sendl_timer(void *user)
{
	struct espat_module *m = user;
	sendl_flush(m, true);
}

static enum espat_rc sendl_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_tcpip *t = T(m);
	t->l_recv += n;
	while (n > 0) {
		size_t room = sizeof(t->tx_buf) - t->tx_len;
		size_t k = n < room ? n : room;
		memcpy(t->tx_buf + t->tx_len, p, k);
		t->tx_len += k;
		p += k;
		n -= k;
		sendl_flush(m, false);
	}
	if (last) {
		sendl_flush(m, true);
		t->tx_wait = true;
		espat_timer_cancel(&m->timers, &t->tx_timer);
		sendl_finish(m);
		if (t->tx == ESPAT_TX_NONE)
			return ESPAT_RC_DONE;
		/* <so_sndtimeo> bounds the wait for the rest, as for AT+CIPSEND */
		uint32_t to = t->tx_link ? t->opt[t->tx_link->id].sndtimeo_ms : 0;
		if (to)
			espat_timer_arm(&m->timers, &t->tx_timer, now(m) + to, sndtimeo_due, m);
		return ESPAT_RC_PENDING;
	}
	uint16_t intvl = espat_basic_transintvl(m);
	if (t->tx_len > 0 && !t->tx_timer.armed)
		espat_timer_arm(&m->timers, &t->tx_timer, now(m) + intvl, sendl_timer, m);
	return ESPAT_RC_PENDING;
}

static enum espat_rc sendl_cancel(struct espat_module *m)
{
	tx_reset(m);
	espat_wr_result(&m->wr, "SEND CANCELLED");
	return ESPAT_RC_DONE;
}

enum espat_rc espat_cipsendl_set(struct espat_module *m, const struct espat_args *a)
{
	int64_t len;
	uint32_t err = parse_send(m, a, INT32_MAX, &len);
	if (err)
		return espat_fail(E(m), err);
	struct espat_tcpip *t = T(m);
	t->tx = ESPAT_TX_SENDL;
	t->tx_want = (size_t)len;
	t->l_total = (uint64_t)len;
	t->l_recv = t->l_handed = t->l_sent = t->l_reported = 0;
	t->l_failed = false;
	espat_engine_expect_data(E(m), (size_t)len, sendl_data);
	espat_engine_data_escape(E(m), sendl_cancel);
	return ESPAT_RC_OK_PROMPT;
}

/* ---- socket events for a running send --------------------------------------------- */

void espat_send_drained(struct espat_link *l)
{
	struct espat_module *m = l->m;
	struct espat_tcpip *t = T(m);
	espat_segs_drained(l);
	if (queued(l) > 0)
		return; /* raised before a later send() queued more: its own follows */
	if (t->pt_link == l) {
		rx_pause(m, false);
		return;
	}
	if (t->tx_link != l)
		return;
	if (t->tx == ESPAT_TX_SENDL) {
		t->l_sent = t->l_handed;
		sendl_report(m);
		rx_pause(m, false);
		if (t->tx_wait)
			sendl_finish(m);
		return;
	}
	if (t->tx_wait)
		tx_result(m, "SEND OK");
}

void espat_send_link_gone(struct espat_link *l)
{
	struct espat_module *m = l->m;
	struct espat_tcpip *t = T(m);
	espat_segs_gone(l);
	if (t->tx_link != l)
		return;
	if (t->tx == ESPAT_TX_SENDL) {
		/* data entry goes on until <length> bytes came (guide 3.3.10) */
		t->l_failed = true;
		t->tx_link = NULL;
		rx_pause(m, false);
		if (t->tx_wait)
			tx_result(m, "SEND FAIL");
		return;
	}
	if (t->tx_wait) {
		tx_result(m, "SEND FAIL");
		return;
	}
	t->tx_link = NULL; /* still in data entry: transmit() fails at the end */
}

/* ---- passthrough ------------------------------------------------------------------- */

/* Hands passthrough bytes to the link's socket; the UART stops being
 * read while the socket's queue is long. */
/* Hands k typed bytes to the link. A send the socket refuses (it died, or
 * its queue is out of memory) loses the link as a reset does, reported and
 * reconnected like any lost passthrough link, never a silent gap in the
 * stream. False then. */
static bool pt_out(struct espat_module *m, struct espat_link *l, const uint8_t *p, size_t k)
{
	int err = NET(m)->send(NET(m)->user, l->conn.sock, p, k, NULL);
	if (err != 0) {
		espat_conn_close(&l->conn, ESPAT_CLOSE_ABORT);
		espat_link_lost(l, err);
		return false;
	}
	espat_link_touch(l);
	if (queued(l) > ESPAT_SOCK_HIGH)
		rx_pause(m, true);
	return true;
}

/* Sends the first k gathered bytes. */
static void pt_send(struct espat_module *m, size_t k)
{
	struct espat_tcpip *t = T(m);
	struct espat_link *l = t->pt_link;
	if (!l || l->state != ESPAT_LINK_UP || !l->conn.sock)
		return;
	pt_out(m, l, t->pt_buf, k);
	memmove(t->pt_buf, t->pt_buf + k, t->pt_len - k);
	t->pt_len -= k;
}

static void pt_timer(void *user)
{
	struct espat_module *m = user;
	pt_send(m, T(m)->pt_len);
}

/* Bytes typed in passthrough: whole 2920-byte packets go at once, a rest
 * after AT+TRANSINTVL (guide 3.3.9). Input the link cannot take yet (it
 * is reconnecting) waits up to ESPAT_PT_BUF bytes; beyond, it is lost as
 * on the real module's full buffer. */
static void pt_input(struct espat_module *m, const uint8_t *p, size_t n)
{
	struct espat_tcpip *t = T(m);
	struct espat_link *l = t->pt_link;
	bool up = l && l->state == ESPAT_LINK_UP && l->conn.sock;
	if (up && t->pt_len == 0 && n >= ESPAT_PT_CHUNK) {
		/* the fast path: whole packets straight from the UART's chunk */
		size_t k = n - n % ESPAT_PT_CHUNK;
		up = pt_out(m, l, p, k);
		p += k;
		n -= k;
	}
	while (n > 0) {
		size_t room = sizeof(t->pt_buf) - t->pt_len;
		if (room == 0)
			break;
		size_t k = n < room ? n : room;
		memcpy(t->pt_buf + t->pt_len, p, k);
		t->pt_len += k;
		p += k;
		n -= k;
		if (up && t->pt_len >= ESPAT_PT_CHUNK)
			pt_send(m, t->pt_len - t->pt_len % ESPAT_PT_CHUNK);
	}
	if (!up || t->pt_len == 0)
		return;
	if (espat_basic_transintvl(m) == 0)
		pt_send(m, t->pt_len);
	else if (!t->pt_timer.armed)
		espat_timer_arm(&m->timers, &t->pt_timer, now(m) + espat_basic_transintvl(m), pt_timer, m);
}

static void pt_leave(struct espat_module *m)
{
	struct espat_tcpip *t = T(m);
	espat_timer_cancel(&m->timers, &t->pt_timer);
	espat_timer_cancel(&m->timers, &t->reconn_timer);
	t->pt_link = NULL;
	t->pt_len = 0;
	t->translink = false;
	m->wr.quiet = false;
	rx_pause(m, false);
}

static enum espat_rc pt_escape(struct espat_module *m)
{
	struct espat_tcpip *t = T(m);
	if (t->pt_len > 0)
		pt_send(m, t->pt_len);
	pt_leave(m);
	if (espat_basic_sysmsg(m) & 1)
		espat_wr_reportf(&m->wr, "+QUITT");
	return ESPAT_RC_DONE;
}

/* The link passthrough would use: single connection's, or the one client
 * of a server limited to one (guide example 4.2.10). */
static struct espat_link *pt_candidate(struct espat_module *m)
{
	struct espat_tcpip *t = T(m);
	if (!t->mux)
		return &t->links[0];
	if (!t->srv || t->srv_max != 1)
		return NULL;
	for (size_t i = 0; i < ESPAT_LINKS; i++)
		if (t->links[i].server && t->links[i].state == ESPAT_LINK_UP)
			return &t->links[i];
	return NULL;
}

static void remember_cfg(struct espat_module *m, const struct espat_link *l)
{
	struct espat_tcpip *t = T(m);
	t->pt_cfg.valid = !l->server;
	t->pt_cfg.type = l->type;
	memcpy(t->pt_cfg.host, l->host, sizeof(t->pt_cfg.host));
	t->pt_cfg.port = l->remote.port;
	t->pt_cfg.local_port = espat_link_is_udp(l) ? l->local_port : 0;
	t->pt_cfg.udp_mode = l->udp_mode;
	t->pt_cfg.keepalive = l->keepalive;
}

enum espat_rc espat_cipsend_exec(struct espat_module *m, const struct espat_args *a)
{
	struct espat_tcpip *t = T(m);
	struct espat_link *l = pt_candidate(m);
	if (t->mode != 1 || !l || l->state != ESPAT_LINK_UP ||
	    (espat_link_is_udp(l) && l->udp_mode != 0))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	t->pt_link = l;
	t->pt_len = 0;
	remember_cfg(m, l);
	espat_engine_expect_passthrough(E(m), pt_input, pt_escape);
	/* the prompt is printed before the writer goes quiet */
	return ESPAT_RC_OK_PROMPT;
}

static void reconnect(void *user);

static void schedule_reconnect(struct espat_module *m)
{
	struct espat_tcpip *t = T(m);
	espat_timer_arm(&m->timers, &t->reconn_timer, now(m) + (uint64_t)t->reconnintv * 100u,
			reconnect, m);
}

static void reconnect(void *user)
{
	struct espat_module *m = user;
	struct espat_tcpip *t = T(m);
	struct espat_link *l = &t->links[0];
	if (!t->pt_link || !t->pt_cfg.valid || l->state != ESPAT_LINK_FREE)
		return;
	if (!espat_wifi_online(m) || !NET(m)->open) {
		schedule_reconnect(m);
		return;
	}
	t->pt_link = l;
	if (espat_link_start(m, l, t->pt_cfg.type, t->pt_cfg.host, strlen(t->pt_cfg.host),
			     t->pt_cfg.port, t->pt_cfg.local_port, t->pt_cfg.udp_mode,
			     t->pt_cfg.keepalive, 0) < 0) {
		espat_link_close(l, false, ESPAT_CLOSE_ABORT);
		t->pt_link = l;
		schedule_reconnect(m);
	}
}

void espat_pt_link_up(struct espat_link *l)
{
	struct espat_module *m = l->m;
	struct espat_tcpip *t = T(m);
	if (t->pt_len > 0)
		pt_send(m, t->pt_len);
}

void espat_pt_link_lost(struct espat_link *l)
{
	struct espat_module *m = l->m;
	struct espat_tcpip *t = T(m);
	bool client = t->pt_cfg.valid && !l->server;
	espat_link_close(l, true, ESPAT_CLOSE_GRACEFUL);
	if (!espat_engine_in_passthrough(E(m))) {
		t->pt_link = NULL;
		return;
	}
	/* a client keeps reconnecting until +++; a server's link waits for
	 * the next client (guide glossary, Passthrough Mode) */
	if (client) {
		t->pt_link = l;
		schedule_reconnect(m);
	} else {
		t->pt_link = NULL;
	}
}

void espat_pt_accepted(struct espat_link *l)
{
	struct espat_module *m = l->m;
	if (espat_engine_in_passthrough(E(m)) && !T(m)->pt_link && pt_candidate(m) == l)
		T(m)->pt_link = l;
}

/* AT+SAVETRANSLINK=1,...: passthrough from power-on, the link opened as
 * soon as the network is there and reopened whenever it drops. */
void espat_pt_boot(struct espat_module *m)
{
	struct espat_tcpip *t = T(m);
	struct espat_args a;
	if (!espat_settings_load(&m->settings, "translink", &a) || a.n != 5 ||
	    a.v[0].kind != ESPAT_ARG_INT || a.v[0].i != 1 || a.v[1].kind != ESPAT_ARG_STR ||
	    a.v[1].len == 0 || a.v[1].len > ESPAT_HOST_MAX || a.v[2].kind != ESPAT_ARG_INT ||
	    a.v[3].kind != ESPAT_ARG_STR || a.v[4].kind != ESPAT_ARG_INT)
		return;
	enum espat_link_type type;
	if (!espat_link_type_parse(a.v[3].s, a.v[3].len, &type))
		return; /* SSL links use the saved AT+CIPSSLCCONF settings of link 0 */
	bool udp = type == ESPAT_LT_UDP || type == ESPAT_LT_UDP6;
	t->pt_cfg.valid = true;
	t->pt_cfg.type = type;
	memcpy(t->pt_cfg.host, a.v[1].s, a.v[1].len);
	t->pt_cfg.host[a.v[1].len] = 0;
	t->pt_cfg.port = (uint16_t)a.v[2].i;
	t->pt_cfg.local_port = udp ? (uint16_t)a.v[4].i : 0;
	t->pt_cfg.keepalive = udp ? 0 : (uint16_t)a.v[4].i;
	t->pt_cfg.udp_mode = 0;
	t->mux = 0;
	t->mode = 1;
	t->translink = true;
	t->pt_link = &t->links[0];
	espat_engine_enter_passthrough(E(m), pt_input, pt_escape);
	m->wr.quiet = !(espat_basic_sysmsg(m) & 4);
	schedule_reconnect(m);
}

void espat_pt_free(struct espat_module *m)
{
	pt_leave(m);
	tx_reset(m);
}

void espat_pt_after_input(struct espat_module *m)
{
	if (espat_engine_in_passthrough(E(m)))
		m->wr.quiet = !(espat_basic_sysmsg(m) & 4);
}
