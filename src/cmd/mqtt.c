/* AT+MQTT* (guide 3.5). One client, link 0:
 *
 *   AT+MQTTUSERCFG / AT+MQTTLONG* / AT+MQTTCONNCFG / AT+MQTTALPN / AT+MQTTSNI
 *       configure (RAM only);
 *   AT+MQTTCONN dials the broker through the client-connection service
 *       (plain or TLS with the mqtt_* PKI), or the WebSocket client for
 *       schemes 6-10, sends CONNECT and waits for CONNACK:
 *       +MQTTCONNECTED:0,<scheme>,"<host>","<port>","<path>",<reconnect>
 *       then OK;
 *   AT+MQTTSUB / AT+MQTTUNSUB / AT+MQTTPUB wait for the broker's answer
 *       (SUBACK, UNSUBACK, PUBACK or PUBCOMP) before OK; AT+MQTTPUBRAW
 *       streams its data entry into the PUBLISH and answers +MQTTPUB:OK or
 *       +MQTTPUB:FAIL;
 *   incoming messages print +MQTTSUBRECV:0,"<topic>",<len>,<data> as the
 *       payload comes (esp-at prints esp-mqtt's chunks the same way);
 *   a lost connection prints +MQTTDISCONNECTED:0; with <reconnect> 1 the
 *       client dials again every ESPAT_MQTT_RECONNECT_MS and subscribes its
 *       topics again once up (+MQTTCONNECTED as a report).
 *
 * Failures answer ERROR with ERR CODE 0x010a<mqtt code> (the guide's
 * 0x60xx codes as the extension of "execution failed"; COMPAT). */
#include "cmd/mqtt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/params.h"
#include "cmd/wifi.h"

/* The guide's MQTT error codes (3.5.15) this family uses. */
enum {
	MQ_NO_CONFIGURED = 0x6001,
	MQ_NOT_IN_CONFIGURED_STATE = 0x6002,
	MQ_UNINITIATED_OR_ALREADY_CLEAN = 0x6003,
	MQ_ALREADY_CONNECTED = 0x6004,
	MQ_MALLOC_FAILED = 0x6005,
	MQ_TLS_CONFIG_ERROR = 0x6009,
	MQ_CLIENT_START_FAILED = 0x600B,
	MQ_CLIENT_PUBLISH_FAILED = 0x600C,
	MQ_CLIENT_SUBSCRIBE_FAILED = 0x600D,
	MQ_CLIENT_UNSUBSCRIBE_FAILED = 0x600E,
	MQ_CLIENT_ID_IS_NULL = 0x6015,
	MQ_PATH_IS_OVERLENGTH = 0x6029,
	MQ_HOST_IS_NULL = 0x603B,
	MQ_PORT_VALUE_IS_WRONG = 0x603E,
	MQ_TOPIC_IS_NULL = 0x6042,
	MQ_TOPIC_IS_OVERLENGTH = 0x6043,
	MQ_DATA_IS_NULL = 0x6045,
	MQ_IN_DISCONNECTED_STATE = 0x6051,
};

static struct espat_engine *E(struct espat_module *m)
{
	return &m->eng;
}

static struct espat_mqtt *Q(struct espat_module *m)
{
	return m->mqtt;
}

static enum espat_rc fail(struct espat_module *m, uint16_t code)
{
	return espat_fail(E(m), espat_err(ESPAT_SUB_EXEC_FAIL, code));
}

static uint64_t now(struct espat_module *m)
{
	return espat_module_now(m);
}

static bool connected(const struct espat_mqtt *q)
{
	return q->phase == ESPAT_MQTT_LINK_UP;
}

static bool is_ws(uint8_t scheme)
{
	return scheme >= 6;
}

static bool is_tls(uint8_t scheme)
{
	return scheme != 1 && scheme != 6;
}

/* ESP-AT's TLS authentication mode for a scheme: 0 none, 1 our
 * certificate, 2 verify the server, 3 both. */
static uint8_t scheme_auth(uint8_t scheme)
{
	static const uint8_t auth[11] = {0, 0, 0, 2, 1, 3, 0, 0, 2, 1, 3};
	return scheme <= 10 ? auth[scheme] : 0;
}

static void bytes_set(struct espat_mqtt_bytes *b, const void *p, size_t n, bool set)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->set = set;
	if (n) {
		b->p = malloc(n);
		if (!b->p) {
			b->set = false;
			return;
		}
		memcpy(b->p, p, n);
		b->len = n;
	}
}

static void bytes_free(struct espat_mqtt_bytes *b)
{
	bytes_set(b, NULL, 0, false);
}

/* A string argument as a C string into out (cap bytes with the NUL). */
static void arg_str(const struct espat_args *a, size_t i, char *out, size_t cap)
{
	out[0] = '\0';
	if (i < a->n && a->v[i].kind == ESPAT_ARG_STR && a->v[i].len < cap) {
		memcpy(out, a->v[i].s, a->v[i].len);
		out[a->v[i].len] = '\0';
	}
}

static bool arg_has_nul(const struct espat_args *a, size_t i)
{
	return i < a->n && a->v[i].kind == ESPAT_ARG_STR && memchr(a->v[i].s, '\0', a->v[i].len);
}

/* ---- the state AT+MQTTCONN? and AT+MQTTSUB? show ---------------------------- */

static void set_connected_state(struct espat_mqtt *q)
{
	q->state = q->nsubs ? ESPAT_MQTT_SUBSCRIBED : ESPAT_MQTT_CONNECTED;
}

/* ---- the transport -------------------------------------------------------------- */

static void feed(struct espat_module *m, const uint8_t *p, size_t n);
static void link_lost(struct espat_module *m, int err);

/* Sends MQTT bytes over whichever transport is up. 0 or an error. */
static int tx(struct espat_module *m, const uint8_t *p, size_t n)
{
	struct espat_mqtt *q = Q(m);
	if (q->ws)
		return espat_wsc_send(&q->wsc, ESPAT_WS_BINARY, true, p, n);
	return espat_conn_send(&q->conn, p, n, NULL);
}

/* Sends a head and its payload in one write (one segment on the wire, one
 * syscall), as esp-mqtt writes a message from its buffer. */
static int tx2(struct espat_module *m, const uint8_t *h, size_t hn, const uint8_t *p, size_t n)
{
	uint8_t small[1024];
	uint8_t *buf = hn + n <= sizeof(small) ? small : malloc(hn + n);
	if (!buf)
		return ESPAT_NET_ENOMEM;
	memcpy(buf, h, hn);
	if (n)
		memcpy(buf + hn, p, n);
	int rc = tx(m, buf, hn + n);
	if (buf != small)
		free(buf);
	return rc;
}

static void arm_ping(struct espat_module *m);

/* Stops or resumes reading the broker. */
static void pause_link(struct espat_module *m, bool paused)
{
	struct espat_mqtt *q = Q(m);
	q->held = paused;
	if (q->ws)
		espat_wsc_pause(&q->wsc, paused);
	else
		espat_conn_pause(&q->conn, paused);
}

/* The UART is behind: what the broker sends waits in its socket (and the
 * broker's flow control) until ESPAT_EV_TX_ROOM, so a slow host loses
 * nothing. */
static void hold_check(struct espat_module *m)
{
	struct espat_mqtt *q = Q(m);
	if (!q->held && q->phase != ESPAT_MQTT_LINK_DOWN &&
	    espat_module_tx_queued(m) > ESPAT_TX_HIGH)
		pause_link(m, true);
}

/* Ends the transport quietly: sockets (unless abort is false: a closing
 * handshake finishes on its own), timers, an open message. */
static void link_down(struct espat_module *m, bool abort)
{
	struct espat_mqtt *q = Q(m);
	if (abort && q->ws)
		espat_wsc_abort(&q->wsc);
	else if (abort && q->conn.m)
		espat_conn_close(&q->conn, ESPAT_CLOSE_ABORT);
	if (q->rx_open) {
		espat_wr_close(&m->wr);
		q->rx_open = false;
	}
	espat_timer_cancel(&m->timers, &q->ping_timer);
	espat_timer_cancel(&m->timers, &q->ack_timer);
	q->phase = ESPAT_MQTT_LINK_DOWN;
	q->held = false;
	q->ping_out = false;
	q->resub_id = 0;
	q->nqos2_in = 0;
	q->gen++;
}

/* conn's socket callbacks (schemes 1-5) */
static void sock_data(void *user, const uint8_t *p, size_t n, const struct espat_endpoint *from)
{
	feed(user, p, n);
}

static void sock_closed(void *user, int err)
{
	link_lost(user, err ? err : ESPAT_NET_ERESET);
}

/* A WebSocket that AT+MQTTCLEAN left closing still calls back: ignored. */
static bool ws_current(struct espat_module *m)
{
	return Q(m)->phase != ESPAT_MQTT_LINK_DOWN && Q(m)->ws;
}

static const struct espat_sock_cbs sock_cbs = {.data = sock_data, .closed = sock_closed};

/* The WebSocket client's callbacks (schemes 6-10) */
static void ws_data(void *user, const uint8_t *p, size_t n)
{
	if (ws_current(user))
		feed(user, p, n);
}

static void ws_closed(void *user, int err, uint16_t code)
{
	if (ws_current(user))
		link_lost(user, err ? err : ESPAT_NET_ERESET);
}

static void transport_up(struct espat_module *m, int err);

static void ws_open(void *user, int err)
{
	transport_up(user, err);
}

static const struct espat_wsc_cbs ws_cbs = {
    .open = ws_open,
    .data = ws_data,
    .closed = ws_closed,
};

static void conn_done(void *user, int err)
{
	transport_up(user, err);
}

/* Dials the broker. 0 under way, or an enum espat_net_err. */
static int dial(struct espat_module *m)
{
	struct espat_mqtt *q = Q(m);
	struct espat_conn_tls tls = {
	    .auth = scheme_auth(q->scheme),
	    .set = ESPAT_PKI_MQTT,
	    .pki = q->cert_key_id,
	    .ca = q->ca_id,
	    .sni = q->sni[0] ? q->sni : NULL,
	};
	for (size_t i = 0; i < q->nalpn; i++)
		tls.alpn[i] = q->alpn[i];
	tls.nalpn = q->nalpn;
	size_t host_len = strlen(q->host);
	bool v6 = memchr(q->host, ':', host_len) != NULL;
	int err = 0;
	espat_mqtt_parser_init(&q->parser, ESPAT_MQTT_CLIENT);
	q->ws = is_ws(q->scheme);
	q->phase = ESPAT_MQTT_LINK_DIALING;
	if (q->ws) {
		struct espat_wsc_req r = {
		    .host = q->host,
		    .host_len = host_len,
		    .port = q->port,
		    .secure = is_tls(q->scheme),
		    .tls = &tls,
		    .path = q->path[0] ? q->path : "/",
		    .protocol = "mqtt",
		};
		if (espat_wsc_open(&q->wsc, m, &r, &ws_cbs, m, &err) < 0) {
			q->phase = ESPAT_MQTT_LINK_DOWN;
			return err ? err : ESPAT_NET_EIO;
		}
		return 0;
	}
	struct espat_conn_req r = {
	    .kind = ESPAT_SOCK_TCP,
	    .v6 = v6,
	    .host = q->host,
	    .host_len = host_len,
	    .port = q->port,
	    .tls = is_tls(q->scheme) ? &tls : NULL,
	    .nodelay = true,
	};
	if (espat_conn_open(&q->conn, m, &r, &sock_cbs, conn_done, m, &err) < 0) {
		q->phase = ESPAT_MQTT_LINK_DOWN;
		return err ? err : ESPAT_NET_EIO;
	}
	return 0;
}

/* ---- the waiting command ---------------------------------------------------------- */

/* Ends the waiting command: rc for the engine (OK, ERROR with code); for
 * AT+MQTTPUBRAW the +MQTTPUB:OK / FAIL result instead. */
static void op_end(struct espat_module *m, bool ok, uint16_t code)
{
	struct espat_mqtt *q = Q(m);
	enum espat_mqtt_op op = q->op;
	q->op = ESPAT_MQTT_OP_NONE;
	q->op_id = 0;
	q->op_rec = false;
	espat_timer_cancel(&m->timers, &q->ack_timer);
	switch (op) {
	case ESPAT_MQTT_OP_NONE:
		return;
	case ESPAT_MQTT_OP_PUBRAW:
		espat_wr_result(&m->wr, ok ? "+MQTTPUB:OK" : "+MQTTPUB:FAIL");
		espat_engine_complete(E(m), ESPAT_RC_DONE);
		return;
	default:
		espat_engine_complete(E(m), ok ? ESPAT_RC_OK : fail(m, code));
		return;
	}
}

static uint16_t op_fail_code(enum espat_mqtt_op op)
{
	switch (op) {
	case ESPAT_MQTT_OP_SUB:
		return MQ_CLIENT_SUBSCRIBE_FAILED;
	case ESPAT_MQTT_OP_UNSUB:
		return MQ_CLIENT_UNSUBSCRIBE_FAILED;
	case ESPAT_MQTT_OP_CONN:
		return MQ_CLIENT_START_FAILED;
	default:
		return MQ_CLIENT_PUBLISH_FAILED;
	}
}

static void ack_timeout(void *user)
{
	struct espat_module *m = user;
	struct espat_mqtt *q = Q(m);
	if (q->phase == ESPAT_MQTT_LINK_CONNECT || q->phase == ESPAT_MQTT_LINK_DIALING) {
		link_lost(m, ESPAT_NET_ETIMEDOUT); /* no CONNACK */
		return;
	}
	op_end(m, false, op_fail_code(q->op));
}

static void arm_ack(struct espat_module *m)
{
	espat_timer_arm(&m->timers, &Q(m)->ack_timer, now(m) + ESPAT_MQTT_ACK_TIMEOUT_MS,
	                ack_timeout, m);
}

static uint16_t next_id(struct espat_mqtt *q)
{
	if (++q->next_id == 0)
		q->next_id = 1;
	return q->next_id;
}

/* ---- connecting ------------------------------------------------------------------- */

static void print_connected(struct espat_module *m, bool report)
{
	struct espat_mqtt *q = Q(m);
	char line[ESPAT_MQTT_HOST_MAX + ESPAT_MQTT_PATH_MAX + 64];
	snprintf(line, sizeof(line), "+MQTTCONNECTED:0,%u,\"%s\",\"%u\",\"%s\",%d", q->scheme,
	         q->host, q->port, q->path, q->reconnect ? 1 : 0);
	if (report)
		espat_wr_reportf(&m->wr, "%s", line);
	else
		espat_wr_linef(&m->wr, "%s", line);
}

/* The transport is up (or failed): CONNECT goes out. */
static void transport_up(struct espat_module *m, int err)
{
	struct espat_mqtt *q = Q(m);
	if (err) {
		link_lost(m, err);
		return;
	}
	const struct espat_mqtt_bytes *cid = &q->client_id;
	struct espat_mqtt_connect c = {
	    .version = ESPAT_MQTT_V311,
	    .clean_session = !q->disable_clean_session,
	    .keepalive = q->keepalive ? q->keepalive : ESPAT_MQTT_KEEPALIVE_DEFAULT,
	    .client_id = {(const char *)cid->p, cid->len},
	    .has_username = q->username.set && q->username.len > 0,
	    .username = {(const char *)q->username.p, q->username.len},
	    .has_password = q->password.set && q->password.len > 0,
	    .password = {(const char *)q->password.p, q->password.len},
	};
	if (q->lwt_topic[0]) {
		c.will = true;
		c.will_topic = (struct espat_mqtt_str){q->lwt_topic, strlen(q->lwt_topic)};
		c.will_message = (struct espat_mqtt_str){(const char *)q->lwt_msg.p, q->lwt_msg.len};
		c.will_qos = q->lwt_qos;
		c.will_retain = q->lwt_retain;
	}
	size_t cap = 64 + cid->len + q->username.len + q->password.len + strlen(q->lwt_topic) +
	             q->lwt_msg.len;
	uint8_t *buf = malloc(cap);
	size_t n = buf ? espat_mqtt_write_connect(buf, cap, &c) : 0;
	int rc = n ? tx(m, buf, n) : ESPAT_NET_EINVAL;
	free(buf);
	if (rc != 0) {
		link_lost(m, rc);
		return;
	}
	q->phase = ESPAT_MQTT_LINK_CONNECT;
	arm_ack(m);
}

/* Subscribes again to every topic after a reconnect (one SUBSCRIBE). */
static void resubscribe(struct espat_module *m)
{
	struct espat_mqtt *q = Q(m);
	if (q->nsubs == 0)
		return;
	struct espat_mqtt_sub subs[ESPAT_MQTT_SUBS_MAX];
	for (size_t i = 0; i < q->nsubs; i++)
		subs[i] = (struct espat_mqtt_sub){{q->subs[i].name, strlen(q->subs[i].name)},
		                                  q->subs[i].qos};
	uint8_t buf[ESPAT_MQTT_SUBS_MAX * (ESPAT_MQTT_TOPIC_MAX_AT + 3) + 16];
	q->resub_id = next_id(q);
	size_t n = espat_mqtt_write_subscribe(buf, sizeof(buf), q->resub_id, subs, q->nsubs);
	if (n)
		tx(m, buf, n);
}

static void on_connack(struct espat_module *m, uint8_t rc)
{
	struct espat_mqtt *q = Q(m);
	if (q->phase != ESPAT_MQTT_LINK_CONNECT) {
		link_lost(m, ESPAT_NET_EIO);
		return;
	}
	if (rc != 0) { /* refused: bad credentials, client id, version */
		link_lost(m, ESPAT_NET_EREFUSED);
		return;
	}
	espat_timer_cancel(&m->timers, &q->ack_timer);
	q->phase = ESPAT_MQTT_LINK_UP;
	bool first = q->op == ESPAT_MQTT_OP_CONN;
	q->was_connected = true;
	set_connected_state(q);
	arm_ping(m);
	if (first) {
		print_connected(m, false);
		op_end(m, true, 0);
	} else {
		print_connected(m, true);
		resubscribe(m);
	}
}

static void retry(void *user)
{
	struct espat_module *m = user;
	struct espat_mqtt *q = Q(m);
	if (q->phase != ESPAT_MQTT_LINK_DOWN || !q->reconnect || q->state < ESPAT_MQTT_USERCFG)
		return;
	if (dial(m) != 0)
		espat_timer_arm(&m->timers, &q->retry_timer, now(m) + ESPAT_MQTT_RECONNECT_MS, retry,
		                m);
}

/* The connection ended (or never came up). */
static void link_lost(struct espat_module *m, int err)
{
	struct espat_mqtt *q = Q(m);
	bool was_up = q->phase == ESPAT_MQTT_LINK_UP;
	link_down(m, true);
	if (q->op == ESPAT_MQTT_OP_CONN) {
		/* AT+MQTTCONN failed: the configuration stays, the host may retry */
		op_end(m, false, MQ_CLIENT_START_FAILED);
		return;
	}
	if (q->op != ESPAT_MQTT_OP_NONE)
		op_end(m, false, op_fail_code(q->op));
	if (was_up)
		espat_wr_reportf(&m->wr, "+MQTTDISCONNECTED:0");
	q->state = ESPAT_MQTT_DISCONNECTED;
	if (q->reconnect)
		espat_timer_arm(&m->timers, &q->retry_timer, now(m) + ESPAT_MQTT_RECONNECT_MS, retry,
		                m);
}

/* ---- keep-alive --------------------------------------------------------------------- */

static void ping_due(void *user)
{
	struct espat_module *m = user;
	struct espat_mqtt *q = Q(m);
	if (q->ping_out && !q->held) { /* no PINGRESP for a whole keep-alive period */
		link_lost(m, ESPAT_NET_ETIMEDOUT);
		return;
	}
	uint8_t buf[2];
	size_t n = espat_mqtt_write_empty(buf, sizeof(buf), ESPAT_MQTT_PINGREQ);
	q->ping_out = true;
	if (tx(m, buf, n) != 0) {
		link_lost(m, ESPAT_NET_ERESET);
		return;
	}
	arm_ping(m);
}

static void arm_ping(struct espat_module *m)
{
	struct espat_mqtt *q = Q(m);
	uint32_t s = q->keepalive ? q->keepalive : ESPAT_MQTT_KEEPALIVE_DEFAULT;
	espat_timer_arm(&m->timers, &q->ping_timer, now(m) + (uint64_t)s * 1000u, ping_due, m);
}

/* ---- what the broker sends ---------------------------------------------------------- */

/* An acknowledgement; those of one read go out together after it. */
static void send_ack(struct espat_module *m, enum espat_mqtt_type type, uint16_t id)
{
	struct espat_mqtt *q = Q(m);
	uint8_t buf[4];
	size_t n = espat_mqtt_write_ack(buf, sizeof(buf), type, id);
	if (n == 0)
		return;
	if (q->feeding && q->acks_len + n <= sizeof(q->acks)) {
		memcpy(q->acks + q->acks_len, buf, n);
		q->acks_len += n;
		return;
	}
	tx(m, buf, n);
}

static bool qos2_seen(struct espat_mqtt *q, uint16_t id)
{
	for (size_t i = 0; i < q->nqos2_in; i++)
		if (q->qos2_in[i] == id)
			return true;
	return false;
}

static void qos2_forget(struct espat_mqtt *q, uint16_t id)
{
	for (size_t i = 0; i < q->nqos2_in; i++) {
		if (q->qos2_in[i] == id) {
			q->qos2_in[i] = q->qos2_in[--q->nqos2_in];
			return;
		}
	}
}

static void on_publish(struct espat_module *m, const struct espat_mqtt_publish *pub)
{
	struct espat_mqtt *q = Q(m);
	q->rx_dup = pub->qos == 2 && qos2_seen(q, pub->packet_id);
	if (q->rx_dup)
		return;
	char head[ESPAT_MQTT_TOPIC_MAX + 48];
	int h = snprintf(head, sizeof(head), "+MQTTSUBRECV:0,\"%.*s\",%lu,", (int)pub->topic.len,
	                 pub->topic.s, (unsigned long)pub->payload_len);
	espat_wr_open(&m->wr);
	espat_wr_part(&m->wr, (const uint8_t *)head, (size_t)h);
	q->rx_open = true;
}

static void on_publish_end(struct espat_module *m, const struct espat_mqtt_publish *pub)
{
	struct espat_mqtt *q = Q(m);
	if (q->rx_open) {
		espat_wr_part(&m->wr, (const uint8_t *)"\r\n", 2);
		espat_wr_close(&m->wr);
		q->rx_open = false;
	}
	if (pub->qos == 1) {
		send_ack(m, ESPAT_MQTT_PUBACK, pub->packet_id);
	} else if (pub->qos == 2) {
		if (!q->rx_dup && q->nqos2_in < ESPAT_MQTT_QOS2_IN_MAX)
			q->qos2_in[q->nqos2_in++] = pub->packet_id;
		send_ack(m, ESPAT_MQTT_PUBREC, pub->packet_id);
	}
	q->rx_dup = false;
}

/* A SUBACK: the waiting AT+MQTTSUB's, or the one of a reconnect. */
static void on_suback(struct espat_module *m, uint16_t id, const uint8_t *codes, size_t n)
{
	struct espat_mqtt *q = Q(m);
	if (id == q->resub_id) {
		q->resub_id = 0;
		return;
	}
	if (q->op != ESPAT_MQTT_OP_SUB || id != q->op_id)
		return;
	if (n < 1 || codes[0] == ESPAT_MQTT_SUBACK_FAILURE) {
		op_end(m, false, MQ_CLIENT_SUBSCRIBE_FAILED);
		return;
	}
	if (q->nsubs < ESPAT_MQTT_SUBS_MAX)
		q->subs[q->nsubs++] = q->op_topic;
	set_connected_state(q);
	op_end(m, true, 0);
}

static void on_unsuback(struct espat_module *m, uint16_t id)
{
	struct espat_mqtt *q = Q(m);
	if (q->op != ESPAT_MQTT_OP_UNSUB || id != q->op_id)
		return;
	for (size_t i = 0; i < q->nsubs; i++) {
		if (strcmp(q->subs[i].name, q->op_topic.name) == 0) {
			memmove(&q->subs[i], &q->subs[i + 1], (q->nsubs - i - 1) * sizeof(q->subs[0]));
			q->nsubs--;
			break;
		}
	}
	q->state = q->nsubs ? ESPAT_MQTT_SUBSCRIBED : ESPAT_MQTT_CONNECTED_NOSUB;
	op_end(m, true, 0);
}

static bool pub_waiting(const struct espat_mqtt *q, uint16_t id)
{
	return (q->op == ESPAT_MQTT_OP_PUB || q->op == ESPAT_MQTT_OP_PUBRAW) && q->op_id == id &&
	       id != 0;
}

/* Handles one parser event; false when the link ended in it. */
static bool handle(struct espat_module *m, const struct espat_mqtt_ev *ev)
{
	struct espat_mqtt *q = Q(m);
	switch (ev->type) {
	case ESPAT_MQTT_EV_CONNACK:
		on_connack(m, ev->return_code);
		return q->phase == ESPAT_MQTT_LINK_UP;
	case ESPAT_MQTT_EV_PUBLISH:
		if (q->phase != ESPAT_MQTT_LINK_UP)
			break;
		on_publish(m, &ev->pub);
		return true;
	case ESPAT_MQTT_EV_PAYLOAD:
		if (q->rx_open)
			espat_wr_part(&m->wr, ev->data, ev->len);
		hold_check(m);
		return true;
	case ESPAT_MQTT_EV_PUBLISH_END:
		on_publish_end(m, &ev->pub);
		hold_check(m);
		return true;
	case ESPAT_MQTT_EV_PUBACK:
		if (pub_waiting(q, ev->packet_id))
			op_end(m, true, 0);
		return true;
	case ESPAT_MQTT_EV_PUBREC:
		send_ack(m, ESPAT_MQTT_PUBREL, ev->packet_id);
		if (pub_waiting(q, ev->packet_id))
			q->op_rec = true;
		return true;
	case ESPAT_MQTT_EV_PUBCOMP:
		if (pub_waiting(q, ev->packet_id) && q->op_rec)
			op_end(m, true, 0);
		return true;
	case ESPAT_MQTT_EV_PUBREL:
		qos2_forget(q, ev->packet_id);
		send_ack(m, ESPAT_MQTT_PUBCOMP, ev->packet_id);
		return true;
	case ESPAT_MQTT_EV_SUBACK:
		on_suback(m, ev->packet_id, ev->data, ev->len);
		return true;
	case ESPAT_MQTT_EV_UNSUBACK:
		on_unsuback(m, ev->packet_id);
		return true;
	case ESPAT_MQTT_EV_PINGRESP:
		q->ping_out = false;
		return true;
	default:
		break;
	}
	link_lost(m, ESPAT_NET_EIO); /* a protocol violation */
	return false;
}

static void feed(struct espat_module *m, const uint8_t *p, size_t n)
{
	struct espat_mqtt *q = Q(m);
	unsigned gen = q->gen;
	struct espat_mqtt_ev ev;
	q->feeding = true;
	q->acks_len = 0;
	do {
		size_t used = espat_mqtt_feed(&q->parser, p, n, &ev);
		p += used;
		n -= used;
		if (ev.type == ESPAT_MQTT_EV_NEED_MORE)
			break;
		if (!handle(m, &ev) || q->gen != gen) {
			q->feeding = false;
			return;
		}
	} while (true);
	q->feeding = false;
	if (q->acks_len && tx(m, q->acks, q->acks_len) != 0)
		link_lost(m, ESPAT_NET_ERESET);
	q->acks_len = 0;
}

/* ---- AT+MQTTUSERCFG, AT+MQTTLONG*, AT+MQTTCONNCFG, AT+MQTTALPN, AT+MQTTSNI ---- */

/* The configuration commands refuse while connected (esp-at answers
 * ALREADY_CONNECTED). */
static enum espat_rc not_while_connected(struct espat_module *m)
{
	return fail(m, MQ_ALREADY_CONNECTED);
}

static bool busy_link(const struct espat_mqtt *q)
{
	return q->phase != ESPAT_MQTT_LINK_DOWN;
}

static const struct espat_param p_usercfg[] = {
    P_INT("LinkID", 0, 0),
    P_INT("scheme", 1, 10),
    P_STR("client_id", ESPAT_MQTT_CLIENT_ID_MAX),
    P_STR("username", ESPAT_MQTT_USER_MAX),
    P_STR("password", ESPAT_MQTT_USER_MAX),
    P_INT("cert_key_ID", 0, 0),
    P_INT("CA_ID", 0, 0),
    P_STR("path", ESPAT_MQTT_PATH_MAX),
};

static enum espat_rc usercfg_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_mqtt *q = Q(m);
	if (busy_link(q))
		return not_while_connected(m);
	if (a->v[2].len == 0 || arg_has_nul(a, 2))
		return fail(m, MQ_CLIENT_ID_IS_NULL);
	q->scheme = (uint8_t)a->v[1].i;
	bytes_set(&q->client_id, a->v[2].s, a->v[2].len, true);
	bytes_set(&q->username, a->v[3].s, a->v[3].len, true);
	bytes_set(&q->password, a->v[4].s, a->v[4].len, true);
	q->cert_key_id = (uint8_t)a->v[5].i;
	q->ca_id = (uint8_t)a->v[6].i;
	char path[ESPAT_MQTT_PATH_MAX + 1];
	arg_str(a, 7, path, sizeof(path));
	q->path[0] = '\0';
	if (is_ws(q->scheme)) /* shown with its '/', as the guide's 4.4.4 prints it */
		snprintf(q->path, sizeof(q->path), "%s%s", path[0] == '/' ? "" : "/", path);
	if (q->state < ESPAT_MQTT_USERCFG || q->state > ESPAT_MQTT_CONNCFG)
		q->state = ESPAT_MQTT_USERCFG;
	q->was_connected = false;
	return ESPAT_RC_OK;
}

static enum espat_rc long_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_mqtt *q = Q(m);
	struct espat_mqtt_bytes *b = q->entry_field;
	if (!q->entry_failed && b->p && q->entry_got + n <= q->entry_len) {
		memcpy(b->p + q->entry_got, p, n);
		q->entry_got += n;
	} else {
		q->entry_failed = true;
	}
	if (!last)
		return ESPAT_RC_PENDING;
	q->entry_field = NULL;
	return q->entry_failed ? fail(m, MQ_MALLOC_FAILED) : ESPAT_RC_OK;
}

static const struct espat_param p_long[] = {
    P_INT("LinkID", 0, 0),
    P_INT("length", 1, ESPAT_MQTT_LONG_MAX),
};

static enum espat_rc long_start(struct espat_module *m, const struct espat_args *a,
                                struct espat_mqtt_bytes *b)
{
	struct espat_mqtt *q = Q(m);
	if (busy_link(q))
		return not_while_connected(m);
	size_t len = (size_t)a->v[1].i;
	bytes_free(b);
	b->p = malloc(len);
	if (!b->p)
		return fail(m, MQ_MALLOC_FAILED);
	b->len = len;
	b->set = true;
	q->entry_field = b;
	q->entry_len = len;
	q->entry_got = 0;
	q->entry_failed = false;
	espat_engine_expect_data(E(m), len, long_data);
	return ESPAT_RC_OK_PROMPT;
}

static enum espat_rc longclientid_set(struct espat_module *m, const struct espat_args *a)
{
	return long_start(m, a, &Q(m)->client_id);
}

static enum espat_rc longusername_set(struct espat_module *m, const struct espat_args *a)
{
	return long_start(m, a, &Q(m)->username);
}

static enum espat_rc longpassword_set(struct espat_module *m, const struct espat_args *a)
{
	return long_start(m, a, &Q(m)->password);
}

static const struct espat_param p_conncfg[] = {
    P_INT("LinkID", 0, 0),
    P_INT("keepalive", 0, 7200),
    P_INT("disable_clean_session", 0, 1),
    P_STR("lwt_topic", ESPAT_MQTT_LWT_MAX),
    P_STR("lwt_msg", ESPAT_MQTT_LWT_MAX),
    P_INT_OPT("lwt_qos", 0, 2),
    P_INT_OPT("lwt_retain", 0, 1),
};

static enum espat_rc conncfg_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_mqtt *q = Q(m);
	if (q->state == ESPAT_MQTT_UNINIT)
		return fail(m, MQ_NO_CONFIGURED);
	if (busy_link(q))
		return not_while_connected(m);
	char topic[ESPAT_MQTT_LWT_MAX + 1];
	arg_str(a, 3, topic, sizeof(topic));
	if (topic[0] && (arg_has_nul(a, 3) ||
	                 !espat_mqtt_topic_valid((struct espat_mqtt_str){topic, strlen(topic)})))
		return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	q->keepalive = (uint16_t)a->v[1].i;
	q->disable_clean_session = a->v[2].i == 1;
	snprintf(q->lwt_topic, sizeof(q->lwt_topic), "%s", topic);
	bytes_set(&q->lwt_msg, a->v[4].s, a->v[4].len, true);
	q->lwt_qos = a->n > 5 && a->v[5].kind == ESPAT_ARG_INT ? (uint8_t)a->v[5].i : 0;
	q->lwt_retain = a->n > 6 && a->v[6].kind == ESPAT_ARG_INT && a->v[6].i == 1;
	if (q->state <= ESPAT_MQTT_CONNCFG)
		q->state = ESPAT_MQTT_CONNCFG;
	return ESPAT_RC_OK;
}

static const struct espat_param p_alpn[] = {
    P_INT("LinkID", 0, 0),        P_INT("alpn_counts", 0, ESPAT_TLS_ALPN_MAX),
    P_STR_OPT("alpn", ESPAT_MQTT_ALPN_LEN_MAX), P_STR_OPT("alpn", ESPAT_MQTT_ALPN_LEN_MAX),
    P_STR_OPT("alpn", ESPAT_MQTT_ALPN_LEN_MAX), P_STR_OPT("alpn", ESPAT_MQTT_ALPN_LEN_MAX),
    P_STR_OPT("alpn", ESPAT_MQTT_ALPN_LEN_MAX),
};

static enum espat_rc alpn_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_mqtt *q = Q(m);
	if (q->state == ESPAT_MQTT_UNINIT)
		return fail(m, MQ_NO_CONFIGURED);
	size_t n = (size_t)a->v[1].i;
	if (a->n != 2 + n)
		return espat_fail(E(m), ESPAT_ERR_NUM(2 + n, a->n));
	for (size_t i = 0; i < n; i++)
		if (a->v[2 + i].kind != ESPAT_ARG_STR || a->v[2 + i].len == 0 || arg_has_nul(a, 2 + i))
			return espat_fail(E(m), ESPAT_ERR_INVALID(2 + i));
	for (size_t i = 0; i < n; i++)
		arg_str(a, 2 + i, q->alpn[i], sizeof(q->alpn[i]));
	q->nalpn = n;
	return ESPAT_RC_OK;
}

static const struct espat_param p_sni[] = {
    P_INT("LinkID", 0, 0),
    P_STR("sni", ESPAT_MQTT_SNI_MAX),
};

static enum espat_rc sni_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_mqtt *q = Q(m);
	if (q->state == ESPAT_MQTT_UNINIT)
		return fail(m, MQ_NO_CONFIGURED);
	if (arg_has_nul(a, 1))
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	arg_str(a, 1, q->sni, sizeof(q->sni));
	return ESPAT_RC_OK;
}

/* ---- AT+MQTTCONN ---------------------------------------------------------------------- */

static enum espat_rc conn_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_mqtt *q = Q(m);
	if (q->state == ESPAT_MQTT_UNINIT) {
		espat_wr_linef(&m->wr, "+MQTTCONN:0,0,0,\"\",\"\",\"\",0");
		return ESPAT_RC_OK;
	}
	char port[8] = "";
	if (q->host[0])
		snprintf(port, sizeof(port), "%u", q->port);
	espat_wr_linef(&m->wr, "+MQTTCONN:0,%d,%u,\"%s\",\"%s\",\"%s\",%d", (int)q->state, q->scheme,
	               q->host, port, q->path, q->reconnect ? 1 : 0);
	return ESPAT_RC_OK;
}

static const struct espat_param p_conn[] = {
    P_INT("LinkID", 0, 0),
    P_STR("host", ESPAT_MQTT_HOST_MAX),
    P_INT("port", 0, 65535),
    P_INT("reconnect", 0, 1),
};

static enum espat_rc conn_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_mqtt *q = Q(m);
	if (q->state == ESPAT_MQTT_UNINIT)
		return fail(m, MQ_NO_CONFIGURED);
	if (busy_link(q))
		return fail(m, MQ_ALREADY_CONNECTED);
	if (q->was_connected && !q->reconnect)
		return fail(m, MQ_NOT_IN_CONFIGURED_STATE); /* AT+MQTTCLEAN first (the guide) */
	if (a->v[1].len == 0 || arg_has_nul(a, 1))
		return fail(m, MQ_HOST_IS_NULL);
	if (a->v[2].i == 0)
		return fail(m, MQ_PORT_VALUE_IS_WRONG);
	espat_timer_cancel(&m->timers, &q->retry_timer);
	arg_str(a, 1, q->host, sizeof(q->host));
	q->port = (uint16_t)a->v[2].i;
	q->reconnect = a->v[3].i == 1;
	q->was_connected = false;
	int err = dial(m);
	if (err) {
		if (err == ESPAT_NET_ECERT)
			return fail(m, MQ_TLS_CONFIG_ERROR);
		return fail(m, MQ_CLIENT_START_FAILED);
	}
	q->op = ESPAT_MQTT_OP_CONN;
	return ESPAT_RC_PENDING;
}

/* ---- AT+MQTTPUB, AT+MQTTPUBRAW ------------------------------------------------------------ */

static bool topic_arg(struct espat_module *m, const struct espat_args *a, size_t i,
                      struct espat_mqtt_topic *t, bool filter, enum espat_rc *rc)
{
	if (a->v[i].len == 0) {
		*rc = fail(m, MQ_TOPIC_IS_NULL);
		return false;
	}
	struct espat_mqtt_str s = {a->v[i].s, a->v[i].len};
	if (arg_has_nul(a, i) || !(filter ? espat_mqtt_filter_valid(s) : espat_mqtt_topic_valid(s))) {
		*rc = espat_fail(E(m), ESPAT_ERR_INVALID(i));
		return false;
	}
	arg_str(a, i, t->name, sizeof(t->name));
	return true;
}

/* The common start of the commands that need the broker: connected, and
 * argument 1 a topic (filter: a SUBSCRIBE/UNSUBSCRIBE filter). */
static bool linked_topic(struct espat_module *m, const struct espat_args *a,
                         struct espat_mqtt_topic *t, bool filter, enum espat_rc *rc)
{
	if (!connected(Q(m))) {
		*rc = fail(m, MQ_IN_DISCONNECTED_STATE);
		return false;
	}
	return topic_arg(m, a, 1, t, filter, rc);
}

/* Writes a PUBLISH head for payload_len bytes into q->pend (not sent);
 * its packet id in *id. 0, or EINVAL. */
static int publish_head(struct espat_module *m, const char *topic, uint8_t qos, bool retain,
                        size_t payload_len, uint16_t *id)
{
	struct espat_mqtt *q = Q(m);
	*id = qos ? next_id(q) : 0;
	struct espat_mqtt_publish pub = {
	    .topic = {topic, strlen(topic)},
	    .qos = qos,
	    .retain = retain,
	    .packet_id = *id,
	    .payload_len = (uint32_t)payload_len,
	};
	q->pend_len = espat_mqtt_write_publish_head(q->pend, sizeof(q->pend), &pub);
	return q->pend_len ? 0 : ESPAT_NET_EINVAL;
}

static const struct espat_param p_pub[] = {
    P_INT("LinkID", 0, 0),
    P_STR("topic", ESPAT_MQTT_TOPIC_MAX_AT),
    P_STR("data", ESPAT_LINE_MAX),
    P_INT("qos", 0, 2),
    P_INT("retain", 0, 1),
};

/* A publish went out: QoS 0 is done; 1 and 2 wait for the broker. */
static enum espat_rc published(struct espat_module *m, enum espat_mqtt_op op, uint8_t qos,
                               uint16_t id)
{
	struct espat_mqtt *q = Q(m);
	if (qos == 0)
		return ESPAT_RC_OK;
	q->op = op;
	q->op_id = id;
	q->op_rec = false;
	arm_ack(m);
	return ESPAT_RC_PENDING;
}

static enum espat_rc pub_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_mqtt_topic t;
	enum espat_rc rc;
	if (!linked_topic(m, a, &t, false, &rc))
		return rc;
	if (a->v[2].len == 0)
		return fail(m, MQ_DATA_IS_NULL);
	uint8_t qos = (uint8_t)a->v[3].i;
	uint16_t id;
	struct espat_mqtt *q = Q(m);
	if (publish_head(m, t.name, qos, a->v[4].i == 1, a->v[2].len, &id) != 0 ||
	    tx2(m, q->pend, q->pend_len, (const uint8_t *)a->v[2].s, a->v[2].len) != 0)
		return fail(m, MQ_CLIENT_PUBLISH_FAILED);
	q->pend_len = 0;
	return published(m, ESPAT_MQTT_OP_PUB, qos, id);
}

static enum espat_rc pubraw_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_mqtt *q = Q(m);
	if (!q->entry_failed && connected(q) && q->pend_len) { /* the head goes with the first data */
		if (tx2(m, q->pend, q->pend_len, p, n) != 0)
			q->entry_failed = true;
		q->pend_len = 0;
	} else if (!q->entry_failed && (!connected(q) || tx(m, p, n) != 0)) {
		q->entry_failed = true;
	}
	if (!last)
		return ESPAT_RC_PENDING;
	if (q->entry_failed) {
		if (connected(q) && q->pend_len == 0)
			link_lost(m, ESPAT_NET_EIO); /* a PUBLISH cut short breaks the stream */
		q->pend_len = 0;
		espat_wr_result(&m->wr, "+MQTTPUB:FAIL");
		return ESPAT_RC_DONE;
	}
	enum espat_rc rc = published(m, ESPAT_MQTT_OP_PUBRAW, q->entry_qos, q->op_id);
	if (rc == ESPAT_RC_OK) {
		espat_wr_result(&m->wr, "+MQTTPUB:OK");
		return ESPAT_RC_DONE;
	}
	return rc;
}

static const struct espat_param p_pubraw[] = {
    P_INT("LinkID", 0, 0),
    P_STR("topic", ESPAT_MQTT_TOPIC_MAX_AT),
    P_INT("length", 1, (int64_t)ESPAT_MQTT_REMAINING_MAX - 2 - ESPAT_MQTT_TOPIC_MAX_AT - 2),
    P_INT("qos", 0, 2),
    P_INT("retain", 0, 1),
};

static enum espat_rc pubraw_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_mqtt *q = Q(m);
	struct espat_mqtt_topic t;
	enum espat_rc rc;
	if (!linked_topic(m, a, &t, false, &rc))
		return rc;
	size_t len = (size_t)a->v[2].i;
	q->entry_qos = (uint8_t)a->v[3].i;
	q->entry_retain = a->v[4].i == 1;
	q->entry_len = len;
	q->entry_failed = false;
	uint16_t id;
	if (publish_head(m, t.name, q->entry_qos, q->entry_retain, len, &id) != 0)
		return fail(m, MQ_CLIENT_PUBLISH_FAILED);
	q->op_id = id; /* taken up by published() once the data went out */
	espat_engine_expect_data(E(m), len, pubraw_data);
	return ESPAT_RC_OK_PROMPT;
}

/* ---- AT+MQTTSUB, AT+MQTTUNSUB ------------------------------------------------------------------ */

static long sub_index(const struct espat_mqtt *q, const char *topic)
{
	for (size_t i = 0; i < q->nsubs; i++)
		if (strcmp(q->subs[i].name, topic) == 0)
			return (long)i;
	return -1;
}

static enum espat_rc sub_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_mqtt *q = Q(m);
	for (size_t i = 0; i < q->nsubs; i++)
		espat_wr_linef(&m->wr, "+MQTTSUB:0,%d,\"%s\",%u", (int)q->state, q->subs[i].name,
		               q->subs[i].qos);
	return ESPAT_RC_OK;
}

static const struct espat_param p_sub[] = {
    P_INT("LinkID", 0, 0),
    P_STR("topic", ESPAT_MQTT_TOPIC_MAX_AT),
    P_INT_OPT("qos", 0, 2),
};

static enum espat_rc sub_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_mqtt *q = Q(m);
	struct espat_mqtt_topic t;
	enum espat_rc rc;
	if (!linked_topic(m, a, &t, true, &rc))
		return rc;
	t.qos = a->n > 2 && a->v[2].kind == ESPAT_ARG_INT ? (uint8_t)a->v[2].i : 0;
	if (sub_index(q, t.name) >= 0) {
		espat_wr_linef(&m->wr, "ALREADY SUBSCRIBE");
		return ESPAT_RC_OK;
	}
	if (q->nsubs == ESPAT_MQTT_SUBS_MAX)
		return fail(m, MQ_CLIENT_SUBSCRIBE_FAILED);
	struct espat_mqtt_sub s = {{t.name, strlen(t.name)}, t.qos};
	uint8_t buf[ESPAT_MQTT_TOPIC_MAX_AT + 16];
	uint16_t id = next_id(q);
	size_t n = espat_mqtt_write_subscribe(buf, sizeof(buf), id, &s, 1);
	if (n == 0 || tx(m, buf, n) != 0)
		return fail(m, MQ_CLIENT_SUBSCRIBE_FAILED);
	q->op = ESPAT_MQTT_OP_SUB;
	q->op_id = id;
	q->op_topic = t;
	arm_ack(m);
	return ESPAT_RC_PENDING;
}

static const struct espat_param p_unsub[] = {
    P_INT("LinkID", 0, 0),
    P_STR("topic", ESPAT_MQTT_TOPIC_MAX_AT),
};

static enum espat_rc unsub_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_mqtt *q = Q(m);
	struct espat_mqtt_topic t;
	enum espat_rc rc;
	if (!linked_topic(m, a, &t, true, &rc))
		return rc;
	if (sub_index(q, t.name) < 0) {
		espat_wr_linef(&m->wr, "NO UNSUBSCRIBE");
		return ESPAT_RC_OK;
	}
	struct espat_mqtt_str f = {t.name, strlen(t.name)};
	uint8_t buf[ESPAT_MQTT_TOPIC_MAX_AT + 16];
	uint16_t id = next_id(q);
	size_t n = espat_mqtt_write_unsubscribe(buf, sizeof(buf), id, &f, 1);
	if (n == 0 || tx(m, buf, n) != 0)
		return fail(m, MQ_CLIENT_UNSUBSCRIBE_FAILED);
	q->op = ESPAT_MQTT_OP_UNSUB;
	q->op_id = id;
	q->op_topic = t;
	arm_ack(m);
	return ESPAT_RC_PENDING;
}

/* ---- AT+MQTTCLEAN ----------------------------------------------------------------------------- */

/* Forgets everything: the configuration, the subscriptions, the link. A
 * connected client says DISCONNECT first (a clean goodbye: no will), and
 * the connection closes gracefully so that it gets out. */
static void clean(struct espat_module *m)
{
	struct espat_mqtt *q = Q(m);
	if (connected(q)) {
		uint8_t bye[2];
		size_t n = espat_mqtt_write_empty(bye, sizeof(bye), ESPAT_MQTT_DISCONNECT);
		tx(m, bye, n);
		if (q->ws)
			espat_wsc_close(&q->wsc, 1000); /* finishes on its own; ignored here */
		else
			espat_conn_close(&q->conn, ESPAT_CLOSE_GRACEFUL);
	}
	link_down(m, !q->ws);
	espat_timer_cancel(&m->timers, &q->retry_timer);
	bytes_free(&q->client_id);
	bytes_free(&q->username);
	bytes_free(&q->password);
	bytes_free(&q->lwt_msg);
	q->state = ESPAT_MQTT_UNINIT;
	q->scheme = 0;
	q->cert_key_id = q->ca_id = 0;
	q->path[0] = q->lwt_topic[0] = q->sni[0] = q->host[0] = '\0';
	q->keepalive = 0;
	q->disable_clean_session = q->lwt_retain = false;
	q->lwt_qos = 0;
	q->nalpn = 0;
	q->port = 0;
	q->reconnect = q->was_connected = false;
	q->nsubs = 0;
}

static const struct espat_param p_clean[] = {
    P_INT("LinkID", 0, 0),
};

static enum espat_rc clean_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_mqtt *q = Q(m);
	if (q->state == ESPAT_MQTT_UNINIT)
		return fail(m, MQ_UNINITIATED_OR_ALREADY_CLEAN);
	clean(m);
	return ESPAT_RC_OK;
}

/* ---- table, lifecycle ----------------------------------------------------------------------------- */

static const struct espat_cmd mqtt_rows[] = {
    {.name = "+MQTTUSERCFG",
     .set = usercfg_set,
     .params = p_usercfg,
     .nparams = N(p_usercfg),
     .help = "Set MQTT user configuration"},
    {.name = "+MQTTLONGCLIENTID",
     .set = longclientid_set,
     .params = p_long,
     .nparams = N(p_long),
     .help = "Set MQTT client ID"},
    {.name = "+MQTTLONGUSERNAME",
     .set = longusername_set,
     .params = p_long,
     .nparams = N(p_long),
     .help = "Set MQTT username"},
    {.name = "+MQTTLONGPASSWORD",
     .set = longpassword_set,
     .params = p_long,
     .nparams = N(p_long),
     .help = "Set MQTT password"},
    {.name = "+MQTTCONNCFG",
     .set = conncfg_set,
     .params = p_conncfg,
     .nparams = N(p_conncfg),
     .help = "Set configuration of MQTT connection"},
    {.name = "+MQTTALPN",
     .set = alpn_set,
     .params = p_alpn,
     .nparams = N(p_alpn),
     .help = "Set MQTT Application Layer Protocol Negotiation (ALPN)"},
    {.name = "+MQTTSNI",
     .set = sni_set,
     .params = p_sni,
     .nparams = N(p_sni),
     .help = "Set MQTT Server Name Indication (SNI)"},
    {.name = "+MQTTCONN",
     .query = conn_query,
     .set = conn_set,
     .params = p_conn,
     .nparams = N(p_conn),
     .help = "Connect to MQTT Brokers"},
    {.name = "+MQTTPUB",
     .set = pub_set,
     .params = p_pub,
     .nparams = N(p_pub),
     .help = "Publish MQTT Messages in string"},
    {.name = "+MQTTPUBRAW",
     .set = pubraw_set,
     .params = p_pubraw,
     .nparams = N(p_pubraw),
     .help = "Publish long MQTT messages"},
    {.name = "+MQTTSUB",
     .query = sub_query,
     .set = sub_set,
     .params = p_sub,
     .nparams = N(p_sub),
     .help = "Subscribe to MQTT topics"},
    {.name = "+MQTTUNSUB",
     .set = unsub_set,
     .params = p_unsub,
     .nparams = N(p_unsub),
     .help = "Unsubscribe from MQTT topics"},
    {.name = "+MQTTCLEAN",
     .set = clean_set,
     .params = p_clean,
     .nparams = N(p_clean),
     .help = "Close MQTT connections"},
};

const struct espat_cmd_table espat_mqtt_table = {
    .family = "mqtt",
    .rows = mqtt_rows,
    .n = sizeof(mqtt_rows) / sizeof(mqtt_rows[0]),
};

int espat_mqtt_link_reset(struct espat_module *m)
{
	if (Q(m)->phase == ESPAT_MQTT_LINK_DOWN)
		return -1;
	link_lost(m, ESPAT_NET_ERESET);
	return 0;
}

/* A lost way out (the AP gone) breaks the link as a dead socket would. */
static void mqtt_event(struct espat_module *m, enum espat_event ev)
{
	struct espat_mqtt *q = Q(m);
	if (ev == ESPAT_EV_TX_ROOM && q->held && espat_module_tx_queued(m) <= ESPAT_TX_HIGH) {
		pause_link(m, false);
		return;
	}
	if (ev == ESPAT_EV_NET_CHANGED && q->phase != ESPAT_MQTT_LINK_DOWN &&
	    !espat_wifi_online(m))
		link_lost(m, ESPAT_NET_EUNREACH);
}

static void mqtt_free(struct espat_module *m)
{
	struct espat_mqtt *q = Q(m);
	link_down(m, true);
	espat_wsc_abort(&q->wsc); /* a closing handshake AT+MQTTCLEAN left */
	espat_timer_cancel(&m->timers, &q->retry_timer);
	bytes_free(&q->client_id);
	bytes_free(&q->username);
	bytes_free(&q->password);
	bytes_free(&q->lwt_msg);
}

const struct espat_family espat_mqtt_family = {
	.name = "mqtt",
	.table = &espat_mqtt_table,
	.state_size = sizeof(struct espat_mqtt),
	.state_slot = offsetof(struct espat_module, mqtt),
	.free = mqtt_free,
	.events = ESPAT_EV(ESPAT_EV_NET_CHANGED) | ESPAT_EV(ESPAT_EV_TX_ROOM),
	.on_event = mqtt_event,
};
