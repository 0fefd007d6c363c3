/* Shared between the files of the Wi-Fi family; not for other families. */
#ifndef ESPAT_CMD_WIFI_INTERNAL_H
#define ESPAT_CMD_WIFI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/wifi.h"
#include "core/args.h"
#include "core/engine.h"

struct espat_module;

/* Factory softAP network (ESP-IDF's): 192.168.4.1/24, DHCP pool .2-.101,
 * leases of 120 minutes. */
#define ESPAT_AP_IP 0xC0A80401u
#define ESPAT_AP_MASK 0xFFFFFF00u
#define ESPAT_DHCPS_LEASE_MIN 120u
#define ESPAT_DHCPS_POOL 100u
/* How long a softAP station's DHCP exchange takes. */
#define ESPAT_AP_DHCP_MS 150u
/* Channels a full 2.4 GHz sweep visits. */
#define ESPAT_SCAN_CHANNELS 13u


/* Prints a Wi-Fi status message ("WIFI CONNECTED", "+STA_CONNECTED:...")
 * as an asynchronous report. */
void espat_wifi_report(struct espat_module *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Writes the setting's text if cls says so (AT+SYSSTORE). */
void espat_wifi_save_cfg(struct espat_module *m);     /* "cwjap" */
void espat_wifi_save_reconn(struct espat_module *m);  /* "reconncfg" */
void espat_wifi_save_dhcp(struct espat_module *m);    /* "cwdhcp" */
void espat_wifi_save_sap(struct espat_module *m);     /* "cwsap" */

/* ---- wifi.c: the rows and lifecycle the v1.5 dialect (wifi_v15.c) shares - */

void espat_wifi_init(struct espat_module *m);
void espat_wifi_boot(struct espat_module *m);
/* Loads the flash settings into m->wifi (in factory state) without
 * starting anything: espat_wifi_boot's first half. */
void espat_wifi_load(struct espat_module *m);
void espat_wifi_free(struct espat_module *m);
espat_handler_fn espat_wifi_cwmode_set, espat_wifi_cwautoconn_set, espat_wifi_cwdhcp_set;
espat_handler_fn espat_wifi_cipstamac_set, espat_wifi_cipapmac_set;
espat_handler_fn espat_wifi_cipsta_set, espat_wifi_cipap_set;
espat_handler_fn espat_wifi_cipstamac_query, espat_wifi_cipapmac_query;
/* "+<name>:"<mac>"" and OK. */
enum espat_rc espat_wifi_mac_query(struct espat_module *m, const char *name, const uint8_t mac[6]);

/* ---- wifi_sta.c: the station's connection machine ---------------------- */

/* Starts connecting to the configured AP. A command waiting for the
 * outcome sets w->waiting first. */
void espat_sta_connect(struct espat_module *m);
/* Stops the station: cancels attempts and drops the association, printing
 * WIFI DISCONNECT if one existed. Leaves state DISCONNECTED (or NONE when
 * nothing had started). */
void espat_sta_stop(struct espat_module *m);
/* The station lost its AP (beacon loss, deauth): WIFI DISCONNECT and the
 * reconnect policy. */
void espat_sta_lost(struct espat_module *m);
/* Checks the association against the world. */
void espat_sta_world_changed(struct espat_module *m);
/* Whether the station is associated (state 1 or 2). */
bool espat_sta_associated(const struct espat_module *m);
/* Loads/boots the station part. */
void espat_sta_boot(struct espat_module *m);
void espat_sta_free(struct espat_module *m);

enum espat_rc espat_cwjap_query(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwjap_set(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwjap_exec(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwstate_query(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwqap_exec(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwreconncfg_query(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwreconncfg_set(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwlapopt_set(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwlap_set(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwlap_exec(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwjeap_query(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwjeap_set(struct espat_module *m, const struct espat_args *a);

/* ---- wifi_ap.c: the softAP and its stations ---------------------------- */

void espat_sap_defaults(struct espat_module *m);
/* The softAP goes down: its stations are gone (no messages). */
void espat_sap_stop(struct espat_module *m);
void espat_sap_free(struct espat_module *m);

enum espat_rc espat_cwsap_query(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwsap_set(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwlif_exec(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwqif_set(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwqif_exec(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwdhcps_query(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwdhcps_set(struct espat_module *m, const struct espat_args *a);

/* ---- wifi_prov.c: SmartConfig and WPS ---------------------------------- */

void espat_prov_world_changed(struct espat_module *m);
/* The station reached GOT IP / failed: provisioning that started the join
 * finishes its messages. */
void espat_prov_sta_up(struct espat_module *m);
void espat_prov_free(struct espat_module *m);

enum espat_rc espat_cwstartsmart_set(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwstartsmart_exec(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cwstopsmart_exec(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_wps_set(struct espat_module *m, const struct espat_args *a);

#endif
