/* A virtual module: the engine, the writer and the state of every command
 * family (cmd/family.h), bound to a set of ports. Two modules in one
 * process share nothing. This is the API the app (and tests) drive;
 * families include cmd/family.h instead. */
#ifndef ESPAT_CMD_MODULE_H
#define ESPAT_CMD_MODULE_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/family.h"

/* Binds the module to ports and sets every family of the registry up in
 * factory state; prints nothing yet. */
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

#endif
