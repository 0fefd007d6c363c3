/* The shared air's frame codec (src/proto/air.c): round trips of every
 * field, the incremental decoder fed byte by byte and in pieces, bounds on
 * the length, the softAP record, TCP_WINDOW's grant and the streams' flow
 * control (credit and room), and the BLE payloads (advertising record,
 * initiator, connection parameters, MTU). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/air.h"

static struct espat_air_msg sample(const uint8_t *payload, size_t len)
{
	struct espat_air_msg m = {.type = ESPAT_AIR_TCP_OPEN,
	                          .code = 7,
	                          .net = 0x01020304u,
	                          .peer = 0xA0B0C0D0u,
	                          .cid = 42,
	                          .src_ip = 0xC0A80402u,
	                          .sport = 49152,
	                          .dst_ip = 0xC0A80401u,
	                          .dport = 3333,
	                          .mac = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55},
	                          .payload = payload,
	                          .len = len};
	return m;
}

static void same(const struct espat_air_msg *a, const struct espat_air_msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->code, b->code);
	assert_int_equal(a->net, b->net);
	assert_int_equal(a->peer, b->peer);
	assert_int_equal(a->cid, b->cid);
	assert_int_equal(a->src_ip, b->src_ip);
	assert_int_equal(a->sport, b->sport);
	assert_int_equal(a->dst_ip, b->dst_ip);
	assert_int_equal(a->dport, b->dport);
	assert_memory_equal(a->mac, b->mac, 6);
	assert_int_equal(a->len, b->len);
	if (a->len)
		assert_memory_equal(a->payload, b->payload, a->len);
}

static void round_trip(void **state)
{
	uint8_t frame[ESPAT_AIR_FRAME_MAX];
	const uint8_t data[] = "hello\0air";
	struct espat_air_msg m = sample(data, sizeof(data));
	size_t n = espat_air_encode(&m, frame, sizeof(frame));
	assert_int_equal(n, ESPAT_AIR_FRAME_HDR + sizeof(data));
	/* the length prefix counts what follows it, big-endian */
	assert_int_equal(frame[0], 0);
	assert_int_equal(frame[3], ESPAT_AIR_HDR_LEN + sizeof(data));
	struct espat_air_msg d;
	size_t used = 0;
	assert_int_equal(espat_air_decode(frame, n, &d, &used), ESPAT_AIR_MSG);
	assert_int_equal(used, n);
	same(&m, &d);
	/* the payload is borrowed from the buffer */
	assert_ptr_equal(d.payload, frame + ESPAT_AIR_FRAME_HDR);
}

static void empty_payload(void **state)
{
	uint8_t frame[64];
	struct espat_air_msg m = sample(NULL, 0), d;
	size_t n = espat_air_encode(&m, frame, sizeof(frame)), used;
	assert_int_equal(n, ESPAT_AIR_FRAME_HDR);
	assert_int_equal(espat_air_decode(frame, n, &d, &used), ESPAT_AIR_MSG);
	assert_null(d.payload);
	same(&m, &d);
}

static void too_small_buffer_writes_nothing(void **state)
{
	uint8_t frame[ESPAT_AIR_FRAME_HDR + 3];
	memset(frame, 0xEE, sizeof(frame));
	const uint8_t data[8] = {0};
	struct espat_air_msg m = sample(data, sizeof(data));
	assert_int_equal(espat_air_encode(&m, frame, sizeof(frame)),
	                 ESPAT_AIR_FRAME_HDR + sizeof(data));
	for (size_t i = 0; i < sizeof(frame); i++)
		assert_int_equal(frame[i], 0xEE);
	/* a payload over the maximum is refused outright */
	m.len = ESPAT_AIR_PAYLOAD_MAX + 1;
	assert_int_equal(espat_air_encode(&m, frame, sizeof(frame)), 0);
}

/* Two frames back to back, fed one byte more at a time: need-more until
 * each is whole, then exactly it. */
static void incremental(void **state)
{
	uint8_t buf[2 * ESPAT_AIR_FRAME_HDR + 16];
	const uint8_t p1[] = "abc", p2[] = "0123456789";
	struct espat_air_msg a = sample(p1, 3), b = sample(p2, 10), d;
	b.type = ESPAT_AIR_UDP;
	size_t n1 = espat_air_encode(&a, buf, sizeof(buf));
	size_t n2 = espat_air_encode(&b, buf + n1, sizeof(buf) - n1);
	size_t off = 0, got = 0;
	for (size_t have = 1; have <= n1 + n2; have++) {
		size_t used = 0;
		enum espat_air_rc rc = espat_air_decode(buf + off, have - off, &d, &used);
		if (rc == ESPAT_AIR_NEED)
			continue;
		assert_int_equal(rc, ESPAT_AIR_MSG);
		same(got == 0 ? &a : &b, &d);
		off += used;
		got++;
	}
	assert_int_equal(got, 2);
	assert_int_equal(off, n1 + n2);
}

static void bad_lengths(void **state)
{
	struct espat_air_msg d;
	size_t used = 0;
	/* shorter than the header */
	const uint8_t short_len[] = {0, 0, 0, ESPAT_AIR_HDR_LEN - 1};
	assert_int_equal(espat_air_decode(short_len, sizeof(short_len), &d, &used), ESPAT_AIR_BAD);
	/* more than a header and the largest payload: refused at once, before
	 * any of its body arrives */
	uint32_t big = ESPAT_AIR_HDR_LEN + ESPAT_AIR_PAYLOAD_MAX + 1;
	const uint8_t big_len[] = {(uint8_t)(big >> 24), (uint8_t)(big >> 16), (uint8_t)(big >> 8),
	                           (uint8_t)big};
	assert_int_equal(espat_air_decode(big_len, sizeof(big_len), &d, &used), ESPAT_AIR_BAD);
	const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff};
	assert_int_equal(espat_air_decode(huge, sizeof(huge), &d, &used), ESPAT_AIR_BAD);
	/* fewer than four bytes: not yet known */
	assert_int_equal(espat_air_decode(huge, 3, &d, &used), ESPAT_AIR_NEED);
	assert_int_equal(espat_air_decode(huge, 0, &d, &used), ESPAT_AIR_NEED);
}

static void largest_payload(void **state)
{
	static uint8_t frame[ESPAT_AIR_FRAME_MAX];
	static uint8_t data[ESPAT_AIR_PAYLOAD_MAX];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	struct espat_air_msg m = sample(data, sizeof(data)), d;
	size_t used, n = espat_air_encode(&m, frame, sizeof(frame));
	assert_int_equal(n, ESPAT_AIR_FRAME_MAX);
	assert_int_equal(espat_air_decode(frame, n, &d, &used), ESPAT_AIR_MSG);
	same(&m, &d);
}

static void unknown_type_is_decoded(void **state)
{
	/* a type from a newer build (0xbf, unassigned in the BLE range)
	 * still frames: receivers skip it whole */
	uint8_t frame[64];
	struct espat_air_msg m = sample(NULL, 0), d;
	m.type = 0xbf;
	size_t used, n = espat_air_encode(&m, frame, sizeof(frame));
	assert_int_equal(espat_air_decode(frame, n, &d, &used), ESPAT_AIR_MSG);
	assert_int_equal(d.type, 0xbf);
}

static void same_ap(const struct espat_air_ap *a, const struct espat_air_ap *b)
{
	assert_int_equal(a->ssid_len, b->ssid_len);
	assert_memory_equal(a->ssid, b->ssid, a->ssid_len);
	assert_int_equal(a->channel, b->channel);
	assert_int_equal(a->ecn, b->ecn);
	assert_int_equal(a->pairwise, b->pairwise);
	assert_int_equal(a->group, b->group);
	assert_int_equal(a->bgn, b->bgn);
	assert_int_equal(a->hidden, b->hidden);
	assert_int_equal(a->max_conn, b->max_conn);
	assert_int_equal(a->rssi, b->rssi);
	assert_int_equal(a->ip, b->ip);
	assert_int_equal(a->mask, b->mask);
}

static void ap_record(void **state)
{
	struct espat_air_ap ap = {.ssid = "air-ap",
	                          .ssid_len = 6,
	                          .channel = 5,
	                          .ecn = 3,
	                          .pairwise = 4,
	                          .group = 4,
	                          .bgn = 7,
	                          .hidden = 1,
	                          .max_conn = 4,
	                          .rssi = -40,
	                          .ip = 0xC0A80401u,
	                          .mask = 0xFFFFFF00u},
	                    back;
	uint8_t rec[ESPAT_AIR_AP_LEN];
	espat_air_ap_encode(&ap, rec);
	assert_true(espat_air_ap_decode(rec, sizeof(rec), &back));
	same_ap(&ap, &back);
	/* every length but the record's, and an SSID over 32 bytes, are refused */
	assert_false(espat_air_ap_decode(rec, sizeof(rec) - 1, &back));
	assert_false(espat_air_ap_decode(rec, 0, &back));
	rec[0] = ESPAT_AIR_SSID_MAX + 1;
	assert_false(espat_air_ap_decode(rec, sizeof(rec), &back));
	/* a full 32-byte SSID of any bytes survives */
	memset(ap.ssid, 0xA5, sizeof(ap.ssid));
	ap.ssid_len = ESPAT_AIR_SSID_MAX;
	ap.rssi = -128;
	espat_air_ap_encode(&ap, rec);
	assert_true(espat_air_ap_decode(rec, sizeof(rec), &back));
	same_ap(&ap, &back);
}

static void window_frame(void **state)
{
	(void)state;
	uint8_t w[ESPAT_AIR_WINDOW_LEN];
	espat_air_window_encode(0x00012345u, w);
	assert_memory_equal(w, "\x00\x01\x23\x45", 4);
	struct espat_air_msg m = {
	    .type = ESPAT_AIR_TCP_WINDOW, .peer = 3, .cid = 9, .payload = w, .len = sizeof(w)};
	uint8_t buf[ESPAT_AIR_FRAME_HDR + ESPAT_AIR_WINDOW_LEN];
	assert_int_equal(espat_air_encode(&m, buf, sizeof(buf)), sizeof(buf));
	struct espat_air_msg d;
	size_t used = 0;
	assert_int_equal(espat_air_decode(buf, sizeof(buf), &d, &used), ESPAT_AIR_MSG);
	assert_int_equal(d.type, 0x45);
	assert_int_equal(d.peer, 3);
	assert_int_equal(d.cid, 9);
	uint32_t g = 0;
	assert_true(espat_air_window_decode(d.payload, d.len, &g));
	assert_int_equal(g, 0x12345u);
	/* not a grant: wrong length, nothing, zero */
	assert_false(espat_air_window_decode(w, 3, &g));
	assert_false(espat_air_window_decode(w, 5, &g));
	assert_false(espat_air_window_decode(NULL, 0, &g));
	espat_air_window_encode(0, w);
	assert_false(espat_air_window_decode(w, sizeof(w), &g));
}

static void flow_sender(void **state)
{
	(void)state;
	struct espat_air_flow f;
	espat_air_flow_init(&f);
	assert_int_equal(f.credit, ESPAT_AIR_WINDOW);
	assert_int_equal(espat_air_flow_sendable(&f, 10), 10);
	assert_int_equal(espat_air_flow_sendable(&f, 1u << 20), ESPAT_AIR_WINDOW);
	espat_air_flow_sent(&f, ESPAT_AIR_WINDOW - 100);
	assert_int_equal(espat_air_flow_sendable(&f, 1u << 20), 100);
	espat_air_flow_sent(&f, 100);
	assert_int_equal(espat_air_flow_sendable(&f, 1u << 20), 0); /* held until a grant */
	assert_true(espat_air_flow_granted(&f, 4096));
	assert_int_equal(espat_air_flow_sendable(&f, 1u << 20), 4096);
	/* more than was sent: a broken peer, nothing changes */
	assert_false(espat_air_flow_granted(&f, ESPAT_AIR_WINDOW - 4096 + 1));
	assert_int_equal(f.credit, 4096);
	assert_false(espat_air_flow_granted(&f, UINT32_MAX));
	assert_true(espat_air_flow_granted(&f, ESPAT_AIR_WINDOW - 4096));
	assert_int_equal(f.credit, ESPAT_AIR_WINDOW);
	assert_false(espat_air_flow_granted(&f, 1));
}

static void flow_receiver(void **state)
{
	(void)state;
	struct espat_air_flow f;
	espat_air_flow_init(&f);
	assert_int_equal(espat_air_flow_consumed(&f, 10), 0); /* nothing received yet */
	assert_true(espat_air_flow_received(&f, ESPAT_AIR_WINDOW - 1));
	assert_true(espat_air_flow_received(&f, 1));
	assert_int_equal(f.room, 0);
	assert_false(espat_air_flow_received(&f, 1)); /* past the window: broken */
	assert_int_equal(f.room, 0);
	assert_int_equal(espat_air_flow_consumed(&f, 1000), 1000);
	assert_int_equal(f.room, 1000);
	assert_false(espat_air_flow_received(&f, 1001));
	assert_true(espat_air_flow_received(&f, 1000));
	/* never grants past what arrived */
	assert_int_equal(espat_air_flow_consumed(&f, 2u * ESPAT_AIR_WINDOW), ESPAT_AIR_WINDOW);
	assert_int_equal(f.room, ESPAT_AIR_WINDOW);
}

/* Two ends in memory: a sender with 1 MiB to send, a receiver whose owner
 * reads only now and then. What the receiver holds never exceeds the
 * window, every byte arrives, and grants bring the sender back to a full
 * window at the end. */
static void flow_two_ends(void **state)
{
	(void)state;
	struct espat_air_flow snd, rcv;
	espat_air_flow_init(&snd);
	espat_air_flow_init(&rcv);
	size_t queued = 1u << 20, held = 0, got = 0;
	for (unsigned round = 0; queued > 0 || held > 0; round++) {
		assert_true(round < 10000);
		size_t k = espat_air_flow_sendable(&snd, queued);
		if (k > ESPAT_AIR_PAYLOAD_MAX)
			k = ESPAT_AIR_PAYLOAD_MAX;
		espat_air_flow_sent(&snd, k);
		queued -= k;
		assert_true(espat_air_flow_received(&rcv, k));
		held += k;
		assert_true(held <= ESPAT_AIR_WINDOW);
		if (round % 7 == 6) { /* the owner reads what is held */
			uint32_t g = espat_air_flow_consumed(&rcv, held);
			assert_int_equal(g, held);
			got += held;
			held = 0;
			assert_true(espat_air_flow_granted(&snd, g));
		}
	}
	assert_int_equal(got, 1u << 20);
	assert_int_equal(snd.credit, ESPAT_AIR_WINDOW);
	assert_int_equal(rcv.room, ESPAT_AIR_WINDOW);
}

static void ble_adv_record(void **state)
{
	struct espat_air_ble_adv a = {.addr_type = 1,
	                              .adv_type = 0,
	                              .channel_map = 7,
	                              .interval_ms = 31,
	                              .adv_len = 3,
	                              .adv = {0x02, 0x01, 0x06},
	                              .rsp_len = 2,
	                              .rsp = {0x11, 0x22}},
	                         d;
	uint8_t out[ESPAT_AIR_BLE_ADV_LEN_MAX];
	size_t n = espat_air_ble_adv_encode(&a, out);
	assert_int_equal(n, 9 + 3 + 2);
	/* interval big-endian after the three type bytes, then len + data twice */
	const uint8_t want[] = {1, 0, 7, 0, 0, 0, 31, 3, 0x02, 0x01, 0x06, 2, 0x11, 0x22};
	assert_memory_equal(out, want, sizeof(want));
	assert_true(espat_air_ble_adv_decode(out, n, &d));
	assert_int_equal(d.interval_ms, 31);
	assert_int_equal(d.adv_len, 3);
	assert_int_equal(d.rsp_len, 2);
	assert_memory_equal(d.adv, a.adv, 3);
	assert_memory_equal(d.rsp, a.rsp, 2);
	assert_int_equal(d.addr_type, 1);
	assert_int_equal(d.channel_map, 7);
	/* the largest sets (extended advertising) fit and come back */
	a.adv_len = a.rsp_len = ESPAT_AIR_BLE_DATA_MAX;
	memset(a.adv, 0xaa, sizeof(a.adv));
	memset(a.rsp, 0x55, sizeof(a.rsp));
	n = espat_air_ble_adv_encode(&a, out);
	assert_int_equal(n, 9 + 2 * ESPAT_AIR_BLE_DATA_MAX);
	assert_true(espat_air_ble_adv_decode(out, n, &d));
	assert_memory_equal(d.rsp, a.rsp, ESPAT_AIR_BLE_DATA_MAX);
	/* wrong total, a length past the max, no interval: not a record */
	assert_false(espat_air_ble_adv_decode(out, n - 1, &d));
	assert_false(espat_air_ble_adv_decode(out, 8, &d));
	uint8_t bad[] = {0, 0, 7, 0, 0, 0, 31, 120, 0};
	assert_false(espat_air_ble_adv_decode(bad, sizeof(bad), &d));
	uint8_t zero[] = {0, 0, 7, 0, 0, 0, 0, 0, 0};
	assert_false(espat_air_ble_adv_decode(zero, sizeof(zero), &d));
	zero[6] = 100;
	assert_true(espat_air_ble_adv_decode(zero, sizeof(zero), &d));
	assert_int_equal(d.adv_len + d.rsp_len, 0);
	assert_int_equal(d.per_len, 0);
	/* a periodic train after the set: its length, data and interval */
	struct espat_air_ble_adv p = {.adv_type = 5,
	                              .channel_map = 7,
	                              .interval_ms = 20,
	                              .per_len = 2,
	                              .per = {0x11, 0x22},
	                              .per_interval_ms = 80};
	n = espat_air_ble_adv_encode(&p, out);
	const uint8_t want_per[] = {0, 5, 7, 0, 0, 0, 20, 0, 0, 2, 0x11, 0x22, 0, 0, 0, 80};
	assert_int_equal(n, sizeof(want_per));
	assert_memory_equal(out, want_per, sizeof(want_per));
	assert_true(espat_air_ble_adv_decode(out, n, &d));
	assert_int_equal(d.per_len, 2);
	assert_int_equal(d.per_interval_ms, 80);
	assert_false(espat_air_ble_adv_decode(out, n - 1, &d)); /* cut */
	out[15] = 0; /* no interval */
	assert_false(espat_air_ble_adv_decode(out, n, &d));
	p.per_len = ESPAT_AIR_BLE_DATA_MAX;
	p.adv_len = p.rsp_len = ESPAT_AIR_BLE_DATA_MAX;
	assert_int_equal(espat_air_ble_adv_encode(&p, out), ESPAT_AIR_BLE_ADV_LEN_MAX);
}

static void ble_small_records(void **state)
{
	uint8_t out[8];
	struct espat_air_ble_init i = {.addr = {0x24, 0x0a, 0xc4, 0xd6, 0xe4, 0x46},
	                               .addr_type = 1},
	                          di;
	assert_int_equal(espat_air_ble_init_encode(&i, out), 7);
	assert_true(espat_air_ble_init_decode(out, 7, &di));
	assert_memory_equal(di.addr, i.addr, 6);
	assert_int_equal(di.addr_type, 1);
	assert_false(espat_air_ble_init_decode(out, 6, &di));

	struct espat_air_ble_conn c = {.interval = 800, .latency = 1, .timeout = 500}, dc;
	assert_int_equal(espat_air_ble_conn_encode(&c, out), 6);
	const uint8_t want[] = {0x03, 0x20, 0x00, 0x01, 0x01, 0xf4};
	assert_memory_equal(out, want, 6);
	assert_true(espat_air_ble_conn_decode(out, 6, &dc));
	assert_int_equal(dc.interval, 800);
	assert_int_equal(dc.latency, 1);
	assert_int_equal(dc.timeout, 500);
	assert_false(espat_air_ble_conn_decode(out, 5, &dc));
	c.interval = 0;
	espat_air_ble_conn_encode(&c, out);
	assert_false(espat_air_ble_conn_decode(out, 6, &dc));

	uint16_t mtu;
	assert_int_equal(espat_air_ble_mtu_encode(247, out), 2);
	assert_true(espat_air_ble_mtu_decode(out, 2, &mtu));
	assert_int_equal(mtu, 247);
	espat_air_ble_mtu_encode(22, out);
	assert_false(espat_air_ble_mtu_decode(out, 2, &mtu));
	espat_air_ble_mtu_encode(518, out);
	assert_false(espat_air_ble_mtu_decode(out, 2, &mtu));
	assert_false(espat_air_ble_mtu_decode(out, 3, &mtu));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip),
	    cmocka_unit_test(empty_payload),
	    cmocka_unit_test(too_small_buffer_writes_nothing),
	    cmocka_unit_test(incremental),
	    cmocka_unit_test(bad_lengths),
	    cmocka_unit_test(largest_payload),
	    cmocka_unit_test(unknown_type_is_decoded),
	    cmocka_unit_test(ap_record),
	    cmocka_unit_test(window_frame),
	    cmocka_unit_test(flow_sender),
	    cmocka_unit_test(flow_receiver),
	    cmocka_unit_test(flow_two_ends),
	    cmocka_unit_test(ble_adv_record),
	    cmocka_unit_test(ble_small_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
