/* The MQTT family (src/cmd/mqtt.c) against a broker the test plays packet
 * by packet on the in-memory network, with the codec's broker-side parser
 * reading what the module sends: exact AT output, the CONNECT's fields,
 * QoS 1 and 2 both ways, keep-alive on the module clock, a refused
 * CONNECT, a lost connection with and without <reconnect>, the
 * re-subscription after a reconnect, argument and state errors. Real
 * brokers are tests/e2e/test_mqtt.py's. */
#include "support.h"

#include "cmd/mqtt.h"
#include "module_fixture.h"
#include "proto/mqtt.h"
#include "testport/net_mem.h"

#define BROKER "10.0.0.5"
#define ERR(code) "ERR CODE:" code "\r\n\r\nERROR\r\n"

/* What the broker read from the module: packets, parsed. */
struct seen {
	struct espat_mqtt_parser p;
	size_t taken;
	int types[64];
	uint16_t ids[64];
	char topics[64][64];
	char payload[64][64];
	uint8_t qos[64];
	size_t n;
	struct espat_mqtt_connect connect;
	char client_id[64], user[64], pass[64], will_topic[64], will_msg[64];
};

static void copy_str(char *dst, struct espat_mqtt_str s)
{
	size_t n = s.len < 63 ? s.len : 63;
	if (n)
		memcpy(dst, s.s, n);
	dst[n] = 0;
}

/* Reads everything new the module sent on c into s. */
static void take(struct espat_mem_conn *c, struct seen *s)
{
	uint8_t buf[8192];
	size_t n = espat_mem_conn_take(c, buf, sizeof(buf));
	const uint8_t *p = buf;
	struct espat_mqtt_ev ev;
	do {
		size_t used = espat_mqtt_feed(&s->p, p, n, &ev);
		p += used;
		n -= used;
		assert_int_not_equal(ev.type, ESPAT_MQTT_EV_ERROR);
		size_t i = s->n;
		switch (ev.type) {
		case ESPAT_MQTT_EV_NEED_MORE:
		case ESPAT_MQTT_EV_PUBLISH_END:
			continue;
		case ESPAT_MQTT_EV_PAYLOAD:
			assert_true(i > 0);
			memcpy(s->payload[i - 1] + ev.offset, ev.data, ev.len < 60 ? ev.len : 60);
			continue;
		case ESPAT_MQTT_EV_CONNECT:
			s->connect = ev.connect;
			copy_str(s->client_id, ev.connect.client_id);
			copy_str(s->user, ev.connect.username);
			copy_str(s->pass, ev.connect.password);
			copy_str(s->will_topic, ev.connect.will_topic);
			copy_str(s->will_msg, ev.connect.will_message);
			break;
		case ESPAT_MQTT_EV_PUBLISH:
			copy_str(s->topics[i], ev.pub.topic);
			s->qos[i] = ev.pub.qos;
			break;
		case ESPAT_MQTT_EV_SUBSCRIBE: {
			struct espat_mqtt_topics it = ev.topics;
			struct espat_mqtt_str f;
			uint8_t q;
			assert_true(espat_mqtt_topics_next(&it, &f, &q));
			copy_str(s->topics[i], f);
			s->qos[i] = q;
			break;
		}
		default:
			break;
		}
		assert_true(i < 64);
		s->types[i] = ev.type;
		s->ids[i] = ev.packet_id;
		s->n++;
	} while (n > 0 || ev.type != ESPAT_MQTT_EV_NEED_MORE);
}

static void bsend(struct espat_mem_conn *c, const uint8_t *p, size_t n)
{
	assert_int_equal(espat_mem_conn_send(c, p, n), 0);
}

static void connack(struct espat_mem_conn *c, uint8_t rc)
{
	uint8_t b[4];
	bsend(c, b, espat_mqtt_write_connack(b, sizeof(b), false, rc));
}

static void ack(struct espat_mem_conn *c, enum espat_mqtt_type t, uint16_t id)
{
	uint8_t b[4];
	bsend(c, b, espat_mqtt_write_ack(b, sizeof(b), t, id));
}

static void suback(struct espat_mem_conn *c, uint16_t id, uint8_t code)
{
	uint8_t b[8];
	bsend(c, b, espat_mqtt_write_suback(b, sizeof(b), id, &code, 1));
}

static void publish(struct espat_mem_conn *c, const char *topic, const char *data, size_t len,
                    uint8_t qos, uint16_t id)
{
	uint8_t b[512];
	struct espat_mqtt_publish pub = {.topic = {topic, strlen(topic)},
	                                 .qos = qos,
	                                 .packet_id = id,
	                                 .payload_len = (uint32_t)len};
	bsend(c, b, espat_mqtt_write_publish(b, sizeof(b), &pub, data));
}

static int setup(void **state)
{
	fx_setup(state);
	struct fx *f = *state;
	cmd(f, "AT+CWMODE=1\r\n", "\r\nOK\r\n");
	send(f, "AT+CWJAP=\"espat\",\"espatpass\"\r\n");
	advance(f, 3000);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
	cmd(f, "AT+SYSLOG=1\r\n", "\r\nOK\r\n");
	assert_int_equal(
	    espat_net_mem_serve(&f->tp.net, (struct espat_endpoint){espat_mem_ip(BROKER), 1883}), 0);
	assert_int_equal(espat_net_mem_dns_add(&f->tp.net, "broker.test", espat_mem_ip(BROKER)), 0);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	return fx_teardown(state) + (int)espat_net_mem_open_socks(&f->tp.net);
}

/* Configures and connects; returns the broker's end. */
static struct espat_mem_conn *connect_(struct fx *f, struct seen *s, int reconnect)
{
	espat_mqtt_parser_init(&s->p, ESPAT_MQTT_BROKER);
	cmd(f, "AT+MQTTUSERCFG=0,1,\"dev-1\",\"espressif\",\"1234\",0,0,\"\"\r\n", "\r\nOK\r\n");
	char line[96];
	snprintf(line, sizeof(line), "AT+MQTTCONN=0,\"broker.test\",1883,%d\r\n", reconnect);
	cmd(f, line, "");
	advance(f, 10);
	struct espat_mem_conn *c = espat_net_mem_last_conn(&f->tp.net);
	assert_non_null(c);
	take(c, s);
	assert_int_equal(s->types[s->n - 1], ESPAT_MQTT_EV_CONNECT);
	expect(f, ""); /* nothing before CONNACK */
	connack(c, 0);
	advance(f, 1);
	char want[128];
	snprintf(want, sizeof(want),
	         "+MQTTCONNECTED:0,1,\"broker.test\",\"1883\",\"\",%d\r\n\r\nOK\r\n", reconnect);
	expect(f, want);
	return c;
}

static void connect_fields_and_state(void **state)
{
	struct fx *f = *state;
	struct seen s = {0};
	cmd(f, "AT+MQTTCONN?\r\n", "+MQTTCONN:0,0,0,\"\",\"\",\"\",0\r\n\r\nOK\r\n");
	cmd(f, "AT+MQTTUSERCFG=0,1,\"x\",\"\",\"\",0,0,\"\"\r\n", "\r\nOK\r\n");
	cmd(f, "AT+MQTTCONNCFG=0,30,1,\"dev/lwt\",\"gone\",1,1\r\n", "\r\nOK\r\n");
	cmd(f, "AT+MQTTCONN?\r\n", "+MQTTCONN:0,2,1,\"\",\"\",\"\",0\r\n\r\nOK\r\n");
	espat_mqtt_parser_init(&s.p, ESPAT_MQTT_BROKER);
	cmd(f, "AT+MQTTCONN=0,\"broker.test\",1883,0\r\n", "");
	advance(f, 10);
	struct espat_mem_conn *c = espat_net_mem_last_conn(&f->tp.net);
	take(c, &s);
	assert_int_equal(s.connect.version, ESPAT_MQTT_V311);
	assert_false(s.connect.clean_session);
	assert_int_equal(s.connect.keepalive, 30);
	assert_string_equal(s.client_id, "x");
	assert_false(s.connect.has_username);
	assert_true(s.connect.will);
	assert_string_equal(s.will_topic, "dev/lwt");
	assert_string_equal(s.will_msg, "gone");
	assert_int_equal(s.connect.will_qos, 1);
	assert_true(s.connect.will_retain);
	cmd(f, "AT\r\n", "ERR CODE:0x010b0000\r\nbusy p...\r\n"); /* AT+MQTTCONN waits */
	connack(c, 0);
	advance(f, 1);
	expect(f, "+MQTTCONNECTED:0,1,\"broker.test\",\"1883\",\"\",0\r\n\r\nOK\r\n");
	cmd(f, "AT+MQTTCONN?\r\n",
	    "+MQTTCONN:0,4,1,\"broker.test\",\"1883\",\"\",0\r\n\r\nOK\r\n");
	/* configuration is refused while connected */
	cmd(f, "AT+MQTTUSERCFG=0,1,\"y\",\"\",\"\",0,0,\"\"\r\n", ERR("0x010a6004"));
	cmd(f, "AT+MQTTCONN=0,\"broker.test\",1883,0\r\n", ERR("0x010a6004"));
	/* AT+MQTTCLEAN says DISCONNECT and forgets everything */
	cmd(f, "AT+MQTTCLEAN=0\r\n", "\r\nOK\r\n");
	advance(f, 1);
	take(c, &s);
	assert_int_equal(s.types[s.n - 1], ESPAT_MQTT_EV_DISCONNECT);
	assert_int_equal(c->closed_by_module, ESPAT_MEM_CLOSED_GRACEFUL);
	cmd(f, "AT+MQTTCONN?\r\n", "+MQTTCONN:0,0,0,\"\",\"\",\"\",0\r\n\r\nOK\r\n");
	cmd(f, "AT+MQTTCLEAN=0\r\n", ERR("0x010a6003"));
}

static void user_and_long_fields(void **state)
{
	struct fx *f = *state;
	struct seen s = {0};
	espat_mqtt_parser_init(&s.p, ESPAT_MQTT_BROKER);
	cmd(f, "AT+MQTTUSERCFG=0,1,\"short\",\"u\",\"p\",0,0,\"\"\r\n", "\r\nOK\r\n");
	cmd(f, "AT+MQTTLONGPASSWORD=0,6\r\n", "\r\nOK\r\n>");
	cmd(f, "pa\"s,s", "\r\nOK\r\n"); /* data entry: not escaped */
	cmd(f, "AT+MQTTLONGCLIENTID=0,70\r\n", "\r\nOK\r\n>");
	char cid[71];
	memset(cid, 'c', 70);
	cid[70] = 0;
	cmd(f, cid, "\r\nOK\r\n");
	cmd(f, "AT+MQTTCONN=0,\"" BROKER "\",1883,0\r\n", "");
	advance(f, 10);
	take(espat_net_mem_last_conn(&f->tp.net), &s);
	assert_string_equal(s.user, "u");
	assert_string_equal(s.pass, "pa\"s,s");
	assert_int_equal(s.connect.client_id.len, 70);
	/* a refused CONNECT (bad user name or password): ERROR, the config stays */
	connack(espat_net_mem_last_conn(&f->tp.net), 4);
	advance(f, 1);
	expect(f, ERR("0x010a600b"));
	cmd(f, "AT+MQTTCONN?\r\n", "+MQTTCONN:0,1,1,\"" BROKER "\",\"1883\",\"\",0\r\n\r\nOK\r\n");
	/* nothing listens */
	cmd(f, "AT+MQTTCONN=0,\"10.0.0.6\",1883,0\r\n", "");
	advance(f, 100);
	expect(f, ERR("0x010a600b"));
}

static void subscribe_publish_qos(void **state)
{
	struct fx *f = *state;
	struct seen s = {0};
	struct espat_mem_conn *c = connect_(f, &s, 0);
	cmd(f, "AT+MQTTPUB=0,\"t\",\"x\",0,0\r\n", "\r\nOK\r\n"); /* QoS 0: at once */
	cmd(f, "AT+MQTTSUB=0,\"a/+\",2\r\n", "");
	advance(f, 1);
	take(c, &s);
	size_t i = s.n - 1;
	assert_int_equal(s.types[i], ESPAT_MQTT_EV_SUBSCRIBE);
	assert_string_equal(s.topics[i], "a/+");
	assert_int_equal(s.qos[i], 2);
	suback(c, s.ids[i], 2);
	advance(f, 1);
	expect(f, "\r\nOK\r\n");
	cmd(f, "AT+MQTTSUB=0,\"a/+\",1\r\n", "ALREADY SUBSCRIBE\r\n\r\nOK\r\n");
	cmd(f, "AT+MQTTSUB?\r\n", "+MQTTSUB:0,6,\"a/+\",2\r\n\r\nOK\r\n");
	/* QoS 1 publish: OK after PUBACK */
	cmd(f, "AT+MQTTPUB=0,\"b\",\"1,\\\"2\\\"\",1,0\r\n", "");
	advance(f, 1);
	take(c, &s);
	i = s.n - 1;
	assert_int_equal(s.types[i], ESPAT_MQTT_EV_PUBLISH);
	assert_string_equal(s.payload[i], "1,\"2\"");
	assert_int_equal(s.qos[i], 1);
	expect(f, "");
	ack(c, ESPAT_MQTT_PUBACK, s.ids[i]);
	advance(f, 1);
	expect(f, "\r\nOK\r\n");
	/* QoS 2 publish: PUBREC, PUBREL from the module, PUBCOMP, then OK */
	cmd(f, "AT+MQTTPUB=0,\"b\",\"z\",2,1\r\n", "");
	advance(f, 1);
	take(c, &s);
	uint16_t id = s.ids[s.n - 1];
	ack(c, ESPAT_MQTT_PUBREC, id);
	advance(f, 1);
	take(c, &s);
	assert_int_equal(s.types[s.n - 1], ESPAT_MQTT_EV_PUBREL);
	expect(f, "");
	ack(c, ESPAT_MQTT_PUBCOMP, id);
	advance(f, 1);
	expect(f, "\r\nOK\r\n");
	/* incoming QoS 1 and 2 (the duplicate of a QoS 2 is not printed twice) */
	publish(c, "a/1", "hi,\r\n", 5, 1, 7);
	advance(f, 1);
	expect(f, "+MQTTSUBRECV:0,\"a/1\",5,hi,\r\n\r\n");
	take(c, &s);
	assert_int_equal(s.types[s.n - 1], ESPAT_MQTT_EV_PUBACK);
	assert_int_equal(s.ids[s.n - 1], 7);
	publish(c, "a/2", "q2", 2, 2, 9);
	publish(c, "a/2", "q2", 2, 2, 9);
	advance(f, 1);
	expect(f, "+MQTTSUBRECV:0,\"a/2\",2,q2\r\n");
	ack(c, ESPAT_MQTT_PUBREL, 9);
	advance(f, 1);
	take(c, &s);
	assert_int_equal(s.types[s.n - 1], ESPAT_MQTT_EV_PUBCOMP);
	/* unsubscribe */
	cmd(f, "AT+MQTTUNSUB=0,\"a/+\"\r\n", "");
	advance(f, 1);
	take(c, &s);
	ack(c, ESPAT_MQTT_UNSUBACK, s.ids[s.n - 1]);
	advance(f, 1);
	expect(f, "\r\nOK\r\n");
	cmd(f, "AT+MQTTUNSUB=0,\"a/+\"\r\n", "NO UNSUBSCRIBE\r\n\r\nOK\r\n");
	cmd(f, "AT+MQTTCONN?\r\n",
	    "+MQTTCONN:0,5,1,\"broker.test\",\"1883\",\"\",0\r\n\r\nOK\r\n");
	/* a broker that does not acknowledge: ERROR after the ack timeout */
	cmd(f, "AT+MQTTPUB=0,\"b\",\"z\",1,0\r\n", "");
	advance(f, ESPAT_MQTT_ACK_TIMEOUT_MS);
	expect(f, ERR("0x010a600c"));
	/* a refused subscription */
	cmd(f, "AT+MQTTSUB=0,\"c\",0\r\n", "");
	advance(f, 1);
	take(c, &s);
	suback(c, s.ids[s.n - 1], ESPAT_MQTT_SUBACK_FAILURE);
	advance(f, 1);
	expect(f, ERR("0x010a600d"));
	cmd(f, "AT+MQTTCLEAN=0\r\n", "\r\nOK\r\n");
}

static void pubraw_binary(void **state)
{
	struct fx *f = *state;
	struct seen s = {0};
	struct espat_mem_conn *c = connect_(f, &s, 0);
	cmd(f, "AT+MQTTPUBRAW=0,\"bin\",6,0,0\r\n", "\r\nOK\r\n>");
	sendn(f, "\0\r\n\"+,", 6);
	expect(f, "\r\n+MQTTPUB:OK\r\n");
	advance(f, 1);
	take(c, &s);
	assert_int_equal(s.types[s.n - 1], ESPAT_MQTT_EV_PUBLISH);
	assert_memory_equal(s.payload[s.n - 1], "\0\r\n\"+,", 6);
	cmd(f, "AT+MQTTPUBRAW=0,\"bin\",3,1,0\r\n", "\r\nOK\r\n>");
	sendn(f, "abc", 3);
	expect(f, "");
	advance(f, 1);
	take(c, &s);
	ack(c, ESPAT_MQTT_PUBACK, s.ids[s.n - 1]);
	advance(f, 1);
	expect(f, "\r\n+MQTTPUB:OK\r\n");
	cmd(f, "AT+MQTTCLEAN=0\r\n", "\r\nOK\r\n");
}

static void keepalive_on_the_module_clock(void **state)
{
	struct fx *f = *state;
	struct seen s = {0};
	cmd(f, "AT+MQTTUSERCFG=0,1,\"k\",\"\",\"\",0,0,\"\"\r\n", "\r\nOK\r\n");
	cmd(f, "AT+MQTTCONNCFG=0,10,0,\"\",\"\",0,0\r\n", "\r\nOK\r\n");
	espat_mqtt_parser_init(&s.p, ESPAT_MQTT_BROKER);
	cmd(f, "AT+MQTTCONN=0,\"" BROKER "\",1883,0\r\n", "");
	advance(f, 1);
	struct espat_mem_conn *c = espat_net_mem_last_conn(&f->tp.net);
	connack(c, 0);
	advance(f, 1);
	expect(f, "+MQTTCONNECTED:0,1,\"" BROKER "\",\"1883\",\"\",0\r\n\r\nOK\r\n");
	take(c, &s);
	size_t before = s.n;
	advance(f, 9990);
	take(c, &s);
	assert_int_equal(s.n, before);
	advance(f, 20);
	take(c, &s);
	assert_int_equal(s.types[s.n - 1], ESPAT_MQTT_EV_PINGREQ);
	uint8_t resp[2];
	bsend(c, resp, espat_mqtt_write_empty(resp, sizeof(resp), ESPAT_MQTT_PINGRESP));
	advance(f, 10000);
	take(c, &s);
	assert_int_equal(s.types[s.n - 1], ESPAT_MQTT_EV_PINGREQ);
	/* no PINGRESP for a whole period: the link is dead */
	advance(f, 10000);
	expect(f, "+MQTTDISCONNECTED:0\r\n");
	assert_int_equal(c->closed_by_module, ESPAT_MEM_CLOSED_ABORT);
	cmd(f, "AT+MQTTCONN?\r\n", "+MQTTCONN:0,3,1,\"" BROKER "\",\"1883\",\"\",0\r\n\r\nOK\r\n");
	/* <reconnect> 0: AT+MQTTCONN cannot be reused without AT+MQTTCLEAN */
	cmd(f, "AT+MQTTCONN=0,\"" BROKER "\",1883,0\r\n", ERR("0x010a6002"));
	cmd(f, "AT+MQTTPUB=0,\"b\",\"z\",0,0\r\n", ERR("0x010a6051"));
	cmd(f, "AT+MQTTCLEAN=0\r\n", "\r\nOK\r\n");
}

static void reconnect_and_resubscribe(void **state)
{
	struct fx *f = *state;
	struct seen s = {0};
	struct espat_mem_conn *c = connect_(f, &s, 1);
	cmd(f, "AT+MQTTSUB=0,\"r\",1\r\n", "");
	advance(f, 1);
	take(c, &s);
	suback(c, s.ids[s.n - 1], 1);
	advance(f, 1);
	expect(f, "\r\nOK\r\n");
	espat_mem_conn_reset(c);
	advance(f, 1);
	expect(f, "+MQTTDISCONNECTED:0\r\n");
	cmd(f, "AT+MQTTCONN?\r\n",
	    "+MQTTCONN:0,3,1,\"broker.test\",\"1883\",\"\",1\r\n\r\nOK\r\n");
	advance(f, ESPAT_MQTT_RECONNECT_MS + 10);
	struct espat_mem_conn *c2 = espat_net_mem_last_conn(&f->tp.net);
	assert_ptr_not_equal(c2, c);
	struct seen s2 = {0};
	espat_mqtt_parser_init(&s2.p, ESPAT_MQTT_BROKER);
	take(c2, &s2);
	assert_int_equal(s2.types[0], ESPAT_MQTT_EV_CONNECT);
	connack(c2, 0);
	advance(f, 1);
	expect(f, "+MQTTCONNECTED:0,1,\"broker.test\",\"1883\",\"\",1\r\n");
	take(c2, &s2);
	assert_int_equal(s2.types[s2.n - 1], ESPAT_MQTT_EV_SUBSCRIBE);
	assert_string_equal(s2.topics[s2.n - 1], "r");
	assert_int_equal(s2.qos[s2.n - 1], 1);
	suback(c2, s2.ids[s2.n - 1], 1);
	publish(c2, "r", "back", 4, 0, 0);
	advance(f, 1);
	expect(f, "+MQTTSUBRECV:0,\"r\",4,back\r\n");
	/* espat ctl link reset mqtt */
	assert_int_equal(espat_mqtt_link_reset(&f->m), 0);
	expect(f, "+MQTTDISCONNECTED:0\r\n");
	assert_int_equal(espat_mqtt_link_reset(&f->m), -1);
	advance(f, ESPAT_MQTT_RECONNECT_MS + 10);
	struct espat_mem_conn *c3 = espat_net_mem_last_conn(&f->tp.net);
	assert_ptr_not_equal(c3, c2);
	connack(c3, 0);
	advance(f, 1);
	expect(f, "+MQTTCONNECTED:0,1,\"broker.test\",\"1883\",\"\",1\r\n");
	/* the AP goes away: the link with it */
	cmd(f, "AT+CWQAP\r\n", "\r\nOK\r\nWIFI DISCONNECT\r\n+MQTTDISCONNECTED:0\r\n");
	cmd(f, "AT+MQTTCLEAN=0\r\n", "\r\nOK\r\n");
}

static void argument_errors(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+MQTTCONN=0,\"h\",1883,0\r\n", ERR("0x010a6001"));
	cmd(f, "AT+MQTTUSERCFG=1,1,\"a\",\"\",\"\",0,0,\"\"\r\n", ERR("0x01070000"));
	cmd(f, "AT+MQTTUSERCFG=0,11,\"a\",\"\",\"\",0,0,\"\"\r\n", ERR("0x01070001"));
	cmd(f, "AT+MQTTUSERCFG=0,1,\"\",\"\",\"\",0,0,\"\"\r\n", ERR("0x010a6015"));
	cmd(f, "AT+MQTTUSERCFG=0,1,\"a\",\"\",\"\",0,0,\"\"\r\n", "\r\nOK\r\n");
	cmd(f, "AT+MQTTCONNCFG=0,7201,0,\"\",\"\",0,0\r\n", ERR("0x01070001"));
	cmd(f, "AT+MQTTCONNCFG=0,0,0,\"a/#\",\"m\",0,0\r\n", ERR("0x01070003"));
	cmd(f, "AT+MQTTALPN=0,2,\"a\"\r\n", ERR("0x01060403"));
	cmd(f, "AT+MQTTALPN=0,2,\"mqtt\",\"x\"\r\n", "\r\nOK\r\n");
	cmd(f, "AT+MQTTSNI=0,\"broker.test\"\r\n", "\r\nOK\r\n");
	cmd(f, "AT+MQTTPUB=0,\"t\",\"d\",0,0\r\n", ERR("0x010a6051"));
	cmd(f, "AT+MQTTSUB=0,\"t\",0\r\n", ERR("0x010a6051"));
	cmd(f, "AT+MQTTCONN=0,\"\",1883,0\r\n", ERR("0x010a603b"));
	cmd(f, "AT+MQTTCONN=0,\"h\",0,0\r\n", ERR("0x010a603e"));
	cmd(f, "AT+MQTTLONGCLIENTID=0,1025\r\n", ERR("0x01070001"));
	cmd(f, "AT+MQTTCLEAN=0\r\n", "\r\nOK\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(connect_fields_and_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(user_and_long_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(subscribe_publish_qos, setup, teardown),
	    cmocka_unit_test_setup_teardown(pubraw_binary, setup, teardown),
	    cmocka_unit_test_setup_teardown(keepalive_on_the_module_clock, setup, teardown),
	    cmocka_unit_test_setup_teardown(reconnect_and_resubscribe, setup, teardown),
	    cmocka_unit_test_setup_teardown(argument_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
