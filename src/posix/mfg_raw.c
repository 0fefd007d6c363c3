/* --mfg-raw DIR (see mfg_raw.h). Everything is read and checked first, then
 * written, so a bad directory changes nothing. */
#include "posix/mfg_raw.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MFG_RAW_MAX 64 /* entries read from one directory tree */

struct entry {
	char ns[ESPAT_KV_NAME_MAX + 1];
	char key[ESPAT_KV_NAME_MAX + 1];
	uint8_t *val; /* type byte + file bytes, owned */
	size_t len;
};

struct load {
	struct entry e[MFG_RAW_MAX];
	size_t n;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct load *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->err, l->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static bool pki_file(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && (strcmp(name + n - 4, ".crt") == 0 || strcmp(name + n - 4, ".key") == 0 ||
			 strcmp(name + n - 4, ".pem") == 0);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Reads path whole into a new value: the type byte, then the bytes. */
static int read_value(struct load *l, const char *path, struct entry *e)
{
	/* DIR is the user's input, not the data dir: its symlinks are followed
	 * as the user laid them out; a FIFO or device is refused, not waited
	 * on (COMPAT #207). */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		return fail(l, "--mfg-raw %s: not a regular file", path);
	}
	FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
	if (!f) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return fail(l, "--mfg-raw %s: %s", path, strerror(err));
	}
	/* one byte more than fits tells a file that is too large */
	uint8_t *v = malloc(ESPAT_KV_VALUE_MAX + 1);
	size_t n = v ? fread(v + 1, 1, ESPAT_KV_VALUE_MAX, f) : 0;
	bool bad = !v || ferror(f);
	fclose(f);
	const char *why = !v ? "out of memory" : bad ? "read error" : n == 0 ? "empty file"
			  : n > ESPAT_KV_VALUE_MAX - 1 ? "larger than an NVS value (64 KiB)" : NULL;
	if (why) {
		free(v);
		return fail(l, "--mfg-raw %s: %s", path, why);
	}
	v[0] = ESPAT_MFG_BLOB;
	e->val = v;
	e->len = n + 1;
	return 0;
}

static int load_ns(struct load *l, const char *dir, const char *ns)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, ns);
	struct dirent **list = NULL;
	int n = scandir(path, &list, NULL, by_name);
	if (n < 0)
		return fail(l, "--mfg-raw %s: %s", path, strerror(errno));
	size_t files = 0;
	for (int i = 0; i < n; i++)
		files += pki_file(list[i]->d_name);
	int rc = 0;
	size_t index = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		const char *name = list[i]->d_name;
		if (!pki_file(name))
			continue;
		if (l->n == MFG_RAW_MAX) {
			rc = fail(l, "--mfg-raw %s: more than %d files", dir, MFG_RAW_MAX);
			break;
		}
		struct entry *e = &l->e[l->n];
		memcpy(e->ns, ns, strlen(ns) + 1);
		if (files == 1)
			memcpy(e->key, ns, strlen(ns) + 1);
		else if ((size_t)snprintf(e->key, sizeof(e->key), "%s.%zu", ns, index) >=
			 sizeof(e->key))
			rc = fail(l, "--mfg-raw %s: key %s.%zu is longer than 15 bytes", path, ns,
				  index);
		index++;
		char file[4096 + 256];
		snprintf(file, sizeof(file), "%s/%s", path, name);
		if (rc == 0 && (rc = read_value(l, file, e)) == 0)
			l->n++;
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return rc;
}

int espat_mfg_raw_load(const struct espat_kv *kv, const char *dir, char *err, size_t errlen)
{
	struct load *l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "--mfg-raw %s: out of memory", dir);
		return -1;
	}
	l->err = err;
	l->errlen = errlen;
	struct dirent **list = NULL;
	int n = scandir(dir, &list, NULL, by_name);
	int rc = n < 0 ? fail(l, "--mfg-raw %s: %s", dir, strerror(errno)) : 0;
	for (int i = 0; i < n && rc == 0; i++) {
		const char *ns = list[i]->d_name;
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, ns);
		if (ns[0] == '.' || stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (strlen(ns) > ESPAT_KV_NAME_MAX)
			rc = fail(l, "--mfg-raw %s: namespace name longer than 15 bytes", path);
		else
			rc = load_ns(l, dir, ns);
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	/* written only once all of it was read */
	for (size_t i = 0; i < l->n && rc == 0; i++)
		if ((i == 0 || strcmp(l->e[i - 1].ns, l->e[i].ns) != 0) &&
		    kv->erase(kv->user, l->e[i].ns, NULL) < 0)
			rc = fail(l, "--mfg-raw: cannot write the manufacturing NVS");
	for (size_t i = 0; i < l->n && rc == 0; i++)
		if (kv->set(kv->user, l->e[i].ns, l->e[i].key, l->e[i].val, l->e[i].len) < 0)
			rc = fail(l, "--mfg-raw: cannot write the manufacturing NVS");
	int written = (int)l->n;
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].val);
	free(l);
	return rc < 0 ? -1 : written;
}
