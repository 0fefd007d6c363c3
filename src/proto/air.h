/* The shared air's wire protocol: what modules and the air hub (espat air)
 * say to each other over a Unix stream socket. docs/internals/air.md has
 * the message table and the flows.
 *
 * Every message is one frame: a 4-byte big-endian length of what follows,
 * then a fixed 32-byte header (type, code, network, peer, stream id,
 * addresses, a MAC) and a payload of at most ESPAT_AIR_PAYLOAD_MAX bytes.
 * One header for every type keeps the codec small: each type documents
 * which fields it uses, the others are zero. Types are grouped by number
 * so that one hub carries them all: 0x01-0x0f session, 0x10-0x3f Wi-Fi,
 * 0x40-0x5f IP, 0x80-0xbf Bluetooth LE (advertising, links, ATT). A
 * receiver ignores a type it does not know.
 *
 * Pure: no sockets, no clock, no allocation. The decoder is incremental:
 * it takes what has arrived and says need-more, one message, or malformed. */
#ifndef ESPAT_PROTO_AIR_H
#define ESPAT_PROTO_AIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESPAT_AIR_VERSION 1
#define ESPAT_AIR_HDR_LEN 32u /* header bytes after the length */
#define ESPAT_AIR_FRAME_HDR (4u + ESPAT_AIR_HDR_LEN)
#define ESPAT_AIR_PAYLOAD_MAX 16384u /* bytes of one message's payload */
#define ESPAT_AIR_FRAME_MAX (ESPAT_AIR_FRAME_HDR + ESPAT_AIR_PAYLOAD_MAX)
#define ESPAT_AIR_SSID_MAX 32u
#define ESPAT_AIR_AP_LEN 49u    /* bytes of an encoded softAP record */
#define ESPAT_AIR_WINDOW 65536u /* a TCP stream's receive window: bytes in flight at most */
#define ESPAT_AIR_WINDOW_LEN 4u /* bytes of TCP_WINDOW's payload */

enum espat_air_type {
	/* session */
	ESPAT_AIR_HELLO = 0x01,   /* module->hub: payload = its name (data dir), code = version */
	ESPAT_AIR_WELCOME = 0x02, /* hub->module: peer = the module's id in the air */
	/* Wi-Fi. A network id ("net") is the id of the module whose softAP it is. */
	ESPAT_AIR_AP_UP = 0x10,    /* module->hub: my softAP is up (mac = BSSID, payload =
	                            * softAP record); hub->module: net's softAP is up / changed */
	ESPAT_AIR_AP_DOWN = 0x11,  /* module->hub: my softAP is down; hub->module: net's is */
	ESPAT_AIR_JOIN = 0x12,     /* station->hub: join net (mac = station MAC, payload =
	                            * password); hub->AP: peer = the station's module */
	ESPAT_AIR_JOIN_ANS = 0x13, /* AP->hub: peer = station, code = enum espat_air_join;
	                            * hub->station: net, code */
	ESPAT_AIR_LEASE = 0x14,    /* AP->hub: peer = station, src_ip = its DHCP lease;
	                            * hub->station: net, src_ip */
	ESPAT_AIR_LEAVE = 0x15,    /* station->hub: I left net; hub->AP: peer, mac */
	ESPAT_AIR_KICK = 0x16,     /* AP->hub: peer dropped; hub->station: net */
	/* IP. A TCP stream is named by (peer = the module that opened it, cid =
	 * that module's number for it) in every frame of it, both ways. */
	ESPAT_AIR_TCP_OPEN = 0x40,   /* net, peer, cid, src_ip:sport -> dst_ip:dport */
	ESPAT_AIR_TCP_ACCEPT = 0x41, /* peer, cid, code = 0 accepted or enum espat_air_close */
	ESPAT_AIR_TCP_DATA = 0x42,   /* peer, cid, payload = stream bytes */
	ESPAT_AIR_TCP_CLOSE = 0x43,  /* peer, cid, code = enum espat_air_close */
	ESPAT_AIR_UDP = 0x44,        /* net, peer = sender, src_ip:sport -> dst_ip:dport,
	                              * payload = the datagram */
	ESPAT_AIR_TCP_WINDOW = 0x45, /* peer, cid, payload = 4-byte big-endian grant: the
	                              * receiver takes that many more bytes of the stream */
	/* Bluetooth LE. A link is named like a TCP stream: (peer = the module
	 * that initiated it, cid = that module's number for it), both ways. */
	ESPAT_AIR_BLE_ADV = 0x80,      /* module->hub: my advertising set (mac = its address,
	                                * payload = advertising record; none: stopped);
	                                * hub->module: peer = the advertiser's module */
	ESPAT_AIR_BLE_CONN = 0x81,     /* initiator->hub: connect to the set at mac, cid,
	                                * payload = initiator record; hub->advertiser: peer */
	ESPAT_AIR_BLE_CONN_ANS = 0x82, /* advertiser->hub->initiator: peer, cid, code =
	                                * enum espat_air_ble_ans */
	ESPAT_AIR_BLE_ATT = 0x83,      /* either end: peer, cid, payload = one ATT PDU */
	ESPAT_AIR_BLE_PARAM = 0x84,    /* either end: peer, cid, code = enum
	                                * espat_air_ble_param, payload = its record */
	ESPAT_AIR_BLE_DISCONN = 0x85,  /* either end (or the hub): peer, cid, code = the HCI
	                                * reason (ESPAT_AIR_BLE_*_TERM, _TIMEOUT) */
	ESPAT_AIR_BLE_SMP = 0x86,      /* either end: peer, cid, payload = one SMP PDU (L2CAP's
	                                * Security Manager channel, beside ATT's) */
	ESPAT_AIR_BLE_LL = 0x87,       /* either end: peer, cid, payload = one LL control PDU
	                                * (the encryption start with a bond's key) */
};

/* ESPAT_AIR_JOIN_ANS's code. */
enum espat_air_join {
	ESPAT_AIR_JOIN_OK = 0,
	ESPAT_AIR_JOIN_WRONG_KEY = 1, /* the 4-way handshake fails */
	ESPAT_AIR_JOIN_REFUSED = 2,   /* full, softAP off, already there */
	ESPAT_AIR_JOIN_GONE = 3,      /* no such softAP in the air */
};

/* Why a stream ends (TCP_CLOSE, a refused TCP_ACCEPT). */
enum espat_air_close {
	ESPAT_AIR_FIN = 0,      /* orderly close after the last byte */
	ESPAT_AIR_RST = 1,      /* reset (aborted) */
	ESPAT_AIR_REFUSED = 2,  /* nothing listens on that port */
	ESPAT_AIR_UNREACH = 3,  /* no module has that address in that network */
	ESPAT_AIR_VANISHED = 4, /* the other module left the air (exit, kill, power cut) */
};

/* BLE_CONN_ANS's code. */
enum espat_air_ble_ans {
	ESPAT_AIR_BLE_ACCEPTED = 0,
	ESPAT_AIR_BLE_REFUSED = 1, /* not advertising connectably (any more), no free link */
};

/* BLE_DISCONN's code: the HCI reason the other end's stack reports. */
#define ESPAT_AIR_BLE_TIMEOUT 0x08     /* the other end vanished: supervision timeout */
#define ESPAT_AIR_BLE_REMOTE_TERM 0x13 /* the other end's host ended the link */

/* BLE_PARAM's code. */
enum espat_air_ble_param {
	ESPAT_AIR_BLE_CONN_PARAM = 0, /* payload: interval, latency, timeout (2 bytes each) */
	ESPAT_AIR_BLE_MTU = 1,        /* payload: the ATT_MTU the exchange agreed (2 bytes) */
	ESPAT_AIR_BLE_PHY = 2,        /* payload: the PHY both ways (1 byte: 1 1M, 2 2M, 3 Coded) */
};

#define ESPAT_AIR_BLE_DATA_MAX 119u /* advertising data / scan response bytes */
#define ESPAT_AIR_BLE_ATT_MAX 517u  /* an ATT PDU's bytes (the largest ATT_MTU) */

/* An advertising set as the air carries it (BLE_ADV's payload); the
 * address is the message's mac. Timing is the receiver's business: it
 * places the events on its own clock from interval_ms. */
struct espat_air_ble_adv {
	uint8_t addr_type;    /* 0 public, 1 random */
	uint8_t adv_type;     /* AT+BLEADVPARAM's <adv_type> */
	uint8_t channel_map;  /* bit 0 ch37 .. bit 2 ch39 */
	uint32_t interval_ms; /* 20 .. 10240 */
	uint8_t adv_len, rsp_len;
	uint8_t adv[ESPAT_AIR_BLE_DATA_MAX];
	uint8_t rsp[ESPAT_AIR_BLE_DATA_MAX];
	/* its periodic train (AT+BLEPERIODICSTART): per_len 0 for none */
	uint8_t per_len;
	uint8_t per[ESPAT_AIR_BLE_DATA_MAX];
	uint32_t per_interval_ms;
};

/* BLE_CONN's payload: who initiates (its address as the target will see it). */
struct espat_air_ble_init {
	uint8_t addr[6];
	uint8_t addr_type;
};

/* BLE_PARAM's payload for ESPAT_AIR_BLE_CONN_PARAM (the guide's units:
 * 1.25 ms, events, 10 ms). */
struct espat_air_ble_conn {
	uint16_t interval, latency, timeout;
};

/* One message. Addresses are IPv4 in host byte order. payload is borrowed:
 * from decode, it points into the buffer given and lives as long as it. */
struct espat_air_msg {
	uint8_t type; /* enum espat_air_type */
	uint8_t code;
	uint32_t net;  /* a network (its softAP's module id), 0 = none */
	uint32_t peer; /* a module id, per type */
	uint32_t cid;  /* stream number */
	uint32_t src_ip;
	uint16_t sport;
	uint32_t dst_ip;
	uint16_t dport;
	uint8_t mac[6];
	const uint8_t *payload;
	size_t len;
};

/* A softAP as the air shows it (AP_UP's payload). */
struct espat_air_ap {
	uint8_t ssid[ESPAT_AIR_SSID_MAX];
	uint8_t ssid_len;
	uint8_t channel;  /* 1..14 */
	uint8_t ecn;      /* AT+CWLAP's <ecn> */
	uint8_t pairwise; /* ciphers, AT+CWLAP's numbering */
	uint8_t group;
	uint8_t bgn;    /* AT+CWAPPROTO bits */
	uint8_t hidden; /* 1: scans show no SSID */
	uint8_t max_conn;
	int8_t rssi; /* dBm as other modules see it */
	uint32_t ip; /* the softAP's address (AT+CIPAP) */
	uint32_t mask;
};

enum espat_air_rc {
	ESPAT_AIR_NEED, /* not a whole frame yet */
	ESPAT_AIR_MSG,  /* one message decoded; *used bytes consumed */
	ESPAT_AIR_BAD,  /* malformed (length out of bounds): drop the connection */
};

/* Encodes m (header and m->payload) into out. Returns the frame's length;
 * writes nothing when that exceeds cap. 0 when m->len is over the max. */
size_t espat_air_encode(const struct espat_air_msg *m, uint8_t *out, size_t cap);
/* Decodes the first frame of p[0..n). */
enum espat_air_rc espat_air_decode(const uint8_t *p, size_t n, struct espat_air_msg *m,
                                   size_t *used);
/* A softAP record: encode writes ESPAT_AIR_AP_LEN bytes; decode is false
 * when the payload is not one (wrong length, SSID longer than 32). */
void espat_air_ap_encode(const struct espat_air_ap *ap, uint8_t out[ESPAT_AIR_AP_LEN]);
bool espat_air_ap_decode(const uint8_t *p, size_t n, struct espat_air_ap *ap);

/* TCP_WINDOW's payload: encode writes ESPAT_AIR_WINDOW_LEN bytes; decode
 * is false when the payload is not one (wrong length, a grant of 0). */
void espat_air_window_encode(uint32_t grant, uint8_t out[ESPAT_AIR_WINDOW_LEN]);
bool espat_air_window_decode(const uint8_t *p, size_t n, uint32_t *grant);

/* BLE payloads. Each encode returns the bytes written (out holds at
 * least ESPAT_AIR_BLE_ADV_LEN_MAX, 7, 6 or 2); each decode is false when
 * the payload is not one (wrong length, data longer than the max, an
 * interval of 0). */
#define ESPAT_AIR_BLE_ADV_LEN_MAX (14u + 3u * ESPAT_AIR_BLE_DATA_MAX)
size_t espat_air_ble_adv_encode(const struct espat_air_ble_adv *a, uint8_t *out);
bool espat_air_ble_adv_decode(const uint8_t *p, size_t n, struct espat_air_ble_adv *a);
size_t espat_air_ble_init_encode(const struct espat_air_ble_init *i, uint8_t *out);
bool espat_air_ble_init_decode(const uint8_t *p, size_t n, struct espat_air_ble_init *i);
size_t espat_air_ble_conn_encode(const struct espat_air_ble_conn *c, uint8_t *out);
bool espat_air_ble_conn_decode(const uint8_t *p, size_t n, struct espat_air_ble_conn *c);
size_t espat_air_ble_mtu_encode(uint16_t mtu, uint8_t *out);
/* false also for an MTU outside 23..517 */
bool espat_air_ble_mtu_decode(const uint8_t *p, size_t n, uint16_t *mtu);

/* A TCP stream's flow control, one per end (both directions at once), as
 * TCP's window without sequence numbers: frames are never lost or
 * reordered on the hub's stream sockets, so counting is enough. Each end
 * starts allowed to send ESPAT_AIR_WINDOW bytes (credit) and to receive as
 * many (room). A receiver grants back (TCP_WINDOW) the bytes it handed to
 * its owner; a sender holds whatever exceeds its credit. Both counters
 * stay within [0, ESPAT_AIR_WINDOW]; a peer that breaks that (sends past
 * the room, grants more than it was sent) breaks the stream. */
struct espat_air_flow {
	uint32_t credit; /* bytes we may still send before a grant */
	uint32_t room;   /* bytes the peer may still send us before we grant */
};

void espat_air_flow_init(struct espat_air_flow *f);
/* How many of `queued` bytes may go now (at most the credit). */
size_t espat_air_flow_sendable(const struct espat_air_flow *f, size_t queued);
/* n bytes went out (n <= sendable). */
void espat_air_flow_sent(struct espat_air_flow *f, size_t n);
/* The peer granted `grant` more; false (nothing changed) when that would
 * exceed the window: the peer is broken. */
bool espat_air_flow_granted(struct espat_air_flow *f, uint32_t grant);
/* n bytes arrived; false (nothing changed) when they exceed the room. */
bool espat_air_flow_received(struct espat_air_flow *f, size_t n);
/* n held bytes went to the owner: returns the grant to send the peer. */
uint32_t espat_air_flow_consumed(struct espat_air_flow *f, size_t n);

#endif
