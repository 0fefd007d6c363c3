/* AT+SYSMSGFILTER and AT+SYSMSGFILTERCFG (guide 3.1.16-3.1.17). */
#include "cmd/basic_internal.h"
#include "cmd/module.h"

const struct espat_param espat_msgfiltercfg_params[ESPAT_MSGFILTERCFG_NPARAMS] = {
	{.name = "operator", .type = ESPAT_P_INT, .min = 0, .max = 2},
	{.name = "head-regexp_len", .type = ESPAT_P_INT, .optional = true, .min = 0, .max = 64},
	{.name = "tail-regexp_len", .type = ESPAT_P_INT, .optional = true, .min = 0, .max = 64},
};

void espat_msgfilter_init(struct espat_module *m) { (void)m; }
void espat_msgfilter_free(struct espat_module *m) { (void)m; }

enum espat_rc espat_msgfilter_query(struct espat_module *m, const struct espat_args *a)
{
	return espat_fail(&m->eng, ESPAT_ERR_UNSUPPORTED);
}
enum espat_rc espat_msgfilter_set(struct espat_module *m, const struct espat_args *a)
{
	return espat_fail(&m->eng, ESPAT_ERR_UNSUPPORTED);
}
enum espat_rc espat_msgfiltercfg_query(struct espat_module *m, const struct espat_args *a)
{
	return espat_fail(&m->eng, ESPAT_ERR_UNSUPPORTED);
}
enum espat_rc espat_msgfiltercfg_set(struct espat_module *m, const struct espat_args *a)
{
	return espat_fail(&m->eng, ESPAT_ERR_UNSUPPORTED);
}
