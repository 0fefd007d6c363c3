/* Everything a module needs from its platform, wired by the app (or by a
 * test) before espat_module_init(). Every pointer is borrowed and must
 * outlive the module. */
#ifndef ESPAT_PORT_PORTS_H
#define ESPAT_PORT_PORTS_H

#include "port/ble.h"
#include "port/crypto.h"
#include "port/flash.h"
#include "port/files.h"
#include "port/kv.h"
#include "port/net.h"
#include "port/periph.h"
#include "port/pipe.h"
#include "port/radio.h"
#include "port/regex.h"
#include "port/sys.h"

struct espat_ports {
	struct espat_pipe pipe;   /* the AT port */
	struct espat_sys sys;     /* clock, wall time, randomness */
	struct espat_kv nvs;      /* settings NVS */
	struct espat_kv mfg;      /* manufacturing NVS (AT+SYSMFG, PKI) */
	struct espat_flash flash; /* user partitions (AT+SYSFLASH) */
	struct espat_regex regex; /* BRE for message filters */
	struct espat_radio radio; /* the air: access points, provisioning */
	struct espat_net net;     /* sockets, DNS, ping (NULL ops: no network) */
	struct espat_files files; /* whole files in the data dir (OTA images) */
	struct espat_periph periph; /* pins and buses (NULL ops: none) */
	struct espat_ble_port ble;  /* the BLE air (NULL ops: none) */
	struct espat_crypto_port crypto; /* BLE pairing's ciphers (NULL ops: no pairing) */
	/* The platform's hook for restarts: called after the module has
	 * printed everything of the old life (AT+RST, AT+RESTORE, deep sleep),
	 * so a port can e.g. reapply the UART default. May be NULL. */
	void (*on_restart)(void *user);
	void *restart_user;
};

#endif
