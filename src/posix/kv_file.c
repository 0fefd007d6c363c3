#include "posix/kv_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix/fsutil.h"

#define KV_MAGIC "EKVS"
#define KV_VERSION 1u
#define KV_HEADER 12u
/* Largest file we agree to load: far above any real store (an NVS
 * partition is at most a few hundred KiB), small enough to stop a stray
 * huge file from eating memory. */
#define KV_FILE_MAX (64u * 1024u * 1024u)

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
	}
	return ~c;
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int cmp_names(const char *ns_a, const char *key_a, const char *ns_b, const char *key_b)
{
	int c = strcmp(ns_a, ns_b);
	return c ? c : strcmp(key_a, key_b);
}

static bool name_ok(const char *s)
{
	size_t n = s ? strnlen(s, ESPAT_KV_NAME_MAX + 1) : 0;
	return n >= 1 && n <= ESPAT_KV_NAME_MAX;
}

/* Index of (ns, key) when *found, else where it would be inserted. */
static size_t find(const struct espat_kv_file *kv, const char *ns, const char *key, bool *found)
{
	size_t lo = 0, hi = kv->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_names(kv->e[mid].ns, kv->e[mid].key, ns, key);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Writes entries e[0..n) as the whole file. 0, or -1 (file unchanged). */
static int save(struct espat_kv_file *kv, const struct espat_kv_entry *e, size_t n)
{
	size_t size = KV_HEADER + 4;
	for (size_t i = 0; i < n; i++)
		size += 1 + strlen(e[i].ns) + 1 + strlen(e[i].key) + 4 + e[i].len;
	uint8_t *buf = malloc(size);
	if (buf == NULL)
		return -1;
	memcpy(buf, KV_MAGIC, 4);
	put_u16(buf + 4, KV_VERSION);
	put_u16(buf + 6, 0);
	put_u32(buf + 8, (uint32_t)n);
	uint8_t *p = buf + KV_HEADER;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(e[i].ns);
		*p++ = (uint8_t)l;
		memcpy(p, e[i].ns, l);
		p += l;
		l = strlen(e[i].key);
		*p++ = (uint8_t)l;
		memcpy(p, e[i].key, l);
		p += l;
		put_u32(p, (uint32_t)e[i].len);
		p += 4;
		memcpy(p, e[i].val, e[i].len);
		p += e[i].len;
	}
	put_u32(p, crc32_ieee(buf, (size_t)(p - buf)));
	int rc = espat_write_atomic(kv->dirfd, kv->name, buf, size);
	if (rc < 0)
		espat_log_error(kv->log, "%s: cannot write: %s", kv->name,
		                espat_fs_strerror(errno));
	free(buf);
	return rc;
}

static void free_entries(struct espat_kv_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].val);
}

/* Reads one name field at *p; false when it does not fit or is invalid. */
static bool take_name(const uint8_t **p, const uint8_t *end, char out[ESPAT_KV_NAME_MAX + 1])
{
	if (end - *p < 1)
		return false;
	size_t l = **p;
	(*p)++;
	if (l < 1 || l > ESPAT_KV_NAME_MAX || (size_t)(end - *p) < l || memchr(*p, '\0', l))
		return false;
	memcpy(out, *p, l);
	out[l] = '\0';
	*p += l;
	return true;
}

/* Parses a whole file into kv (empty on entry). NULL on success, else
 * what is wrong with it (kv left empty). */
static const char *parse(struct espat_kv_file *kv, const uint8_t *buf, size_t len)
{
	if (len < KV_HEADER + 4 || memcmp(buf, KV_MAGIC, 4) != 0)
		return "not an espat store (bad magic or truncated)";
	if (get_u32(buf + len - 4) != crc32_ieee(buf, len - 4))
		return "checksum mismatch";
	if ((buf[4] | buf[5] << 8) != KV_VERSION)
		return "unsupported version";
	uint32_t count = get_u32(buf + 8);
	const uint8_t *p = buf + KV_HEADER, *end = buf + len - 4;
	/* Each record takes at least 7 bytes: bound count before allocating. */
	if (count > (size_t)(end - p) / 7)
		return "record count larger than the file";
	kv->e = calloc(count ? count : 1, sizeof(*kv->e));
	if (kv->e == NULL)
		return "out of memory";
	kv->cap = count;
	for (uint32_t i = 0; i < count; i++) {
		struct espat_kv_entry *e = &kv->e[i];
		if (!take_name(&p, end, e->ns) || !take_name(&p, end, e->key) || end - p < 4)
			goto bad;
		size_t vlen = get_u32(p);
		p += 4;
		if (vlen > ESPAT_KV_VALUE_MAX || (size_t)(end - p) < vlen)
			goto bad;
		if (i > 0 && cmp_names(kv->e[i - 1].ns, kv->e[i - 1].key, e->ns, e->key) >= 0)
			goto bad;
		e->val = malloc(vlen ? vlen : 1);
		if (e->val == NULL)
			goto bad;
		memcpy(e->val, p, vlen);
		e->len = vlen;
		p += vlen;
		kv->n = i + 1;
	}
	if (p != end)
		goto bad;
	return NULL;
bad:
	free_entries(kv->e, kv->n);
	free(kv->e);
	kv->e = NULL;
	kv->n = kv->cap = 0;
	return "malformed record";
}

int espat_kv_file_open(struct espat_kv_file *kv, const char *dir, const char *name,
                       const struct espat_log *log)
{
	*kv = (struct espat_kv_file){.dirfd = -1, .log = log};
	int n = snprintf(kv->name, sizeof(kv->name), "%s", name);
	if (n < 0 || (size_t)n >= sizeof(kv->name)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* The data dir's own path is trusted (followed); nothing below it. */
	kv->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (kv->dirfd < 0)
		return -1;
	/* A temp file is the leftover of a write cut short: never the store.
	 * A regular one is removed; a symlink there is refused. */
	char tmp[sizeof(kv->name) + 4];
	snprintf(tmp, sizeof(tmp), "%s.tmp", kv->name);
	struct stat st;
	const char *bad = name;
	if (fstatat(kv->dirfd, tmp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode)) {
			bad = tmp;
			errno = S_ISLNK(st.st_mode) ? ELOOP : EINVAL;
			goto fail;
		}
		unlinkat(kv->dirfd, tmp, 0);
	}
	uint8_t *buf;
	size_t len;
	if (espat_read_all(kv->dirfd, name, KV_FILE_MAX, &buf, &len) < 0) {
		if (errno == ENOENT)
			return 0;
		goto fail;
	}
	const char *why = parse(kv, buf, len);
	free(buf);
	if (why != NULL)
		espat_log_error(log,
		                "%s/%s: %s; starting with an empty store (the file is left "
		                "as it is until the next write)",
		                dir, name, why);
	return 0;
fail:;
	int e = errno;
	espat_log_error(log, "%s/%s: %s", dir, bad, espat_fs_strerror(e));
	close(kv->dirfd);
	kv->dirfd = -1;
	errno = e;
	return -1;
}

void espat_kv_file_close(struct espat_kv_file *kv)
{
	free_entries(kv->e, kv->n);
	free(kv->e);
	kv->e = NULL;
	kv->n = kv->cap = 0;
	if (kv->dirfd >= 0)
		close(kv->dirfd);
	kv->dirfd = -1;
}

static long kv_get(void *user, const char *ns, const char *key, uint8_t *buf, size_t cap)
{
	struct espat_kv_file *kv = user;
	if (!name_ok(ns) || !name_ok(key))
		return -1;
	bool found;
	size_t i = find(kv, ns, key, &found);
	if (!found)
		return -1;
	size_t n = kv->e[i].len < cap ? kv->e[i].len : cap;
	if (n)
		memcpy(buf, kv->e[i].val, n);
	return (long)kv->e[i].len;
}

static int kv_set(void *user, const char *ns, const char *key, const uint8_t *val, size_t len)
{
	struct espat_kv_file *kv = user;
	if (!name_ok(ns) || !name_ok(key) || len > ESPAT_KV_VALUE_MAX || (len && val == NULL))
		return -1;
	bool found;
	size_t i = find(kv, ns, key, &found);
	if (found && kv->e[i].len == len && (len == 0 || memcmp(kv->e[i].val, val, len) == 0))
		return 0; /* unchanged: write nothing (the kv contract) */
	uint8_t *copy = malloc(len ? len : 1);
	if (copy == NULL)
		return -1;
	if (len)
		memcpy(copy, val, len);
	if (found) {
		/* Swap in the new value, write, then keep or roll back. */
		uint8_t *old = kv->e[i].val;
		size_t old_len = kv->e[i].len;
		kv->e[i].val = copy;
		kv->e[i].len = len;
		if (save(kv, kv->e, kv->n) < 0) {
			kv->e[i].val = old;
			kv->e[i].len = old_len;
			free(copy);
			return -1;
		}
		free(old);
		return 0;
	}
	if (kv->n == kv->cap) {
		size_t cap = kv->cap ? kv->cap * 2 : 16;
		struct espat_kv_entry *e = realloc(kv->e, cap * sizeof(*e));
		if (e == NULL) {
			free(copy);
			return -1;
		}
		kv->e = e;
		kv->cap = cap;
	}
	memmove(&kv->e[i + 1], &kv->e[i], (kv->n - i) * sizeof(*kv->e));
	struct espat_kv_entry *e = &kv->e[i];
	*e = (struct espat_kv_entry){.val = copy, .len = len};
	memcpy(e->ns, ns, strlen(ns) + 1);
	memcpy(e->key, key, strlen(key) + 1);
	kv->n++;
	if (save(kv, kv->e, kv->n) < 0) {
		kv->n--;
		memmove(&kv->e[i], &kv->e[i + 1], (kv->n - i) * sizeof(*kv->e));
		free(copy);
		return -1;
	}
	return 0;
}

static bool erase_matches(const struct espat_kv_entry *e, const char *ns, const char *key)
{
	if (ns == NULL)
		return true;
	return strcmp(e->ns, ns) == 0 && (key == NULL || strcmp(e->key, key) == 0);
}

static int kv_erase(void *user, const char *ns, const char *key)
{
	struct espat_kv_file *kv = user;
	size_t keep = 0;
	for (size_t i = 0; i < kv->n; i++)
		keep += !erase_matches(&kv->e[i], ns, key);
	if (keep == kv->n)
		return 0; /* nothing to erase: write nothing */
	/* Build the surviving set aside so a failed write changes nothing. */
	struct espat_kv_entry *rest = malloc((keep ? keep : 1) * sizeof(*rest));
	if (rest == NULL)
		return -1;
	size_t j = 0;
	for (size_t i = 0; i < kv->n; i++) {
		if (!erase_matches(&kv->e[i], ns, key))
			rest[j++] = kv->e[i];
	}
	if (save(kv, rest, keep) < 0) {
		free(rest);
		return -1;
	}
	for (size_t i = 0; i < kv->n; i++) {
		if (erase_matches(&kv->e[i], ns, key))
			free(kv->e[i].val);
	}
	free(kv->e);
	kv->e = rest;
	kv->n = kv->cap = keep;
	return 0;
}

static void kv_list(void *user, const char *ns, espat_kv_each_fn *fn, void *cbuser)
{
	const struct espat_kv_file *kv = user;
	/* fn must not change the store (it would move entries under us). */
	for (size_t i = 0; i < kv->n; i++) {
		const struct espat_kv_entry *e = &kv->e[i];
		if (ns == NULL || strcmp(e->ns, ns) == 0)
			fn(cbuser, e->ns, e->key, e->val, e->len);
	}
}

struct espat_kv espat_kv_file_port(struct espat_kv_file *kv)
{
	return (struct espat_kv){
	    .get = kv_get,
	    .set = kv_set,
	    .erase = kv_erase,
	    .list = kv_list,
	    .user = kv,
	};
}
