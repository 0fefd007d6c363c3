/* The registry: every command family as a row (struct espat_family), in
 * ESP-AT's registration order (base, wifi, ..., see esp-at
 * at_cmd_register.c). That order is the order of AT+CMD?, of init and boot,
 * and of event delivery; families are freed in reverse. Adding a family is
 * a row here, its own files and its state's slot in struct espat_module. */
#ifndef ESPAT_CMD_REGISTRY_H
#define ESPAT_CMD_REGISTRY_H

#include "cmd/family.h"

extern const struct espat_registry espat_registry;

#endif
