/* The Linux files port (port/files.h): files in the data dir, written as
 * DATA_DIR/.<name>.tmp, then fsync, rename over DATA_DIR/<name> and fsync
 * the directory, so a crash at any moment leaves the old file or the new
 * one. Everything is opened relative to the data dir's descriptor and
 * without following a symlink. */
#ifndef ESPAT_POSIX_FILES_DIR_H
#define ESPAT_POSIX_FILES_DIR_H

#include "port/files.h"
#include "posix/log.h"

struct espat_files_dir {
	int dirfd;                   /* the data dir, owned; -1: none */
	const struct espat_log *log; /* borrowed, may be NULL */
};

/* Opens data_dir (NULL: a port that refuses every file). 0, or -1 with
 * errno set. */
int espat_files_dir_open(struct espat_files_dir *d, const char *data_dir,
                         const struct espat_log *log);
void espat_files_dir_close(struct espat_files_dir *d);
struct espat_files espat_files_dir_port(struct espat_files_dir *d);

#endif
