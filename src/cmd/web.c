/* AT+WEBSERVER and its HTTP server: see web.h for the endpoints and
 * limits, docs/COMPAT.md #180-199 for the decisions. */
#include "cmd/web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the OTA slots belong to the basic family (AT+SYSROLLBACK), the image
 * files to the files port, as AT+CIUPDATE (cmd/ota.c) writes them */
#include "cmd/basic.h"
#include "cmd/fs.h"
#include "cmd/ota.h"
#include "cmd/params.h"
#include "cmd/wifi.h"
#include "core/args.h"

static struct espat_web *W(struct espat_module *m)
{
	return m->web;
}

static const struct espat_net *NET(struct espat_module *m)
{
	return &m->ports.net;
}

enum route {
	R_NONE,
	R_PAGE,    /* GET / */
	R_APS,     /* GET /getaprecord */
	R_SETSTA,  /* POST /setstainfo */
	R_RESULT,  /* GET|POST /getresult */
	R_OTAINFO, /* GET /getotainfo */
	R_OTA,     /* POST /setotadata */
};

static const struct {
	const char *path;
	enum route route;
	bool get, post; /* methods allowed */
	const char *allow;
} routes[] = {
    {"/", R_PAGE, true, false, "Allow: GET"},
    {"/index.html", R_PAGE, true, false, "Allow: GET"},
    {"/getaprecord", R_APS, true, false, "Allow: GET"},
    {"/setstainfo", R_SETSTA, false, true, "Allow: POST"},
    {"/getresult", R_RESULT, true, true, "Allow: GET, POST"},
    {"/getotainfo", R_OTAINFO, true, false, "Allow: GET"},
    {"/setotadata", R_OTA, false, true, "Allow: POST"},
};

/* What phones and laptops fetch to detect a captive portal: sent to the
 * page (esp-at's captive portal answers every name with the softAP). */
static const char *const probes[] = {
    "/generate_204",
    "/gen_204",
    "/hotspot-detect.html",
    "/library/test/success.html",
    "/ncsi.txt",
    "/connecttest.txt",
    "/redirect",
    "/canonical.html",
};


/* ---- the page ------------------------------------------------------------- */

/* The page from the FAT partition (AT+FS's files) when it holds `name`
 * ("index.html"), as esp-at serves it: a malloc'd copy with *n its length,
 * which the caller frees; NULL when there is none (or it is empty or larger
 * than WEB_FS_PAGE_MAX): the built-in page is served. Mounting formats a
 * partition that holds no FAT, as esp-at's mount does (COMPAT). */
#define WEB_FS_PAGE_MAX (64u * 1024u)
static uint8_t *web_fs_page(struct espat_module *m, const char *name, size_t *n)
{
	size_t len = strlen(name);
	uint32_t size = 0, got = 0;
	*n = 0;
	if (espat_fs_size(m, name, len, &size) != 0 || size == 0 || size > WEB_FS_PAGE_MAX)
		return NULL;
	uint8_t *p = malloc(size);
	if (!p || espat_fs_read(m, name, len, 0, p, size, &got) != 0 || got != size) {
		free(p);
		return NULL;
	}
	*n = size;
	return p;
}

/* ---- connections ---------------------------------------------------------- */

static void ota_failed(struct espat_web_conn *wc)
{
	struct espat_module *m = wc->m;
	if (wc->file)
		m->ports.files.abort(m->ports.files.user, wc->file);
	wc->file = NULL;
	W(m)->ota_busy = false;
	espat_wr_reportf(&m->wr, "+WEBSERVERRSP:5");
}

/* Ends a connection: an upload still under way fails. */
static void conn_end(struct espat_web_conn *wc, enum espat_close_how how)
{
	struct espat_module *m = wc->m;
	if (!wc->used)
		return;
	if (wc->route == R_OTA && W(m)->ota_busy && wc->file)
		ota_failed(wc);
	espat_timer_cancel(&m->timers, &wc->timer);
	espat_conn_close(&wc->conn, how);
	wc->used = false;
}

/* Sends a whole response and closes. extra: one more header line or NULL. */
static void respond(struct espat_web_conn *wc, int status, const char *ctype, const void *body,
                    size_t n, const char *extra)
{
	char ct[64], head[512];
	const char *h[4];
	size_t nh = 0;
	snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
	h[nh++] = ct;
	h[nh++] = "Cache-Control: no-store";
	h[nh++] = "Connection: close";
	if (extra)
		h[nh++] = extra;
	size_t hl = espat_http_write_response(head, sizeof(head), status, h, nh, (int64_t)n);
	if (hl > 0 && espat_conn_send(&wc->conn, (const uint8_t *)head, hl, NULL) == 0 && n > 0)
		espat_conn_send(&wc->conn, body, n, NULL);
	conn_end(wc, ESPAT_CLOSE_GRACEFUL);
}

static void respond_json(struct espat_web_conn *wc, int status, const char *json)
{
	respond(wc, status, "application/json", json, strlen(json), NULL);
}

/* An error answer: {"error":"<reason phrase>"}. */
static void respond_err(struct espat_web_conn *wc, int status, const char *extra)
{
	char j[96];
	int n = snprintf(j, sizeof(j), "{\"error\":\"%s\"}", espat_http_reason(status));
	respond(wc, status, "application/json", j, (size_t)n, extra);
}

/* Appends s[0..n) to out as a JSON string (quotes included); false when
 * it does not fit. Bytes >= 0x80 go as they are (SSIDs are bytes; a
 * browser decodes them as UTF-8). */
static bool json_str(char *out, size_t cap, size_t *len, const uint8_t *s, size_t n)
{
	size_t k = *len;
	if (k + 2 > cap)
		return false;
	out[k++] = '"';
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c == '"' || c == '\\') {
			if (k + 2 > cap)
				return false;
			out[k++] = '\\';
			out[k++] = (char)c;
		} else if (c < 0x20 || c == 0x7F) {
			if (k + 6 > cap)
				return false;
			snprintf(out + k, 7, "\\u%04x", (unsigned)c);
			k += 6;
		} else {
			if (k + 1 > cap)
				return false;
			out[k++] = (char)c;
		}
	}
	if (k + 1 > cap)
		return false;
	out[k++] = '"';
	*len = k;
	return true;
}

static bool json_lit(char *out, size_t cap, size_t *len, const char *s)
{
	size_t n = strlen(s);
	if (*len + n > cap)
		return false;
	memcpy(out + *len, s, n);
	*len += n;
	return true;
}

#define APS_MAX 32

static void serve_aps(struct espat_web_conn *wc)
{
	struct espat_bss aps[APS_MAX];
	size_t n = espat_wifi_sta_enabled(wc->m) ? espat_wifi_scan(wc->m, aps, APS_MAX) : 0;
	char out[APS_MAX * (ESPAT_SSID_MAX * 6 + 48) + 16];
	size_t len = 0;
	bool ok = json_lit(out, sizeof(out), &len, "{\"aps\":[");
	size_t shown = 0;
	for (size_t i = 0; ok && i < n; i++) {
		if (aps[i].ssid_len == 0)
			continue; /* hidden */
		char num[48];
		snprintf(num, sizeof(num), ",\"rssi\":%d,\"ecn\":%u}", aps[i].rssi,
		         (unsigned)aps[i].ecn);
		ok = json_lit(out, sizeof(out), &len, shown ? ",{\"ssid\":" : "{\"ssid\":") &&
		     json_str(out, sizeof(out), &len, aps[i].ssid, aps[i].ssid_len) &&
		     json_lit(out, sizeof(out), &len, num);
		shown++;
	}
	ok = ok && json_lit(out, sizeof(out), &len, "]}");
	if (!ok) {
		respond_err(wc, 500, NULL);
		return;
	}
	respond(wc, 200, "application/json", out, len, NULL);
}

/* Finds key in a form-encoded body and decodes its value into out (cap
 * bytes). 1 found, 0 absent, -1 malformed or longer than cap. */
static int form_field(const uint8_t *b, size_t n, const char *key, uint8_t *out, size_t cap,
                      size_t *out_len)
{
	size_t kl = strlen(key);
	size_t i = 0;
	while (i < n) {
		size_t end = i;
		while (end < n && b[end] != '&')
			end++;
		if (end - i > kl && memcmp(b + i, key, kl) == 0 && b[i + kl] == '=') {
			size_t k = 0;
			for (size_t j = i + kl + 1; j < end; j++) {
				uint8_t c = b[j];
				if (c == '+') {
					c = ' ';
				} else if (c == '%') {
					if (end - j < 3)
						return -1;
					int hi = espat_hexval(b[j + 1]), lo = espat_hexval(b[j + 2]);
					if (hi < 0 || lo < 0)
						return -1;
					c = (uint8_t)(hi * 16 + lo);
					j += 2;
				}
				if (k >= cap)
					return -1;
				out[k++] = c;
			}
			*out_len = k;
			return 1;
		}
		if (end - i == kl && memcmp(b + i, key, kl) == 0) {
			*out_len = 0; /* "key" alone: empty */
			return 1;
		}
		i = end + 1;
	}
	return 0;
}

static void serve_setsta(struct espat_web_conn *wc)
{
	struct espat_module *m = wc->m;
	uint8_t ssid[ESPAT_SSID_MAX], pwd[ESPAT_PWD_MAX];
	size_t sl = 0, pl = 0;
	int rs = form_field(wc->form, wc->form_len, "ssid", ssid, sizeof(ssid), &sl);
	int rp = form_field(wc->form, wc->form_len, "password", pwd, sizeof(pwd), &pl);
	if (rs != 1 || sl == 0 || rp < 0 || (pl > 0 && pl < 8)) {
		respond_json(wc, 400, "{\"error\":\"bad ssid or password\"}");
		return;
	}
	if (!espat_wifi_sta_enabled(m)) {
		respond_json(wc, 503, "{\"error\":\"the station is off\"}");
		return;
	}
	espat_wr_reportf(&m->wr, "+WEBSERVERRSP:1");
	W(m)->prov = true;
	W(m)->prov_started = espat_module_now(m);
	espat_wifi_provision_join(m, ssid, sl, pwd, pl);
	respond_json(wc, 200, "{\"result\":\"ok\"}");
}

static void serve_result(struct espat_web_conn *wc)
{
	struct espat_module *m = wc->m;
	struct espat_web *w = W(m);
	bool up = espat_wifi_sta_state(m) == ESPAT_STA_GOT_IP;
	const char *state = up ? "connected" : "idle";
	if (w->prov) {
		if (up) {
			w->prov = false;
			espat_wr_reportf(&m->wr, "+WEBSERVERRSP:2");
		} else if (espat_wifi_sta_last_fail(m) != 0 ||
		           espat_module_now(m) - w->prov_started >= ESPAT_WEB_RESULT_MS) {
			w->prov = false;
			state = "failed";
		} else {
			state = "connecting";
		}
	}
	char j[64];
	snprintf(j, sizeof(j), "{\"state\":\"%s\"}", state);
	respond_json(wc, 200, j);
}

static void serve_otainfo(struct espat_web_conn *wc)
{
	struct espat_ota_state st;
	espat_ota_load(wc->m, &st);
	char out[160];
	size_t len = 0;
	bool ok = json_lit(out, sizeof(out), &len, "{\"app_version\":") &&
	          json_str(out, sizeof(out), &len, (const uint8_t *)st.version[st.running],
	                   strlen(st.version[st.running])) &&
	          json_lit(out, sizeof(out), &len, ",\"partitions\":[\"ota\"]}");
	if (!ok) {
		respond_err(wc, 500, NULL);
		return;
	}
	respond(wc, 200, "application/json", out, len, NULL);
}

static void serve_page(struct espat_web_conn *wc)
{
	size_t n = 0;
	uint8_t *fs = web_fs_page(wc->m, "index.html", &n);
	if (fs) {
		respond(wc, 200, "text/html; charset=utf-8", fs, n, NULL);
		free(fs);
		return;
	}
	respond(wc, 200, "text/html; charset=utf-8", espat_web_page, espat_web_page_len, NULL);
}

/* ---- OTA upload ------------------------------------------------------------ */

/* The head of POST /setotadata: +WEBSERVERRSP:3, then the slot's file. */
static bool ota_start(struct espat_web_conn *wc, const struct espat_http_head *h)
{
	struct espat_module *m = wc->m;
	struct espat_web *w = W(m);
	if (w->ota_busy) {
		respond_err(wc, 503, "Retry-After: 5");
		return false;
	}
	if (h->framing != ESPAT_HTTP_BODY_LENGTH || h->content_length <= 0) {
		respond_err(wc, 411, NULL);
		return false;
	}
	espat_wr_reportf(&m->wr, "+WEBSERVERRSP:3");
	if ((uint64_t)h->content_length > ESPAT_OTA_SLOT_SIZE) {
		espat_wr_reportf(&m->wr, "+WEBSERVERRSP:5");
		respond_err(wc, 413, NULL);
		return false;
	}
	if (!espat_ota_target_slot(m, &wc->ota_slot)) { /* an image waits for AT+RST */
		espat_wr_reportf(&m->wr, "+WEBSERVERRSP:5");
		respond_err(wc, 409, NULL);
		return false;
	}
	char name[16];
	snprintf(name, sizeof(name), "ota_%u.bin", (unsigned)wc->ota_slot);
	const struct espat_files *fs = &m->ports.files;
	wc->file = fs->create ? fs->create(fs->user, name) : NULL;
	if (!wc->file) {
		espat_wr_reportf(&m->wr, "+WEBSERVERRSP:5");
		respond_err(wc, 500, NULL);
		return false;
	}
	w->ota_busy = true;
	wc->ota_len = (uint64_t)h->content_length;
	wc->ota_got = 0;
	return true;
}

static void ota_body(struct espat_web_conn *wc, const uint8_t *p, size_t n)
{
	struct espat_module *m = wc->m;
	const struct espat_files *fs = &m->ports.files;
	if ((wc->ota_got == 0 && p[0] != ESPAT_OTA_APP_MAGIC) || fs->write(fs->user, wc->file, p, n) != 0) {
		ota_failed(wc);
		respond_json(wc, 400, "{\"result\":\"fail\"}");
		return;
	}
	wc->ota_got += n;
}

/* All of the image came: it becomes the boot slot (applied at AT+RST). */
static void ota_done(struct espat_web_conn *wc)
{
	struct espat_module *m = wc->m;
	struct espat_file_w *file = wc->file;
	wc->file = NULL;
	/* the image's own version is not read: the slot keeps the running
	 * one's (COMPAT) */
	if (m->ports.files.commit(m->ports.files.user, file) != 0 ||
	    espat_ota_boot_from(m, wc->ota_slot, NULL) != 0) {
		W(m)->ota_busy = false;
		espat_wr_reportf(&m->wr, "+WEBSERVERRSP:5");
		respond_json(wc, 500, "{\"result\":\"fail\"}");
		return;
	}
	W(m)->ota_busy = false;
	espat_wr_reportf(&m->wr, "+WEBSERVERRSP:4");
	respond_json(wc, 200, "{\"result\":\"ok\"}");
}

/* ---- the request ------------------------------------------------------------ */

static bool str_is(struct espat_http_str s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.s, lit, s.len) == 0;
}

static void on_head(struct espat_web_conn *wc, const struct espat_http_head *h)
{
	struct espat_http_str path = h->target;
	for (size_t i = 0; i < path.len; i++)
		if (path.s[i] == '?') {
			path.len = i;
			break;
		}
	bool get = str_is(h->method, "GET"), post = str_is(h->method, "POST");
	wc->head_done = true;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!str_is(path, routes[i].path))
			continue;
		if (!((get && routes[i].get) || (post && routes[i].post))) {
			respond_err(wc, 405, routes[i].allow);
			return;
		}
		wc->route = (int)routes[i].route;
		if (wc->route == R_SETSTA && h->content_length > ESPAT_WEB_FORM_MAX)
			respond_err(wc, 413, NULL);
		else if (wc->route == R_OTA)
			ota_start(wc, h);
		return;
	}
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		if (get && str_is(path, probes[i])) {
			struct espat_ip4 ap = espat_wifi_ap_ip(wc->m);
			char loc[64];
			snprintf(loc, sizeof(loc), "Location: http://%u.%u.%u.%u/", ap.ip >> 24,
			         (ap.ip >> 16) & 255u, (ap.ip >> 8) & 255u, ap.ip & 255u);
			respond(wc, 302, "text/plain", "", 0, loc);
			return;
		}
	}
	respond_err(wc, 404, NULL);
}

static void on_body(struct espat_web_conn *wc, const uint8_t *p, size_t n)
{
	if (wc->route == R_OTA) {
		ota_body(wc, p, n);
		return;
	}
	if (wc->route != R_SETSTA)
		return; /* a body nobody asked for is read and dropped */
	if (n > ESPAT_WEB_FORM_MAX - wc->form_len) {
		respond_err(wc, 413, NULL);
		return;
	}
	memcpy(wc->form + wc->form_len, p, n);
	wc->form_len += n;
}

static void on_done(struct espat_web_conn *wc)
{
	switch ((enum route)wc->route) {
	case R_PAGE:
		serve_page(wc);
		break;
	case R_APS:
		serve_aps(wc);
		break;
	case R_SETSTA:
		serve_setsta(wc);
		break;
	case R_RESULT:
		serve_result(wc);
		break;
	case R_OTAINFO:
		serve_otainfo(wc);
		break;
	case R_OTA:
		ota_done(wc);
		break;
	case R_NONE:
		respond_err(wc, 404, NULL);
		break;
	}
}

/* The codec failed on the request: 414/431 for a line too long, else 400. */
static void on_error(struct espat_web_conn *wc, enum espat_http_err err)
{
	int status = 400;
	if (err == ESPAT_HTTP_ERR_TOO_LONG)
		status = wc->line_done ? 431 : 414;
	if (wc->route == R_OTA && wc->file)
		ota_failed(wc);
	respond_err(wc, status, NULL);
}

static void idle_timeout(void *user)
{
	struct espat_web_conn *wc = user;
	bool mid = wc->p.state != ESPAT_HTTP_ST_START || wc->p.line_len > 0;
	if (wc->route == R_OTA && wc->file)
		ota_failed(wc);
	if (mid)
		respond_err(wc, 408, NULL);
	else
		conn_end(wc, ESPAT_CLOSE_GRACEFUL);
}

static void touch(struct espat_web_conn *wc)
{
	struct espat_module *m = wc->m;
	espat_timer_arm(&m->timers, &wc->timer,
	                espat_module_now(m) + 1000u * (uint64_t)W(m)->timeout_s, idle_timeout, wc);
}

static void on_data(void *user, const uint8_t *p, size_t n, const struct espat_endpoint *from)
{
	struct espat_web_conn *wc = user;
	(void)from;
	touch(wc);
	while (wc->used) {
		struct espat_http_ev ev;
		size_t used = espat_http_feed(&wc->p, p, n, &ev);
		p += used;
		n -= used;
		switch (ev.type) {
		case ESPAT_HTTP_EV_NEED_MORE:
			return;
		case ESPAT_HTTP_EV_ERROR:
			on_error(wc, ev.err);
			return;
		case ESPAT_HTTP_EV_REQUEST:
			wc->line_done = true;
			break;
		case ESPAT_HTTP_EV_HEADERS_DONE:
			on_head(wc, &ev.head);
			break;
		case ESPAT_HTTP_EV_BODY:
			on_body(wc, ev.data, ev.len);
			break;
		case ESPAT_HTTP_EV_DONE:
			on_done(wc);
			return;
		default:
			break;
		}
	}
}

static void on_closed(void *user, int err)
{
	struct espat_web_conn *wc = user;
	(void)err;
	conn_end(wc, ESPAT_CLOSE_ABORT); /* a half-sent request is dropped */
}

static const struct espat_sock_cbs conn_cbs = {.data = on_data, .closed = on_closed};

static void on_accepted(void *user, struct espat_sock *s)
{
	struct espat_module *m = user;
	struct espat_web *w = W(m);
	struct espat_web_conn *wc = NULL;
	for (size_t i = 0; i < ESPAT_WEB_CONNS && !wc; i++)
		if (!w->c[i].used)
			wc = &w->c[i];
	if (!wc) {
		static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
		                           "Content-Type: application/json\r\n"
		                           "Connection: close\r\nRetry-After: 1\r\n"
		                           "Content-Length: 32\r\n\r\n"
		                           "{\"error\":\"Service Unavailable\"}\n";
		NET(m)->send(NET(m)->user, s, (const uint8_t *)busy, sizeof(busy) - 1, NULL);
		NET(m)->close(NET(m)->user, s, ESPAT_CLOSE_GRACEFUL);
		return;
	}
	wc->used = true;
	wc->route = R_NONE;
	wc->line_done = false;
	wc->head_done = false;
	wc->form_len = 0;
	wc->file = NULL;
	espat_http_parser_init(&wc->p, ESPAT_HTTP_REQUEST);
	espat_conn_adopt(&wc->conn, m, s, &conn_cbs, wc);
	touch(wc);
	espat_conn_pause(&wc->conn, false);
}

/* ---- AT+WEBSERVER ------------------------------------------------------------- */

static void server_stop(struct espat_module *m)
{
	struct espat_web *w = W(m);
	for (size_t i = 0; i < ESPAT_WEB_CONNS; i++)
		conn_end(&w->c[i], ESPAT_CLOSE_ABORT);
	if (w->srv)
		NET(m)->close(NET(m)->user, w->srv, ESPAT_CLOSE_ABORT);
	w->srv = NULL;
	w->prov = false;
}

static enum espat_rc webserver_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_web *w = W(m);
	struct espat_engine *e = &m->eng;
	if (a->v[0].i == 0) {
		if (a->n > 1)
			return espat_fail(e, ESPAT_ERR_NUM(1, a->n));
		server_stop(m);
		return ESPAT_RC_OK;
	}
	if (a->n != 3 || a->v[1].kind != ESPAT_ARG_INT || a->v[2].kind != ESPAT_ARG_INT)
		return espat_fail(e, ESPAT_ERR_NUM(3, a->n));
	if (w->srv || !NET(m)->listen)
		return espat_fail(e, ESPAT_ERR_EXEC);
	static const struct espat_sock_cbs srv_cbs = {.accepted = on_accepted};
	int err = 0;
	uint16_t port = (uint16_t)a->v[1].i;
	w->srv = NET(m)->listen(NET(m)->user, port, false, NULL, &srv_cbs, m, &err);
	if (!w->srv)
		return espat_fail(e, ESPAT_ERR_EXEC);
	w->port = port;
	w->timeout_s = (uint8_t)a->v[2].i;
	return ESPAT_RC_OK;
}

static const struct espat_param p_webserver[] = {
    P_INT("enable", 0, 1),
    P_INT_OPT("server_port", 1, 65535),
    P_INT_OPT("connection_timeout", 21, 60),
};

static const struct espat_cmd web_rows[] = {
    {.name = "+WEBSERVER",
     .set = webserver_set,
     .params = p_webserver,
     .nparams = N(p_webserver),
     .help = "Enable/disable Wi-Fi provisioning via the web server"},
};

static const struct espat_cmd_table web_table = {
    .family = "web",
    .rows = web_rows,
    .n = sizeof(web_rows) / sizeof(web_rows[0]),
};

static void web_init(struct espat_module *m)
{
	for (size_t i = 0; i < ESPAT_WEB_CONNS; i++)
		W(m)->c[i].m = m;
}

static void web_free(struct espat_module *m)
{
	struct espat_web *w = W(m);
	/* a restart is no failure to report: drop the upload quietly */
	for (size_t i = 0; i < ESPAT_WEB_CONNS; i++) {
		if (w->c[i].file)
			m->ports.files.abort(m->ports.files.user, w->c[i].file);
		w->c[i].file = NULL;
	}
	server_stop(m);
}

const struct espat_family espat_web_family = {
    .name = "web",
    .table = &web_table,
    .state_size = sizeof(struct espat_web),
    .state_slot = offsetof(struct espat_module, web),
    .init = web_init,
    .free = web_free,
};
