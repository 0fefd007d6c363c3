/* The test port's files (port/files.h): a data dir in memory. A file is
 * visible under its name only once committed; a test reads it back with
 * espat_files_mem_get(). */
#ifndef ESPAT_TESTPORT_FILES_MEM_H
#define ESPAT_TESTPORT_FILES_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port/files.h"

#define ESPAT_FILES_MEM_MAX 4 /* files kept */

struct espat_files_mem_file {
	char name[ESPAT_FILES_NAME_MAX + 1];
	uint8_t *data; /* owned */
	size_t len;
};

struct espat_files_mem {
	struct espat_files_mem_file files[ESPAT_FILES_MEM_MAX];
	size_t n;
	size_t open; /* writers not yet committed or aborted */
	bool fail;   /* a test's knob: writes fail (a full disk) */
};

void espat_files_mem_free(struct espat_files_mem *fm);
struct espat_files espat_files_mem_port(struct espat_files_mem *fm);
/* A committed file by name, or NULL. */
const struct espat_files_mem_file *espat_files_mem_get(const struct espat_files_mem *fm,
                                                       const char *name);

#endif
