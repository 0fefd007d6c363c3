/* The web server (guide 3.10, examples 4.6): AT+WEBSERVER serves ESP-AT's
 * provisioning flow to stations of the softAP. Our own small HTTP/1.1
 * server on the net port's listener (the host's loopback at the module's
 * port, as AT+CIPSERVER), its connections adopted into the client-connection
 * service and spoken with the HTTP codec in request mode (proto/http.h).
 *
 * Endpoints (esp-at's at_web_server_cmd.c names; payloads are ours, the
 * page being ours, docs/COMPAT.md #180-199):
 *
 *   GET  /             the page (FAT partition when present, else built in)
 *   GET  /getaprecord  the scan: {"aps":[{"ssid":..,"rssi":..,"ecn":..},..]}
 *   POST /setstainfo   ssid=..&password=.. (form-encoded): +WEBSERVERRSP:1,
 *                      the station joins
 *   GET|POST /getresult {"state":"connecting"|"connected"|"failed"|"idle"};
 *                      the first "connected" prints +WEBSERVERRSP:2
 *   GET  /getotainfo   {"app_version":..,"partitions":["ota"]}
 *   POST /setotadata   the app image as the body: +WEBSERVERRSP:3, then
 *                      4 (written to the OTA slot) or 5 (failed)
 *
 * Every response closes its connection. Limits: ESPAT_WEB_CONNS at once
 * (more get 503), ESPAT_WEB_FORM_MAX bytes of a form body (413), a head
 * line ESPAT_HTTP_LINE_MAX (431), <connection_timeout> seconds idle (408). */
#ifndef ESPAT_CMD_WEB_H
#define ESPAT_CMD_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/conn.h"
#include "cmd/family.h"
#include "core/timers.h"
#include "proto/http.h"

#define ESPAT_WEB_CONNS 8          /* browser connections served at once */
#define ESPAT_WEB_FORM_MAX 512     /* bytes of a /setstainfo body */
#define ESPAT_WEB_RESULT_MS 60000u /* a join not done by then is "failed" */

/* One browser connection. */
struct espat_web_conn {
	struct espat_module *m;
	bool used;
	struct espat_conn conn;     /* UP from accept to close */
	struct espat_http_parser p; /* request mode */
	struct espat_timer timer;   /* <connection_timeout> without a byte */
	int route;                  /* what the request's head asked for (web.c) */
	bool line_done;             /* the request line came (REQUEST) */
	bool head_done;             /* HEADERS_DONE seen */
	uint8_t form[ESPAT_WEB_FORM_MAX];
	size_t form_len;
	/* POST /setotadata */
	struct espat_file_w *file; /* the slot's image being written */
	uint64_t ota_len, ota_got; /* Content-Length, bytes so far */
	uint8_t ota_slot;
};

struct espat_web {
	struct espat_sock *srv; /* the listener; NULL: disabled */
	uint16_t port;
	uint8_t timeout_s; /* <connection_timeout>, 21..60 */
	struct espat_web_conn c[ESPAT_WEB_CONNS];
	/* provisioning: credentials given, result not yet fetched */
	bool prov;
	uint64_t prov_started; /* module clock */
	bool ota_busy;         /* one upload at a time */
};

extern const struct espat_family espat_web_family;

/* The built-in page (web_page.c). */
extern const char espat_web_page[];
extern const size_t espat_web_page_len;

/* ---- captive portal (web_dns.c) ------------------------------------------ */

/* The softAP's DNS answer: for a standard query q[0..qlen) with one
 * question of class IN, writes into out (cap bytes) a response naming ip
 * (IPv4, host order) for type A (any name), and no answer for other types.
 * Returns the response length, or 0 when q is not such a query or cap is
 * too small (nothing is sent back). Pure. */
size_t espat_web_dns_answer(const uint8_t *q, size_t qlen, uint32_t ip, uint8_t *out, size_t cap);

#endif
