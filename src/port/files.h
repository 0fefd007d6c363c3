/* Files the module writes whole into its data dir: OTA's app images
 * (ota_<slot>.bin), each replaced atomically once all of it has come. A
 * writer is opened, fed, then committed (the file is in place, durably) or
 * aborted (the old file, if any, stays untouched). The Linux port writes a
 * temporary in the data dir, fsyncs and renames it (posix/files_dir.c); the
 * test port keeps files in memory (testport/files_mem.c). */
#ifndef ESPAT_PORT_FILES_H
#define ESPAT_PORT_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESPAT_FILES_NAME_MAX 32 /* bytes of a name */

struct espat_file_w; /* a file being written: opaque, owned by the port */

/* A valid name: 1..ESPAT_FILES_NAME_MAX letters, digits, '_', '-' and '.',
 * not starting with '.' (no "." or "..", no path, and room for the ports'
 * temporaries). Every port refuses other names. */
static inline bool espat_files_name_ok(const char *name)
{
	size_t n = 0;
	for (; name[n]; n++) {
		char c = name[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return n > 0 && n <= ESPAT_FILES_NAME_MAX && name[0] != '.';
}

struct espat_files {
	/* Starts replacing name. NULL when the name is invalid or the port
	 * cannot write (no data dir, an I/O failure). */
	struct espat_file_w *(*create)(void *user, const char *name);
	/* Appends n bytes; 0, or -1 on an I/O failure (the writer stays
	 * valid: abort it). */
	int (*write)(void *user, struct espat_file_w *w, const uint8_t *p, size_t n);
	/* Puts the file in place, durably; frees w. 0, or -1 (the old file
	 * stays). */
	int (*commit)(void *user, struct espat_file_w *w);
	/* Drops what was written; frees w. */
	void (*abort)(void *user, struct espat_file_w *w);
	void *user;
};

#endif
