#include "testport/testport.h"

#include "cmd/module.h"
#include "posix/crypto_openssl.h"
#include "posix/regex_posix.h"

#include <stdlib.h>
#include <string.h>

static void tp_write(void *user, const uint8_t *p, size_t n)
{
	struct espat_testport *t = user;
	if (t->out_len + n + 1 > t->out_cap) {
		size_t cap = t->out_cap ? t->out_cap : 1024;
		while (cap < t->out_len + n + 1)
			cap *= 2;
		uint8_t *o = realloc(t->out, cap);
		if (!o)
			abort();
		t->out = o;
		t->out_cap = cap;
	}
	memcpy(t->out + t->out_len, p, n);
	t->out_len += n;
	t->out[t->out_len] = 0;
}

static void tp_set_uart(void *user, const struct espat_uart_cfg *cfg)
{
	struct espat_testport *t = user;
	t->uart = *cfg;
	t->uart_changes++;
}

static uint64_t tp_now(void *user)
{
	return ((struct espat_testport *)user)->now;
}

static int64_t tp_wall(void *user)
{
	struct espat_testport *t = user;
	return t->wall + (int64_t)(t->now / 1000u);
}

static uint32_t tp_random(void *user)
{
	struct espat_testport *t = user;
	uint32_t x = t->rng;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	t->rng = x;
	return x;
}

/* ---- kv ---- */

static struct espat_tp_entry *kv_find(struct espat_tp_kv *kv, const char *ns, const char *key)
{
	for (size_t i = 0; i < kv->n; i++)
		if (strcmp(kv->e[i].ns, ns) == 0 && strcmp(kv->e[i].key, key) == 0)
			return &kv->e[i];
	return NULL;
}

static long kv_get(void *user, const char *ns, const char *key, uint8_t *buf, size_t cap)
{
	struct espat_tp_entry *e = kv_find(user, ns, key);
	if (!e)
		return -1;
	if (cap > 0)
		memcpy(buf, e->val, e->len < cap ? e->len : cap);
	return (long)e->len;
}

static int kv_set(void *user, const char *ns, const char *key, const uint8_t *val, size_t len)
{
	struct espat_tp_kv *kv = user;
	if (strlen(ns) > ESPAT_KV_NAME_MAX || strlen(key) > ESPAT_KV_NAME_MAX ||
	    len > ESPAT_KV_VALUE_MAX)
		return -1;
	struct espat_tp_entry *e = kv_find(kv, ns, key);
	if (e && e->len == len && memcmp(e->val, val, len) == 0)
		return 0;
	if (!e) {
		if (kv->n == ESPAT_TP_KV_MAX)
			return -1;
		e = &kv->e[kv->n++];
		memcpy(e->ns, ns, strlen(ns) + 1);
		memcpy(e->key, key, strlen(key) + 1);
		e->val = NULL;
	}
	uint8_t *v = malloc(len ? len : 1);
	if (!v)
		return -1;
	memcpy(v, val, len);
	free(e->val);
	e->val = v;
	e->len = len;
	kv->writes++;
	return 0;
}

static int kv_erase(void *user, const char *ns, const char *key)
{
	struct espat_tp_kv *kv = user;
	size_t o = 0;
	for (size_t i = 0; i < kv->n; i++) {
		struct espat_tp_entry *e = &kv->e[i];
		bool hit = (!ns || strcmp(e->ns, ns) == 0) && (!key || strcmp(e->key, key) == 0);
		if (hit) {
			free(e->val);
			kv->writes++;
		} else {
			kv->e[o++] = *e;
		}
	}
	kv->n = o;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct espat_tp_entry *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);
	return c ? c : strcmp(x->key, y->key);
}

static void kv_list(void *user, const char *ns, espat_kv_each_fn *fn, void *cbuser)
{
	struct espat_tp_kv *kv = user;
	qsort(kv->e, kv->n, sizeof(kv->e[0]), entry_cmp);
	for (size_t i = 0; i < kv->n; i++)
		if (!ns || strcmp(kv->e[i].ns, ns) == 0)
			fn(cbuser, kv->e[i].ns, kv->e[i].key, kv->e[i].val, kv->e[i].len);
}

static void kv_free(struct espat_tp_kv *kv)
{
	for (size_t i = 0; i < kv->n; i++)
		free(kv->e[i].val);
	kv->n = 0;
}

/* ---- flash ---- */

static const struct espat_flash_part *fl_part(void *user, size_t i)
{
	struct espat_testport *t = user;
	return i < ESPAT_TP_PARTS ? &t->parts[i] : NULL;
}

static int fl_read(void *user, size_t i, uint32_t off, uint8_t *buf, uint32_t len)
{
	struct espat_testport *t = user;
	memcpy(buf, t->flash[i] + off, len);
	return 0;
}

static int fl_write(void *user, size_t i, uint32_t off, const uint8_t *buf, uint32_t len)
{
	struct espat_testport *t = user;
	for (uint32_t k = 0; k < len; k++)
		t->flash[i][off + k] &= buf[k];
	return 0;
}

static int fl_erase(void *user, size_t i, uint32_t off, uint32_t len)
{
	struct espat_testport *t = user;
	memset(t->flash[i] + off, 0xFF, len);
	return 0;
}

static void tp_base_mac(void *user, uint8_t mac[6])
{
	static const uint8_t fixed[6] = {0x34, 0x85, 0x18, 0x12, 0x34, 0x56};
	memcpy(mac, fixed, 6);
}

static void tp_restarted(void *user)
{
	((struct espat_testport *)user)->restarts++;
}

void espat_tp_init(struct espat_testport *t)
{
	memset(t, 0, sizeof(*t));
	t->now = 1000;
	t->wall = 1700000000;
	t->rng = 0x2545F491u;
	t->parts[0] = (struct espat_flash_part){"mfg_nvs", 1, 2, 0x1F000, 0x1F000};
	t->parts[1] = (struct espat_flash_part){"fatfs", 1, 0x81, 0x47000, 0x19000};
	for (size_t i = 0; i < ESPAT_TP_PARTS; i++) {
		t->flash[i] = malloc(t->parts[i].size);
		if (!t->flash[i])
			abort();
		memset(t->flash[i], 0xFF, t->parts[i].size);
	}
	struct espat_ports *p = &t->ports;
	p->pipe = (struct espat_pipe){.write = tp_write, .set_uart = tp_set_uart, .user = t};
	p->sys = (struct espat_sys){.now_ms = tp_now,
	                            .wall_s = tp_wall,
	                            .random = tp_random,
	                            .base_mac = tp_base_mac,
	                            .user = t};
	p->nvs = (struct espat_kv){kv_get, kv_set, kv_erase, kv_list, &t->nvs};
	p->mfg = (struct espat_kv){kv_get, kv_set, kv_erase, kv_list, &t->mfg};
	p->flash = (struct espat_flash){fl_part, fl_read, fl_write, fl_erase, t};
	p->regex = espat_regex_posix_port(); /* the real BRE engine */
	espat_world_default(&t->world);
	p->radio = espat_world_radio(&t->world);
	p->ble = espat_ble_world_port(&t->world.ble);
	p->crypto = espat_crypto_openssl();
	p->periph = espat_sim_periph_port(&t->world.periph);
	p->files = espat_files_mem_port(&t->files);
	p->on_restart = tp_restarted;
	p->restart_user = t;
	espat_net_mem_init(&t->net, &t->now);
	struct espat_net mem = espat_net_mem_port(&t->net);
	espat_netfault_init(&t->fault, &mem, tp_now, t, NULL, NULL);
	p->net = espat_netfault_port(&t->fault);
	espat_http_mem_init(&t->http, &t->net);
}

void espat_tp_clear(struct espat_testport *t)
{
	t->out_len = 0;
	if (t->out)
		t->out[0] = 0;
}

const char *espat_tp_out(struct espat_testport *t)
{
	return t->out ? (const char *)t->out : "";
}

void espat_tp_free(struct espat_testport *t)
{
	free(t->out);
	espat_http_mem_free(&t->http);
	espat_files_mem_free(&t->files);
	kv_free(&t->nvs);
	kv_free(&t->mfg);
	for (size_t i = 0; i < ESPAT_TP_PARTS; i++)
		free(t->flash[i]);
	espat_netfault_free(&t->fault);
	espat_net_mem_free(&t->net);
	memset(t, 0, sizeof(*t));
}

/* Network events due now, each batch followed by a poll (a callback may arm
 * a timer for now); bounded like espat_tp_advance. */
static void deliver_net(struct espat_testport *t, struct espat_module *m)
{
	for (int guard = 0; guard < 10000; guard++) {
		size_t k = espat_net_mem_run(&t->net);
		bool held = espat_netfault_next_ms(&t->fault) <= t->now;
		if (held)
			espat_netfault_run(&t->fault);
		if (k == 0 && !held)
			break;
		espat_module_poll(m);
	}
}

void espat_tp_settle(struct espat_testport *t, struct espat_module *m)
{
	espat_module_poll(m);
	deliver_net(t, m);
}

void espat_tp_advance(struct espat_testport *t, struct espat_module *m, uint64_t ms)
{
	uint64_t target = t->now + ms;
	/* bounded: a timer that keeps re-arming at the same time must not hang
	 * a test (the fuzzer reports it as a never-finishing command instead) */
	for (int guard = 0; guard < 10000; guard++) {
		uint64_t next = espat_module_next_deadline(m);
		uint64_t net = espat_net_mem_next_due(&t->net);
		if (net < next)
			next = net;
		uint64_t held = espat_netfault_next_ms(&t->fault);
		if (held < next)
			next = held;
		uint64_t http = espat_http_mem_next(&t->http);
		if (http < next)
			next = http;
		if (next > target)
			break;
		if (next > t->now)
			t->now = next;
		espat_module_poll(m);
		deliver_net(t, m);
		espat_http_mem_poll(&t->http);
	}
	t->now = target;
	espat_module_poll(m);
	deliver_net(t, m);
	espat_http_mem_poll(&t->http);
	espat_module_poll(m);
}
