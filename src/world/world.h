/* The simulated radio world: access points, and what phones and routers
 * around the module are doing (SmartConfig broadcasts, WPS buttons). It
 * implements the radio port (port/radio.h) and is steered by the world file
 * (--world), the built-in default world and the control interface.
 *
 * Portable C: no OS calls except reading a file in espat_world_load(). One
 * world per module; two worlds share nothing. */
#ifndef ESPAT_WORLD_WORLD_H
#define ESPAT_WORLD_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port/radio.h"
#include "world/ble.h"
#include "world/periph.h"

#define ESPAT_WORLD_APS_MAX 64
#define ESPAT_WORLD_LABEL_MAX 31
#define ESPAT_WORLD_SCAN_MS 120 /* default active-scan dwell per channel (ESP-IDF's) */
#define ESPAT_WPS_WINDOW_MS 120000u
#define ESPAT_WORLD_DESCRIBE_MAX 2048 /* espat_world_describe() never needs more */
#define ESPAT_WORLD_URL_MAX 180 /* bytes of an OTA server's base URL */

/* One access point. */
struct espat_world_ap {
	char label[ESPAT_WORLD_LABEL_MAX + 1]; /* its name in the world file and for ctl */
	struct espat_bss bss;                  /* what scans see; bss.id is set by the world */
	bool up;                               /* false: switched off (invisible, drops stations) */
	bool hidden;                /* scans show ssid_len 0; find() gives the real SSID */
	uint8_t pwd[ESPAT_PWD_MAX]; /* WEP key or WPA passphrase; unused when OPEN */
	size_t pwd_len;
	uint8_t eap_methods;                      /* Enterprise: bit n = method n accepted */
	char eap_identity[ESPAT_EAP_STR_MAX + 1]; /* "" = any */
	char eap_username[ESPAT_EAP_STR_MAX + 1];
	char eap_password[ESPAT_EAP_STR_MAX + 1];
	struct espat_ipnet net;  /* net.ip: first address of the DHCP pool */
	uint32_t pool;           /* DHCP pool size; a station's lease is picked from its MAC */
	uint64_t wps_pressed_ms; /* module clock when the WPS button was pressed; 0 = never */
	uint32_t key_epoch;      /* bumped when the credentials change (stations are dropped) */
};

/* A phone app broadcasting SmartConfig credentials. */
struct espat_world_smartconfig {
	bool active;
	struct espat_prov prov;
};

struct espat_world {
	struct espat_world_ap ap[ESPAT_WORLD_APS_MAX];
	size_t nap;
	uint32_t next_id;         /* bss.id of the next AP added (starts at 1) */
	uint32_t scan_channel_ms; /* active-scan dwell per channel */
	struct espat_world_smartconfig sc;
	/* The OTA update server's base URL (scheme://host[:port], no path):
	 * [0] for AT+CIUPDATE's plain-HTTP mode, [1] for its TLS mode and
	 * AT+CIPFWVER. The world decides which server answers. */
	char ota_server[2][ESPAT_WORLD_URL_MAX + 1];
	/* The devices on the module's pins (world/periph.h): [i2c LABEL],
	 * [spi LABEL] and the [world] keys adc0..adc4. */
	struct espat_sim_periph periph;
	/* The scripted BLE peers (world/ble.h): `espat ctl ble peer ...`. */
	struct espat_ble_world ble;
};

/* Where a world file (or a ctl setting) went wrong. */
struct espat_world_err {
	int line;      /* 1-based line of the file; 0 when not from a file */
	char msg[160]; /* the reason, one line, no trailing period */
};

/* For the world's parts (world.c, world/periph.c): err->msg from fmt,
 * err->line 0; returns -1. */
int espat_world_errf(struct espat_world_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A label of an AP or a device: 1..ESPAT_WORLD_LABEL_MAX of A-Z a-z 0-9
 * _ . - */
bool espat_world_label_ok(const char *s);

/* An empty world: no APs, default timings. */
void espat_world_init(struct espat_world *w);
/* The built-in world used without --world (see docs/internals/world.md):
 * a few APs, one of which ("espat") leads to the host's network. */
void espat_world_default(struct espat_world *w);
/* Parses a world file's text into w (which is reset first). Returns 0, or
 * -1 with *err saying which line and why, and w left empty. len may
 * include trailing NULs; a NUL before the end is an error. */
int espat_world_parse(struct espat_world *w, const char *text, size_t len,
                      struct espat_world_err *err);
/* Reads and parses a file; err->line 0 when the file cannot be read. */
int espat_world_load(struct espat_world *w, const char *path, struct espat_world_err *err);

/* The radio port over w (w must outlive it). scan() hides a hidden AP's
 * SSID; find() reports it (a station that names the SSID learns it from
 * the probe response). auth() with eap on a non-Enterprise AP is
 * ESPAT_AUTH_REJECTED. */
struct espat_radio espat_world_radio(struct espat_world *w);

/* AP by label, or NULL. */
struct espat_world_ap *espat_world_find(struct espat_world *w, const char *label);
/* Adds an AP with defaults (open, channel 1, -50 dBm, a BSSID derived from
 * the label, the default network); NULL when the label exists or the
 * world is full (err says which). */
struct espat_world_ap *espat_world_add(struct espat_world *w, const char *label,
                                       struct espat_world_err *err);
/* Removes an AP; false when there is none with that label. */
bool espat_world_remove(struct espat_world *w, const char *label);
/* Sets one property of an AP from text, exactly as a world-file line
 * "key = value" does ("rssi", "-40"); with ap NULL, a key of the [world]
 * section ("scan_channel_ms", "ota_server", "ota_ssl_server", "adc0" ..
 * "adc4"). The keys are documented in docs/internals/world.md. Returns 0,
 * or -1 with err->msg (err->line 0). Each value is checked alone: whether
 * the password suits the security is espat_world_check()'s business, once
 * all keys are set. Bumps ap->key_epoch when the security, password or EAP
 * settings change. */
int espat_world_set(struct espat_world *w, struct espat_world_ap *ap, const char *key,
                    const char *value, struct espat_world_err *err);
/* Checks that an AP's settings fit together: the password against the
 * security (PSK modes: 8..63 printable ASCII or 64 hex digits; WEP: 5/13
 * printable ASCII or 10/26 hex; open, OWE, Enterprise: none), Enterprise's
 * EAP methods, and the network (pool and gateway inside the subnet, the
 * gateway outside the pool). Returns 0, or -1 with err->msg (err->line 0). */
int espat_world_check(const struct espat_world_ap *ap, struct espat_world_err *err);
/* Writes an AP as a world-file section ("[ap LABEL]" and every key, one
 * per line, strings quoted) that parses back to the same AP. Returns the
 * length the whole text needs, as snprintf does; buf holds a NUL-terminated
 * (possibly cut) prefix when cap > 0. */
size_t espat_world_describe(const struct espat_world_ap *ap, char *buf, size_t cap);

/* Decodes a world-file string value. Quoted ("..."): escapes \\ \" \n \r
 * \t \xHH inside, nothing after the closing quote. Unquoted: the bytes
 * as they are. Returns the decoded length, or -1 (bad escape, unterminated
 * quote, longer than cap). */
long espat_world_unescape(const char *s, uint8_t *out, size_t cap);

#endif
