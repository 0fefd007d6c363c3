/* AT+SYSMSG's bits (basic.c keeps them), for the families that print what
 * they gate without depending on the whole basic family: BLE SPP's +QUITT
 * (ble_spp.c), whose family the basic family's flash seeding already
 * depends on (the default GATT rows), so basic.h would make a cycle. */
#ifndef ESPAT_CMD_SYSMSG_H
#define ESPAT_CMD_SYSMSG_H

#include <stdint.h>

struct espat_module;

/* bit0 passthrough exit message (+QUITT, for Wi-Fi passthrough and BLE
 * SPP [000:1710]), bit1 +LINK_CONN, bit2 messages in passthrough. */
uint8_t espat_basic_sysmsg(const struct espat_module *m);

#endif
