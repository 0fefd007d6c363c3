/* State of the basic command family (guide section 3.1). */
#ifndef ESPAT_CMD_BASIC_H
#define ESPAT_CMD_BASIC_H

#include <stdbool.h>
#include <stdint.h>

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
	struct espat_uart_cfg uart_cur, uart_def;
	uint8_t sysmsg;               /* AT+SYSMSG bits */
	bool msgfilter_on;            /* AT+SYSMSGFILTER */
	struct espat_msgfilter filters[ESPAT_FILTERS_MAX];
	uint8_t nfilters;
	uint8_t sleep;                /* AT+SLEEP */
	uint8_t wk_source, wk_gpio, wk_level; /* AT+SLEEPWKCFG */
	uint8_t rf_wifi;              /* AT+RFPOWER, 0.25 dBm units as set */
	uint8_t rf_ble[3];            /* adv, scan, conn levels 0..15 */
	int64_t rtc_base;             /* AT+SYSTIMESTAMP: Unix time at rtc_set_ms */
	uint64_t rtc_set_ms;          /* module clock when rtc_base was set */
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

/* The RTC (AT+SYSTIMESTAMP, set by SNTP): Unix seconds now. */
int64_t espat_rtc_now(const struct espat_module *m);

/* Called by the module at init and at every boot (after settings load). */
void espat_basic_init(struct espat_module *m);
void espat_basic_boot(struct espat_module *m);
void espat_basic_free(struct espat_module *m);

#endif
