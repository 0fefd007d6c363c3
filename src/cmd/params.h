/* Shorthands for the argument schemas in command tables (struct
 * espat_param rows). Only for src/cmd/ table definitions. */
#ifndef ESPAT_CMD_PARAMS_H
#define ESPAT_CMD_PARAMS_H

#include "core/engine.h"

#define P_INT(n, lo, hi) {.name = n, .type = ESPAT_P_INT, .min = lo, .max = hi}
#define P_INT_OPT(n, lo, hi) {.name = n, .type = ESPAT_P_INT, .optional = true, .min = lo, .max = hi}
#define P_STR(n, len) {.name = n, .type = ESPAT_P_STR, .maxlen = len}
#define P_STR_OPT(n, len) {.name = n, .type = ESPAT_P_STR, .optional = true, .maxlen = len}
#define P_ANY_OPT(n) {.name = n, .type = ESPAT_P_ANY, .optional = true}
#define N(arr) (uint8_t)(sizeof(arr) / sizeof(arr[0]))

#endif
