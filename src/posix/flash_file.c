#include "posix/flash_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix/fsutil.h"

static const struct espat_flash_part parts[ESPAT_FLASH_FILE_PARTS] = {
    {.name = "mfg_nvs", .type = 1, .subtype = 2, .addr = 0x1F000, .size = 124 * 1024},
    {.name = "fatfs", .type = 1, .subtype = 0x81, .addr = 0x47000, .size = 100 * 1024},
};

static int pwrite_full(int fd, const uint8_t *p, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t w = pwrite(fd, p, len, off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		off += w;
		len -= (size_t)w;
	}
	return 0;
}

static int pread_full(int fd, uint8_t *p, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t r = pread(fd, p, len, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) { /* the file shrank under us: read as erased */
			memset(p, 0xFF, len);
			return 0;
		}
		p += r;
		off += r;
		len -= (size_t)r;
	}
	return 0;
}

static int fill_ff(int fd, off_t from, off_t to)
{
	uint8_t ff[ESPAT_FLASH_SECTOR];
	memset(ff, 0xFF, sizeof(ff));
	while (from < to) {
		size_t n = (size_t)(to - from) < sizeof(ff) ? (size_t)(to - from) : sizeof(ff);
		if (pwrite_full(fd, ff, n, from) < 0)
			return -1;
		from += (off_t)n;
	}
	return 0;
}

int espat_flash_file_open(struct espat_flash_file *f, const char *dir, const struct espat_log *log)
{
	f->log = log;
	for (size_t i = 0; i < ESPAT_FLASH_FILE_PARTS; i++)
		f->fd[i] = -1;
	char name[64] = "flash";
	/* The data dir's own path is trusted (followed); flash/ and the
	 * partition files are never followed out of it (fsutil.h). */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ffd = dfd < 0 ? -1 : espat_subdir_open(dfd, "flash");
	if (ffd < 0)
		goto fail;
	for (size_t i = 0; i < ESPAT_FLASH_FILE_PARTS; i++) {
		snprintf(name, sizeof(name), "flash/%s.bin", parts[i].name);
		f->fd[i] = espat_file_open(ffd, name + 6, O_RDWR | O_CREAT);
		struct stat st;
		if (f->fd[i] < 0 || fstat(f->fd[i], &st) < 0)
			goto fail;
		if (st.st_size < (off_t)parts[i].size) {
			/* New (or cut short by a crash while being created):
			 * the missing part is erased flash. */
			if (fill_ff(f->fd[i], st.st_size, parts[i].size) < 0 ||
			    fdatasync(f->fd[i]) < 0)
				goto fail;
		} else if (st.st_size > (off_t)parts[i].size) {
			espat_log_warn(log,
			               "%s/%s is larger than the partition (%u bytes); the rest "
			               "is ignored",
			               dir, name, (unsigned)parts[i].size);
		}
	}
	close(ffd);
	close(dfd);
	return 0;
fail:;
	int e = errno;
	espat_log_error(log, "%s/%s: %s", dir, dfd < 0 ? "" : name, espat_fs_strerror(e));
	if (ffd >= 0)
		close(ffd);
	if (dfd >= 0)
		close(dfd);
	espat_flash_file_close(f);
	errno = e;
	return -1;
}

void espat_flash_file_close(struct espat_flash_file *f)
{
	for (size_t i = 0; i < ESPAT_FLASH_FILE_PARTS; i++) {
		if (f->fd[i] >= 0)
			close(f->fd[i]);
		f->fd[i] = -1;
	}
}

static const struct espat_flash_part *fl_part(void *user, size_t i)
{
	(void)user;
	return i < ESPAT_FLASH_FILE_PARTS ? &parts[i] : NULL;
}

/* The caller checks ranges; this is the second line of defence. */
static bool in_range(size_t i, uint32_t off, uint32_t len)
{
	return i < ESPAT_FLASH_FILE_PARTS && off <= parts[i].size && len <= parts[i].size - off;
}

static int fl_read(void *user, size_t i, uint32_t off, uint8_t *buf, uint32_t len)
{
	struct espat_flash_file *f = user;
	if (!in_range(i, off, len))
		return -1;
	return pread_full(f->fd[i], buf, len, off);
}

static int fl_write(void *user, size_t i, uint32_t off, const uint8_t *buf, uint32_t len)
{
	struct espat_flash_file *f = user;
	if (!in_range(i, off, len))
		return -1;
	/* NOR flash can only clear bits: new = old & data, a sector at a
	 * time to bound the stack buffer. */
	uint8_t old[ESPAT_FLASH_SECTOR];
	for (uint32_t done = 0; done < len;) {
		uint32_t n = len - done < sizeof(old) ? len - done : (uint32_t)sizeof(old);
		if (pread_full(f->fd[i], old, n, off + done) < 0)
			return -1;
		for (uint32_t k = 0; k < n; k++)
			old[k] &= buf[done + k];
		if (pwrite_full(f->fd[i], old, n, off + done) < 0)
			return -1;
		done += n;
	}
	if (fdatasync(f->fd[i]) < 0) {
		espat_log_error(f->log, "flash %s: %s", parts[i].name, strerror(errno));
		return -1;
	}
	return 0;
}

static int fl_erase(void *user, size_t i, uint32_t off, uint32_t len)
{
	struct espat_flash_file *f = user;
	if (!in_range(i, off, len))
		return -1;
	if (fill_ff(f->fd[i], off, (off_t)off + len) < 0 || fdatasync(f->fd[i]) < 0) {
		espat_log_error(f->log, "flash %s: %s", parts[i].name, strerror(errno));
		return -1;
	}
	return 0;
}

struct espat_flash espat_flash_file_port(struct espat_flash_file *f)
{
	return (struct espat_flash){
	    .part = fl_part,
	    .read = fl_read,
	    .write = fl_write,
	    .erase = fl_erase,
	    .user = f,
	};
}
