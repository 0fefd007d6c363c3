/* AT+BLEINIT, AT+BLEADDR, AT+BLENAME (guide 3.4.2-3.4.4). */
#include "cmd/ble.h"

#include <stdio.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/ble_blufi.h"
#include "cmd/params.h"
#include "proto/att.h"

#define E(m) (&(m)->eng)
#define SLOT_US 625u /* the unit of scan intervals and windows, in us */


static bool given(const struct espat_args *a, size_t i)
{
	return i < a->n && a->v[i].kind != ESPAT_ARG_OMITTED;
}

bool espat_ble_on(const struct espat_module *m)
{
	/* no slot at all with the ESP8266's command set */
	return m->ble && m->ble->role != ESPAT_BLE_OFF;
}

/* Every BLE command but AT+BLEINIT, AT+BLEADDR and AT+BLENAME needs BLE
 * initialized first (guide [000:6641]); before that it is ERROR. The
 * address and the name are device settings the guide's examples set
 * without AT+BLEINIT [000:6706-6708, 6758] (COMPAT #403). */
enum espat_rc espat_ble_need_init(struct espat_module *m)
{
	return espat_ble_on(m) && m->ble->role != ESPAT_BLE_HID ? ESPAT_RC_OK
	                                                        : espat_fail(E(m), ESPAT_ERR_EXEC);
}

enum espat_rc espat_ble_need_stack(struct espat_module *m)
{
	return espat_ble_on(m) ? ESPAT_RC_OK : espat_fail(E(m), ESPAT_ERR_EXEC);
}

static enum espat_rc need_init(struct espat_module *m)
{
	return espat_ble_need_init(m);
}

/* The chip's public address: the base MAC + 2 (ESP-IDF's
 * ESP_MAC_BT; the station has + 0, the softAP + 1). */
static void public_addr(struct espat_module *m, uint8_t mac[6])
{
	static const uint8_t fallback[6] = {0x34, 0x85, 0x18, 0x00, 0x00, 0x02};
	if (m->ports.sys.base_mac)
		m->ports.sys.base_mac(m->ports.sys.user, mac);
	else
		memcpy(mac, fallback, 6);
	mac[5] = (uint8_t)(mac[5] + 2);
}

/* A non-resolvable private address (Core Vol 6 Part B 1.3.2.2): the two
 * top bits 0, the rest random, neither all 0 nor all 1. The address byte
 * printed first is the most significant. */
static void private_addr(struct espat_module *m, uint8_t a[6])
{
	for (;;) {
		for (size_t i = 0; i < 6; i++)
			a[i] = m->ports.sys.random ? (uint8_t)m->ports.sys.random(m->ports.sys.user)
			                           : (uint8_t)(0x11 * (i + 1));
		a[0] &= 0x3f;
		bool zero = true, ones = true;
		for (size_t i = 0; i < 6; i++) {
			zero = zero && a[i] == 0x00;
			ones = ones && a[i] == (i ? 0xff : 0x3f);
		}
		if (!zero && !ones)
			return;
	}
}

/* A static random address (Core Vol 6 Part B 1.3.2.1, guide [000:6697-6700]):
 * the two top bits 1, the random part neither all 0 nor all 1. */
static bool static_ok(const uint8_t a[6])
{
	if ((a[0] & 0xc0) != 0xc0)
		return false;
	bool zero = (a[0] & 0x3f) == 0, ones = (a[0] & 0x3f) == 0x3f;
	for (size_t i = 1; i < 6; i++) {
		zero = zero && a[i] == 0x00;
		ones = ones && a[i] == 0xff;
	}
	return !zero && !ones;
}

static void scan_param_default(struct espat_ble_scan_param *p)
{
	/* COMPAT #404: active, public, allow all, 50 ms windows every 100 ms */
	*p = (struct espat_ble_scan_param){
	    .type = 1, .own_addr_type = 0, .filter_policy = 0, .interval = 160, .window = 80};
}

/* Advertising (below): factory parameters, loading, stopping. */
static void adv_param_default(struct espat_ble_adv_param *p);
static void adv_load(struct espat_module *m);
static uint32_t advex_parse(const struct espat_args *a, struct espat_ble_adv_ex *x);
static void advex_apply(struct espat_module *m, const struct espat_ble_adv_ex *x);
static void adv_stop(struct espat_module *m);
static uint32_t adv_param_parse(const struct espat_args *a, struct espat_ble_adv_param *p);
static void links_end(struct espat_module *m);

/* ---- lifecycle --------------------------------------------------------------- */

static void ble_init(struct espat_module *m)
{
	struct espat_ble *b = m->ble;
	public_addr(m, b->public_addr);
	memcpy(b->name, "ESP-AT", sizeof("ESP-AT"));
	scan_param_default(&b->scan_param);
	adv_param_default(&b->adv_param);
}

static void ble_free(struct espat_module *m)
{
	espat_timer_cancel(&m->timers, &m->ble->scan.timer);
	espat_ble_periodic_end(m);
	adv_stop(m); /* a restart takes the module off the air */
	links_end(m);
	espat_ble_gatts_free(m);
	espat_ble_gattc_free(m);
	espat_ble_spp_free(m);
}

/* Flash: the name under AT+SYSSTORE, the address always (guide [000:6701],
 * [000:6752]). */
static void ble_boot(struct espat_module *m)
{
	struct espat_ble *b = m->ble;
	struct espat_args a;
	if (espat_settings_load(&m->settings, "blename", &a) && a.n == 1 &&
	    a.v[0].kind == ESPAT_ARG_STR && a.v[0].len >= 1 && a.v[0].len <= ESPAT_BLE_NAME_MAX) {
		memcpy(b->name, a.v[0].s, a.v[0].len);
		b->name[a.v[0].len] = '\0';
	}
	if (espat_settings_load(&m->settings, "blescanparam", &a) && a.n == 5) {
		int64_t v[5];
		bool ok = true;
		for (size_t i = 0; i < 5; i++) {
			ok = ok && a.v[i].kind == ESPAT_ARG_INT;
			v[i] = a.v[i].i;
		}
		if (ok && v[0] >= 0 && v[0] <= 1 && v[1] >= 0 && v[1] <= 3 && v[2] >= 0 &&
		    v[2] <= 3 && v[4] >= 4 && v[4] <= v[3] && v[3] <= 0x4000)
			b->scan_param = (struct espat_ble_scan_param){(uint8_t)v[0], (uint8_t)v[1],
			                                              (uint8_t)v[2], (uint16_t)v[3],
			                                              (uint16_t)v[4]};
	}
	adv_load(m);
	if (espat_settings_load(&m->settings, "bleaddr", &a) && a.n >= 1 &&
	    a.v[0].kind == ESPAT_ARG_INT && a.v[0].i == 1) {
		if (a.n == 2 && a.v[1].kind == ESPAT_ARG_STR &&
		    espat_mac_parse(a.v[1].s, a.v[1].len, b->random_addr) &&
		    static_ok(b->random_addr))
			b->random = true;
		else if (a.n == 1) {
			/* a private address is made anew at every boot */
			private_addr(m, b->random_addr);
			b->random = true;
		}
	}
}

/* ---- AT+BLEINIT -------------------------------------------------------------- */

static enum espat_rc bleinit_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	/* the HID device is not AT+BLEINIT's (COMPAT #480) */
	espat_wr_linef(&m->wr, "+BLEINIT:%d",
	               m->ble->role == ESPAT_BLE_HID ? 0 : (int)m->ble->role);
	return ESPAT_RC_OK;
}

static const struct espat_param p_bleinit[] = {
    P_INT("init", 0, 2),
};

/* The role of the first initialization stays until a restart (guide
 * [000:6642]); initializing again in the same role is OK, as is
 * deinitializing twice (COMPAT #400). */
static enum espat_rc bleinit_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ble *b = m->ble;
	enum espat_ble_role r = (enum espat_ble_role)a->v[0].i;
	if (b->role == ESPAT_BLE_HID)
		return espat_fail(E(m), ESPAT_ERR_EXEC); /* AT+BLEHIDINIT=0 first (COMPAT #480) */
	if (r == ESPAT_BLE_OFF) {
		espat_ble_stack_down(m);
		return ESPAT_RC_OK;
	}
	if ((b->boot_role != ESPAT_BLE_OFF && b->boot_role != r) || espat_blufi_on(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC); /* BluFi holds the stack (COMPAT #500) */
	b->boot_role = r;
	b->role = r;
	return ESPAT_RC_OK;
}

void espat_ble_stack_down(struct espat_module *m)
{
	struct espat_ble *b = m->ble;
	espat_timer_cancel(&m->timers, &b->scan.timer); /* deinit ends a scan */
	b->scan.on = false;
	espat_ble_periodic_end(m); /* the periodic train and a sync */
	adv_stop(m);               /* and advertising */
	links_end(m);
	espat_ble_gatts_free(m); /* the services go with the stack */
	espat_ble_gattc_free(m);
	espat_ble_spp_free(m);
	b->role = ESPAT_BLE_OFF;
}

/* ---- AT+BLEADDR -------------------------------------------------------------- */

/* The query shows the public address whatever AT+BLEADDR set (guide
 * [000:6663-6670]; COMPAT #401). */
static enum espat_rc bleaddr_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	char s[18];
	espat_wr_linef(&m->wr, "+BLEADDR:\"%s\"", espat_mac_str(m->ble->public_addr, s));
	return ESPAT_RC_OK;
}

static const struct espat_param p_bleaddr[] = {
    P_INT("addr_type", 0, 1),
    P_STR_OPT("random_addr", 17),
};

static enum espat_rc bleaddr_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ble *b = m->ble;
	bool given = a->n >= 2 && a->v[1].kind != ESPAT_ARG_OMITTED;
	if (a->v[0].i == 0) {
		if (given) /* a public address is the chip's: nothing to give */
			return espat_fail(E(m), ESPAT_ERR_NUM(1, a->n));
		b->random = false;
		espat_settings_save(&m->settings, ESPAT_SAVE_ALWAYS, "bleaddr", "0");
		return ESPAT_RC_OK;
	}
	if (!given) {
		private_addr(m, b->random_addr);
		b->random = true;
		espat_settings_save(&m->settings, ESPAT_SAVE_ALWAYS, "bleaddr", "1");
		return ESPAT_RC_OK;
	}
	uint8_t addr[6];
	if (!espat_mac_parse(a->v[1].s, a->v[1].len, addr) || !static_ok(addr))
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	memcpy(b->random_addr, addr, 6);
	b->random = true;
	char s[18];
	espat_settings_savef(&m->settings, ESPAT_SAVE_ALWAYS, "bleaddr", "1,\"%s\"",
	                     espat_mac_str(addr, s));
	return ESPAT_RC_OK;
}

/* ---- AT+BLENAME -------------------------------------------------------------- */

/* Printed as it is, without quotes, as esp-at's query prints it. */
static enum espat_rc blename_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	espat_wr_linef(&m->wr, "+BLENAME:%s", m->ble->name);
	return ESPAT_RC_OK;
}

static const struct espat_param p_blename[] = {
    P_STR("device_name", ESPAT_BLE_NAME_MAX),
};

static enum espat_rc blename_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ble *b = m->ble;
	const struct espat_arg *n = &a->v[0];
	/* an empty name, or one with a NUL inside, is no name */
	if (n->len == 0 || memchr(n->s, '\0', n->len))
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	memcpy(b->name, n->s, n->len);
	b->name[n->len] = '\0';
	char text[ESPAT_BLE_NAME_MAX * 2 + 3];
	espat_args_quote(text, sizeof(text), n->s, n->len);
	espat_settings_save(&m->settings, ESPAT_SAVE_SYSSTORE, "blename", text);
	return ESPAT_RC_OK;
}

/* ---- scanning: AT+BLESCANPARAM, AT+BLESCAN ---------------------------------- */

static enum espat_rc blescanparam_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	const struct espat_ble_scan_param *p = &m->ble->scan_param;
	espat_wr_linef(&m->wr, "+BLESCANPARAM:%u,%u,%u,%u,%u", p->type, p->own_addr_type,
	               p->filter_policy, p->interval, p->window);
	return ESPAT_RC_OK;
}

static const struct espat_param p_blescanparam[] = {
    P_INT("scan_type", 0, 1),
    P_INT("own_addr_type", 0, 3),
    P_INT("filter_policy", 0, 3),
    P_INT("scan_interval", 0x0004, 0x4000),
    P_INT("scan_window", 0x0004, 0x4000),
};

static enum espat_rc blescanparam_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	if (a->v[4].i > a->v[3].i) /* the window lies inside the interval */
		return espat_fail(E(m), ESPAT_ERR_INVALID(4));
	if (m->ble->scan.on) /* the controller takes parameters only while idle */
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	struct espat_ble_scan_param *p = &m->ble->scan_param;
	p->type = (uint8_t)a->v[0].i;
	p->own_addr_type = (uint8_t)a->v[1].i;
	p->filter_policy = (uint8_t)a->v[2].i;
	p->interval = (uint16_t)a->v[3].i;
	p->window = (uint16_t)a->v[4].i;
	espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, "blescanparam", "%u,%u,%u,%u,%u",
	                     p->type, p->own_addr_type, p->filter_policy, p->interval, p->window);
	return ESPAT_RC_OK;
}

/* Whether AD structures in d[0..n) hold a Shortened (0x08) or Complete
 * (0x09) Local Name equal to name. */
static bool has_name(const uint8_t *d, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n;) {
		size_t l = d[i];
		if (l == 0 || i + 1 + l > n)
			return false;
		uint8_t type = d[i + 1];
		if ((type == 0x08 || type == 0x09) && l - 1 == len &&
		    memcmp(d + i + 2, name, len) == 0)
			return true;
		i += 1 + l;
	}
	return false;
}

static bool scan_passes(const struct espat_ble_scan *s, const struct espat_ble_adv *adv,
                        bool active)
{
	if (s->filter == 1)
		return memcmp(adv->addr, s->filter_mac, 6) == 0;
	if (s->filter == 2)
		return has_name(adv->adv, adv->adv_len, s->filter_param, s->filter_len) ||
		       (active && has_name(adv->rsp, adv->rsp_len, s->filter_param, s->filter_len));
	return true;
}

/* Reports every advertising event in [ws, we) (microseconds on the module
 * clock): one +BLESCAN line each, with the scan response on active scans
 * (the scanner's SCAN_REQ is answered in the same event). Bounded: an
 * advertiser's events in one window are at most window / 20 ms. */
static void scan_window(struct espat_module *m, uint64_t ws, uint64_t we)
{
	const struct espat_ble_port *port = &m->ports.ble;
	bool active = m->ble->scan_param.type == 1;
	struct espat_ble_adv adv;
	for (size_t i = 0; port->advertiser && port->advertiser(port->user, i, &adv); i++) {
		if (!scan_passes(&m->ble->scan, &adv, active))
			continue;
		uint64_t iv = (uint64_t)adv.interval_ms * 1000, ph = (uint64_t)adv.phase_ms * 1000;
		uint64_t k = ws > ph ? (ws - ph + iv - 1) / iv : 0;
		char a[18], advhex[2 * ESPAT_BLE_ADV_DATA_MAX + 1],
		    rsphex[2 * ESPAT_BLE_ADV_DATA_MAX + 1];
		/* a scan response answers a SCAN_REQ, which only the scannable
		 * types take: ADV_IND, ADV_SCAN_IND, EXT_SCANNABLE_IND */
		bool scannable = adv.adv_type == 0 || adv.adv_type == 2 || adv.adv_type == 7;
		espat_mac_str(adv.addr, a);
		espat_hex_encode(advhex, adv.adv, adv.adv_len);
		espat_hex_encode(rsphex, adv.rsp, active && scannable ? adv.rsp_len : 0);
		for (uint64_t t = ph + k * iv; t < we; t += iv)
			espat_wr_reportf(&m->wr, "+BLESCAN:\"%s\",%d,%s,%s,%u", a, adv.rssi, advhex,
			                 rsphex, adv.addr_type);
	}
}

static void scan_stop(struct espat_module *m)
{
	m->ble->scan.on = false;
	espat_timer_cancel(&m->timers, &m->ble->scan.timer);
	espat_ble_sync_stop(m); /* a sync needs the scan [000:9083] */
}

static void scan_tick(void *user);

/* Reports the windows that have closed by now, then arms the timer for the
 * next close (or the duration's end, +BLESCANDONE). */
static void scan_run(struct espat_module *m)
{
	struct espat_ble_scan *s = &m->ble->scan;
	uint64_t iv = (uint64_t)m->ble->scan_param.interval * SLOT_US;
	uint64_t win = (uint64_t)m->ble->scan_param.window * SLOT_US;
	uint64_t now = espat_module_now(m) * 1000;
	uint64_t start = s->start_ms * 1000;
	uint64_t end = s->end_ms == ESPAT_NEVER ? UINT64_MAX : s->end_ms * 1000;
	for (;;) {
		uint64_t ws = start + s->window * iv;
		if (ws >= end)
			break;
		uint64_t we = ws + win < end ? ws + win : end;
		if (we > now)
			break;
		scan_window(m, ws, we);
		s->window++;
	}
	if (now >= end) {
		scan_stop(m);
		espat_wr_reportf(&m->wr, "+BLESCANDONE");
		return;
	}
	uint64_t ws = start + s->window * iv;
	uint64_t due = ws >= end ? end : (ws + win < end ? ws + win : end);
	espat_timer_arm(&m->timers, &s->timer, (due + 999) / 1000, scan_tick, m);
}

static void scan_tick(void *user)
{
	scan_run(user);
}

static const struct espat_param p_blescan[] = {
    P_INT("enable", 0, 1),
    P_INT_OPT("duration", 0, 2147483),
    P_INT_OPT("filter_type", 1, 2),
    P_STR_OPT("filter_param", ESPAT_BLE_FILTER_MAX),
};

/* OK first, then the +BLESCAN reports as windows close (COMPAT #405). */
static enum espat_rc blescan_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ble_scan *s = &m->ble->scan;
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	bool dur = given(a, 1), ft = given(a, 2), fp = given(a, 3);
	if (a->v[0].i == 0) {
		if (dur || ft || fp) /* <duration> and the filter go with enable 1 only */
			return espat_fail(E(m), ESPAT_ERR_NUM(1, a->n));
		scan_stop(m);
		return ESPAT_RC_OK;
	}
	if (ft != fp)
		return espat_fail(E(m), ESPAT_ERR_NUM(4, a->n));
	if (s->on)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	uint8_t filter = ft ? (uint8_t)a->v[2].i : 0;
	if (filter == 1 && !espat_mac_parse(a->v[3].s, a->v[3].len, s->filter_mac))
		return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	if (filter == 2 && (a->v[3].len == 0 || memchr(a->v[3].s, '\0', a->v[3].len)))
		return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	s->filter = filter;
	s->filter_len = filter ? a->v[3].len : 0;
	if (filter)
		memcpy(s->filter_param, a->v[3].s, s->filter_len);
	s->filter_param[s->filter_len] = '\0';
	int64_t d = dur ? a->v[1].i : 0;
	s->on = true;
	s->start_ms = espat_module_now(m);
	s->end_ms = d > 0 ? s->start_ms + (uint64_t)d * 1000 : ESPAT_NEVER;
	s->window = 0;
	scan_run(m);
	return ESPAT_RC_OK;
}

/* ---- advertising: AT+BLEADVPARAM, AT+BLEADVDATA, AT+BLESCANRSPDATA,
 * AT+BLEADVSTART, AT+BLEADVSTOP --------------------------------------------- */

static size_t adv_data_max(const struct espat_ble *b)
{
	return b->adv_param.type >= 5 ? ESPAT_BLE_ADV_DATA_MAX : ESPAT_BLE_ADV_LEGACY_MAX;
}

/* The advertising set as the air carries it. False when it cannot go out:
 * a random own address with none set (AT+BLEADDR=1 first), or data longer
 * than a legacy PDU holds after a change of type. */
static bool adv_build(struct espat_module *m, struct espat_ble_adv *out)
{
	struct espat_ble *b = m->ble;
	const struct espat_ble_adv_param *p = &b->adv_param;
	if (p->own_addr_type == 1 && !b->random)
		return false;
	if (b->adv_len > adv_data_max(b))
		return false;
	memset(out, 0, sizeof(*out));
	memcpy(out->addr, p->own_addr_type == 1 ? b->random_addr : b->public_addr, 6);
	out->addr_type = p->own_addr_type;
	memcpy(out->adv, b->adv_data, b->adv_len);
	out->adv_len = (uint8_t)b->adv_len;
	memcpy(out->rsp, b->rsp_data, b->rsp_len);
	out->rsp_len = (uint8_t)b->rsp_len;
	out->adv_type = p->type;
	out->channel_map = p->channel_map;
	/* the controller picks within [min, max]: the minimum */
	out->interval_ms = (uint32_t)((p->int_min * SLOT_US + 500) / 1000);
	out->phase_ms = (uint32_t)(espat_module_now(m) % out->interval_ms);
	/* the periodic train hangs from an extended non-scannable set (COMPAT #456) */
	if (b->periodic.on && p->type == 5) {
		out->per_on = true;
		memcpy(out->per, b->periodic.data, b->periodic.len);
		out->per_len = (uint8_t)b->periodic.len;
		out->per_interval_ms = ESPAT_BLE_PERIODIC_MS;
		out->per_phase_ms = (uint32_t)(espat_module_now(m) % ESPAT_BLE_PERIODIC_MS);
	}
	return true;
}

bool espat_ble_advertising(const struct espat_module *m)
{
	return m->ble->advertising;
}

uint8_t espat_ble_adv_type(const struct espat_module *m)
{
	return m->ble->adv_param.type;
}

bool espat_ble_scanning(const struct espat_module *m)
{
	return m->ble->scan.on;
}

/* After a change while advertising: the air gets the new set. */
static void adv_publish(struct espat_module *m)
{
	const struct espat_ble_port *port = &m->ports.ble;
	struct espat_ble_adv adv;
	if (!m->ble->advertising || !port->advertise)
		return;
	if (adv_build(m, &adv))
		port->advertise(port->user, &adv);
}

void espat_ble_adv_publish(struct espat_module *m)
{
	adv_publish(m);
}

void espat_ble_adv_raw(struct espat_module *m, const uint8_t *adv, size_t len)
{
	struct espat_ble *b = m->ble;
	adv_param_default(&b->adv_param);
	b->adv_len = len < sizeof(b->adv_data) ? len : sizeof(b->adv_data);
	memcpy(b->adv_data, adv, b->adv_len);
	b->rsp_len = 0;
	b->advertising = true;
	adv_publish(m);
}

static void adv_stop(struct espat_module *m)
{
	const struct espat_ble_port *port = &m->ports.ble;
	if (m->ble->advertising && port->advertise)
		port->advertise(port->user, NULL);
	m->ble->advertising = false;
}

static void hex_save(struct espat_module *m, const char *key, const uint8_t *p, size_t n)
{
	char text[2 * ESPAT_BLE_ADV_DATA_MAX + 3];
	text[0] = '"';
	espat_hex_encode(text + 1, p, n);
	text[2 * n + 1] = '"';
	text[2 * n + 2] = '\0';
	espat_settings_save(&m->settings, ESPAT_SAVE_SYSSTORE, key, text);
}

/* A HEX string argument: an even number of hex digits, 1..max bytes. */
static bool hex_arg(const struct espat_arg *a, uint8_t *out, size_t max, size_t *len)
{
	return a->kind == ESPAT_ARG_STR && a->len > 0 &&
	       espat_hex_decode(a->s, a->len, out, max, len);
}

static void adv_param_default(struct espat_ble_adv_param *p)
{
	/* COMPAT #406: 20-40 ms, ADV_IND, public, all channels, anyone */
	*p = (struct espat_ble_adv_param){
	    .int_min = 32, .int_max = 64, .channel_map = 7, .primary_phy = 1, .secondary_phy = 1};
}

static void adv_param_save(struct espat_module *m)
{
	const struct espat_ble_adv_param *p = &m->ble->adv_param;
	char mac[18];
	espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, "bleadvparam",
	                     "%u,%u,%u,%u,%u,%u,%u,\"%s\",%u,%u", p->int_min, p->int_max, p->type,
	                     p->own_addr_type, p->channel_map, p->filter_policy, p->peer_addr_type,
	                     espat_mac_str(p->peer_addr, mac), p->primary_phy, p->secondary_phy);
}

/* The saved advertising parameters and data (AT+SYSSTORE=1), each
 * checked as its command checks it; a value that fails stays factory. */
static void adv_load(struct espat_module *m)
{
	struct espat_ble *b = m->ble;
	struct espat_args a;
	if (espat_settings_load(&m->settings, "bleadvparam", &a) && a.n == 10) {
		bool ints = true;
		for (size_t i = 0; i < 10; i++)
			ints = ints && (i == 7 ? a.v[i].kind == ESPAT_ARG_STR
			                       : a.v[i].kind == ESPAT_ARG_INT);
		static const int64_t lo[10] = {0x20, 0x20, 0, 0, 1, 0, 0, 0, 1, 1};
		static const int64_t hi[10] = {0x4000, 0x4000, 7, 1, 7, 3, 1, 0, 3, 3};
		for (size_t i = 0; ints && i < 10; i++)
			ints = i == 7 || (a.v[i].i >= lo[i] && a.v[i].i <= hi[i]);
		struct espat_ble_adv_param p;
		adv_param_default(&p);
		if (ints && adv_param_parse(&a, &p) == 0)
			b->adv_param = p;
	}
	struct espat_ble_adv_ex x;
	if (espat_settings_load(&m->settings, "bleadvdata", &a)) {
		if (a.n == 1)
			hex_arg(&a.v[0], b->adv_data, adv_data_max(b), &b->adv_len);
		else if (a.n == 4 && advex_parse(&a, &x) == 0) /* AT+BLEADVDATAEX's */
			advex_apply(m, &x);
	}
	if (espat_settings_load(&m->settings, "blescanrspdata", &a) && a.n == 1)
		hex_arg(&a.v[0], b->rsp_data, sizeof(b->rsp_data), &b->rsp_len);
}

static enum espat_rc bleadvparam_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	const struct espat_ble_adv_param *p = &m->ble->adv_param;
	char mac[18];
	espat_wr_linef(&m->wr, "+BLEADVPARAM:%u,%u,%u,%u,%u,%u,%u,\"%s\",%u,%u", p->int_min,
	               p->int_max, p->type, p->own_addr_type, p->channel_map, p->filter_policy,
	               p->peer_addr_type, espat_mac_str(p->peer_addr, mac), p->primary_phy,
	               p->secondary_phy);
	return ESPAT_RC_OK;
}

static const struct espat_param p_bleadvparam[] = {
    P_INT("adv_int_min", 0x20, 0x4000),
    P_INT("adv_int_max", 0x20, 0x4000),
    P_INT("adv_type", 0, 7),
    P_INT("own_addr_type", 0, 1),
    P_INT("channel_map", 1, 7),
    P_INT_OPT("adv_filter_policy", 0, 3),
    P_INT_OPT("peer_addr_type", 0, 1),
    P_STR_OPT("peer_addr", 17),
    P_INT_OPT("primary_phy", 1, 3),
    P_INT_OPT("secondary_phy", 1, 3),
};

/* Parses AT+BLEADVPARAM's arguments into *p (p holds the factory values
 * first). Returns 0 or the ERR CODE. */
static uint32_t adv_param_parse(const struct espat_args *a, struct espat_ble_adv_param *p)
{
	if (a->v[0].i > a->v[1].i)
		return ESPAT_ERR_INVALID(1);
	p->int_min = (uint16_t)a->v[0].i;
	p->int_max = (uint16_t)a->v[1].i;
	p->type = (uint8_t)a->v[2].i;
	p->own_addr_type = (uint8_t)a->v[3].i;
	p->channel_map = (uint8_t)a->v[4].i;
	if (given(a, 5))
		p->filter_policy = (uint8_t)a->v[5].i;
	if (given(a, 6) != given(a, 7)) /* the peer's type and address go together */
		return ESPAT_ERR_NUM(8, a->n);
	if (given(a, 7)) {
		if (!espat_mac_parse(a->v[7].s, a->v[7].len, p->peer_addr))
			return ESPAT_ERR_INVALID(7);
		p->peer_addr_type = (uint8_t)a->v[6].i;
	}
	/* the PHYs go together, else both stay 1M [000:6994] */
	if (given(a, 8) && given(a, 9)) {
		if (a->v[8].i == 2) /* the primary PHY is 1M or Coded */
			return ESPAT_ERR_INVALID(8);
		p->primary_phy = (uint8_t)a->v[8].i;
		p->secondary_phy = (uint8_t)a->v[9].i;
	}
	return 0;
}

static enum espat_rc bleadvparam_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_adv_param p;
	adv_param_default(&p);
	uint32_t err = adv_param_parse(a, &p);
	if (err)
		return espat_fail(E(m), err);
	m->ble->adv_param = p;
	adv_param_save(m);
	adv_publish(m);
	return ESPAT_RC_OK;
}

static const struct espat_param p_hexdata[] = {
    P_STR("data", 2 * ESPAT_BLE_ADV_DATA_MAX),
};

/* AT+BLEADVDATA and AT+BLESCANRSPDATA: the hex argument, at most max bytes,
 * becomes dst (saved under key) and goes on the air if advertising. */
static enum espat_rc adv_bytes_set(struct espat_module *m, const struct espat_args *a,
                                   uint8_t *dst, size_t *dst_len, size_t max, const char *key)
{
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	uint8_t data[ESPAT_BLE_ADV_DATA_MAX];
	size_t n;
	if (!hex_arg(&a->v[0], data, max, &n))
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	memcpy(dst, data, n);
	*dst_len = n;
	hex_save(m, key, data, n);
	adv_publish(m);
	return ESPAT_RC_OK;
}

static enum espat_rc bleadvdata_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ble *b = m->ble;
	enum espat_rc rc =
	    adv_bytes_set(m, a, b->adv_data, &b->adv_len, adv_data_max(b), "bleadvdata");
	if (rc == ESPAT_RC_OK)
		b->adv_ex.on = false; /* it overwrites AT+BLEADVDATAEX's data [000:7040] */
	return rc;
}

static enum espat_rc blescanrspdata_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ble *b = m->ble;
	return adv_bytes_set(m, a, b->rsp_data, &b->rsp_len, sizeof(b->rsp_data), "blescanrspdata");
}

/* ---- AT+BLEADVDATAEX --------------------------------------------------------- */

/* One UUID of AT+BLEADVDATAEX as the air carries it (little-endian): 4, 8
 * or 32 hex digits, most significant first; a 128-bit UUID on the
 * Bluetooth base (0000xxxx-0000-1000-8000-00805f9b34fb) shrinks to 16 or
 * 32 bits, as Bluedroid's btc does. Returns the length (2, 4, 16) or 0. */
static size_t advex_uuid(const char *s, size_t n, uint8_t le[16])
{
	static const uint8_t base[12] = {0xfb, 0x34, 0x9b, 0x5f, 0x80, 0x00,
	                                 0x00, 0x80, 0x00, 0x10, 0x00, 0x00};
	uint8_t be[16];
	size_t len;
	if ((n != 4 && n != 8 && n != 32) || !espat_hex_decode(s, n, be, sizeof(be), &len))
		return 0;
	for (size_t i = 0; i < len; i++)
		le[i] = be[len - 1 - i];
	if (len == 16 && memcmp(le, base, 12) == 0) {
		len = le[14] == 0 && le[15] == 0 ? 2 : 4;
		memmove(le, le + 12, len);
	}
	return len;
}

/* The advertising data AT+BLEADVDATAEX stands for, built as Bluedroid's
 * btm_ble_build_adv_data builds it from esp_ble_adv_data_t (COMPAT #450):
 * flags 0x06; the name (Complete, or Shortened to what fits); the
 * manufacturer data (cut to what fits); the TX power (9 dBm, the ESP32-C3
 * default); the UUID (16-bit: a list of what fits, possibly empty and then
 * "incomplete"; 32-bit likewise; 128-bit only whole). 31 bytes at most.
 * Returns the length. */
static size_t advex_build(const struct espat_ble_adv_ex *x, uint8_t out[ESPAT_BLE_ADV_LEGACY_MAX])
{
	size_t len = ESPAT_BLE_ADV_LEGACY_MAX, p = 0, cp;
	uint8_t uuid[16], manu[ESPAT_BLE_ADV_LEGACY_MAX];
	size_t ul = advex_uuid(x->uuid, strlen(x->uuid), uuid), ml = 0;
	espat_hex_decode(x->manu, strlen(x->manu), manu, sizeof(manu), &ml);
	out[p++] = 2, out[p++] = 0x01, out[p++] = 0x06;
	len -= 3;
	size_t nl = strlen(x->name);
	if (len > 2) {
		cp = nl > len - 2 ? len - 2 : nl;
		out[p++] = (uint8_t)(cp + 1);
		out[p++] = cp < nl ? 0x08 : 0x09;
		memcpy(out + p, x->name, cp);
		p += cp;
		len -= cp + 2;
	}
	if (len > 2 && ml) {
		cp = ml > len - 2 ? len - 2 : ml;
		out[p++] = (uint8_t)(cp + 1);
		out[p++] = 0xff;
		memcpy(out + p, manu, cp);
		p += cp;
		len -= cp + 2;
	}
	if (len > 2 && x->power) {
		out[p++] = 2, out[p++] = 0x0a, out[p++] = 9;
		len -= 3;
	}
	if ((ul == 2 && len > 2) || (ul == 4 && len >= 6)) {
		/* a list of one: empty (0x02 / 0x04, "incomplete") when it does not fit */
		cp = ul > len - 2 ? 0 : ul;
		out[p++] = (uint8_t)(cp + 1);
		out[p++] = (uint8_t)((ul == 2 ? 0x03 : 0x05) - (cp ? 0 : 1));
		memcpy(out + p, uuid, cp);
		p += cp;
	} else if (ul == 16 && len >= 18) {
		out[p++] = 17;
		out[p++] = 0x07;
		memcpy(out + p, uuid, 16);
		p += 16;
	}
	return p;
}

/* Quoted, as the other queries print strings (COMPAT #450). */
static enum espat_rc bleadvdataex_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	const struct espat_ble_adv_ex *x = &m->ble->adv_ex;
	if (!x->on) /* the advertising data is AT+BLEADVDATA's, or none */
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	espat_wr_linef(&m->wr, "+BLEADVDATAEX:\"%s\",\"%s\",\"%s\",%d", x->name, x->uuid, x->manu,
	               x->power ? 1 : 0);
	return ESPAT_RC_OK;
}

static const struct espat_param p_bleadvdataex[] = {
    P_STR("dev_name", ESPAT_BLE_NAME_MAX),
    P_STR("uuid", ESPAT_BLE_UUID_TEXT_MAX),
    P_STR("manufacturer_data", 2 * ESPAT_BLE_ADV_LEGACY_MAX),
    P_INT("include_power", 0, 1),
};

/* Checks AT+BLEADVDATAEX's four arguments into *x. Returns 0 or the ERR
 * CODE. */
static uint32_t advex_parse(const struct espat_args *a, struct espat_ble_adv_ex *x)
{
	uint8_t scratch[ESPAT_BLE_ADV_LEGACY_MAX];
	size_t n;
	const struct espat_arg *name = &a->v[0], *uuid = &a->v[1], *manu = &a->v[2];
	if (name->kind != ESPAT_ARG_STR || name->len == 0 || memchr(name->s, '\0', name->len))
		return ESPAT_ERR_INVALID(0);
	if (uuid->kind != ESPAT_ARG_STR || advex_uuid(uuid->s, uuid->len, scratch) == 0)
		return ESPAT_ERR_INVALID(1);
	if (manu->kind != ESPAT_ARG_STR ||
	    (manu->len && !espat_hex_decode(manu->s, manu->len, scratch, sizeof(scratch), &n)))
		return ESPAT_ERR_INVALID(2);
	if (a->v[3].kind != ESPAT_ARG_INT || a->v[3].i < 0 || a->v[3].i > 1)
		return ESPAT_ERR_INVALID(3);
	memset(x, 0, sizeof(*x));
	memcpy(x->name, name->s, name->len);
	memcpy(x->uuid, uuid->s, uuid->len);
	memcpy(x->manu, manu->s, manu->len);
	x->power = a->v[3].i == 1;
	x->on = true;
	return 0;
}

/* Makes x the advertising data's source: the data is built from it. */
static void advex_apply(struct espat_module *m, const struct espat_ble_adv_ex *x)
{
	struct espat_ble *b = m->ble;
	b->adv_ex = *x;
	b->adv_len = advex_build(x, b->adv_data);
}

/* The data is set, not started: COMPAT #450 (catalog B7). */
static enum espat_rc bleadvdataex_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_adv_ex x;
	uint32_t err = advex_parse(a, &x);
	if (err)
		return espat_fail(E(m), err);
	advex_apply(m, &x);
	m->ble->adv_param.type = 0; /* [000:7104] */
	char name[2 * ESPAT_BLE_NAME_MAX + 3];
	espat_args_quote(name, sizeof(name), x.name, strlen(x.name));
	/* one key with AT+BLEADVDATA's: the last one set is the one restored */
	espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, "bleadvdata", "%s,\"%s\",\"%s\",%d",
	                     name, x.uuid, x.manu, x.power ? 1 : 0);
	adv_param_save(m);
	adv_publish(m);
	return ESPAT_RC_OK;
}

/* COMPAT #407: ERROR when already advertising or when the set cannot go
 * out (random own address without AT+BLEADDR=1, data too long for the
 * type). */
static enum espat_rc bleadvstart_exec(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_adv adv;
	if (m->ble->advertising || !adv_build(m, &adv))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	m->ble->advertising = true;
	if (m->ports.ble.advertise)
		m->ports.ble.advertise(m->ports.ble.user, &adv);
	return ESPAT_RC_OK;
}

static enum espat_rc bleadvstop_exec(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	adv_stop(m);
	return ESPAT_RC_OK;
}

/* ---- connections: AT+BLECONN, AT+BLEDISCONN ---------------------------------- */

/* What every new link starts with: 30 ms interval, no latency, 5 s
 * supervision timeout, ATT_MTU 23 (COMPAT #408). */
static void link_up(struct espat_module *m, size_t idx, const uint8_t addr[6], uint8_t type,
                    bool central)
{
	struct espat_ble_link *l = &m->ble->link[idx];
	espat_timer_cancel(&m->timers, &l->timer);
	espat_timer_cancel(&m->timers, &l->upd_timer);
	espat_timer_cancel(&m->timers, &l->mtu_timer);
	*l = (struct espat_ble_link){.up = true,
	                             .central = central,
	                             .addr_type = type,
	                             .interval = 24,
	                             .latency = 0,
	                             .timeout = 500,
	                             .mtu = ESPAT_ATT_MTU_MIN,
	                             .data_len = 27,
	                             .phy = 1};
	memcpy(l->addr, addr, 6);
	/* a new client: its CCCDs start cleared */
	espat_ble_gatts_client_reset(m, idx);
	if (m->ports.ble.link)
		m->ports.ble.link(m->ports.ble.user, addr, true);
	espat_ble_sec_link(m, idx, true);
}

static void link_down(struct espat_module *m, size_t idx, bool report)
{
	struct espat_ble_link *l = &m->ble->link[idx];
	if (!l->up)
		return;
	espat_timer_cancel(&m->timers, &l->timer);
	espat_timer_cancel(&m->timers, &l->upd_timer);
	espat_timer_cancel(&m->timers, &l->mtu_timer);
	l->up = false;
	espat_ble_sec_link(m, idx, false);
	if (m->ports.ble.link)
		m->ports.ble.link(m->ports.ble.user, l->addr, false);
	if (report) {
		char a[18];
		espat_wr_reportf(&m->wr, "+BLEDISCONN:%u,\"%s\"", (unsigned)idx,
		                 espat_mac_str(l->addr, a));
	}
	espat_ble_gattc_link_down(m, idx, report); /* after +BLEDISCONN: its ERROR follows */
	espat_ble_spp_link_down(m, idx, report);
	if (report && m->ble->role == ESPAT_BLE_HID)
		espat_ble_hid_link_down(m);
}

static int link_of(const struct espat_module *m, const uint8_t addr[6]);

bool espat_ble_linked(const struct espat_module *m)
{
	for (size_t i = 0; i < ESPAT_BLE_LINKS; i++)
		if (m->ble->link[i].up)
			return true;
	return false;
}

uint16_t espat_ble_link_mtu(const struct espat_module *m, size_t idx)
{
	return m->ble->link[idx].mtu;
}

int espat_ble_link_of(const struct espat_module *m, const uint8_t addr[6])
{
	return espat_ble_on(m) ? link_of(m, addr) : -1;
}

static int link_of(const struct espat_module *m, const uint8_t addr[6])
{
	for (size_t i = 0; i < ESPAT_BLE_LINKS; i++)
		if (m->ble->link[i].up && memcmp(m->ble->link[i].addr, addr, 6) == 0)
			return (int)i;
	return -1;
}

static void link_timer(void *user);

/* A link's timer ran out: its supervision timeout (the peer vanished) or
 * the connection event that carried AT+BLEDISCONN's LL_TERMINATE_IND. */
static void links_timer_fire(struct espat_module *m)
{
	uint64_t now = espat_module_now(m);
	for (size_t i = 0; i < ESPAT_BLE_LINKS; i++) {
		struct espat_ble_link *l = &m->ble->link[i];
		if (l->up && (l->lost || l->closing) && l->timer.due <= now && !l->timer.armed)
			link_down(m, i, true);
	}
}

static void link_timer(void *user)
{
	links_timer_fire(user);
}

static bool connectable(uint8_t adv_type)
{
	return adv_type == 0 || adv_type == 1 || adv_type == 4 || adv_type == 6;
}

int espat_ble_central_connect(struct espat_module *m, const uint8_t addr[6], uint8_t addr_type)
{
	struct espat_ble *b = m->ble;
	if (espat_blufi_on(m)) /* BluFi's advertising (BLE itself is off then) */
		return espat_blufi_central_connect(m, addr);
	if (!espat_ble_on(m) || !b->advertising || !connectable(b->adv_param.type))
		return -1;
	/* a central already linked here (its old link waiting out the
	 * supervision timeout) is refused: Connection Already Exists */
	if (link_of(m, addr) >= 0)
		return -1;
	for (size_t i = 0; i < ESPAT_BLE_LINKS; i++) {
		if (b->link[i].up || (b->connecting.on && b->connecting.idx == i))
			continue;
		/* advertising stops once a connection is made [000:7138] */
		adv_stop(m);
		link_up(m, i, addr, addr_type, false);
		char a[18];
		espat_wr_reportf(&m->wr, "+BLECONN:%u,\"%s\"", (unsigned)i, espat_mac_str(addr, a));
		return (int)i;
	}
	return -1;
}

bool espat_ble_remote_disconnect(struct espat_module *m, const uint8_t addr[6])
{
	if (espat_blufi_peer(m, addr))
		return espat_blufi_remote_disconnect(m, addr);
	int i = espat_ble_on(m) ? link_of(m, addr) : -1;
	if (i < 0)
		return false;
	link_down(m, (size_t)i, true);
	return true;
}

bool espat_ble_peer_lost(struct espat_module *m, const uint8_t addr[6])
{
	if (espat_blufi_peer(m, addr))
		return espat_blufi_peer_lost(m, addr);
	int i = espat_ble_on(m) ? link_of(m, addr) : -1;
	if (i < 0)
		return false;
	struct espat_ble_link *l = &m->ble->link[i];
	l->lost = true;
	espat_timer_arm(&m->timers, &l->timer, espat_module_now(m) + (uint64_t)l->timeout * 10,
	                link_timer, m);
	return true;
}

/* AT+BLECONN? works before AT+BLEINIT too: it lists nothing then [000:7262]. */
static enum espat_rc bleconn_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	for (size_t i = 0; i < ESPAT_BLE_LINKS; i++)
		if (m->ble->link[i].up) {
			char s[18];
			espat_wr_linef(&m->wr, "+BLECONN:%u,\"%s\"", (unsigned)i,
			               espat_mac_str(m->ble->link[i].addr, s));
		}
	return ESPAT_RC_OK;
}

static const struct espat_param p_bleconn[] = {
    P_INT("conn_index", 0, ESPAT_BLE_LINKS - 1),
    P_STR("remote_address", 17),
    P_INT_OPT("addr_type", 0, 1),
    P_INT_OPT("timeout", 3, 30),
};

static void connect_tick(void *user);

/* The target's next advertising event at or after now, or false when it
 * does not advertise connectably now. */
static bool target_next(struct espat_module *m, uint64_t now, uint64_t *at, uint8_t *type)
{
	const struct espat_ble_connecting *c = &m->ble->connecting;
	const struct espat_ble_port *port = &m->ports.ble;
	struct espat_ble_adv adv;
	for (size_t i = 0; port->advertiser && port->advertiser(port->user, i, &adv); i++) {
		if (memcmp(adv.addr, c->addr, 6) != 0 || !connectable(adv.adv_type))
			continue;
		if (c->addr_type != 0xff && c->addr_type != adv.addr_type)
			continue;
		uint64_t iv = adv.interval_ms, ph = adv.phase_ms;
		uint64_t k = now > ph ? (now - ph + iv - 1) / iv : 0;
		*at = ph + k * iv;
		*type = adv.addr_type;
		return true;
	}
	return false;
}

/* Checks for the target each advertising event (or every 100 ms while it
 * is not there): CONNECT_IND goes out in the first event the initiator
 * hears; at <timeout> the attempt fails. */
static void connect_run(struct espat_module *m)
{
	struct espat_ble_connecting *c = &m->ble->connecting;
	uint64_t now = espat_module_now(m), at;
	uint8_t type;
	if (target_next(m, now, &at, &type) && at == now) {
		c->on = false;
		link_up(m, c->idx, c->addr, type, true);
		char a[18];
		espat_wr_linef(&m->wr, "+BLECONN:%u,\"%s\"", c->idx, espat_mac_str(c->addr, a));
		espat_engine_complete(E(m), ESPAT_RC_OK);
		return;
	}
	if (now >= c->deadline) {
		c->on = false;
		espat_wr_linef(&m->wr, "+BLECONN:%u,-1", c->idx);
		espat_engine_complete(E(m), espat_fail(E(m), ESPAT_ERR_EXEC));
		return;
	}
	uint64_t next = target_next(m, now, &at, &type) ? at : now + 100;
	espat_timer_arm(&m->timers, &c->timer, next < c->deadline ? next : c->deadline,
	                connect_tick, m);
}

static void connect_tick(void *user)
{
	connect_run(user);
}

/* COMPAT #408: <timeout> defaults to 30 s; a busy index, or a second
 * AT+BLECONN while one runs, is ERROR. */
static enum espat_rc bleconn_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ble *b = m->ble;
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_connecting *c = &b->connecting;
	size_t idx = (size_t)a->v[0].i;
	if (!espat_mac_parse(a->v[1].s, a->v[1].len, c->addr))
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	/* COMPAT #425: the peripheral's AT+BLECONN on the link the central
	 * made (the guide's 4.3.3) is OK, no +BLECONN [000:14649] */
	if (!c->on && link_of(m, c->addr) == (int)idx)
		return ESPAT_RC_OK;
	if (b->link[idx].up || c->on || link_of(m, c->addr) >= 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	c->on = true;
	c->idx = (uint8_t)idx;
	c->addr_type = given(a, 2) ? (uint8_t)a->v[2].i : 0xff;
	c->deadline = espat_module_now(m) + (uint64_t)(given(a, 3) ? a->v[3].i : 30) * 1000;
	/* the first look at the air comes from the loop, after this returns */
	espat_timer_arm(&m->timers, &c->timer, espat_module_now(m), connect_tick, m);
	return ESPAT_RC_PENDING;
}

static const struct espat_param p_bledisconn[] = {
    P_INT("conn_index", 0, ESPAT_BLE_LINKS - 1),
};

/* OK now; +BLEDISCONN when the terminate goes out, at the next connection
 * event [000:7353-7354]. */
static enum espat_rc bledisconn_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_link *l = &m->ble->link[a->v[0].i];
	if (!l->up || l->closing)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	l->closing = true;
	uint64_t event_ms = ((uint64_t)l->interval * 5 + 3) / 4;
	espat_timer_arm(&m->timers, &l->timer, espat_module_now(m) + event_ms, link_timer, m);
	return ESPAT_RC_OK;
}

/* ---- link procedures: AT+BLECONNPARAM, AT+BLECFGMTU, AT+BLEDATALEN ---------- */

static enum espat_rc need_link(struct espat_module *m, int64_t idx)
{
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	return m->ble->link[idx].up ? ESPAT_RC_OK : espat_fail(E(m), ESPAT_ERR_EXEC);
}

/* One connection event of link l, in ms (rounded up). */
static uint64_t event_ms(const struct espat_ble_link *l)
{
	return ((uint64_t)l->interval * 5 + 3) / 4;
}

static void conn_param_line(struct espat_module *m, size_t i, bool report)
{
	const struct espat_ble_link *l = &m->ble->link[i];
	char line[64];
	snprintf(line, sizeof(line), "+BLECONNPARAM:%u,%u,%u,%u,%u,%u", (unsigned)i, l->req_min,
	         l->req_max, l->interval, l->latency, l->timeout);
	if (report)
		espat_wr_reportf(&m->wr, "%s", line);
	else
		espat_wr_linef(&m->wr, "%s", line);
}

/* Finishes the procedures whose time has come, on every link. */
static void procs_run(struct espat_module *m)
{
	for (size_t i = 0; i < ESPAT_BLE_LINKS; i++) {
		struct espat_ble_link *l = &m->ble->link[i];
		if (!l->up)
			continue;
		if (l->upd_pending && !l->upd_timer.armed) {
			/* the peer accepts; the controller takes the shortest interval */
			l->upd_pending = false;
			l->interval = l->upd_min;
			l->latency = l->upd_latency;
			l->timeout = l->upd_timeout;
			conn_param_line(m, i, true);
			if (m->ports.ble.conn_param)
				m->ports.ble.conn_param(m->ports.ble.user, l->addr, l->interval,
				                        l->latency, l->timeout);
		}
		if (l->mtu_pending && !l->mtu_timer.armed) {
			const struct espat_ble_port *port = &m->ports.ble;
			uint16_t offer = port->peer_mtu ? port->peer_mtu(port->user, l->addr) : 0;
			if (offer < ESPAT_ATT_MTU_MIN)
				offer = ESPAT_ATT_MTU_MIN;
			l->mtu_pending = false;
			l->mtu_done = true;
			l->mtu = l->mtu_req < offer ? l->mtu_req : offer;
			if (port->mtu)
				port->mtu(port->user, l->addr, l->mtu);
			espat_wr_reportf(&m->wr, "+BLECFGMTU:%u,%u", (unsigned)i, l->mtu);
		}
	}
}

static void procs_tick(void *user)
{
	procs_run(user);
}

static enum espat_rc bleconnparam_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	for (size_t i = 0; i < ESPAT_BLE_LINKS; i++)
		if (m->ble->link[i].up)
			conn_param_line(m, i, false);
	return ESPAT_RC_OK;
}

static const struct espat_param p_bleconnparam[] = {
    P_INT("conn_index", 0, ESPAT_BLE_LINKS - 1),
    P_INT("min_interval", 0x0006, 0x0C80),
    P_INT("max_interval", 0x0006, 0x0C80),
    P_INT("latency", 0x0000, 0x01F3),
    P_INT("timeout", 0x000A, 0x0C80),
};

/* OK, then the LL connection update: it takes effect 6 connection events
 * later (the instant), reported as +BLECONNPARAM [000:18735]. The spec's
 * rule: the supervision timeout exceeds (1 + latency) * interval * 2
 * (Vol 6 Part B 4.5.2), else ERROR (COMPAT #409). */
static enum espat_rc bleconnparam_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = need_link(m, a->v[0].i);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_link *l = &m->ble->link[a->v[0].i];
	int64_t min = a->v[1].i, max = a->v[2].i, lat = a->v[3].i, to = a->v[4].i;
	if (min > max)
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	if (to * 4 <= (1 + lat) * max)
		return espat_fail(E(m), ESPAT_ERR_INVALID(4));
	if (l->upd_pending)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	l->req_min = (uint16_t)min;
	l->req_max = (uint16_t)max;
	l->upd_pending = true;
	l->upd_min = (uint16_t)min;
	l->upd_max = (uint16_t)max;
	l->upd_latency = (uint16_t)lat;
	l->upd_timeout = (uint16_t)to;
	espat_timer_arm(&m->timers, &l->upd_timer, espat_module_now(m) + 6 * event_ms(l),
	                procs_tick, m);
	return ESPAT_RC_OK;
}

static enum espat_rc blecfgmtu_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	for (size_t i = 0; i < ESPAT_BLE_LINKS; i++)
		if (m->ble->link[i].up)
			espat_wr_linef(&m->wr, "+BLECFGMTU:%u,%u", (unsigned)i,
			               m->ble->link[i].mtu);
	return ESPAT_RC_OK;
}

static const struct espat_param p_blecfgmtu[] = {
    P_INT("conn_index", 0, ESPAT_BLE_LINKS - 1),
    P_INT("mtu_size", ESPAT_ATT_MTU_MIN, ESPAT_ATT_MTU_MAX),
};

/* The GATT client's MTU exchange (the guide: client only [000:7448]): OK
 * now, the new ATT_MTU one connection event later, min(asked, offered),
 * reported as +BLECFGMTU. Once per link, as ATT allows (COMPAT #409). */
static enum espat_rc blecfgmtu_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = need_link(m, a->v[0].i);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_link *l = &m->ble->link[a->v[0].i];
	if (m->ble->role != ESPAT_BLE_CLIENT || l->mtu_done || l->mtu_pending)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	l->mtu_pending = true;
	l->mtu_req = (uint16_t)a->v[1].i;
	espat_timer_arm(&m->timers, &l->mtu_timer, espat_module_now(m) + event_ms(l), procs_tick,
	                m);
	return ESPAT_RC_OK;
}

bool espat_ble_peer_mtu(struct espat_module *m, const uint8_t addr[6], uint16_t mtu)
{
	if (espat_blufi_peer(m, addr))
		return espat_blufi_peer_mtu(m, addr, mtu);
	int i = espat_ble_on(m) ? link_of(m, addr) : -1;
	if (i < 0)
		return false;
	struct espat_ble_link *l = &m->ble->link[i];
	if (l->mtu_done || l->mtu_pending)
		return false;
	l->mtu_done = true;
	if (mtu < ESPAT_ATT_MTU_MIN)
		mtu = ESPAT_ATT_MTU_MIN;
	l->mtu = mtu < ESPAT_ATT_MTU_MAX ? mtu : ESPAT_ATT_MTU_MAX;
	if (m->ports.ble.mtu)
		m->ports.ble.mtu(m->ports.ble.user, l->addr, l->mtu);
	espat_wr_reportf(&m->wr, "+BLECFGMTU:%d,%u", i, l->mtu);
	return true;
}

bool espat_ble_peer_conn_param(struct espat_module *m, const uint8_t addr[6], uint16_t interval,
                               uint16_t latency, uint16_t timeout)
{
	int i = espat_ble_on(m) ? link_of(m, addr) : -1;
	if (i < 0)
		return false;
	struct espat_ble_link *l = &m->ble->link[i];
	l->interval = interval;
	l->latency = latency;
	l->timeout = timeout;
	/* min and max 0: the update was not asked here, as the guide's
	 * peripheral prints a central's updates [000:18705-18706] */
	espat_wr_reportf(&m->wr, "+BLECONNPARAM:%d,0,0,%u,%u,%u", i, interval, latency, timeout);
	return true;
}

void espat_ble_own_addr(const struct espat_module *m, uint8_t addr[6], uint8_t *type)
{
	const struct espat_ble *b = m->ble;
	bool rnd = b->scan_param.own_addr_type == 1 && b->random;
	memcpy(addr, rnd ? b->random_addr : b->public_addr, 6);
	*type = rnd ? 1 : 0;
}

static const struct espat_param p_bledatalen[] = {
    P_INT("conn_index", 0, ESPAT_BLE_LINKS - 1),
    P_INT("pkt_data_len", 0x001B, 0x00FB),
};

/* Recorded, not used: the model does not cut PDUs into LL packets. */
static enum espat_rc bledatalen_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = need_link(m, a->v[0].i);
	if (rc != ESPAT_RC_OK)
		return rc;
	m->ble->link[a->v[0].i].data_len = (uint16_t)a->v[1].i;
	return ESPAT_RC_OK;
}

/* AT+BLEREADPHY / AT+BLESETPHY: the link's PHY both ways, or -1 when no
 * link (still OK, as the guide prints it [000:9100-9146]). The peer takes
 * any PHY (COMPAT #483). */
static const struct espat_param p_blereadphy[] = {
    P_INT("conn_index", 0, ESPAT_BLE_LINKS - 1),
};

static enum espat_rc phy_line(struct espat_module *m, const char *name, size_t idx)
{
	const struct espat_ble_link *l = &m->ble->link[idx];
	if (!l->up) {
		espat_wr_linef(&m->wr, "+%s:-1", name);
		return ESPAT_RC_OK;
	}
	char a[18];
	espat_wr_linef(&m->wr, "+%s:\"%s\",%u,%u", name, espat_mac_str(l->addr, a), l->phy, l->phy);
	return ESPAT_RC_OK;
}

static enum espat_rc blereadphy_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	return phy_line(m, "BLEREADPHY", (size_t)a->v[0].i);
}

static const struct espat_param p_blesetphy[] = {
    P_INT("conn_index", 0, ESPAT_BLE_LINKS - 1),
    P_INT("tx_rx_phy", 1, 3),
};

static enum espat_rc blesetphy_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_link *l = &m->ble->link[a->v[0].i];
	if (l->up) {
		l->phy = (uint8_t)a->v[1].i;
		if (m->ports.ble.phy)
			m->ports.ble.phy(m->ports.ble.user, l->addr, l->phy);
	}
	return phy_line(m, "BLESETPHY", (size_t)a->v[0].i);
}

bool espat_ble_peer_phy(struct espat_module *m, const uint8_t addr[6], uint8_t phy)
{
	int i = espat_ble_on(m) ? link_of(m, addr) : -1;
	if (i < 0 || phy < 1 || phy > 3)
		return false;
	m->ble->link[i].phy = phy;
	return true;
}

/* Deinit, restart, power off: every link ends without a report (the
 * peers see the link drop) and a pending AT+BLECONN is dropped. */
static void links_end(struct espat_module *m)
{
	struct espat_ble *b = m->ble;
	for (size_t i = 0; i < ESPAT_BLE_LINKS; i++)
		link_down(m, i, false);
	espat_timer_cancel(&m->timers, &b->connecting.timer);
	b->connecting.on = false;
}

static const struct espat_cmd ble_rows[] = {
    {.name = "+BLEINIT",
     .query = bleinit_query,
     .set = bleinit_set,
     .params = p_bleinit,
     .nparams = N(p_bleinit),
     .help = "Bluetooth LE initialization"},
    {.name = "+BLEADDR",
     .query = bleaddr_query,
     .set = bleaddr_set,
     .params = p_bleaddr,
     .nparams = N(p_bleaddr),
     .help = "Query/Set Bluetooth LE device address"},
    {.name = "+BLENAME",
     .query = blename_query,
     .set = blename_set,
     .params = p_blename,
     .nparams = N(p_blename),
     .help = "Query/Set Bluetooth LE device name"},
    {.name = "+BLESCANPARAM",
     .query = blescanparam_query,
     .set = blescanparam_set,
     .params = p_blescanparam,
     .nparams = N(p_blescanparam),
     .help = "Query/Set parameters of Bluetooth LE scanning"},
    {.name = "+BLESCAN",
     .set = blescan_set,
     .params = p_blescan,
     .nparams = N(p_blescan),
     .help = "Enable Bluetooth LE scanning"},
    {.name = "+BLESCANRSPDATA",
     .set = blescanrspdata_set,
     .params = p_hexdata,
     .nparams = N(p_hexdata),
     .help = "Set Bluetooth LE scan response"},
    {.name = "+BLEADVPARAM",
     .query = bleadvparam_query,
     .set = bleadvparam_set,
     .params = p_bleadvparam,
     .nparams = N(p_bleadvparam),
     .help = "Query/Set parameters of Bluetooth LE advertising"},
    {.name = "+BLEADVDATA",
     .set = bleadvdata_set,
     .params = p_hexdata,
     .nparams = N(p_hexdata),
     .help = "Set Bluetooth LE advertising data"},
    {.name = "+BLEADVDATAEX",
     .query = bleadvdataex_query,
     .set = bleadvdataex_set,
     .params = p_bleadvdataex,
     .nparams = N(p_bleadvdataex),
     .help = "Automatically set Bluetooth LE advertising data"},
    {.name = "+BLEADVSTART", .exec = bleadvstart_exec, .help = "Start Bluetooth LE advertising"},
    {.name = "+BLEADVSTOP", .exec = bleadvstop_exec, .help = "Stop Bluetooth LE advertising"},
    {.name = "+BLECONN",
     .query = bleconn_query,
     .set = bleconn_set,
     .params = p_bleconn,
     .nparams = N(p_bleconn),
     .help = "Establish Bluetooth LE connection"},
    {.name = "+BLEDISCONN",
     .set = bledisconn_set,
     .params = p_bledisconn,
     .nparams = N(p_bledisconn),
     .help = "End Bluetooth LE connection"},
    {.name = "+BLECONNPARAM",
     .query = bleconnparam_query,
     .set = bleconnparam_set,
     .params = p_bleconnparam,
     .nparams = N(p_bleconnparam),
     .help = "Query/Update parameters of Bluetooth LE connection"},
    {.name = "+BLEDATALEN",
     .set = bledatalen_set,
     .params = p_bledatalen,
     .nparams = N(p_bledatalen),
     .help = "Set Bluetooth LE data packet length"},
    {.name = "+BLEREADPHY",
     .set = blereadphy_set,
     .params = p_blereadphy,
     .nparams = N(p_blereadphy),
     .help = "Query the current transmitter PHY"},
    {.name = "+BLESETPHY",
     .set = blesetphy_set,
     .params = p_blesetphy,
     .nparams = N(p_blesetphy),
     .help = "Set the current transmitter PHY"},
    {.name = "+BLECFGMTU",
     .query = blecfgmtu_query,
     .set = blecfgmtu_set,
     .params = p_blecfgmtu,
     .nparams = N(p_blecfgmtu),
     .help = "Set Bluetooth LE MTU length"},
};

static const struct espat_cmd_table ble_table = {
    .family = "ble",
    .rows = ble_rows,
    .n = sizeof(ble_rows) / sizeof(ble_rows[0]),
};

const struct espat_family espat_ble_family = {
    .name = "ble",
    .table = &ble_table,
    .state_size = sizeof(struct espat_ble),
    .state_slot = offsetof(struct espat_module, ble),
    .init = ble_init,
    .boot = ble_boot,
    .free = ble_free,
};
