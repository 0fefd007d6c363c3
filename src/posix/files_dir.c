#include "posix/files_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct espat_file_w {
	int fd; /* the temporary */
	char name[ESPAT_FILES_NAME_MAX + 1];
	char tmp[ESPAT_FILES_NAME_MAX + 8]; /* ".<name>.tmp" */
};

static struct espat_file_w *f_create(void *user, const char *name)
{
	struct espat_files_dir *d = user;
	if (d->dirfd < 0 || !espat_files_name_ok(name))
		return NULL;
	struct espat_file_w *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	snprintf(w->name, sizeof(w->name), "%s", name);
	snprintf(w->tmp, sizeof(w->tmp), ".%s.tmp", name);
	w->fd = openat(d->dirfd, w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	               0600);
	if (w->fd < 0) {
		espat_log_warn(d->log, "files: cannot write %s: %s", w->tmp, strerror(errno));
		free(w);
		return NULL;
	}
	return w;
}

static int f_write(void *user, struct espat_file_w *w, const uint8_t *p, size_t n)
{
	struct espat_files_dir *d = user;
	while (n > 0) {
		ssize_t k = write(w->fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			espat_log_warn(d->log, "files: writing %s: %s", w->tmp, strerror(errno));
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void f_abort(void *user, struct espat_file_w *w)
{
	struct espat_files_dir *d = user;
	close(w->fd);
	unlinkat(d->dirfd, w->tmp, 0);
	free(w);
}

static int f_commit(void *user, struct espat_file_w *w)
{
	struct espat_files_dir *d = user;
	int rc = fsync(w->fd);
	if (close(w->fd) < 0)
		rc = -1;
	if (rc == 0)
		rc = renameat(d->dirfd, w->tmp, d->dirfd, w->name);
	if (rc == 0) {
		rc = fsync(d->dirfd);
	} else {
		espat_log_warn(d->log, "files: cannot put %s in place: %s", w->name,
		               strerror(errno));
		unlinkat(d->dirfd, w->tmp, 0);
	}
	free(w);
	return rc;
}

int espat_files_dir_open(struct espat_files_dir *d, const char *data_dir,
                         const struct espat_log *log)
{
	d->log = log;
	d->dirfd = -1;
	if (!data_dir)
		return 0;
	d->dirfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return d->dirfd < 0 ? -1 : 0;
}

void espat_files_dir_close(struct espat_files_dir *d)
{
	if (d->dirfd >= 0)
		close(d->dirfd);
	d->dirfd = -1;
}

struct espat_files espat_files_dir_port(struct espat_files_dir *d)
{
	return (struct espat_files){f_create, f_write, f_commit, f_abort, d};
}
