/* User partitions of the flash (AT+SYSFLASH). Flash semantics: erase sets a
 * range to 0xFF; write can only clear bits (new = old & data). Offsets and
 * lengths are checked by the caller against the partition size. */
#ifndef ESPAT_PORT_FLASH_H
#define ESPAT_PORT_FLASH_H

#include <stddef.h>
#include <stdint.h>

#define ESPAT_FLASH_SECTOR 4096u

struct espat_flash_part {
	const char *name; /* e.g. "mfg_nvs" */
	uint8_t type;     /* 1 = data */
	uint8_t subtype;  /* 2 = nvs, 0x81 = fat */
	uint32_t addr;    /* address in the 4 MiB flash */
	uint32_t size;    /* bytes, a multiple of ESPAT_FLASH_SECTOR */
};

struct espat_flash {
	/* Partition i, or NULL past the last one. */
	const struct espat_flash_part *(*part)(void *user, size_t i);
	/* Each returns 0 on success, -1 on an I/O failure. */
	int (*read)(void *user, size_t i, uint32_t off, uint8_t *buf, uint32_t len);
	int (*write)(void *user, size_t i, uint32_t off, const uint8_t *buf, uint32_t len);
	int (*erase)(void *user, size_t i, uint32_t off, uint32_t len);
	void *user;
};

#endif
