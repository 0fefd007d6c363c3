/* AT+SYSFLASH, AT+SYSMFG, AT+SYSROLLBACK (guide 3.1.18, 3.1.19, 3.1.22).
 *
 * AT+SYSFLASH works on the raw user partitions of the flash port; AT+SYSMFG
 * on the manufacturing NVS (the mfg kv port). The two are separate stores
 * here: erasing the "mfg_nvs" partition with AT+SYSFLASH does not empty
 * the key-value pairs AT+SYSMFG sees. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/basic_internal.h"
#include "cmd/family.h"
#include "cmd/ble.h"
#include "cmd/pki_factory.h"

const struct espat_param espat_sysflash_params[ESPAT_SYSFLASH_NPARAMS] = {
    {.name = "operation", .type = ESPAT_P_INT, .min = 0, .max = 2},
    {.name = "partition", .type = ESPAT_P_STR, .maxlen = 16},
    {.name = "offset", .type = ESPAT_P_INT, .optional = true, .min = 0, .max = UINT32_MAX},
    {.name = "length", .type = ESPAT_P_INT, .optional = true, .min = 0, .max = UINT32_MAX},
};

const struct espat_param espat_sysmfg_params[ESPAT_SYSMFG_NPARAMS] = {
    {.name = "operation", .type = ESPAT_P_INT, .min = 0, .max = 2},
    {.name = "namespace", .type = ESPAT_P_STR, .optional = true, .maxlen = 15},
    {.name = "key", .type = ESPAT_P_STR, .optional = true, .maxlen = 15},
    {.name = "p3", .type = ESPAT_P_ANY, .optional = true},
    {.name = "p4", .type = ESPAT_P_ANY, .optional = true},
    {.name = "p5", .type = ESPAT_P_ANY, .optional = true},
};

static struct espat_engine *E(struct espat_module *m)
{
	return &m->eng;
}

/* Arguments given, not counting omitted ones at the end (AT+X=1,"a",,). */
static size_t given(const struct espat_args *a)
{
	size_t n = a->n;
	while (n > 0 && a->v[n - 1].kind == ESPAT_ARG_OMITTED)
		n--;
	return n;
}

static bool is_int(const struct espat_args *a, size_t i)
{
	return i < a->n && a->v[i].kind == ESPAT_ARG_INT;
}

/* Drops what an unfinished data entry held (restart, power off). */
static void data_reset(struct espat_basic *b)
{
	free(b->data_buf);
	b->data_buf = NULL;
	b->data_len = 0;
	b->data_done = 0;
	b->data_failed = false;
	b->data_op = ESPAT_DOP_NONE;
}

void espat_flash_free(struct espat_module *m)
{
	espat_timer_cancel(&m->timers, &m->basic->op_timer);
	data_reset(m->basic);
}

/* ---- AT+SYSFLASH ----------------------------------------------------------- */

/* Index of the partition named name[0..len), or -1. */
static long find_part(struct espat_module *m, const char *name, size_t len)
{
	const struct espat_flash *fl = &m->ports.flash;
	const struct espat_flash_part *p;
	for (size_t i = 0; (p = fl->part(fl->user, i)) != NULL; i++)
		if (strlen(p->name) == len && memcmp(p->name, name, len) == 0)
			return (long)i;
	return -1;
}

/* Format of a real v3.x module: type and subtype in decimal, address and
 * size in unpadded lowercase hex ("+SYSFLASH:"ble_data",64,1,0x21000,0x3000"). */
enum espat_rc espat_sysflash_query(struct espat_module *m, const struct espat_args *a)
{
	const struct espat_flash *fl = &m->ports.flash;
	const struct espat_flash_part *p;
	for (size_t i = 0; (p = fl->part(fl->user, i)) != NULL; i++)
		espat_wr_linef(&m->wr, "+SYSFLASH:\"%s\",%u,%u,0x%x,0x%x", p->name,
		               (unsigned)p->type, (unsigned)p->subtype, (unsigned)p->addr,
		               (unsigned)p->size);
	return ESPAT_RC_OK;
}

static void erase_due(void *user)
{
	struct espat_module *m = user;
	struct espat_basic *b = m->basic;
	const struct espat_flash *fl = &m->ports.flash;
	int rc = fl->erase(fl->user, b->data_part, b->data_a, b->data_b);
	b->data_op = ESPAT_DOP_NONE;
	if (rc != 0) {
		espat_engine_complete(E(m), espat_fail(E(m), ESPAT_ERR_EXEC));
		return;
	}
	espat_engine_complete(E(m), ESPAT_RC_OK);
}

/* The erase takes flash time: the command stays pending (input meanwhile
 * is answered busy p...) and the sectors turn to 0xFF when it completes. */
static enum espat_rc flash_erase(struct espat_module *m, const struct espat_args *a, size_t part,
                                 const struct espat_flash_part *p)
{
	size_t n = given(a);
	uint64_t off = 0, len = p->size;
	if (n == 3)
		return espat_fail(E(m), ESPAT_ERR_NUM(4, a->n));
	if (n == 4) {
		if (!is_int(a, 2) || !is_int(a, 3))
			return espat_fail(E(m), ESPAT_ERR_NUM(4, a->n));
		off = (uint64_t)a->v[2].i;
		len = (uint64_t)a->v[3].i;
		if (off % ESPAT_FLASH_SECTOR != 0 || off >= p->size)
			return espat_fail(E(m), ESPAT_ERR_INVALID(2));
		if (len == 0 || len % ESPAT_FLASH_SECTOR != 0 || off + len > p->size)
			return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	}
	struct espat_basic *b = m->basic;
	b->data_op = ESPAT_DOP_FLASH_ERASE;
	b->data_part = part;
	b->data_a = (uint32_t)off;
	b->data_b = (uint32_t)len;
	uint64_t ms = (len / ESPAT_FLASH_SECTOR) * ESPAT_FLASH_ERASE_MS_PER_SECTOR;
	espat_timer_arm(&m->timers, &b->op_timer, espat_module_now(m) + ms, erase_due, m);
	return ESPAT_RC_PENDING;
}

/* Streams the data into flash as it arrives. Flash can only clear bits, so
 * writing over unerased bytes ANDs them, as on the chip. */
static enum espat_rc flash_write_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_basic *b = m->basic;
	const struct espat_flash *fl = &m->ports.flash;
	if (n > 0 && !b->data_failed &&
	    fl->write(fl->user, b->data_part, b->data_a + b->data_done, p, (uint32_t)n) != 0)
		b->data_failed = true;
	b->data_done += (uint32_t)n;
	if (!last)
		return ESPAT_RC_PENDING;
	bool failed = b->data_failed;
	data_reset(b);
	return failed ? espat_fail(E(m), ESPAT_ERR_EXEC) : ESPAT_RC_OK;
}

/* Checks <offset>,<length> of a write or read against partition p. */
static enum espat_rc range_check(struct espat_module *m, const struct espat_args *a,
                                 const struct espat_flash_part *p, uint32_t *off, uint32_t *len)
{
	if (given(a) != 4 || !is_int(a, 2) || !is_int(a, 3))
		return espat_fail(E(m), ESPAT_ERR_NUM(4, a->n));
	uint64_t o = (uint64_t)a->v[2].i, l = (uint64_t)a->v[3].i;
	if (o >= p->size)
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	if (l == 0 || o + l > p->size)
		return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	*off = (uint32_t)o;
	*len = (uint32_t)l;
	return ESPAT_RC_OK;
}

/* "+SYSFLASH:<length>,<data>\r\n" goes out as one message, so no report
 * lands inside the raw data. */
static enum espat_rc flash_read(struct espat_module *m, size_t part, uint32_t off, uint32_t len)
{
	char head[32];
	int hn = snprintf(head, sizeof(head), "+SYSFLASH:%u,", (unsigned)len);
	size_t total = (size_t)hn + len + 2;
	uint8_t *msg = malloc(total);
	if (!msg)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	memcpy(msg, head, (size_t)hn);
	const struct espat_flash *fl = &m->ports.flash;
	if (fl->read(fl->user, part, off, msg + hn, len) != 0) {
		free(msg);
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	}
	memcpy(msg + hn + len, "\r\n", 2);
	espat_wr_msg(&m->wr, msg, total);
	free(msg);
	return ESPAT_RC_OK;
}

enum espat_rc espat_sysflash_set(struct espat_module *m, const struct espat_args *a)
{
	long part = find_part(m, a->v[1].s, a->v[1].len);
	if (part < 0)
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	const struct espat_flash_part *p = m->ports.flash.part(m->ports.flash.user, (size_t)part);
	if (a->v[0].i == 0)
		return flash_erase(m, a, (size_t)part, p);
	uint32_t off = 0, len = 0;
	enum espat_rc rc = range_check(m, a, p, &off, &len);
	if (rc != ESPAT_RC_OK)
		return rc;
	if (a->v[0].i == 2)
		return flash_read(m, (size_t)part, off, len);
	struct espat_basic *b = m->basic;
	data_reset(b);
	b->data_op = ESPAT_DOP_FLASH_WRITE;
	b->data_part = (size_t)part;
	b->data_a = off;
	b->data_len = len;
	espat_engine_expect_data(E(m), len, flash_write_data);
	/* The guide: "wrap return > after the write command" - no OK first. */
	return ESPAT_RC_PROMPT;
}

/* ---- AT+SYSMFG ---------------------------------------------------------------- */

/* Values are typed: enum espat_mfg_type (port/kv.h). */

static size_t int_width(unsigned type)
{
	static const uint8_t w[] = {0, 1, 1, 2, 2, 4, 4};
	return type >= ESPAT_MFG_U8 && type <= ESPAT_MFG_I32 ? w[type] : 0;
}

static bool int_in_range(unsigned type, int64_t v)
{
	switch (type) {
	case ESPAT_MFG_U8:
		return v >= 0 && v <= UINT8_MAX;
	case ESPAT_MFG_I8:
		return v >= INT8_MIN && v <= INT8_MAX;
	case ESPAT_MFG_U16:
		return v >= 0 && v <= UINT16_MAX;
	case ESPAT_MFG_I16:
		return v >= INT16_MIN && v <= INT16_MAX;
	case ESPAT_MFG_U32:
		return v >= 0 && v <= UINT32_MAX;
	case ESPAT_MFG_I32:
		return v >= INT32_MIN && v <= INT32_MAX;
	default:
		return false;
	}
}

static size_t int_encode(unsigned type, int64_t v, uint8_t *out)
{
	size_t w = int_width(type);
	uint64_t u = (uint64_t)v;
	for (size_t i = 0; i < w; i++)
		out[i] = (uint8_t)(u >> (8 * i));
	return w;
}

/* Decodes an integer value of type from p[0..n); false if malformed. */
static bool int_decode(unsigned type, const uint8_t *p, size_t n, int64_t *v)
{
	size_t w = int_width(type);
	if (w == 0 || n != w)
		return false;
	uint64_t u = 0;
	for (size_t i = 0; i < w; i++)
		u |= (uint64_t)p[i] << (8 * i);
	bool sign = type == ESPAT_MFG_I8 || type == ESPAT_MFG_I16 || type == ESPAT_MFG_I32;
	if (sign && (u >> (8 * w - 1)) & 1u)
		u |= ~(uint64_t)0 << (8 * w);
	*v = (int64_t)u;
	return true;
}

/* Copies a namespace or key argument into dst (ESPAT_KV_NAME_MAX + 1
 * bytes). False when it is empty or holds a NUL (kv names are C strings);
 * the engine already capped the length. */
static bool take_name(const struct espat_arg *v, char *dst)
{
	if (v->kind != ESPAT_ARG_STR || v->len == 0 || v->len > ESPAT_KV_NAME_MAX ||
	    memchr(v->s, 0, v->len))
		return false;
	memcpy(dst, v->s, v->len);
	dst[v->len] = 0;
	return true;
}

struct ns_walk {
	struct espat_module *m;
	char last[ESPAT_KV_NAME_MAX + 1]; /* namespace printed last */
	size_t n;                         /* entries seen */
};

/* kv list() goes in namespace order, so a namespace is new when it differs
 * from the previous entry's. */
static void print_ns(void *user, const char *ns, const char *key, const uint8_t *val, size_t len)
{
	struct ns_walk *w = user;
	if (w->n++ > 0 && strcmp(w->last, ns) == 0)
		return;
	snprintf(w->last, sizeof(w->last), "%s", ns);
	espat_wr_linef(&w->m->wr, "+SYSMFG:\"%s\"", ns);
}

static void print_key(void *user, const char *ns, const char *key, const uint8_t *val, size_t len)
{
	struct ns_walk *w = user;
	w->n++;
	espat_wr_linef(&w->m->wr, "+SYSMFG:\"%s\",\"%s\",%u", ns, key,
	               len > 0 ? (unsigned)val[0] : 0u);
}

static void count_entry(void *user, const char *ns, const char *key, const uint8_t *val, size_t len)
{
	((struct ns_walk *)user)->n++;
}

static size_t ns_entries(struct espat_module *m, const char *ns)
{
	struct ns_walk w = {.m = m};
	m->ports.mfg.list(m->ports.mfg.user, ns, count_entry, &w);
	return w.n;
}

enum espat_rc espat_sysmfg_query(struct espat_module *m, const struct espat_args *a)
{
	struct ns_walk w = {.m = m};
	m->ports.mfg.list(m->ports.mfg.user, NULL, print_ns, &w);
	return ESPAT_RC_OK;
}

/* AT+SYSMFG=0,"ns"[,"key"]: erasing what does not exist is ERROR, as NVS
 * answers ESP_ERR_NVS_NOT_FOUND for it. */
static enum espat_rc mfg_erase(struct espat_module *m, const struct espat_args *a, size_t n)
{
	const struct espat_kv *kv = &m->ports.mfg;
	char ns[ESPAT_KV_NAME_MAX + 1], key[ESPAT_KV_NAME_MAX + 1];
	if (n < 2 || n > 3)
		return espat_fail(E(m), ESPAT_ERR_NUM(n < 2 ? 2 : 3, a->n));
	if (!take_name(&a->v[1], ns))
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	if (n == 2) {
		if (ns_entries(m, ns) == 0)
			return espat_fail(E(m), ESPAT_ERR_EXEC);
		return kv->erase(kv->user, ns, NULL) == 0 ? ESPAT_RC_OK
		                                          : espat_fail(E(m), ESPAT_ERR_EXEC);
	}
	if (!take_name(&a->v[2], key))
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	uint8_t probe[1];
	if (kv->get(kv->user, ns, key, probe, sizeof(probe)) < 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	return kv->erase(kv->user, ns, key) == 0 ? ESPAT_RC_OK : espat_fail(E(m), ESPAT_ERR_EXEC);
}

/* Prints one value: "+SYSMFG:"ns","key",<type>,<length>,<value>\r\n" as
 * one message. Integers print in decimal and <length> counts its
 * characters (a real module shows "...,6,6,115200"); strings and blobs
 * print raw from <offset>, <length> bytes. */
static enum espat_rc mfg_print_value(struct espat_module *m, const char *ns, const char *key,
                                     const uint8_t *val, size_t vlen, const struct espat_args *a,
                                     size_t n)
{
	unsigned type = vlen > 0 ? val[0] : 0;
	const uint8_t *body = val + 1;
	size_t blen = vlen > 0 ? vlen - 1 : 0;
	char num[24];
	if (int_width(type) > 0) {
		int64_t v = 0;
		if (n == 5) /* a part of a number means nothing */
			return espat_fail(E(m), ESPAT_ERR_INVALID(3));
		if (!int_decode(type, body, blen, &v))
			return espat_fail(E(m), ESPAT_ERR_EXEC);
		blen = (size_t)snprintf(num, sizeof(num), "%lld", (long long)v);
		body = (const uint8_t *)num;
	} else if (type != ESPAT_MFG_STR && type != ESPAT_MFG_BLOB) {
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	} else if (n == 5) {
		int64_t off = a->v[3].i, len = a->v[4].i;
		if (off < 0 || (uint64_t)off >= blen)
			return espat_fail(E(m), ESPAT_ERR_INVALID(3));
		if (len <= 0 || (uint64_t)len > blen - (uint64_t)off)
			return espat_fail(E(m), ESPAT_ERR_INVALID(4));
		body += off;
		blen = (size_t)len;
	}
	char head[80];
	int hn = snprintf(head, sizeof(head), "+SYSMFG:\"%s\",\"%s\",%u,%u,", ns, key, type,
	                  (unsigned)blen);
	size_t total = (size_t)hn + blen + 2;
	uint8_t *msg = malloc(total);
	if (!msg)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	memcpy(msg, head, (size_t)hn);
	memcpy(msg + hn, body, blen);
	memcpy(msg + hn + blen, "\r\n", 2);
	espat_wr_msg(&m->wr, msg, total);
	free(msg);
	return ESPAT_RC_OK;
}

/* AT+SYSMFG=1[,"ns"[,"key"[,<offset>,<length>]]] */
static enum espat_rc mfg_read(struct espat_module *m, const struct espat_args *a, size_t n)
{
	const struct espat_kv *kv = &m->ports.mfg;
	char ns[ESPAT_KV_NAME_MAX + 1], key[ESPAT_KV_NAME_MAX + 1];
	if (n == 1)
		return espat_sysmfg_query(m, a);
	if (n == 4 || n > 5)
		return espat_fail(E(m), ESPAT_ERR_NUM(5, a->n));
	if (!take_name(&a->v[1], ns))
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	if (n == 2) {
		if (ns_entries(m, ns) == 0)
			return espat_fail(E(m), ESPAT_ERR_EXEC);
		struct ns_walk w = {.m = m};
		kv->list(kv->user, ns, print_key, &w);
		return ESPAT_RC_OK;
	}
	if (!take_name(&a->v[2], key))
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	if (n == 5) {
		if (!is_int(a, 3))
			return espat_fail(E(m), ESPAT_ERR_TYPE(3));
		if (!is_int(a, 4))
			return espat_fail(E(m), ESPAT_ERR_TYPE(4));
	}
	uint8_t probe[1];
	long vlen = kv->get(kv->user, ns, key, probe, sizeof(probe));
	if (vlen < 1)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	uint8_t *val = malloc((size_t)vlen);
	if (!val)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	enum espat_rc rc;
	if (kv->get(kv->user, ns, key, val, (size_t)vlen) != vlen)
		rc = espat_fail(E(m), ESPAT_ERR_EXEC);
	else
		rc = mfg_print_value(m, ns, key, val, (size_t)vlen, a, n);
	free(val);
	return rc;
}

static enum espat_rc mfg_write_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_basic *b = m->basic;
	size_t room = b->data_len - b->data_done;
	size_t take = n < room ? n : room;
	memcpy(b->data_buf + b->data_done, p, take);
	b->data_done += (uint32_t)take;
	if (!last)
		return ESPAT_RC_PENDING;
	const struct espat_kv *kv = &m->ports.mfg;
	int rc = kv->set(kv->user, b->data_ns, b->data_key, b->data_buf, b->data_len);
	data_reset(b);
	return rc == 0 ? ESPAT_RC_OK : espat_fail(E(m), ESPAT_ERR_EXEC);
}

/* AT+SYSMFG=2,"ns","key",<type>,<value> */
static enum espat_rc mfg_write(struct espat_module *m, const struct espat_args *a, size_t n)
{
	struct espat_basic *b = m->basic;
	char ns[ESPAT_KV_NAME_MAX + 1], key[ESPAT_KV_NAME_MAX + 1];
	if (n != 5)
		return espat_fail(E(m), ESPAT_ERR_NUM(5, a->n));
	if (!take_name(&a->v[1], ns))
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	if (!take_name(&a->v[2], key))
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	if (!is_int(a, 3))
		return espat_fail(E(m), ESPAT_ERR_TYPE(3));
	if (!is_int(a, 4))
		return espat_fail(E(m), ESPAT_ERR_TYPE(4));
	int64_t type = a->v[3].i, v = a->v[4].i;
	if (type < ESPAT_MFG_U8 || type > ESPAT_MFG_BLOB)
		return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	if (type <= ESPAT_MFG_I32) {
		if (!int_in_range((unsigned)type, v))
			return espat_fail(E(m), ESPAT_ERR_INVALID(4));
		uint8_t buf[1 + 4];
		buf[0] = (uint8_t)type;
		size_t len = 1 + int_encode((unsigned)type, v, buf + 1);
		const struct espat_kv *kv = &m->ports.mfg;
		if (kv->set(kv->user, ns, key, buf, len) != 0)
			return espat_fail(E(m), ESPAT_ERR_EXEC);
		return ESPAT_RC_OK;
	}
	/* Strings and blobs: <value> is the length, and the stored form
	 * (type byte + data) must fit one kv value. */
	if (v < 1 || v > ESPAT_KV_VALUE_MAX - 1)
		return espat_fail(E(m), ESPAT_ERR_INVALID(4));
	data_reset(b);
	b->data_buf = malloc((size_t)v + 1);
	if (!b->data_buf)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	b->data_buf[0] = (uint8_t)type;
	b->data_len = (uint32_t)v + 1;
	b->data_done = 1;
	b->data_op = ESPAT_DOP_MFG_WRITE;
	memcpy(b->data_ns, ns, sizeof(ns));
	memcpy(b->data_key, key, sizeof(key));
	espat_engine_expect_data(E(m), (size_t)v, mfg_write_data);
	/* OK, then ">" (the esp-at AT+SYSMFG examples show "OK" and ">"
	 * before the data, and lwesp waits for a second OK after it). */
	return ESPAT_RC_OK_PROMPT;
}

enum espat_rc espat_sysmfg_set(struct espat_module *m, const struct espat_args *a)
{
	size_t n = given(a);
	switch (a->v[0].i) {
	case 0:
		return mfg_erase(m, a, n);
	case 1:
		return mfg_read(m, a, n);
	default:
		return mfg_write(m, a, n);
	}
}

/* ---- factory data ------------------------------------------------------------- */

struct mfg_seed {
	const char *key;
	uint8_t type;
	int64_t num;     /* types 1..6 */
	const char *str; /* type 7 */
};

/* factory_param of an ESP32-C3-MINI-1 (esp-at factory_param_data.csv,
 * PLATFORM_ESP32C3,MINI-1: version 4, max_tx_power 78, uart_port 1,
 * channels 1..13, CN, 115200, TX 7 RX 6 CTS 5 RTS 4), with the types the
 * esp-at AT+SYSMFG examples list. The baud rate follows --baud. */
static void seed_factory_param(struct espat_module *m)
{
	const struct mfg_seed seed[] = {
	    {"version", ESPAT_MFG_I8, 4, NULL},
	    {"module_name", ESPAT_MFG_STR, 0, m->basic->fw->module_name},
	    {"max_tx_power", ESPAT_MFG_I8, 78, NULL},
	    {"country_code", ESPAT_MFG_STR, 0, "CN"},
	    {"start_channel", ESPAT_MFG_U8, 1, NULL},
	    {"channel_num", ESPAT_MFG_U8, 13, NULL},
	    {"uart_port", ESPAT_MFG_I8, 1, NULL},
	    {"uart_baudrate", ESPAT_MFG_I32, m->opts.factory_baud, NULL},
	    {"uart_tx_pin", ESPAT_MFG_I32, 7, NULL},
	    {"uart_rx_pin", ESPAT_MFG_I32, 6, NULL},
	    {"uart_cts_pin", ESPAT_MFG_I32, 5, NULL},
	    {"uart_rts_pin", ESPAT_MFG_I32, 4, NULL},
	    {"sys_store", ESPAT_MFG_U8, 1, NULL},
	};
	const struct espat_kv *kv = &m->ports.mfg;
	for (size_t i = 0; i < sizeof(seed) / sizeof(seed[0]); i++) {
		uint8_t buf[1 + 32];
		size_t len;
		buf[0] = seed[i].type;
		if (seed[i].type == ESPAT_MFG_STR) {
			len = strlen(seed[i].str);
			if (len > sizeof(buf) - 1)
				len = sizeof(buf) - 1;
			memcpy(buf + 1, seed[i].str, len);
		} else {
			len = int_encode(seed[i].type, seed[i].num, buf + 1);
		}
		kv->set(kv->user, "factory_param", seed[i].key, buf, 1 + len);
	}
}

/* The project's factory test PKI (pki/factory, generated by
 * scripts/gen_pki.sh) as binary values, the way mfg_nvs.py stores files. */
static void seed_factory_pki(struct espat_module *m)
{
	const struct espat_kv *kv = &m->ports.mfg;
	for (size_t i = 0; i < espat_factory_pki_len; i++) {
		const struct espat_pki_entry *e = &espat_factory_pki[i];
		uint8_t *buf = malloc(1 + e->len);
		if (!buf)
			return;
		buf[0] = ESPAT_MFG_BLOB;
		memcpy(buf + 1, e->pem, e->len);
		kv->set(kv->user, e->ns, e->key, buf, 1 + e->len);
		free(buf);
	}
}

/* The default GATT service table (cmd/ble.h), one AT+SYSMFG string per
 * row, as esp-at's mfg_nvs.bin carries gatts_data.csv. */
static void seed_ble_data(struct espat_module *m)
{
	const struct espat_kv *kv = &m->ports.mfg;
	for (size_t i = 0; i < espat_ble_gatts_default_n; i++) {
		char key[16];
		uint8_t buf[64];
		size_t len = strlen(espat_ble_gatts_default[i]);
		snprintf(key, sizeof(key), "gatts_cfg%u", (unsigned)(uint8_t)i);
		buf[0] = ESPAT_MFG_STR;
		memcpy(buf + 1, espat_ble_gatts_default[i], len);
		kv->set(kv->user, ESPAT_BLE_DATA_NS, key, buf, 1 + len);
	}
}

/* A manufacturing NVS with nothing at all in it is a fresh device (or one
 * whose data dir was just created): it gets the factory image's
 * factory_param namespace and PKI, as mfg_nvs.bin would have brought. */
void espat_flash_boot(struct espat_module *m)
{
	if (ns_entries(m, NULL) == 0) {
		seed_factory_param(m);
		seed_factory_pki(m);
		seed_ble_data(m);
	}
}

/* ---- OTA slots, AT+SYSROLLBACK ----------------------------------------------- */

void espat_ota_load(struct espat_module *m, struct espat_ota_state *st)
{
	memset(st, 0, sizeof(*st));
	/* the factory image, whatever runs now */
	snprintf(st->version[0], sizeof(st->version[0]), "%s",
	         espat_basic_factory_fw()->at_version);
	const struct espat_kv *kv = &m->ports.nvs;
	char text[ESPAT_LINE_MAX];
	long n = kv->get(kv->user, ESPAT_OTA_NS, "state", (uint8_t *)text, sizeof(text));
	struct espat_args a;
	size_t bad = 0;
	if (n < 0 || (size_t)n > sizeof(text) ||
	    espat_args_parse(&a, text, (size_t)n, &bad) != ESPAT_TOK_OK || a.n != 3 ||
	    a.v[0].kind != ESPAT_ARG_INT || (a.v[0].i != 0 && a.v[0].i != 1))
		return;
	struct espat_ota_state s = {.running = (uint8_t)a.v[0].i};
	for (size_t i = 0; i < 2; i++) {
		const struct espat_arg *v = &a.v[1 + i];
		if (v->kind != ESPAT_ARG_STR || v->len >= ESPAT_OTA_VER_MAX)
			return;
		memcpy(s.version[i], v->s, v->len);
	}
	*st = s;
}

int espat_ota_save(struct espat_module *m, const struct espat_ota_state *st)
{
	char v0[2 * ESPAT_OTA_VER_MAX + 3], v1[2 * ESPAT_OTA_VER_MAX + 3];
	char text[ESPAT_LINE_MAX];
	if (!espat_args_quote(v0, sizeof(v0), st->version[0], strlen(st->version[0])) ||
	    !espat_args_quote(v1, sizeof(v1), st->version[1], strlen(st->version[1])))
		return -1;
	int n = snprintf(text, sizeof(text), "%u,%s,%s", (unsigned)st->running, v0, v1);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -1;
	const struct espat_kv *kv = &m->ports.nvs;
	return kv->set(kv->user, ESPAT_OTA_NS, "state", (const uint8_t *)text, (size_t)n);
}

/* Boots the firmware in the other OTA slot. With nothing there (no OTA
 * update ever ran) it is ERROR, as esp_ota_check_rollback_is_possible()
 * says no. The old slot keeps its firmware, so a second rollback returns. */
enum espat_rc espat_sysrollback_exec(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ota_state st;
	espat_ota_load(m, &st);
	uint8_t other = st.running ? 0 : 1;
	if (st.version[other][0] == 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	st.running = other;
	if (espat_ota_save(m, &st) != 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	espat_wr_ok(&m->wr);
	espat_module_restart(m, m->opts.restart_ms);
	return ESPAT_RC_DONE;
}
