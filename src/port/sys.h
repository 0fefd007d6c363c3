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
	/* The chip's factory MAC address (a real ESP32-C3 has it in eFuse):
	 * the same for the device's whole life, different between devices.
	 * The station uses it, the softAP it + 1. */
	void (*base_mac)(void *user, uint8_t mac[6]);
	void *user;
};

#endif
