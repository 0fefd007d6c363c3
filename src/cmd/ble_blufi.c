/* BluFi: AT+BLUFI, AT+BLUFINAME, AT+BLUFISEND (guide 3.4.45-3.4.47), the
 * BluFi GATT service and the provisioning it carries. See ble_blufi.h. */
#include "cmd/ble_blufi.h"

#include <stdio.h>
#include <string.h>

#include "cmd/ble.h"
#include "cmd/params.h"
#include "cmd/wifi.h"
#include "proto/att.h"

#define E(m) (&(m)->eng)
#define B(m) ((m)->blufi)
#define ADV_INTERVAL_MS 100u   /* COMPAT #501 */
#define JOIN_POLL_MS 100u      /* how often a join the phone asked for is looked at */
#define JOIN_TIMEOUT_MS 20000u /* ... and when it counts as failed */
#define SUPERVISION_MS 5000u   /* a vanished phone's link ends (COMPAT #408's timeout) */

/* The version BluFi reports (data VERSION): ESP-IDF v5.0's profile, 1.3. */
static const uint8_t blufi_version[2] = {0x01, 0x03};

/* Reason codes of the Wi-Fi report's END_REASON (ESP-IDF wifi_err_reason_t)
 * for the station's +CWJAP failure codes. */
enum {
	REASON_HANDSHAKE = 15, /* 4-way handshake timeout: a wrong password */
	REASON_NO_AP = 201,
	REASON_CONN_FAIL = 205,
};

bool espat_blufi_on(const struct espat_module *m)
{
	return B(m)->on;
}

bool espat_blufi_peer(const struct espat_module *m, const uint8_t addr[6])
{
	return B(m)->on && B(m)->linked && memcmp(B(m)->peer, addr, 6) == 0;
}

uint16_t espat_blufi_mtu(const struct espat_module *m)
{
	return B(m)->linked ? B(m)->mtu : ESPAT_ATT_MTU_MIN;
}

/* ---- the air: advertising, the link ------------------------------------------- */

/* Flags (general discoverable, no BR/EDR), the complete local name, the
 * 16-bit service UUID 0xFFFF: what ESP-IDF's BluFi advertises. A name
 * too long for the 31 bytes is shortened (AD type 0x08). */
static void adv_start(struct espat_module *m)
{
	struct espat_blufi *b = B(m);
	const struct espat_ble_port *port = &m->ports.ble;
	struct espat_ble_adv adv = {
	    .adv_type = 0, .channel_map = 7, .interval_ms = ADV_INTERVAL_MS};
	/* the chip's public BLE address, which the BLE family keeps (BLE is off) */
	memcpy(adv.addr, m->ble->public_addr, 6);
	size_t nl = strlen(b->name), room = ESPAT_BLE_ADV_LEGACY_MAX - 3 - 4 - 2;
	uint8_t *d = adv.adv;
	size_t k = 0;
	d[k++] = 2;
	d[k++] = 0x01;
	d[k++] = 0x06;
	d[k++] = 3;
	d[k++] = 0x03;
	d[k++] = 0xff;
	d[k++] = 0xff;
	d[k++] = (uint8_t)((nl < room ? nl : room) + 1);
	d[k++] = nl <= room ? 0x09 : 0x08;
	memcpy(d + k, b->name, nl < room ? nl : room);
	k += nl < room ? nl : room;
	adv.adv_len = (uint8_t)k;
	adv.phase_ms = (uint32_t)(espat_module_now(m) % ADV_INTERVAL_MS);
	b->advertising = true;
	if (port->advertise)
		port->advertise(port->user, &adv);
}

static void adv_stop(struct espat_module *m)
{
	const struct espat_ble_port *port = &m->ports.ble;
	if (B(m)->advertising && port->advertise)
		port->advertise(port->user, NULL);
	B(m)->advertising = false;
}

/* The link ends (either side): +BLUFIDISCONN when report, and BluFi
 * advertises again while it is on. A join under way goes on. */
static void link_end(struct espat_module *m, bool report)
{
	struct espat_blufi *b = B(m);
	if (!b->linked)
		return;
	espat_timer_cancel(&m->timers, &b->link_timer);
	b->linked = false;
	b->lost = false;
	if (m->ports.ble.link)
		m->ports.ble.link(m->ports.ble.user, b->peer, false);
	if (report)
		espat_wr_reportf(&m->wr, "+BLUFIDISCONN");
	if (b->on)
		adv_start(m);
}

static void link_timeout(void *user)
{
	link_end(user, true);
}

int espat_blufi_central_connect(struct espat_module *m, const uint8_t addr[6])
{
	struct espat_blufi *b = B(m);
	if (!b->on || b->linked || !b->advertising)
		return -1;
	adv_stop(m);
	b->linked = true;
	b->lost = false;
	memcpy(b->peer, addr, 6);
	b->mtu = ESPAT_ATT_MTU_MIN;
	espat_gatt_db_client_reset(&b->db, 0);
	/* sequence numbers start again with every connection */
	espat_blufi_init(&b->codec);
	if (m->ports.ble.link)
		m->ports.ble.link(m->ports.ble.user, addr, true);
	espat_wr_reportf(&m->wr, "+BLUFICONN");
	return 0;
}

bool espat_blufi_remote_disconnect(struct espat_module *m, const uint8_t addr[6])
{
	if (!espat_blufi_peer(m, addr))
		return false;
	link_end(m, true);
	return true;
}

bool espat_blufi_peer_lost(struct espat_module *m, const uint8_t addr[6])
{
	struct espat_blufi *b = B(m);
	if (!espat_blufi_peer(m, addr) || b->lost)
		return false;
	b->lost = true;
	espat_timer_arm(&m->timers, &b->link_timer, espat_module_now(m) + SUPERVISION_MS,
	                link_timeout, m);
	return true;
}

bool espat_blufi_peer_mtu(struct espat_module *m, const uint8_t addr[6], uint16_t mtu)
{
	if (!espat_blufi_peer(m, addr))
		return false;
	if (mtu < ESPAT_ATT_MTU_MIN)
		mtu = ESPAT_ATT_MTU_MIN;
	B(m)->mtu = mtu < ESPAT_ATT_MTU_MAX ? mtu : ESPAT_ATT_MTU_MAX;
	espat_blufi_set_mtu(&B(m)->codec, B(m)->mtu);
	return true;
}

/* ---- frames to the phone ---------------------------------------------------- */

/* A message to the phone: its frames as notifications of 0xFF02. */
static bool send_msg(struct espat_module *m, uint8_t type, const uint8_t *data, size_t len)
{
	struct espat_blufi *b = B(m);
	const struct espat_ble_port *port = &m->ports.ble;
	if (!b->linked || b->lost)
		return false;
	size_t off = 0;
	do {
		uint8_t frame[ESPAT_BLUFI_FRAME_MAX], pdu[ESPAT_ATT_MTU_MAX];
		size_t n = espat_blufi_frame(&b->codec, type, data, len, &off, frame);
		if (n == 0)
			return false;
		struct espat_att_pdu ntf = {.op = ESPAT_ATT_NOTIFY,
		                            .handle = ESPAT_BLUFI_H_E2P,
		                            .value = frame,
		                            .value_len = n};
		size_t pl = espat_att_encode(&ntf, b->mtu, pdu, sizeof(pdu));
		if (pl == 0)
			return false;
		if (port->att)
			port->att(port->user, b->peer, pdu, pl);
	} while (off < len);
	return true;
}

static void send_error(struct espat_module *m, uint8_t code)
{
	send_msg(m, ESPAT_BLUFI_TYPE(ESPAT_BLUFI_DATA, ESPAT_BLUFI_D_ERROR), &code, 1);
}

/* The Wi-Fi mode as BluFi's opmode: 0 NULL, 1 STA, 2 SoftAP, 3 both. */
static uint8_t wifi_opmode(const struct espat_module *m)
{
	return (uint8_t)((espat_wifi_sta_enabled(m) ? 1 : 0) | (espat_wifi_ap_enabled(m) ? 2 : 0));
}

/* The AP named by the phone's SSID as a scan sees it; false when none. */
static bool find_ap(struct espat_module *m, struct espat_bss *out)
{
	struct espat_bss list[16];
	size_t n = espat_wifi_scan(m, list, 16);
	for (size_t i = 0; i < n; i++)
		if (list[i].ssid_len == B(m)->ssid_len &&
		    memcmp(list[i].ssid, B(m)->ssid, B(m)->ssid_len) == 0) {
			*out = list[i];
			return true;
		}
	return false;
}

/* The Wi-Fi connection state report: opmode, the station's state (0 up
 * with an address, 1 failed or down, 2 connecting, 3 up without an
 * address), the softAP's station count, then TLV extras: the AP's BSSID
 * and SSID when up, the end reason and RSSI after a failure. */
static void send_report(struct espat_module *m, int fail_reason)
{
	struct espat_blufi *b = B(m);
	uint8_t r[64];
	size_t k = 0;
	enum espat_sta_state st = espat_wifi_sta_state(m);
	uint8_t sta = st == ESPAT_STA_GOT_IP       ? 0
	              : st == ESPAT_STA_CONNECTED  ? 3
	              : st == ESPAT_STA_CONNECTING ? 2
	                                           : 1;
	if (fail_reason)
		sta = 1;
	r[k++] = wifi_opmode(m);
	r[k++] = sta;
	r[k++] = 0; /* the softAP's stations: not counted here (COMPAT #504) */
	struct espat_bss ap;
	bool have_ap = b->ssid_len > 0 && find_ap(m, &ap);
	if (sta == 0 || sta == 3) {
		if (have_ap) {
			r[k++] = ESPAT_BLUFI_D_STA_BSSID;
			r[k++] = 6;
			memcpy(r + k, ap.bssid, 6);
			k += 6;
		}
		r[k++] = ESPAT_BLUFI_D_STA_SSID;
		r[k++] = (uint8_t)b->ssid_len;
		memcpy(r + k, b->ssid, b->ssid_len);
		k += b->ssid_len;
	} else if (fail_reason) {
		r[k++] = ESPAT_BLUFI_D_END_REASON;
		r[k++] = 1;
		r[k++] = (uint8_t)fail_reason;
		r[k++] = ESPAT_BLUFI_D_END_RSSI;
		r[k++] = 1;
		r[k++] = (uint8_t)(int8_t)(have_ap ? ap.rssi : -128);
	}
	send_msg(m, ESPAT_BLUFI_TYPE(ESPAT_BLUFI_DATA, ESPAT_BLUFI_D_WIFI_REP), r, k);
}

/* ---- the join the phone asked for -------------------------------------------- */

static void join_end(struct espat_module *m, int reason)
{
	struct espat_blufi *b = B(m);
	b->joining = false;
	espat_timer_cancel(&m->timers, &b->join_timer);
	send_report(m, reason);
}

/* Looks at the station until it has an address or gave up: a wrong
 * password ends the join (reported), and the phone may send new
 * credentials at once (COMPAT #502). */
static void join_poll(void *user)
{
	struct espat_module *m = user;
	struct espat_blufi *b = B(m);
	if (!b->joining)
		return;
	int fail = espat_wifi_sta_last_fail(m);
	if (espat_wifi_sta_state(m) == ESPAT_STA_GOT_IP)
		join_end(m, 0);
	else if (fail != 0)
		join_end(m, fail == 2   ? REASON_HANDSHAKE
		            : fail == 3 ? REASON_NO_AP
		                        : REASON_CONN_FAIL);
	else if (espat_module_now(m) >= b->join_deadline)
		join_end(m, REASON_CONN_FAIL);
	else
		espat_timer_arm(&m->timers, &b->join_timer, espat_module_now(m) + JOIN_POLL_MS,
		                join_poll, m);
}

static void join_start(struct espat_module *m)
{
	struct espat_blufi *b = B(m);
	struct espat_bss ap;
	if (b->ssid_len == 0) {
		send_report(m, REASON_NO_AP);
		return;
	}
	/* the <auth floor>: an AP with weaker security is not joined */
	if (find_ap(m, &ap) && ap.ecn < b->auth_floor) {
		send_report(m, REASON_CONN_FAIL);
		return;
	}
	if (espat_wifi_provision_join(m, b->ssid, b->ssid_len, b->pwd, b->pwd_len) < 0) {
		send_report(m, REASON_CONN_FAIL);
		return;
	}
	b->joining = true;
	b->join_deadline = espat_module_now(m) + JOIN_TIMEOUT_MS;
	espat_timer_arm(&m->timers, &b->join_timer, espat_module_now(m) + JOIN_POLL_MS, join_poll,
	                m);
}

/* ---- messages from the phone ------------------------------------------------- */

/* +BLUFIDATA:<len>,<data>, the data raw [000:8920]. */
static void report_custom(struct espat_module *m, const uint8_t *p, size_t n)
{
	char head[32];
	int hl = snprintf(head, sizeof(head), "+BLUFIDATA:%zu,", n);
	uint8_t line[32 + ESPAT_BLUFI_MSG_MAX + 2];
	memcpy(line, head, (size_t)hl);
	memcpy(line + hl, p, n);
	memcpy(line + hl + n, "\r\n", 2);
	espat_wr_report(&m->wr, line, (size_t)hl + n + 2);
}

static void negotiate(struct espat_module *m, const uint8_t *p, size_t n)
{
	struct espat_blufi *b = B(m);
	uint8_t priv[32], pub[ESPAT_BLUFI_DH_MAX], err = 0;
	for (size_t i = 0; i < sizeof(priv); i++)
		priv[i] = (uint8_t)(m->ports.sys.random ? m->ports.sys.random(m->ports.sys.user)
		                                        : 0x5a + i);
	size_t pl = 0;
	int rc = espat_blufi_negotiate(&b->codec, p, n, priv, sizeof(priv), pub, &pl, &err);
	memset(priv, 0, sizeof(priv));
	if (rc < 0)
		send_error(m, err);
	else if (rc == 1)
		send_msg(m, ESPAT_BLUFI_TYPE(ESPAT_BLUFI_DATA, ESPAT_BLUFI_D_NEG), pub, pl);
}

static void on_ctrl(struct espat_module *m, uint8_t sub, const uint8_t *p, size_t n)
{
	struct espat_blufi *b = B(m);
	switch (sub) {
	case ESPAT_BLUFI_C_SEC_MODE:
		if (n >= 1)
			b->codec.sec_mode = p[0];
		break;
	case ESPAT_BLUFI_C_OPMODE:
		/* the Wi-Fi mode follows, as AT+CWMODE would set it */
		if (n < 1 || espat_wifi_set_mode(m, p[0]) < 0)
			send_error(m, ESPAT_BLUFI_E_FORMAT);
		break;
	case ESPAT_BLUFI_C_CONN_AP:
		join_start(m);
		break;
	case ESPAT_BLUFI_C_GET_STATUS:
		send_report(m, 0);
		break;
	case ESPAT_BLUFI_C_GET_VERSION:
		send_msg(m, ESPAT_BLUFI_TYPE(ESPAT_BLUFI_DATA, ESPAT_BLUFI_D_VERSION),
		         blufi_version, sizeof(blufi_version));
		break;
	case ESPAT_BLUFI_C_DISCONN_BLE:
		link_end(m, true);
		break;
	case ESPAT_BLUFI_C_GET_WIFI_LIST: {
		struct espat_bss list[16];
		uint8_t out[16 * 34];
		size_t n_ap = espat_wifi_scan(m, list, 16), k = 0;
		for (size_t i = 0; i < n_ap; i++) {
			out[k++] = (uint8_t)(list[i].ssid_len + 1);
			out[k++] = (uint8_t)(int8_t)list[i].rssi;
			memcpy(out + k, list[i].ssid, list[i].ssid_len);
			k += list[i].ssid_len;
		}
		if (k == 0)
			send_error(m, ESPAT_BLUFI_E_SCAN);
		else
			send_msg(m, ESPAT_BLUFI_TYPE(ESPAT_BLUFI_DATA, ESPAT_BLUFI_D_WIFI_LIST),
			         out, k);
		break;
	}
	default:
		/* ACK, disconnect from the AP, deauthenticate a station: no
		 * answer (COMPAT #504) */
		break;
	}
}

/* An SSID or a password from the phone into dst (cap bytes); one too long
 * for it is a format error. */
static void keep(struct espat_module *m, uint8_t *dst, size_t cap, size_t *len, const uint8_t *p,
                 size_t n)
{
	if (n > cap) {
		send_error(m, ESPAT_BLUFI_E_FORMAT);
		return;
	}
	memcpy(dst, p, n);
	*len = n;
}

static void on_data(struct espat_module *m, uint8_t sub, const uint8_t *p, size_t n)
{
	struct espat_blufi *b = B(m);
	switch (sub) {
	case ESPAT_BLUFI_D_NEG:
		negotiate(m, p, n);
		break;
	case ESPAT_BLUFI_D_STA_SSID:
		keep(m, b->ssid, sizeof(b->ssid), &b->ssid_len, p, n);
		break;
	case ESPAT_BLUFI_D_STA_PASSWD:
		keep(m, b->pwd, sizeof(b->pwd), &b->pwd_len, p, n);
		break;
	case ESPAT_BLUFI_D_CUSTOM:
		report_custom(m, p, n);
		break;
	default:
		/* the softAP's settings and WPA2-Enterprise material: not
		 * provisioned over BluFi here (COMPAT #504) */
		break;
	}
}

/* A write of 0xFF01: one frame. */
static void frame_in(struct espat_module *m, const uint8_t *f, size_t n)
{
	struct espat_blufi *b = B(m);
	struct espat_blufi_msg msg;
	uint8_t err = 0, ack_seq = 0;
	bool ack = false;
	enum espat_blufi_rc rc = espat_blufi_recv(&b->codec, f, n, &msg, &err, &ack, &ack_seq);
	if (ack)
		send_msg(m, ESPAT_BLUFI_TYPE(ESPAT_BLUFI_CTRL, ESPAT_BLUFI_C_ACK), &ack_seq, 1);
	if (rc == ESPAT_BLUFI_BAD) {
		send_error(m, err);
		return;
	}
	if (rc != ESPAT_BLUFI_MSG)
		return;
	if (ESPAT_BLUFI_KIND(msg.type) == ESPAT_BLUFI_CTRL)
		on_ctrl(m, ESPAT_BLUFI_SUB(msg.type), msg.data, msg.len);
	else if (ESPAT_BLUFI_KIND(msg.type) == ESPAT_BLUFI_DATA)
		on_data(m, ESPAT_BLUFI_SUB(msg.type), msg.data, msg.len);
}

/* ---- the BluFi GATT service -------------------------------------------------- */

size_t espat_blufi_att_request(struct espat_module *m, const uint8_t addr[6], const uint8_t *req,
                               size_t len, uint8_t *rsp, size_t cap)
{
	struct espat_blufi *b = B(m);
	if (!espat_blufi_peer(m, addr) || cap < b->mtu)
		return 0;
	return espat_gatt_db_answer(&b->db, 0, b->mtu, req, len, rsp, cap);
}

/* The phone wrote 0xFF01: one BluFi frame (the CCCD's bits the database keeps). */
static void on_write(void *user, size_t client, uint16_t h, const uint8_t *v, size_t n)
{
	(void)client;
	if (h == ESPAT_BLUFI_H_P2E)
		frame_in(user, v, n);
}

/* Service 0xFFFF: 0xFF01 (write), 0xFF02 (read, notify) and its CCCD, at
 * handles 1-6 (COMPAT #501). */
static void service_build(struct espat_module *m)
{
	struct espat_blufi *b = B(m);
	struct espat_gatt_db *db = &b->db;
	espat_gatt_db_init(db, b->db_attr, ESPAT_BLUFI_H_LAST, b->db_mem, sizeof(b->db_mem));
	db->ops = (struct espat_gatt_db_ops){.on_write = on_write, .user = m};
	const struct espat_att_uuid prim = espat_att_uuid16(ESPAT_GATT_PRIMARY),
	                            chr = espat_att_uuid16(ESPAT_GATT_CHAR),
	                            p2e = espat_att_uuid16(0xff01), e2p = espat_att_uuid16(0xff02),
	                            cccd = espat_att_uuid16(ESPAT_GATT_CCCD);
	const uint8_t uuid[2] = {0xff, 0xff}, write = ESPAT_GATT_PROP_WRITE,
	              notify = ESPAT_GATT_PROP_READ | ESPAT_GATT_PROP_NOTIFY, off[2] = {0, 0};
	espat_gatt_db_add(db, &prim, ESPAT_GATT_PERM_READ, 2, uuid, 2);
	espat_gatt_db_add(db, &chr, ESPAT_GATT_PERM_READ, 1, &write, 1);
	espat_gatt_db_add(db, &p2e, ESPAT_GATT_PERM_WRITE, ESPAT_ATT_VALUE_MAX, NULL, 0);
	espat_gatt_db_add(db, &chr, ESPAT_GATT_PERM_READ, 1, &notify, 1);
	espat_gatt_db_add(db, &e2p, ESPAT_GATT_PERM_READ, 1, NULL, 0);
	espat_gatt_db_add(db, &cccd, ESPAT_GATT_PERM_READ | ESPAT_GATT_PERM_WRITE, 2, off, 2);
}

/* ---- the commands -------------------------------------------------------------- */

static void blufi_stop(struct espat_module *m, bool report)
{
	struct espat_blufi *b = B(m);
	b->on = false; /* first: the link's end does not advertise again */
	link_end(m, report);
	adv_stop(m);
	b->joining = false;
	espat_timer_cancel(&m->timers, &b->join_timer);
}

static enum espat_rc blufi_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	espat_wr_linef(&m->wr, "+BLUFI:%d", B(m)->on ? 1 : 0);
	return ESPAT_RC_OK;
}

static const struct espat_param p_blufi[] = {
    P_INT("option", 0, 1),
    P_INT_OPT("auth_floor", 0, 7),
};

/* COMPAT #500: only with BLE not initialized [000:8819]; starting twice is
 * ERROR, stopping twice OK; stopping with a phone connected prints
 * +BLUFIDISCONN before OK [000:19095]. */
static enum espat_rc blufi_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_blufi *b = B(m);
	bool floor = a->n >= 2 && a->v[1].kind != ESPAT_ARG_OMITTED;
	if (espat_ble_on(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	if (a->v[0].i == 0) {
		if (floor)
			return espat_fail(E(m), ESPAT_ERR_NUM(1, a->n));
		if (b->linked)
			espat_wr_linef(&m->wr, "+BLUFIDISCONN");
		blufi_stop(m, false);
		return ESPAT_RC_OK;
	}
	if (b->on)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	b->on = true;
	b->auth_floor = floor ? (uint8_t)a->v[1].i : 0;
	b->ssid_len = b->pwd_len = 0;
	adv_start(m);
	return ESPAT_RC_OK;
}

static enum espat_rc blufiname_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	espat_wr_linef(&m->wr, "+BLUFINAME:%s", B(m)->name);
	return ESPAT_RC_OK;
}

static const struct espat_param p_blufiname[] = {
    P_STR("device_name", ESPAT_BLUFI_NAME_MAX),
};

/* The name goes on the air at the next AT+BLUFI=1 [000:8874]. */
static enum espat_rc blufiname_set(struct espat_module *m, const struct espat_args *a)
{
	const struct espat_arg *n = &a->v[0];
	if (n->len == 0 || memchr(n->s, '\0', n->len))
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	memcpy(B(m)->name, n->s, n->len);
	B(m)->name[n->len] = '\0';
	return ESPAT_RC_OK;
}

static const struct espat_param p_blufisend[] = {
    P_INT("length", 1, ESPAT_BLUFI_SEND_MAX),
};

static enum espat_rc blufisend_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_blufi *b = B(m);
	size_t k = n < b->send_len - b->send_got ? n : b->send_len - b->send_got;
	memcpy(b->send_buf + b->send_got, p, k);
	b->send_got += k;
	if (!last)
		return ESPAT_RC_PENDING;
	/* the phone may have gone while the data came */
	if (!send_msg(m, ESPAT_BLUFI_TYPE(ESPAT_BLUFI_DATA, ESPAT_BLUFI_D_CUSTOM), b->send_buf,
	              b->send_len))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	return ESPAT_RC_OK;
}

/* `>`, <length> bytes, OK; ERROR unless a phone is connected (COMPAT #500). */
static enum espat_rc blufisend_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_blufi *b = B(m);
	if (!b->on || !b->linked || b->lost)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	b->send_len = (size_t)a->v[0].i;
	b->send_got = 0;
	espat_engine_expect_data(E(m), b->send_len, blufisend_data);
	return ESPAT_RC_PROMPT;
}

static void blufi_init(struct espat_module *m)
{
	memcpy(B(m)->name, "BLUFI_DEVICE", sizeof("BLUFI_DEVICE"));
	espat_blufi_init(&B(m)->codec);
	service_build(m);
}

/* A restart or power-off takes BluFi off the air without a report. */
static void blufi_free(struct espat_module *m)
{
	struct espat_blufi *b = B(m);
	blufi_stop(m, false);
	espat_timer_cancel(&m->timers, &b->link_timer);
}

static const struct espat_cmd blufi_rows[] = {
    {.name = "+BLUFI",
     .query = blufi_query,
     .set = blufi_set,
     .params = p_blufi,
     .nparams = N(p_blufi),
     .help = "Start or Stop BluFi"},
    {.name = "+BLUFINAME",
     .query = blufiname_query,
     .set = blufiname_set,
     .params = p_blufiname,
     .nparams = N(p_blufiname),
     .help = "Query/Set BluFi device name"},
    {.name = "+BLUFISEND",
     .set = blufisend_set,
     .params = p_blufisend,
     .nparams = N(p_blufisend),
     .help = "Send user-customized data over BluFi"},
};

static const struct espat_cmd_table blufi_table = {
    .family = "blufi",
    .rows = blufi_rows,
    .n = sizeof(blufi_rows) / sizeof(blufi_rows[0]),
};

const struct espat_family espat_blufi_family = {
    .name = "blufi",
    .table = &blufi_table,
    .state_size = sizeof(struct espat_blufi),
    .state_slot = offsetof(struct espat_module, blufi),
    .init = blufi_init,
    .free = blufi_free,
};
