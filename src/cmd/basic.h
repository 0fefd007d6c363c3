/* State of the basic command family (guide section 3.1). */
#ifndef ESPAT_CMD_BASIC_H
#define ESPAT_CMD_BASIC_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/family.h"
#include "cmd/sysmsg.h"
#include "core/engine.h"
#include "core/timers.h"
#include "port/kv.h"
#include "port/pipe.h"

struct espat_module;

#define ESPAT_FILTERS_MAX 16      /* AT+SYSMSGFILTERCFG entries */
#define ESPAT_FILTER_RE_MAX 64    /* bytes per regular expression */

struct espat_msgfilter {
	uint8_t head[ESPAT_FILTER_RE_MAX], tail[ESPAT_FILTER_RE_MAX];
	uint8_t head_len, tail_len;
	void *head_re, *tail_re;  /* compiled by the regex port; NULL = empty (matches) */
};

/* Simulated heap: what AT+SYSRAM reports. */
struct espat_heap {
	uint32_t base_free;   /* free heap of an idle module after boot */
	uint32_t used;        /* accounted by open links, buffers, ... */
	uint32_t min_free;    /* low-water mark since boot */
};

/* Identity of the running firmware (AT+GMR, OTA, AT+SYSROLLBACK). */
struct espat_fw {
	const char *at_version;   /* "3.3.0.0" */
	const char *commit;       /* "3b13d04" */
	const char *build_date;   /* "May  8 2024 08:21:54" */
	const char *sdk_version;  /* "v5.0.6-dirty" */
	const char *compile_hash; /* "be332568" */
	const char *compile_time; /* "May  8 2024 08:51:33" */
	const char *bin_version;  /* "v3.3.0.0" */
	const char *module_name;  /* factory param module_name: "MINI-1" */
};

#define ESPAT_REGS_MAX 64 /* AT+SYSREG: distinct registers written */

struct espat_basic {
	const struct espat_fw *fw;    /* running firmware */
	bool download_mode;           /* AT+RST=1: silent until power cycle */
	struct espat_uart_cfg uart_def; /* AT+UART_DEF; the one in effect is the module's uart */
	uint8_t sysmsg;               /* AT+SYSMSG bits */
	bool msgfilter_on;            /* AT+SYSMSGFILTER */
	struct espat_msgfilter filters[ESPAT_FILTERS_MAX];
	uint8_t nfilters;
	uint8_t sleep;                /* AT+SLEEP */
	uint32_t sleep_sets;          /* AT+SLEEP set commands since boot */
	uint8_t wk_source, wk_gpio, wk_level; /* AT+SLEEPWKCFG */
	uint8_t rf_wifi;              /* AT+RFPOWER, 0.25 dBm units as set */
	uint8_t rf_ble[3];            /* adv, scan, conn levels 0..15 */
	uint16_t rf_vdd;              /* v1.5 AT+RFVDD: VDD33 the TX power follows, 1/1024 V */
	struct { uint32_t addr, value; } regs[ESPAT_REGS_MAX]; /* AT+SYSREG writes */
	size_t nregs;
	uint16_t transintvl;          /* AT+TRANSINTVL, ms */
	struct espat_heap heap;
	/* pending-data state of the command being entered (SYSFLASH, SYSMFG,
	 * SYSMSGFILTERCFG): what to do with the bytes after ">" */
	uint8_t data_op;
	uint32_t data_a, data_b;      /* meaning set by the command in data_op */
	uint8_t *data_buf;            /* owned while data entry runs */
	uint32_t data_len;
	uint32_t data_done;           /* bytes of data entry handled so far */
	size_t data_part;             /* AT+SYSFLASH partition index */
	bool data_failed;             /* a flash write failed: answer ERROR at the end */
	char data_ns[ESPAT_KV_NAME_MAX + 1], data_key[ESPAT_KV_NAME_MAX + 1]; /* AT+SYSMFG target */
	uint8_t re_in[2 * ESPAT_FILTER_RE_MAX]; /* AT+SYSMSGFILTERCFG head+tail being entered */
	uint8_t re_in_len;
	struct espat_timer op_timer;  /* completes pending basic commands */
};

extern const struct espat_cmd_table espat_basic_table;
extern const struct espat_family espat_basic_family;
/* The same family speaking the ESP8266 v1.5 set (basic_v15.c). */
extern const struct espat_family espat_basic_v15_family;

/* ---- for other families -------------------------------------------------- */

/* AT+SLEEP's mode (0 none, 1 modem, 2 light, 3 listen), and how many
 * AT+SLEEP set commands came since boot (AT+USERWKMCUCFG's linkage takes
 * each as the host saying it sleeps or wakes). */
uint8_t espat_basic_sleep_mode(const struct espat_module *m);
uint32_t espat_basic_sleep_sets(const struct espat_module *m);
/* AT+TRANSINTVL, ms. */
uint16_t espat_basic_transintvl(const struct espat_module *m);

/* The factory firmware's identity, and the one this boot runs (an OTA
 * update's, set by the OTA family at boot; AT+GMR prints it). fw must
 * outlive the boot. */
const struct espat_fw *espat_basic_factory_fw(void);
void espat_basic_set_fw(struct espat_module *m, const struct espat_fw *fw);

/* The two OTA app slots, kept in the settings NVS (namespace "ota", key
 * "state", stored as AT argument text: 0,"3.3.0.0",""). AT+SYSROLLBACK
 * (basic_flash.c) boots the other slot; the OTA commands (AT+CIUPDATE,
 * ...) fill the slot that is not running and then switch. */
#define ESPAT_OTA_NS "ota"
#define ESPAT_OTA_VER_MAX 32
struct espat_ota_state {
	uint8_t running;                        /* slot that boots: 0 = ota_0, 1 = ota_1 */
	char version[2][ESPAT_OTA_VER_MAX];     /* AT version each slot holds; "" = none */
};
/* Reads the state; a device that never saved one has the factory firmware
 * in ota_0 and nothing in ota_1. Never fails. */
void espat_ota_load(struct espat_module *m, struct espat_ota_state *st);
/* Writes the state; 0 on success, -1 when the NVS write failed. */
int espat_ota_save(struct espat_module *m, const struct espat_ota_state *st);

#endif
