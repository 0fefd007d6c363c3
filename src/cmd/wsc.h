/* The module's WebSocket client: the opening handshake and frames over the
 * client-connection service (cmd/conn.h), spoken with the codecs
 * (proto/http.h for the upgrade response, proto/ws.h for frames). MQTT
 * over WebSocket (schemes 6-10) and the WebSocket commands (AT+WS*) use it,
 * so the module's network view applies to both.
 *
 * A client lives in its owner (struct espat_wsc). Callbacks: open() once
 * (0: the server accepted the upgrade; else why not, and the client is
 * idle again), then for each data frame frame_start(), data() pieces,
 * frame_end(); pong() for each pong; ping() for each ping, after the
 * client answered it; closed() once at the end (the peer's close frame,
 * answered, or the connection's end), after which the client is idle.
 * Pings are answered with pongs by the client itself. Nothing
 * runs from inside espat_wsc_open(); the owner may call espat_wsc_abort()
 * from inside any callback. Frames the client sends are masked with keys
 * from the module's randomness (the sys port). */
#ifndef ESPAT_CMD_WSC_H
#define ESPAT_CMD_WSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/conn.h"
#include "cmd/family.h"
#include "core/timers.h"
#include "proto/http.h"
#include "proto/ws.h"

#define ESPAT_WSC_HEADERS_MAX 8    /* extra handshake header lines */
#define ESPAT_WSC_CLOSE_WAIT_MS 5000u /* after our close frame, for the peer's */

struct espat_wsc_cbs {
	void (*open)(void *user, int err);
	/* A data frame begins: its own opcode (TEXT, BINARY or CONT), FIN,
	 * its payload length. May be NULL. */
	void (*frame_start)(void *user, uint8_t opcode, bool fin, uint64_t len);
	/* A piece of a data frame's payload, valid during the call. */
	void (*data)(void *user, const uint8_t *p, size_t n);
	void (*frame_end)(void *user); /* may be NULL */
	void (*pong)(void *user);      /* may be NULL */
	void (*ping)(void *user);      /* a ping came (and was answered); may be NULL */
	/* The end. err 0: a close handshake (code: the peer's close code, or
	 * 1005 when it gave none); else an enum espat_net_err (ERESET, EIO
	 * for a protocol violation, ETIMEDOUT for a close never answered). */
	void (*closed)(void *user, int err, uint16_t code);
	void (*drained)(void *user); /* everything sent went out; may be NULL */
};

struct espat_wsc_req {
	const char *host; /* a name or a literal address, borrowed for the call */
	size_t host_len;
	uint16_t port;
	bool secure;                      /* wss: TLS per tls */
	const struct espat_conn_tls *tls; /* wss: ESP-AT's settings; NULL: no checks */
	const char *path;                 /* starts with '/'; NULL: "/" */
	const char *protocol;             /* Sec-WebSocket-Protocol, or NULL */
	const char *const *headers;       /* extra "Name: value" lines */
	size_t nheaders;
	uint32_t timeout_ms; /* name + connect + TLS + upgrade; 0: the service's */
};

enum espat_wsc_state {
	ESPAT_WSC_IDLE,
	ESPAT_WSC_CONNECTING, /* the connection is being made */
	ESPAT_WSC_UPGRADING,  /* the upgrade request is out */
	ESPAT_WSC_OPEN,       /* frames both ways */
	ESPAT_WSC_CLOSING,    /* our close frame is out; waiting for the peer's */
};

struct espat_wsc {
	struct espat_module *m;
	enum espat_wsc_state state;
	struct espat_conn conn;
	const struct espat_wsc_cbs *cb;
	void *user;
	char key[ESPAT_WS_KEY_SIZE];       /* Sec-WebSocket-Key sent */
	char *request;                     /* the upgrade request, owned, until sent */
	size_t request_len;
	struct espat_http_parser *http;    /* the upgrade response, owned while UPGRADING */
	bool accept_ok, upgrade_ok;        /* the response's headers checked so far */
	bool connection_ok;                /* ... Connection: upgrade */
	bool extension_seen;               /* ... a Sec-WebSocket-Extensions (none asked) */
	struct espat_ws_parser ws;
	uint8_t ctrl[ESPAT_WS_CTRL_MAX];   /* the control frame being read: its payload */
	size_t ctrl_len;
	struct espat_timer timer;          /* the upgrade's or the close's deadline */
	uint32_t timeout_ms;
	uint64_t deadline;                 /* the module's clock when timeout_ms runs out */
	unsigned gen;                      /* changes when the client ends */
};

/* Starts the connection and the handshake. 0 when under way (open()
 * follows); -1 with *err when it cannot start (EINVAL: a bad path, header
 * or host; EUNREACH: no way out; ECERT: the PKI missing; ENOMEM). */
int espat_wsc_open(struct espat_wsc *w, struct espat_module *m, const struct espat_wsc_req *r,
                   const struct espat_wsc_cbs *cb, void *user, int *err);
/* Sends one frame (masked): a data frame (TEXT, BINARY, CONT) or PING /
 * PONG. Only while OPEN. 0, or an enum espat_net_err. */
int espat_wsc_send(struct espat_wsc *w, uint8_t opcode, bool fin, const uint8_t *p, size_t n);
/* Starts the closing handshake with code (and no reason): closed() comes
 * when the peer answers, or after ESPAT_WSC_CLOSE_WAIT_MS. While
 * CONNECTING or UPGRADING it aborts instead (no callback). */
void espat_wsc_close(struct espat_wsc *w, uint16_t code);
/* The same with a reason (UTF-8, at most 123 bytes) in the close frame.
 * 0, or ESPAT_NET_EINVAL (nothing done) for a code that may not be sent
 * (1005 stands for an empty close frame) or a bad reason. */
int espat_wsc_close_reason(struct espat_wsc *w, uint16_t code, const uint8_t *reason, size_t n);
/* Ends the client at once in any state; no callback runs afterwards. */
void espat_wsc_abort(struct espat_wsc *w);
/* Bytes sent but not yet handed to the kernel; and pausing what comes in. */
size_t espat_wsc_queued(const struct espat_wsc *w);
void espat_wsc_pause(struct espat_wsc *w, bool paused);
static inline bool espat_wsc_busy(const struct espat_wsc *w)
{
	return w->state != ESPAT_WSC_IDLE;
}

#endif
