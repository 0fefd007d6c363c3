/* The control interface's `ble` commands: the world's scripted BLE peers
 * (world/ble.h). The rows live in ctl.c's table; docs/internals/ctl.md
 * ("BLE peers") has the commands. */
#ifndef ESPAT_APP_CTL_BLE_H
#define ESPAT_APP_CTL_BLE_H

#include <stddef.h>

struct espat_ctl;

/* `ble peer add LABEL KEY=VALUE...`, `ble peer rm LABEL` (a connected
 * peer vanishes: the module's link ends at its supervision timeout), `ble
 * peer connect LABEL` (the peer, as a central, connects to the module's
 * advertising), `ble peer disconnect LABEL` (it ends the link). */
char *espat_ctl_ble_peer(struct espat_ctl *c, size_t argc, const char *const *argv);
/* `ble air`: the module's own advertising as a phone scanning hears it. */
char *espat_ctl_ble_air(struct espat_ctl *c, size_t argc, const char *const *argv);
/* `ble att MAC HEX`: the module sends one ATT PDU to the device at MAC
 * over their link, through the BLE port's att() (as its GATT client
 * would): a test's request to another module's GATT server. */
char *espat_ctl_ble_att(struct espat_ctl *c, size_t argc, const char *const *argv);
char *espat_ctl_ble_peer_list(struct espat_ctl *c, size_t argc, const char *const *argv);

#endif
