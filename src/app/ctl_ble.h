/* The control interface's `ble` commands: the world's scripted BLE peers
 * (world/ble.h). The rows live in ctl.c's table; docs/internals/ctl.md
 * ("BLE peers") has the commands. */
#ifndef ESPAT_APP_CTL_BLE_H
#define ESPAT_APP_CTL_BLE_H

#include <stddef.h>

struct espat_ctl;

/* `ble peer add LABEL KEY=VALUE...` and `ble peer rm LABEL` (argv[0] is
 * add or rm). */
char *espat_ctl_ble_peer(struct espat_ctl *c, size_t argc, const char *const *argv);
/* `ble air`: the module's own advertising as a phone scanning hears it. */
char *espat_ctl_ble_air(struct espat_ctl *c, size_t argc, const char *const *argv);
char *espat_ctl_ble_peer_list(struct espat_ctl *c, size_t argc, const char *const *argv);

#endif
