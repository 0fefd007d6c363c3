/* The file system commands (guide 3.7): AT+FS and AT+FSMOUNT on the
 * flash's `fatfs` partition, a plain FAT12/16 volume (proto/fat.h) that
 * mtools and fsck.fat read (docs/COMPAT.md, "File system"). The volume is
 * mounted on first use (AT+FS, AT+FSMOUNT=1, or another family through
 * the functions below) and formatted when it holds no FAT, as esp-at's
 * mount does. */
#ifndef ESPAT_CMD_FS_H
#define ESPAT_CMD_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/family.h"
#include "port/flash.h"
#include "proto/fat.h"

#define ESPAT_FS_PART "fatfs"

struct espat_fs {
	bool mounted;
	struct espat_fat fat;
	size_t part;                      /* the fatfs partition's index */
	uint8_t sector[ESPAT_FLASH_SECTOR]; /* flash read-modify-write buffer */
	/* AT+FS write: the data entry, kept in RAM and written at its end so a
	 * power cut during the entry leaves the file as it was */
	uint8_t *entry;
	uint32_t entry_len, entry_got, entry_off;
	char entry_name[ESPAT_FAT_NAME_MAX + 1];
	size_t entry_name_len;
};

/* For other families (the web server reads its page here). The name is a
 * root-directory file name, confined to the partition; the volume is
 * mounted on demand. Each returns 0 or a negative enum espat_fat_err. */
int espat_fs_size(struct espat_module *m, const char *name, size_t len, uint32_t *size);
int espat_fs_read(struct espat_module *m, const char *name, size_t len, uint32_t off,
		  uint8_t *buf, uint32_t n, uint32_t *got);

extern const struct espat_cmd_table espat_fs_table;
extern const struct espat_family espat_fs_family;

#endif
