/* Shared between the files of the basic family; not for other families. */
#ifndef ESPAT_CMD_BASIC_INTERNAL_H
#define ESPAT_CMD_BASIC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/basic.h"
#include "core/engine.h"

struct espat_module;

/* Simulated heap accounting (AT+SYSRAM). Families take and give bytes as
 * links and buffers come and go. */
uint32_t espat_heap_free(struct espat_module *m);
void espat_heap_take(struct espat_module *m, uint32_t bytes);
void espat_heap_give(struct espat_module *m, uint32_t bytes);

/* AT+SYSREG register file. */
uint32_t espat_reg_read(const struct espat_basic *b, uint32_t addr);
bool espat_reg_write(struct espat_basic *b, uint32_t addr, uint32_t value);

/* What the bytes after ">" (or the op_timer) are for: espat_basic.data_op. */
enum espat_data_op {
	ESPAT_DOP_NONE,
	ESPAT_DOP_FILTER_ADD,   /* AT+SYSMSGFILTERCFG=1: data_a/data_b = head/tail length */
	ESPAT_DOP_FILTER_DEL,   /* AT+SYSMSGFILTERCFG=2: same */
	ESPAT_DOP_FLASH_ERASE,  /* AT+SYSFLASH=0 running: data_a/data_b = offset/length */
	ESPAT_DOP_FLASH_WRITE,  /* AT+SYSFLASH=1: data_a = offset, data_len = length */
	ESPAT_DOP_MFG_WRITE,    /* AT+SYSMFG=2 type 7/8: data_buf = type byte + value */
};

/* basic_msgfilter.c: AT+SYSMSGFILTER, AT+SYSMSGFILTERCFG */
void espat_msgfilter_init(struct espat_module *m);
void espat_msgfilter_free(struct espat_module *m);
espat_handler_fn espat_msgfilter_query, espat_msgfilter_set;
espat_handler_fn espat_msgfiltercfg_query, espat_msgfiltercfg_set;
#define ESPAT_MSGFILTERCFG_NPARAMS 3
extern const struct espat_param espat_msgfiltercfg_params[ESPAT_MSGFILTERCFG_NPARAMS];

/* basic_flash.c: AT+SYSFLASH, AT+SYSMFG, AT+SYSROLLBACK */
void espat_flash_boot(struct espat_module *m);
void espat_flash_free(struct espat_module *m);
espat_handler_fn espat_sysflash_query, espat_sysflash_set;
espat_handler_fn espat_sysmfg_query, espat_sysmfg_set;
espat_handler_fn espat_sysrollback_exec;
#define ESPAT_SYSFLASH_NPARAMS 4
extern const struct espat_param espat_sysflash_params[ESPAT_SYSFLASH_NPARAMS];
#define ESPAT_SYSMFG_NPARAMS 6
extern const struct espat_param espat_sysmfg_params[ESPAT_SYSMFG_NPARAMS];

/* basic.c: the rows and lifecycle the v1.5 dialect (basic_v15.c) shares */
espat_handler_fn espat_basic_at_exec, espat_basic_ate_exec, espat_basic_rst_exec;
espat_handler_fn espat_basic_gslp_set, espat_basic_restore_exec;
espat_handler_fn espat_basic_uart_cur_set, espat_basic_uart_def_set;
espat_handler_fn espat_basic_savetranslink_set;
espat_handler_fn espat_basic_uart_cur_query, espat_basic_uart_def_query;
void espat_basic_init(struct espat_module *m);
void espat_basic_boot(struct espat_module *m);
void espat_basic_free(struct espat_module *m);

/* Simulated time of a flash erase, per 4 KiB sector, on the module clock. */
#define ESPAT_FLASH_ERASE_MS_PER_SECTOR 25u

#endif
