/* AT+CIUPDATE of the ESP8266 v1.5 instruction set: execute only, blocking,
 * the latest version from the world's OTA server over plain HTTP, as the
 * ESP32-C3 command without parameters (ota.c); the dialect prints the
 * progress as v1.5 does, +CIUPDATE:<n>. */
#include <stddef.h>

#include "cmd/family.h"
#include "cmd/ota.h"

static const struct espat_cmd rows[] = {
    {.name = "+CIUPDATE", .exec = espat_ota_ciupdate_exec, .help = "Update through network"},
};

static const struct espat_cmd_table table = {
    .family = "ota",
    .rows = rows,
    .n = sizeof(rows) / sizeof(rows[0]),
};

const struct espat_family espat_ota_v15_family = {
    .name = "ota",
    .table = &table,
    .state_size = sizeof(struct espat_ota),
    .state_slot = offsetof(struct espat_module, ota),
    .init = espat_ota_init,
    .boot = espat_ota_boot,
    .free = espat_ota_free,
};
