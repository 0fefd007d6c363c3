/* AT+SYSFLASH, AT+SYSMFG, AT+SYSROLLBACK (guide 3.1.18, 3.1.19, 3.1.22). */
#include "cmd/basic_internal.h"
#include "cmd/module.h"

const struct espat_param espat_sysflash_params[ESPAT_SYSFLASH_NPARAMS] = {
	{.name = "operation", .type = ESPAT_P_INT, .min = 0, .max = 2},
	{.name = "partition", .type = ESPAT_P_STR, .maxlen = 16},
	{.name = "offset", .type = ESPAT_P_INT, .optional = true, .min = 0, .max = UINT32_MAX},
	{.name = "length", .type = ESPAT_P_INT, .optional = true, .min = 0, .max = UINT32_MAX},
};

const struct espat_param espat_sysmfg_params[ESPAT_SYSMFG_NPARAMS] = {
	{.name = "operation", .type = ESPAT_P_INT, .min = 0, .max = 2},
	{.name = "namespace", .type = ESPAT_P_STR, .optional = true, .maxlen = 15},
	{.name = "key", .type = ESPAT_P_STR, .optional = true, .maxlen = 15},
	{.name = "p3", .type = ESPAT_P_ANY, .optional = true},
	{.name = "p4", .type = ESPAT_P_ANY, .optional = true},
	{.name = "p5", .type = ESPAT_P_ANY, .optional = true},
};

void espat_flash_boot(struct espat_module *m) { (void)m; }
void espat_flash_free(struct espat_module *m) { (void)m; }

enum espat_rc espat_sysflash_query(struct espat_module *m, const struct espat_args *a)
{
	return espat_fail(&m->eng, ESPAT_ERR_UNSUPPORTED);
}
enum espat_rc espat_sysflash_set(struct espat_module *m, const struct espat_args *a)
{
	return espat_fail(&m->eng, ESPAT_ERR_UNSUPPORTED);
}
enum espat_rc espat_sysmfg_query(struct espat_module *m, const struct espat_args *a)
{
	return espat_fail(&m->eng, ESPAT_ERR_UNSUPPORTED);
}
enum espat_rc espat_sysmfg_set(struct espat_module *m, const struct espat_args *a)
{
	return espat_fail(&m->eng, ESPAT_ERR_UNSUPPORTED);
}
enum espat_rc espat_sysrollback_exec(struct espat_module *m, const struct espat_args *a)
{
	return espat_fail(&m->eng, ESPAT_ERR_UNSUPPORTED);
}
