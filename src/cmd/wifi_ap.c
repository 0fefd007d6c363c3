/* The softAP: its configuration (AT+CWSAP), its DHCP server (AT+CWDHCPS),
 * the stations that join it from the world (AT+CWLIF, AT+CWQIF) and their
 * messages: +STA_CONNECTED, +DIST_STA_IP, +STA_DISCONNECTED. */
#include <stdio.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/family.h"
#include "cmd/wifi_internal.h"

static struct espat_engine *E(struct espat_module *m)
{
	return &m->eng;
}

void espat_sap_defaults(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	/* ESP-AT's factory softAP: "ESP_" and the last three bytes of its MAC,
	 * open, channel 1, up to 10 stations. */
	int n = snprintf((char *)w->sap.ssid, sizeof(w->sap.ssid), "ESP_%02X%02X%02X", w->ap_mac[3],
			 w->ap_mac[4], w->ap_mac[5]);
	w->sap.ssid_len = n > 0 ? (size_t)n : 0;
	w->sap.pwd_len = 0;
	w->sap.channel = 1;
	w->sap.ecn = 0;
	w->sap.max_conn = ESPAT_AP_STA_MAX;
	w->sap.hidden = 0;
}

static void pool(const struct espat_wifi *w, uint32_t *first, uint32_t *last)
{
	if (w->dhcps.custom) {
		*first = w->dhcps.start;
		*last = w->dhcps.end;
		return;
	}
	uint32_t net = w->ap_ip.ip & w->ap_ip.mask;
	*first = net + 2;
	*last = net + 1 + ESPAT_DHCPS_POOL;
}

static struct espat_ap_sta *find_sta(struct espat_wifi *w, const uint8_t mac[6])
{
	for (size_t i = 0; i < ESPAT_AP_STA_MAX; i++)
		if (w->sta[i].used && memcmp(w->sta[i].mac, mac, 6) == 0)
			return &w->sta[i];
	return NULL;
}

static size_t sta_count(const struct espat_wifi *w)
{
	size_t n = 0;
	for (size_t i = 0; i < ESPAT_AP_STA_MAX; i++)
		n += w->sta[i].used;
	return n;
}

/* The lowest free address of the pool, or 0. */
static uint32_t lease(const struct espat_wifi *w)
{
	uint32_t first, last;
	pool(w, &first, &last);
	for (uint32_t ip = first; ip <= last && ip >= first; ip++) {
		bool taken = ip == w->ap_ip.ip;
		for (size_t i = 0; i < ESPAT_AP_STA_MAX && !taken; i++)
			taken = w->sta[i].used && w->sta[i].ip == ip;
		if (!taken)
			return ip;
	}
	return 0;
}

static void dist_ip(void *user)
{
	struct espat_ap_sta *s = user;
	struct espat_module *m = s->m;
	uint32_t ip = lease(m->wifi);
	if (ip == 0)
		return; /* pool exhausted: the station never gets an address */
	s->ip = ip;
	s->dhcp = true;
	const struct espat_radio *r = &m->ports.radio;
	if (r->softap_station)
		r->softap_station(r->user, s->mac, ip);
	char mac[18], ips[16];
	espat_wifi_report(m, "+DIST_STA_IP:\"%s\",\"%s\"", espat_mac_str(s->mac, mac),
			  espat_ip4_str(ip, ips));
}

static void sta_gone(struct espat_module *m, struct espat_ap_sta *s, bool say)
{
	char mac[18];
	const struct espat_radio *r = &m->ports.radio;
	espat_timer_cancel(&m->timers, &s->dhcp_timer);
	if (r->softap_station)
		r->softap_station(r->user, s->mac, 0);
	if (say)
		espat_wifi_report(m, "+STA_DISCONNECTED:\"%s\"", espat_mac_str(s->mac, mac));
	memset(s, 0, sizeof(*s));
}

int espat_wifi_ap_join(struct espat_module *m, const uint8_t mac[6], const uint8_t *pwd,
		       size_t pwd_len, const char **why)
{
	struct espat_wifi *w = m->wifi;
	if (!espat_wifi_ap_enabled(m)) {
		*why = "the softAP is off (AT+CWMODE is not 2 or 3)";
		return -1;
	}
	if (find_sta(w, mac)) {
		*why = "that station is already associated";
		return -1;
	}
	if (sta_count(w) >= w->sap.max_conn) {
		*why = "the softAP is full (AT+CWSAP <max conn>)";
		return -1;
	}
	if (w->sap.ecn != 0 && pwd &&
	    (pwd_len != w->sap.pwd_len || memcmp(pwd, w->sap.pwd, pwd_len) != 0)) {
		*why = "wrong password: the 4-way handshake fails";
		return -2;
	}
	struct espat_ap_sta *s = NULL;
	for (size_t i = 0; i < ESPAT_AP_STA_MAX && !s; i++)
		if (!w->sta[i].used)
			s = &w->sta[i];
	if (!s) {
		*why = "the softAP is full";
		return -1;
	}
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->m = m;
	memcpy(s->mac, mac, 6);
	char ms[18];
	espat_wifi_report(m, "+STA_CONNECTED:\"%s\"", espat_mac_str(mac, ms));
	if (w->dhcp_ap)
		espat_timer_arm(&m->timers, &s->dhcp_timer, espat_module_now(m) + ESPAT_AP_DHCP_MS,
				dist_ip, s);
	return 0;
}

int espat_wifi_ap_leave(struct espat_module *m, const uint8_t mac[6], const char **why)
{
	struct espat_ap_sta *s = find_sta(m->wifi, mac);
	if (!s) {
		*why = "no such station on the softAP";
		return -1;
	}
	sta_gone(m, s, true);
	return 0;
}

void espat_sap_stop(struct espat_module *m)
{
	for (size_t i = 0; i < ESPAT_AP_STA_MAX; i++)
		if (m->wifi->sta[i].used)
			sta_gone(m, &m->wifi->sta[i], false);
}

void espat_sap_free(struct espat_module *m)
{
	espat_sap_stop(m);
}

/* ---- AT+CWSAP --------------------------------------------------------------------- */

enum espat_rc espat_cwsap_query(struct espat_module *m, const struct espat_args *a)
{
	const struct espat_wifi *w = m->wifi;
	if (!espat_wifi_ap_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	uint8_t line[160];
	size_t n = 0;
	memcpy(line, "+CWSAP:\"", 8);
	n = 8;
	memcpy(line + n, w->sap.ssid, w->sap.ssid_len);
	n += w->sap.ssid_len;
	memcpy(line + n, "\",\"", 3);
	n += 3;
	memcpy(line + n, w->sap.pwd, w->sap.pwd_len);
	n += w->sap.pwd_len;
	int k = snprintf((char *)line + n, sizeof(line) - n, "\",%u,%u,%u,%u\r\n", w->sap.channel,
			 w->sap.ecn, w->sap.max_conn, w->sap.hidden);
	espat_wr_msg(&m->wr, line, n + (size_t)k);
	return ESPAT_RC_OK;
}

enum espat_rc espat_cwsap_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *w = m->wifi;
	uint8_t ecn = (uint8_t)a->v[3].i;
	if (a->v[0].len == 0)
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	/* the softAP does no WEP */
	if (ecn == ESPAT_ECN_WEP)
		return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	if (ecn != ESPAT_ECN_OPEN && (a->v[1].len < 8 || a->v[1].len > m->dialect->sap_pwd_max))
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	if (!espat_wifi_ap_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	memcpy(w->sap.ssid, a->v[0].s, a->v[0].len);
	w->sap.ssid_len = a->v[0].len;
	/* an open softAP has no password */
	w->sap.pwd_len = ecn == ESPAT_ECN_OPEN ? 0 : a->v[1].len;
	memcpy(w->sap.pwd, a->v[1].s, w->sap.pwd_len);
	w->sap.channel = (uint8_t)a->v[2].i;
	w->sap.ecn = ecn;
	w->sap.max_conn = a->n > 4 && a->v[4].kind == ESPAT_ARG_INT ? (uint8_t)a->v[4].i
								   : ESPAT_AP_STA_MAX;
	w->sap.hidden = a->n > 5 && a->v[5].kind == ESPAT_ARG_INT ? (uint8_t)a->v[5].i : 0;
	/* the softAP restarts with the new configuration: its stations drop */
	for (size_t i = 0; i < ESPAT_AP_STA_MAX; i++)
		if (w->sta[i].used)
			sta_gone(m, &w->sta[i], true);
	espat_wifi_save_sap(m);
	return ESPAT_RC_OK;
}

/* ---- AT+CWLIF, AT+CWQIF ------------------------------------------------------------ */

enum espat_rc espat_cwlif_exec(struct espat_module *m, const struct espat_args *a)
{
	const struct espat_wifi *w = m->wifi;
	char ip[16], mac[18];
	for (size_t i = 0; i < ESPAT_AP_STA_MAX; i++) {
		const struct espat_ap_sta *s = &w->sta[i];
		if (s->used && s->dhcp)
			espat_wr_linef(&m->wr, "+CWLIF:%s,%s", espat_ip4_str(s->ip, ip),
				       espat_mac_str(s->mac, mac));
	}
	return ESPAT_RC_OK;
}

enum espat_rc espat_cwqif_exec(struct espat_module *m, const struct espat_args *a)
{
	if (!espat_wifi_ap_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	espat_wr_ok(&m->wr);
	for (size_t i = 0; i < ESPAT_AP_STA_MAX; i++)
		if (m->wifi->sta[i].used)
			sta_gone(m, &m->wifi->sta[i], true);
	return ESPAT_RC_DONE;
}

enum espat_rc espat_cwqif_set(struct espat_module *m, const struct espat_args *a)
{
	uint8_t mac[6];
	if (!espat_mac_parse(a->v[0].s, a->v[0].len, mac))
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	if (!espat_wifi_ap_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	struct espat_ap_sta *s = find_sta(m->wifi, mac);
	if (!s)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	espat_wr_ok(&m->wr);
	sta_gone(m, s, true);
	return ESPAT_RC_DONE;
}

/* ---- AT+CWDHCPS -------------------------------------------------------------------- */

enum espat_rc espat_cwdhcps_query(struct espat_module *m, const struct espat_args *a)
{
	const struct espat_wifi *w = m->wifi;
	uint32_t first, last;
	char s1[16], s2[16];
	if (!espat_wifi_ap_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	pool(w, &first, &last);
	espat_wr_linef(&m->wr, "+CWDHCPS:%u,\"%s\",\"%s\"",
		       w->dhcps.custom ? w->dhcps.lease_min : ESPAT_DHCPS_LEASE_MIN,
		       espat_ip4_str(first, s1), espat_ip4_str(last, s2));
	return ESPAT_RC_OK;
}

enum espat_rc espat_cwdhcps_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *w = m->wifi;
	if (a->v[0].i == 0) {
		if (a->n > 1)
			return espat_fail(E(m), ESPAT_ERR_NUM(1, a->n));
		if (!espat_wifi_ap_enabled(m))
			return espat_fail(E(m), ESPAT_ERR_EXEC);
		w->dhcps.custom = false;
		espat_settings_erase(&m->settings, "cwdhcps");
		return ESPAT_RC_OK;
	}
	if (a->n != 4 || a->v[1].kind == ESPAT_ARG_OMITTED || a->v[2].kind == ESPAT_ARG_OMITTED ||
	    a->v[3].kind == ESPAT_ARG_OMITTED)
		return espat_fail(E(m), ESPAT_ERR_NUM(4, a->n));
	uint32_t start, end;
	uint32_t net = w->ap_ip.ip & w->ap_ip.mask;
	if (!espat_ip4_parse(&a->v[2], &start) || (start & w->ap_ip.mask) != net ||
	    start == w->ap_ip.ip)
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	if (!espat_ip4_parse(&a->v[3], &end) || (end & w->ap_ip.mask) != net || end < start ||
	    (w->ap_ip.ip >= start && w->ap_ip.ip <= end))
		return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	if (!espat_wifi_ap_enabled(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	w->dhcps.custom = true;
	w->dhcps.lease_min = (uint32_t)a->v[1].i;
	w->dhcps.start = start;
	w->dhcps.end = end;
	char s1[16], s2[16];
	espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, "cwdhcps", "%u,\"%s\",\"%s\"",
			     w->dhcps.lease_min, espat_ip4_str(start, s1), espat_ip4_str(end, s2));
	return ESPAT_RC_OK;
}
