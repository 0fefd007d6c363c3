/* A module's side of the shared air (espat --air PATH): the connection to
 * the hub (app/air_hub.h) and the two ports it stands in front of.
 *
 *  - The radio: scans and finds see the world's APs (--world) plus the
 *    softAPs the air publishes (a cache, updated by the hub's messages, so
 *    the radio port stays synchronous). Joining an air softAP is
 *    asynchronous: auth() asks the AP's module through the hub and answers
 *    ESPAT_AUTH_PENDING; the answer and the DHCP lease come back through
 *    espat_wifi_air_answer()/espat_wifi_air_lease(). The module's own
 *    softAP is published (espat_air_sync(), before every sleep) and remote
 *    stations join it through espat_wifi_ap_join()/leave(), so its reports
 *    are the same as for a ctl phone.
 *  - The network: a decorator over the host sockets. A socket whose
 *    destination is inside an air network (the station's softAP subnet, or
 *    the module's own softAP subnet) is carried by the hub as TCP stream /
 *    UDP datagram frames; every other socket passes straight to the host
 *    (its pointer is the lower port's own, untouched). Listeners are both:
 *    the host's loopback port as before, and the port in the air.
 *
 *  - Bluetooth LE: app/ble_air.h, the BLE port over the world's scripted
 *    peers and the other modules' advertising sets and links.
 *
 * docs/internals/air.md. */
#ifndef ESPAT_APP_AIR_H
#define ESPAT_APP_AIR_H

#include <stdbool.h>
#include <stdint.h>

#include "app/air_conn.h"
#include "app/ble_air.h"
#include "cmd/wifi.h"
#include "port/net.h"
#include "port/radio.h"
#include "posix/log.h"
#include "posix/loop.h"

#define ESPAT_AIR_APS_MAX 32           /* softAPs of other modules a module sees */
#define ESPAT_AIR_BSS_BASE 0x40000000u /* radio ids of air APs: base | network id */
#define ESPAT_AIR_RSSI (-40)           /* dBm of another module's softAP */
#define ESPAT_AIR_ASSOC_MS 200u        /* a join's association time at least */
#define ESPAT_AIR_DHCP_MS 100u         /* its DHCP time at least (the AP's lease decides) */
#define ESPAT_AIR_UDP_QUEUE 64         /* datagrams kept for a paused UDP socket */
/* A TCP socket's send queue (bytes past the peer's window, ESPAT_AIR_WINDOW
 * in proto/air.h) holds at most this much: a send() that would exceed it
 * takes nothing and fails (ESPAT_NET_ENOMEM). The cmd layer stops feeding
 * a socket past ESPAT_SOCK_HIGH (256 KiB), far below. */
#define ESPAT_AIR_SNDQ_MAX (1024u * 1024u)
/* A gracefully closed socket with bytes still queued keeps sending them
 * (then FIN) for at most this long, then resets: as the host port's
 * ESPAT_NET_CLOSE_FLUSH_MS. */
#define ESPAT_AIR_LINGER_MS 10000u

struct json_t;
struct espat_module;
struct espat_air_sock; /* private to air.c */

enum espat_air_sta {
	ESPAT_AIR_STA_NONE,   /* the station is on no air softAP */
	ESPAT_AIR_STA_ASKED,  /* JOIN sent, waiting for the AP's answer */
	ESPAT_AIR_STA_JOINED, /* the AP took it (sta_ip once leased) */
};

struct espat_air {
	const char *path;            /* the hub's socket (borrowed from argv) */
	struct espat_loop *loop;     /* borrowed */
	const struct espat_log *log; /* borrowed */
	struct espat_module *m;      /* borrowed; the same address across power cuts */
	struct espat_radio world;    /* the module's own world, beneath */
	struct espat_net lower;      /* the host's sockets, beneath */
	struct espat_air_conn conn;
	bool connected; /* the hub answered HELLO */
	uint32_t id;    /* this module's id in the air (its network id) */
	struct {
		uint32_t net;
		uint8_t bssid[6];
		struct espat_air_ap ap;
	} aps[ESPAT_AIR_APS_MAX]; /* other modules' softAPs */
	size_t naps;
	/* the station on an air softAP */
	enum espat_air_sta sta;
	uint32_t sta_net, sta_ip, sta_mask;
	/* the module's softAP as published */
	bool ap_pub;
	struct espat_wifi_softap pub;
	struct {
		bool used;
		uint32_t peer; /* the station's module */
		uint8_t mac[6];
		uint32_t ip;
	} rsta[ESPAT_AP_STA_MAX]; /* stations of other modules on our softAP */
	struct espat_air_sock *socks;
	uint32_t next_cid;
	uint16_t next_port;
	struct espat_loop_timer kick; /* deferred socket callbacks */
	struct espat_ble_air ble;     /* Bluetooth LE in the air (app/ble_air.h) */
};

/* Connects to the hub at path and says hello (name: the data dir, for the
 * hub's log). 0, or -1 with a reason in err. */
int espat_air_open(struct espat_air *a, const char *path, struct espat_loop *l,
                   const struct espat_log *log, const char *name, char *err, size_t errlen);
/* The ports over the world's radio and the host's net (copied). */
struct espat_radio espat_air_radio(struct espat_air *a, const struct espat_radio *world);
struct espat_net espat_air_net(struct espat_air *a, const struct espat_net *lower);
/* The BLE port over the world's scripted peers (copied) and the air's
 * modules (app/ble_air.h). */
struct espat_ble_port espat_air_ble(struct espat_air *a, const struct espat_ble_port *world);
/* Publishes the module's softAP (and its BLE advertising set) when it
 * changed. Before every sleep. */
void espat_air_sync(struct espat_air *a);
/* The module loses power now (before it is freed): its softAP and its
 * station leave the air at once. */
void espat_air_power_cut(struct espat_air *a);
/* The air as `espat ctl state` shows it (a new JSON object). */
struct json_t *espat_air_state(struct espat_air *a);
/* After the module is freed: closes what is left and the connection. */
void espat_air_close(struct espat_air *a);

#endif
