/* libFuzzer target: the ATT server over an attribute database
 * (src/proto/gatt_db.c). The input is a first byte choosing the ATT_MTU,
 * then PDUs, each a length byte and that many bytes, from client 0, 1 or 2
 * in turn. Every answer is a whole PDU no longer than the MTU that the
 * codec reads back; a request gets its response or ERROR_RSP, a command
 * or a confirmation nothing. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/gatt_db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static void add(struct espat_gatt_db *db, uint16_t type, uint16_t perm, uint16_t max,
                const uint8_t *v, uint16_t n)
{
	struct espat_att_uuid t = espat_att_uuid16(type);
	CHECK(espat_gatt_db_add(db, &t, perm, max, v, n) > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct espat_gatt_attr attr[24];
	static uint8_t mem[2048];
	struct espat_gatt_db db;
	if (size < 1)
		return 0;
	espat_gatt_db_init(&db, attr, 24, mem, sizeof(mem));
	CHECK(espat_gatt_db_add_core(&db, "fuzz") > 0);
	const uint8_t a002[] = {0x02, 0xa0}, ntf = 0x3e, c[] = "0";
	add(&db, ESPAT_GATT_PRIMARY, 1, 2, a002, 2);
	add(&db, ESPAT_GATT_CHAR, 1, 1, &ntf, 1);
	add(&db, 0xC300, 0x11, 512, c, 1);
	add(&db, ESPAT_GATT_CCCD, 0x11, 2, NULL, 0);
	add(&db, 0x2901, 0x01, 100, c, 1);
	size_t mtu = ESPAT_ATT_MTU_MIN + data[0] % (ESPAT_ATT_MTU_MAX - ESPAT_ATT_MTU_MIN + 1);
	size_t off = 1, client = 0;
	while (off < size) {
		size_t n = data[off++];
		if (n > size - off)
			n = size - off;
		uint8_t *pdu = malloc(n ? n : 1); /* exactly n bytes: ASan sees a read past it */
		uint8_t rsp[ESPAT_ATT_MTU_MAX];
		if (!pdu)
			return 0;
		memcpy(pdu, data + off, n);
		size_t k = espat_gatt_db_answer(&db, client, mtu, pdu, n, rsp, sizeof(rsp));
		CHECK(k <= mtu);
		if (k > 0) {
			struct espat_att_pdu r;
			CHECK(espat_att_decode(rsp, k, &r) == ESPAT_ATT_OK);
			CHECK(r.op == ESPAT_ATT_ERROR_RSP || r.op == pdu[0] + 1);
			CHECK(!(pdu[0] & ESPAT_ATT_CMD_FLAG) && !(pdu[0] & 1u));
		}
		uint8_t out[ESPAT_ATT_MTU_MAX];
		size_t len = 0;
		if (espat_gatt_db_notify(&db, client, ESPAT_ATT_INDICATE, 12, pdu, n, mtu, out,
		                         sizeof(out), &len) == ESPAT_GATT_NTF_OK)
			CHECK(len == n + 3 && len <= mtu && db.ind_pending[client]);
		free(pdu);
		off += n;
		client = (client + 1) % ESPAT_GATT_DB_CLIENTS;
	}
	return 0;
}
