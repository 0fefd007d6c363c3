/* The WebSocket commands (guide 3.8): up to three client links (0-2), each
 * the module's WebSocket client (cmd/wsc.h) over the client-connection
 * service, so the Wi-Fi state, DNS, the world's faults and TLS with the
 * client_* PKI apply as they do to TCP/IP links. Everything is RAM only.
 * The choices where the guide is silent are docs/COMPAT.md's WebSocket
 * rows (#140-159). */
#ifndef ESPAT_CMD_WS_H
#define ESPAT_CMD_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/family.h"
#include "cmd/wsc.h"
#include "core/timers.h"

#define ESPAT_WSF_LINKS 3
#define ESPAT_WSF_URI_MAX 256                           /* an AT line holds no more */
#define ESPAT_WSF_PROTO_MAX 64                          /* <"subprotocol"> */
#define ESPAT_WSF_AUTH_MAX 192                          /* <"auth">: the Authorization value */
#define ESPAT_WSF_HEAD_LEN_MAX 256                      /* one AT+WSHEAD header */
#define ESPAT_WSF_HEADS_MAX (ESPAT_WSC_HEADERS_MAX - 1) /* one line is left for <"auth"> */
#define ESPAT_WSF_BUF_DEFAULT 1024                      /* <buffer_size> */
#define ESPAT_WSF_BUF_MAX 8192
#define ESPAT_WSF_PING_DEFAULT 10        /* <ping_intv_sec> */
#define ESPAT_WSF_PONG_DEFAULT 120       /* <ping_timeout_sec> */
#define ESPAT_WSF_OPEN_TIMEOUT_MS 15000u /* <timeout_ms> of AT+WSOPEN */
#define ESPAT_WSF_SEND_TIMEOUT_MS 10000u /* <timeout_ms> of AT+WSSEND */
#define ESPAT_WSF_RECONNECT_MS 10000u    /* esp_websocket_client's reconnect wait */

/* <state> of AT+WSOPEN? (guide 3.8.4). */
enum espat_wsf_state {
	ESPAT_WSF_CLOSED = 0,
	ESPAT_WSF_RECONNECTING = 1, /* dialling again after a break */
	ESPAT_WSF_OPEN = 2,
	ESPAT_WSF_WAITING = 3, /* broken; the next attempt is due */
	ESPAT_WSF_CLOSING = 4, /* our close frame is out */
};

/* AT+WSCFG's settings for a link. */
struct espat_wsf_cfg {
	uint16_t ping_s, pong_s; /* ping interval, pong timeout */
	uint16_t buf_size;       /* the most bytes of one +WS_DATA; AT+WSSEND's <length> + 10 */
	uint8_t auth, pki, ca;   /* TLS: ESP-AT's auth mode, client_* PKI indexes */
};

struct espat_wsf_link {
	struct espat_module *m;
	uint8_t id;
	enum espat_wsf_state state; /* CLOSED: no client */
	struct espat_wsf_cfg cfg;   /* AT+WSCFG, for the next AT+WSOPEN */
	struct espat_wsf_cfg run;   /* the settings of the client in use */
	char uri[ESPAT_WSF_URI_MAX + 1];
	char proto[ESPAT_WSF_PROTO_MAX + 1];
	char auth[ESPAT_WSF_AUTH_MAX + 1];
	uint32_t timeout_ms; /* name + connect + TLS + upgrade */
	struct espat_wsc wsc;
	struct espat_timer ping_timer; /* the next ping: ping_s after what came last */
	struct espat_timer pong_timer; /* pong_s after the first ping not answered */
	struct espat_timer retry_timer;
	bool pong_wait;
	uint8_t *rx; /* a message's payload gathered for +WS_DATA, run.buf_size */
	size_t rx_len;
	bool rx_fin;       /* the frame being received ends its message */
	uint64_t msg_len;  /* bytes of the message so far, across its fragments */
};

/* The AT command waiting for the network. */
enum espat_wsf_op {
	ESPAT_WSF_OP_NONE,
	ESPAT_WSF_OP_OPEN,  /* AT+WSOPEN: the upgrade */
	ESPAT_WSF_OP_SEND,  /* AT+WSSEND: its frame drained */
	ESPAT_WSF_OP_CLOSE, /* AT+WSCLOSE: the closing handshake */
};

struct espat_ws {
	struct espat_wsf_link link[ESPAT_WSF_LINKS];
	char *head[ESPAT_WSF_HEADS_MAX]; /* AT+WSHEAD lines, owned, NUL-terminated */
	size_t nhead;
	enum espat_wsf_op op;
	uint8_t op_link;
	struct espat_timer op_timer; /* AT+WSSEND's <timeout_ms> */
	/* the data entry of AT+WSHEAD or AT+WSSEND */
	uint8_t entry_link, entry_opcode;
	uint32_t entry_timeout_ms;
	uint8_t *entry; /* owned while entering */
	size_t entry_len, entry_got;
};

extern const struct espat_cmd_table espat_ws_table;
extern const struct espat_family espat_ws_family;

#endif
