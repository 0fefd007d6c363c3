/* Bluetooth LE across the shared air (espat --air PATH): the module's BLE
 * port when other modules share its air. It merges two airs:
 *
 *  - the world's private one beneath (world/ble.h: scripted peers), and
 *  - the shared one: other modules' advertising sets (a cache the hub's
 *    BLE_ADV messages keep, so advertiser() stays synchronous) and links
 *    with them, carried by the hub as BLE_* frames (proto/air.h).
 *
 * advertise() publishes to both; link(), att(), peer_mtu(), conn_param()
 * and mtu() go where the device at that address lives: a link made to an
 * air advertiser (or by another module to ours) is an air link, anything
 * else the world's. What the other module does comes back through the
 * same cmd/ble.h entries a scripted peer uses (espat_ble_central_connect,
 * espat_ble_att_in, espat_ble_peer_mtu, espat_ble_peer_conn_param,
 * espat_ble_remote_disconnect, espat_ble_peer_lost), so both modules print
 * what two real boards print. An ATT PDU from the other module is handed
 * over at this side's next connection event (one PDU per event, one
 * connection interval apart), as the radio would.
 *
 * docs/internals/air.md "Bluetooth LE", docs/internals/ble.md. */
#ifndef ESPAT_APP_BLE_AIR_H
#define ESPAT_APP_BLE_AIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port/ble.h"
#include "posix/loop.h"
#include "proto/air.h"

#define ESPAT_BLE_AIR_ADVS_MAX 16 /* other modules' advertising sets a module hears */
#define ESPAT_BLE_AIR_LINKS 8     /* air links (the family uses at most 3) */
#define ESPAT_BLE_AIR_QUEUE 64    /* ATT PDUs of a link waiting for their event; more: dropped */
#define ESPAT_BLE_AIR_LOG 8       /* ATT PDUs a link keeps for `espat ctl state` */
#define ESPAT_BLE_AIR_MTU 517u    /* the ATT_MTU a module offers in an exchange */
#define ESPAT_BLE_AIR_RSSI (-40)  /* dBm of another module's advertising */

struct espat_air;
struct json_t;
struct espat_ble_air_pdu; /* private to ble_air.c */

/* One link with another module. Named in the air by its initiator's
 * (module id, link number), as a TCP stream. */
struct espat_ble_air_link {
	bool used;
	bool initiator; /* this module connected (AT+BLECONN) */
	bool accepted;  /* the advertiser took it (always, on its side) */
	uint32_t origin, cid;
	uint32_t peer_mod;                     /* the other module's id in the air */
	uint8_t addr[6];                       /* the other end's address */
	uint16_t interval;                     /* 1.25 ms units: the connection events' spacing */
	uint64_t next_ns;                      /* the earliest event that can carry the next PDU */
	struct espat_ble_air_pdu *q, **q_tail; /* waiting for their event, oldest first */
	size_t qn;
	uint32_t rx, tx, dropped; /* ATT PDUs in, out, and lost to a full queue */
	struct {
		uint16_t len;
		uint8_t pdu[ESPAT_AIR_BLE_ATT_MAX];
	} log[ESPAT_BLE_AIR_LOG]; /* the last ones handed to the module, oldest first */
	size_t nlog;
};

struct espat_ble_air {
	struct espat_air *air;       /* back: the hub connection, the module, the loop */
	struct espat_ble_port world; /* the world's private air, beneath */
	struct {
		uint32_t mod; /* the advertiser's module id */
		uint8_t addr[6];
		struct espat_air_ble_adv adv;
		uint32_t phase_ms; /* its events on this module's clock */
	} advs[ESPAT_BLE_AIR_ADVS_MAX];
	size_t nadvs;
	/* the module's own set: as the family last gave it, and as published */
	bool own_on, own_dirty;
	struct espat_ble_adv own;
	bool pub_on;
	struct espat_ble_air_link link[ESPAT_BLE_AIR_LINKS];
	uint32_t next_cid;
	struct espat_loop_timer timer; /* the next ATT delivery */
};

/* The BLE port over the world's (copied) and the air's. b->air must be
 * set (espat_air_open does). */
struct espat_ble_port espat_ble_air_port(struct espat_ble_air *b,
                                         const struct espat_ble_port *world);
/* A BLE_* message from the hub (types 0x80-0xbf). */
void espat_ble_air_msg(struct espat_ble_air *b, const struct espat_air_msg *in);
/* Publishes the module's advertising set when it changed (before every
 * sleep, from espat_air_sync). */
void espat_ble_air_sync(struct espat_ble_air *b);
/* The hub went away: other modules' sets are heard no more, links end by
 * supervision timeout. */
void espat_ble_air_gone(struct espat_ble_air *b);
/* The module loses power: its links end for the other ends as a vanished
 * device's do (supervision timeout), with no word from this side's stack. */
void espat_ble_air_power_cut(struct espat_ble_air *b);
/* `espat ctl state`'s air.ble (a new JSON object). */
struct json_t *espat_ble_air_state(struct espat_ble_air *b);
/* Frees what is queued (after the module is freed). */
void espat_ble_air_close(struct espat_ble_air *b);

#endif
