/* libFuzzer target: the Security Manager (src/proto/smp.c, smp_pair.c).
 * First the whole input as one PDU: the decoder must never read past it; a
 * PDU that decodes must encode back to the same bytes; the method two
 * decoded features select is one of the enum's. Then the input as a
 * sequence of PDUs (a length byte, then that many bytes) fed to a pairing
 * session of either role whose host answers every question at once: the
 * session must never send a PDU that does not decode, and never report
 * DONE twice for one pairing. The crypto is a cheap deterministic
 * stand-in: what is checked is the state machine, not the maths. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smp.h"
#include "proto/smp_pair.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static void fake_aes(void *user, const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
	(void)user;
	for (size_t i = 0; i < 16; i++)
		out[i] = (uint8_t)(in[i] ^ key[i] ^ (uint8_t)(i * 37));
}

static void fake_random(void *user, uint8_t *out, size_t n)
{
	(void)user;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(i * 13 + 7);
}

static bool fake_keypair(void *user, uint8_t priv[32], uint8_t pub[64])
{
	(void)user;
	memset(priv, 1, 32);
	memset(pub, 2, 64);
	return true;
}

/* a public key whose first byte is 0xff is "off the curve" */
static bool fake_dh(void *user, const uint8_t priv[32], const uint8_t peer[64], uint8_t dh[32])
{
	(void)user;
	(void)priv;
	memset(dh, 3, 32);
	return peer[0] != 0xff;
}

static const struct espat_smp_crypto FAKE = {
    .aes = fake_aes, .random = fake_random, .p256_keypair = fake_keypair, .p256_dh = fake_dh};

struct host {
	struct espat_smp_session *s;
	bool done;
};

static void on_send(void *user, const uint8_t *pdu, size_t len)
{
	(void)user;
	struct espat_smp_pdu p;
	CHECK(len <= ESPAT_SMP_MTU && espat_smp_decode(pdu, len, &p) == ESPAT_SMP_OK);
}

static void on_event(void *user, enum espat_smp_ev ev, uint32_t v)
{
	struct host *h = user;
	switch (ev) {
	case ESPAT_SMP_EV_DONE:
		CHECK(!h->done);
		h->done = true;
		break;
	case ESPAT_SMP_EV_DISPLAY:
	case ESPAT_SMP_EV_COMPARE:
		CHECK(v <= 999999);
		break;
	default:
		break;
	}
}

/* The host answers whatever it is asked (answers nothing asks are refused). */
static void answer(struct host *h, uint8_t how)
{
	espat_smp_accept(h->s, how & 1);
	espat_smp_passkey(h->s, how * 4099u % 1000000u);
	espat_smp_confirm(h->s, how & 2);
}

static void run_session(const uint8_t *data, size_t size)
{
	if (size < 2)
		return;
	struct espat_smp_session s;
	struct host h = {.s = &s};
	const struct espat_smp_features f = {.io = (uint8_t)(data[0] % 5),
	                                     .auth = data[1],
	                                     .key_size = 16,
	                                     .init_keys = 7,
	                                     .rsp_keys = 7};
	const uint8_t a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {6, 5, 4, 3, 2, 1};
	espat_smp_init(&s, &FAKE, (struct espat_smp_ops){on_send, on_event, &h},
	               (enum espat_smp_role)(data[0] & 1), &f, 0, a, 1, b);
	if (data[0] & 0x80)
		espat_smp_start(&s);
	for (size_t i = 2; i < size;) {
		size_t n = data[i++];
		if (n > size - i)
			n = size - i;
		bool was = espat_smp_busy(&s);
		espat_smp_input(&s, data + i, n);
		if (!was && espat_smp_busy(&s))
			h.done = false; /* a new pairing began */
		answer(&h, n ? data[i] : 0);
		i += n;
	}
	espat_smp_abort(&s, ESPAT_SMP_E_UNSPECIFIED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 256)
		return 0;
	/* A copy of exactly size bytes, so ASan sees any read past the PDU. */
	uint8_t *pdu = malloc(size ? size : 1);
	if (!pdu)
		return 0;
	memcpy(pdu, data, size);
	struct espat_smp_pdu p;
	if (espat_smp_decode(pdu, size, &p) == ESPAT_SMP_OK) {
		uint8_t out[ESPAT_SMP_MTU];
		size_t n = espat_smp_encode(&p, out, sizeof(out));
		CHECK(n == size && memcmp(out, pdu, n) == 0);
		CHECK(espat_smp_encode(&p, out, size - 1) == 0);
		if (p.code == ESPAT_SMP_PAIRING_REQ || p.code == ESPAT_SMP_PAIRING_RSP) {
			struct espat_smp_features other = p.feat;
			other.io = (uint8_t)((p.feat.io + 1) % 5);
			enum espat_smp_method m = espat_smp_method(&p.feat, &other);
			CHECK(m >= ESPAT_SMP_JUST_WORKS && m <= ESPAT_SMP_OOB);
			CHECK(m != ESPAT_SMP_NUMERIC || espat_smp_secure(&p.feat, &other));
		}
	}
	free(pdu);
	run_session(data, size);
	return 0;
}
