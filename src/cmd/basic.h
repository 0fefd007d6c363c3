/* State of the basic command family (guide section 3.1). */
#ifndef ESPAT_CMD_BASIC_H
#define ESPAT_CMD_BASIC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/engine.h"
#include "core/timers.h"
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

struct espat_basic {
	struct espat_uart_cfg uart_cur, uart_def;
	uint8_t sysmsg;               /* AT+SYSMSG bits */
	bool msgfilter_on;            /* AT+SYSMSGFILTER */
	struct espat_msgfilter filters[ESPAT_FILTERS_MAX];
	uint8_t nfilters;
	uint8_t sleep;                /* AT+SLEEP */
	uint16_t transintvl;          /* AT+TRANSINTVL, ms */
	struct espat_heap heap;
	/* pending-data state of the command being entered (SYSFLASH, SYSMFG,
	 * SYSMSGFILTERCFG): what to do with the bytes after ">" */
	uint8_t data_op;
	uint32_t data_a, data_b;      /* meaning set by the command in data_op */
	uint8_t *data_buf;            /* owned while data entry runs */
	uint32_t data_len;
	struct espat_timer op_timer;  /* completes pending basic commands */
};

extern const struct espat_cmd_table espat_basic_table;

/* Called by the module at init and at every boot (after settings load). */
void espat_basic_init(struct espat_module *m);
void espat_basic_boot(struct espat_module *m);
void espat_basic_free(struct espat_module *m);

#endif
