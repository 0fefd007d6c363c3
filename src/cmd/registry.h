/* The registries: every command family as a row (struct espat_family), in
 * ESP-AT's registration order (base, wifi, ..., see esp-at
 * at_cmd_register.c). That order is the order of AT+CMD?, of init and boot,
 * and of event delivery; families are freed in reverse. Adding a family is
 * a row here, its own files and its state's slot in struct espat_module.
 *
 * One registry per chip: the ESP32-C3's (ESP-AT v3.3) and the ESP8266's
 * (the v1.5 instruction set), each with its dialect. The v1.5 rows are
 * families of their own (basic_v15, wifi_v15, tcpip_v15) that share the
 * state slot, lifecycle and internals of the ESP32-C3 family of the same
 * unit (docs/internals/dialect.md). */
#ifndef ESPAT_CMD_REGISTRY_H
#define ESPAT_CMD_REGISTRY_H

#include "cmd/family.h"

extern const struct espat_registry espat_registry_esp32c3;
extern const struct espat_registry espat_registry_esp8266;

/* The registry of a chip; an unknown value gets the ESP32-C3's. */
const struct espat_registry *espat_registry_of(enum espat_chip chip);

#endif
