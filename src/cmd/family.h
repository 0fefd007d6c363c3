/* What every command family sees of the module, and what a family is.
 *
 * A family is a row (struct espat_family): its command table, the size of
 * its state, the hooks that set that state up (init: factory state; boot:
 * load flash, start what a boot starts; free: cancel timers, close
 * sockets) and the module events it listens to. cmd/registry.c lists the
 * rows in esp-at's registration order; the module (cmd/module.c) walks
 * them and names none.
 *
 * Families do not reach into each other's state. What one needs from
 * another goes through a small named interface in that family's header
 * (wifi.h: "is the station online"; conn.h: "open a client connection"),
 * and what happens module-wide reaches every family that listens as an
 * event (espat_module_emit). The include graph of src/cmd/ has no cycle:
 * scripts/check_layers.py fails `make test` when one comes back.
 *
 * This header includes no family header: the module holds each family's
 * state behind a pointer to a struct only that family defines. */
#ifndef ESPAT_CMD_FAMILY_H
#define ESPAT_CMD_FAMILY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"
#include "core/settings.h"
#include "core/timers.h"
#include "core/writer.h"
#include "port/pipe.h"
#include "port/ports.h"

enum espat_chip {
	ESPAT_CHIP_ESP32C3, /* ESP-AT v3.3 for ESP32-C3 (the first seed) */
	ESPAT_CHIP_ESP8266, /* the ESP8266 AT v1.5 instruction set (the second seed) */
	ESPAT_CHIP_COUNT,
};

/* What the two instruction sets print differently in paths both share (the
 * engine, the Wi-Fi station machine, the links). Data, never a chip test:
 * the registry of a chip carries its dialect and shared code reads the
 * field (docs/internals/dialect.md). */
struct espat_dialect {
	const char *chip;            /* "esp32c3", as --chip and the data dir name it */
	const char *boot_text;       /* written whole at every boot, ending in ready */
	const char *wifi_connected;  /* station reports: "WIFI CONNECTED" / "WiFi CONNECTED" */
	const char *wifi_got_ip;
	const char *wifi_disconnect;
	const char *smart_got_info;  /* SmartConfig heard the phone: "Smart get wifi info" */
	const char *smart_connected; /* ... and joined: "smartconfig connected wifi"; NULL: none */
	const char *jap_fail_final;  /* after +CWJAP:<code>: "FAIL"; NULL: ERROR (ERR CODE) */
	const char *already_connected; /* AT+CIPSTART on a busy link: "ALREADY CONNECTED" */
	const char *link_builded;    /* AT+CIPMUX with links open: "Link is builded"; NULL: none */
	const char *ping_prefix;     /* before the round trip in ms: "+PING:" / "+" */
	const char *ping_timeout;    /* line before ERROR when no reply: "+PING:TIMEOUT"; NULL: none */
	const char *ota_progress;    /* AT+CIUPDATE's progress prefix: "+CIPUPDATE:" / "+CIUPDATE:" */
	size_t sap_pwd_max;          /* AT+CWSAP <pwd>: 63 (ESP32-C3), 64 (v1.5) */
	uint32_t send_max;           /* AT+CIPSEND/AT+CIPSENDEX <length> limit */
};

/* How long a restart keeps the UART dead before "ready" (AT+RST, AT+RESTORE,
 * wake from deep sleep). A real ESP32-C3 takes a few hundred ms. */
#define ESPAT_RESTART_MS 300u

struct espat_module_opts {
	enum espat_chip chip;
	uint32_t restart_ms;   /* 0: ESPAT_RESTART_MS */
	uint32_t factory_baud; /* factory-param UART baud (--baud); 0: 115200 */
	bool paced;            /* input arrives at the UART's rate (+++ guard times) */
};

/* Module-wide happenings, delivered to the families whose row lists them
 * (a bit mask of 1u << event), in registry order. */
enum espat_event {
	/* The way out changed: the station got or lost its IPv4 address, the
	 * softAP came or went (espat_wifi_online() tells which way). */
	ESPAT_EV_NET_CHANGED,
	/* The RTC was set (SNTP, AT+SYSTIMESTAMP): espat_rtc_now() jumped. */
	ESPAT_EV_RTC_SET,
	/* A chunk of host input has been handled. */
	ESPAT_EV_INPUT_DONE,
	/* The UART's output queue has room again after pipe.pending was high:
	 * sockets paused for the host's sake may be read again. */
	ESPAT_EV_TX_ROOM,
	/* The module is about to restart (AT+RST, AT+RESTORE, deep sleep, an
	 * update): the old life printed everything; families are freed next. */
	ESPAT_EV_RESTART,
	/* The power goes (espat_module_free): families are freed next. */
	ESPAT_EV_POWER_OFF,
	ESPAT_EV_COUNT,
};

#define ESPAT_EV(e) (1u << (e))

struct espat_module;

/* One command family: a row of the registry. Any hook may be NULL. */
struct espat_family {
	const char *name;                    /* "basic", "wifi", ... */
	const struct espat_cmd_table *table; /* its commands; NULL: none */
	/* Its state: state_size zeroed bytes are allocated before init() and
	 * stored at state_slot, a pointer member of struct espat_module
	 * (offsetof); freed after free(). */
	size_t state_size;
	size_t state_slot;
	void (*init)(struct espat_module *m); /* factory state (power-on and restart) */
	void (*boot)(struct espat_module *m); /* after init: flash, auto-start */
	void (*free)(struct espat_module *m); /* timers, sockets, buffers */
	unsigned events;                      /* ESPAT_EV() bits it listens to */
	void (*on_event)(struct espat_module *m, enum espat_event ev);
};

/* A registry: the families in order, and the dialect they speak. */
struct espat_registry {
	const struct espat_family *const *rows;
	size_t n;
	const struct espat_dialect *dialect;
};

#define ESPAT_FAMILIES_MAX 32 /* registry.c checks its registries fit */

/* The RTC (AT+SYSTIMESTAMP, SNTP): it starts at the epoch at power-on and
 * runs on through soft restarts, as the chip's does. */
struct espat_rtc {
	int64_t base;    /* Unix time at set_ms */
	uint64_t set_ms; /* module clock when base was set */
};

struct espat_module {
	struct espat_ports ports; /* copied from init */
	struct espat_module_opts opts;
	struct espat_writer wr;
	struct espat_engine eng;
	struct espat_timers timers;
	struct espat_settings settings;
	struct espat_registry reg;                                /* the families, borrowed */
	const struct espat_dialect *dialect;                      /* reg's, borrowed */
	const struct espat_cmd_table *tables[ESPAT_FAMILIES_MAX]; /* the engine's view of reg */
	/* Family state: each points to a struct only its family defines. One
	 * line here per family; the row's state_slot names it. */
	struct espat_basic *basic; /* basic commands (3.1) */
	struct espat_wifi *wifi;   /* Wi-Fi (3.2) */
	struct espat_conn_svc *conn; /* the client-connection service: DNS setting */
	struct espat_tcpip *tcpip; /* TCP/IP links (3.3) */
	struct espat_ssl *ssl;     /* SSL client settings (AT+CIPSSLC*) */
	struct espat_svc *svc;     /* SNTP, ping and mDNS */
	struct espat_ota *ota;     /* OTA (AT+CIUPDATE) and the running firmware */
	struct espat_ble *ble;     /* Bluetooth LE (3.4) */
	struct espat_ble_sec *blesec; /* its security: pairing, bonds (3.4.33-3.4.40) */
	struct espat_blufi *blufi; /* BluFi provisioning over BLE (3.4.45-3.4.47) */
	struct espat_mqtt *mqtt;   /* the MQTT client (3.5) */
	struct espat_http *http;   /* the HTTP client commands (3.6) */
	struct espat_ws *ws;       /* the WebSocket client links (3.8) */
	struct espat_web *web;     /* the web server (3.10) */
	struct espat_fs *fs;       /* the file system (3.7) */
	struct espat_sig *sig;     /* signaling test (3.9): the PLCP preamble */
	struct espat_drv *drv;     /* driver (3.11): ADC, PWM, I2C, SPI */
	struct espat_user *user;   /* user commands (3.12) */
	/* Module-wide hardware state that outlives a family's restart. */
	struct espat_rtc rtc;
	struct espat_uart_cfg uart; /* the UART in effect (AT+UART_CUR; set by basic) */
	struct espat_timer restart_timer;
	uint64_t boot_ms;    /* clock at the last "ready" */
	uint32_t boots;      /* restarts since power-on, for stats */
	uint64_t rx_line_us; /* paced input: when the host's line is free */
};

uint64_t espat_module_now(const struct espat_module *m);

/* UART output the platform still holds (the pipe's pending bytes). Above
 * ESPAT_TX_HIGH a family stops reading its sockets until ESPAT_EV_TX_ROOM,
 * so a slow host loses nothing. */
#define ESPAT_TX_HIGH (256 * 1024)
size_t espat_module_tx_queued(const struct espat_module *m);

/* Delivers ev to every family that listens, in registry order. */
void espat_module_emit(struct espat_module *m, enum espat_event ev);

/* Restart after everything printed so far, with the UART dead for
 * delay_ms, then reload from flash and print "ready". */
void espat_module_restart(struct espat_module *m, uint32_t delay_ms);

/* The RTC: Unix seconds now; set it to unix_s as of module clock at_ms
 * (ESPAT_EV_RTC_SET follows). */
int64_t espat_rtc_now(const struct espat_module *m);
void espat_rtc_set(struct espat_module *m, int64_t unix_s, uint64_t at_ms);

#endif
