/* libFuzzer target: a whole module on the test port fed arbitrary bytes.
 * The input is a script: each step's first byte says what to do (feed the
 * next 1..64 bytes as one chunk, advance the clock, or power-cycle), so
 * the fuzzer explores chunking and timing along with content. Output is
 * bounded: it may not outgrow what the input could cause. No pending
 * command may hang, and the module must answer AT with OK at the end unless
 * it sits in download mode, deep sleep or data entry. Inputs of odd length
 * run an ESP8266 v1.5 module (--chip esp8266), even ones an ESP32-C3, so
 * every seed exercises both dialects. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/basic.h"
#include "cmd/module.h"
#include "cmd/ota.h"
#include "cmd/svc.h"
#include "cmd/tcpip.h"
#include "cmd/tcpip_ssl.h"
#include "cmd/wifi.h"
#include "testport/testport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

/* Output per input byte can be large (AT+CMD? is ~1.5 KB for 9 bytes), but
 * never unbounded. */
#define OUT_MAX_PER_STEP (64 * 1024)

/* The longest any command may stay pending (or the module stay asleep or
 * restarting) before the end-of-input checks call it a hang. */
#define DRAIN_MAX_MS (5u * 3600u * 1000u)
#define DRAIN_STEP_MS (60u * 1000u)

/* Runs the clock until nothing is pending or asleep, at most DRAIN_MAX_MS.
 * In steps, because a station left reconnecting every second fires a timer
 * (and scans the air) each second: one 5-hour advance cost ~10,000 scans
 * per input, most of the fuzzer's time, where a drain that stops once the
 * engine is idle costs a step or two. */
static void drain(struct espat_testport *tp, struct espat_module *m)
{
	espat_tp_advance(tp, m, 0);
	for (uint64_t t = 0; t < DRAIN_MAX_MS; t += DRAIN_STEP_MS) {
		if (m->eng.state != ESPAT_ST_EXEC && m->eng.state != ESPAT_ST_HALTED)
			return;
		espat_tp_advance(tp, m, DRAIN_STEP_MS);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct espat_testport tp;
	static struct espat_module m;
	espat_tp_init(&tp);
	/* a peer for links (the seeds in tests/fuzz/seeds/fuzz_engine/) */
	espat_net_mem_serve(&tp.net, (struct espat_endpoint){espat_ip4(10, 0, 0, 2), 8080});
	espat_net_mem_dns_add(&tp.net, "peer.example", espat_ip4(10, 0, 0, 2));
	const struct espat_module_opts opts = {
	    .chip = (size & 1) ? ESPAT_CHIP_ESP8266 : ESPAT_CHIP_ESP32C3};
	espat_module_init(&m, &tp.ports, &opts);
	espat_module_power_on(&m);
	espat_tp_clear(&tp);

	size_t pos = 0;
	while (pos < size) {
		uint8_t op = data[pos++];
		size_t before = tp.out_len;
		if (op < 0xF0) {
			size_t k = 1 + op % 64;
			if (k > size - pos)
				k = size - pos;
			espat_module_input(&m, data + pos, k);
			pos += k;
		} else if (op < 0xFE) {
			/* up to ~16 s in uneven steps */
			espat_tp_advance(&tp, &m, (uint64_t)(op - 0xF0 + 1) * (op & 1 ? 7 : 1237));
		} else if (op == 0xFE) {
			espat_module_free(&m);
			espat_module_init(&m, &tp.ports, &opts);
			espat_module_power_on(&m);
		} else {
			espat_tp_advance(&tp, &m, 60000);
		}
		CHECK(tp.out_len - before <= OUT_MAX_PER_STEP);
		/* keep memory flat on long inputs */
		if (tp.out_len > 1024 * 1024)
			espat_tp_clear(&tp);
	}

	/* Let anything pending finish, end any half line, and the module must
	 * answer AT with OK, unless it is in download mode (only a power cycle
	 * ends it), still asleep or in data entry, or a message filter may
	 * drop the OK. */
	drain(&tp, &m);
	/* a pending command that never completes is a hang */
	CHECK(m.eng.state != ESPAT_ST_EXEC);
	espat_module_input(&m, (const uint8_t *)"\r\n", 2);
	drain(&tp, &m);
	if (!m.basic->download_mode && !m.basic->msgfilter_on && m.eng.state == ESPAT_ST_IDLE) {
		espat_tp_clear(&tp);
		espat_module_input(&m, (const uint8_t *)"AT\r\n", 4);
		const char *out = espat_tp_out(&tp);
		size_t n = tp.out_len;
		CHECK(n >= 6 && memcmp(out + n - 6, "\r\nOK\r\n", 6) == 0);
	}
	espat_module_free(&m);
	espat_tp_free(&tp);
	return 0;
}
