/* AT+FACTPLCP (guide 3.9.2). */
#include "cmd/sig.h"

#include "cmd/params.h"

bool espat_sig_plcp_long(const struct espat_module *m)
{
	return m->sig->plcp_manual && m->sig->plcp_long;
}

bool espat_sig_plcp_manual(const struct espat_module *m)
{
	return m->sig->plcp_manual;
}

static const struct espat_param p_factplcp[] = {
    P_INT("enable", 0, 1),
    P_INT("tx_with_long", 0, 1),
};

/* <enable> 0 goes back to the default (short); the <tx_with_long> given
 * with it is kept for a later <enable> 1 only as esp-at keeps it: not at
 * all, the next AT+FACTPLCP=1,x names it again. */
static enum espat_rc factplcp_set(struct espat_module *m, const struct espat_args *a)
{
	m->sig->plcp_manual = a->v[0].i == 1;
	m->sig->plcp_long = m->sig->plcp_manual && a->v[1].i == 1;
	return ESPAT_RC_OK;
}

static const struct espat_cmd sig_rows[] = {
    {.name = "+FACTPLCP",
     .set = factplcp_set,
     .params = p_factplcp,
     .nparams = N(p_factplcp),
     .help = "Send with long or short PLCP"},
};

static const struct espat_cmd_table sig_table = {
    .family = "sig",
    .rows = sig_rows,
    .n = sizeof(sig_rows) / sizeof(sig_rows[0]),
};

const struct espat_family espat_sig_family = {
    .name = "sig",
    .table = &sig_table,
    .state_size = sizeof(struct espat_sig),
    .state_slot = offsetof(struct espat_module, sig),
};
