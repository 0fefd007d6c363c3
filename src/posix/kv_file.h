/* espat_kv backed by one file in the data dir (nvs.db, mfg_nvs.db).
 *
 * The whole store lives in memory, sorted by namespace then key; every
 * change that alters it rewrites the file through espat_write_atomic()
 * (temp file, fsync, rename, fsync dir), so a crash or kill -9 at any
 * moment leaves the old or the new file. A change is committed to memory
 * only after the file is on disk: a failed write leaves both as they were.
 *
 * File format (little-endian):
 *   "EKVS" u16 version (1) u16 reserved (0) u32 count
 *   count x { u8 nslen, ns, u8 keylen, key, u32 vallen, value }
 *   u32 CRC-32 (IEEE) of every byte before it
 * Records are sorted and unique; names are 1..15 bytes without NUL. */
#ifndef ESPAT_POSIX_KV_FILE_H
#define ESPAT_POSIX_KV_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "port/kv.h"
#include "posix/log.h"

struct espat_kv_entry {
	char ns[ESPAT_KV_NAME_MAX + 1];
	char key[ESPAT_KV_NAME_MAX + 1];
	uint8_t *val; /* owned, len bytes (malloc'd even when len is 0) */
	size_t len;
};

struct espat_kv_file {
	int dirfd;                /* data dir, owned */
	char name[32];            /* file name inside it */
	struct espat_kv_entry *e; /* sorted by (ns, key) */
	size_t n, cap;
	const struct espat_log *log; /* borrowed */
};

/* Opens dir/name, loading it when it exists. A missing file is an empty
 * store; a corrupt one (bad magic, CRC, truncation) is logged as an error
 * and the store starts empty, leaving the file as it is until the next
 * write. A regular name.tmp left by a cut write is removed. Returns 0, or
 * -1 with errno set (and the path logged) when dir cannot be opened or the
 * file cannot be read; a symlink at name or name.tmp is ELOOP, never
 * followed (fsutil.h). */
int espat_kv_file_open(struct espat_kv_file *kv, const char *dir, const char *name,
                       const struct espat_log *log);
void espat_kv_file_close(struct espat_kv_file *kv);
/* The port table bound to kv. */
struct espat_kv espat_kv_file_port(struct espat_kv_file *kv);

#endif
