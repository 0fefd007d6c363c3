/* The command registry: every family's table, in ESP-AT's registration
 * order (base, wifi, ..., see esp-at at_cmd_register.c). */
#ifndef ESPAT_CMD_REGISTRY_H
#define ESPAT_CMD_REGISTRY_H

#include <stddef.h>

#include "core/engine.h"

extern const struct espat_cmd_table *const espat_registry[];
extern const size_t espat_registry_len;

#endif
