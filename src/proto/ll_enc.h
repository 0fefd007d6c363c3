/* Starting encryption on an LE link with a bond's key (Bluetooth Core
 * 5.x, Vol 6 Part B 5.1.3, Vol 3 Part H 2.4.4): the link-layer encryption
 * start procedure as PDUs and a small state machine for either side. The
 * central sends LL_ENC_REQ (Rand, EDIV, SKDm, IVm); the peripheral finds
 * its LTK for them (Secure Connections: EDIV and Rand 0, the peer's
 * identity names it) or rejects with PIN or Key Missing; both derive the
 * session key SK = e(LTK, SKD); LL_START_ENC_REQ / RSP then go encrypted.
 *
 * Modelled: an encrypted PDU carries a 4-byte MIC; here LL_START_ENC_RSP's
 * is the first 4 bytes of e(SK, 0), so two sides with different LTKs fail
 * the check as a real link does (MIC failure: the link ends, reason
 * 0x3D). Pure: PDUs out through ops.send, the end through ops.done. */
#ifndef ESPAT_PROTO_LL_ENC_H
#define ESPAT_PROTO_LL_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/smp.h"

enum espat_ll_op {
	ESPAT_LL_ENC_REQ = 0x03,
	ESPAT_LL_ENC_RSP = 0x04,
	ESPAT_LL_START_ENC_REQ = 0x05,
	ESPAT_LL_START_ENC_RSP = 0x06,
	ESPAT_LL_REJECT_EXT_IND = 0x11,
};

#define ESPAT_LL_PDU_MAX 23u /* LL_ENC_REQ: opcode, Rand, EDIV, SKDm, IVm */

/* How an encryption start ended. */
enum espat_ll_enc_end {
	ESPAT_LL_ENC_OK = 0x00,
	ESPAT_LL_ENC_KEY_MISSING = 0x06, /* PIN or Key Missing: the peer has no such key */
	ESPAT_LL_ENC_MIC_FAILURE = 0x3d, /* the keys differ: the link ends */
	ESPAT_LL_ENC_PROTOCOL = 0x24,    /* LMP/LL Response Timeout or a PDU out of place */
};

struct espat_ll_enc_ops {
	void (*send)(void *user, const uint8_t *pdu, size_t len);
	/* peripheral: the LTK (wire order) for EDIV/Rand from this peer;
	 * false when it has none */
	bool (*key)(void *user, uint16_t ediv, const uint8_t rand[8], uint8_t ltk[16]);
	void (*done)(void *user, enum espat_ll_enc_end end);
	void *user;
};

struct espat_ll_enc {
	const struct espat_smp_crypto *c;
	struct espat_ll_enc_ops ops;
	bool central;
	uint8_t state;
	uint8_t skdm[8], skds[8];
	uint8_t ltk[16]; /* wire order */
	uint8_t sk[16];
};

void espat_ll_enc_init(struct espat_ll_enc *e, const struct espat_smp_crypto *c,
                       struct espat_ll_enc_ops ops, bool central);
/* The central starts with its bond's key; false while a start runs. */
bool espat_ll_enc_start(struct espat_ll_enc *e, const uint8_t ltk[16], uint16_t ediv,
                        const uint8_t rand[8]);
/* One LL control PDU from the peer. */
void espat_ll_enc_input(struct espat_ll_enc *e, const uint8_t *pdu, size_t len);
bool espat_ll_enc_busy(const struct espat_ll_enc *e);

#endif
