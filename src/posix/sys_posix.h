/* espat_sys for Linux: CLOCK_MONOTONIC milliseconds (the loop's clock),
 * time(NULL), and a xorshift64* generator seeded from getrandom(). */
#ifndef ESPAT_POSIX_SYS_POSIX_H
#define ESPAT_POSIX_SYS_POSIX_H

#include <stdint.h>

#include "port/sys.h"

struct espat_sys_posix {
	uint64_t rng;   /* xorshift64* state, never 0 */
	uint8_t mac[6]; /* the eFuse MAC (espat_sys_posix_load_efuse) */
};

/* Seeds the generator; never fails (falls back to clock and pid). */
void espat_sys_posix_init(struct espat_sys_posix *s);
/* Reads the device's eFuse stand-in, DIR/efuse.bin (its factory MAC),
 * creating it with a random MAC under Espressif's OUI 34:85:18 on the first
 * start. Call after espat_sys_posix_init(). 0, or -1 with errno set. */
int espat_sys_posix_load_efuse(struct espat_sys_posix *s, const char *dir);
/* The port table bound to s; s must outlive its users. */
struct espat_sys espat_sys_posix_port(struct espat_sys_posix *s);

#endif
