/* Wi-Fi commands of the ESP8266 v1.5 instruction set (its section 4): the
 * same family as wifi.c, sharing its state, lifecycle, station machine,
 * softAP and provisioning, with v1.5's rows: the _CUR / _DEF variants and
 * the deprecated un-suffixed forms, AT+CWMODE without mode 0, the 4-field
 * +CWJAP?, +CWLIF without prefix, AT+CWDHCP's old argument order and bits,
 * +CIPSTA:<IP> only, AT+CWSTARTDISCOVER.
 *
 * Persistence: _CUR never reaches flash, _DEF and the deprecated forms
 * always do (v1.5 has no AT+SYSSTORE). The shared handlers save under the
 * SYSSTORE class, so a v1.5 row runs them with the store switch set as its
 * suffix says (with_store). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/family.h"
#include "cmd/params.h"
#include "cmd/wifi.h"
#include "cmd/wifi_internal.h"

static struct espat_engine *E(struct espat_module *m)
{
	return &m->eng;
}

/* Runs a shared set handler with AT+SYSSTORE's switch as the suffix wants:
 * save for _DEF and the deprecated forms, not for _CUR. */
static enum espat_rc with_store(struct espat_module *m, const struct espat_args *a,
                                espat_handler_fn *h, bool save)
{
	bool was = m->settings.sysstore;
	m->settings.sysstore = save;
	enum espat_rc rc = h(m, a);
	m->settings.sysstore = was;
	return rc;
}

/* "<prefix>"<bytes>"<rest>\r\n": SSIDs and passwords may hold any byte. */
static void quoted_line(struct espat_module *m, const char *prefix, const uint8_t *s, size_t n,
                        const char *rest)
{
	uint8_t line[256];
	size_t o = strlen(prefix), rl = strlen(rest);
	memcpy(line, prefix, o);
	line[o++] = '"';
	memcpy(line + o, s, n);
	o += n;
	line[o++] = '"';
	memcpy(line + o, rest, rl);
	o += rl;
	line[o++] = '\r';
	line[o++] = '\n';
	espat_wr_msg(&m->wr, line, o);
}

/* The configuration in flash, as the next boot will have it: a scratch
 * Wi-Fi state in factory condition with the saved settings loaded (no
 * timer armed, nothing started). The _DEF queries print it. Free with
 * free(). NULL when out of memory. */
static struct espat_wifi *flash_view(struct espat_module *m)
{
	struct espat_wifi *live = m->wifi, *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	m->wifi = v;
	espat_wifi_init(m);
	espat_wifi_load(m);
	if (v->sap.max_conn > 4)
		v->sap.max_conn = 4; /* v1.5's softAP limit */
	m->wifi = live;
	return v;
}

/* ---- AT+CWMODE[_CUR|_DEF] ------------------------------------------------------- */

static enum espat_rc mode_test(struct espat_module *m, const char *name)
{
	espat_wr_linef(&m->wr, "+%s:(1-3)", name);
	return ESPAT_RC_OK;
}

static enum espat_rc cwmode_test(struct espat_module *m, const struct espat_args *a)
{
	return mode_test(m, "CWMODE");
}

static enum espat_rc cwmode_cur_test(struct espat_module *m, const struct espat_args *a)
{
	return mode_test(m, "CWMODE_CUR");
}

static enum espat_rc cwmode_def_test(struct espat_module *m, const struct espat_args *a)
{
	return mode_test(m, "CWMODE_DEF");
}

static enum espat_rc cwmode_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CWMODE:%u", m->wifi->mode);
	return ESPAT_RC_OK;
}

static enum espat_rc cwmode_cur_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+CWMODE_CUR:%u", m->wifi->mode);
	return ESPAT_RC_OK;
}

/* The mode in flash: what the next boot starts in. */
static enum espat_rc cwmode_def_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *v = flash_view(m);
	if (!v)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	espat_wr_linef(&m->wr, "+CWMODE_DEF:%u", v->mode);
	free(v);
	return ESPAT_RC_OK;
}

static enum espat_rc cwmode_set(struct espat_module *m, const struct espat_args *a)
{
	return with_store(m, a, espat_wifi_cwmode_set, true);
}

static enum espat_rc cwmode_cur_set(struct espat_module *m, const struct espat_args *a)
{
	return with_store(m, a, espat_wifi_cwmode_set, false);
}

/* ---- AT+CWJAP[_CUR|_DEF] -------------------------------------------------------- */

/* +CWJAP:<ssid>,<bssid>,<channel>,<rssi>: v1.5's four fields. */
static enum espat_rc jap_query(struct espat_module *m, const char *prefix)
{
	const struct espat_wifi *w = m->wifi;
	if (!espat_sta_associated(m)) {
		espat_wr_linef(&m->wr, "No AP");
		return ESPAT_RC_OK;
	}
	char rest[48], mac[18];
	snprintf(rest, sizeof(rest), ",\"%s\",%u,%d", espat_mac_str(w->ap.bssid, mac),
	         w->ap.channel, w->ap.rssi);
	quoted_line(m, prefix, w->ap.ssid, w->ap.ssid_len, rest);
	return ESPAT_RC_OK;
}

static enum espat_rc cwjap_query(struct espat_module *m, const struct espat_args *a)
{
	return jap_query(m, "+CWJAP:");
}

static enum espat_rc cwjap_cur_query(struct espat_module *m, const struct espat_args *a)
{
	return jap_query(m, "+CWJAP_CUR:");
}

static enum espat_rc cwjap_def_query(struct espat_module *m, const struct espat_args *a)
{
	return jap_query(m, "+CWJAP_DEF:");
}

/* The join itself is the station machine's; a failure ends in
 * +CWJAP:<code> and the dialect's FAIL (whatever the suffix). */
static enum espat_rc cwjap_set(struct espat_module *m, const struct espat_args *a)
{
	if (a->n < 2 || a->v[0].kind == ESPAT_ARG_OMITTED || a->v[1].kind == ESPAT_ARG_OMITTED)
		return espat_fail(E(m), ESPAT_ERR_NUM(2, a->n));
	return with_store(m, a, espat_cwjap_set, true);
}

static enum espat_rc cwjap_cur_set(struct espat_module *m, const struct espat_args *a)
{
	if (a->n < 2 || a->v[0].kind == ESPAT_ARG_OMITTED || a->v[1].kind == ESPAT_ARG_OMITTED)
		return espat_fail(E(m), ESPAT_ERR_NUM(2, a->n));
	return with_store(m, a, espat_cwjap_set, false);
}

/* ---- AT+CWSAP[_CUR|_DEF] -------------------------------------------------------- */

static enum espat_rc sap_query(struct espat_module *m, const char *prefix,
                               const struct espat_wifi *w)
{
	if (!espat_wifi_ap_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	uint8_t pwd[ESPAT_PWD_MAX + 1];
	char rest[ESPAT_PWD_MAX + 48];
	memcpy(pwd, w->sap.pwd, w->sap.pwd_len);
	pwd[w->sap.pwd_len] = 0;
	snprintf(rest, sizeof(rest), ",\"%s\",%u,%u,%u,%u", (const char *)pwd, w->sap.channel,
	         w->sap.ecn, w->sap.max_conn, w->sap.hidden);
	quoted_line(m, prefix, w->sap.ssid, w->sap.ssid_len, rest);
	return ESPAT_RC_OK;
}

static enum espat_rc cwsap_query(struct espat_module *m, const struct espat_args *a)
{
	return sap_query(m, "+CWSAP:", m->wifi);
}

static enum espat_rc cwsap_cur_query(struct espat_module *m, const struct espat_args *a)
{
	return sap_query(m, "+CWSAP_CUR:", m->wifi);
}

static enum espat_rc cwsap_def_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *v = flash_view(m);
	if (!v)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	enum espat_rc rc = sap_query(m, "+CWSAP_DEF:", v);
	free(v);
	return rc;
}

/* v1.5's softAP takes at most 4 stations; <max conn> left off means 4. */
static enum espat_rc sap_set(struct espat_module *m, const struct espat_args *a, bool save)
{
	struct espat_args b = *a;
	if (b.n < 5 || b.v[4].kind == ESPAT_ARG_OMITTED) {
		for (size_t i = b.n; i < 5; i++)
			b.v[i].kind = ESPAT_ARG_OMITTED;
		b.v[4].kind = ESPAT_ARG_INT;
		b.v[4].i = 4;
		if (b.n < 5)
			b.n = 5;
	}
	return with_store(m, &b, espat_cwsap_set, save);
}

static enum espat_rc cwsap_set(struct espat_module *m, const struct espat_args *a)
{
	return sap_set(m, a, true);
}

static enum espat_rc cwsap_cur_set(struct espat_module *m, const struct espat_args *a)
{
	return sap_set(m, a, false);
}

/* ---- AT+CWLIF --------------------------------------------------------------------- */

/* <IP addr>,<mac> per station, without a prefix (v1.5 4.9). */
static enum espat_rc cwlif_exec(struct espat_module *m, const struct espat_args *a)
{
	const struct espat_wifi *w = m->wifi;
	char ip[16], mac[18];
	for (size_t i = 0; i < ESPAT_AP_STA_MAX; i++) {
		const struct espat_ap_sta *s = &w->sta[i];
		if (s->used && s->dhcp)
			espat_wr_linef(&m->wr, "%s,%s", espat_ip4_str(s->ip, ip),
			               espat_mac_str(s->mac, mac));
	}
	return ESPAT_RC_OK;
}

/* ---- AT+CWDHCP[_CUR|_DEF] --------------------------------------------------------- */

/* v1.5 bits: bit0 softAP, bit1 station (the ESP32-C3 set swaps them). */
static enum espat_rc dhcp_query(struct espat_module *m, const char *name,
                                const struct espat_wifi *w)
{
	espat_wr_linef(&m->wr, "+%s:%u", name, (w->dhcp_ap ? 1u : 0u) | (w->dhcp_sta ? 2u : 0u));
	return ESPAT_RC_OK;
}

static enum espat_rc cwdhcp_query(struct espat_module *m, const struct espat_args *a)
{
	return dhcp_query(m, "CWDHCP", m->wifi);
}

static enum espat_rc cwdhcp_cur_query(struct espat_module *m, const struct espat_args *a)
{
	return dhcp_query(m, "CWDHCP_CUR", m->wifi);
}

static enum espat_rc cwdhcp_def_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *v = flash_view(m);
	if (!v)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	dhcp_query(m, "CWDHCP_DEF", v);
	free(v);
	return ESPAT_RC_OK;
}

/* AT+CWDHCP=<mode>,<en>: <mode> 0 softAP, 1 station, 2 both; the shared
 * handler takes <operate>,<mode bits> (bit0 station, bit1 softAP). */
static enum espat_rc dhcp_set(struct espat_module *m, const struct espat_args *a, bool save)
{
	static const int64_t bits[] = {2, 1, 3};
	struct espat_args b;
	b.n = 2;
	b.v[0] = (struct espat_arg){.kind = ESPAT_ARG_INT, .i = a->v[1].i};
	b.v[1] = (struct espat_arg){.kind = ESPAT_ARG_INT, .i = bits[a->v[0].i]};
	return with_store(m, &b, espat_wifi_cwdhcp_set, save);
}

static enum espat_rc cwdhcp_set(struct espat_module *m, const struct espat_args *a)
{
	return dhcp_set(m, a, true);
}

static enum espat_rc cwdhcp_cur_set(struct espat_module *m, const struct espat_args *a)
{
	return dhcp_set(m, a, false);
}

/* ---- AT+CWDHCPS_CUR / _DEF ---------------------------------------------------------- */

static enum espat_rc dhcps_query(struct espat_module *m, const char *name,
                                 const struct espat_wifi *w)
{
	char s1[16], s2[16];
	if (!espat_wifi_ap_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	uint32_t net = w->ap_ip.ip & w->ap_ip.mask;
	uint32_t first = w->dhcps.custom ? w->dhcps.start : net + (w->ap_ip.ip & 0xFFu) + 1u;
	uint32_t last = w->dhcps.custom ? w->dhcps.end : first + ESPAT_DHCPS_POOL - 1u;
	espat_wr_linef(&m->wr, "+%s:%u,\"%s\",\"%s\"", name,
	               w->dhcps.custom ? w->dhcps.lease_min : ESPAT_DHCPS_LEASE_MIN,
	               espat_ip4_str(first, s1), espat_ip4_str(last, s2));
	return ESPAT_RC_OK;
}

static enum espat_rc cwdhcps_cur_query(struct espat_module *m, const struct espat_args *a)
{
	return dhcps_query(m, "CWDHCPS_CUR", m->wifi);
}

static enum espat_rc cwdhcps_def_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *v = flash_view(m);
	if (!v)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	enum espat_rc rc = dhcps_query(m, "CWDHCPS_DEF", v);
	free(v);
	return rc;
}

static enum espat_rc cwdhcps_cur_set(struct espat_module *m, const struct espat_args *a)
{
	return with_store(m, a, espat_cwdhcps_set, false);
}

/* The shared handler saves the range unconditionally; _DEF is that. */
static enum espat_rc cwdhcps_def_set(struct espat_module *m, const struct espat_args *a)
{
	return with_store(m, a, espat_cwdhcps_set, true);
}

/* ---- AT+CIPSTAMAC / AT+CIPAPMAC [_CUR|_DEF] ------------------------------------------ */

static enum espat_rc cipstamac_cur_query(struct espat_module *m, const struct espat_args *a)
{
	return espat_wifi_mac_query(m, "CIPSTAMAC_CUR", m->wifi->sta_mac);
}

static enum espat_rc cipstamac_def_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *v = flash_view(m);
	if (!v)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	espat_wifi_mac_query(m, "CIPSTAMAC_DEF", v->sta_mac);
	free(v);
	return ESPAT_RC_OK;
}

static enum espat_rc cipapmac_cur_query(struct espat_module *m, const struct espat_args *a)
{
	return espat_wifi_mac_query(m, "CIPAPMAC_CUR", m->wifi->ap_mac);
}

static enum espat_rc cipapmac_def_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *v = flash_view(m);
	if (!v)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	espat_wifi_mac_query(m, "CIPAPMAC_DEF", v->ap_mac);
	free(v);
	return ESPAT_RC_OK;
}

static enum espat_rc cipstamac_set(struct espat_module *m, const struct espat_args *a)
{
	return with_store(m, a, espat_wifi_cipstamac_set, true);
}

static enum espat_rc cipstamac_cur_set(struct espat_module *m, const struct espat_args *a)
{
	return with_store(m, a, espat_wifi_cipstamac_set, false);
}

static enum espat_rc cipapmac_set(struct espat_module *m, const struct espat_args *a)
{
	return with_store(m, a, espat_wifi_cipapmac_set, true);
}

static enum espat_rc cipapmac_cur_set(struct espat_module *m, const struct espat_args *a)
{
	return with_store(m, a, espat_wifi_cipapmac_set, false);
}

/* ---- AT+CIPSTA / AT+CIPAP [_CUR|_DEF] -------------------------------------------------- */

/* v1.5 prints the address only: +CIPSTA:<IP>. */
static enum espat_rc ip_query(struct espat_module *m, const char *name, uint32_t ip)
{
	char s[16];
	espat_wr_linef(&m->wr, "+%s:\"%s\"", name, espat_ip4_str(ip, s));
	return ESPAT_RC_OK;
}

static enum espat_rc cipsta_query(struct espat_module *m, const struct espat_args *a)
{
	return ip_query(m, "CIPSTA", m->wifi->sta_ip.ip);
}

static enum espat_rc cipsta_cur_query(struct espat_module *m, const struct espat_args *a)
{
	return ip_query(m, "CIPSTA_CUR", m->wifi->sta_ip.ip);
}

static enum espat_rc cipsta_def_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *v = flash_view(m);
	if (!v)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	ip_query(m, "CIPSTA_DEF", v->sta_static.ip); /* the saved static address, 0 when none */
	free(v);
	return ESPAT_RC_OK;
}

static enum espat_rc cipap_query(struct espat_module *m, const struct espat_args *a)
{
	return ip_query(m, "CIPAP", m->wifi->ap_ip.ip);
}

static enum espat_rc cipap_cur_query(struct espat_module *m, const struct espat_args *a)
{
	return ip_query(m, "CIPAP_CUR", m->wifi->ap_ip.ip);
}

static enum espat_rc cipap_def_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *v = flash_view(m);
	if (!v)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	ip_query(m, "CIPAP_DEF", v->ap_ip.ip);
	free(v);
	return ESPAT_RC_OK;
}

static enum espat_rc cipsta_set(struct espat_module *m, const struct espat_args *a)
{
	return with_store(m, a, espat_wifi_cipsta_set, true);
}

static enum espat_rc cipsta_cur_set(struct espat_module *m, const struct espat_args *a)
{
	return with_store(m, a, espat_wifi_cipsta_set, false);
}

/* "ESP8266 only support class C IP address" for its softAP. */
static enum espat_rc ap_set(struct espat_module *m, const struct espat_args *a, bool save)
{
	uint32_t ip;
	if (a->v[0].kind == ESPAT_ARG_STR && espat_ip4_parse(&a->v[0], &ip) &&
	    (ip >> 29) != 6u) /* 192.0.0.0 - 223.255.255.255 */
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	return with_store(m, a, espat_wifi_cipap_set, save);
}

static enum espat_rc cipap_set(struct espat_module *m, const struct espat_args *a)
{
	return ap_set(m, a, true);
}

static enum espat_rc cipap_cur_set(struct espat_module *m, const struct espat_args *a)
{
	return ap_set(m, a, false);
}

/* ---- AT+CWSTARTDISCOVER, AT+CWSTOPDISCOVER ---------------------------------------- */

/* WeChat discovery: the device announces itself on the station's network.
 * It needs the station's address; the announcements themselves reach no
 * WeChat server from the simulated air (COMPAT #311). */
static enum espat_rc cwstartdiscover_set(struct espat_module *m, const struct espat_args *a)
{
	if (a->v[0].len == 0)
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	if (a->v[1].len == 0)
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	if (!espat_wifi_sta_enabled(m) || m->wifi->state != ESPAT_STA_GOT_IP)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	m->wifi->discover_on = true;
	m->wifi->discover_interval_s = (uint32_t)a->v[2].i;
	return ESPAT_RC_OK;
}

static enum espat_rc cwstopdiscover_exec(struct espat_module *m, const struct espat_args *a)
{
	if (!m->wifi->discover_on)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	m->wifi->discover_on = false;
	return ESPAT_RC_OK;
}

/* ---- the table ------------------------------------------------------------------------ */

static const struct espat_param p_bool[] = {P_INT("enable", 0, 1)};
static const struct espat_param p_cwmode[] = {P_INT("mode", 1, 3)};
static const struct espat_param p_cwjap[] = {
    P_STR_OPT("ssid", ESPAT_SSID_MAX), P_STR_OPT("pwd", ESPAT_PWD_MAX), P_STR_OPT("bssid", 17)};
static const struct espat_param p_lapopt[] = {P_INT("sort_enable", 0, 1), P_INT("mask", 0, 127)};
static const struct espat_param p_cwlap[] = {P_STR_OPT("ssid", ESPAT_SSID_MAX),
                                             P_STR_OPT("mac", 17), P_INT_OPT("ch", 1, 14)};
static const struct espat_param p_cwsap[] = {
    P_STR("ssid", ESPAT_SSID_MAX), P_STR("pwd", 64),
    P_INT("chl", 1, 13),           P_INT("ecn", 0, 4),
    P_INT_OPT("max conn", 1, 4),   P_INT_OPT("ssid hidden", 0, 1),
};
static const struct espat_param p_cwdhcp[] = {P_INT("mode", 0, 2), P_INT("en", 0, 1)};
static const struct espat_param p_cwdhcps[] = {
    P_INT("enable", 0, 1),
    P_INT_OPT("lease time", 1, 2880),
    P_STR_OPT("start IP", 15),
    P_STR_OPT("end IP", 15),
};
static const struct espat_param p_mac[] = {P_STR("mac", 17)};
static const struct espat_param p_ip[] = {P_STR("ip", 15), P_STR_OPT("gateway", 15),
                                          P_STR_OPT("netmask", 15)};
static const struct espat_param p_smart[] = {P_INT("type", 1, 3)};
static const struct espat_param p_discover[] = {P_STR("WeChat number", 64), P_STR("dev_type", 64),
                                                P_INT("time", 0, 24 * 3600)};

/* clang-format off */
static const struct espat_cmd rows[] = {
	{.name = "+CWMODE", .test = cwmode_test, .query = cwmode_query, .set = cwmode_set,
	 .params = p_cwmode, .nparams = N(p_cwmode), .help = "Wi-Fi mode (deprecated, saved)"},
	{.name = "+CWMODE_CUR", .test = cwmode_cur_test, .query = cwmode_cur_query,
	 .set = cwmode_cur_set, .params = p_cwmode, .nparams = N(p_cwmode),
	 .help = "Wi-Fi mode, not saved"},
	{.name = "+CWMODE_DEF", .test = cwmode_def_test, .query = cwmode_def_query,
	 .set = cwmode_set, .params = p_cwmode, .nparams = N(p_cwmode),
	 .help = "Wi-Fi mode, saved in flash"},
	{.name = "+CWJAP", .query = cwjap_query, .set = cwjap_set, .params = p_cwjap,
	 .nparams = N(p_cwjap), .help = "Connect to AP (deprecated, saved)"},
	{.name = "+CWJAP_CUR", .query = cwjap_cur_query, .set = cwjap_cur_set, .params = p_cwjap,
	 .nparams = N(p_cwjap), .help = "Connect to AP, not saved"},
	{.name = "+CWJAP_DEF", .query = cwjap_def_query, .set = cwjap_set, .params = p_cwjap,
	 .nparams = N(p_cwjap), .help = "Connect to AP, saved in flash"},
	{.name = "+CWLAPOPT", .set = espat_cwlapopt_set, .params = p_lapopt,
	 .nparams = N(p_lapopt), .help = "Set the configuration of AT+CWLAP"},
	{.name = "+CWLAP", .set = espat_cwlap_set, .exec = espat_cwlap_exec, .params = p_cwlap,
	 .nparams = N(p_cwlap), .help = "Lists available APs"},
	{.name = "+CWQAP", .exec = espat_cwqap_exec, .help = "Disconnect from AP"},
	{.name = "+CWSAP", .query = cwsap_query, .set = cwsap_set, .params = p_cwsap,
	 .nparams = N(p_cwsap), .help = "softAP configuration (deprecated, saved)"},
	{.name = "+CWSAP_CUR", .query = cwsap_cur_query, .set = cwsap_cur_set, .params = p_cwsap,
	 .nparams = N(p_cwsap), .help = "softAP configuration, not saved"},
	{.name = "+CWSAP_DEF", .query = cwsap_def_query, .set = cwsap_set, .params = p_cwsap,
	 .nparams = N(p_cwsap), .help = "softAP configuration, saved in flash"},
	{.name = "+CWLIF", .exec = cwlif_exec, .help = "Stations connected to the softAP"},
	{.name = "+CWDHCP", .query = cwdhcp_query, .set = cwdhcp_set, .params = p_cwdhcp,
	 .nparams = N(p_cwdhcp), .help = "Enable/Disable DHCP (deprecated, saved)"},
	{.name = "+CWDHCP_CUR", .query = cwdhcp_cur_query, .set = cwdhcp_cur_set,
	 .params = p_cwdhcp, .nparams = N(p_cwdhcp), .help = "Enable/Disable DHCP, not saved"},
	{.name = "+CWDHCP_DEF", .query = cwdhcp_def_query, .set = cwdhcp_set, .params = p_cwdhcp,
	 .nparams = N(p_cwdhcp), .help = "Enable/Disable DHCP, saved in flash"},
	{.name = "+CWDHCPS_CUR", .query = cwdhcps_cur_query, .set = cwdhcps_cur_set,
	 .params = p_cwdhcps, .nparams = N(p_cwdhcps), .help = "softAP DHCP range, not saved"},
	{.name = "+CWDHCPS_DEF", .query = cwdhcps_def_query, .set = cwdhcps_def_set,
	 .params = p_cwdhcps, .nparams = N(p_cwdhcps), .help = "softAP DHCP range, saved in flash"},
	{.name = "+CWAUTOCONN", .set = espat_wifi_cwautoconn_set, .params = p_bool,
	 .nparams = N(p_bool), .help = "Connect to AP automatically on power-up"},
	{.name = "+CIPSTAMAC", .query = espat_wifi_cipstamac_query, .set = cipstamac_set, .params = p_mac,
	 .nparams = N(p_mac), .help = "station MAC (deprecated, saved)"},
	{.name = "+CIPSTAMAC_CUR", .query = cipstamac_cur_query, .set = cipstamac_cur_set,
	 .params = p_mac, .nparams = N(p_mac), .help = "station MAC, not saved"},
	{.name = "+CIPSTAMAC_DEF", .query = cipstamac_def_query, .set = cipstamac_set,
	 .params = p_mac, .nparams = N(p_mac), .help = "station MAC, saved in flash"},
	{.name = "+CIPAPMAC", .query = espat_wifi_cipapmac_query, .set = cipapmac_set, .params = p_mac,
	 .nparams = N(p_mac), .help = "softAP MAC (deprecated, saved)"},
	{.name = "+CIPAPMAC_CUR", .query = cipapmac_cur_query, .set = cipapmac_cur_set,
	 .params = p_mac, .nparams = N(p_mac), .help = "softAP MAC, not saved"},
	{.name = "+CIPAPMAC_DEF", .query = cipapmac_def_query, .set = cipapmac_set,
	 .params = p_mac, .nparams = N(p_mac), .help = "softAP MAC, saved in flash"},
	{.name = "+CIPSTA", .query = cipsta_query, .set = cipsta_set, .params = p_ip,
	 .nparams = N(p_ip), .help = "station IP address (deprecated, saved)"},
	{.name = "+CIPSTA_CUR", .query = cipsta_cur_query, .set = cipsta_cur_set, .params = p_ip,
	 .nparams = N(p_ip), .help = "station IP address, not saved"},
	{.name = "+CIPSTA_DEF", .query = cipsta_def_query, .set = cipsta_set, .params = p_ip,
	 .nparams = N(p_ip), .help = "station IP address, saved in flash"},
	{.name = "+CIPAP", .query = cipap_query, .set = cipap_set, .params = p_ip,
	 .nparams = N(p_ip), .help = "softAP IP address (deprecated, saved)"},
	{.name = "+CIPAP_CUR", .query = cipap_cur_query, .set = cipap_cur_set, .params = p_ip,
	 .nparams = N(p_ip), .help = "softAP IP address, not saved"},
	{.name = "+CIPAP_DEF", .query = cipap_def_query, .set = cipap_set, .params = p_ip,
	 .nparams = N(p_ip), .help = "softAP IP address, saved in flash"},
	{.name = "+CWSTARTSMART", .set = espat_cwstartsmart_set, .exec = espat_cwstartsmart_exec,
	 .params = p_smart, .nparams = N(p_smart), .help = "Start SmartConfig"},
	{.name = "+CWSTOPSMART", .exec = espat_cwstopsmart_exec, .help = "Stop SmartConfig"},
	{.name = "+CWSTARTDISCOVER", .set = cwstartdiscover_set, .params = p_discover,
	 .nparams = N(p_discover), .help = "Start the mode that WeChat can discover"},
	{.name = "+CWSTOPDISCOVER", .exec = cwstopdiscover_exec,
	 .help = "Stop the mode that WeChat can discover"},
	{.name = "+WPS", .set = espat_wps_set, .params = p_bool, .nparams = N(p_bool),
	 .help = "Set WPS function"},
};
/* clang-format on */

static const struct espat_cmd_table table = {
    .family = "wifi",
    .rows = rows,
    .n = sizeof(rows) / sizeof(rows[0]),
};

/* v1.5's factory scan options: the seven fields, in scan order. */
static void v15_init(struct espat_module *m)
{
	espat_wifi_init(m);
	m->wifi->lapopt.sort = 0;
	m->wifi->lapopt.mask = 0x7F;
	m->wifi->lapopt.auth_mask = 0x1F; /* v1.5 knows <ecn> 0..4 only (COMPAT #306) */
	m->wifi->sap.max_conn = 4;
}

/* The softAP's factory settings come at boot: v1.5's limit of 4 stations. */
static void v15_boot(struct espat_module *m)
{
	espat_wifi_boot(m);
	if (m->wifi->sap.max_conn > 4)
		m->wifi->sap.max_conn = 4;
}

const struct espat_family espat_wifi_v15_family = {
    .name = "wifi",
    .table = &table,
    .state_size = sizeof(struct espat_wifi),
    .state_slot = offsetof(struct espat_module, wifi),
    .init = v15_init,
    .boot = v15_boot,
    .free = espat_wifi_free,
};
