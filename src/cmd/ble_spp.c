/* BLE SPP (guide 3.4.31-3.4.32): AT+BLESPPCFG and AT+BLESPP, UART
 * passthrough over one GATT characteristic each way [000:8088-8200].
 *
 * As a client (AT+BLEINIT=1): the tx and rx indices are the client's
 * (AT+BLEGATTCPRIMSRV / AT+BLEGATTCCHAR); AT+BLESPP enables the rx
 * characteristic's notifications (or indications) in its CCCD with a
 * Write Request, then answers OK and `>`; typed bytes go to the tx
 * characteristic as Write Commands (write-without-response) or Write
 * Requests one at a time, each at most ATT_MTU - 3 bytes.
 * As a server (AT+BLEINIT=2): the indices are the local table's; AT+BLESPP
 * is ERROR unless the client enabled the tx characteristic's CCCD
 * [000:8179-8183]; typed bytes leave as notifications (or indications,
 * each waiting for its confirmation).
 * Either way what the peer sends to the rx characteristic goes raw to the
 * UART (no +WRITE / +NOTIFY), and a guarded +++ ends the mode as TCP
 * passthrough's does, through the engine's passthrough state.
 *
 * The first link that is up carries SPP. State in the ble family's slot
 * (m->ble->spp), made when first used. */
#include <stdlib.h>
#include <string.h>

#include "cmd/ble.h"
#include "cmd/params.h"
#include "cmd/sysmsg.h"

#define E(m) (&(m)->eng)
#define SPP_BUF 8192u      /* typed bytes waiting for the link */
#define SPP_HOLD (SPP_BUF / 2) /* past this the UART is held (RTS), under SPP_HOLD / 2 let go */
#define SPP_TIMEOUT 30000u /* ms: the CCCD write's ATT transaction timeout */

struct espat_ble_spp {
	bool cfg; /* AT+BLESPPCFG=1 given */
	uint8_t tx_srv, tx_chr, rx_srv, rx_chr;
	uint8_t auto_conn; /* recorded and shown; no reconnection is modelled */
	bool on;           /* in SPP passthrough */
	bool entering;     /* client: the CCCD write is out, AT+BLESPP waits */
	bool in_exec;      /* AT+BLESPP's handler runs: an answer only records */
	bool cccd_ok;      /* the CCCD write's outcome */
	bool client;       /* the role SPP runs in */
	size_t link;
	/* client: the tx value handle, whether it takes commands, the rx value handle */
	uint16_t tx_h, rx_h;
	bool tx_cmd;
	/* server: table rows of the tx and rx values, and the PDU kind */
	size_t tx_row, rx_row;
	uint8_t tx_op;
	bool waiting;  /* a Write Request (client) or indication (server) is unanswered */
	bool flushing; /* flush() runs: an answer inside it does not call it again */
	uint8_t q[SPP_BUF];
	size_t qlen;
	bool held; /* the UART's input is held back until the queue drains */
	struct espat_timer timer; /* the CCCD write's timeout */
};

static struct espat_ble_spp *S(struct espat_module *m)
{
	if (!m->ble->spp)
		m->ble->spp = calloc(1, sizeof(*m->ble->spp));
	if (m->ble->spp && !m->ble->spp->cfg && !m->ble->spp->on)
		m->ble->spp->auto_conn = 1; /* the default [000:8139] */
	return m->ble->spp;
}

static void hold(struct espat_module *m, bool on);

void espat_ble_spp_free(struct espat_module *m)
{
	struct espat_ble_spp *s = m->ble->spp;
	if (!s)
		return;
	espat_timer_cancel(&m->timers, &s->timer);
	hold(m, false);
	free(s);
	m->ble->spp = NULL;
}

/* ---- AT+BLESPPCFG --------------------------------------------------------------- */

static enum espat_rc sppcfg_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_spp *s = S(m);
	if (!s)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	espat_wr_linef(&m->wr, "+BLESPPCFG:%u,%u,%u,%u,%u", s->tx_srv, s->tx_chr, s->rx_srv,
	               s->rx_chr, s->auto_conn);
	return ESPAT_RC_OK;
}

static const struct espat_param p_sppcfg[] = {
    P_INT("cfg_enable", 0, 1),          P_INT_OPT("tx_service_index", 1, 32),
    P_INT_OPT("tx_char_index", 1, 255), P_INT_OPT("rx_service_index", 1, 32),
    P_INT_OPT("rx_char_index", 1, 255), P_INT_OPT("auto_conn", 0, 1),
};

static bool given(const struct espat_args *a, size_t i)
{
	return a->n > i && a->v[i].kind != ESPAT_ARG_OMITTED;
}

/* 0: reset, nothing after it; 1: the four indices (checked against the
 * table at AT+BLESPP, when discovery has run), then <auto_conn> (COMPAT
 * #436). */
static enum espat_rc sppcfg_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_spp *s = S(m);
	if (!s)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	if (a->v[0].i == 0) {
		if (a->n > 1)
			return espat_fail(E(m), ESPAT_ERR_INVALID(1));
		s->cfg = false;
		s->tx_srv = s->tx_chr = s->rx_srv = s->rx_chr = 0;
		s->auto_conn = 1;
		return ESPAT_RC_OK;
	}
	for (size_t i = 1; i <= 4; i++)
		if (!given(a, i))
			return espat_fail(E(m), ESPAT_ERR_INVALID(i));
	s->cfg = true;
	s->tx_srv = (uint8_t)a->v[1].i;
	s->tx_chr = (uint8_t)a->v[2].i;
	s->rx_srv = (uint8_t)a->v[3].i;
	s->rx_chr = (uint8_t)a->v[4].i;
	s->auto_conn = given(a, 5) ? (uint8_t)a->v[5].i : 1;
	return ESPAT_RC_OK;
}

/* ---- the data ---------------------------------------------------------------------- */

/* Holds the host's input back while the queue is full (the UART's RTS,
 * as TCP passthrough does), so typed bytes wait in the host rather than
 * being lost; the UART model delivers at most its 2 KiB RX buffer at a
 * time, which the queue's other half takes. */
static void hold(struct espat_module *m, bool on)
{
	struct espat_ble_spp *s = m->ble->spp;
	if (s->held == on)
		return;
	s->held = on;
	if (m->ports.pipe.rx_pause)
		m->ports.pipe.rx_pause(m->ports.pipe.user, on);
}

/* Sends what waits, in chunks of ATT_MTU - 3, until it is gone or the
 * link must answer first. An answer that comes while a chunk leaves
 * (a scripted peer answers at once) is seen by the loop, not by a nested
 * call. */
static void flush(struct espat_module *m)
{
	struct espat_ble_spp *s = m->ble->spp;
	if (!s || !s->on || s->flushing)
		return;
	s->flushing = true;
	while (s->qlen > 0 && !s->waiting) {
		const struct espat_ble_link *l = &m->ble->link[s->link];
		if (!l->up) {
			s->qlen = 0; /* no link: the bytes are lost */
			break;
		}
		/* ATT_MTU - 3, and no attribute value is longer than 512 bytes */
		size_t room = espat_att_value_room(ESPAT_ATT_WRITE_CMD, l->mtu);
		room = room < ESPAT_ATT_VALUE_MAX ? room : ESPAT_ATT_VALUE_MAX;
		size_t k = s->qlen < room ? s->qlen : room;
		if (s->client) {
			uint8_t out[ESPAT_ATT_MTU_MAX];
			struct espat_att_pdu pdu = {.op = s->tx_cmd ? ESPAT_ATT_WRITE_CMD
			                                            : ESPAT_ATT_WRITE_REQ,
			                            .handle = s->tx_h,
			                            .value = s->q,
			                            .value_len = k};
			size_t n = espat_att_encode(&pdu, l->mtu, out, sizeof(out));
			s->waiting = !s->tx_cmd;
			memmove(s->q, s->q + k, s->qlen - k);
			s->qlen -= k;
			if (n > 0 && m->ports.ble.att)
				m->ports.ble.att(m->ports.ble.user, l->addr, out, n);
			continue;
		}
		enum espat_gatt_ntf_err e =
		    espat_ble_gatts_send(m, s->link, s->tx_op, s->tx_row, s->q, k);
		if (e == ESPAT_GATT_NTF_BUSY) {
			s->waiting = true; /* the confirmation brings the next */
			break;
		}
		/* sent, or the client unsubscribed (then it is lost, as on air) */
		memmove(s->q, s->q + k, s->qlen - k);
		s->qlen -= k;
	}
	s->flushing = false;
	if (s->held && s->qlen < SPP_HOLD / 2)
		hold(m, false);
}

static void pt_input(struct espat_module *m, const uint8_t *p, size_t n)
{
	struct espat_ble_spp *s = m->ble->spp;
	size_t room = SPP_BUF - s->qlen, k = n < room ? n : room;
	memcpy(s->q + s->qlen, p, k);
	s->qlen += k;
	if (s->qlen > SPP_HOLD)
		hold(m, true);
	flush(m);
}

static void spp_leave(struct espat_module *m)
{
	struct espat_ble_spp *s = m->ble->spp;
	s->on = false;
	s->waiting = false;
	s->qlen = 0;
	hold(m, false);
	m->wr.quiet = false;
}

/* A guarded +++: what was typed before it still goes, then command mode. */
static enum espat_rc pt_escape(struct espat_module *m)
{
	flush(m);
	spp_leave(m);
	if (espat_basic_sysmsg(m) & 1)
		espat_wr_reportf(&m->wr, "+QUITT"); /* [000:1710] */
	return ESPAT_RC_DONE;
}

/* Data from the peer on link for SPP in the given role, when `ours` (it
 * is the rx characteristic): raw to the UART. */
static bool raw_in(struct espat_module *m, bool client, size_t link, bool ours, const uint8_t *v,
                   size_t n)
{
	struct espat_ble_spp *s = m->ble->spp;
	if (!s || !s->on || s->client != client || link != s->link || !ours)
		return false;
	espat_wr_raw(&m->wr, v, n);
	return true;
}

bool espat_ble_spp_value_in(struct espat_module *m, size_t link, uint8_t srv, uint8_t chr,
                            const uint8_t *v, size_t n)
{
	const struct espat_ble_spp *s = m->ble->spp;
	return raw_in(m, true, link, s && srv == s->rx_srv && chr == s->rx_chr, v, n);
}

bool espat_ble_spp_write_in(struct espat_module *m, size_t link, size_t row, const uint8_t *v,
                            size_t n)
{
	const struct espat_ble_spp *s = m->ble->spp;
	return raw_in(m, false, link, s && row == s->rx_row, v, n);
}

void espat_ble_spp_confirmed(struct espat_module *m, size_t link)
{
	struct espat_ble_spp *s = m->ble->spp;
	if (!s || !s->on || s->client || link != s->link)
		return;
	s->waiting = false;
	flush(m);
}

/* ---- AT+BLESPP ---------------------------------------------------------------------- */

static void enter(struct espat_module *m)
{
	struct espat_ble_spp *s = m->ble->spp;
	s->on = true;
	s->waiting = false;
	s->qlen = 0;
	espat_engine_expect_passthrough(E(m), pt_input, pt_escape);
}

void espat_ble_spp_answer(struct espat_module *m, size_t link, const struct espat_att_pdu *p)
{
	struct espat_ble_spp *s = m->ble->spp;
	if (!s || link != s->link)
		return;
	if (s->entering) {
		/* the answer to the CCCD write: into SPP, or ERROR */
		s->entering = false;
		espat_timer_cancel(&m->timers, &s->timer);
		s->cccd_ok = p->op == ESPAT_ATT_WRITE_RSP;
		if (s->in_exec)
			return; /* the handler takes it from here */
		if (!s->cccd_ok) {
			espat_engine_complete(E(m), espat_fail(E(m), ESPAT_ERR_EXEC));
			return;
		}
		enter(m);
		espat_engine_complete(E(m), ESPAT_RC_OK_PROMPT);
		return;
	}
	if (s->on && s->client && s->waiting) {
		s->waiting = false; /* a refused chunk is lost, as a failed write on air */
		flush(m);
	}
}

void espat_ble_spp_link_down(struct espat_module *m, size_t link, bool report)
{
	struct espat_ble_spp *s = m->ble->spp;
	if (!s || !s->entering || link != s->link)
		return;
	/* AT+BLESPP waited for the CCCD write's answer on that link */
	s->entering = false;
	espat_timer_cancel(&m->timers, &s->timer);
	if (report && !s->in_exec)
		espat_engine_complete(E(m), espat_fail(E(m), ESPAT_ERR_EXEC));
}

static void cccd_timeout(void *user)
{
	struct espat_module *m = user;
	m->ble->spp->entering = false;
	espat_engine_complete(E(m), espat_fail(E(m), ESPAT_ERR_EXEC));
}

/* Client: the tx characteristic writable, the rx one notifying or
 * indicating with a CCCD, both found by discovery [000:8145]. */
static enum espat_rc spp_client(struct espat_module *m, struct espat_ble_spp *s)
{
	uint16_t rx_cccd, tx_cccd;
	uint8_t tx_prop, rx_prop;
	if (!espat_ble_gattc_char(m, s->link, s->tx_srv, s->tx_chr, &s->tx_h, &tx_prop, &tx_cccd) ||
	    !espat_ble_gattc_char(m, s->link, s->rx_srv, s->rx_chr, &s->rx_h, &rx_prop, &rx_cccd) ||
	    !(tx_prop & (ESPAT_GATT_PROP_WRITE | ESPAT_GATT_PROP_WRITE_NR)) ||
	    !(rx_prop & (ESPAT_GATT_PROP_NOTIFY | ESPAT_GATT_PROP_INDICATE)) || rx_cccd == 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	s->tx_cmd = !!(tx_prop & ESPAT_GATT_PROP_WRITE_NR);
	const struct espat_ble_link *l = &m->ble->link[s->link];
	uint8_t bits[2] = {rx_prop & ESPAT_GATT_PROP_NOTIFY ? 0x01 : 0x02, 0x00};
	struct espat_att_pdu q = {
	    .op = ESPAT_ATT_WRITE_REQ, .handle = rx_cccd, .value = bits, .value_len = 2};
	uint8_t out[ESPAT_ATT_MTU_MAX];
	size_t n = espat_att_encode(&q, l->mtu, out, sizeof(out));
	s->entering = true;
	s->cccd_ok = false;
	espat_timer_arm(&m->timers, &s->timer, espat_module_now(m) + SPP_TIMEOUT, cccd_timeout, m);
	s->in_exec = true;
	if (m->ports.ble.att)
		m->ports.ble.att(m->ports.ble.user, l->addr, out, n);
	s->in_exec = false;
	if (s->entering)
		return ESPAT_RC_PENDING;
	/* answered at once (a scripted peer): the outcome is known now */
	if (!s->cccd_ok)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	enter(m);
	return ESPAT_RC_OK_PROMPT;
}

/* Server: the tx characteristic notifies or indicates and this client
 * enabled it; the rx one is writable [000:8146, 8179-8183]. */
static enum espat_rc spp_server(struct espat_module *m, struct espat_ble_spp *s)
{
	long tx = espat_ble_gatts_find(m, s->tx_srv, s->tx_chr, 0);
	long rx = espat_ble_gatts_find(m, s->rx_srv, s->rx_chr, 0);
	if (tx < 0 || rx < 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	struct espat_ble_gatts *g = &m->ble->gatts;
	const struct espat_gatt_attr *rx_decl =
	    espat_gatt_db_attr(&g->db, (uint16_t)(g->base + rx - 1));
	uint8_t rx_prop = rx_decl && rx_decl->len ? rx_decl->val[0] : 0;
	uint16_t h = (uint16_t)(g->base + tx);
	size_t mtu = m->ble->link[s->link].mtu;
	if (espat_gatt_db_can_notify(&g->db, s->link, ESPAT_ATT_NOTIFY, h, 0, mtu) ==
	    ESPAT_GATT_NTF_OK)
		s->tx_op = ESPAT_ATT_NOTIFY;
	else if (espat_gatt_db_can_notify(&g->db, s->link, ESPAT_ATT_INDICATE, h, 0, mtu) !=
	         ESPAT_GATT_NTF_NOT_ENABLED)
		s->tx_op = ESPAT_ATT_INDICATE;
	else
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	if (!(rx_prop & (ESPAT_GATT_PROP_WRITE | ESPAT_GATT_PROP_WRITE_NR)))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	s->tx_row = (size_t)tx;
	s->rx_row = (size_t)rx;
	enter(m);
	return ESPAT_RC_OK_PROMPT;
}

static enum espat_rc spp_exec(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_spp *s = S(m);
	if (!s || !s->cfg)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	size_t i = 0;
	while (i < ESPAT_BLE_LINKS && !m->ble->link[i].up)
		i++;
	if (i == ESPAT_BLE_LINKS)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	s->link = i;
	s->client = m->ble->role == ESPAT_BLE_CLIENT;
	return s->client ? spp_client(m, s) : spp_server(m, s);
}

static const struct espat_cmd spp_rows[] = {
    {.name = "+BLESPPCFG",
     .query = sppcfg_query,
     .set = sppcfg_set,
     .params = p_sppcfg,
     .nparams = N(p_sppcfg),
     .help = "Query/Set BLE SPP parameters"},
    {.name = "+BLESPP", .exec = spp_exec, .help = "Enter BLE SPP mode"},
};

static const struct espat_cmd_table spp_table = {
    .family = "ble_spp",
    .rows = spp_rows,
    .n = sizeof(spp_rows) / sizeof(spp_rows[0]),
};

/* No state slot of its own: SPP lives in the ble family's, which frees it
 * (espat_ble_spp_free). */
const struct espat_family espat_ble_spp_family = {
    .name = "ble_spp",
    .table = &spp_table,
};
