/* Wi-Fi AT commands (guide section 3.2): the table, the mode, addresses,
 * MACs, DHCP switches, protocols, host name and country, and the saved
 * settings. The station's connection machine is in wifi_sta.c, the softAP in
 * wifi_ap.c, SmartConfig and WPS in wifi_prov.c. */
#include "cmd/wifi.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/family.h"
#include "cmd/params.h"
#include "cmd/wifi_internal.h"

static struct espat_engine *E(struct espat_module *m)
{
	return &m->eng;
}

/* ---- small helpers -------------------------------------------------------------- */


void espat_wifi_report(struct espat_module *m, const char *fmt, ...)
{
	va_list ap;
	char line[160];
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof(line) - 2 ? (size_t)n : sizeof(line) - 3;
	line[len++] = '\r';
	line[len++] = '\n';
	espat_wr_report(&m->wr, (const uint8_t *)line, len);
}

bool espat_wifi_sta_enabled(const struct espat_module *m)
{
	return m->wifi->init && (m->wifi->mode & 1u);
}

bool espat_wifi_ap_enabled(const struct espat_module *m)
{
	return m->wifi->init && (m->wifi->mode & 2u);
}

/* ---- saved settings ------------------------------------------------------------- */

static void save_quoted(char *out, size_t cap, const uint8_t *p, size_t n)
{
	if (!espat_args_quote(out, cap, (const char *)p, n))
		out[0] = '\0';
}

void espat_wifi_save_cfg(struct espat_module *m)
{
	const struct espat_sta_cfg *c = &m->wifi->cfg;
	char ssid[2 * ESPAT_SSID_MAX + 3], pwd[2 * ESPAT_PWD_MAX + 3], mac[18];
	save_quoted(ssid, sizeof(ssid), c->ssid, c->ssid_len);
	save_quoted(pwd, sizeof(pwd), c->pwd, c->pwd_len);
	if (c->eap) {
		char id[2 * ESPAT_EAP_STR_MAX + 3], user[2 * ESPAT_EAP_STR_MAX + 3],
			pass[2 * ESPAT_EAP_STR_MAX + 3];
		const struct espat_eap_cred *e = &c->eap_cred;
		save_quoted(id, sizeof(id), (const uint8_t *)e->identity, strlen(e->identity));
		save_quoted(user, sizeof(user), (const uint8_t *)e->username, strlen(e->username));
		save_quoted(pass, sizeof(pass), (const uint8_t *)e->password, strlen(e->password));
		espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, "cwjap",
				     "%s,%u,%s,%s,%s,%u,\"eap\"", ssid, e->method, id, user, pass,
				     e->security);
		return;
	}
	if (c->has_bssid)
		espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, "cwjap",
				     "%s,%s,\"%s\",%u,%u,%u,%u", ssid, pwd, espat_mac_str(c->bssid, mac),
				     c->pci_en, c->listen_interval, c->scan_mode, c->pmf);
	else
		espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, "cwjap", "%s,%s,,%u,%u,%u,%u",
				     ssid, pwd, c->pci_en, c->listen_interval, c->scan_mode, c->pmf);
}

void espat_wifi_save_reconn(struct espat_module *m)
{
	espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, "reconncfg", "%u,%u",
			     m->wifi->reconn_interval, m->wifi->reconn_count);
}

void espat_wifi_save_dhcp(struct espat_module *m)
{
	espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, "cwdhcp", "%u",
			     (m->wifi->dhcp_sta ? 1u : 0u) | (m->wifi->dhcp_ap ? 2u : 0u));
}

void espat_wifi_save_sap(struct espat_module *m)
{
	const struct espat_wifi *w = m->wifi;
	char ssid[2 * ESPAT_SSID_MAX + 3], pwd[2 * ESPAT_PWD_MAX + 3];
	save_quoted(ssid, sizeof(ssid), w->sap.ssid, w->sap.ssid_len);
	save_quoted(pwd, sizeof(pwd), w->sap.pwd, w->sap.pwd_len);
	espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, "cwsap", "%s,%s,%u,%u,%u,%u", ssid,
			     pwd, w->sap.channel, w->sap.ecn, w->sap.max_conn, w->sap.hidden);
}

static void save_ip(struct espat_module *m, const char *key, const struct espat_ip4 *ip)
{
	char a[16], b[16], c[16];
	espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, key, "\"%s\",\"%s\",\"%s\"",
			     espat_ip4_str(ip->ip, a), espat_ip4_str(ip->gw, b),
			     espat_ip4_str(ip->mask, c));
}

static bool load_int(struct espat_module *m, const char *key, int64_t lo, int64_t hi, int64_t *v)
{
	struct espat_args a;
	if (!espat_settings_load(&m->settings, key, &a) || a.n != 1 || a.v[0].kind != ESPAT_ARG_INT ||
	    a.v[0].i < lo || a.v[0].i > hi)
		return false;
	*v = a.v[0].i;
	return true;
}

static bool load_ip(struct espat_module *m, const char *key, struct espat_ip4 *ip)
{
	struct espat_args a;
	struct espat_ip4 v;
	if (!espat_settings_load(&m->settings, key, &a) || a.n != 3 ||
	    !espat_ip4_parse(&a.v[0], &v.ip) || !espat_ip4_parse(&a.v[1], &v.gw) ||
	    !espat_ip4_parse(&a.v[2], &v.mask))
		return false;
	*ip = v;
	return true;
}

static bool load_mac(struct espat_module *m, const char *key, uint8_t mac[6])
{
	struct espat_args a;
	return espat_settings_load(&m->settings, key, &a) && a.n == 1 &&
	       a.v[0].kind == ESPAT_ARG_STR && espat_mac_parse(a.v[0].s, a.v[0].len, mac);
}

static bool copy_str(const struct espat_arg *a, uint8_t *dst, size_t cap, size_t *len)
{
	if (a->kind != ESPAT_ARG_STR || a->len > cap)
		return false;
	memcpy(dst, a->s, a->len);
	*len = a->len;
	return true;
}

static void load_cfg(struct espat_module *m)
{
	struct espat_args a;
	struct espat_sta_cfg c = {0};
	if (!espat_settings_load(&m->settings, "cwjap", &a) || a.n < 6)
		return;
	if (!copy_str(&a.v[0], c.ssid, sizeof(c.ssid), &c.ssid_len))
		return;
	if (a.n == 7 && a.v[6].kind == ESPAT_ARG_STR && strcmp(a.v[6].s, "eap") == 0) {
		struct espat_eap_cred *e = &c.eap_cred;
		if (a.v[1].kind != ESPAT_ARG_INT || a.v[5].kind != ESPAT_ARG_INT)
			return;
		for (int i = 2; i <= 4; i++)
			if (a.v[i].kind != ESPAT_ARG_STR || a.v[i].len > ESPAT_EAP_STR_MAX)
				return;
		e->method = (uint8_t)a.v[1].i;
		memcpy(e->identity, a.v[2].s, a.v[2].len + 1);
		memcpy(e->username, a.v[3].s, a.v[3].len + 1);
		memcpy(e->password, a.v[4].s, a.v[4].len + 1);
		e->security = (uint8_t)a.v[5].i;
		c.eap = true;
		c.listen_interval = 3;
		c.pmf = 1;
	} else {
		if (a.n != 7 || !copy_str(&a.v[1], c.pwd, sizeof(c.pwd), &c.pwd_len))
			return;
		if (a.v[2].kind == ESPAT_ARG_STR) {
			if (!espat_mac_parse(a.v[2].s, a.v[2].len, c.bssid))
				return;
			c.has_bssid = true;
		}
		for (int i = 3; i < 7; i++)
			if (a.v[i].kind != ESPAT_ARG_INT || a.v[i].i < 0 || a.v[i].i > 100)
				return;
		c.pci_en = (uint8_t)a.v[3].i;
		c.listen_interval = (uint16_t)a.v[4].i;
		c.scan_mode = (uint8_t)a.v[5].i;
		c.pmf = (uint8_t)a.v[6].i;
	}
	c.valid = true;
	m->wifi->cfg = c;
}

static void load_sap(struct espat_module *m)
{
	struct espat_args a;
	struct espat_wifi *w = m->wifi;
	if (!espat_settings_load(&m->settings, "cwsap", &a) || a.n != 6)
		return;
	for (int i = 2; i < 6; i++)
		if (a.v[i].kind != ESPAT_ARG_INT || a.v[i].i < 0 || a.v[i].i > 14)
			return;
	if (!copy_str(&a.v[0], w->sap.ssid, sizeof(w->sap.ssid), &w->sap.ssid_len) ||
	    !copy_str(&a.v[1], w->sap.pwd, sizeof(w->sap.pwd), &w->sap.pwd_len))
		return;
	w->sap.channel = (uint8_t)a.v[2].i;
	w->sap.ecn = (uint8_t)a.v[3].i;
	w->sap.max_conn = (uint8_t)a.v[4].i;
	w->sap.hidden = (uint8_t)a.v[5].i;
}

/* The chip's factory MACs: the station has the eFuse MAC, the softAP the
 * same + 1 (ESP-IDF's derivation). */
static void factory_macs(struct espat_module *m, uint8_t sta[6], uint8_t ap[6])
{
	static const uint8_t fallback[6] = {0x34, 0x85, 0x18, 0x00, 0x00, 0x02};
	if (m->ports.sys.base_mac)
		m->ports.sys.base_mac(m->ports.sys.user, sta);
	else
		memcpy(sta, fallback, 6);
	memcpy(ap, sta, 6);
	ap[5] = (uint8_t)(ap[5] + 1);
}

/* ---- lifecycle ------------------------------------------------------------------ */

void espat_wifi_init(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	memset(w, 0, sizeof(*w));
	w->mode = 1;
	w->init = true;
	w->sta_proto = w->ap_proto = 7;
	w->autoconn = true;
	w->dhcp_sta = w->dhcp_ap = true;
	w->country.policy = 0;
	memcpy(w->country.code, "CN", 3);
	w->country.start = 1;
	w->country.count = 13;
	w->lapopt.sort = 1;
	w->lapopt.mask = 0x7FF;
	w->lapopt.rssi_min = -100;
	w->lapopt.auth_mask = 0xFFFF;
	w->cfg.listen_interval = 3;
	w->cfg.pmf = 1;
	w->ap_ip.ip = ESPAT_AP_IP;
	w->ap_ip.gw = ESPAT_AP_IP;
	w->ap_ip.mask = ESPAT_AP_MASK;
}

/* The settings in flash over the factory state of m->wifi: what a boot
 * loads, without starting anything. */
void espat_wifi_load(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	int64_t v;
	factory_macs(m, w->sta_mac, w->ap_mac);
	load_mac(m, "cipstamac", w->sta_mac);
	load_mac(m, "cipapmac", w->ap_mac);
	/* The host name ESP-IDF gives a station: "espressif". */
	memcpy(w->hostname, "espressif", sizeof("espressif"));
	espat_sap_defaults(m);
	if (load_int(m, "cwmode", 0, 3, &v))
		w->mode = (uint8_t)v;
	if (load_int(m, "cwautoconn", 0, 1, &v))
		w->autoconn = v == 1;
	if (load_int(m, "cwdhcp", 0, 3, &v)) {
		w->dhcp_sta = (v & 1) != 0;
		w->dhcp_ap = (v & 2) != 0;
	}
	if (load_int(m, "stapro", 1, 15, &v))
		w->sta_proto = (uint8_t)v;
	if (load_int(m, "approto", 1, 15, &v))
		w->ap_proto = (uint8_t)v;
	load_ip(m, "cipsta", &w->sta_static);
	load_ip(m, "cipap", &w->ap_ip);
	struct espat_args a;
	if (espat_settings_load(&m->settings, "reconncfg", &a) && a.n == 2 &&
	    a.v[0].kind == ESPAT_ARG_INT && a.v[1].kind == ESPAT_ARG_INT && a.v[0].i >= 0 &&
	    a.v[0].i <= 7200 && a.v[1].i >= 0 && a.v[1].i <= 1000) {
		w->reconn_interval = (uint16_t)a.v[0].i;
		w->reconn_count = (uint16_t)a.v[1].i;
	}
	if (espat_settings_load(&m->settings, "cwdhcps", &a) && a.n == 3 &&
	    a.v[0].kind == ESPAT_ARG_INT && espat_ip4_parse(&a.v[1], &w->dhcps.start) &&
	    espat_ip4_parse(&a.v[2], &w->dhcps.end)) {
		w->dhcps.custom = true;
		w->dhcps.lease_min = (uint32_t)a.v[0].i;
	}
	load_sap(m);
	load_cfg(m);
}

void espat_wifi_boot(struct espat_module *m)
{
	espat_wifi_load(m);
	espat_sta_boot(m);
}

void espat_wifi_free(struct espat_module *m)
{
	espat_sta_free(m);
	espat_sap_free(m);
	espat_prov_free(m);
}

const struct espat_family espat_wifi_family = {
	.name = "wifi",
	.table = &espat_wifi_table,
	.state_size = sizeof(struct espat_wifi),
	.state_slot = offsetof(struct espat_module, wifi),
	.init = espat_wifi_init,
	.boot = espat_wifi_boot,
	.free = espat_wifi_free,
};

/* ---- for other families --------------------------------------------------------- */

bool espat_wifi_online(const struct espat_module *m)
{
	const struct espat_wifi *w = m->wifi;
	/* the phase, not only the state: the station reports a loss
	 * (ESPAT_EV_NET_CHANGED) with its phase already out of UP but its
	 * state still GOT_IP */
	if (espat_wifi_sta_enabled(m) && w->state == ESPAT_STA_GOT_IP &&
	    w->phase == ESPAT_PH_UP && (w->net.to_host || w->net.air))
		return true;
	return espat_wifi_ap_enabled(m);
}

bool espat_wifi_softap(const struct espat_module *m, struct espat_wifi_softap *out)
{
	const struct espat_wifi *w = m->wifi;
	if (!espat_wifi_ap_enabled(m))
		return false;
	memset(out, 0, sizeof(*out));
	memcpy(out->ssid, w->sap.ssid, w->sap.ssid_len);
	out->ssid_len = w->sap.ssid_len;
	memcpy(out->bssid, w->ap_mac, 6);
	out->channel = w->sap.channel;
	out->ecn = w->sap.ecn;
	out->max_conn = w->sap.max_conn;
	out->hidden = w->sap.hidden;
	out->proto = w->ap_proto;
	out->ip = w->ap_ip.ip;
	out->mask = w->ap_ip.mask;
	return true;
}

enum espat_sta_state espat_wifi_sta_state(const struct espat_module *m)
{
	return m->wifi->state;
}

struct espat_ip4 espat_wifi_sta_ip(const struct espat_module *m)
{
	return m->wifi->sta_ip;
}

struct espat_ip4 espat_wifi_ap_ip(const struct espat_module *m)
{
	return m->wifi->ap_ip;
}

const uint8_t *espat_wifi_sta_mac(const struct espat_module *m)
{
	return m->wifi->sta_mac;
}

const uint8_t *espat_wifi_ap_mac(const struct espat_module *m)
{
	return m->wifi->ap_mac;
}

size_t espat_wifi_dhcp_dns(const struct espat_module *m, uint32_t dns[2])
{
	const struct espat_wifi *w = m->wifi;
	size_t n = 0;
	if (w->state != ESPAT_STA_GOT_IP)
		return 0;
	for (size_t i = 0; i < 2; i++)
		if (w->net.dns[i])
			dns[n++] = w->net.dns[i];
	return n;
}

/* ---- events from the world ------------------------------------------------------ */

void espat_wifi_world_changed(struct espat_module *m)
{
	espat_sta_world_changed(m);
	espat_prov_world_changed(m);
}

int espat_wifi_deauth(struct espat_module *m)
{
	if (!espat_sta_associated(m))
		return -1;
	espat_sta_lost(m);
	return 0;
}

/* ---- AT+CWINIT, AT+CWMODE, AT+CWAUTOCONN ---------------------------------------- */

static enum espat_rc cwinit_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CWINIT:%d", m->wifi->init ? 1 : 0);
	return ESPAT_RC_OK;
}

static enum espat_rc cwinit_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *w = m->wifi;
	bool on = a->v[0].i == 1;
	if (on == w->init)
		return ESPAT_RC_OK;
	if (!on) {
		/* The driver goes away: associations and softAP stations with it. */
		espat_sta_stop(m);
		espat_sap_stop(m);
		espat_prov_free(m);
	}
	w->init = on;
	return ESPAT_RC_OK;
}

static enum espat_rc cwmode_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CWMODE:%u", m->wifi->mode);
	return ESPAT_RC_OK;
}

/* The mode becomes mode (saved under AT+SYSSTORE) and the interfaces
 * follow; autoc: a station coming on joins its saved AP. */
static void mode_apply(struct espat_module *m, uint8_t mode, bool autoc)
{
	struct espat_wifi *w = m->wifi;
	bool sta_before = (w->mode & 1u) != 0, ap_before = (w->mode & 2u) != 0;
	bool sta_after = (mode & 1u) != 0, ap_after = (mode & 2u) != 0;
	w->mode = mode;
	espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, "cwmode", "%u", mode);
	if (sta_before && !sta_after) {
		espat_sta_stop(m);
		espat_prov_free(m);
	}
	if (ap_before && !ap_after)
		espat_sap_stop(m);
	/* Switching the station on joins the saved AP when <auto_connect> is 1. */
	if (!sta_before && sta_after && autoc && w->cfg.valid)
		espat_sta_connect(m);
}

enum espat_rc espat_wifi_cwmode_set(struct espat_module *m, const struct espat_args *a)
{
	bool autoc = a->n < 2 || a->v[1].kind == ESPAT_ARG_OMITTED || a->v[1].i == 1;
	if (!m->wifi->init)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	/* OK first: the interface events follow the command's return. */
	espat_wr_ok(&m->wr);
	mode_apply(m, (uint8_t)a->v[0].i, autoc);
	return ESPAT_RC_DONE;
}

int espat_wifi_set_mode(struct espat_module *m, uint8_t mode)
{
	if (!m->wifi->init || mode > 3)
		return -1;
	if (mode != m->wifi->mode)
		mode_apply(m, mode, true);
	return 0;
}

static enum espat_rc cwautoconn_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CWAUTOCONN:%d", m->wifi->autoconn ? 1 : 0);
	return ESPAT_RC_OK;
}

enum espat_rc espat_wifi_cwautoconn_set(struct espat_module *m, const struct espat_args *a)
{
	m->wifi->autoconn = a->v[0].i == 1;
	espat_settings_savef(&m->settings, ESPAT_SAVE_ALWAYS, "cwautoconn", "%d",
			     m->wifi->autoconn ? 1 : 0);
	return ESPAT_RC_OK;
}

/* ---- AT+CWDHCP, AT+CWAPPROTO, AT+CWSTAPROTO ------------------------------------- */

static enum espat_rc cwdhcp_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CWDHCP:%u",
		       (m->wifi->dhcp_sta ? 1u : 0u) | (m->wifi->dhcp_ap ? 2u : 0u));
	return ESPAT_RC_OK;
}

enum espat_rc espat_wifi_cwdhcp_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *w = m->wifi;
	bool on = a->v[0].i == 1;
	unsigned bits = (unsigned)a->v[1].i;
	if (!w->init)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	if (bits & 1u) {
		if (!on && w->dhcp_sta && w->sta_ip.ip != 0)
			w->sta_static = w->sta_ip; /* the leased address stays, now static */
		w->dhcp_sta = on;
	}
	if (bits & 2u)
		w->dhcp_ap = on;
	espat_wifi_save_dhcp(m);
	return ESPAT_RC_OK;
}

static enum espat_rc proto_query(struct espat_module *m, const char *name, uint8_t v)
{
	espat_wr_linef(&m->wr, "+%s:%u", name, v);
	return ESPAT_RC_OK;
}

static enum espat_rc cwstaproto_query(struct espat_module *m, const struct espat_args *a)
{
	return proto_query(m, "CWSTAPROTO", m->wifi->sta_proto);
}

static enum espat_rc cwapproto_query(struct espat_module *m, const struct espat_args *a)
{
	return proto_query(m, "CWAPPROTO", m->wifi->ap_proto);
}

/* ESP-IDF accepts 11b, 11b/g, 11b/g/n, with or without LR, or LR alone. */
static bool proto_ok(int64_t p)
{
	return p == 1 || p == 3 || p == 7 || p == 8 || p == 9 || p == 11 || p == 15;
}

static enum espat_rc cwstaproto_set(struct espat_module *m, const struct espat_args *a)
{
	if (!proto_ok(a->v[0].i))
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	if (!espat_wifi_sta_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	m->wifi->sta_proto = (uint8_t)a->v[0].i;
	espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, "stapro", "%u", m->wifi->sta_proto);
	return ESPAT_RC_OK;
}

static enum espat_rc cwapproto_set(struct espat_module *m, const struct espat_args *a)
{
	if (!proto_ok(a->v[0].i))
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	if (!espat_wifi_ap_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	m->wifi->ap_proto = (uint8_t)a->v[0].i;
	espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, "approto", "%u", m->wifi->ap_proto);
	return ESPAT_RC_OK;
}

/* ---- AT+CIPSTAMAC, AT+CIPAPMAC -------------------------------------------------- */

enum espat_rc espat_wifi_mac_query(struct espat_module *m, const char *name, const uint8_t mac[6])
{
	char s[18];
	espat_wr_linef(&m->wr, "+%s:\"%s\"", name, espat_mac_str(mac, s));
	return ESPAT_RC_OK;
}

enum espat_rc espat_wifi_cipstamac_query(struct espat_module *m, const struct espat_args *a)
{
	return espat_wifi_mac_query(m, "CIPSTAMAC", m->wifi->sta_mac);
}

enum espat_rc espat_wifi_cipapmac_query(struct espat_module *m, const struct espat_args *a)
{
	return espat_wifi_mac_query(m, "CIPAPMAC", m->wifi->ap_mac);
}

/* A unicast address, not all zeros or all ones, and not the other
 * interface's (guide 3.2.18 notes). */
static enum espat_rc mac_set(struct espat_module *m, const struct espat_args *a, bool sta)
{
	static const uint8_t zero[6] = {0}, ones[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	struct espat_wifi *w = m->wifi;
	uint8_t mac[6];
	if (!espat_mac_parse(a->v[0].s, a->v[0].len, mac) || (mac[0] & 1u) ||
	    memcmp(mac, zero, 6) == 0 || memcmp(mac, ones, 6) == 0 ||
	    memcmp(mac, sta ? w->ap_mac : w->sta_mac, 6) == 0)
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	if (sta ? !espat_wifi_sta_enabled(m) : !espat_wifi_ap_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	memcpy(sta ? w->sta_mac : w->ap_mac, mac, 6);
	char s[18];
	espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, sta ? "cipstamac" : "cipapmac",
			     "\"%s\"", espat_mac_str(mac, s));
	return ESPAT_RC_OK;
}

enum espat_rc espat_wifi_cipstamac_set(struct espat_module *m, const struct espat_args *a)
{
	return mac_set(m, a, true);
}

enum espat_rc espat_wifi_cipapmac_set(struct espat_module *m, const struct espat_args *a)
{
	return mac_set(m, a, false);
}

/* ---- AT+CIPSTA, AT+CIPAP ---------------------------------------------------------- */

static void ip_lines(struct espat_module *m, const char *name, const struct espat_ip4 *ip)
{
	char s[16];
	espat_wr_linef(&m->wr, "+%s:ip:\"%s\"", name, espat_ip4_str(ip->ip, s));
	espat_wr_linef(&m->wr, "+%s:gateway:\"%s\"", name, espat_ip4_str(ip->gw, s));
	espat_wr_linef(&m->wr, "+%s:netmask:\"%s\"", name, espat_ip4_str(ip->mask, s));
}

static enum espat_rc cipsta_query(struct espat_module *m, const struct espat_args *a)
{
	/* Before an address exists the stack reports zeros. */
	ip_lines(m, "CIPSTA", &m->wifi->sta_ip);
	return ESPAT_RC_OK;
}

static enum espat_rc cipap_query(struct espat_module *m, const struct espat_args *a)
{
	ip_lines(m, "CIPAP", &m->wifi->ap_ip);
	return ESPAT_RC_OK;
}

/* <"ip">[,<"gateway">,<"netmask">]: the gateway and netmask come together;
 * without them the network is the address's /24 with gateway .1. */
static bool parse_ip_args(struct espat_module *m, const struct espat_args *a, struct espat_ip4 *out)
{
	struct espat_ip4 v;
	if (a->n == 2) {
		espat_fail(E(m), ESPAT_ERR_NUM(3, a->n));
		return false;
	}
	if (!espat_ip4_parse(&a->v[0], &v.ip) || v.ip == 0) {
		espat_fail(E(m), ESPAT_ERR_INVALID(0));
		return false;
	}
	if (a->n == 3) {
		if (!espat_ip4_parse(&a->v[1], &v.gw)) {
			espat_fail(E(m), ESPAT_ERR_INVALID(1));
			return false;
		}
		/* a netmask is a run of ones */
		if (!espat_ip4_parse(&a->v[2], &v.mask) || v.mask == 0 ||
		    ((~v.mask + 1) & ~v.mask) != 0) {
			espat_fail(E(m), ESPAT_ERR_INVALID(2));
			return false;
		}
	} else {
		v.mask = 0xFFFFFF00u;
		v.gw = (v.ip & v.mask) | 1u;
	}
	*out = v;
	return true;
}

enum espat_rc espat_wifi_cipsta_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *w = m->wifi;
	struct espat_ip4 v;
	if (!parse_ip_args(m, a, &v))
		return ESPAT_RC_ERROR;
	if (!espat_wifi_sta_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	w->sta_static = v;
	w->dhcp_sta = false;
	if (espat_sta_associated(m))
		w->sta_ip = v;
	save_ip(m, "cipsta", &v);
	espat_wifi_save_dhcp(m);
	return ESPAT_RC_OK;
}

enum espat_rc espat_wifi_cipap_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *w = m->wifi;
	struct espat_ip4 v;
	if (!parse_ip_args(m, a, &v))
		return ESPAT_RC_ERROR;
	if (!espat_wifi_ap_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	w->ap_ip = v;
	w->dhcp_ap = false;
	save_ip(m, "cipap", &v);
	espat_wifi_save_dhcp(m);
	return ESPAT_RC_OK;
}

/* ---- AT+CWHOSTNAME, AT+CWCOUNTRY -------------------------------------------------- */

static enum espat_rc cwhostname_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CWHOSTNAME:%s", m->wifi->hostname);
	return ESPAT_RC_OK;
}

static enum espat_rc cwhostname_set(struct espat_module *m, const struct espat_args *a)
{
	const struct espat_arg *h = &a->v[0];
	if (h->len == 0 || memchr(h->s, '\0', h->len))
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	if (!espat_wifi_sta_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	memcpy(m->wifi->hostname, h->s, h->len);
	m->wifi->hostname[h->len] = '\0';
	return ESPAT_RC_OK;
}

static enum espat_rc cwcountry_query(struct espat_module *m, const struct espat_args *a)
{
	const struct espat_wifi *w = m->wifi;
	espat_wr_linef(&m->wr, "+CWCOUNTRY:%u,\"%s\",%u,%u", w->country.policy, w->country.code,
		       w->country.start, w->country.count);
	return ESPAT_RC_OK;
}

static enum espat_rc cwcountry_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *w = m->wifi;
	const struct espat_arg *code = &a->v[1];
	for (size_t i = 0; i < code->len; i++)
		if (!((code->s[i] >= 'A' && code->s[i] <= 'Z') || (code->s[i] >= '0' && code->s[i] <= '9')))
			return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	if (code->len < 2)
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	if (a->v[2].i + a->v[3].i - 1 > 14)
		return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	if (!w->init)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	w->country.policy = (uint8_t)a->v[0].i;
	memcpy(w->country.code, code->s, code->len);
	w->country.code[code->len] = '\0';
	w->country.start = (uint8_t)a->v[2].i;
	w->country.count = (uint8_t)a->v[3].i;
	return ESPAT_RC_OK;
}

/* ---- the table -------------------------------------------------------------------- */

static const struct espat_param p_bool[] = {P_INT("enable", 0, 1)};
static const struct espat_param p_cwmode[] = {P_INT("mode", 0, 3), P_INT_OPT("auto_connect", 0, 1)};
static const struct espat_param p_cwjap[] = {
	P_STR_OPT("ssid", ESPAT_SSID_MAX),   P_STR_OPT("pwd", ESPAT_PWD_MAX),
	P_STR_OPT("bssid", 17),              P_INT_OPT("pci_en", 0, 1),
	P_INT_OPT("reconn_interval", 0, 7200), P_INT_OPT("listen_interval", 1, 100),
	P_INT_OPT("scan_mode", 0, 1),        P_INT_OPT("jap_timeout", 3, 600),
	P_INT_OPT("pmf", 0, 3),
};
static const struct espat_param p_reconn[] = {P_INT("interval_second", 0, 7200),
					      P_INT("repeat_count", 0, 1000)};
static const struct espat_param p_lapopt[] = {
	P_INT("reserved", 0, 1), P_INT("print mask", 0, 0x7FF), P_INT_OPT("rssi filter", -100, 40),
	P_INT_OPT("authmode mask", 0, 0xFFFF),
};
static const struct espat_param p_cwlap[] = {
	P_STR_OPT("ssid", ESPAT_SSID_MAX), P_STR_OPT("mac", 17),
	P_INT_OPT("channel", 1, 14),       P_INT_OPT("scan_type", 0, 1),
	P_INT_OPT("scan_time_min", 0, 1500), P_INT_OPT("scan_time_max", 0, 1500),
};
static const struct espat_param p_cwsap[] = {
	P_STR("ssid", ESPAT_SSID_MAX), P_STR("pwd", 63), P_INT("channel", 1, 13),
	P_INT("ecn", 0, 4), P_INT_OPT("max conn", 1, ESPAT_AP_STA_MAX), P_INT_OPT("ssid hidden", 0, 1),
};
static const struct espat_param p_cwqif[] = {P_STR("mac", 17)};
static const struct espat_param p_cwdhcp[] = {P_INT("operate", 0, 1), P_INT("mode", 1, 3)};
static const struct espat_param p_cwdhcps[] = {
	P_INT("enable", 0, 1), P_INT_OPT("lease time", 1, 2880), P_STR_OPT("start IP", 15),
	P_STR_OPT("end IP", 15),
};
static const struct espat_param p_proto[] = {P_INT("protocol", 0, 15)};
static const struct espat_param p_mac[] = {P_STR("mac", 17)};
static const struct espat_param p_ip[] = {P_STR("ip", 15), P_STR_OPT("gateway", 15),
					  P_STR_OPT("netmask", 15)};
static const struct espat_param p_smart[] = {P_INT("type", 1, 4), P_INT_OPT("auth floor", 0, 7),
					     P_STR_OPT("esptouch v2 key", 16)};
static const struct espat_param p_wps[] = {P_INT("enable", 0, 1), P_INT_OPT("auth floor", 0, 7)};
static const struct espat_param p_cwjeap[] = {
	P_STR("ssid", ESPAT_SSID_MAX),
	P_INT("method", 0, 2),
	P_STR("identity", ESPAT_EAP_STR_MAX),
	P_STR_OPT("username", ESPAT_EAP_STR_MAX),
	P_STR_OPT("password", ESPAT_EAP_STR_MAX),
	P_INT("security", 0, 3),
	P_INT_OPT("jeap_timeout", 3, 600),
};
static const struct espat_param p_hostname[] = {P_STR("hostname", 32)};
static const struct espat_param p_country[] = {P_INT("country_policy", 0, 1),
					       P_STR("country_code", 3), P_INT("start_channel", 1, 14),
					       P_INT("total_channel_count", 1, 14)};

static const struct espat_cmd wifi_rows[] = {
	{.name = "+CWINIT", .query = cwinit_query, .set = cwinit_set, .params = p_bool,
	 .nparams = N(p_bool), .help = "Initialize or deinitialize Wi-Fi driver"},
	{.name = "+CWMODE", .query = cwmode_query, .set = espat_wifi_cwmode_set, .params = p_cwmode,
	 .nparams = N(p_cwmode), .help = "Set the Wi-Fi mode (Station/SoftAP/Station+SoftAP)"},
	{.name = "+CWSTATE", .query = espat_cwstate_query, .help = "Query the Wi-Fi state and Wi-Fi information"},
	{.name = "+CWJAP", .query = espat_cwjap_query, .set = espat_cwjap_set, .exec = espat_cwjap_exec,
	 .params = p_cwjap, .nparams = N(p_cwjap), .help = "Connect to an AP"},
	{.name = "+CWRECONNCFG", .query = espat_cwreconncfg_query, .set = espat_cwreconncfg_set,
	 .params = p_reconn, .nparams = N(p_reconn), .help = "Query/Set the Wi-Fi reconnecting configuration"},
	{.name = "+CWLAPOPT", .set = espat_cwlapopt_set, .params = p_lapopt, .nparams = N(p_lapopt),
	 .help = "Set the configuration for the command AT+CWLAP"},
	{.name = "+CWLAP", .set = espat_cwlap_set, .exec = espat_cwlap_exec, .params = p_cwlap,
	 .nparams = N(p_cwlap), .help = "List available APs"},
	{.name = "+CWQAP", .exec = espat_cwqap_exec, .help = "Disconnect from an AP"},
	{.name = "+CWSAP", .query = espat_cwsap_query, .set = espat_cwsap_set, .params = p_cwsap,
	 .nparams = N(p_cwsap), .help = "Query/Set the configuration of an ESP32-C3 SoftAP"},
	{.name = "+CWLIF", .exec = espat_cwlif_exec, .help = "Obtain IP address of the station that connects to an ESP32-C3 SoftAP"},
	{.name = "+CWQIF", .set = espat_cwqif_set, .exec = espat_cwqif_exec, .params = p_cwqif,
	 .nparams = N(p_cwqif), .help = "Disconnect stations from an ESP32-C3 SoftAP"},
	{.name = "+CWDHCP", .query = cwdhcp_query, .set = espat_wifi_cwdhcp_set, .params = p_cwdhcp,
	 .nparams = N(p_cwdhcp), .help = "Enable/disable DHCP"},
	{.name = "+CWDHCPS", .query = espat_cwdhcps_query, .set = espat_cwdhcps_set,
	 .params = p_cwdhcps, .nparams = N(p_cwdhcps),
	 .help = "Query/Set the IPv4 addresses allocated by an ESP32-C3 SoftAP DHCP server"},
	{.name = "+CWAUTOCONN", .query = cwautoconn_query, .set = espat_wifi_cwautoconn_set, .params = p_bool,
	 .nparams = N(p_bool), .help = "Connect to an AP automatically when powered on"},
	{.name = "+CWAPPROTO", .query = cwapproto_query, .set = cwapproto_set, .params = p_proto,
	 .nparams = N(p_proto), .help = "Query/Set the 802.11 b/g/n protocol standard of SoftAP mode"},
	{.name = "+CWSTAPROTO", .query = cwstaproto_query, .set = cwstaproto_set, .params = p_proto,
	 .nparams = N(p_proto), .help = "Query/Set the 802.11 b/g/n protocol standard of station mode"},
	{.name = "+CIPSTAMAC", .query = espat_wifi_cipstamac_query, .set = espat_wifi_cipstamac_set, .params = p_mac,
	 .nparams = N(p_mac), .help = "Query/Set the MAC address of an ESP32-C3 station"},
	{.name = "+CIPAPMAC", .query = espat_wifi_cipapmac_query, .set = espat_wifi_cipapmac_set, .params = p_mac,
	 .nparams = N(p_mac), .help = "Query/Set the MAC address of an ESP32-C3 SoftAP"},
	{.name = "+CIPSTA", .query = cipsta_query, .set = espat_wifi_cipsta_set, .params = p_ip,
	 .nparams = N(p_ip), .help = "Query/Set the IP address of an ESP32-C3 station"},
	{.name = "+CIPAP", .query = cipap_query, .set = espat_wifi_cipap_set, .params = p_ip, .nparams = N(p_ip),
	 .help = "Query/Set the IP address of an ESP32-C3 SoftAP"},
	{.name = "+CWSTARTSMART", .set = espat_cwstartsmart_set, .exec = espat_cwstartsmart_exec,
	 .params = p_smart, .nparams = N(p_smart), .help = "Start SmartConfig"},
	{.name = "+CWSTOPSMART", .exec = espat_cwstopsmart_exec, .help = "Stop SmartConfig"},
	{.name = "+WPS", .set = espat_wps_set, .params = p_wps, .nparams = N(p_wps),
	 .help = "Enable the WPS function"},
	{.name = "+CWJEAP", .query = espat_cwjeap_query, .set = espat_cwjeap_set, .params = p_cwjeap,
	 .nparams = N(p_cwjeap), .help = "Connect to a WPA2 Enterprise AP"},
	{.name = "+CWHOSTNAME", .query = cwhostname_query, .set = cwhostname_set,
	 .params = p_hostname, .nparams = N(p_hostname),
	 .help = "Query/Set the host name of an ESP32-C3 station"},
	{.name = "+CWCOUNTRY", .query = cwcountry_query, .set = cwcountry_set, .params = p_country,
	 .nparams = N(p_country), .help = "Query/Set the Wi-Fi Country Code"},
};

const struct espat_cmd_table espat_wifi_table = {
	.family = "wifi",
	.rows = wifi_rows,
	.n = sizeof(wifi_rows) / sizeof(wifi_rows[0]),
};
