#include "posix/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int espat_mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	int n = snprintf(buf, sizeof(buf), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Create each prefix ending before a '/', then the whole path. */
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -1;
	struct stat st;
	if (stat(buf, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* O_NOFOLLOW reports a symlink as ELOOP, but as ENOTDIR with O_DIRECTORY
 * and as EEXIST with O_EXCL: tell the caller it was a symlink. */
static int why_not(int dirfd, const char *name, int e)
{
	struct stat st;
	if ((e == ENOTDIR || e == EEXIST) && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		e = ELOOP;
	errno = e;
	return -1;
}

int espat_subdir_open(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return -1;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? why_not(dirfd, name, errno) : fd;
}

int espat_file_open(int dirfd, const char *name, int flags)
{
	/* O_NONBLOCK: opening a FIFO planted here must not hang the module. */
	int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0)
		return why_not(dirfd, name, errno);
	struct stat st;
	int e = 0;
	if (fstat(fd, &st) < 0)
		e = errno;
	else if (!S_ISREG(st.st_mode))
		e = EINVAL;
	else if ((flags & O_ACCMODE) != O_RDONLY && st.st_nlink > 1)
		e = EMLINK;
	else if ((st.st_mode & 07177) != 0 && fchmod(fd, 0600) < 0)
		e = errno;
	else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		e = errno;
	if (e != 0) {
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

const char *espat_fs_strerror(int e)
{
	switch (e) {
	case ELOOP:
		return "a symbolic link: refused (nothing in the data dir is followed out of it; "
		       "remove the link)";
	case EINVAL:
		return "not a regular file: refused";
	case EMLINK:
		return "has other hard links: refused (it is written in place)";
	default:
		return strerror(e);
	}
}

static int write_full(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int espat_write_atomic(int dirfd, const char *name, const void *buf, size_t len)
{
	char tmp[NAME_MAX + 1];
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* A regular temp file is the leftover of a write cut short: ours to
	 * remove. Anything else there, or a symlink at name, is refused. */
	struct stat st;
	if (fstatat(dirfd, tmp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode)) {
			errno = ELOOP;
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			errno = EINVAL;
			return -1;
		}
		unlinkat(dirfd, tmp, 0);
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
		errno = ELOOP;
		return -1;
	}
	/* O_EXCL: whatever appeared at tmp since is not written through. */
	int fd = espat_file_open(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL);
	if (fd < 0)
		return -1;
	/* The data must be on disk before the rename makes it the file, or a
	 * crash could leave a renamed but empty file. */
	if (write_full(fd, buf, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return -1;
	}
	if (close(fd) < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return -1;
	}
	/* Make the rename itself durable. */
	return fsync(dirfd);
}

int espat_read_all(int dirfd, const char *name, size_t max, uint8_t **out, size_t *len)
{
	int fd = espat_file_open(dirfd, name, O_RDONLY);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	size_t size = (size_t)st.st_size;
	uint8_t *buf = malloc(size ? size : 1);
	if (buf == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	size_t got = 0;
	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*out = buf;
	*len = got;
	return 0;
}
