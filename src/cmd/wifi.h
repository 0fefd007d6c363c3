/* Wi-Fi AT commands (guide section 3.2): the station (join, reconnect,
 * scan), the softAP and its DHCP server, addresses, SmartConfig, WPS and
 * WPA2-Enterprise. The air is the radio port (port/radio.h).
 *
 * Files: wifi.c (the table, mode, settings, boot), wifi_sta.c (the
 * station's connection machine: AT+CWJAP, reconnects, AT+CWLAP),
 * wifi_ap.c (softAP and its stations), wifi_prov.c (SmartConfig, WPS). */
#ifndef ESPAT_CMD_WIFI_H
#define ESPAT_CMD_WIFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/family.h"
#include "core/engine.h"
#include "core/timers.h"
#include "port/radio.h"

struct espat_module;

#define ESPAT_AP_STA_MAX 10 /* stations on the softAP (ESP32-C3's limit) */

/* AT+CWSTATE's <state>. */
enum espat_sta_state {
	ESPAT_STA_NONE = 0,       /* no connection started */
	ESPAT_STA_CONNECTED = 1,  /* associated, no IPv4 yet */
	ESPAT_STA_GOT_IP = 2,     /* associated with IPv4 */
	ESPAT_STA_CONNECTING = 3, /* connecting or reconnecting */
	ESPAT_STA_DISCONNECTED = 4,
};

/* Where the station's connection machine is. */
enum espat_sta_phase {
	ESPAT_PH_IDLE,     /* nothing under way */
	ESPAT_PH_SCAN,     /* looking for the AP (timer: end of the scan) */
	ESPAT_PH_ASSOC,    /* authenticating (timer: association done / failed) */
	ESPAT_PH_DHCP,     /* associated, waiting for an address (timer) */
	ESPAT_PH_UP,       /* associated with an address */
	ESPAT_PH_WAIT,     /* between reconnect attempts (timer) */
};

/* AT+CWJAP's saved configuration. */
struct espat_sta_cfg {
	bool valid;                       /* an AP has been configured */
	uint8_t ssid[ESPAT_SSID_MAX];
	size_t ssid_len;
	uint8_t pwd[ESPAT_PWD_MAX];
	size_t pwd_len;
	bool has_bssid;
	uint8_t bssid[6];
	uint8_t pci_en;
	uint16_t listen_interval;         /* beacon intervals, 1..100 */
	uint8_t scan_mode;                /* 0 fast (first match), 1 all channels (strongest) */
	uint8_t pmf;                      /* bit0 capable, bit1 required */
	bool eap;                         /* configured by AT+CWJEAP */
	struct espat_eap_cred eap_cred;
};

/* An IPv4 interface configuration; host byte order. */
struct espat_ip4 {
	uint32_t ip, gw, mask;
};

/* One station on the softAP. */
struct espat_ap_sta {
	bool used;
	uint8_t mac[6];
	uint32_t ip;       /* 0 until DHCP leased one */
	bool dhcp;         /* its address came from our DHCP server (AT+CWLIF lists only these) */
	struct espat_timer dhcp_timer;
	struct espat_module *m;
};

struct espat_wifi {
	/* mode and radio */
	uint8_t mode;                     /* AT+CWMODE: 0 off, 1 station, 2 softAP, 3 both */
	bool init;                        /* AT+CWINIT (1 after every boot) */
	uint8_t sta_proto, ap_proto;      /* AT+CWSTAPROTO / AT+CWAPPROTO, bit0 b bit1 g bit2 n bit3 LR */
	uint8_t sta_mac[6], ap_mac[6];    /* AT+CIPSTAMAC / AT+CIPAPMAC */
	char hostname[33];                /* AT+CWHOSTNAME */
	struct {
		uint8_t policy;           /* 0 follow the AP, 1 fixed */
		char code[4];
		uint8_t start, count;
	} country;                        /* AT+CWCOUNTRY */

	/* station */
	struct espat_sta_cfg cfg;         /* AT+CWJAP / AT+CWJEAP */
	bool autoconn;                    /* AT+CWAUTOCONN */
	uint16_t reconn_interval;         /* AT+CWRECONNCFG <interval_second>, 0 = no reconnect */
	uint16_t reconn_count;            /* <repeat_count>, 0 = for ever */
	uint16_t reconn_done;             /* attempts since the link was lost */
	enum espat_sta_state state;
	enum espat_sta_phase phase;
	struct espat_timer sta_timer;     /* the phase's timer */
	struct espat_bss ap;              /* the AP joined (or being joined) */
	struct espat_ipnet net;           /* what that AP's network gave */
	enum espat_auth auth;             /* the handshake's outcome, known when ASSOC starts
	                                   * (PENDING: an air AP still deciding) */
	bool air_wait;                    /* the phase's time is over, the air AP's answer
	                                   * (join or lease) is still to come */
	int last_fail;                    /* +CWJAP:<code> of the last failed attempt, 0 none */
	bool dhcp_sta;                    /* AT+CWDHCP bit0 */
	struct espat_ip4 sta_ip;          /* the station's address now (0 = none) */
	struct espat_ip4 sta_static;      /* AT+CIPSTA (used while !dhcp_sta) */

	/* AT+CWLAPOPT and a running AT+CWLAP */
	struct {
		uint8_t sort;             /* 1: by RSSI, strongest first; 0: in scan order */
		uint16_t mask;            /* <print mask> */
		int rssi_min;             /* <rssi filter> */
		uint16_t auth_mask;       /* <authmode mask> */
	} lapopt;
	struct {
		uint8_t ssid[ESPAT_SSID_MAX];
		size_t ssid_len;
		bool has_ssid, has_mac;
		uint8_t mac[6];
		uint8_t channel;          /* 0 = all */
	} scan;                           /* the filter of the AT+CWLAP running */
	struct espat_timer scan_timer;

	/* the command waiting on the station (AT+CWJAP, AT+CWJEAP), if any */
	espat_handler_fn *waiting;        /* non-NULL while a join command is pending */
	uint64_t jap_deadline;            /* module clock at <jap_timeout> */
	struct espat_timer jap_timer;

	/* softAP */
	struct {
		uint8_t ssid[ESPAT_SSID_MAX];
		size_t ssid_len;
		uint8_t pwd[ESPAT_PWD_MAX];
		size_t pwd_len;
		uint8_t channel, ecn, max_conn, hidden;
	} sap;                            /* AT+CWSAP */
	bool dhcp_ap;                     /* AT+CWDHCP bit1 */
	struct espat_ip4 ap_ip;           /* AT+CIPAP */
	struct {
		bool custom;              /* AT+CWDHCPS=1 given */
		uint32_t lease_min, start, end;
	} dhcps;                          /* AT+CWDHCPS */
	struct espat_ap_sta sta[ESPAT_AP_STA_MAX];

	/* provisioning */
	bool sc_on;                       /* AT+CWSTARTSMART running */
	uint8_t sc_type;                  /* 1..4 */
	uint8_t sc_auth_floor;
	uint8_t sc_phase;                 /* 0 listening, 1 got info + joining, 2 done */
	struct espat_timer sc_timer;
	bool wps_on;                      /* AT+WPS=1 running */
	uint8_t wps_auth_floor;
	uint64_t wps_deadline;
	struct espat_timer wps_timer;
	/* v1.5 AT+CWSTARTDISCOVER: announcing the device to WeChat */
	bool discover_on;
	uint32_t discover_interval_s;     /* 0: answer probes only */
};

extern const struct espat_cmd_table espat_wifi_table;
extern const struct espat_family espat_wifi_family;
/* The same family speaking the ESP8266 v1.5 set (wifi_v15.c). */
extern const struct espat_family espat_wifi_v15_family;

/* ---- events from the world (the control interface calls these) ---------- */

/* Something in the world changed (an AP went down or up, its credentials,
 * SmartConfig or WPS activity): the module looks again, as a real one
 * notices a lost beacon or a deauthentication. */
void espat_wifi_world_changed(struct espat_module *m);
/* The AP deauthenticates the station. Returns -1 when not associated. */
int espat_wifi_deauth(struct espat_module *m);
/* A station joins the softAP. pwd NULL = it knows the right password.
 * Returns 0; -2 with *why for a wrong password; -1 with *why otherwise
 * (softAP off, full, known). */
int espat_wifi_ap_join(struct espat_module *m, const uint8_t mac[6], const uint8_t *pwd,
		       size_t pwd_len, const char **why);
/* A station leaves the softAP. Returns -1 with *why when it is not there. */
int espat_wifi_ap_leave(struct espat_module *m, const uint8_t mac[6], const char **why);

/* ---- the shared air (docs/internals/air.md; the app's air client) ---------- */

/* The air AP id answered the join that radio.auth() left PENDING: OK,
 * WRONG_KEY, REJECTED or GONE. Ignored when no such join is under way. */
void espat_wifi_air_answer(struct espat_module *m, uint32_t id, enum espat_auth a);
/* The air AP id's DHCP server leased ip to the station. */
void espat_wifi_air_lease(struct espat_module *m, uint32_t id, uint32_t ip);

/* The softAP as other modules in the air see it. */
struct espat_wifi_softap {
	uint8_t ssid[ESPAT_SSID_MAX];
	size_t ssid_len;
	uint8_t bssid[6]; /* the softAP's MAC (AT+CIPAPMAC) */
	uint8_t channel, ecn, max_conn, hidden, proto;
	uint32_t ip, mask; /* AT+CIPAP */
};
/* Fills *out and returns true while the softAP is up. */
bool espat_wifi_softap(const struct espat_module *m, struct espat_wifi_softap *out);

/* ---- for other families (CIFSR, CIPSTATUS, DNS, sockets) ----------------- */

bool espat_wifi_sta_enabled(const struct espat_module *m); /* mode 1 or 3, and CWINIT=1 */
bool espat_wifi_ap_enabled(const struct espat_module *m);  /* mode 2 or 3, and CWINIT=1 */
/* Whether sockets can reach anything: the station has an address on a
 * network that leads to the host, or the softAP is up (its stations are
 * played by peers on the host). ESPAT_EV_NET_CHANGED says when it may
 * have changed. */
bool espat_wifi_online(const struct espat_module *m);
enum espat_sta_state espat_wifi_sta_state(const struct espat_module *m);
/* The station's and the softAP's addresses now (0: none) and MACs. */
struct espat_ip4 espat_wifi_sta_ip(const struct espat_module *m);
struct espat_ip4 espat_wifi_ap_ip(const struct espat_module *m);
const uint8_t *espat_wifi_sta_mac(const struct espat_module *m);
const uint8_t *espat_wifi_ap_mac(const struct espat_module *m);
/* The DNS servers DHCP gave the station, while it has an address: how
 * many (0..2) went into dns. */
size_t espat_wifi_dhcp_dns(const struct espat_module *m, uint32_t dns[2]);

/* ---- for the web server's provisioning (cmd/web.c) ------------------------ */

/* Joins the AP named ssid with pwd, saved like AT+CWJAP's (AT+SYSSTORE), as
 * a provisioning page does; the outcome shows in espat_wifi_sta_state() and
 * espat_wifi_sta_last_fail(). -1 when the station is off. */
int espat_wifi_provision_join(struct espat_module *m, const uint8_t *ssid, size_t ssid_len,
			      const uint8_t *pwd, size_t pwd_len);
/* The Wi-Fi mode (0 off, 1 station, 2 softAP, 3 both) changes as
 * AT+CWMODE=<mode> does, for BluFi's opmode: saved under AT+SYSSTORE, a
 * station coming on joins its saved AP. -1 while Wi-Fi is deinitialized
 * (AT+CWINIT=0) or for another mode. */
int espat_wifi_set_mode(struct espat_module *m, uint8_t mode);
/* +CWJAP:<code> of the station's last failed attempt since its last join
 * started (espat_wifi_provision_join clears it); 0: none. */
int espat_wifi_sta_last_fail(const struct espat_module *m);
/* What a scan of the air sees now (AT+CWLAP's list, unfiltered, in the
 * air's order): up to max APs into out; how many. */
size_t espat_wifi_scan(struct espat_module *m, struct espat_bss *out, size_t max);

#endif
