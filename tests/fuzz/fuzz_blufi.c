/* libFuzzer target: the BluFi codec (src/proto/blufi.c). The input's first
 * byte chooses the security (bit 0: both ends keyed with a fixed key) and
 * the ATT_MTU of the way back (the rest of it); then frames, each a length
 * byte and that many bytes, go into a receiving codec as a phone's writes.
 * Nothing may read past a frame; every whole message must go out again
 * through a sending codec (fragments of that MTU, checksummed, encrypted
 * when keyed) and come back through a third codec byte for byte; a NEG
 * message goes through the DH negotiation, whose public key, when there is
 * one, is as long as P. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/blufi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static struct espat_blufi_codec rx, tx, back;

static void echo(const struct espat_blufi_msg *m)
{
	size_t off = 0;
	struct espat_blufi_msg got = {0};
	enum espat_blufi_rc rc;
	uint8_t err;
	do {
		uint8_t f[ESPAT_BLUFI_FRAME_MAX];
		size_t n = espat_blufi_frame(&tx, m->type, m->data, m->len, &off, f);
		CHECK(n >= 4 && n <= ESPAT_BLUFI_FRAME_MAX);
		rc = espat_blufi_recv(&back, f, n, &got, &err, NULL, NULL);
		CHECK(rc == (off < m->len ? ESPAT_BLUFI_PART : ESPAT_BLUFI_MSG));
	} while (off < m->len);
	CHECK(got.type == m->type && got.len == m->len);
	CHECK(m->len == 0 || memcmp(got.data, m->data, m->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	espat_blufi_init(&rx);
	espat_blufi_init(&tx);
	espat_blufi_init(&back);
	bool keyed = data[0] & 1;
	espat_blufi_set_mtu(&tx, (uint16_t)(23 + (data[0] >> 1) * 4));
	tx.sec_mode = ESPAT_BLUFI_SEC_DATA_CHECK | ESPAT_BLUFI_SEC_CTRL_CHECK |
	              (keyed ? ESPAT_BLUFI_SEC_DATA_ENC : 0);
	if (keyed) {
		memset(rx.key, 0x5a, 16);
		memcpy(tx.key, rx.key, 16);
		memcpy(back.key, rx.key, 16);
		rx.keyed = tx.keyed = back.keyed = true;
	}
	for (size_t i = 1; i < size;) {
		size_t n = data[i++];
		if (n > size - i)
			n = size - i;
		/* a copy of exactly n bytes, so ASan sees any read past it */
		uint8_t *frame = malloc(n ? n : 1);
		if (!frame)
			return 0;
		memcpy(frame, data + i, n);
		i += n;
		/* the phone numbers its frames: give it the sequence the
		 * receiver expects half of the time, so deep paths are reached */
		if (n >= 3 && (frame[1] & 0x80))
			frame[2] = rx.recv_seq;
		struct espat_blufi_msg m;
		uint8_t err = 0xff, ack_seq;
		bool ack;
		enum espat_blufi_rc rc = espat_blufi_recv(&rx, frame, n, &m, &err, &ack, &ack_seq);
		free(frame);
		if (rc == ESPAT_BLUFI_BAD) {
			CHECK(err <= ESPAT_BLUFI_E_SCAN);
			continue;
		}
		if (rc != ESPAT_BLUFI_MSG)
			continue;
		CHECK(m.len <= ESPAT_BLUFI_MSG_MAX);
		if (ESPAT_BLUFI_KIND(m.type) == ESPAT_BLUFI_DATA &&
		    ESPAT_BLUFI_SUB(m.type) == ESPAT_BLUFI_D_NEG) {
			struct espat_blufi_codec neg;
			espat_blufi_init(&neg);
			neg.neg_len = m.len > 0 ? m.len - 1 : 0;
			uint8_t pub[ESPAT_BLUFI_DH_MAX], priv[8] = {1, 2, 3, 4, 5, 6, 7, 8};
			size_t pl = 0;
			if (espat_blufi_negotiate(&neg, m.data, m.len, priv, sizeof(priv), pub, &pl,
			                          &err) == 1)
				CHECK(pl >= 1 && pl <= ESPAT_BLUFI_DH_MAX && neg.keyed);
		}
		echo(&m);
	}
	return 0;
}
