/* libFuzzer target: the ATT PDU codec (src/proto/att.c). The input is one
 * whole PDU. The decoder must never read past it; a PDU that decodes must
 * encode back to the same bytes (with an ATT_MTU as large as the input),
 * every element of a list response must be readable and put back to the
 * same bytes, and an encoding at the minimum ATT_MTU is either refused or
 * no longer than that MTU (a read response cut to it). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/att.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	/* A copy of exactly size bytes, so ASan sees any read past the PDU. */
	uint8_t *pdu = malloc(size ? size : 1);
	uint8_t *again = malloc(size + 1);
	if (!pdu || !again) {
		free(pdu);
		free(again);
		return 0;
	}
	memcpy(pdu, data, size);
	struct espat_att_pdu p;
	enum espat_att_rc rc = espat_att_decode(pdu, size, &p);
	if (rc == ESPAT_ATT_OK) {
		CHECK(espat_att_encode(&p, size, again, size) == size);
		CHECK(memcmp(again, pdu, size) == 0);
		size_t n = espat_att_items(&p), off = 0;
		for (size_t i = 0; i < n; i++) {
			struct espat_att_item it;
			CHECK(espat_att_item(&p, i, &it));
			size_t put = espat_att_item_put(p.op, &it, again, size);
			CHECK(put == p.elem_len);
			CHECK(memcmp(again, p.value + off, put) == 0);
			off += put;
		}
		if (n > 0)
			CHECK(off == p.value_len);
		size_t small = espat_att_encode(&p, ESPAT_ATT_MTU_MIN, again, size);
		CHECK(small <= ESPAT_ATT_MTU_MIN);
		if (p.op == ESPAT_ATT_READ_RSP || p.op == ESPAT_ATT_READ_BLOB_RSP)
			CHECK(small == (size < ESPAT_ATT_MTU_MIN ? size : ESPAT_ATT_MTU_MIN));
	} else {
		CHECK(size == 0 || p.op == pdu[0]);
	}
	free(pdu);
	free(again);
	return 0;
}
