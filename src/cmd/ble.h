/* Bluetooth LE (guide 3.4): the GAP and GATT commands over the BLE model
 * (docs/internals/ble.md). This step holds the controller's life
 * (AT+BLEINIT), the device address (AT+BLEADDR) and the device name
 * (AT+BLENAME); the radio, GATT and SPP commands follow. */
#ifndef ESPAT_CMD_BLE_H
#define ESPAT_CMD_BLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/family.h"

#define ESPAT_BLE_NAME_MAX 32u /* AT+BLENAME's <device_name> */

enum espat_ble_role {
	ESPAT_BLE_OFF = 0,    /* not initialized (AT+BLEINIT=0, every boot) */
	ESPAT_BLE_CLIENT = 1, /* AT+BLEINIT=1 */
	ESPAT_BLE_SERVER = 2, /* AT+BLEINIT=2 */
};

struct espat_ble {
	enum espat_ble_role role;
	/* The role of the first AT+BLEINIT since boot: the guide says the role
	 * cannot change until AT+RST (COMPAT #400). */
	enum espat_ble_role boot_role;
	uint8_t public_addr[6]; /* the chip's: base MAC + 2 */
	bool random;            /* AT+BLEADDR=1[,...]: the random address is the own one */
	uint8_t random_addr[6]; /* static (given) or non-resolvable private (made) */
	char name[ESPAT_BLE_NAME_MAX + 1];
};

/* Whether BLE is initialized (either role): AT+CIPMODE=1 is refused then. */
bool espat_ble_on(const struct espat_module *m);

extern const struct espat_family espat_ble_family;

#endif
