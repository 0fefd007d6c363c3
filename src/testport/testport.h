/* The test port: every platform interface in memory, with a clock the test
 * sets. Output accumulates in a buffer the test reads; the kv stores and
 * flash live here, not in the module, so a "power cycle" is a new module on
 * the same test port. Used by unit tests, in-process transcripts and fuzz
 * targets. */
#ifndef ESPAT_TESTPORT_H
#define ESPAT_TESTPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port/ports.h"
#include "testport/net_mem.h"
#include "testport/files_mem.h"
#include "testport/http_mem.h"
#include "world/netfault.h"
#include "world/world.h"

#define ESPAT_TP_KV_MAX 256
#define ESPAT_TP_PARTS 2

struct espat_tp_entry {
	char ns[16], key[16];
	uint8_t *val; /* owned */
	size_t len;
};

struct espat_tp_kv {
	struct espat_tp_entry e[ESPAT_TP_KV_MAX];
	size_t n;
	uint64_t writes; /* set/erase calls that changed something */
};

struct espat_testport {
	uint64_t now; /* the clock, ms; tests advance it */
	int64_t wall; /* Unix seconds at now == 0 */
	uint32_t rng; /* xorshift state; fixed seed = reproducible */
	uint8_t *out; /* everything the module wrote, owned */
	size_t out_len, out_cap;
	struct espat_uart_cfg uart; /* last set_uart */
	unsigned uart_changes;
	unsigned restarts; /* on_restart calls */
	struct espat_tp_kv nvs, mfg;
	struct espat_flash_part parts[ESPAT_TP_PARTS];
	uint8_t *flash[ESPAT_TP_PARTS]; /* partition contents, owned */
	struct espat_world world;       /* the air (the built-in default world) */
	struct espat_net_mem net;       /* the network behind it, scripted by the test */
	/* the world's faults over it: ports.net is this layer (no fault set
	 * unless a test sets one: every call passes straight to net) */
	struct espat_netfault fault;
	struct espat_http_mem http;   /* scripted HTTP servers on it */
	struct espat_files_mem files; /* the data dir's whole files (OTA images) */
	struct espat_ports ports;     /* wired to the above */
};

void espat_tp_init(struct espat_testport *t);
void espat_tp_free(struct espat_testport *t);

struct espat_module;
/* Advances the clock by ms, stopping at each module timer's and each
 * network event's own due time (so a timer armed by another fires when it
 * should, not at the end): polls m there, then delivers the network events
 * due, as espat_tp_settle does. */
void espat_tp_advance(struct espat_testport *t, struct espat_module *m, uint64_t ms);
/* Delivers every network event due now (the memory network's and the
 * fault layer's) (and the module timers they make
 * due) until nothing is pending, without moving the clock: what a test
 * calls after scripting the network (espat_mem_conn_send, ...). */
void espat_tp_settle(struct espat_testport *t, struct espat_module *m);
/* Forgets captured output. */
void espat_tp_clear(struct espat_testport *t);
/* Captured output as a NUL-terminated string (binary-safe via out_len). */
const char *espat_tp_out(struct espat_testport *t);

#endif
