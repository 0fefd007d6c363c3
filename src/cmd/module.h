/* A virtual module: the engine, the writer and the state of every command
 * family, bound to a set of ports. Two modules in one process share
 * nothing. This is the API the app (and tests) drive. */
#ifndef ESPAT_CMD_MODULE_H
#define ESPAT_CMD_MODULE_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/basic.h"
#include "cmd/ota.h"
#include "cmd/ssl.h"
#include "cmd/tcpip.h"
#include "cmd/tcpip_svc.h"
#include "cmd/wifi.h"
#include "core/engine.h"
#include "core/settings.h"
#include "core/timers.h"
#include "core/writer.h"
#include "port/ports.h"

enum espat_chip {
	ESPAT_CHIP_ESP32C3,
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

struct espat_module {
	struct espat_ports ports;      /* copied from init */
	struct espat_module_opts opts;
	struct espat_writer wr;
	struct espat_engine eng;
	struct espat_timers timers;
	struct espat_settings settings;
	struct espat_basic basic;      /* basic command family state */
	struct espat_wifi wifi;        /* Wi-Fi family state */
	struct espat_tcpip tcpip;      /* TCP/IP family state */
	struct espat_ssl ssl;          /* SSL client settings (AT+CIPSSLC*) */
	struct espat_svc svc;          /* SNTP, ping and mDNS state */
	struct espat_ota ota;          /* OTA state (AT+CIUPDATE) and the running firmware */
	struct espat_timer restart_timer;
	uint64_t boot_ms;              /* clock at the last "ready" */
	uint32_t boots;                /* restarts since power-on, for stats */
	uint64_t rx_line_us;           /* paced input: when the host's line is free */
};

/* Binds the module to ports; prints nothing yet. */
void espat_module_init(struct espat_module *m, const struct espat_ports *ports,
		       const struct espat_module_opts *opts);
/* Power-on: loads flash, applies the saved UART config through
 * pipe.set_uart and prints "ready". */
void espat_module_power_on(struct espat_module *m);
/* Bytes from the host. */
void espat_module_input(struct espat_module *m, const uint8_t *p, size_t n);
/* The platform's output queue has room again (after pipe.pending was
 * high): sockets paused for the host's sake are read again. */
void espat_module_tx_room(struct espat_module *m);
/* Runs every timer due at sys.now_ms(). */
void espat_module_poll(struct espat_module *m);
/* The clock time of the next timer, or ESPAT_NEVER. */
uint64_t espat_module_next_deadline(const struct espat_module *m);
/* The UART configuration in effect (for pacing). */
const struct espat_uart_cfg *espat_module_uart(const struct espat_module *m);
void espat_module_free(struct espat_module *m);

/* For handlers: restart after everything printed so far, with the UART dead
 * for delay_ms, then reload from flash and print "ready". */
void espat_module_restart(struct espat_module *m, uint32_t delay_ms);
uint64_t espat_module_now(const struct espat_module *m);

#endif
