/* ERR CODE values printed under AT+SYSLOG=1 as "ERR CODE:0x%08x": category
 * 0x01 in bits 31..24, subcategory in 23..16, extension in 15..0
 * (ESP-AT guide 3.1.24 and the esp_at_error_code enum of 6.18). */
#ifndef ESPAT_CORE_ERRCODE_H
#define ESPAT_CORE_ERRCODE_H

#include <stdint.h>

enum espat_err_sub {
	ESPAT_SUB_OK = 0x00,
	ESPAT_SUB_COMMON = 0x01,
	ESPAT_SUB_NO_TERMINATOR = 0x02,
	ESPAT_SUB_NO_AT = 0x03,
	ESPAT_SUB_PARA_LENGTH = 0x04,
	ESPAT_SUB_PARA_TYPE = 0x05,
	ESPAT_SUB_PARA_NUM = 0x06,
	ESPAT_SUB_PARA_INVALID = 0x07,
	ESPAT_SUB_PARA_PARSE_FAIL = 0x08,
	ESPAT_SUB_UNSUPPORTED = 0x09,
	ESPAT_SUB_EXEC_FAIL = 0x0A,
	ESPAT_SUB_PROCESSING = 0x0B,
	ESPAT_SUB_OP_ERROR = 0x0C,
};

static inline uint32_t espat_err(enum espat_err_sub sub, uint32_t ext)
{
	return 0x01000000u | ((uint32_t)sub << 16) | (ext & 0xFFFFu);
}

/* Parameter errors carry the 0-based index of the parameter at fault;
 * a count mismatch carries need << 8 | given. */
#define ESPAT_ERR_UNSUPPORTED espat_err(ESPAT_SUB_UNSUPPORTED, 0)
#define ESPAT_ERR_BUSY espat_err(ESPAT_SUB_PROCESSING, 0)
#define ESPAT_ERR_OP espat_err(ESPAT_SUB_OP_ERROR, 0)
#define ESPAT_ERR_EXEC espat_err(ESPAT_SUB_EXEC_FAIL, 0)
#define ESPAT_ERR_NO_AT espat_err(ESPAT_SUB_NO_AT, 0)
#define ESPAT_ERR_NO_TERM espat_err(ESPAT_SUB_NO_TERMINATOR, 0)
#define ESPAT_ERR_INVALID(i) espat_err(ESPAT_SUB_PARA_INVALID, (uint32_t)(i))
#define ESPAT_ERR_TYPE(i) espat_err(ESPAT_SUB_PARA_TYPE, (uint32_t)(i))
#define ESPAT_ERR_LENGTH(i) espat_err(ESPAT_SUB_PARA_LENGTH, (uint32_t)(i))
#define ESPAT_ERR_PARSE(i) espat_err(ESPAT_SUB_PARA_PARSE_FAIL, (uint32_t)(i))
#define ESPAT_ERR_NUM(need, given) \
	espat_err(ESPAT_SUB_PARA_NUM, ((uint32_t)(need) << 8) | ((uint32_t)(given) & 0xFFu))

#endif
