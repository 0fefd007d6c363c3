/* OTA commands (guide 3.3.23 AT+CIPFWVER, 3.3.24 AT+CIUPDATE): firmware
 * updates from the update server the world names (port/radio.h
 * ota_server), through the module's HTTP client (cmd/httpc.h). The server's API is Espressif's
 * (iot.espressif.cn) as esp-at's at_ota_cmd.c speaks it; the protocol and
 * where the image goes are in docs/internals/ota.md.
 *
 * The two app slots and AT+SYSROLLBACK live with the basic family
 * (basic_flash.c, struct espat_ota_state): an update writes the slot that
 * is not booting and makes it the boot slot; the next boot runs it, and
 * this family gives the module that firmware's identity (AT+GMR). */
#ifndef ESPAT_CMD_OTA_H
#define ESPAT_CMD_OTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/basic.h"
#include "cmd/family.h"
#include "cmd/httpc.h"
#include "core/engine.h"
#include "core/timers.h"
#include "port/files.h"

struct espat_module;

/* An app slot (ota_0, ota_1) of the ESP32-C3 AT partition table: images
 * larger than this cannot be written. */
#define ESPAT_OTA_SLOT_SIZE 0x1C0000u
/* The first byte of an app image (the ESP image header's magic). */
#define ESPAT_OTA_APP_MAGIC 0xE9u
/* The guide: "The timeout of OTA process is 3 minutes." */
#define ESPAT_OTA_TIMEOUT_MS (3u * 60u * 1000u)
/* AT+CIPFWVER's HTTP client gives up after 10 s (esp-at's timeout_ms). */
#define ESPAT_FWVER_TIMEOUT_MS 10000u
/* Bytes of a version answer kept for parsing (esp-at's
 * AT_HTTP_CONTENT_LEN_MAX); a longer answer is a failure. */
#define ESPAT_OTA_META_MAX 8192u
/* <version> and <firmware name> arguments (esp-at's limits). */
#define ESPAT_OTA_ARG_MAX 64
/* Bytes of a URL the module builds (esp-at's buffer). */
#define ESPAT_OTA_URL_MAX 1024
/* An app image's first bytes kept during a download: the image header (24
 * bytes), the first segment's header (8), then esp_app_desc_t, whose
 * version (32 bytes) starts 16 bytes in, after its magic word. */
#define ESPAT_OTA_DESC_OFF 32u
#define ESPAT_OTA_DESC_MAGIC 0xABCD5432u
#define ESPAT_OTA_DESC_VERSION_OFF (ESPAT_OTA_DESC_OFF + 16u)
#define ESPAT_OTA_HEAD_MAX (ESPAT_OTA_DESC_VERSION_OFF + 32u)
/* A version as AT+GMR shows it ("3.4.0.0"); the app descriptor of an
 * image has 32 bytes for it. */
#define ESPAT_OTA_FWVER_MAX 31

/* What AT+CIUPDATE? reports: esp-at's esp_at_ota_state_t. */
enum espat_ota_progress {
	ESPAT_OTA_ST_IDLE = 0,      /* no update since boot */
	ESPAT_OTA_ST_FOUND = 1,     /* the server's name resolved */
	ESPAT_OTA_ST_CONNECTED = 2, /* connected to it */
	ESPAT_OTA_ST_VERSION = 3,   /* got the version to fetch */
	ESPAT_OTA_ST_DONE = 4,      /* the image is written (and set to boot) */
	ESPAT_OTA_ST_FAILED = -1,
};

/* One HTTP exchange with the server and what came back. */
struct espat_ota_xfer {
	struct espat_httpc http;    /* the exchange */
	struct espat_file_w *file;  /* an app image being saved, or NULL */
	int status;                 /* HTTP status, 0 before it came */
	int64_t length;             /* Content-Length, -1 unknown */
	uint64_t got;               /* body bytes so far */
	uint8_t *buf; /* a version answer (ESPAT_OTA_META_MAX), owned; NULL for images */
	size_t len;   /* bytes in buf */
	struct espat_timer timer; /* gives up on the exchange */
};

enum espat_ota_step {
	ESPAT_OTA_NONE,  /* no update running */
	ESPAT_OTA_ASK,   /* asking the server for its version */
	ESPAT_OTA_FETCH, /* downloading the image */
};

struct espat_ota {
	int8_t progress;      /* enum espat_ota_progress, for AT+CIUPDATE? */
	uint8_t running_slot; /* app slot this boot runs */
	/* the update under way (AT+CIUPDATE) */
	enum espat_ota_step step;
	bool blocking;                       /* the command waits for the end (busy p...) */
	bool tls;                            /* <ota mode> 1 */
	bool version_given;                  /* <version> named it: no version query */
	bool target_ready;                   /* the slot or partition is chosen (and erased) */
	char version[ESPAT_OTA_ARG_MAX + 1]; /* to fetch: given, or the server's */
	char name[ESPAT_OTA_ARG_MAX + 1];    /* <firmware name>: "ota" = the app */
	long part;       /* user partition written (flash port index); -1: an app slot */
	uint8_t slot;    /* app slot written */
	uint8_t head[ESPAT_OTA_HEAD_MAX]; /* first body bytes: the magic, the app descriptor */
	struct espat_ota_xfer x;
	struct espat_timer fail_timer; /* non-blocking: the failure report after OK */
	/* AT+CIPFWVER */
	struct espat_ota_xfer fwver;
	/* the identity of an updated firmware while it runs (AT+GMR) */
	struct espat_fw fw;
	char fw_at[ESPAT_OTA_FWVER_MAX + 1];  /* "3.4.0.0" */
	char fw_bin[ESPAT_OTA_FWVER_MAX + 2]; /* "v3.4.0.0" */
	/* an update from a URL (espat_ota_fetch_url): no server API, no
	 * +CIPUPDATE lines; url_done hears the end */
	bool by_url;
	char *url; /* owned while it runs */
	void (*url_done)(struct espat_module *m, bool ok);
};

/* The app slots as every writer of an app image uses them (AT+CIUPDATE,
 * the web server's upload). espat_ota_target_slot: the slot an image goes
 * to, the one after the boot slot; false when that is the slot running
 * this boot (a second image before the restart: esp_ota_begin's partition
 * conflict). espat_ota_boot_from: an image now complete in slot becomes the
 * boot slot, showing version (AT+GMR's form; NULL: the running one's, for
 * an image whose own version is not read). 0, or -1 (too long, flash). */
bool espat_ota_target_slot(struct espat_module *m, uint8_t *slot);
int espat_ota_boot_from(struct espat_module *m, uint8_t slot, const char *version);

/* AT+USEROTA's download: the app image at url[0..len) (http:// or
 * https://, TLS unchecked as the module's OTA client does) goes to the app
 * slot espat_ota_target_slot() names, with AT+CIUPDATE's rules (magic,
 * Content-Length, slot size, the 3-minute limit); once complete it becomes
 * the boot slot, with the version its app descriptor names
 * (esp_app_desc_t's, when the image has one; else the running one's).
 * done(m, ok) ends it, unless the module restarts first. 0 when
 * under way; -1 when it cannot start (an update runs, no way out, no slot,
 * a URL the HTTP client refuses), and done() is not called. */
int espat_ota_fetch_url(struct espat_module *m, const char *url, size_t len,
                        void (*done)(struct espat_module *m, bool ok));

extern const struct espat_cmd_table espat_ota_table;

extern const struct espat_family espat_ota_family;
/* v1.5's AT+CIUPDATE (execute only) over the same family (ota_v15.c). */
extern const struct espat_family espat_ota_v15_family;
/* What ota_v15.c shares with ota.c (not for other families). */
espat_handler_fn espat_ota_ciupdate_exec;
void espat_ota_init(struct espat_module *m);
void espat_ota_boot(struct espat_module *m);
void espat_ota_free(struct espat_module *m);

#endif
