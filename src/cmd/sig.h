/* Signaling test commands (guide 3.9): AT+FACTPLCP, which picks the PLCP
 * preamble of the frames the module sends. The simulated air carries no
 * frames, so the choice is kept and shown (`espat ctl state`), as the
 * radio's setting; it does not persist (esp_wifi_internal_set_fix_rate's
 * like). */
#ifndef ESPAT_CMD_SIG_H
#define ESPAT_CMD_SIG_H

#include <stdbool.h>

#include "cmd/family.h"

struct espat_sig {
	bool plcp_manual; /* <enable> 1: <tx_with_long> decides */
	bool plcp_long;   /* <tx_with_long> */
};

/* Whether frames go out with the long PLCP preamble now (the default, with
 * manual configuration off, is the short one). */
bool espat_sig_plcp_long(const struct espat_module *m);
bool espat_sig_plcp_manual(const struct espat_module *m);

extern const struct espat_family espat_sig_family;

#endif
