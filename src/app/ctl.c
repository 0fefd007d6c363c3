#include "app/ctl.h"
#include "app/ctl_ble.h"
#include "app/ctl_fault.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/drv.h"
#include "cmd/module.h"
#include "cmd/mqtt.h"
#include "cmd/sig.h"
#include "cmd/tcpip.h"
#include "cmd/user.h"
#include "cmd/wifi.h"
#include "world/world.h"

#define MSG_MAX 512 /* one error message */
#define KEY_MAX 32  /* the key of a key=value argument */

typedef char *ctl_fn(struct espat_ctl *c, size_t argc, const char *const *argv);

/* One command: argv[0] == name (and argv[1] == sub when sub is set); the
 * handler gets the arguments after them, at least min and at most max. */
struct ctl_cmd {
	const char *name;
	const char *sub; /* second word, or NULL */
	size_t min, max;
	ctl_fn *fn;
	const char *args; /* for usage lines */
	const char *help; /* one line */
};

/* ---- JSON ------------------------------------------------------------------ */

/* Bytes as text that espat_world_unescape() reads back: printable ASCII as
 * is, except \\ and \", and \xHH for every other byte. */
static json_t *jbytes(const uint8_t *p, size_t n)
{
	char *s = malloc(4 * n + 1);
	if (s == NULL)
		return NULL;
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];
		if (b == '\\' || b == '"') {
			s[o++] = '\\';
			s[o++] = (char)b;
		} else if (b >= 0x20 && b < 0x7f) {
			s[o++] = (char)b;
		} else {
			s[o++] = '\\';
			s[o++] = 'x';
			s[o++] = hex[b >> 4];
			s[o++] = hex[b & 15];
		}
	}
	json_t *j = json_stringn(s, o);
	free(s);
	return j;
}

/* A C string as JSON text; bytes that are not UTF-8 are escaped. */
static json_t *jtext(const char *s)
{
	json_t *j = json_string(s);
	return j ? j : jbytes((const uint8_t *)s, strlen(s));
}

static json_t *jip(uint32_t ip)
{
	char buf[16];
	return json_string(espat_ip4_str(ip, buf));
}

static json_t *jmac(const uint8_t mac[6])
{
	char buf[18];
	return json_string(espat_mac_str(mac, buf));
}

/* The reply text of o (consumed); NULL when out of memory. */
static char *done(json_t *o)
{
	if (o == NULL)
		return NULL;
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static char *fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *fail(const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return done(json_pack("{s:b,s:o}", "ok", 0, "error", jtext(msg)));
}

/* {"ok":true, key: val} (val consumed); key NULL: {"ok":true}. */
static char *ok(const char *key, json_t *val)
{
	if (key == NULL)
		return done(json_pack("{s:b}", "ok", 1));
	return done(json_pack("{s:b,s:o}", "ok", 1, key, val));
}

/* ---- argument helpers ------------------------------------------------------ */

/* "1a:fe:35:98:d3:7b" (either case), nothing else. */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	return espat_mac_parse(s, strlen(s), mac);
}

/* Splits "key=value": the key into key[KEY_MAX], *val into arg. */
static bool split_kv(const char *arg, char key[KEY_MAX], const char **val)
{
	const char *eq = strchr(arg, '=');
	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= KEY_MAX)
		return false;
	memcpy(key, arg, (size_t)(eq - arg));
	key[eq - arg] = '\0';
	*val = eq + 1;
	return true;
}

/* A byte-string value as ctl takes it: the text state shows (escapes \\
 * \" \xHH, also \n \r \t), quoted or not. The world file reads an
 * unquoted value literally, so an unquoted one is put in quotes here (bare
 * quotes escaped, escapes kept) before espat_world_unescape() or
 * espat_world_set() sees it. Returns the world-file form, malloc'd; NULL
 * when out of memory. */
static char *quoted(const char *v)
{
	size_t n = strlen(v), o = 0;
	char *q = malloc(2 * n + 3);
	if (q == NULL)
		return NULL;
	if (v[0] == '"') {
		memcpy(q, v, n + 1);
		return q;
	}
	q[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\' && v[i + 1] != '\0')
			q[o++] = v[i++]; /* an escape goes through whole: \" stays \" */
		else if (v[i] == '"')
			q[o++] = '\\';
		q[o++] = v[i];
	}
	q[o++] = '"';
	q[o] = '\0';
	return q;
}

/* A byte-string argument (see quoted()) decoded into out; -1 when
 * malformed or longer than cap. */
static long bytes_arg(const char *s, uint8_t *out, size_t cap)
{
	char *q = quoted(s);
	long n = q ? espat_world_unescape(q, out, cap) : -1;
	free(q);
	return n;
}

/* The AP keys whose values are byte strings (see quoted()). */
static bool is_string_key(const char *key)
{
	static const char *const keys[] = {"ssid", "password", "eap_identity", "eap_username",
	                                   "eap_password"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i]) == 0)
			return true;
	}
	return false;
}

static struct espat_module *module_of(struct espat_ctl *c)
{
	return c->module(c->user);
}

/* The world changed: the module looks again. */
static void changed(struct espat_ctl *c)
{
	espat_wifi_world_changed(module_of(c));
}

/* ---- views ----------------------------------------------------------------- */

static const char *const ecn_names[] = {
    [ESPAT_ECN_OPEN] = "open",
    [ESPAT_ECN_WEP] = "wep",
    [ESPAT_ECN_WPA_PSK] = "wpa",
    [ESPAT_ECN_WPA2_PSK] = "wpa2",
    [ESPAT_ECN_WPA_WPA2_PSK] = "wpa-wpa2",
    [ESPAT_ECN_WPA2_ENTERPRISE] = "wpa2-enterprise",
    [ESPAT_ECN_WPA3_PSK] = "wpa3",
    [ESPAT_ECN_WPA2_WPA3_PSK] = "wpa2-wpa3",
    [ESPAT_ECN_WAPI_PSK] = "wapi",
    [ESPAT_ECN_OWE] = "owe",
};

static const char *ecn_name(uint8_t ecn)
{
	return ecn < sizeof(ecn_names) / sizeof(ecn_names[0]) && ecn_names[ecn] ? ecn_names[ecn]
	                                                                        : "unknown";
}

static json_t *ap_json(const struct espat_world_ap *ap)
{
	const struct espat_bss *b = &ap->bss;
	const struct espat_ipnet *n = &ap->net;
	json_t *dns = json_array();
	for (size_t i = 0; dns && i < 2; i++) {
		if (n->dns[i] != 0)
			json_array_append_new(dns, jip(n->dns[i]));
	}
	/* "network" as the world file's key says it (host, none); the
	 * addressing beside it. */
	return json_pack("{s:o,s:o,s:o,s:i,s:i,s:s,s:i,s:b,s:b,s:b,s:s,s:b,s:o,s:o,s:o,s:o}",
	                 "label", jtext(ap->label), "ssid", jbytes(b->ssid, b->ssid_len), "bssid",
	                 jmac(b->bssid), "channel", (int)b->channel, "rssi", b->rssi, "security",
	                 ecn_name(b->ecn), "ecn", (int)b->ecn, "up", ap->up, "hidden", ap->hidden,
	                 "wps", b->wps, "network", n->to_host ? "host" : "none", "dhcp", n->dhcp,
	                 "pool_start", jip(n->ip), "netmask", jip(n->mask), "gateway", jip(n->gw),
	                 "dns", dns);
}

static json_t *aps_json(const struct espat_world *w)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < w->nap; i++)
		json_array_append_new(a, ap_json(&w->ap[i]));
	return a;
}

/* The AP the station is associated with, as the world has it now. */
static const struct espat_world_ap *ap_by_id(const struct espat_world *w, uint32_t id)
{
	for (size_t i = 0; i < w->nap; i++) {
		if (w->ap[i].bss.id == id)
			return &w->ap[i];
	}
	return NULL;
}

static json_t *station_json(struct espat_ctl *c, const struct espat_module *m)
{
	const struct espat_wifi *w = m->wifi;
	bool assoc = w->state == ESPAT_STA_CONNECTED || w->state == ESPAT_STA_GOT_IP;
	json_t *o =
	    json_pack("{s:i,s:b,s:o,s:o,s:o,s:b}", "state", (int)w->state, "enabled",
	              espat_wifi_sta_enabled(m), "ip", jip(w->sta_ip.ip), "gateway",
	              jip(w->sta_ip.gw), "netmask", jip(w->sta_ip.mask), "dhcp", w->dhcp_sta);
	if (o == NULL)
		return NULL;
	if (assoc) {
		const struct espat_world_ap *ap = ap_by_id(c->world, w->ap.id);
		json_object_set_new(o, "ap", ap ? jtext(ap->label) : json_null());
		json_object_set_new(o, "ssid", jbytes(w->ap.ssid, w->ap.ssid_len));
		json_object_set_new(o, "bssid", jmac(w->ap.bssid));
		json_object_set_new(o, "channel", json_integer(w->ap.channel));
		json_object_set_new(o, "rssi", json_integer(ap ? ap->bss.rssi : w->ap.rssi));
	} else {
		json_object_set_new(o, "ap", json_null());
		json_object_set_new(o, "ssid", json_null());
		json_object_set_new(o, "bssid", json_null());
		json_object_set_new(o, "channel", json_null());
		json_object_set_new(o, "rssi", json_null());
	}
	return o;
}

static json_t *softap_json(const struct espat_module *m)
{
	const struct espat_wifi *w = m->wifi;
	json_t *st = json_array();
	for (size_t i = 0; st && i < ESPAT_AP_STA_MAX; i++) {
		const struct espat_ap_sta *s = &w->sta[i];
		if (s->used)
			json_array_append_new(st, json_pack("{s:o,s:o}", "mac", jmac(s->mac), "ip",
			                                    s->ip ? jip(s->ip) : json_null()));
	}
	return json_pack("{s:b,s:o,s:o,s:i,s:i,s:s,s:o,s:o}", "enabled", espat_wifi_ap_enabled(m),
	                 "ssid", jbytes(w->sap.ssid, w->sap.ssid_len), "password",
	                 jbytes(w->sap.pwd, w->sap.pwd_len), "channel", (int)w->sap.channel, "ecn",
	                 (int)w->sap.ecn, "security", ecn_name(w->sap.ecn), "ip", jip(w->ap_ip.ip),
	                 "stations", st);
}

static json_t *links_json(struct espat_module *m)
{
	static const char *const states[] = {"free", "resolving", "connecting", "up", "gone"};
	json_t *a = json_array();
	for (size_t i = 0; a && i < ESPAT_LINKS; i++) {
		const struct espat_link *l = &m->tcpip->links[i];
		if (l->state == ESPAT_LINK_FREE)
			continue;
		char ip[46];
		json_array_append_new(
		    a, json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:i,s:b,s:b,s:I}", "id", (int)l->id,
		                 "state", states[l->state], "type", espat_link_type_name(l->type),
		                 "host", l->host, "remote_ip", espat_ip_str(&l->remote.ip, ip),
		                 "remote_port", (int)l->remote.port, "local_port",
		                 (int)l->local_port, "server", l->server, "passive", l->passive,
		                 "buffered", (json_int_t)l->rx_len));
	}
	return a;
}

/* null when the chip's registry has no MQTT row (ESP8266 v1.5) */
static json_t *mqtt_json(struct espat_module *m)
{
	const struct espat_mqtt *q = m->mqtt;
	if (!q)
		return json_null();
	return json_pack("{s:i,s:i,s:s,s:i,s:b,s:i}", "state", (int)q->state, "scheme",
	                 (int)q->scheme, "host", q->host, "port", (int)q->port, "connected",
	                 q->phase == ESPAT_MQTT_LINK_UP, "subscriptions", (int)q->nsubs);
}

/* ---- pins and buses ------------------------------------------------------------ */

static json_t *jhex(const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *s = malloc(2 * n + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = hex[p[i] >> 4];
		s[2 * i + 1] = hex[p[i] & 15];
	}
	json_t *j = json_stringn(s, 2 * n);
	free(s);
	return j;
}

static json_t *i2c_dev_json(const struct espat_sim_i2c *d)
{
	return json_pack("{s:s,s:i,s:b,s:s,s:i,s:i,s:I,s:I}", "label", d->label, "addr",
	                 (int)d->addr, "ten_bit", d->ten_bit, "type",
	                 d->kind == ESPAT_SIM_SENSOR ? "sensor" : "eeprom", "size", (int)d->size,
	                 "ptr", (int)d->ptr, "writes", (json_int_t)d->writes, "reads",
	                 (json_int_t)d->reads);
}

/* The LEDC as the driver family keeps it; duty is where a fade is now. */
static json_t *pwm_json(struct espat_module *m)
{
	const struct espat_drv *d = m->drv;
	json_t *chs = json_array();
	uint64_t now = espat_module_now(m);
	for (size_t i = 0; i < d->nch; i++) {
		const struct espat_drv_pwm *c = &d->ch[i];
		json_array_append_new(
		    chs,
		    json_pack("{s:i,s:i,s:b,s:i,s:I}", "gpio", c->gpio, "duty",
		              (int)espat_drv_pwm_duty(m, i), "fading", c->fading && now < c->t1,
		              "target", (int)(c->fading ? c->target : c->duty), "fade_left_ms",
		              (json_int_t)(c->fading && now < c->t1 ? c->t1 - now : 0)));
	}
	return json_pack("{s:b,s:i,s:i,s:o}", "on", d->pwm_on, "freq", (int)d->freq, "res",
	                 (int)d->res, "channels", chs);
}

static json_t *wake_json(struct espat_module *m, const struct espat_sim_periph *pe)
{
	const struct espat_user *u = espat_user_state(m);
	int level =
	    u->wk_mode == ESPAT_WAKE_GPIO && u->wk_num <= ESPAT_GPIO_MAX ? pe->gpio[u->wk_num] : -1;
	return json_pack("{s:b,s:s,s:i,s:i,s:i,s:i,s:b,s:b,s:i,s:i}", "enabled", u->wk_on, "mode",
	                 u->wk_mode == ESPAT_WAKE_UART ? "uart" : "gpio", "number", (int)u->wk_num,
	                 "signal", (int)u->wk_signal, "delay_ms", (int)u->wk_delay, "check",
	                 (int)u->wk_check, "mcu_asleep", u->mcu_asleep, "waking", u->waking,
	                 "wakes", (int)u->wakes, "level", level);
}

static json_t *periph_json(struct espat_ctl *c, struct espat_module *m)
{
	const struct espat_sim_periph *pe = &c->world->periph;
	const struct espat_drv *d = m->drv;
	json_t *devs = json_array(), *adc = json_array(), *gpio = json_object();
	for (size_t i = 0; i < pe->ni2c; i++)
		json_array_append_new(devs, i2c_dev_json(&pe->i2c[i]));
	for (size_t i = 0; i < ESPAT_ADC_CHANNELS; i++)
		json_array_append_new(adc, json_integer(pe->adc_mv[i]));
	for (int i = 0; i <= ESPAT_GPIO_MAX; i++) {
		if (pe->gpio[i] < 0)
			continue;
		char k[16];
		snprintf(k, sizeof(k), "%d", i);
		json_object_set_new(gpio, k, json_integer(pe->gpio[i]));
	}
	json_t *spi_dev = pe->spi.present
	                      ? json_pack("{s:s,s:i,s:I}", "label", pe->spi.label, "size",
	                                  (int)pe->spi.size, "xfers", (json_int_t)pe->spi.xfers)
	                      : json_null();
	return json_pack("{s:{s:b,s:i,s:i,s:i,s:o},s:{s:b,s:i,s:i,s:o},s:o,s:o,s:o,s:o}", "i2c",
	                 "open", d->i2c_on, "clock", (int)d->i2c_clock, "scl", d->scl, "sda",
	                 d->sda, "devices", devs, "spi", "open", d->spi_on, "clock",
	                 (int)d->spi.clock_hz, "mode", (int)d->spi.mode, "device", spi_dev,
	                 "adc_mv", adc, "pwm", pwm_json(m), "gpio", gpio, "wake", wake_json(m, pe));
}

static json_t *plcp_json(struct espat_module *m)
{
	return json_pack("{s:b,s:s}", "manual", espat_sig_plcp_manual(m), "preamble",
	                 espat_sig_plcp_long(m) ? "long" : "short");
}

static char *no_dev(const char *label)
{
	return fail("no I2C device '%s'", label);
}

/* OFFSET and LEN of a memory of size bytes, as [1] and [2] of argv
 * (defaults: 0, the rest). */
static bool range_args(size_t argc, const char *const *argv, uint32_t size, uint32_t *off,
                       uint32_t *len)
{
	int64_t o = 0, n = -1;
	if (argc > 0 && (!espat_parse_int(argv[0], strlen(argv[0]), &o) || o < 0 || o > size))
		return false;
	if (argc > 1 && (!espat_parse_int(argv[1], strlen(argv[1]), &n) || n < 0 || n > size - o))
		return false;
	*off = (uint32_t)o;
	*len = n < 0 ? size - (uint32_t)o : (uint32_t)n;
	return true;
}

static char *cmd_i2c_add(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	struct espat_sim_periph *pe = &c->world->periph;
	struct espat_world_err e;
	struct espat_sim_i2c *d = espat_sim_i2c_add(pe, argv[0], &e);
	if (!d)
		return fail("i2c add: %s", e.msg);
	for (size_t i = 1; i < argc; i++) {
		char key[KEY_MAX];
		const char *val;
		if (!split_kv(argv[i], key, &val)) {
			espat_sim_i2c_remove(pe, argv[0]);
			return fail("i2c add: expected KEY=VALUE, got '%.60s'", argv[i]);
		}
		if (espat_sim_i2c_set(d, key, val, &e) < 0) {
			espat_sim_i2c_remove(pe, argv[0]);
			return fail("i2c add: %s", e.msg);
		}
	}
	if (espat_sim_i2c_check(pe, d, &e) < 0) {
		espat_sim_i2c_remove(pe, argv[0]);
		return fail("i2c add: %s", e.msg);
	}
	return ok("device", i2c_dev_json(d));
}

static char *cmd_i2c_rm(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	if (!espat_sim_i2c_remove(&c->world->periph, argv[0]))
		return no_dev(argv[0]);
	return ok(NULL, NULL);
}

static char *cmd_i2c_read(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	struct espat_sim_i2c *d = espat_sim_i2c_find(&c->world->periph, argv[0]);
	uint32_t off, len;
	if (!d)
		return no_dev(argv[0]);
	if (!range_args(argc - 1, argv + 1, d->size, &off, &len))
		return fail("i2c read: OFFSET and LEN must lie within the device's %u bytes",
		            (unsigned)d->size);
	return ok("data", jhex(d->mem + off, len));
}

static char *cmd_i2c_write(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	struct espat_sim_i2c *d = espat_sim_i2c_find(&c->world->periph, argv[0]);
	uint8_t buf[ESPAT_SIM_MEM_MAX];
	int64_t off;
	if (!d)
		return no_dev(argv[0]);
	long n = espat_sim_hex(argv[2], buf, sizeof(buf));
	if (!espat_parse_int(argv[1], strlen(argv[1]), &off) || off < 0 || n < 0 ||
	    espat_sim_mem_write(d->mem, d->size, (uint32_t)off, buf, (size_t)n) < 0)
		return fail("i2c write: HEX bytes at OFFSET must fit the device's %u bytes",
		            (unsigned)d->size);
	return ok(NULL, NULL);
}

static char *cmd_spi_add(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	struct espat_sim_periph *pe = &c->world->periph;
	struct espat_world_err e;
	if (espat_sim_spi_attach(pe, argv[0], &e) < 0)
		return fail("spi add: %s", e.msg);
	for (size_t i = 1; i < argc; i++) {
		char key[KEY_MAX];
		const char *val;
		if (!split_kv(argv[i], key, &val) ||
		    espat_sim_spi_set(&pe->spi, key, val, &e) < 0) {
			pe->spi.present = false;
			return fail("spi add: bad setting '%.60s'", argv[i]);
		}
	}
	return ok(NULL, NULL);
}

static char *cmd_spi_rm(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	struct espat_sim_spi *d = &c->world->periph.spi;
	if (!d->present)
		return fail("spi rm: no SPI device");
	d->present = false;
	return ok(NULL, NULL);
}

static char *cmd_spi_read(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	struct espat_sim_spi *d = &c->world->periph.spi;
	uint32_t off, len;
	if (!d->present)
		return fail("spi read: no SPI device");
	if (!range_args(argc, argv, d->size, &off, &len))
		return fail("spi read: OFFSET and LEN must lie within the device's %u bytes",
		            (unsigned)d->size);
	return ok("data", jhex(d->mem + off, len));
}

static char *cmd_adc(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	int64_t ch;
	struct espat_world_err e;
	if (!espat_parse_int(argv[0], strlen(argv[0]), &ch) || ch < 0 || ch >= ESPAT_ADC_CHANNELS)
		return fail("adc: CHANNEL must be 0..%d", ESPAT_ADC_CHANNELS - 1);
	if (espat_sim_adc_set(&c->world->periph, (uint8_t)ch, argv[1], &e) < 0)
		return fail("adc: %s", e.msg);
	return ok(NULL, NULL);
}

static char *cmd_gpio(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	int64_t pin;
	const struct espat_sim_periph *pe = &c->world->periph;
	if (!espat_parse_int(argv[0], strlen(argv[0]), &pin) || pin < 0 || pin > ESPAT_GPIO_MAX)
		return fail("gpio: PIN must be 0..%d", ESPAT_GPIO_MAX);
	return ok("gpio", json_pack("{s:i,s:i,s:i}", "pin", (int)pin, "level", (int)pe->gpio[pin],
	                            "edges", (int)pe->gpio_edges[pin]));
}

/* ---- commands ---------------------------------------------------------------- */

static char *cmd_state(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	struct espat_module *m = module_of(c);
	uint64_t now = espat_module_now(m);
	json_t *st =
	    json_pack("{s:I,s:i,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "uptime_ms",
	              (json_int_t)(now >= m->boot_ms ? now - m->boot_ms : 0), "boots",
	              (int)m->boots, "mode", (int)m->wifi->mode, "station", station_json(c, m),
	              "softap", softap_json(m), "links", links_json(m), "mqtt", mqtt_json(m), "aps",
	              aps_json(c->world), "periph", m->drv ? periph_json(c, m) : json_null(),
	              "plcp", m->sig ? plcp_json(m) : json_null()); /* none on a v1.5 chip */
	if (st) {
		json_object_set_new(st, "faults", espat_ctl_fault_json(c));
		json_object_set_new(st, "air", c->air_state ? c->air_state(c->user) : json_null());
	}
	return ok("state", st);
}

static char *cmd_ap_list(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	return ok("aps", aps_json(c->world));
}

static char *no_ap(const char *label)
{
	return fail("no AP labelled '%s'", label);
}

/* Applies key=value settings to a copy of the world (with a new AP when
 * create), and commits the copy only when every one succeeded. */
static char *apply(struct espat_ctl *c, const char *verb, const char *label, bool create,
                   size_t nkv, const char *const *kv)
{
	char key[KEY_MAX];
	const char *val;
	for (size_t i = 0; i < nkv; i++) {
		if (!split_kv(kv[i], key, &val))
			return fail("ap %s %s: expected key=value, got '%s'", verb, label, kv[i]);
	}
	struct espat_world *w = malloc(sizeof(*w));
	if (w == NULL)
		return NULL;
	*w = *c->world;
	struct espat_world_err err = {0};
	struct espat_world_ap *ap =
	    create ? espat_world_add(w, label, &err) : espat_world_find(w, label);
	if (ap == NULL) {
		free(w);
		return create ? fail("ap add %s: %s", label, err.msg) : no_ap(label);
	}
	for (size_t i = 0; i < nkv; i++) {
		split_kv(kv[i], key, &val);
		char *q = is_string_key(key) ? quoted(val) : NULL;
		if (is_string_key(key) && q == NULL) {
			free(w);
			return NULL;
		}
		int rc = espat_world_set(w, ap, key, q ? q : val, &err);
		free(q);
		if (rc < 0) {
			free(w);
			return fail("ap %s %s: %s", verb, label, err.msg);
		}
	}
	if (espat_world_check(ap, &err) < 0) {
		free(w);
		return fail("ap %s %s: %s", verb, label, err.msg);
	}
	size_t idx = (size_t)(ap - w->ap);
	*c->world = *w;
	free(w);
	changed(c);
	return ok("ap", ap_json(&c->world->ap[idx]));
}

static char *cmd_ap_add(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	return apply(c, "add", argv[0], true, argc - 1, argv + 1);
}

static char *cmd_ap_set(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	return apply(c, "set", argv[0], false, argc - 1, argv + 1);
}

static char *cmd_ap_down(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	static const char *const kv[] = {"up=no"};
	return apply(c, "down", argv[0], false, 1, kv);
}

static char *cmd_ap_up(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	static const char *const kv[] = {"up=yes"};
	return apply(c, "up", argv[0], false, 1, kv);
}

static char *cmd_ap_rm(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	if (!espat_world_remove(c->world, argv[0]))
		return no_ap(argv[0]);
	changed(c);
	return ok(NULL, NULL);
}

static char *cmd_sta_join(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	uint8_t mac[6], pwd[ESPAT_PWD_MAX];
	long pwd_len = -1;
	if (!parse_mac(argv[0], mac))
		return fail("sta join: '%s' is not a MAC address (like 1a:fe:35:98:d3:7b)",
		            argv[0]);
	if (argc == 2) {
		char key[KEY_MAX];
		const char *val;
		if (!split_kv(argv[1], key, &val) || strcmp(key, "password") != 0)
			return fail("sta join: expected password=PWD, got '%s'", argv[1]);
		pwd_len = bytes_arg(val, pwd, sizeof(pwd));
		if (pwd_len < 0)
			return fail("sta join: bad password (at most %d bytes; escapes \\\\ \\\" "
			            "\\xHH)",
			            ESPAT_PWD_MAX);
	}
	const char *why = "refused";
	if (espat_wifi_ap_join(module_of(c), mac, pwd_len < 0 ? NULL : pwd,
	                       pwd_len < 0 ? 0 : (size_t)pwd_len, &why) < 0)
		return fail("sta join %s: %s", argv[0], why);
	return ok(NULL, NULL);
}

static char *cmd_sta_leave(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	uint8_t mac[6];
	if (!parse_mac(argv[0], mac))
		return fail("sta leave: '%s' is not a MAC address (like 1a:fe:35:98:d3:7b)",
		            argv[0]);
	const char *why = "not connected";
	if (espat_wifi_ap_leave(module_of(c), mac, &why) < 0)
		return fail("sta leave %s: %s", argv[0], why);
	return ok(NULL, NULL);
}

static const struct {
	const char *name;
	uint8_t type;
} sc_types[] = {{"esptouch", 1}, {"airkiss", 2}, {"esptouch-v2", 4}};

static const char *sc_type_name(uint8_t type)
{
	for (size_t i = 0; i < sizeof(sc_types) / sizeof(sc_types[0]); i++) {
		if (sc_types[i].type == type)
			return sc_types[i].name;
	}
	return "unknown";
}

static json_t *sc_json(const struct espat_world_smartconfig *sc)
{
	const struct espat_prov *p = &sc->prov;
	if (!sc->active)
		return json_pack("{s:b}", "active", 0);
	return json_pack(
	    "{s:b,s:o,s:o,s:s,s:o,s:o}", "active", 1, "ssid", jbytes(p->ssid, p->ssid_len),
	    "password", jbytes(p->pwd, p->pwd_len), "type", sc_type_name(p->type), "bssid",
	    p->has_bssid ? jmac(p->bssid) : json_null(), "rvd", jbytes(p->rvd, p->rvd_len));
}

static char *cmd_smartconfig_stop(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	c->world->sc = (struct espat_world_smartconfig){0};
	changed(c);
	return ok("smartconfig", sc_json(&c->world->sc));
}

static char *cmd_smartconfig(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	struct espat_world_smartconfig *sc = &c->world->sc;
	struct espat_prov p = {.type = 1};
	long n = bytes_arg(argv[0], p.ssid, sizeof(p.ssid));
	if (n <= 0)
		return fail("smartconfig: bad SSID (1 to %d bytes; escapes \\\\ \\\" \\xHH)",
		            ESPAT_SSID_MAX);
	p.ssid_len = (size_t)n;
	n = bytes_arg(argv[1], p.pwd, sizeof(p.pwd));
	if (n < 0)
		return fail("smartconfig: bad password (at most %d bytes; escapes \\\\ \\\" \\xHH)",
		            ESPAT_PWD_MAX);
	p.pwd_len = (size_t)n;
	for (size_t i = 2; i < argc; i++) {
		char key[KEY_MAX];
		const char *val;
		if (!split_kv(argv[i], key, &val))
			return fail("smartconfig: expected key=value, got '%s'", argv[i]);
		if (strcmp(key, "type") == 0) {
			size_t k = 0;
			while (k < sizeof(sc_types) / sizeof(sc_types[0]) &&
			       strcmp(sc_types[k].name, val) != 0)
				k++;
			if (k == sizeof(sc_types) / sizeof(sc_types[0]))
				return fail("smartconfig: type=%s: expected esptouch, airkiss or "
				            "esptouch-v2",
				            val);
			p.type = sc_types[k].type;
		} else if (strcmp(key, "bssid") == 0) {
			if (!parse_mac(val, p.bssid))
				return fail("smartconfig: bssid=%s: not a MAC address", val);
			p.has_bssid = true;
		} else if (strcmp(key, "rvd") == 0) {
			n = bytes_arg(val, p.rvd, sizeof(p.rvd));
			if (n < 0)
				return fail("smartconfig: bad rvd (at most %zu bytes)",
				            sizeof(p.rvd));
			p.rvd_len = (size_t)n;
		} else {
			return fail("smartconfig: unknown key '%s' (type, bssid, rvd)", key);
		}
	}
	sc->active = true;
	sc->prov = p;
	changed(c);
	return ok("smartconfig", sc_json(sc));
}

static char *cmd_wps(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	struct espat_world_ap *ap = espat_world_find(c->world, argv[0]);
	if (ap == NULL)
		return no_ap(argv[0]);
	if (!ap->bss.wps)
		return fail("wps %s: the AP does not support WPS (ap set %s wps=yes)", argv[0],
		            argv[0]);
	if (!ap->up)
		return fail("wps %s: the AP is down", argv[0]);
	uint64_t now = espat_module_now(module_of(c));
	ap->wps_pressed_ms = now ? now : 1; /* 0 means never pressed */
	changed(c);
	return ok(NULL, NULL);
}

static char *cmd_link_reset(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	int64_t id;
	if (strcmp(argv[0], "mqtt") == 0) {
		if (!module_of(c)->mqtt || espat_mqtt_link_reset(module_of(c)) < 0)
			return fail("link reset: the MQTT client has no connection");
		return ok(NULL, NULL);
	}
	if (!espat_parse_int(argv[0], strlen(argv[0]), &id) || id < 0 || id >= ESPAT_LINKS)
		return fail("link reset: ID must be 0..4 or mqtt");
	if (espat_tcpip_link_reset(module_of(c), (uint8_t)id) < 0)
		return fail("link reset: link %d is not open", (int)id);
	return ok(NULL, NULL);
}

static char *cmd_deauth(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	if (espat_wifi_deauth(module_of(c)) < 0)
		return fail("deauth: the station is not associated with an AP");
	return ok(NULL, NULL);
}

static char *cmd_power_cut(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	c->power_cut(c->user);
	return ok(NULL, NULL);
}

/* The command table the module answers from, in registry order: the
 * introspection AT+CMD? gives on an ESP32-C3, for every chip (v1.5 has no
 * AT+CMD). Each entry: name ("AT+GMR") and its forms. */
static char *cmd_commands(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	const struct espat_module *m = module_of(c);
	json_t *a = json_array();
	for (size_t t = 0; a && t < m->eng.ntables; t++) {
		const struct espat_cmd_table *tab = m->eng.tables[t];
		for (size_t i = 0; i < tab->n; i++) {
			const struct espat_cmd *k = &tab->rows[i];
			char name[64];
			snprintf(name, sizeof(name), "AT%s", k->name);
			json_array_append_new(a, json_pack("{s:s,s:s,s:b,s:b,s:b,s:b}", "name",
			                                   name, "family", tab->family, "test",
			                                   k->test != NULL, "query",
			                                   k->query != NULL, "set", k->set != NULL,
			                                   "exec", k->exec != NULL));
		}
	}
	return ok("commands", a);
}

static char *cmd_help(struct espat_ctl *c, size_t argc, const char *const *argv);

static const struct ctl_cmd cmds[] = {
    {"state", NULL, 0, 0, cmd_state, "", "the module, its Wi-Fi and the world, as JSON"},
    {"commands", NULL, 0, 0, cmd_commands, "",
     "the AT commands the module answers (its chip's table), with their forms"},
    {"ap", "list", 0, 0, cmd_ap_list, "", "the world's access points"},
    {"ap", "add", 1, SIZE_MAX, cmd_ap_add, "LABEL [KEY=VALUE]...",
     "add an AP (keys as in a world file)"},
    {"ap", "set", 2, SIZE_MAX, cmd_ap_set, "LABEL KEY=VALUE...", "change an AP (all or nothing)"},
    {"ap", "rm", 1, 1, cmd_ap_rm, "LABEL", "remove an AP"},
    {"ap", "down", 1, 1, cmd_ap_down, "LABEL", "switch an AP off (up=no)"},
    {"ap", "up", 1, 1, cmd_ap_up, "LABEL", "switch an AP on (up=yes)"},
    {"sta", "join", 1, 2, cmd_sta_join, "MAC [password=PWD]",
     "a station joins the softAP (default: right password)"},
    {"sta", "leave", 1, 1, cmd_sta_leave, "MAC", "a station leaves the softAP"},
    {"smartconfig", "stop", 0, 0, cmd_smartconfig_stop, "", "the phone stops broadcasting"},
    {"smartconfig", NULL, 2, 5, cmd_smartconfig, "SSID PASSWORD [type=TYPE] [bssid=MAC] [rvd=TEXT]",
     "a phone broadcasts SmartConfig (TYPE: esptouch, airkiss, esptouch-v2)"},
    {"wps", NULL, 1, 1, cmd_wps, "LABEL", "press the AP's WPS button"},
    {"deauth", NULL, 0, 0, cmd_deauth, "", "the AP deauthenticates the station"},
    {"link", "reset", 1, 1, cmd_link_reset, "ID|mqtt",
     "the network resets link ID or the MQTT connection (the module sees a reset)"},
    {"i2c", "add", 1, SIZE_MAX, cmd_i2c_add, "LABEL [KEY=VALUE]...",
     "attach an I2C device (addr=, type=eeprom|sensor, size=, data=HEX)"},
    {"i2c", "rm", 1, 1, cmd_i2c_rm, "LABEL", "detach an I2C device"},
    {"i2c", "read", 1, 3, cmd_i2c_read, "LABEL [OFFSET [LEN]]", "a device's memory, as hex"},
    {"i2c", "write", 3, 3, cmd_i2c_write, "LABEL OFFSET HEX",
     "change a device's memory (a sensor's readings)"},
    {"spi", "add", 1, 3, cmd_spi_add, "LABEL [size=N] [data=HEX]", "attach the SPI memory"},
    {"spi", "rm", 0, 0, cmd_spi_rm, "", "detach the SPI memory"},
    {"spi", "read", 0, 2, cmd_spi_read, "[OFFSET [LEN]]", "the SPI memory, as hex"},
    {"adc", NULL, 2, 2, cmd_adc, "CHANNEL MV", "the voltage on an ADC1 channel (0..3300 mV)"},
    {"gpio", NULL, 1, 1, cmd_gpio, "PIN", "a pin's level and level changes (the wake pin)"},
    {"power-cut", NULL, 0, 0, cmd_power_cut, "", "lose power now and boot again on the same flash"},
    /* the world's scripted BLE peers: app/ctl_ble.c */
    {"ble", "peer", 2, SIZE_MAX, espat_ctl_ble_peer,
     "add LABEL addr=MAC [KEY=VALUE]... | rm|connect|disconnect|received LABEL | mtu LABEL N | "
     "read LABEL HANDLE | write LABEL HANDLE HEX [nr] | subscribe LABEL HANDLE "
     "notify|indicate|both|off | notify|indicate LABEL HANDLE HEX (a gatt= peer) | "
     "security LABEL [io=N] [auth=N] [keys=N] [accept=0|1] | pair LABEL | passkey LABEL N | "
     "confirm LABEL 0|1 | encrypt|forget LABEL",
     "a BLE peer advertises around the module (name=, adv=HEX, rsp=HEX, interval=MS, phase=MS, "
     "rssi=DBM, addr_type=0|1, mtu=N, confirm=0|1, gatt=default|ROW;ROW...: a peripheral with "
     "a GATT server), goes, connects to the module's advertising, exchanges "
     "MTUs, reads, writes, subscribes (the CCCD at HANDLE), lists what it received, "
     "disconnects, or pairs (its SMP features, starting, typing a passkey, confirming a "
     "number)"},
    {"ble", "peers", 0, 0, espat_ctl_ble_peer_list, "", "the scripted BLE peers"},
    {"ble", "att", 2, 2, espat_ctl_ble_att, "MAC HEX",
     "the module sends one ATT PDU to the linked device at MAC (as its GATT client would)"},
    {"ble", "air", 0, 0, espat_ctl_ble_air, "",
     "the module's advertising as a phone hears it (null: not advertising)"},
    /* faults on the world's network: app/ctl_fault.c */
    {"fault", "list", 0, 0, espat_ctl_fault_list, "", "the network faults in effect"},
    {"fault", "dns", 1, 2, espat_ctl_fault_dns, "fail|hang|ok [NAME]",
     "DNS answers an error at once, or never (every name, or NAME)"},
    {"fault", "connect", 1, 2, espat_ctl_fault_connect, "blackhole|refuse|ok [ADDR[:PORT]]",
     "TCP connects go unanswered or are refused (every address, or ADDR[:PORT])"},
    {"fault", "latency", 1, 1, espat_ctl_fault_latency, "MS", "add MS ms each way"},
    {"fault", "loss", 1, 1, espat_ctl_fault_loss, "PCT",
     "lose PCT % of UDP datagrams and TCP segments (TCP retransmits: delay)"},
    {"fault", "freeze", 1, 1, espat_ctl_fault_freeze, "ID|mqtt|all",
     "a connection goes silent both ways (only timeouts notice)"},
    {"fault", "thaw", 1, 1, espat_ctl_fault_thaw, "ID|mqtt|all", "a frozen connection flows again"},
    {"fault", "drop", 0, 0, espat_ctl_fault_drop, "", "every TCP connection is reset"},
    {"fault", "clear", 0, 0, espat_ctl_fault_clear, "", "no faults; frozen connections thaw"},
    {"help", NULL, 0, 0, cmd_help, "", "these commands"},
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage_line(const struct ctl_cmd *k, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s%s%s", k->name, k->sub ? " " : "", k->sub ? k->sub : "",
	         k->args[0] ? " " : "", k->args);
}

static char *cmd_help(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < NCMDS; i++) {
		char u[160];
		usage_line(&cmds[i], u, sizeof(u));
		json_array_append_new(a, json_pack("{s:s,s:s}", "usage", u, "help", cmds[i].help));
	}
	return ok("commands", a);
}

void espat_ctl_help(FILE *f)
{
	for (size_t i = 0; i < NCMDS; i++) {
		char u[160];
		usage_line(&cmds[i], u, sizeof(u));
		if (strlen(u) <= 26)
			fprintf(f, "  %-26s %s\n", u, cmds[i].help);
		else
			fprintf(f, "  %s\n      %s\n", u, cmds[i].help);
	}
}

/* The row argv names, with a count of arguments that fits it; NULL with
 * the usage error in err. */
static const struct ctl_cmd *lookup(size_t argc, const char *const *argv, char *err, size_t len)
{
	if (argc == 0) {
		snprintf(err, len, "no command (try help)");
		return NULL;
	}
	bool known = false;
	const struct ctl_cmd *misfit = NULL; /* matched by name, not by count */
	for (size_t i = 0; i < NCMDS; i++) {
		const struct ctl_cmd *k = &cmds[i];
		if (strcmp(argv[0], k->name) != 0)
			continue;
		known = true;
		size_t words = k->sub ? 2 : 1;
		if (k->sub && (argc < 2 || strcmp(argv[1], k->sub) != 0))
			continue;
		size_t n = argc - words;
		if (n < k->min || n > k->max) {
			/* "smartconfig stop x": maybe the SSID "stop" */
			if (misfit == NULL || k->sub == NULL)
				misfit = k;
			continue;
		}
		return k;
	}
	if (!known) {
		snprintf(err, len, "unknown command '%s' (try help)", argv[0]);
		return NULL;
	}
	if (misfit != NULL) {
		char u[160];
		usage_line(misfit, u, sizeof(u));
		snprintf(err, len, "usage: %s", u);
		return NULL;
	}
	/* A known family with an unknown or missing second word. */
	char subs[128] = "";
	size_t o = 0;
	for (size_t i = 0; i < NCMDS; i++) {
		if (strcmp(argv[0], cmds[i].name) == 0 && cmds[i].sub && o < sizeof(subs))
			o += (size_t)snprintf(subs + o, sizeof(subs) - o, "%s%s", o ? ", " : "",
			                      cmds[i].sub);
	}
	if (argc < 2)
		snprintf(err, len, "%s: which one? (%s)", argv[0], subs);
	else
		snprintf(err, len, "%s: unknown subcommand '%s' (%s)", argv[0], argv[1], subs);
	return NULL;
}

char *espat_ctl_reply_ok(const char *key, json_t *val)
{
	return ok(key, val);
}

char *espat_ctl_reply_fail(const char *msg)
{
	return fail("%s", msg);
}

int espat_ctl_check(size_t argc, const char *const *argv, char *err, size_t errlen)
{
	return lookup(argc, argv, err, errlen) != NULL ? 0 : -1;
}

char *espat_ctl_run(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	char err[MSG_MAX];
	const struct ctl_cmd *k = lookup(argc, argv, err, sizeof(err));
	if (k == NULL)
		return fail("%s", err);
	size_t words = k->sub ? 2 : 1;
	return k->fn(c, argc - words, argv + words);
}
