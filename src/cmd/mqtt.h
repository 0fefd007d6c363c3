/* The MQTT commands (guide 3.5): one MQTT 3.1.1 client (link 0) over the
 * client-connection service, plain or TLS (schemes 1-5), or over the
 * module's WebSocket client (schemes 6-10), spoken with the MQTT codec
 * (proto/mqtt.h). Everything is RAM only, as the guide says. The protocol
 * choices where the guide is silent are docs/COMPAT.md's MQTT rows. */
#ifndef ESPAT_CMD_MQTT_H
#define ESPAT_CMD_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/conn.h"
#include "cmd/family.h"
#include "cmd/wsc.h"
#include "core/timers.h"
#include "proto/mqtt.h"

#define ESPAT_MQTT_CLIENT_ID_MAX 256 /* AT+MQTTUSERCFG; AT+MQTTLONG*: 1024 */
#define ESPAT_MQTT_USER_MAX 64
#define ESPAT_MQTT_LONG_MAX 1024
#define ESPAT_MQTT_PATH_MAX 32
#define ESPAT_MQTT_HOST_MAX 128
#define ESPAT_MQTT_TOPIC_MAX_AT 128  /* a topic in an AT command */
#define ESPAT_MQTT_LWT_MAX 128
#define ESPAT_MQTT_SUBS_MAX 10
#define ESPAT_MQTT_SNI_MAX 128
#define ESPAT_MQTT_ALPN_LEN_MAX 64
#define ESPAT_MQTT_KEEPALIVE_DEFAULT 120   /* <keepalive> 0 */
#define ESPAT_MQTT_RECONNECT_MS 5000u      /* between reconnect attempts */
#define ESPAT_MQTT_ACK_TIMEOUT_MS 10000u   /* CONNACK, SUBACK, PUBACK... */
#define ESPAT_MQTT_QOS2_IN_MAX 16          /* incoming QoS 2 ids awaiting PUBREL */

/* <state> of AT+MQTTCONN? (guide 3.5.7). */
enum espat_mqtt_cstate {
	ESPAT_MQTT_UNINIT = 0,
	ESPAT_MQTT_USERCFG = 1,
	ESPAT_MQTT_CONNCFG = 2,
	ESPAT_MQTT_DISCONNECTED = 3,
	ESPAT_MQTT_CONNECTED = 4,
	ESPAT_MQTT_CONNECTED_NOSUB = 5,
	ESPAT_MQTT_SUBSCRIBED = 6,
};

/* The AT command waiting for the broker. */
enum espat_mqtt_op {
	ESPAT_MQTT_OP_NONE,
	ESPAT_MQTT_OP_CONN,   /* AT+MQTTCONN: CONNACK */
	ESPAT_MQTT_OP_SUB,    /* AT+MQTTSUB: SUBACK */
	ESPAT_MQTT_OP_UNSUB,  /* AT+MQTTUNSUB: UNSUBACK */
	ESPAT_MQTT_OP_PUB,    /* AT+MQTTPUB: PUBACK / PUBCOMP */
	ESPAT_MQTT_OP_PUBRAW, /* AT+MQTTPUBRAW: its data, then PUBACK / PUBCOMP */
};

/* Where the transport is. */
enum espat_mqtt_link_phase {
	ESPAT_MQTT_LINK_DOWN,
	ESPAT_MQTT_LINK_DIALING,  /* connection (and TLS, WebSocket) being made */
	ESPAT_MQTT_LINK_CONNECT,  /* CONNECT sent, waiting for CONNACK */
	ESPAT_MQTT_LINK_UP,
};

struct espat_mqtt_topic {
	char name[ESPAT_MQTT_TOPIC_MAX_AT + 1];
	uint8_t qos;
};

/* A byte string of the configuration (client id, user name, password,
 * will message): binary-safe, owned. */
struct espat_mqtt_bytes {
	uint8_t *p;
	size_t len;
	bool set; /* given (a password may be empty but given) */
};

struct espat_mqtt {
	enum espat_mqtt_cstate state;
	/* AT+MQTTUSERCFG and AT+MQTTLONG* */
	uint8_t scheme; /* 1..10 */
	struct espat_mqtt_bytes client_id, username, password;
	uint8_t cert_key_id, ca_id;
	char path[ESPAT_MQTT_PATH_MAX + 2]; /* as shown: "/mqtt" for WebSocket, "" else */
	/* AT+MQTTCONNCFG */
	uint16_t keepalive; /* seconds, 0: ESPAT_MQTT_KEEPALIVE_DEFAULT */
	bool disable_clean_session;
	char lwt_topic[ESPAT_MQTT_LWT_MAX + 1];
	struct espat_mqtt_bytes lwt_msg;
	uint8_t lwt_qos;
	bool lwt_retain;
	/* AT+MQTTALPN, AT+MQTTSNI */
	char alpn[ESPAT_TLS_ALPN_MAX][ESPAT_MQTT_ALPN_LEN_MAX + 1];
	size_t nalpn;
	char sni[ESPAT_MQTT_SNI_MAX + 1];
	/* AT+MQTTCONN */
	char host[ESPAT_MQTT_HOST_MAX + 1];
	uint16_t port;
	bool reconnect;
	bool was_connected; /* a connection came up since AT+MQTTCONN */
	/* subscriptions (AT+MQTTSUB), kept across reconnects */
	struct espat_mqtt_topic subs[ESPAT_MQTT_SUBS_MAX];
	size_t nsubs;
	/* the transport */
	enum espat_mqtt_link_phase phase;
	bool ws; /* schemes 6-10 */
	struct espat_conn conn;
	struct espat_wsc wsc;
	struct espat_mqtt_parser parser;
	uint16_t next_id;
	struct espat_timer ack_timer;   /* the waiting command's (or CONNACK's) deadline */
	struct espat_timer ping_timer;  /* the next PINGREQ */
	struct espat_timer retry_timer; /* the next reconnect */
	bool ping_out;                  /* a PINGREQ not yet answered */
	uint16_t resub_id;              /* SUBSCRIBE of a reconnect, or 0 */
	/* the waiting command */
	enum espat_mqtt_op op;
	uint16_t op_id;     /* its packet id (QoS 1/2 publish, subscribe, unsubscribe) */
	bool op_rec;        /* QoS 2: PUBREC came, PUBREL sent */
	struct espat_mqtt_topic op_topic;
	/* AT+MQTTPUBRAW and AT+MQTTLONG*: what the data entry is for */
	size_t entry_len, entry_got;
	uint8_t entry_qos;
	bool entry_retain;
	bool entry_failed;
	struct espat_mqtt_bytes *entry_field; /* AT+MQTTLONG*: the field being read */
	/* an incoming PUBLISH being printed */
	bool rx_open;
	uint16_t qos2_in[ESPAT_MQTT_QOS2_IN_MAX]; /* ids waiting for PUBREL */
	size_t nqos2_in;
	bool rx_dup; /* the PUBLISH being received is a QoS 2 duplicate: not printed */
	bool held;   /* the UART is behind: the broker is not read (ESPAT_TX_HIGH) */
	/* acknowledgements gathered while one read is parsed, sent together */
	bool feeding;
	uint8_t acks[64 * 4];
	size_t acks_len;
	/* AT+MQTTPUBRAW: the PUBLISH head, sent with the first data */
	uint8_t pend[ESPAT_MQTT_TOPIC_MAX_AT + 16];
	size_t pend_len;
	unsigned gen; /* changes when the transport ends */
};

/* `espat ctl link reset mqtt`: the network resets the client's connection
 * (the module sees a reset). -1 when it has none. */
int espat_mqtt_link_reset(struct espat_module *m);

extern const struct espat_cmd_table espat_mqtt_table;
extern const struct espat_family espat_mqtt_family;

#endif
