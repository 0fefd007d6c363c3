/* File helpers shared by the data-dir stores: directory creation, opening
 * a file of the data dir without leaving it, and the crash-safe replace
 * (temp file, fsync, rename, fsync dir).
 *
 * The data dir is a boundary (docs/COMPAT.md #200-209): the path the user
 * gave is trusted and opened as given; below it nothing is followed. Every
 * name is opened relative to a directory descriptor with O_NOFOLLOW, so a
 * symbolic link planted at a name the module uses is refused (ELOOP), never
 * followed and never replaced. Every file the module creates there is 0600,
 * every directory 0700, and a file found with a wider mode is made 0600
 * when opened: the stores hold Wi-Fi passwords and private keys. */
#ifndef ESPAT_POSIX_FSUTIL_H
#define ESPAT_POSIX_FSUTIL_H

#include <stddef.h>
#include <stdint.h>

/* mkdir -p for the data dir the user named: creates path and missing
 * parents 0700 (the path itself is trusted: symlinks on the way are
 * followed). 0, or -1 with errno set (ENOTDIR when a component is not a
 * directory). */
int espat_mkdir_p(const char *path);

/* Opens the directory name inside dirfd, creating it 0700 when missing,
 * without following a symlink (ELOOP). A descriptor, or -1 with errno set. */
int espat_subdir_open(int dirfd, const char *name);

/* Opens the regular file name inside dirfd with flags (O_RDONLY, O_RDWR,
 * O_CREAT ...; O_NOFOLLOW and O_CLOEXEC are added, a new file is 0600).
 * Refuses a symlink (ELOOP) and anything but a regular file (EINVAL); a
 * file opened for writing must have no other hard link (EMLINK: it is
 * written in place). A mode wider than 0600 is narrowed to 0600. Never
 * blocks (a FIFO is refused). A descriptor, or -1 with errno set. */
int espat_file_open(int dirfd, const char *name, int flags);

/* strerror(e), with the refusals of espat_file_open() and
 * espat_subdir_open() told in words a user can act on. */
const char *espat_fs_strerror(int e);

/* Replaces dirfd/name with buf atomically: after a crash at any moment the
 * file holds either its old or its new contents. Writes name + ".tmp"
 * (0600) first; a regular file left there is removed, a symlink there or
 * at name is refused (ELOOP). 0, or -1 with errno set (name untouched,
 * temp file removed). */
int espat_write_atomic(int dirfd, const char *name, const void *buf, size_t len);

/* Reads all of dirfd/name (opened as espat_file_open(O_RDONLY)) into a
 * malloc'd buffer (*out, *len), refusing files larger than max (EFBIG).
 * 0, or -1 with errno set (ENOENT when absent). */
int espat_read_all(int dirfd, const char *name, size_t max, uint8_t **out, size_t *len);

#endif
