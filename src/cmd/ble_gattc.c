/* The GATT client (guide 3.4.26-3.4.30): AT+BLEGATTCPRIMSRV, AT+BLEGATTCINCLSRV,
 * AT+BLEGATTCCHAR, AT+BLEGATTCRD, AT+BLEGATTCWR, and the +NOTIFY / +INDICATE
 * reports. Every procedure is real ATT: requests leave through the port's
 * att() at the link's next connection event, answers come back through
 * espat_ble_att_in() (ble_gatts.c hands the odd opcodes here). One request
 * is outstanding at a time (the engine runs one command; ATT allows one
 * per link); an answer that never comes ends the command in ERROR after
 * ATT's 30 s transaction timeout (Vol 3 Part F 3.3.3).
 *
 * What discovery found is kept per link: the services (AT+BLEGATTCPRIMSRV
 * numbers them from 1 in handle order, as the guide's examples show the
 * GATT and GAP services first) and the characteristics and descriptors of
 * each service discovered (AT+BLEGATTCCHAR, or quietly by RD/WR when they
 * need a handle). State in the ble family's slot (m->ble->gattc). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/ble.h"
#include "cmd/params.h"

#define E(m) (&(m)->eng)
#define SRV_MAX 32u       /* services a link's discovery keeps */
#define ENT_MAX 128u      /* characteristics and descriptors a link keeps */
#define ATT_TIMEOUT 30000 /* ms: an ATT transaction's timeout */

/* A discovered service. */
struct gattc_srv {
	uint16_t start, end;
	struct espat_att_uuid uuid;
	bool chars; /* its characteristics are discovered */
};

/* A discovered characteristic (desc 0: handle is its value's) or
 * descriptor (desc from 1), in handle order within its service. */
struct gattc_ent {
	uint8_t srv, chr, desc; /* AT indices */
	uint8_t prop;           /* a characteristic's properties */
	uint16_t handle;
	struct espat_att_uuid uuid;
};

struct gattc_link {
	bool prim; /* AT+BLEGATTCPRIMSRV ran */
	struct gattc_srv srv[SRV_MAX];
	size_t nsrv;
	struct gattc_ent ent[ENT_MAX];
	size_t nent;
};

enum gattc_proc {
	PROC_NONE,
	PROC_PRIM,  /* Read By Group Type of 0x2800 */
	PROC_INCL,  /* Read By Type of 0x2802 in a service */
	PROC_CHAR,  /* Read By Type of 0x2803 in a service */
	PROC_DESC,  /* Find Information after each characteristic */
	PROC_READ,  /* Read, then Read Blob while answers fill the MTU */
	PROC_WRITE, /* Write Request (or Command) */
};

struct espat_ble_gattc {
	struct gattc_link link[ESPAT_BLE_LINKS];
	/* the command running (one at a time) */
	enum gattc_proc proc;
	bool busy;   /* an AT command of this file waits for ATT */
	bool print;  /* CHAR prints what it found (not when RD/WR discover quietly) */
	size_t li;   /* its link */
	uint8_t srv; /* its service (AT index from 1) */
	uint8_t chr, desc;
	enum gattc_proc then; /* after a quiet discovery: READ or WRITE */
	uint16_t next, end;   /* the discovery's next start handle and its end */
	size_t di;            /* PROC_DESC: the entry whose descriptors are being found */
	uint8_t ndesc;        /* descriptors found for it so far */
	uint16_t handle;      /* READ / WRITE target */
	uint8_t wr_op;        /* WRITE_REQ or WRITE_CMD */
	uint8_t val[ESPAT_ATT_VALUE_MAX];
	size_t len, want; /* READ: bytes read; WRITE: bytes entered / <length> */
	uint8_t req[ESPAT_ATT_MTU_MAX];
	size_t req_len;
	bool sent;                  /* req left; its answer is awaited */
	struct espat_timer event;   /* the connection event that carries req */
	struct espat_timer timeout; /* ATT's transaction timer */
};

static struct espat_ble_gattc *C(struct espat_module *m)
{
	if (!m->ble->gattc)
		m->ble->gattc = calloc(1, sizeof(*m->ble->gattc));
	return m->ble->gattc;
}

void espat_ble_gattc_free(struct espat_module *m)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	if (!c)
		return;
	espat_timer_cancel(&m->timers, &c->event);
	espat_timer_cancel(&m->timers, &c->timeout);
	free(c);
	m->ble->gattc = NULL;
}

/* ---- the procedure's life ------------------------------------------------------- */

static void proc_end(struct espat_module *m, enum espat_rc rc)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	espat_timer_cancel(&m->timers, &c->event);
	espat_timer_cancel(&m->timers, &c->timeout);
	c->proc = PROC_NONE;
	c->sent = false;
	if (c->busy) {
		c->busy = false;
		espat_engine_complete(E(m),
		                      rc == ESPAT_RC_OK ? rc : espat_fail(E(m), ESPAT_ERR_EXEC));
	}
}

static void on_timeout(void *user)
{
	proc_end(user, ESPAT_RC_ERROR);
}

/* The connection event: the request goes to the peer; its answer may come
 * back before port.att returns (a scripted peer answers at once). */
static void on_event(void *user)
{
	struct espat_module *m = user;
	struct espat_ble_gattc *c = m->ble->gattc;
	const struct espat_ble_link *l = &m->ble->link[c->li];
	c->sent = true;
	espat_timer_arm(&m->timers, &c->timeout, espat_module_now(m) + ATT_TIMEOUT, on_timeout, m);
	if (c->wr_op == ESPAT_ATT_WRITE_CMD && c->proc == PROC_WRITE) {
		/* a command has no answer: done once it is on the air */
		if (m->ports.ble.att)
			m->ports.ble.att(m->ports.ble.user, l->addr, c->req, c->req_len);
		proc_end(m, ESPAT_RC_OK);
		return;
	}
	if (m->ports.ble.att)
		m->ports.ble.att(m->ports.ble.user, l->addr, c->req, c->req_len);
}

/* Queues request q for the link's next connection event. */
static bool request(struct espat_module *m, const struct espat_att_pdu *q)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	const struct espat_ble_link *l = &m->ble->link[c->li];
	c->req_len = espat_att_encode(q, l->mtu, c->req, sizeof(c->req));
	if (c->req_len == 0)
		return false;
	c->sent = false;
	uint64_t event = ((uint64_t)l->interval * 5 + 3) / 4; /* 1.25 ms units, rounded up */
	espat_timer_arm(&m->timers, &c->event, espat_module_now(m) + event, on_event, m);
	return true;
}

static void fail(struct espat_module *m)
{
	proc_end(m, ESPAT_RC_ERROR);
}

/* ---- discovery -------------------------------------------------------------- */

/* The discovery's next request over [c->next, c->end]: Read By Group
 * Type or Read By Type of `type`, or Find Information. */
static void ask_range(struct espat_module *m, uint8_t op, uint16_t type)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	struct espat_att_pdu q = {
	    .op = op, .start = c->next, .end = c->end, .type = espat_att_uuid16(type)};
	if (!request(m, &q))
		fail(m);
}

static void prim_next(struct espat_module *m)
{
	ask_range(m, ESPAT_ATT_READ_BY_GROUP_REQ, ESPAT_GATT_PRIMARY);
}

static void incl_next(struct espat_module *m)
{
	ask_range(m, ESPAT_ATT_READ_BY_TYPE_REQ, ESPAT_GATT_INCLUDE);
}

static void char_next(struct espat_module *m)
{
	ask_range(m, ESPAT_ATT_READ_BY_TYPE_REQ, ESPAT_GATT_CHAR);
}

static void desc_next(struct espat_module *m)
{
	ask_range(m, ESPAT_ATT_FIND_INFO_REQ, 0);
}

static void rw_go(struct espat_module *m, enum gattc_proc p);

static void prim_done(struct espat_module *m)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	struct gattc_link *k = &c->link[c->li];
	k->prim = true;
	if (c->then != PROC_NONE) { /* a quiet discovery for RD / WR (COMPAT #434) */
		if (c->srv > k->nsrv)
			fail(m);
		else
			rw_go(m, c->then);
		return;
	}
	for (size_t i = 0; i < k->nsrv; i++) {
		char u[35];
		espat_wr_linef(&m->wr, "+BLEGATTCPRIMSRV:%zu,%zu,%s,1", c->li, i + 1,
		               espat_ble_uuid_str(&k->srv[i].uuid, u));
	}
	proc_end(m, ESPAT_RC_OK);
}

static void prim_answer(struct espat_module *m, const struct espat_att_pdu *r)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	struct gattc_link *k = &c->link[c->li];
	if (r->op == ESPAT_ATT_ERROR_RSP) {
		if (r->err == ESPAT_ATT_E_NOT_FOUND)
			prim_done(m);
		else
			fail(m);
		return;
	}
	if (r->op != ESPAT_ATT_READ_BY_GROUP_RSP) {
		fail(m);
		return;
	}
	struct espat_att_item it;
	uint16_t last = 0;
	for (size_t i = 0; espat_att_item(r, i, &it); i++) {
		if (it.handle < c->next || it.end < it.handle || (it.len != 2 && it.len != 16)) {
			fail(m); /* going backwards, or not a UUID: a broken server */
			return;
		}
		if (k->nsrv < SRV_MAX) {
			struct gattc_srv *s = &k->srv[k->nsrv++];
			*s = (struct gattc_srv){.start = it.handle, .end = it.end};
			s->uuid.len = (uint8_t)it.len;
			memcpy(s->uuid.b, it.data, it.len);
		}
		last = it.end;
	}
	if (last == 0xffff || last == 0) {
		prim_done(m);
		return;
	}
	c->next = (uint16_t)(last + 1);
	prim_next(m);
}

/* +BLEGATTCINCLSRV:<conn_index>,<srv_index>,<srv_uuid>,<srv_type>,
 * <included_srv_uuid>,<included_srv_type> [000:7891-7899]. An include
 * carries its service's UUID only when it is 16-bit (Vol 3 Part G 3.2);
 * a 128-bit one is printed empty; the included service is primary (1)
 * when AT+BLEGATTCPRIMSRV found it, else secondary (0) (COMPAT #434). */
static void incl_answer(struct espat_module *m, const struct espat_att_pdu *r)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	const struct gattc_srv *s = &c->link[c->li].srv[c->srv - 1];
	if (r->op == ESPAT_ATT_ERROR_RSP) {
		if (r->err == ESPAT_ATT_E_NOT_FOUND)
			proc_end(m, ESPAT_RC_OK);
		else
			fail(m);
		return;
	}
	struct espat_att_item it;
	uint16_t last = c->next;
	for (size_t i = 0; r->op == ESPAT_ATT_READ_BY_TYPE_RSP && espat_att_item(r, i, &it); i++) {
		char u[35], iu[35] = "";
		if (it.len == 6) {
			struct espat_att_uuid x = {.len = 2, .b = {it.data[4], it.data[5]}};
			espat_ble_uuid_str(&x, iu);
		}
		/* primary when it is one of the primary services discovery found */
		unsigned primary = 0;
		uint16_t start = it.len >= 4 ? (uint16_t)(it.data[0] | (it.data[1] << 8)) : 0;
		for (size_t j = 0; j < c->link[c->li].nsrv; j++)
			primary |= c->link[c->li].srv[j].start == start;
		espat_wr_linef(&m->wr, "+BLEGATTCINCLSRV:%zu,%u,%s,1,%s,%u", c->li, c->srv,
		               espat_ble_uuid_str(&s->uuid, u), iu, primary);
		last = it.handle;
	}
	if (r->op != ESPAT_ATT_READ_BY_TYPE_RSP || last >= c->end) {
		proc_end(m, r->op == ESPAT_ATT_READ_BY_TYPE_RSP ? ESPAT_RC_OK : ESPAT_RC_ERROR);
		return;
	}
	c->next = (uint16_t)(last + 1);
	incl_next(m);
}

static void chars_found(struct espat_module *m);

/* The range of the descriptors of characteristic entry i: after its value,
 * up to the next characteristic's declaration or the service's end. */
static bool desc_range(struct espat_ble_gattc *c, size_t i, uint16_t *from, uint16_t *to)
{
	const struct gattc_link *k = &c->link[c->li];
	const struct gattc_ent *e = &k->ent[i];
	uint16_t end = k->srv[e->srv - 1].end;
	for (size_t j = i + 1; j < k->nent; j++)
		if (k->ent[j].srv == e->srv && k->ent[j].desc == 0) {
			end = (uint16_t)(k->ent[j].handle - 2);
			break;
		}
	*from = (uint16_t)(e->handle + 1);
	*to = end;
	return e->handle < end;
}

/* The next characteristic (from entry c->di) with room for descriptors. */
static void desc_step(struct espat_module *m)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	struct gattc_link *k = &c->link[c->li];
	for (; c->di < k->nent; c->di++) {
		const struct gattc_ent *e = &k->ent[c->di];
		if (e->srv != c->srv || e->desc != 0)
			continue;
		uint16_t from, to;
		if (desc_range(c, c->di, &from, &to)) {
			c->next = from;
			c->end = to;
			c->ndesc = 0;
			desc_next(m);
			return;
		}
	}
	chars_found(m);
}

static void char_answer(struct espat_module *m, const struct espat_att_pdu *r)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	struct gattc_link *k = &c->link[c->li];
	if (r->op == ESPAT_ATT_ERROR_RSP) {
		if (r->err != ESPAT_ATT_E_NOT_FOUND) {
			fail(m);
			return;
		}
		c->proc = PROC_DESC;
		c->di = 0;
		desc_step(m);
		return;
	}
	struct espat_att_item it;
	uint16_t last = c->next;
	for (size_t i = 0; r->op == ESPAT_ATT_READ_BY_TYPE_RSP && espat_att_item(r, i, &it); i++) {
		if (it.len != 5 && it.len != 19)
			continue; /* not a declaration */
		uint8_t chr = 1;
		for (size_t j = 0; j < k->nent; j++)
			chr = (uint8_t)(k->ent[j].srv == c->srv && k->ent[j].desc == 0 ? chr + 1
			                                                               : chr);
		if (k->nent < ENT_MAX) {
			struct gattc_ent *e = &k->ent[k->nent++];
			*e = (struct gattc_ent){.srv = c->srv,
			                        .chr = chr,
			                        .prop = it.data[0],
			                        .handle =
			                            (uint16_t)(it.data[1] | (it.data[2] << 8))};
			e->uuid.len = (uint8_t)(it.len - 3);
			memcpy(e->uuid.b, it.data + 3, e->uuid.len);
		}
		last = it.handle;
	}
	if (r->op != ESPAT_ATT_READ_BY_TYPE_RSP) {
		fail(m);
		return;
	}
	if (last >= c->end) {
		c->proc = PROC_DESC;
		c->di = 0;
		desc_step(m);
		return;
	}
	c->next = (uint16_t)(last + 1);
	char_next(m);
}

/* Keeps the link's entries in handle order, so a characteristic's
 * descriptors follow it. */
static void ent_insert(struct gattc_link *k, const struct gattc_ent *e)
{
	if (k->nent == ENT_MAX)
		return;
	size_t i = k->nent;
	while (i > 0 && k->ent[i - 1].handle > e->handle) {
		k->ent[i] = k->ent[i - 1];
		i--;
	}
	k->ent[i] = *e;
	k->nent++;
}

static void desc_answer(struct espat_module *m, const struct espat_att_pdu *r)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	struct gattc_link *k = &c->link[c->li];
	if (r->op == ESPAT_ATT_ERROR_RSP || r->op != ESPAT_ATT_FIND_INFO_RSP) {
		if (r->op == ESPAT_ATT_ERROR_RSP && r->err == ESPAT_ATT_E_NOT_FOUND) {
			c->di++;
			desc_step(m);
		} else {
			fail(m);
		}
		return;
	}
	struct gattc_ent owner = k->ent[c->di];
	struct espat_att_item it;
	uint16_t last = c->next;
	for (size_t i = 0; espat_att_item(r, i, &it); i++) {
		if (it.handle < c->next || it.handle > c->end)
			continue;
		struct gattc_ent d = {.srv = owner.srv,
		                      .chr = owner.chr,
		                      .desc = ++c->ndesc,
		                      .handle = it.handle,
		                      .uuid = it.uuid};
		ent_insert(k, &d);
		last = it.handle;
	}
	/* the owner moved by nothing (descriptors come after it); the next
	 * characteristic is past the ones just added */
	if (last >= c->end) {
		while (c->di < k->nent && k->ent[c->di].handle <= c->end)
			c->di++;
		desc_step(m);
		return;
	}
	c->next = (uint16_t)(last + 1);
	desc_next(m);
}

static void rw_start(struct espat_module *m);

/* The service's characteristics and descriptors are known: print them
 * (AT+BLEGATTCCHAR) or go on with the read or write that needed them. */
static void chars_found(struct espat_module *m)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	struct gattc_link *k = &c->link[c->li];
	k->srv[c->srv - 1].chars = true;
	if (c->then != PROC_NONE) {
		rw_start(m);
		return;
	}
	for (size_t i = 0; c->print && i < k->nent; i++) {
		const struct gattc_ent *e = &k->ent[i];
		char u[35];
		if (e->srv != c->srv)
			continue;
		if (e->desc == 0)
			espat_wr_linef(&m->wr, "+BLEGATTCCHAR:\"char\",%zu,%u,%u,%s,0x%02X", c->li,
			               e->srv, e->chr, espat_ble_uuid_str(&e->uuid, u), e->prop);
		else
			espat_wr_linef(&m->wr, "+BLEGATTCCHAR:\"desc\",%zu,%u,%u,%u,%s", c->li,
			               e->srv, e->chr, e->desc, espat_ble_uuid_str(&e->uuid, u));
	}
	proc_end(m, ESPAT_RC_OK);
}

/* Discovers service c->srv's characteristics (forgetting earlier ones). */
static void chars_discover(struct espat_module *m)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	struct gattc_link *k = &c->link[c->li];
	size_t w = 0;
	for (size_t i = 0; i < k->nent; i++)
		if (k->ent[i].srv != c->srv)
			k->ent[w++] = k->ent[i];
	k->nent = w;
	k->srv[c->srv - 1].chars = false;
	c->proc = PROC_CHAR;
	c->next = k->srv[c->srv - 1].start;
	c->end = k->srv[c->srv - 1].end;
	char_next(m);
}

/* ---- read and write --------------------------------------------------------- */

static const struct gattc_ent *ent_find(const struct gattc_link *k, uint8_t srv, uint8_t chr,
                                        uint8_t desc)
{
	for (size_t i = 0; i < k->nent; i++)
		if (k->ent[i].srv == srv && k->ent[i].chr == chr && k->ent[i].desc == desc)
			return &k->ent[i];
	return NULL;
}

static void rw_start(struct espat_module *m)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	const struct gattc_ent *e = ent_find(&c->link[c->li], c->srv, c->chr, c->desc);
	enum gattc_proc p = c->then;
	c->then = PROC_NONE;
	if (!e) {
		fail(m);
		return;
	}
	c->handle = e->handle;
	c->proc = p;
	if (p == PROC_READ) {
		/* the guide: the characteristic must be readable [000:8015] */
		if (c->desc == 0 && !(e->prop & ESPAT_GATT_PROP_READ)) {
			fail(m);
			return;
		}
		c->len = 0;
		struct espat_att_pdu q = {.op = ESPAT_ATT_READ_REQ, .handle = c->handle};
		if (!request(m, &q))
			fail(m);
		return;
	}
	/* a characteristic that only has write-without-response gets a command */
	c->wr_op = c->desc == 0 && !(e->prop & ESPAT_GATT_PROP_WRITE) ? ESPAT_ATT_WRITE_CMD
	                                                              : ESPAT_ATT_WRITE_REQ;
	if (c->desc == 0 && !(e->prop & (ESPAT_GATT_PROP_WRITE | ESPAT_GATT_PROP_WRITE_NR))) {
		fail(m); /* not writable [000:8069] */
		return;
	}
	struct espat_att_pdu q = {
	    .op = c->wr_op, .handle = c->handle, .value = c->val, .value_len = c->want};
	if (!request(m, &q))
		fail(m);
}

/* +BLEGATTCRD:<conn_index>,<len>,<value> with the raw bytes [000:7989-8010]. */
static void read_answer(struct espat_module *m, const struct espat_att_pdu *r)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	if (r->op != ESPAT_ATT_READ_RSP && r->op != ESPAT_ATT_READ_BLOB_RSP) {
		/* a blob read of a value that is not long ends it; any other error fails */
		if (r->op == ESPAT_ATT_ERROR_RSP && r->req_op == ESPAT_ATT_READ_BLOB_REQ &&
		    (r->err == ESPAT_ATT_E_NOT_LONG || r->err == ESPAT_ATT_E_INVALID_OFFSET))
			goto done;
		fail(m);
		return;
	}
	size_t room = sizeof(c->val) - c->len, k = r->value_len < room ? r->value_len : room;
	memcpy(c->val + c->len, r->value, k);
	c->len += k;
	/* a full answer may mean more: Read Blob from where it stopped (Vol 3 Part G 4.8.3) */
	size_t mtu = m->ble->link[c->li].mtu;
	if (r->value_len == mtu - 1 && c->len < sizeof(c->val)) {
		struct espat_att_pdu q = {
		    .op = ESPAT_ATT_READ_BLOB_REQ, .handle = c->handle, .offset = (uint16_t)c->len};
		if (!request(m, &q))
			fail(m);
		return;
	}
done:;
	char head[32];
	int hl = snprintf(head, sizeof(head), "+BLEGATTCRD:%zu,%zu,", c->li, c->len);
	uint8_t line[sizeof(head) + ESPAT_ATT_VALUE_MAX + 2];
	memcpy(line, head, (size_t)hl);
	memcpy(line + hl, c->val, c->len);
	memcpy(line + hl + c->len, "\r\n", 2);
	espat_wr_msg(&m->wr, line, (size_t)hl + c->len + 2);
	proc_end(m, ESPAT_RC_OK);
}

static void write_answer(struct espat_module *m, const struct espat_att_pdu *r)
{
	proc_end(m, r->op == ESPAT_ATT_WRITE_RSP ? ESPAT_RC_OK : ESPAT_RC_ERROR);
}

/* ---- what the peer sends ------------------------------------------------------- */

/* +NOTIFY / +INDICATE:<conn_index>,<srv_index>,<char_index>,<len>,<value>
 * (raw bytes) with the indices discovery gave [000:14392, 14868]; a value
 * of a characteristic not discovered on this link is not reported (COMPAT
 * #433). An indication is confirmed either way. */
static void value_in(struct espat_module *m, size_t li, const struct espat_att_pdu *p)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	const struct gattc_ent *e = NULL;
	for (size_t i = 0; c && i < c->link[li].nent; i++)
		if (c->link[li].ent[i].handle == p->handle && c->link[li].ent[i].desc == 0)
			e = &c->link[li].ent[i];
	if (e && !espat_ble_spp_value_in(m, li, e->srv, e->chr, p->value, p->value_len)) {
		char head[48];
		int hl = snprintf(head, sizeof(head), "+%s:%zu,%u,%u,%zu,",
		                  p->op == ESPAT_ATT_NOTIFY ? "NOTIFY" : "INDICATE", li, e->srv,
		                  e->chr, p->value_len);
		uint8_t line[sizeof(head) + ESPAT_ATT_MTU_MAX + 2];
		memcpy(line, head, (size_t)hl);
		memcpy(line + hl, p->value, p->value_len);
		memcpy(line + hl + p->value_len, "\r\n", 2);
		espat_wr_report(&m->wr, line, (size_t)hl + p->value_len + 2);
	}
	if (p->op == ESPAT_ATT_INDICATE && m->ports.ble.att) {
		const uint8_t confirm = ESPAT_ATT_CONFIRM;
		m->ports.ble.att(m->ports.ble.user, m->ble->link[li].addr, &confirm, 1);
	}
}

void espat_ble_gattc_in(struct espat_module *m, size_t link, const uint8_t *pdu, size_t len)
{
	struct espat_att_pdu p;
	if (espat_att_decode(pdu, len, &p) != ESPAT_ATT_OK)
		return; /* a client ignores what it cannot read; the timeout ends a procedure */
	if (p.op == ESPAT_ATT_NOTIFY || p.op == ESPAT_ATT_INDICATE) {
		value_in(m, link, &p);
		return;
	}
	struct espat_ble_gattc *c = m->ble->gattc;
	if (!c || c->proc == PROC_NONE || !c->sent || c->li != link) {
		/* not a command's: SPP's writes, or an answer nobody asked for */
		if (p.op == ESPAT_ATT_WRITE_RSP || p.op == ESPAT_ATT_ERROR_RSP)
			espat_ble_spp_answer(m, link, &p);
		return;
	}
	c->sent = false;
	espat_timer_cancel(&m->timers, &c->timeout);
	switch (c->proc) {
	case PROC_PRIM:
		prim_answer(m, &p);
		break;
	case PROC_INCL:
		incl_answer(m, &p);
		break;
	case PROC_CHAR:
		char_answer(m, &p);
		break;
	case PROC_DESC:
		desc_answer(m, &p);
		break;
	case PROC_READ:
		read_answer(m, &p);
		break;
	case PROC_WRITE:
		write_answer(m, &p);
		break;
	case PROC_NONE:
		break;
	}
}

void espat_ble_gattc_link_down(struct espat_module *m, size_t link, bool report)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	if (!c)
		return;
	memset(&c->link[link], 0, sizeof(c->link[link]));
	if (c->proc != PROC_NONE && c->li == link) {
		if (!report)
			c->busy = false; /* deinit or restart: the engine is not waiting */
		proc_end(m, ESPAT_RC_ERROR);
	}
}

/* ---- the commands ---------------------------------------------------------------- */

/* The link must be up and no GATT client command running. */
static enum espat_rc start(struct espat_module *m, int64_t link)
{
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_gattc *c = C(m);
	if (!c || !m->ble->link[link].up || c->proc != PROC_NONE)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	c->li = (size_t)link;
	c->print = true;
	c->then = PROC_NONE;
	return ESPAT_RC_OK;
}

/* After a handler started a procedure: the command waits for it, or (the
 * first request could not be built) fails now. Nothing completes inside
 * the handler: requests leave at a later connection event. */
static enum espat_rc launched(struct espat_module *m)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	if (c->proc == PROC_NONE)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	c->busy = true;
	return ESPAT_RC_PENDING;
}

static const struct espat_param p_conn[] = {
    P_INT("conn_index", 0, ESPAT_BLE_LINKS - 1),
};

static enum espat_rc primsrv_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = start(m, a->v[0].i);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_gattc *c = m->ble->gattc;
	/* a new discovery: what an earlier one found goes */
	memset(&c->link[c->li], 0, sizeof(c->link[c->li]));
	c->proc = PROC_PRIM;
	c->next = 1;
	c->end = 0xffff;
	prim_next(m);
	return launched(m);
}

static const struct espat_param p_srv[] = {
    P_INT("conn_index", 0, ESPAT_BLE_LINKS - 1),
    P_INT("srv_index", 1, SRV_MAX),
};

/* The service must be one AT+BLEGATTCPRIMSRV found on that link; for a
 * read or a write (`quiet`), a link whose services were never discovered
 * is discovered quietly first, and the index checked then. */
static enum espat_rc need_srv(struct espat_module *m, const struct espat_args *a, bool quiet)
{
	enum espat_rc rc = start(m, a->v[0].i);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_gattc *c = m->ble->gattc;
	const struct gattc_link *k = &c->link[c->li];
	if ((!k->prim && !quiet) || (k->prim && (size_t)a->v[1].i > k->nsrv))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	c->srv = (uint8_t)a->v[1].i;
	return ESPAT_RC_OK;
}

static enum espat_rc inclsrv_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = need_srv(m, a, false);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_gattc *c = m->ble->gattc;
	c->proc = PROC_INCL;
	c->next = c->link[c->li].srv[c->srv - 1].start;
	c->end = c->link[c->li].srv[c->srv - 1].end;
	incl_next(m);
	return launched(m);
}

static enum espat_rc char_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = need_srv(m, a, false);
	if (rc != ESPAT_RC_OK)
		return rc;
	chars_discover(m);
	return launched(m);
}

/* The read or write of (srv, char, desc): at once when discovery knows
 * the handle, after a quiet discovery of the service when it does not. */
static void rw_go(struct espat_module *m, enum gattc_proc p)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	c->then = p;
	if (!c->link[c->li].prim) {
		c->proc = PROC_PRIM;
		c->next = 1;
		c->end = 0xffff;
		prim_next(m);
	} else if (c->link[c->li].srv[c->srv - 1].chars)
		rw_start(m);
	else
		chars_discover(m);
}

static const struct espat_param p_rd[] = {
    P_INT("conn_index", 0, ESPAT_BLE_LINKS - 1),
    P_INT("srv_index", 1, SRV_MAX),
    P_INT("char_index", 1, 255),
    P_INT_OPT("desc_index", 1, 255),
};

static enum espat_rc rd_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = need_srv(m, a, true);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_gattc *c = m->ble->gattc;
	c->chr = (uint8_t)a->v[2].i;
	c->desc = a->n > 3 && a->v[3].kind != ESPAT_ARG_OMITTED ? (uint8_t)a->v[3].i : 0;
	rw_go(m, PROC_READ);
	return launched(m);
}

static const struct espat_param p_wr[] = {
    P_INT("conn_index", 0, ESPAT_BLE_LINKS - 1),
    P_INT("srv_index", 1, SRV_MAX),
    P_INT("char_index", 1, 255),
    P_INT_OPT("desc_index", 1, 255),
    P_INT("length", 1, ESPAT_ATT_VALUE_MAX),
};

static enum espat_rc wr_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	size_t k = n < c->want - c->len ? n : c->want - c->len;
	memcpy(c->val + c->len, p, k);
	c->len += k;
	if (!last)
		return ESPAT_RC_PENDING;
	if (!m->ble->link[c->li].up)
		return espat_fail(E(m), ESPAT_ERR_EXEC); /* the link went while the data came */
	rw_go(m, PROC_WRITE);
	return launched(m);
}

/* `>` and <length> bytes, then the write; OK when the server answered (or,
 * for a write without response, when it left). <length> at most
 * ATT_MTU - 3: no long writes (COMPAT #432). */
static enum espat_rc wr_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = need_srv(m, a, true);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_gattc *c = m->ble->gattc;
	size_t want = (size_t)a->v[4].i;
	if (want > espat_att_value_room(ESPAT_ATT_WRITE_REQ, m->ble->link[c->li].mtu))
		return espat_fail(E(m), ESPAT_ERR_INVALID(4));
	c->chr = (uint8_t)a->v[2].i;
	c->desc = a->v[3].kind != ESPAT_ARG_OMITTED ? (uint8_t)a->v[3].i : 0;
	c->want = want;
	c->len = 0;
	espat_engine_expect_data(E(m), want, wr_data);
	return ESPAT_RC_PROMPT;
}

/* ---- what SPP needs (ble_spp.c) ------------------------------------------------ */

bool espat_ble_gattc_char(struct espat_module *m, size_t link, uint8_t srv, uint8_t chr,
                          uint16_t *handle, uint8_t *prop, uint16_t *cccd)
{
	struct espat_ble_gattc *c = m->ble->gattc;
	if (!c)
		return false;
	const struct gattc_link *k = &c->link[link];
	const struct gattc_ent *e = ent_find(k, srv, chr, 0);
	if (!e)
		return false;
	*handle = e->handle;
	*prop = e->prop;
	*cccd = 0;
	for (const struct gattc_ent *d = e + 1;
	     d < k->ent + k->nent && d->srv == srv && d->chr == chr; d++) {
		struct espat_att_uuid u = espat_att_uuid16(ESPAT_GATT_CCCD);
		if (espat_att_uuid_eq(&d->uuid, &u))
			*cccd = d->handle;
	}
	return true;
}

static const struct espat_cmd gattc_rows[] = {
    {.name = "+BLEGATTCPRIMSRV",
     .set = primsrv_set,
     .params = p_conn,
     .nparams = N(p_conn),
     .help = "GATTC discovers primary services"},
    {.name = "+BLEGATTCINCLSRV",
     .set = inclsrv_set,
     .params = p_srv,
     .nparams = N(p_srv),
     .help = "GATTC discovers included services"},
    {.name = "+BLEGATTCCHAR",
     .set = char_set,
     .params = p_srv,
     .nparams = N(p_srv),
     .help = "GATTC discovers characteristics"},
    {.name = "+BLEGATTCRD",
     .set = rd_set,
     .params = p_rd,
     .nparams = N(p_rd),
     .help = "GATTC reads a characteristic"},
    {.name = "+BLEGATTCWR",
     .set = wr_set,
     .params = p_wr,
     .nparams = N(p_wr),
     .help = "GATTC writes characteristics"},
};

static const struct espat_cmd_table gattc_table = {
    .family = "ble_gattc",
    .rows = gattc_rows,
    .n = sizeof(gattc_rows) / sizeof(gattc_rows[0]),
};

/* No state slot of its own: the client lives in the ble family's, which
 * frees it (espat_ble_gattc_free). */
const struct espat_family espat_ble_gattc_family = {
    .name = "ble_gattc",
    .table = &gattc_table,
};
