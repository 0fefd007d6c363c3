/* espat_flash backed by one file per user partition, flash/<name>.bin in
 * the data dir, created filled with 0xFF (erased flash).
 *
 * The partition table is the ESP32-C3 AT firmware's secondary table
 * (module_config/module_esp32c3_default/at_customize.csv in esp-at v3.x):
 *   mfg_nvs  data nvs  0x1F000 124K
 *   fatfs    data fat  0x47000 100K
 * Writes are pread/AND/pwrite + fdatasync: a completed call is on disk. */
#ifndef ESPAT_POSIX_FLASH_FILE_H
#define ESPAT_POSIX_FLASH_FILE_H

#include <stddef.h>

#include "port/flash.h"
#include "posix/log.h"

#define ESPAT_FLASH_FILE_PARTS 2

struct espat_flash_file {
	int fd[ESPAT_FLASH_FILE_PARTS]; /* one per partition, owned */
	const struct espat_log *log;    /* borrowed */
};

/* Creates dir/flash/ (0700) and the partition files (0600) as needed (a
 * short file is extended with 0xFF). Nothing below dir is followed: a
 * symlink is ELOOP, a partition file with another hard link EMLINK
 * (fsutil.h). 0, or -1 with errno set (the path that failed is logged). */
int espat_flash_file_open(struct espat_flash_file *f, const char *dir, const struct espat_log *log);
void espat_flash_file_close(struct espat_flash_file *f);
struct espat_flash espat_flash_file_port(struct espat_flash_file *f);

#endif
