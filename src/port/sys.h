/* Clock, wall time and randomness: everything the core asks of the platform
 * that is not a file or a socket. Time is an input to the core; it never
 * sleeps. */
#ifndef ESPAT_PORT_SYS_H
#define ESPAT_PORT_SYS_H

#include <stdint.h>

struct espat_sys {
	/* Monotonic milliseconds since an arbitrary origin. */
	uint64_t (*now_ms)(void *user);
	/* Host wall-clock time, Unix seconds (seeds the module's RTC). */
	int64_t (*wall_s)(void *user);
	/* Uniform 32-bit random numbers (simulated noise: temperature, heap). */
	uint32_t (*random)(void *user);
	void *user;
};

#endif
