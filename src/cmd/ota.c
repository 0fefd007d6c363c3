/* AT+CIUPDATE and AT+CIPFWVER (guide 3.3.23, 3.3.24): updates from the
 * OTA server the world names, as esp-at's at_ota_cmd.c talks to
 * Espressif's (docs/internals/ota.md):
 *
 *   GET <server>/v1/device/rom/?is_format_simple=true        -> "rom_version": "<v>"
 *   GET <server>/v1/device/rom/?action=download_rom&version=<v>&filename=<name>.bin
 *   GET <server>/v1/device/rom                               -> every "version": "<v>"
 *
 * each with "Authorization: token <token>", the token being the one of the
 * module named in the factory data. +CIPUPDATE:1 comes when the server's
 * name resolves, 2 when the version query connects, 3 when its answer
 * names a version, 4 when the image is written; with a <version> given
 * there is no query, so 2 and 3 never come (as on the real module).
 *
 * Every exchange goes through the module's HTTP client (cmd/httpc.h), so
 * the module's network view and the world's faults apply. The image of the
 * app ("ota") goes to the app slot that is not booting, a file of the
 * files port (ota_<slot>.bin in the data dir, replaced only once all of it
 * has come); the slot then becomes the boot slot (struct
 * espat_ota_state, shared with AT+SYSROLLBACK). Any other <firmware name>
 * is a user partition of the flash port, erased and written as the bytes
 * come, as esp-at does. */
#include "cmd/ota.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the OTA slots and the factory identity belong to the basic family
 * (AT+SYSROLLBACK); this family is their other user */
#include "cmd/family.h"
#include "cmd/params.h"
#include "cmd/wifi.h"

static struct espat_engine *E(struct espat_module *m)
{
	return &m->eng;
}

/* ---- the server ------------------------------------------------------------ */

/* The OTA tokens the firmware holds per module, picked by the factory
 * data's module_name (esp-at's esp_at_get_ota_token_by_id()). These are
 * espat's factory tokens, not Espressif's: a test server checks them. An
 * unknown module name gets the first entry, as esp-at's module id 0. */
static const struct {
	const char *module;
	const char *token[2]; /* [0] plain HTTP, [1] TLS */
} ota_tokens[] = {
    {"MINI-1",
     {"dbe740016d7d88ceff35f4318d57b8a81dc75db0", "fae8808e653d27daab2e64a8b23f9ed8ecacd66c"}},
};


static const char *ota_token(struct espat_module *m, bool tls)
{
	const struct espat_kv *kv = &m->ports.mfg;
	uint8_t val[1 + 32];
	long n = kv->get(kv->user, "factory_param", "module_name", val, sizeof(val));
	size_t pick = 0;
	if (n > 1 && (size_t)n <= sizeof(val) && val[0] == ESPAT_MFG_STR) {
		for (size_t i = 0; i < sizeof(ota_tokens) / sizeof(ota_tokens[0]); i++) {
			const char *name = ota_tokens[i].module;
			if (strlen(name) == (size_t)n - 1 &&
			    memcmp(name, val + 1, (size_t)n - 1) == 0)
				pick = i;
		}
	}
	return ota_tokens[pick].token[tls ? 1 : 0];
}

static const char *server(struct espat_module *m, bool tls)
{
	const struct espat_radio *r = &m->ports.radio;
	const char *s = r->ota_server ? r->ota_server(r->user, tls) : NULL;
	return s ? s : tls ? ESPAT_OTA_SSL_SERVER : ESPAT_OTA_SERVER;
}

/* A URL being built; over is set (and the text stops growing) when it
 * does not fit. */
struct url {
	char s[ESPAT_OTA_URL_MAX + 1];
	size_t len;
	bool over;
};

static void url_put(struct url *u, const char *s)
{
	size_t n = strlen(s);
	if (u->over || n > ESPAT_OTA_URL_MAX - u->len) {
		u->over = true;
		return;
	}
	memcpy(u->s + u->len, s, n);
	u->len += n;
	u->s[u->len] = '\0';
}

/* Appends s with everything but RFC 3986's unreserved characters
 * percent-encoded (a query value must not break the request line). */
static void url_put_enc(struct url *u, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char e[4] = {(char)c, 0, 0, 0};
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_' || c == '~')) {
			e[0] = '%';
			e[1] = hex[c >> 4];
			e[2] = hex[c & 15];
		}
		url_put(u, e);
	}
}

/* ---- answers ----------------------------------------------------------------- */

static size_t skip_blanks(const uint8_t *p, size_t n, size_t i)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i;
}

/* The next string value of "key" in the JSON text p[*pos..n): *v and *vn
 * the value without its quotes, *pos past it. Like esp-at, this looks for the
 * key's text rather than parsing the document (blanks around the colon
 * are allowed); a value with a backslash escape is skipped (no version
 * has one). */
static bool json_next(const uint8_t *p, size_t n, size_t *pos, const char *key, const char **v,
                      size_t *vn)
{
	char quoted[40];
	int kn = snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	if (kn < 0 || (size_t)kn >= sizeof(quoted))
		return false;
	size_t i = *pos;
	while (i < n) {
		const uint8_t *hit = memmem(p + i, n - i, quoted, (size_t)kn);
		if (!hit)
			return false;
		i = (size_t)(hit - p) + (size_t)kn;
		size_t j = skip_blanks(p, n, i);
		if (j >= n || p[j] != ':')
			continue;
		j = skip_blanks(p, n, j + 1);
		if (j >= n || p[j] != '"')
			continue;
		const uint8_t *end = memchr(p + j + 1, '"', n - j - 1);
		if (!end)
			return false;
		size_t len = (size_t)(end - (p + j + 1));
		i = (size_t)(end - p) + 1;
		if (memchr(p + j + 1, '\\', len))
			continue;
		*v = (const char *)p + j + 1;
		*vn = len;
		*pos = i;
		return true;
	}
	return false;
}

/* A version as a request may carry it: 1..64 printable bytes, none of
 * them a quote, backslash or comma. */
static bool version_ok(const char *v, size_t n)
{
	if (n == 0 || n > ESPAT_OTA_ARG_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] <= 0x20 || v[i] >= 0x7f || v[i] == '"' || v[i] == '\\' || v[i] == ',')
			return false;
	return true;
}

/* The version as AT+GMR's "AT version:" shows it: without the 'v' of
 * "v3.4.0.0". */
static const char *at_form(const char *v)
{
	return (v[0] == 'v' || v[0] == 'V') && v[1] ? v + 1 : v;
}

/* ---- images ---------------------------------------------------------------- */

/* The first bytes an image must start with, per <firmware name>: the app's
 * 0xE9 (ESP image header), the PKI partitions' 0xF1F1, the BLE data's and
 * the factory parameters' own. A name without an entry cannot be
 * verified, so its update fails (as on the real module). */
static const struct {
	const char *name;
	uint8_t off, len;
	uint8_t magic[2];
} image_magic[] = {
    {"ota", 0, 1, {ESPAT_OTA_APP_MAGIC}},
    {"mqtt_ca", 0, 2, {0xF1, 0xF1}},
    {"mqtt_cert", 0, 2, {0xF1, 0xF1}},
    {"mqtt_key", 0, 2, {0xF1, 0xF1}},
    {"client_ca", 0, 2, {0xF1, 0xF1}},
    {"client_cert", 0, 2, {0xF1, 0xF1}},
    {"client_key", 0, 2, {0xF1, 0xF1}},
    {"server_ca", 0, 2, {0xF1, 0xF1}},
    {"server_cert", 0, 2, {0xF1, 0xF1}},
    {"server_key", 0, 2, {0xF1, 0xF1}},
    {"wpa2_ca", 0, 2, {0xF1, 0xF1}},
    {"wpa2_cert", 0, 2, {0xF1, 0xF1}},
    {"wpa2_key", 0, 2, {0xF1, 0xF1}},
    {"ble_data", 2, 2, {0x27, 0x95}},
    {"factory_param", 0, 2, {0xFC, 0xFC}},
};
#define NMAGIC (sizeof(image_magic) / sizeof(image_magic[0]))

static long magic_index(const char *name)
{
	for (size_t i = 0; i < NMAGIC; i++)
		if (strcmp(image_magic[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Body bytes needed before the magic can be judged. */
static size_t magic_need(const char *name)
{
	long i = magic_index(name);
	return i < 0 ? 1 : (size_t)image_magic[i].off + image_magic[i].len;
}

static bool magic_ok(const char *name, const uint8_t head[ESPAT_OTA_HEAD_MAX])
{
	long i = magic_index(name);
	return i >= 0 &&
	       memcmp(head + image_magic[i].off, image_magic[i].magic, image_magic[i].len) == 0;
}

/* ---- exchanges with the server ----------------------------------------------- */

/* Starts a GET of url with the OTA token; keep: the body is an answer to
 * parse (kept in x->buf). 0, or the client's error. */
static int xfer_get(struct espat_module *m, struct espat_ota_xfer *x, const char *url, bool tls,
                    bool keep, const struct espat_httpc_cbs *cb)
{
	char auth[96];
	snprintf(auth, sizeof(auth), "Authorization: token %s", ota_token(m, tls));
	free(x->buf);
	x->buf = NULL;
	x->len = 0;
	x->status = 0;
	x->length = -1;
	x->got = 0;
	if (keep && !(x->buf = malloc(ESPAT_OTA_META_MAX)))
		return ESPAT_NET_ENOMEM;
	const char *headers[] = {auth};
	/* the OTA client's TLS checks nothing: esp-at gives it no CA */
	struct espat_httpc_req r = {
	    .method = "GET",
	    .url = url,
	    .url_len = strlen(url),
	    .headers = headers,
	    .nheaders = 1,
	};
	int err = 0;
	return espat_httpc_start(&x->http, m, &r, cb, m, &err) == 0 ? 0 : err;
}

/* Drops an image being saved: the file stays as it was. */
static void xfer_drop_file(struct espat_module *m, struct espat_ota_xfer *x)
{
	if (x->file)
		m->ports.files.abort(m->ports.files.user, x->file);
	x->file = NULL;
}

/* Ends an exchange: nothing of it runs afterwards. */
static void xfer_end(struct espat_module *m, struct espat_ota_xfer *x)
{
	espat_httpc_cancel(&x->http);
	xfer_drop_file(m, x);
	free(x->buf);
	x->buf = NULL;
	x->len = 0;
	espat_timer_cancel(&m->timers, &x->timer);
}

/* Keeps an answer's bytes; false when it outgrows ESPAT_OTA_META_MAX. */
static bool xfer_keep(struct espat_ota_xfer *x, const uint8_t *p, size_t n)
{
	if (n > ESPAT_OTA_META_MAX - x->len)
		return false;
	memcpy(x->buf + x->len, p, n);
	x->len += n;
	return true;
}

/* ---- AT+CIUPDATE -------------------------------------------------------------- */

static const struct espat_httpc_cbs update_cbs;

/* Prints +CIPUPDATE:<st>: a response line while the command waits, a
 * report after a non-blocking OK. */
static void progress(struct espat_module *m, int st)
{
	struct espat_ota *o = m->ota;
	o->progress = (int8_t)st;
	if (o->by_url)
		return;
	if (o->blocking)
		espat_wr_linef(&m->wr, "%s%d", m->dialect->ota_progress, st);
	else
		espat_wr_reportf(&m->wr, "%s%d", m->dialect->ota_progress, st);
}

static void update_end(struct espat_module *m)
{
	struct espat_ota *o = m->ota;
	xfer_end(m, &o->x);
	o->step = ESPAT_OTA_NONE;
	o->target_ready = false;
	free(o->url);
	o->url = NULL;
}

/* An update by URL has ended: its owner hears it (once). */
static bool url_end(struct espat_module *m, bool ok)
{
	struct espat_ota *o = m->ota;
	if (!o->by_url)
		return false;
	void (*done)(struct espat_module *, bool) = o->url_done;
	o->by_url = false;
	o->url_done = NULL;
	if (!ok)
		o->progress = ESPAT_OTA_ST_FAILED;
	update_end(m);
	if (done)
		done(m, ok);
	return true;
}

static void update_fail(struct espat_module *m)
{
	struct espat_ota *o = m->ota;
	bool blocking = o->blocking;
	if (url_end(m, false))
		return;
	update_end(m);
	o->progress = ESPAT_OTA_ST_FAILED;
	if (blocking)
		espat_engine_complete(E(m), espat_fail(E(m), ESPAT_ERR_EXEC));
	else
		espat_wr_reportf(&m->wr, "+CIPUPDATE:-1");
}

static void update_timeout(void *user)
{
	update_fail(user);
}

/* A non-blocking update that could not even start: its failure comes
 * after the OK. */
static void late_fail(void *user)
{
	struct espat_module *m = user;
	espat_wr_reportf(&m->wr, "+CIPUPDATE:-1");
}

/* The app slot an update writes: the one after the boot slot. */
static uint8_t app_slot(struct espat_module *m)
{
	struct espat_ota_state st;
	espat_ota_load(m, &st);
	return st.running ? 0 : 1;
}

bool espat_ota_target_slot(struct espat_module *m, uint8_t *slot)
{
	*slot = app_slot(m);
	return *slot != m->ota->running_slot;
}

int espat_ota_boot_from(struct espat_module *m, uint8_t slot, const char *version)
{
	struct espat_ota_state st;
	espat_ota_load(m, &st);
	const char *v = version ? version : st.version[st.running];
	size_t vn = strlen(v);
	if (vn >= ESPAT_OTA_VER_MAX)
		return -1;
	memmove(st.version[slot], v, vn + 1);
	st.running = slot;
	return espat_ota_save(m, &st);
}

static bool is_app(const struct espat_ota *o)
{
	return strcmp(o->name, "ota") == 0;
}

/* The version an app image's descriptor names ("v3.4.0.0" as AT+GMR's
 * form), or NULL when its first bytes hold no descriptor or no version
 * AT+GMR can show. */
static const char *desc_version(struct espat_ota *o, char out[ESPAT_OTA_FWVER_MAX + 1])
{
	const uint8_t *d = o->head + ESPAT_OTA_DESC_OFF;
	uint32_t magic = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
	                 (uint32_t)d[3] << 24; /* little-endian, as the chip writes it */
	if (o->x.got < ESPAT_OTA_HEAD_MAX || magic != ESPAT_OTA_DESC_MAGIC)
		return NULL;
	const uint8_t *v = o->head + ESPAT_OTA_DESC_VERSION_OFF;
	size_t n = 0;
	while (n < 32 && v[n])
		n++;
	if (n == 0 || n == 32 || !version_ok((const char *)v, n))
		return NULL;
	memcpy(out, v, n);
	out[n] = '\0';
	return at_form(out);
}

/* Picks what the image overwrites, as esp-at does before the download:
 * the app slot after the boot slot (refused when that is the slot running
 * now: a second update before the restart, ESP_ERR_OTA_PARTITION_CONFLICT;
 * and when the version would not fit the image's app descriptor), or the
 * user partition of that name, erased. */
static bool target_prepare(struct espat_module *m)
{
	struct espat_ota *o = m->ota;
	o->target_ready = true;
	if (is_app(o)) {
		o->part = -1;
		return espat_ota_target_slot(m, &o->slot) &&
		       strlen(at_form(o->version)) <= ESPAT_OTA_FWVER_MAX;
	}
	const struct espat_flash *fl = &m->ports.flash;
	const struct espat_flash_part *p;
	for (size_t i = 0; (p = fl->part(fl->user, i)) != NULL; i++) {
		if (strcmp(p->name, o->name) == 0) {
			o->part = (long)i;
			return fl->erase(fl->user, i, 0, p->size) == 0;
		}
	}
	return false;
}

/* The download: <server>/v1/device/rom/?action=download_rom&version=...
 * An app image is saved as ota_<slot>.bin (once its head came). With <version>
 * given the target is prepared only once the name resolves (esp-at's
 * order), so the slot is worked out here too. */
static int fetch_start(struct espat_module *m)
{
	struct espat_ota *o = m->ota;
	struct url u = {.len = 0};
	url_put(&u, server(m, o->tls));
	url_put(&u, "/v1/device/rom/?action=download_rom&version=");
	url_put_enc(&u, o->version);
	url_put(&u, "&filename=");
	url_put_enc(&u, o->name);
	url_put(&u, ".bin");
	if (u.over)
		return ESPAT_NET_EINVAL;
	o->step = ESPAT_OTA_FETCH;
	return xfer_get(m, &o->x, u.s, o->tls, false, &update_cbs);
}

static void update_phase(void *user, enum espat_httpc_phase ph)
{
	struct espat_module *m = user;
	struct espat_ota *o = m->ota;
	if (ph == ESPAT_HTTPC_CONNECTED) {
		if (o->step == ESPAT_OTA_ASK)
			progress(m, ESPAT_OTA_ST_CONNECTED);
		return;
	}
	if (o->step == ESPAT_OTA_ASK || o->version_given)
		progress(m, ESPAT_OTA_ST_FOUND);
	if (o->step == ESPAT_OTA_FETCH && !o->target_ready && !target_prepare(m))
		update_fail(m);
}

static void update_status(void *user, int status, int64_t length)
{
	struct espat_module *m = user;
	struct espat_ota *o = m->ota;
	o->x.status = status;
	o->x.length = length;
	if (o->step == ESPAT_OTA_ASK) {
		if (status < 200 || status > 299)
			update_fail(m);
		return;
	}
	/* An image: all of it announced (esp-at reads Content-Length), not
	 * empty, and no larger than what it goes to. */
	uint64_t cap = ESPAT_OTA_SLOT_SIZE;
	if (o->part >= 0)
		cap = m->ports.flash.part(m->ports.flash.user, (size_t)o->part)->size;
	if (status != 200 || length <= 0 || (uint64_t)length > cap) {
		update_fail(m);
		return;
	}
	if (o->part < 0) {
		char name[16];
		snprintf(name, sizeof(name), "ota_%u.bin", (unsigned)o->slot);
		const struct espat_files *fs = &m->ports.files;
		if (!fs->create || !(o->x.file = fs->create(fs->user, name)))
			update_fail(m);
	}
}

static void update_body(void *user, const uint8_t *p, size_t n)
{
	struct espat_module *m = user;
	struct espat_ota *o = m->ota;
	struct espat_ota_xfer *x = &o->x;
	if (o->step == ESPAT_OTA_ASK) {
		if (!xfer_keep(x, p, n))
			update_fail(m);
		return;
	}
	uint64_t at = x->got;
	if (n > (uint64_t)x->length - at) {
		update_fail(m);
		return;
	}
	for (size_t i = 0; at + i < sizeof(o->head) && i < n; i++)
		o->head[at + i] = p[i];
	x->got += n;
	size_t need = magic_need(o->name);
	if (at < need && x->got >= need && !magic_ok(o->name, o->head)) {
		update_fail(m);
		return;
	}
	const struct espat_flash *fl = &m->ports.flash;
	const struct espat_files *fs = &m->ports.files;
	if (o->part >= 0 ? fl->write(fl->user, (size_t)o->part, (uint32_t)at, p, (uint32_t)n) != 0
	                 : fs->write(fs->user, x->file, p, n) != 0)
		update_fail(m);
}

/* The version query's answer: its rom_version is what to fetch. */
static bool take_version(struct espat_module *m)
{
	struct espat_ota *o = m->ota;
	size_t pos = 0, vn = 0;
	const char *v = NULL;
	if (!json_next(o->x.buf, o->x.len, &pos, "rom_version", &v, &vn) || !version_ok(v, vn))
		return false;
	memcpy(o->version, v, vn);
	o->version[vn] = '\0';
	return true;
}

static void update_succeed(struct espat_module *m)
{
	struct espat_ota *o = m->ota;
	bool blocking = o->blocking, app = o->part < 0;
	progress(m, ESPAT_OTA_ST_DONE);
	if (url_end(m, true))
		return;
	update_end(m);
	if (!blocking)
		return; /* the host restarts the module when it likes */
	if (!app) {
		espat_engine_complete(E(m), ESPAT_RC_OK);
		return;
	}
	/* the blocking update of the app restarts into it */
	espat_wr_ok(&m->wr);
	espat_engine_complete(E(m), ESPAT_RC_DONE);
	espat_module_restart(m, m->opts.restart_ms);
}

static void update_done(void *user, int err)
{
	struct espat_module *m = user;
	struct espat_ota *o = m->ota;
	if (err != 0) {
		update_fail(m);
		return;
	}
	if (o->step == ESPAT_OTA_ASK) {
		if (!take_version(m)) {
			update_fail(m);
			return;
		}
		progress(m, ESPAT_OTA_ST_VERSION);
		if (!target_prepare(m) || fetch_start(m) != 0)
			update_fail(m);
		return;
	}
	if (o->x.got != (uint64_t)o->x.length || o->x.got < magic_need(o->name)) {
		update_fail(m);
		return;
	}
	if (o->part < 0) {
		struct espat_file_w *file = o->x.file;
		o->x.file = NULL;
		if (m->ports.files.commit(m->ports.files.user, file) != 0) {
			update_fail(m);
			return;
		}
		char dv[ESPAT_OTA_FWVER_MAX + 1];
		const char *v = o->by_url ? desc_version(o, dv) : at_form(o->version);
		if (espat_ota_boot_from(m, o->slot, v) != 0) {
			update_fail(m);
			return;
		}
	}
	update_succeed(m);
}

static const struct espat_httpc_cbs update_cbs = {
    .phase = update_phase,
    .status = update_status,
    .body = update_body,
    .done = update_done,
};

/* Starts an update; returns what the command answers now. */
static enum espat_rc update_start(struct espat_module *m, bool tls, const char *version,
                                  const char *name, bool blocking)
{
	struct espat_ota *o = m->ota;
	if (o->step != ESPAT_OTA_NONE)
		return espat_fail(E(m), ESPAT_ERR_EXEC); /* esp-at: "ALREADY IN OTA" */
	espat_timer_cancel(&m->timers, &o->fail_timer);
	o->blocking = blocking;
	o->tls = tls;
	o->version_given = version[0] != '\0';
	o->target_ready = false;
	o->part = -1;
	memset(o->head, 0, sizeof(o->head));
	snprintf(o->version, sizeof(o->version), "%s", version);
	snprintf(o->name, sizeof(o->name), "%s", name[0] ? name : "ota");
	int err = ESPAT_NET_EUNREACH;
	if (espat_wifi_online(m)) {
		if (o->version_given) {
			err = fetch_start(m);
		} else {
			struct url u = {.len = 0};
			url_put(&u, server(m, tls));
			url_put(&u, "/v1/device/rom/?is_format_simple=true");
			o->step = ESPAT_OTA_ASK;
			err = u.over ? ESPAT_NET_EINVAL : xfer_get(m, &o->x, u.s, tls, true, &update_cbs);
		}
	}
	if (err != 0) {
		/* no way to the server: the name does not even resolve */
		update_end(m);
		o->progress = ESPAT_OTA_ST_FAILED;
		if (blocking)
			return espat_fail(E(m), ESPAT_ERR_EXEC);
		espat_timer_arm(&m->timers, &o->fail_timer, espat_module_now(m), late_fail, m);
		return ESPAT_RC_OK;
	}
	espat_timer_arm(&m->timers, &o->x.timer, espat_module_now(m) + ESPAT_OTA_TIMEOUT_MS,
	                update_timeout, m);
	return blocking ? ESPAT_RC_PENDING : ESPAT_RC_OK;
}

int espat_ota_fetch_url(struct espat_module *m, const char *url, size_t len,
                        void (*done)(struct espat_module *m, bool ok))
{
	struct espat_ota *o = m->ota;
	if (o->step != ESPAT_OTA_NONE || !espat_wifi_online(m))
		return -1;
	espat_timer_cancel(&m->timers, &o->fail_timer);
	if (!(o->url = malloc(len + 1)))
		return -1;
	memcpy(o->url, url, len);
	o->url[len] = '\0';
	o->by_url = true;
	o->url_done = done;
	o->blocking = true;
	o->tls = len >= 8 && memcmp(url, "https://", 8) == 0;
	o->version_given = true;
	o->version[0] = '\0';
	snprintf(o->name, sizeof(o->name), "ota");
	o->part = -1;
	memset(o->head, 0, sizeof(o->head));
	/* the slot is chosen now: a second image before the restart is
	 * refused before anything is fetched */
	o->target_ready = true;
	o->step = ESPAT_OTA_FETCH;
	struct espat_httpc_req r = {.method = "GET", .url = o->url, .url_len = len};
	int err = 0;
	if (!espat_ota_target_slot(m, &o->slot) ||
	    espat_httpc_start(&o->x.http, m, &r, &update_cbs, m, &err) != 0) {
		o->by_url = false;
		o->url_done = NULL;
		update_end(m);
		return -1;
	}
	o->x.status = 0;
	o->x.length = -1;
	o->x.got = 0;
	espat_timer_arm(&m->timers, &o->x.timer, espat_module_now(m) + ESPAT_OTA_TIMEOUT_MS,
	                update_timeout, m);
	return 0;
}

static enum espat_rc ciupdate_query(struct espat_module *m, const struct espat_args *a)
{
	/* esp-at prints the command's own name here, not +CIPUPDATE */
	espat_wr_linef(&m->wr, "+CIUPDATE:%d", m->ota->progress);
	return ESPAT_RC_OK;
}

/* AT+CIUPDATE: the latest version of the app, over plain HTTP, blocking. */
enum espat_rc espat_ota_ciupdate_exec(struct espat_module *m, const struct espat_args *a)
{
	return update_start(m, false, "", "ota", true);
}

static const struct espat_param p_ciupdate[] = {
    P_INT("ota mode", 0, 1),
    P_STR_OPT("version", ESPAT_OTA_ARG_MAX),
    P_STR_OPT("firmware name", ESPAT_OTA_ARG_MAX),
    P_INT_OPT("nonblocking", 0, 1),
};

/* A string argument as a C string ("" when omitted); false when it holds
 * a NUL or, for a version, bytes no request can carry. */
static bool str_arg(const struct espat_args *a, size_t i, char *out, bool version)
{
	out[0] = '\0';
	if (i >= a->n || a->v[i].kind != ESPAT_ARG_STR || a->v[i].len == 0)
		return true;
	const struct espat_arg *v = &a->v[i];
	if (memchr(v->s, '\0', v->len) || (version && !version_ok(v->s, v->len)))
		return false;
	memcpy(out, v->s, v->len);
	out[v->len] = '\0';
	return true;
}

static enum espat_rc ciupdate_set(struct espat_module *m, const struct espat_args *a)
{
	char version[ESPAT_OTA_ARG_MAX + 1], name[ESPAT_OTA_ARG_MAX + 1];
	if (!str_arg(a, 1, version, true))
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	if (!str_arg(a, 2, name, false))
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	bool nonblocking = a->n > 3 && a->v[3].kind == ESPAT_ARG_INT && a->v[3].i == 1;
	return update_start(m, a->v[0].i == 1, version, name, !nonblocking);
}

/* ---- AT+CIPFWVER ------------------------------------------------------------- */

static void fwver_fail(struct espat_module *m)
{
	xfer_end(m, &m->ota->fwver);
	espat_engine_complete(E(m), espat_fail(E(m), ESPAT_ERR_EXEC));
}

static void fwver_timeout(void *user)
{
	fwver_fail(user);
}

static void fwver_status(void *user, int status, int64_t length)
{
	struct espat_module *m = user;
	m->ota->fwver.status = status;
	if (status >= 400)
		fwver_fail(m);
}

static void fwver_body(void *user, const uint8_t *p, size_t n)
{
	struct espat_module *m = user;
	if (!xfer_keep(&m->ota->fwver, p, n))
		fwver_fail(m);
}

/* Every "version" of the server's list, one +CIPFWVER line each, in its
 * order (esp-at prints each value with its quotes). */
static void fwver_done(void *user, int err)
{
	struct espat_module *m = user;
	struct espat_ota_xfer *x = &m->ota->fwver;
	if (err != 0) {
		fwver_fail(m);
		return;
	}
	size_t pos = 0, vn = 0;
	const char *v = NULL;
	while (json_next(x->buf, x->len, &pos, "version", &v, &vn))
		espat_wr_linef(&m->wr, "+CIPFWVER:\"%.*s\"", (int)vn, v);
	xfer_end(m, x);
	espat_engine_complete(E(m), ESPAT_RC_OK);
}

static const struct espat_httpc_cbs fwver_cbs = {
    .status = fwver_status,
    .body = fwver_body,
    .done = fwver_done,
};

/* Asks the TLS server (esp-at builds AT+CIPFWVER on its SSL OTA server
 * when OTA over TLS is enabled, as in Espressif's firmware). */
static enum espat_rc cipfwver_query(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ota_xfer *x = &m->ota->fwver;
	if (!espat_wifi_online(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	struct url u = {.len = 0};
	url_put(&u, server(m, true));
	url_put(&u, "/v1/device/rom");
	if (u.over || xfer_get(m, x, u.s, true, true, &fwver_cbs) != 0) {
		xfer_end(m, x);
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	}
	espat_timer_arm(&m->timers, &x->timer, espat_module_now(m) + ESPAT_FWVER_TIMEOUT_MS,
	                fwver_timeout, m);
	return ESPAT_RC_PENDING;
}

/* ---- table, lifecycle ------------------------------------------------------ */

static const struct espat_cmd ota_rows[] = {
    {.name = "+CIUPDATE",
     .query = ciupdate_query,
     .set = ciupdate_set,
     .exec = espat_ota_ciupdate_exec,
     .params = p_ciupdate,
     .nparams = N(p_ciupdate),
     .help = "Upgrade firmware through Wi-Fi"},
    {.name = "+CIPFWVER",
     .query = cipfwver_query,
     .help = "Query the existing AT firmware version on the server"},
};

const struct espat_cmd_table espat_ota_table = {
    .family = "ota",
    .rows = ota_rows,
    .n = sizeof(ota_rows) / sizeof(ota_rows[0]),
};

void espat_ota_init(struct espat_module *m)
{
	m->ota->part = -1;
}

/* The boot slot's firmware runs: an updated one is the factory build with
 * the version its server named (nothing else of it is known). */
void espat_ota_boot(struct espat_module *m)
{
	struct espat_ota *o = m->ota;
	struct espat_ota_state st;
	espat_ota_load(m, &st);
	o->running_slot = st.running;
	const struct espat_fw *factory = espat_basic_factory_fw();
	const char *v = st.version[st.running];
	if (v[0] == '\0' || strcmp(v, factory->at_version) == 0)
		return;
	o->fw = *factory;
	snprintf(o->fw_at, sizeof(o->fw_at), "%s", v);
	snprintf(o->fw_bin, sizeof(o->fw_bin), "v%s", o->fw_at);
	o->fw.at_version = o->fw_at;
	o->fw.bin_version = o->fw_bin;
	espat_basic_set_fw(m, &o->fw);
}

void espat_ota_free(struct espat_module *m)
{
	struct espat_ota *o = m->ota;
	o->by_url = false; /* its owner is going too: no done() */
	o->url_done = NULL;
	update_end(m);
	xfer_end(m, &o->fwver);
	espat_timer_cancel(&m->timers, &o->fail_timer);
}

const struct espat_family espat_ota_family = {
	.name = "ota",
	.table = &espat_ota_table,
	.state_size = sizeof(struct espat_ota),
	.state_slot = offsetof(struct espat_module, ota),
	.init = espat_ota_init,
	.boot = espat_ota_boot, /* after basic's: it may replace the firmware identity */
	.free = espat_ota_free,
};
