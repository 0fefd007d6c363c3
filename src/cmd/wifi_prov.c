/* Provisioning: SmartConfig (AT+CWSTARTSMART / AT+CWSTOPSMART) and WPS push
 * button (AT+WPS). Credentials come from the world (a phone broadcasting,
 * a router's pressed button); the join itself is the station's machine. */
#include <stdio.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/family.h"
#include "cmd/wifi_internal.h"

/* From hearing the phone to knowing the type, and to decoding SSID and
 * password (ESP-TOUCH needs a few seconds on air; kept short here). */
#define ESPAT_SC_TYPE_MS 400u
#define ESPAT_SC_INFO_MS 1200u
/* A WPS exchange (M1..M8) once both sides are in PBC mode. */
#define ESPAT_WPS_EXCHANGE_MS 1500u
/* How long AT+WPS=1 looks for a registrar (the WPS walk time). */
#define ESPAT_WPS_WALK_MS 120000u

enum { SC_LISTEN, SC_TYPE_SEEN, SC_JOINING, SC_DONE };

static struct espat_engine *E(struct espat_module *m)
{
	return &m->eng;
}

static const char *sc_type_name(uint8_t type)
{
	switch (type) {
	case 1: return "ESPTOUCH";
	case 2: return "AIRKISS";
	default: return "ESPTOUCH_V2";
	}
}

/* Which phone-app types a <type> listens for (bit n = type n). */
static unsigned sc_mask(uint8_t type)
{
	switch (type) {
	case 1: return 1u << 1;
	case 2: return 1u << 2;
	case 3: return 1u << 1 | 1u << 2;
	default: return 1u << 4;
	}
}

/* "<prefix><bytes>\r\n", the bytes raw. */
static void raw_line(struct espat_module *m, const char *prefix, const uint8_t *p, size_t n)
{
	uint8_t line[160];
	size_t pl = strlen(prefix);
	memcpy(line, prefix, pl);
	memcpy(line + pl, p, n);
	line[pl + n] = '\r';
	line[pl + n + 1] = '\n';
	espat_wr_report(&m->wr, line, pl + n + 2);
}

static bool heard(struct espat_module *m, struct espat_prov *p)
{
	const struct espat_radio *r = &m->ports.radio;
	return r->smartconfig && r->smartconfig(r->user, sc_mask(m->wifi->sc_type), p);
}

/* Joins with provisioned credentials (saved like AT+CWJAP's). */
static void join_prov(struct espat_module *m, const struct espat_prov *p)
{
	struct espat_sta_cfg *c = &m->wifi->cfg;
	memset(c, 0, sizeof(*c));
	memcpy(c->ssid, p->ssid, p->ssid_len);
	c->ssid_len = p->ssid_len;
	memcpy(c->pwd, p->pwd, p->pwd_len);
	c->pwd_len = p->pwd_len;
	c->has_bssid = p->has_bssid;
	memcpy(c->bssid, p->bssid, 6);
	c->listen_interval = 3;
	c->pmf = 1;
	c->valid = true;
	espat_wifi_save_cfg(m);
	espat_sta_connect(m);
}

int espat_wifi_provision_join(struct espat_module *m, const uint8_t *ssid, size_t ssid_len,
			      const uint8_t *pwd, size_t pwd_len)
{
	struct espat_prov p;
	if (!espat_wifi_sta_enabled(m) || ssid_len == 0 || ssid_len > sizeof(p.ssid) ||
	    pwd_len > sizeof(p.pwd))
		return -1;
	memset(&p, 0, sizeof(p));
	memcpy(p.ssid, ssid, ssid_len);
	p.ssid_len = ssid_len;
	memcpy(p.pwd, pwd, pwd_len);
	p.pwd_len = pwd_len;
	m->wifi->last_fail = 0;
	join_prov(m, &p);
	return 0;
}

static void sc_step(void *user)
{
	struct espat_module *m = user;
	struct espat_wifi *w = m->wifi;
	struct espat_prov p;
	if (!heard(m, &p)) {
		w->sc_phase = SC_LISTEN; /* the phone stopped before we had it all */
		return;
	}
	if (w->sc_phase == SC_LISTEN) {
		w->sc_phase = SC_TYPE_SEEN;
		espat_wifi_report(m, "smartconfig type:%s", sc_type_name(p.type));
		espat_timer_arm(&m->timers, &w->sc_timer, espat_module_now(m) + ESPAT_SC_INFO_MS,
				sc_step, m);
		return;
	}
	w->sc_phase = SC_JOINING;
	espat_wifi_report(m, "%s", m->dialect->smart_got_info);
	raw_line(m, "ssid:", p.ssid, p.ssid_len);
	raw_line(m, "password:", p.pwd, p.pwd_len);
	if (p.type == 4 && p.rvd_len > 0) {
		char prefix[24];
		snprintf(prefix, sizeof(prefix), "+SCRD:%u,", (unsigned)p.rvd_len);
		raw_line(m, prefix, p.rvd, p.rvd_len);
	}
	join_prov(m, &p);
}

static void sc_listen(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	struct espat_prov p;
	if (w->sc_on && w->sc_phase == SC_LISTEN && !w->sc_timer.armed && heard(m, &p))
		espat_timer_arm(&m->timers, &w->sc_timer, espat_module_now(m) + ESPAT_SC_TYPE_MS,
				sc_step, m);
}

/* ---- WPS ---------------------------------------------------------------------------- */

static void wps_stop(struct espat_module *m)
{
	m->wifi->wps_on = false;
	espat_timer_cancel(&m->timers, &m->wifi->wps_timer);
}

static void wps_timeout(void *user)
{
	/* two minutes without a registrar: WPS gives up, silently (the
	 * firmware only logs it) */
	wps_stop(user);
}

static void wps_exchange_done(void *user)
{
	struct espat_module *m = user;
	const struct espat_radio *r = &m->ports.radio;
	struct espat_prov p;
	wps_stop(m);
	if (r->wps(r->user, espat_module_now(m), &p) == 1)
		join_prov(m, &p);
}

static void wps_look(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	const struct espat_radio *r = &m->ports.radio;
	struct espat_prov p;
	struct espat_bss b;
	if (!w->wps_on || !r->wps || (w->wps_timer.armed && w->wps_timer.fn == wps_exchange_done))
		return;
	size_t n = r->wps(r->user, espat_module_now(m), &p);
	if (n == 0)
		return;
	if (n > 1) {
		wps_stop(m); /* PBC session overlap: two registrars at once */
		return;
	}
	if (!r->find(r->user, p.ap_id, &b) || b.ecn == ESPAT_ECN_WEP || b.ecn < w->wps_auth_floor)
		return;
	espat_timer_arm(&m->timers, &w->wps_timer, espat_module_now(m) + ESPAT_WPS_EXCHANGE_MS,
			wps_exchange_done, m);
}

/* ---- events ------------------------------------------------------------------------ */

void espat_prov_world_changed(struct espat_module *m)
{
	sc_listen(m);
	wps_look(m);
}

void espat_prov_sta_up(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	if (w->sc_on && w->sc_phase == SC_JOINING) {
		w->sc_phase = SC_DONE;
		if (m->dialect->smart_connected)
			espat_wifi_report(m, "%s", m->dialect->smart_connected);
	}
}

void espat_prov_free(struct espat_module *m)
{
	struct espat_wifi *w = m->wifi;
	w->sc_on = false;
	espat_timer_cancel(&m->timers, &w->sc_timer);
	wps_stop(m);
}

/* ---- commands ------------------------------------------------------------------------ */

static enum espat_rc start_smart(struct espat_module *m, uint8_t type, uint8_t floor)
{
	struct espat_wifi *w = m->wifi;
	if (!espat_wifi_sta_enabled(m) || w->sc_on || w->wps_on)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	espat_wr_ok(&m->wr);
	/* SmartConfig hops channels: the station leaves its AP */
	espat_sta_stop(m);
	w->sc_on = true;
	w->sc_type = type;
	w->sc_auth_floor = floor;
	w->sc_phase = SC_LISTEN;
	sc_listen(m);
	return ESPAT_RC_DONE;
}

enum espat_rc espat_cwstartsmart_exec(struct espat_module *m, const struct espat_args *a)
{
	return start_smart(m, 3, 0);
}

enum espat_rc espat_cwstartsmart_set(struct espat_module *m, const struct espat_args *a)
{
	uint8_t type = (uint8_t)a->v[0].i;
	uint8_t floor = a->n > 1 && a->v[1].kind == ESPAT_ARG_INT ? (uint8_t)a->v[1].i : 0;
	bool has_key = a->n > 2 && a->v[2].kind == ESPAT_ARG_STR;
	/* the ESP-TOUCH v2 key is 16 bytes, and only for v2 */
	if (has_key && (type != 4 || a->v[2].len != 16))
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	return start_smart(m, type, floor);
}

enum espat_rc espat_cwstopsmart_exec(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *w = m->wifi;
	w->sc_on = false;
	espat_timer_cancel(&m->timers, &w->sc_timer);
	return ESPAT_RC_OK;
}

enum espat_rc espat_wps_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_wifi *w = m->wifi;
	if (a->v[0].i == 0) {
		if (a->n > 1)
			return espat_fail(E(m), ESPAT_ERR_NUM(1, a->n));
		wps_stop(m);
		return ESPAT_RC_OK;
	}
	if (!espat_wifi_sta_enabled(m) || w->wps_on || w->sc_on)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	w->wps_on = true;
	w->wps_auth_floor = a->n > 1 && a->v[1].kind == ESPAT_ARG_INT ? (uint8_t)a->v[1].i : 0;
	espat_timer_arm(&m->timers, &w->wps_timer, espat_module_now(m) + ESPAT_WPS_WALK_MS,
			wps_timeout, m);
	espat_wr_ok(&m->wr);
	wps_look(m);
	return ESPAT_RC_DONE;
}
