/* The encryption start procedure: see ll_enc.h. */
#include "proto/ll_enc.h"

#include <string.h>

enum { S_IDLE, S_WAIT_RSP, S_WAIT_START, S_WAIT_START_RSP };

void espat_ll_enc_init(struct espat_ll_enc *e, const struct espat_smp_crypto *c,
                       struct espat_ll_enc_ops ops, bool central)
{
	memset(e, 0, sizeof(*e));
	e->c = c;
	e->ops = ops;
	e->central = central;
}

bool espat_ll_enc_busy(const struct espat_ll_enc *e)
{
	return e->state != S_IDLE;
}

static void finish(struct espat_ll_enc *e, enum espat_ll_enc_end end)
{
	e->state = S_IDLE;
	e->ops.done(e->ops.user, end);
}

/* SK = e(LTK, SKD), SKD = SKDs || SKDm (SKDm the least significant half),
 * the key most significant first as the toolbox takes it. */
static void session_key(struct espat_ll_enc *e)
{
	uint8_t key[16], skd[16];
	espat_smp_swap(key, e->ltk, 16);
	espat_smp_swap(skd, e->skds, 8);
	espat_smp_swap(skd + 8, e->skdm, 8);
	e->c->aes(e->c->user, key, skd, e->sk);
}

static void mic(const struct espat_ll_enc *e, uint8_t out[4])
{
	static const uint8_t zero[16];
	uint8_t b[16];
	e->c->aes(e->c->user, e->sk, zero, b);
	memcpy(out, b, 4);
}

static void send(struct espat_ll_enc *e, const uint8_t *p, size_t n)
{
	e->ops.send(e->ops.user, p, n);
}

bool espat_ll_enc_start(struct espat_ll_enc *e, const uint8_t ltk[16], uint16_t ediv,
                        const uint8_t rand[8])
{
	if (!e->central || e->state != S_IDLE)
		return false;
	memcpy(e->ltk, ltk, 16);
	uint8_t p[23] = {ESPAT_LL_ENC_REQ};
	memcpy(p + 1, rand, 8);
	p[9] = (uint8_t)(ediv & 0xff);
	p[10] = (uint8_t)(ediv >> 8);
	e->c->random(e->c->user, e->skdm, 8);
	memcpy(p + 11, e->skdm, 8);
	e->c->random(e->c->user, p + 19, 4); /* IVm: not used by the model */
	e->state = S_WAIT_RSP;
	send(e, p, sizeof(p));
	return true;
}

void espat_ll_enc_input(struct espat_ll_enc *e, const uint8_t *pdu, size_t len)
{
	if (len == 0)
		return;
	uint8_t m[5];
	switch (pdu[0]) {
	case ESPAT_LL_ENC_REQ: { /* peripheral */
		if (e->central || e->state != S_IDLE || len != 23)
			break;
		uint16_t ediv = (uint16_t)(pdu[9] | pdu[10] << 8);
		if (!e->ops.key(e->ops.user, ediv, pdu + 1, e->ltk)) {
			const uint8_t rej[3] = {ESPAT_LL_REJECT_EXT_IND, ESPAT_LL_ENC_REQ,
			                        ESPAT_LL_ENC_KEY_MISSING};
			send(e, rej, sizeof(rej));
			e->ops.done(e->ops.user,
			            ESPAT_LL_ENC_KEY_MISSING); /* both hosts hear of it */
			return;
		}
		memcpy(e->skdm, pdu + 11, 8);
		uint8_t rsp[13] = {ESPAT_LL_ENC_RSP};
		e->c->random(e->c->user, e->skds, 8);
		memcpy(rsp + 1, e->skds, 8);
		e->c->random(e->c->user, rsp + 9, 4);
		session_key(e);
		e->state = S_WAIT_START_RSP;
		send(e, rsp, sizeof(rsp));
		const uint8_t start = ESPAT_LL_START_ENC_REQ;
		send(e, &start, 1);
		return;
	}
	case ESPAT_LL_ENC_RSP:
		if (!e->central || e->state != S_WAIT_RSP || len != 13)
			break;
		memcpy(e->skds, pdu + 1, 8);
		session_key(e);
		e->state = S_WAIT_START;
		return;
	case ESPAT_LL_START_ENC_REQ:
		if (!e->central || e->state != S_WAIT_START || len != 1)
			break;
		m[0] = ESPAT_LL_START_ENC_RSP;
		mic(e, m + 1);
		e->state = S_WAIT_START_RSP;
		send(e, m, 5);
		return;
	case ESPAT_LL_START_ENC_RSP: {
		if (e->state != S_WAIT_START_RSP || len != 5)
			break;
		uint8_t want[4];
		mic(e, want);
		if (memcmp(want, pdu + 1, 4) != 0) {
			finish(e, ESPAT_LL_ENC_MIC_FAILURE);
			return;
		}
		if (!e->central) { /* the peripheral answers, encrypted */
			m[0] = ESPAT_LL_START_ENC_RSP;
			mic(e, m + 1);
			send(e, m, 5);
		}
		finish(e, ESPAT_LL_ENC_OK);
		return;
	}
	case ESPAT_LL_REJECT_EXT_IND:
		if (e->state == S_IDLE)
			return;
		finish(e, len >= 3 ? (enum espat_ll_enc_end)pdu[2] : ESPAT_LL_ENC_PROTOCOL);
		return;
	default:
		return; /* other LL control PDUs are not this procedure's */
	}
	if (e->state != S_IDLE)
		finish(e, ESPAT_LL_ENC_PROTOCOL);
}
