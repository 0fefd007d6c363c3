/* The control interpreter: the commands of the control interface (inspect
 * the module, change the simulated world, cut the power), one call per
 * command, one line of JSON back. Portable: no sockets, no files. The app
 * reaches it through the control socket (posix/ctl_server.h), the
 * in-process transcript runner calls it directly. Commands and replies:
 * docs/internals/ctl.md.
 *
 * The world is changed only through world.h, and the module hears of it
 * only through cmd/wifi.h's events (espat_wifi_world_changed() after every
 * change), as a real module only hears the air. */
#ifndef ESPAT_APP_CTL_H
#define ESPAT_APP_CTL_H

#include <stddef.h>
#include <stdio.h>

struct espat_ble_peers_sm;
struct espat_module;
struct espat_netfault;
struct espat_world;
struct json_t;

struct espat_ctl {
	/* The live module (may change after a power cut). */
	struct espat_module *(*module)(void *user);
	struct espat_world *world; /* borrowed: the module's radio */
	/* Lose power now; start again on the same flash. */
	void (*power_cut)(void *user);
	/* The world's network faults (world/netfault.h), borrowed; NULL: the
	 * `fault` commands fail. */
	struct espat_netfault *fault;
	/* The shared air as `state` shows it: a new JSON object; NULL hook
	 * when the module is alone (state shows "air": null). */
	struct json_t *(*air_state)(void *user);
	/* The scripted BLE peers' Security Manager (app/ble_peer_sec.h),
	 * borrowed; NULL: `ble peer pair` and friends fail. */
	struct espat_ble_peers_sm *ble_sm;
	void *user;
};

/* Runs one command (argv as the CLI gives it: argv[0] is the command).
 * Returns a malloc'd one-line JSON object, {"ok":true,...} or
 * {"ok":false,"error":"..."}; NULL only when out of memory. A failed
 * command changes nothing. */
char *espat_ctl_run(struct espat_ctl *c, size_t argc, const char *const *argv);

/* 0 when argv names a command with a number of arguments that fits it;
 * -1 with the usage error espat_ctl_run() would answer (cut to errlen)
 * otherwise. The client checks before it sends, so that a usage error is
 * one wherever it is found. */
int espat_ctl_check(size_t argc, const char *const *argv, char *err, size_t errlen);

/* Prints the commands, one per line with their arguments (for --help). */
void espat_ctl_help(FILE *f);

#endif
