/* File helpers shared by the data-dir stores: directory creation and the
 * crash-safe replace (temp file, fsync, rename, fsync dir). */
#ifndef ESPAT_POSIX_FSUTIL_H
#define ESPAT_POSIX_FSUTIL_H

#include <stddef.h>
#include <stdint.h>

/* mkdir -p: creates path and missing parents (mode 0777 & ~umask).
 * 0, or -1 with errno set (ENOTDIR when a component is not a directory). */
int espat_mkdir_p(const char *path);

/* Replaces dirfd/name with buf atomically: after a crash at any moment the
 * file holds either its old or its new contents. Writes name + ".tmp"
 * first. 0, or -1 with errno set (name untouched, temp file removed). */
int espat_write_atomic(int dirfd, const char *name, const void *buf, size_t len);

/* Reads all of dirfd/name into a malloc'd buffer (*out, *len), refusing
 * files larger than max (EFBIG). 0, or -1 with errno set (ENOENT when
 * absent). */
int espat_read_all(int dirfd, const char *name, size_t max, uint8_t **out, size_t *len);

#endif
