/* libFuzzer target: the shared air's frame codec (src/proto/air.c). The
 * input is read as a stream of frames, cut into pieces whose size the
 * first byte picks, checking the decoder's contract: need-more never
 * consumes, a message consumes its whole frame and its payload lies inside
 * the input, malformed is final. Every decoded message is encoded again and
 * must give back the same bytes, an AP_UP payload that decodes as a
 * softAP record must encode back to itself, and a TCP_WINDOW payload that
 * decodes as a grant must too (and feed the flow control without breaking
 * its bounds). BLE payloads (advertising record, initiator, connection
 * parameters, MTU) that decode must encode back to the same bytes. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/air.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static uint8_t again[ESPAT_AIR_FRAME_MAX];

/* A BLE payload that decodes encodes back to itself. */
static void check_ble(const struct espat_air_msg *m)
{
	uint8_t out[ESPAT_AIR_BLE_ADV_LEN_MAX];
	size_t n = 0;
	bool ok = false;
	if (m->type == ESPAT_AIR_BLE_ADV) {
		struct espat_air_ble_adv a;
		if ((ok = espat_air_ble_adv_decode(m->payload, m->len, &a)))
			n = espat_air_ble_adv_encode(&a, out);
	} else if (m->type == ESPAT_AIR_BLE_CONN) {
		struct espat_air_ble_init i;
		if ((ok = espat_air_ble_init_decode(m->payload, m->len, &i)))
			n = espat_air_ble_init_encode(&i, out);
	} else if (m->type == ESPAT_AIR_BLE_PARAM && m->code == ESPAT_AIR_BLE_CONN_PARAM) {
		struct espat_air_ble_conn c;
		if ((ok = espat_air_ble_conn_decode(m->payload, m->len, &c)))
			n = espat_air_ble_conn_encode(&c, out);
	} else if (m->type == ESPAT_AIR_BLE_PARAM && m->code == ESPAT_AIR_BLE_MTU) {
		uint16_t mtu;
		if ((ok = espat_air_ble_mtu_decode(m->payload, m->len, &mtu))) {
			CHECK(mtu >= 23 && mtu <= ESPAT_AIR_BLE_ATT_MAX);
			n = espat_air_ble_mtu_encode(mtu, out);
		}
	}
	if (ok)
		CHECK(n == m->len && memcmp(out, m->payload, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t piece = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	size_t off = 0, have = 0;
	while (off < size) {
		have = have + piece < size ? have + piece : size;
		struct espat_air_msg m;
		size_t used = 0;
		enum espat_air_rc rc = espat_air_decode(data + off, have - off, &m, &used);
		if (rc == ESPAT_AIR_NEED) {
			CHECK(used == 0);
			if (have == size)
				break;
			continue;
		}
		if (rc == ESPAT_AIR_BAD)
			break;
		CHECK(used >= ESPAT_AIR_FRAME_HDR && used <= have - off);
		CHECK(used == ESPAT_AIR_FRAME_HDR + m.len);
		CHECK(m.len <= ESPAT_AIR_PAYLOAD_MAX);
		if (m.len)
			CHECK(m.payload == data + off + ESPAT_AIR_FRAME_HDR);
		size_t n = espat_air_encode(&m, again, sizeof(again));
		CHECK(n == used && memcmp(again, data + off, n) == 0);
		struct espat_air_ap ap;
		if (m.type == ESPAT_AIR_AP_UP && espat_air_ap_decode(m.payload, m.len, &ap)) {
			uint8_t rec[ESPAT_AIR_AP_LEN];
			espat_air_ap_encode(&ap, rec);
			/* the SSID's unused tail is not carried: compare what is */
			CHECK(rec[0] == m.payload[0]);
			CHECK(memcmp(rec + 1, m.payload + 1, rec[0]) == 0);
			CHECK(memcmp(rec + 1 + ESPAT_AIR_SSID_MAX,
			             m.payload + 1 + ESPAT_AIR_SSID_MAX,
			             ESPAT_AIR_AP_LEN - 1 - ESPAT_AIR_SSID_MAX) == 0);
		}
		uint32_t g;
		if (m.type == ESPAT_AIR_TCP_WINDOW &&
		    espat_air_window_decode(m.payload, m.len, &g)) {
			uint8_t w[ESPAT_AIR_WINDOW_LEN];
			espat_air_window_encode(g, w);
			CHECK(g != 0 && m.len == sizeof(w) && memcmp(w, m.payload, sizeof(w)) == 0);
			struct espat_air_flow f;
			espat_air_flow_init(&f);
			espat_air_flow_sent(&f, m.cid);
			uint32_t before = f.credit;
			bool ok = espat_air_flow_granted(&f, g);
			CHECK(f.credit <= ESPAT_AIR_WINDOW);
			CHECK(ok ? f.credit == before + g : f.credit == before);
			CHECK(espat_air_flow_received(&f, m.peer) == (m.peer <= ESPAT_AIR_WINDOW));
			CHECK(espat_air_flow_consumed(&f, m.net) <= ESPAT_AIR_WINDOW);
			CHECK(f.room <= ESPAT_AIR_WINDOW);
		}
		check_ble(&m);
		off += used;
		if (have < off)
			have = off;
	}
	return 0;
}
