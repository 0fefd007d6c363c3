/* The radio: what the module's Wi-Fi sees of the air around it. The world
 * behind it (src/world/) is data: access points with their security and
 * networks, a phone broadcasting SmartConfig, a router's WPS button. The
 * module's own behaviour (timing of a join, reconnects, the messages) is the
 * cmd layer's (cmd/wifi.c); the radio only answers questions.
 *
 * Changes to the world reach the module through espat_wifi_world_changed()
 * (cmd/wifi.h), called by whoever changed it (the control interface). */
#ifndef ESPAT_PORT_RADIO_H
#define ESPAT_PORT_RADIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESPAT_SSID_MAX 32 /* bytes, 802.11 */
#define ESPAT_PWD_MAX 64  /* a WPA passphrase is 8..63 ASCII bytes; 64 hex = a raw PSK */
#define ESPAT_EAP_STR_MAX 32

/* Espressif's OTA server (esp-at's default CONFIG_AT_OTA_SERVER_IP and its
 * TLS twin): where the OTA commands go when the world names no other. */
#define ESPAT_OTA_SERVER "http://iot.espressif.cn"
#define ESPAT_OTA_SSL_SERVER "https://iot.espressif.cn"

/* Authentication modes, numbered as AT+CWLAP's <ecn>. */
enum espat_ecn {
	ESPAT_ECN_OPEN = 0,
	ESPAT_ECN_WEP = 1,
	ESPAT_ECN_WPA_PSK = 2,
	ESPAT_ECN_WPA2_PSK = 3,
	ESPAT_ECN_WPA_WPA2_PSK = 4,
	ESPAT_ECN_WPA2_ENTERPRISE = 5,
	ESPAT_ECN_WPA3_PSK = 6,
	ESPAT_ECN_WPA2_WPA3_PSK = 7,
	ESPAT_ECN_WAPI_PSK = 8,
	ESPAT_ECN_OWE = 9,
};

/* Ciphers, numbered as AT+CWLAP's <pairwise_cipher>/<group_cipher>. */
enum espat_cipher {
	ESPAT_CIPHER_NONE = 0,
	ESPAT_CIPHER_WEP40 = 1,
	ESPAT_CIPHER_WEP104 = 2,
	ESPAT_CIPHER_TKIP = 3,
	ESPAT_CIPHER_CCMP = 4,
	ESPAT_CIPHER_TKIP_CCMP = 5,
	ESPAT_CIPHER_AES_CMAC128 = 6,
	ESPAT_CIPHER_UNKNOWN = 7,
};

/* One access point as a scan sees it. */
struct espat_bss {
	uint32_t id;                   /* the world's handle: stable while the AP exists, never reused */
	uint8_t ssid[ESPAT_SSID_MAX];  /* any bytes; a hidden AP shows ssid_len 0 */
	size_t ssid_len;
	uint8_t bssid[6];
	uint8_t channel;               /* 1..14 */
	int rssi;                      /* dBm */
	uint8_t ecn;                   /* enum espat_ecn */
	uint8_t pairwise_cipher;       /* enum espat_cipher */
	uint8_t group_cipher;
	uint8_t bgn;                   /* bit0 11b, bit1 11g, bit2 11n, bit3 LR */
	bool wps;                      /* the AP supports WPS */
	bool pmf_required;             /* 802.11w required (WPA3 networks) */
};

/* The IPv4 network behind an AP, as a station joining it gets it.
 * Addresses in host byte order. */
struct espat_ipnet {
	bool dhcp;         /* the AP runs a DHCP server; false: static addressing only */
	uint32_t ip;       /* the address its DHCP server leases to this module */
	uint32_t mask;
	uint32_t gw;
	uint32_t dns[2];   /* 0 = none */
	uint32_t lease_s;  /* DHCP lease time */
	uint32_t assoc_ms; /* authentication + association + 4-way handshake */
	uint32_t dhcp_ms;  /* DHCP DISCOVER to ACK */
	bool to_host;      /* sockets opened on this network go out through the host's stack */
	bool air;          /* another module's softAP in the shared air: its DHCP server
	                    * leases ip later (espat_wifi_air_lease), sockets to it go
	                    * through the air (docs/internals/air.md) */
};

enum espat_auth {
	ESPAT_AUTH_OK,        /* credentials accepted; *net filled */
	ESPAT_AUTH_WRONG_KEY, /* the 4-way handshake (or WEP/EAP auth) fails */
	ESPAT_AUTH_REJECTED,  /* the AP refuses the station (e.g. it is full, or EAP fails) */
	ESPAT_AUTH_GONE,      /* no such AP up any more */
	/* The AP is another module in the shared air and decides itself: the
	 * radio has asked it, and the answer comes through
	 * espat_wifi_air_answer() (cmd/wifi.h), from the loop, later. */
	ESPAT_AUTH_PENDING,
};

/* WPA2-Enterprise credentials (AT+CWJEAP). Strings NUL-terminated. */
struct espat_eap_cred {
	uint8_t method;                         /* 0 EAP-TLS, 1 EAP-PEAP, 2 EAP-TTLS */
	char identity[ESPAT_EAP_STR_MAX + 1];
	char username[ESPAT_EAP_STR_MAX + 1];
	char password[ESPAT_EAP_STR_MAX + 1];
	uint8_t security;                       /* bit0 client cert, bit1 verify server cert */
};

/* Credentials delivered over the air by provisioning (SmartConfig's phone
 * app, or a WPS registrar). */
struct espat_prov {
	uint32_t ap_id;                   /* the AP they lead to (WPS), 0 = look up by ssid */
	uint8_t ssid[ESPAT_SSID_MAX];
	size_t ssid_len;
	uint8_t pwd[ESPAT_PWD_MAX];
	size_t pwd_len;
	uint8_t bssid[6];
	bool has_bssid;
	uint8_t type;                     /* SmartConfig: 1 ESP-TOUCH, 2 AirKiss, 4 ESP-TOUCH v2 */
	uint8_t rvd[64];                  /* ESP-TOUCH v2 reserved data */
	size_t rvd_len;
};

struct espat_radio {
	void *user;
	/* Every AP that is up, in the order a channel sweep meets them
	 * (channel, then the world's order). Writes at most max; returns how
	 * many APs there are (which may be more than max). */
	size_t (*scan)(void *user, struct espat_bss *out, size_t max);
	/* The AP with this id, if it exists and is up, with its SSID even when
	 * hidden (what a probe response to a directed probe reveals). */
	bool (*find)(void *user, uint32_t id, struct espat_bss *out);
	/* Would these credentials get a station with this MAC in? eap is NULL
	 * for a PSK/open join. Fills *net unless ESPAT_AUTH_GONE (a failed
	 * handshake takes net->assoc_ms too); net->ip is a lease only on OK. */
	enum espat_auth (*auth)(void *user, uint32_t id, const uint8_t mac[6], const uint8_t *pwd,
				size_t pwd_len, const struct espat_eap_cred *eap,
				struct espat_ipnet *net);
	/* Active-scan dwell per channel, ms (a full sweep is 13 of them). */
	uint32_t (*scan_channel_ms)(void *user);
	/* A phone app broadcasting SmartConfig of one of the types in
	 * type_mask (bit n = type n): fills *out and returns true. */
	bool (*smartconfig)(void *user, unsigned type_mask, struct espat_prov *out);
	/* WPS: the APs whose push button was pressed within the last two
	 * minutes (now_ms on the module clock). Returns how many (a PBC session
	 * overlap when more than one) and fills *out for the first. */
	size_t (*wps)(void *user, uint64_t now_ms, struct espat_prov *out);
	/* Where the OTA commands find the update server, reached through the
	 * station's network: a base URL (scheme://host[:port]) for plain HTTP
	 * (tls false) or TLS. May be NULL: ESPAT_OTA_SERVER / _SSL_SERVER. */
	const char *(*ota_server)(void *user, bool tls);

	/* ---- the shared air (docs/internals/air.md); NULL without one ---- */
	/* The station stops using AP id: it left (AT+CWQAP), lost it, or gave
	 * up a join under way. An air AP hears of it as a real one notices a
	 * deauthentication. */
	void (*leave)(void *user, uint32_t id);
	/* The module's softAP: its DHCP server leased ip to the station mac
	 * (ip != 0), or that station left or was dropped (ip == 0). */
	void (*softap_station)(void *user, const uint8_t mac[6], uint32_t ip);
};

#endif
