/* The station: its connection machine (scan, authenticate, associate, DHCP,
 * reconnect), AT+CWJAP, AT+CWJEAP, AT+CWQAP, AT+CWSTATE, AT+CWRECONNCFG,
 * AT+CWLAPOPT and AT+CWLAP.
 *
 * One attempt runs SCAN -> ASSOC -> DHCP -> UP, each phase a timer on the
 * module clock whose length the world gives (scan dwell per channel, the
 * AP's association and DHCP times). A command waiting on the outcome
 * (w->waiting) is completed by the attempt; without one, a failure follows
 * the reconnect policy (AT+CWRECONNCFG). Every phase re-checks the world
 * when its timer ends, so an AP that goes away mid-join fails the join. */
#include <stdio.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/family.h"
#include "cmd/wifi_internal.h"

#define ESPAT_PASSIVE_DWELL_MS 360u
#define ESPAT_JAP_TIMEOUT_S 15u
#define ESPAT_BSS_MAX 64u

static struct espat_engine *E(struct espat_module *m)
{
	return &m->eng;
}

static uint64_t now(struct espat_module *m)
{
	return espat_module_now(m);
}

static uint32_t dwell(struct espat_module *m)
{
	const struct espat_radio *r = &m->ports.radio;
	return r->scan_channel_ms ? r->scan_channel_ms(r->user) : 120u;
}

static size_t scan_air(struct espat_module *m, struct espat_bss *out, size_t max)
{
	const struct espat_radio *r = &m->ports.radio;
	if (!r->scan)
		return 0;
	size_t n = r->scan(r->user, out, max);
	return n < max ? n : max;
}

size_t espat_wifi_scan(struct espat_module *m, struct espat_bss *out, size_t max)
{
	return scan_air(m, out, max);
}

int espat_wifi_sta_last_fail(const struct espat_module *m)
{
	return m->wifi->last_fail;
}

bool espat_sta_associated(const struct espat_module *m)
{
	return m->wifi->state == ESPAT_STA_CONNECTED || m->wifi->state == ESPAT_STA_GOT_IP;
}

/* A line "<prefix>"<ssid>"<rest>" with the SSID's raw bytes (it may hold any
 * byte, even NUL or a quote, and is printed as is, like the firmware does). */
static void ssid_line(struct espat_module *m, const char *prefix, const uint8_t *ssid,
		      size_t ssid_len, const char *rest)
{
	uint8_t line[256];
	size_t n = 0, pl = strlen(prefix), rl = strlen(rest);
	memcpy(line, prefix, pl);
	n = pl;
	line[n++] = '"';
	if (ssid_len > 0)
		memcpy(line + n, ssid, ssid_len);
	n += ssid_len;
	line[n++] = '"';
	memcpy(line + n, rest, rl);
	n += rl;
	line[n++] = '\r';
	line[n++] = '\n';
	espat_wr_msg(&m->wr, line, n);
}

/* ---- the connection machine ----------------------------------------------------- */

static void attempt(struct espat_module *m);

static bool matches(const struct espat_sta_cfg *c, const struct espat_bss *b)
{
	if (b->ssid_len != c->ssid_len || memcmp(b->ssid, c->ssid, c->ssid_len) != 0)
		return false;
	if (c->has_bssid && memcmp(b->bssid, c->bssid, 6) != 0)
		return false;
	/* <pci_en> 1 refuses open and WEP networks */
	if (c->pci_en && (b->ecn == ESPAT_ECN_OPEN || b->ecn == ESPAT_ECN_WEP))
		return false;
	/* AT+CWJEAP joins only Enterprise networks, AT+CWJAP only the others */
	if (c->eap != (b->ecn == ESPAT_ECN_WPA2_ENTERPRISE))
		return false;
	return true;
}

/* Looks for the configured AP as the scan mode does: a fast scan stops at
 * the first channel that has it, an all-channel scan sweeps every channel
 * and takes the strongest. *ms is how long that scan takes. */
static bool find_target(struct espat_module *m, struct espat_bss *out, uint32_t *ms)
{
	struct espat_bss list[ESPAT_BSS_MAX];
	const struct espat_sta_cfg *c = &m->wifi->cfg;
	const struct espat_radio *r = &m->ports.radio;
	size_t n = scan_air(m, list, ESPAT_BSS_MAX);
	int best = -1;
	for (size_t i = 0; i < n; i++) {
		/* A hidden AP answers the station's directed probe for its SSID:
		 * the probe response names it. */
		if (list[i].ssid_len == 0 && c->ssid_len > 0 && r->find)
			r->find(r->user, list[i].id, &list[i]);
		if (!matches(c, &list[i]))
			continue;
		if (best < 0 || (c->scan_mode == 1 && list[i].rssi > list[best].rssi))
			best = (int)i;
		if (c->scan_mode == 0)
			break;
	}
	uint32_t d = dwell(m);
	if (best < 0) {
		*ms = d * ESPAT_SCAN_CHANNELS;
		return false;
	}
	*out = list[best];
	*ms = c->scan_mode == 0 ? d * out->channel : d * ESPAT_SCAN_CHANNELS;
	return true;
}

static void drop_address(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	if (w->dhcp_sta)
		memset(&w->sta_ip, 0, sizeof(w->sta_ip));
}

/* Ends the command waiting on the station with its failure. */
static void finish_failed(struct espat_module *m, int code)
{
	struct espat_wifi *w = m->wifi;
	espat_handler_fn *h = w->waiting;
	w->waiting = NULL;
	espat_timer_cancel(&m->timers, &w->jap_timer);
	if (h == espat_cwjeap_set) {
		if (code == 1)
			espat_wr_linef(&m->wr, "+CWJEAP:Timeout");
	} else {
		espat_wr_linef(&m->wr, "+CWJAP:%d", code);
		if (m->dialect->jap_fail_final) {
			/* v1.5 ends a failed join with its own word (FAIL) */
			espat_wr_result(&m->wr, m->dialect->jap_fail_final);
			espat_engine_complete(E(m), ESPAT_RC_DONE);
			return;
		}
	}
	espat_fail(E(m), ESPAT_ERR_EXEC);
	espat_engine_complete(E(m), ESPAT_RC_ERROR);
}

static void retry_due(void *user)
{
	struct espat_module *m = user;
	m->wifi->reconn_done++;
	attempt(m);
}

/* No join is under way any more: the reconnect policy decides. */
static void schedule_retry(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	if (w->reconn_interval > 0 && w->cfg.valid &&
	    (w->reconn_count == 0 || w->reconn_done < w->reconn_count)) {
		w->phase = ESPAT_PH_WAIT;
		w->state = ESPAT_STA_CONNECTING;
		espat_timer_arm(&m->timers, &w->sta_timer, now(m) + 1000u * w->reconn_interval,
				retry_due, m);
	} else {
		w->phase = ESPAT_PH_IDLE;
		w->state = ESPAT_STA_DISCONNECTED;
	}
}

static void attempt_failed(struct espat_module *m, int code)
{
	struct espat_wifi *w = m->wifi;
	w->last_fail = code;
	w->phase = ESPAT_PH_IDLE;
	if (w->waiting) {
		w->state = ESPAT_STA_DISCONNECTED;
		finish_failed(m, code);
		return;
	}
	schedule_retry(m);
}

static void got_ip(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	w->state = ESPAT_STA_GOT_IP;
	w->phase = ESPAT_PH_UP;
	w->reconn_done = 0;
	w->last_fail = 0;
	espat_wifi_report(m, "%s", m->dialect->wifi_got_ip);
	if (w->waiting) {
		w->waiting = NULL;
		espat_timer_cancel(&m->timers, &w->jap_timer);
		espat_engine_complete(E(m), ESPAT_RC_OK);
	}
	espat_prov_sta_up(m);
	espat_module_emit(m, ESPAT_EV_NET_CHANGED);
}

static void dhcp_done(void *user)
{
	struct espat_module *m = user;
	struct espat_wifi *w = m->wifi;
	const struct espat_radio *r = &m->ports.radio;
	struct espat_bss b;
	if (!r->find(r->user, w->ap.id, &b)) {
		espat_sta_lost(m);
		return;
	}
	if (w->net.air && w->net.ip == 0) {
		/* the AP module's DHCP server has not answered yet */
		w->air_wait = true;
		return;
	}
	w->sta_ip.ip = w->net.ip;
	w->sta_ip.gw = w->net.gw;
	w->sta_ip.mask = w->net.mask;
	got_ip(m);
}

static void assoc_done(void *user)
{
	struct espat_module *m = user;
	struct espat_wifi *w = m->wifi;
	const struct espat_radio *r = &m->ports.radio;
	struct espat_bss b;
	if (!r->find(r->user, w->ap.id, &b)) {
		attempt_failed(m, 4); /* the AP went away during the handshake */
		return;
	}
	if (w->auth == ESPAT_AUTH_PENDING) {
		/* the AP module has not decided yet: espat_wifi_air_answer() */
		w->air_wait = true;
		return;
	}
	if (w->auth != ESPAT_AUTH_OK) {
		attempt_failed(m, w->auth == ESPAT_AUTH_WRONG_KEY ? 2 : 4);
		return;
	}
	w->ap = b;
	w->state = ESPAT_STA_CONNECTED;
	espat_wifi_report(m, "%s", m->dialect->wifi_connected);
	if (!w->dhcp_sta) {
		/* a static address is up as soon as the link is */
		w->sta_ip = w->sta_static;
		got_ip(m);
		return;
	}
	w->phase = ESPAT_PH_DHCP;
	if (w->net.dhcp)
		espat_timer_arm(&m->timers, &w->sta_timer, now(m) + w->net.dhcp_ms, dhcp_done, m);
	/* else: no DHCP server on that network; the address never comes */
}

static void scan_done(void *user)
{
	struct espat_module *m = user;
	struct espat_wifi *w = m->wifi;
	const struct espat_radio *r = &m->ports.radio;
	struct espat_bss b;
	uint32_t ms_unused;
	/* what the sweep saw: the air as it is when the scan ends */
	if (!find_target(m, &b, &ms_unused)) {
		attempt_failed(m, 3);
		return;
	}
	w->ap = b;
	/* PMF: an AP that requires it refuses a station with PMF off; a
	 * station that requires it skips an AP without it. */
	bool ap_pmf_capable = b.ecn >= ESPAT_ECN_WPA2_PSK && b.ecn != ESPAT_ECN_WEP;
	if ((b.pmf_required && (w->cfg.pmf & 1u) == 0) || ((w->cfg.pmf & 2u) && !ap_pmf_capable)) {
		attempt_failed(m, 4);
		return;
	}
	w->auth = r->auth(r->user, b.id, w->sta_mac, w->cfg.pwd, w->cfg.pwd_len,
			  w->cfg.eap ? &w->cfg.eap_cred : NULL, &w->net);
	if (w->auth == ESPAT_AUTH_GONE) {
		attempt_failed(m, 3);
		return;
	}
	w->phase = ESPAT_PH_ASSOC;
	espat_timer_arm(&m->timers, &w->sta_timer, now(m) + w->net.assoc_ms, assoc_done, m);
}

/* One attempt: scan for the AP, then associate. */
static void attempt(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	uint32_t ms;
	struct espat_bss b;
	w->state = ESPAT_STA_CONNECTING;
	w->phase = ESPAT_PH_SCAN;
	find_target(m, &b, &ms); /* how long the sweep takes; scan_done looks again */
	espat_timer_arm(&m->timers, &w->sta_timer, now(m) + ms, scan_done, m);
}

/* Leaves the current association (if any), printing WIFI DISCONNECT. */
static bool disassociate(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	bool was = espat_sta_associated(m);
	const struct espat_radio *r = &m->ports.radio;
	espat_timer_cancel(&m->timers, &w->sta_timer);
	/* an AP that had the station, or was deciding on it, hears it go */
	if (r->leave && (was || w->phase == ESPAT_PH_ASSOC || w->phase == ESPAT_PH_DHCP))
		r->leave(r->user, w->ap.id);
	w->phase = ESPAT_PH_IDLE;
	w->air_wait = false;
	if (was) {
		drop_address(m);
		espat_wifi_report(m, "%s", m->dialect->wifi_disconnect);
		espat_module_emit(m, ESPAT_EV_NET_CHANGED);
	}
	return was;
}

void espat_sta_connect(struct espat_module *m)
{
	disassociate(m);
	m->wifi->reconn_done = 0;
	attempt(m);
}

void espat_sta_stop(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	bool started = w->state != ESPAT_STA_NONE;
	disassociate(m);
	w->state = started ? ESPAT_STA_DISCONNECTED : ESPAT_STA_NONE;
	memset(&w->ap, 0, sizeof(w->ap));
}

void espat_sta_lost(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	disassociate(m);
	w->state = ESPAT_STA_DISCONNECTED;
	if (w->waiting) {
		/* lost while a join still waited for its address */
		attempt_failed(m, 4);
		return;
	}
	w->reconn_done = 0;
	schedule_retry(m);
}

void espat_sta_world_changed(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	const struct espat_radio *r = &m->ports.radio;
	struct espat_bss b;
	struct espat_ipnet net;
	if (w->phase != ESPAT_PH_UP && w->phase != ESPAT_PH_DHCP)
		return; /* the other phases look at the world when their timer ends */
	if (!r->find(r->user, w->ap.id, &b)) {
		espat_sta_lost(m);
		return;
	}
	/* New credentials on the AP drop its stations; the old key no longer
	 * gets in. */
	if (r->auth(r->user, b.id, w->sta_mac, w->cfg.pwd, w->cfg.pwd_len,
		    w->cfg.eap ? &w->cfg.eap_cred : NULL, &net) != ESPAT_AUTH_OK) {
		espat_sta_lost(m);
		return;
	}
	w->ap = b;
}

void espat_wifi_air_answer(struct espat_module *m, uint32_t id, enum espat_auth a)
{
	struct espat_wifi *w = m->wifi;
	if (w->phase != ESPAT_PH_ASSOC || w->ap.id != id || w->auth != ESPAT_AUTH_PENDING)
		return; /* an answer to an attempt given up since */
	w->auth = a == ESPAT_AUTH_PENDING ? ESPAT_AUTH_REJECTED : a;
	if (w->air_wait) {
		/* the association time is over: go on now */
		w->air_wait = false;
		assoc_done(m);
	}
}

void espat_wifi_air_lease(struct espat_module *m, uint32_t id, uint32_t ip)
{
	struct espat_wifi *w = m->wifi;
	/* the AP's DHCP server may answer before the station's association
	 * time is over: the lease waits in w->net for dhcp_done() */
	if (w->ap.id != id || !w->net.air ||
	    (w->phase != ESPAT_PH_ASSOC && w->phase != ESPAT_PH_DHCP))
		return;
	w->net.ip = ip;
	if (w->phase == ESPAT_PH_DHCP && w->air_wait) {
		w->air_wait = false;
		dhcp_done(m);
	}
}

static void jap_timeout(void *user)
{
	struct espat_module *m = user;
	struct espat_wifi *w = m->wifi;
	disassociate(m);
	w->state = ESPAT_STA_DISCONNECTED;
	w->last_fail = 1;
	finish_failed(m, 1);
}

/* Starts a join that the command h waits for, at most timeout_s. */
static enum espat_rc start_join(struct espat_module *m, espat_handler_fn *h, uint32_t timeout_s)
{
	struct espat_wifi *w = m->wifi;
	w->waiting = h;
	espat_timer_arm(&m->timers, &w->jap_timer, now(m) + 1000u * timeout_s, jap_timeout, m);
	espat_sta_connect(m);
	return ESPAT_RC_PENDING;
}

void espat_sta_boot(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	/* AT+CWAUTOCONN=1: join the saved AP at power-on */
	if (espat_wifi_sta_enabled(m) && w->autoconn && w->cfg.valid)
		attempt(m);
}

void espat_sta_free(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	espat_timer_cancel(&m->timers, &w->sta_timer);
	espat_timer_cancel(&m->timers, &w->jap_timer);
	espat_timer_cancel(&m->timers, &w->scan_timer);
}

/* ---- AT+CWJAP, AT+CWJEAP, AT+CWQAP, AT+CWSTATE ----------------------------------- */

static bool omitted(const struct espat_args *a, size_t i)
{
	return i >= a->n || a->v[i].kind == ESPAT_ARG_OMITTED;
}

static int64_t opt_int(const struct espat_args *a, size_t i, int64_t dflt)
{
	return omitted(a, i) ? dflt : a->v[i].i;
}

enum espat_rc espat_cwjap_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *w = m->wifi;
	struct espat_sta_cfg c;
	memset(&c, 0, sizeof(c));
	if (omitted(a, 0)) {
		/* AT+CWJAP=,,... joins the last AP again */
		if (!w->cfg.valid || w->cfg.eap)
			return espat_fail(E(m), ESPAT_ERR_INVALID(0));
		memcpy(c.ssid, w->cfg.ssid, w->cfg.ssid_len);
		c.ssid_len = w->cfg.ssid_len;
		memcpy(c.pwd, w->cfg.pwd, w->cfg.pwd_len);
		c.pwd_len = w->cfg.pwd_len;
	} else {
		if (a->v[0].len == 0)
			return espat_fail(E(m), ESPAT_ERR_INVALID(0));
		memcpy(c.ssid, a->v[0].s, a->v[0].len);
		c.ssid_len = a->v[0].len;
	}
	if (!omitted(a, 1)) {
		memcpy(c.pwd, a->v[1].s, a->v[1].len);
		c.pwd_len = a->v[1].len;
	} else if (!omitted(a, 0)) {
		c.pwd_len = 0;
	}
	if (!omitted(a, 2)) {
		if (!espat_mac_parse(a->v[2].s, a->v[2].len, c.bssid))
			return espat_fail(E(m), ESPAT_ERR_INVALID(2));
		c.has_bssid = true;
	}
	c.pci_en = (uint8_t)opt_int(a, 3, 0);
	/* omitting <reconn_interval> sets it back to 1 s (guide 3.2.5) */
	uint16_t reconn = (uint16_t)opt_int(a, 4, 1);
	c.listen_interval = (uint16_t)opt_int(a, 5, 3);
	c.scan_mode = (uint8_t)opt_int(a, 6, 0);
	uint32_t timeout = (uint32_t)opt_int(a, 7, ESPAT_JAP_TIMEOUT_S);
	c.pmf = (uint8_t)opt_int(a, 8, 1);
	c.valid = true;
	if (!espat_wifi_sta_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	w->cfg = c;
	w->reconn_interval = reconn;
	espat_wifi_save_cfg(m);
	espat_wifi_save_reconn(m);
	return start_join(m, espat_cwjap_set, timeout);
}

enum espat_rc espat_cwjap_exec(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *w = m->wifi;
	if (!espat_wifi_sta_enabled(m) || !w->cfg.valid)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	return start_join(m, w->cfg.eap ? espat_cwjeap_set : espat_cwjap_set, ESPAT_JAP_TIMEOUT_S);
}

enum espat_rc espat_cwjap_query(struct espat_module *m, const struct espat_args *a)
{
	const struct espat_wifi *w = m->wifi;
	if (!espat_sta_associated(m)) {
		espat_wr_linef(&m->wr, "No AP");
		return ESPAT_RC_OK;
	}
	char rest[96], mac[18];
	snprintf(rest, sizeof(rest), ",\"%s\",%u,%d,%u,%u,%u,%u,%u", espat_mac_str(w->ap.bssid, mac),
		 w->ap.channel, w->ap.rssi, w->cfg.pci_en, w->reconn_interval,
		 w->cfg.listen_interval, w->cfg.scan_mode, w->cfg.pmf);
	ssid_line(m, "+CWJAP:", w->ap.ssid, w->ap.ssid_len, rest);
	return ESPAT_RC_OK;
}

enum espat_rc espat_cwstate_query(struct espat_module *m, const struct espat_args *a)
{
	const struct espat_wifi *w = m->wifi;
	char prefix[24];
	snprintf(prefix, sizeof(prefix), "+CWSTATE:%d,", (int)w->state);
	if (!w->cfg.valid)
		ssid_line(m, prefix, NULL, 0, "");
	else
		ssid_line(m, prefix, w->cfg.ssid, w->cfg.ssid_len, "");
	return ESPAT_RC_OK;
}

enum espat_rc espat_cwqap_exec(struct espat_module *m, const struct espat_args *a)
{
	/* OK first: the disconnect event follows the command's return. */
	espat_wr_ok(&m->wr);
	if (espat_wifi_sta_enabled(m))
		espat_sta_stop(m);
	return ESPAT_RC_DONE;
}

enum espat_rc espat_cwjeap_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *w = m->wifi;
	struct espat_sta_cfg c;
	memset(&c, 0, sizeof(c));
	uint8_t method = (uint8_t)a->v[1].i;
	const struct espat_arg *id = &a->v[2];
	bool has_user = !omitted(a, 3), has_pass = !omitted(a, 4);
	if (a->v[0].len == 0)
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	if (id->len == 0)
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	/* PEAP and TTLS authenticate with a user name and password */
	if (method != 0 && (!has_user || a->v[3].len == 0))
		return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	if (method != 0 && (!has_pass || a->v[4].len == 0))
		return espat_fail(E(m), ESPAT_ERR_INVALID(4));
	/* EAP-TLS authenticates with the client certificate */
	if (method == 0 && (a->v[5].i & 1) == 0)
		return espat_fail(E(m), ESPAT_ERR_INVALID(5));
	memcpy(c.ssid, a->v[0].s, a->v[0].len);
	c.ssid_len = a->v[0].len;
	c.eap = true;
	c.eap_cred.method = method;
	memcpy(c.eap_cred.identity, id->s, id->len + 1);
	if (has_user)
		memcpy(c.eap_cred.username, a->v[3].s, a->v[3].len + 1);
	if (has_pass)
		memcpy(c.eap_cred.password, a->v[4].s, a->v[4].len + 1);
	c.eap_cred.security = (uint8_t)a->v[5].i;
	c.listen_interval = 3;
	c.pmf = 1;
	c.valid = true;
	uint32_t timeout = (uint32_t)opt_int(a, 6, ESPAT_JAP_TIMEOUT_S);
	if (!espat_wifi_sta_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	w->cfg = c;
	espat_wifi_save_cfg(m);
	return start_join(m, espat_cwjeap_set, timeout);
}

enum espat_rc espat_cwjeap_query(struct espat_module *m, const struct espat_args *a)
{
	const struct espat_sta_cfg *c = &m->wifi->cfg;
	if (c->valid && c->eap) {
		const struct espat_eap_cred *e = &c->eap_cred;
		char rest[160];
		snprintf(rest, sizeof(rest), ",%u,\"%s\",\"%s\",\"%s\",%u", e->method, e->identity,
			 e->username, e->password, e->security);
		ssid_line(m, "+CWJEAP:", c->ssid, c->ssid_len, rest);
	}
	return ESPAT_RC_OK;
}

/* ---- AT+CWRECONNCFG ---------------------------------------------------------------- */

enum espat_rc espat_cwreconncfg_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CWRECONNCFG:%u,%u", m->wifi->reconn_interval, m->wifi->reconn_count);
	return ESPAT_RC_OK;
}

enum espat_rc espat_cwreconncfg_set(struct espat_module *m, const struct espat_args *a)
{
	m->wifi->reconn_interval = (uint16_t)a->v[0].i;
	m->wifi->reconn_count = (uint16_t)a->v[1].i;
	espat_wifi_save_reconn(m);
	return ESPAT_RC_OK;
}

/* ---- AT+CWLAPOPT, AT+CWLAP ------------------------------------------------------- */

enum espat_rc espat_cwlapopt_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *w = m->wifi;
	w->lapopt.sort = (uint8_t)a->v[0].i;
	w->lapopt.mask = (uint16_t)a->v[1].i;
	w->lapopt.rssi_min = (int)opt_int(a, 2, -100);
	w->lapopt.auth_mask = (uint16_t)opt_int(a, 3, 0xFFFF);
	return ESPAT_RC_OK;
}

static bool lap_wanted(const struct espat_wifi *w, const struct espat_bss *b)
{
	if (b->rssi < w->lapopt.rssi_min || !(w->lapopt.auth_mask & (1u << b->ecn)))
		return false;
	if (w->scan.has_ssid &&
	    (b->ssid_len != w->scan.ssid_len || memcmp(b->ssid, w->scan.ssid, b->ssid_len) != 0))
		return false;
	if (w->scan.has_mac && memcmp(b->bssid, w->scan.mac, 6) != 0)
		return false;
	return w->scan.channel == 0 || b->channel == w->scan.channel;
}

/* One +CWLAP:(...) line with the fields the print mask selects. */
static void lap_line(struct espat_module *m, const struct espat_bss *b)
{
	uint8_t line[200];
	size_t n = 0;
	unsigned mask = m->wifi->lapopt.mask;
	char mac[18], num[16];
	memcpy(line, "+CWLAP:(", 8);
	n = 8;
	for (unsigned bit = 0; bit < 11; bit++) {
		if (!(mask & (1u << bit)))
			continue;
		if (n > 8)
			line[n++] = ',';
		int len = 0;
		switch (bit) {
		case 0: len = snprintf(num, sizeof(num), "%u", b->ecn); break;
		case 1:
			line[n++] = '"';
			memcpy(line + n, b->ssid, b->ssid_len);
			n += b->ssid_len;
			line[n++] = '"';
			continue;
		case 2: len = snprintf(num, sizeof(num), "%d", b->rssi); break;
		case 3:
			len = snprintf((char *)line + n, sizeof(line) - n, "\"%s\"",
				       espat_mac_str(b->bssid, mac));
			n += (size_t)len;
			continue;
		case 4: len = snprintf(num, sizeof(num), "%u", b->channel); break;
		/* <freq_offset> and <freqcal_val> are reserved: ESP32 builds print -1 */
		case 5:
		case 6: len = snprintf(num, sizeof(num), "-1"); break;
		case 7: len = snprintf(num, sizeof(num), "%u", b->pairwise_cipher); break;
		case 8: len = snprintf(num, sizeof(num), "%u", b->group_cipher); break;
		case 9: len = snprintf(num, sizeof(num), "%u", b->bgn); break;
		default: len = snprintf(num, sizeof(num), "%d", b->wps ? 1 : 0); break;
		}
		memcpy(line + n, num, (size_t)len);
		n += (size_t)len;
	}
	memcpy(line + n, ")\r\n", 3);
	n += 3;
	espat_wr_msg(&m->wr, line, n);
}

static void lap_done(void *user)
{
	struct espat_module *m = user;
	struct espat_wifi *w = m->wifi;
	struct espat_bss list[ESPAT_BSS_MAX];
	size_t n = scan_air(m, list, ESPAT_BSS_MAX);
	size_t keep = 0;
	for (size_t i = 0; i < n; i++)
		if (lap_wanted(w, &list[i]))
			list[keep++] = list[i];
	if (w->lapopt.sort) {
		/* insertion sort, stable: strongest first */
		for (size_t i = 1; i < keep; i++) {
			struct espat_bss t = list[i];
			size_t j = i;
			for (; j > 0 && list[j - 1].rssi < t.rssi; j--)
				list[j] = list[j - 1];
			list[j] = t;
		}
	}
	for (size_t i = 0; i < keep; i++)
		lap_line(m, &list[i]);
	espat_engine_complete(E(m), ESPAT_RC_OK);
}

static enum espat_rc start_lap(struct espat_module *m, uint32_t per_channel)
{
	struct espat_wifi *w = m->wifi;
	if (!espat_wifi_sta_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	uint32_t channels = w->scan.channel ? 1u : ESPAT_SCAN_CHANNELS;
	espat_timer_arm(&m->timers, &w->scan_timer, now(m) + per_channel * channels, lap_done, m);
	return ESPAT_RC_PENDING;
}

enum espat_rc espat_cwlap_exec(struct espat_module *m, const struct espat_args *a)
{
	memset(&m->wifi->scan, 0, sizeof(m->wifi->scan));
	return start_lap(m, dwell(m));
}

enum espat_rc espat_cwlap_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *w = m->wifi;
	memset(&w->scan, 0, sizeof(w->scan));
	if (!omitted(a, 0)) {
		memcpy(w->scan.ssid, a->v[0].s, a->v[0].len);
		w->scan.ssid_len = a->v[0].len;
		w->scan.has_ssid = true;
	}
	if (!omitted(a, 1)) {
		if (!espat_mac_parse(a->v[1].s, a->v[1].len, w->scan.mac))
			return espat_fail(E(m), ESPAT_ERR_INVALID(1));
		w->scan.has_mac = true;
	}
	w->scan.channel = (uint8_t)opt_int(a, 2, 0);
	bool passive = opt_int(a, 3, 0) == 1;
	int64_t tmin = opt_int(a, 4, 0), tmax = opt_int(a, 5, 0);
	if (tmax != 0 && tmin > tmax)
		return espat_fail(E(m), ESPAT_ERR_INVALID(4));
	uint32_t per = tmax ? (uint32_t)tmax : passive ? ESPAT_PASSIVE_DWELL_MS : dwell(m);
	return start_lap(m, per);
}
