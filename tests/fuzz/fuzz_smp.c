/* libFuzzer target: the SMP PDU codec and the pairing method
 * (src/proto/smp.c). The input is one whole PDU. The decoder must never
 * read past it; a PDU that decodes must encode back to the same bytes; the
 * method two decoded Pairing Request/Response features select (the input
 * against itself with the role bits turned) is one of the enum's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

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
	return 0;
}
