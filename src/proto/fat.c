/* FAT12/16 over struct espat_fat_io (see fat.h for the contract and the
 * crash-safety order). The FAT and the root directory are kept in RAM
 * twice: as the layer wants them and as the volume holds them, so a flush
 * writes only the sectors that changed. */
#include "proto/fat.h"

#include <stdlib.h>
#include <string.h>

#define DIRENT 32u
#define ATTR_RO 0x01
#define ATTR_VOL 0x08
#define ATTR_DIR 0x10
#define ATTR_ARCH 0x20
#define ATTR_LFN 0x0F
#define LFN_CHARS 13u
#define FMT_BPS 4096u
#define FMT_ROOT 128u

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

/* ---- the FAT in RAM ------------------------------------------------------ */

static uint32_t eoc(const struct espat_fat *fs)
{
	return fs->bits == 12 ? 0xFFF : 0xFFFF;
}

static uint32_t fat_get(const struct espat_fat *fs, uint32_t c)
{
	if (fs->bits == 16)
		return le16(fs->fat + 2 * c);
	uint32_t o = c + c / 2;
	uint32_t v = le16(fs->fat + o);
	return c & 1 ? v >> 4 : v & 0xFFF;
}

static void fat_set(struct espat_fat *fs, uint32_t c, uint32_t v)
{
	if (fs->bits == 16) {
		put16(fs->fat + 2 * c, v);
		return;
	}
	uint32_t o = c + c / 2;
	uint32_t w = le16(fs->fat + o);
	w = c & 1 ? (w & 0x000F) | (v & 0xFFF) << 4 : (w & 0xF000) | (v & 0xFFF);
	put16(fs->fat + o, w);
}

static bool is_data_cluster(const struct espat_fat *fs, uint32_t c)
{
	return c >= 2 && c < fs->nclusters + 2;
}

static bool is_end(const struct espat_fat *fs, uint32_t v)
{
	return v >= (fs->bits == 12 ? 0xFF8u : 0xFFF8u);
}

/* The chain from start: up to max clusters into out (may be NULL), the
 * count in *n. ESPAT_FAT_EIO on a broken chain (bad pointer, loop). */
static int chain(const struct espat_fat *fs, uint32_t start, uint32_t *out, uint32_t *n)
{
	*n = 0;
	if (start == 0)
		return 0;
	uint32_t c = start;
	for (;;) {
		if (!is_data_cluster(fs, c) || *n >= fs->nclusters)
			return ESPAT_FAT_EIO;
		if (out)
			out[*n] = c;
		(*n)++;
		uint32_t v = fat_get(fs, c);
		if (is_end(fs, v))
			return 0;
		c = v;
	}
}

static uint32_t sec_off(const struct espat_fat *fs, uint32_t sec)
{
	return sec * fs->bps;
}

static uint32_t cluster_off(const struct espat_fat *fs, uint32_t c)
{
	return sec_off(fs, fs->data_sec + (c - 2) * fs->spc);
}

/* Writes the sectors of ram that differ from disk at volume sector first,
 * then records them as written. */
static int flush_region(struct espat_fat *fs, uint8_t *ram, uint8_t *disk, uint32_t first,
			uint32_t nsec, uint32_t bytes)
{
	for (uint32_t s = 0; s < nsec; s++) {
		uint32_t o = s * fs->bps;
		uint32_t len = bytes - o < fs->bps ? bytes - o : fs->bps;
		if (memcmp(ram + o, disk + o, len) == 0)
			continue;
		/* a partial last sector (root of an odd size) keeps its tail */
		if (len < fs->bps) {
			if (fs->io.read(fs->io.user, sec_off(fs, first + s), fs->sec, fs->bps) < 0)
				return ESPAT_FAT_EIO;
		}
		memcpy(fs->sec, ram + o, len);
		if (fs->io.write(fs->io.user, sec_off(fs, first + s), fs->sec, fs->bps) < 0)
			return ESPAT_FAT_EIO;
		memcpy(disk + o, ram + o, len);
	}
	return 0;
}

/* Makes every other FAT copy hold what FAT 1 holds on the volume. */
static int sync_copies(struct espat_fat *fs)
{
	uint32_t bytes = fs->fat_secs * fs->bps;
	if (fs->nfats < 2)
		return 0;
	uint8_t *old = malloc(bytes);
	if (!old)
		return ESPAT_FAT_ENOMEM;
	int rc = 0;
	for (uint32_t i = 1; i < fs->nfats && !rc; i++) {
		uint32_t first = fs->fat_sec + i * fs->fat_secs;
		if (fs->io.read(fs->io.user, sec_off(fs, first), old, bytes) < 0)
			rc = ESPAT_FAT_EIO;
		else
			rc = flush_region(fs, fs->fat_disk, old, first, fs->fat_secs, bytes);
	}
	free(old);
	return rc;
}

/* FAT 1 first, then the other copies. */
static int flush_fat(struct espat_fat *fs)
{
	uint32_t bytes = fs->fat_secs * fs->bps;
	if (memcmp(fs->fat, fs->fat_disk, bytes) == 0)
		return 0;
	int rc = flush_region(fs, fs->fat, fs->fat_disk, fs->fat_sec, fs->fat_secs, bytes);
	return rc ? rc : sync_copies(fs);
}

static int flush_root(struct espat_fat *fs)
{
	uint32_t bytes = fs->nroot * DIRENT;
	return flush_region(fs, fs->root, fs->root_disk, fs->root_sec,
			    (bytes + fs->bps - 1) / fs->bps, bytes);
}

/* ---- mount, format ------------------------------------------------------- */

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

void espat_fat_unmount(struct espat_fat *fs)
{
	free(fs->fat);
	free(fs->fat_disk);
	free(fs->root);
	free(fs->root_disk);
	free(fs->sec);
	memset(fs, 0, sizeof(*fs));
}

static int geometry(struct espat_fat *fs, const uint8_t *b)
{
	if (b[510] != 0x55 || b[511] != 0xAA || (b[0] != 0xEB && b[0] != 0xE9))
		return ESPAT_FAT_ENOFS;
	uint32_t bps = le16(b + 11), spc = b[13], rsvd = le16(b + 14), nfats = b[16];
	uint32_t nroot = le16(b + 17), tot = le16(b + 19), fatsz = le16(b + 22);
	if (tot == 0)
		tot = le32(b + 32);
	if (bps < 512 || bps > ESPAT_FAT_SECTOR_MAX || !pow2(bps) || !pow2(spc) || spc > 128 ||
	    rsvd == 0 || nfats == 0 || nfats > 4 || nroot == 0 || fatsz == 0 || tot == 0)
		return ESPAT_FAT_ENOFS;
	if ((uint64_t)tot * bps > fs->io.size || (uint64_t)tot * bps > ESPAT_FAT_VOLUME_MAX)
		return ESPAT_FAT_ENOFS;
	uint32_t root_secs = (nroot * DIRENT + bps - 1) / bps;
	uint64_t data = (uint64_t)rsvd + (uint64_t)nfats * fatsz + root_secs;
	if (data >= tot)
		return ESPAT_FAT_ENOFS;
	uint32_t ncl = (uint32_t)((tot - data) / spc);
	if (ncl == 0 || ncl >= 65525)
		return ESPAT_FAT_ENOFS;
	fs->bits = ncl < 4085 ? 12 : 16;
	uint64_t need = fs->bits == 12 ? ((uint64_t)ncl + 2) * 3 / 2 + 1 : ((uint64_t)ncl + 2) * 2;
	if ((uint64_t)fatsz * bps < need)
		return ESPAT_FAT_ENOFS;
	fs->bps = bps;
	fs->spc = spc;
	fs->nfats = nfats;
	fs->fat_sec = rsvd;
	fs->fat_secs = fatsz;
	fs->root_sec = rsvd + nfats * fatsz;
	fs->nroot = nroot;
	fs->data_sec = (uint32_t)data;
	fs->nclusters = ncl;
	return 0;
}

int espat_fat_mount(struct espat_fat *fs, const struct espat_fat_io *io)
{
	memset(fs, 0, sizeof(*fs));
	fs->io = *io;
	fs->date = 0x21; /* 1980-01-01 */
	uint8_t boot[512];
	if (io->size < 512 || io->read(io->user, 0, boot, sizeof(boot)) < 0)
		return io->size < 512 ? ESPAT_FAT_ENOFS : ESPAT_FAT_EIO;
	int rc = geometry(fs, boot);
	if (rc)
		return rc;
	uint32_t fbytes = fs->fat_secs * fs->bps, rbytes = fs->nroot * DIRENT;
	fs->fat = malloc(fbytes);
	fs->fat_disk = malloc(fbytes);
	fs->root = malloc(rbytes);
	fs->root_disk = malloc(rbytes);
	fs->sec = malloc(fs->bps);
	if (!fs->fat || !fs->fat_disk || !fs->root || !fs->root_disk || !fs->sec) {
		espat_fat_unmount(fs);
		return ESPAT_FAT_ENOMEM;
	}
	if (io->read(io->user, sec_off(fs, fs->fat_sec), fs->fat, fbytes) < 0 ||
	    io->read(io->user, sec_off(fs, fs->root_sec), fs->root, rbytes) < 0) {
		espat_fat_unmount(fs);
		return ESPAT_FAT_EIO;
	}
	memcpy(fs->fat_disk, fs->fat, fbytes);
	memcpy(fs->root_disk, fs->root, rbytes);
	/* A cut between the FAT copies leaves them different: FAT 1 was
	 * written first and wins. */
	if (sync_copies(fs) < 0) {
		espat_fat_unmount(fs);
		return ESPAT_FAT_EIO;
	}
	return 0;
}

int espat_fat_format(const struct espat_fat_io *io)
{
	uint32_t tot = io->size / FMT_BPS;
	uint32_t root_secs = FMT_ROOT * DIRENT / FMT_BPS;
	if (tot < 8 || tot > 65535)
		return ESPAT_FAT_EINVAL;
	/* FAT12 while it fits: 1.5 bytes an entry */
	uint32_t fatsz = ((tot + 2) * 3 / 2 + FMT_BPS) / FMT_BPS;
	if (tot - 1 - 2 * fatsz - root_secs >= 4085)
		fatsz = ((tot + 2) * 2 + FMT_BPS - 1) / FMT_BPS;
	uint32_t ncl = tot - 1 - 2 * fatsz - root_secs;
	uint8_t *s = calloc(1, FMT_BPS);
	if (!s)
		return ESPAT_FAT_ENOMEM;
	int rc = 0;
	/* root and FATs first, the boot sector last: a cut leaves no FAT */
	for (uint32_t i = 1; i < 1 + 2 * fatsz + root_secs && !rc; i++)
		rc = io->write(io->user, i * FMT_BPS, s, FMT_BPS);
	bool fat16 = ncl >= 4085;
	s[0] = 0xF8;
	s[1] = 0xFF;
	s[2] = 0xFF;
	if (fat16)
		s[3] = 0xFF;
	for (uint32_t i = 0; i < 2 && !rc; i++)
		rc = io->write(io->user, (1 + i * fatsz) * FMT_BPS, s, FMT_BPS);
	memset(s, 0, FMT_BPS);
	static const uint8_t jmp[3] = {0xEB, 0x3C, 0x90};
	memcpy(s, jmp, 3);
	memcpy(s + 3, "ESPAT1.0", 8);
	put16(s + 11, FMT_BPS);
	s[13] = 1;                     /* sectors per cluster */
	put16(s + 14, 1);              /* reserved sectors */
	s[16] = 2;                     /* FATs */
	put16(s + 17, FMT_ROOT);
	put16(s + 19, tot);
	s[21] = 0xF8;                  /* media: fixed disk */
	put16(s + 22, fatsz);
	put16(s + 24, 63);             /* sectors per track, heads: nominal */
	put16(s + 26, 255);
	s[36] = 0x80;                  /* drive number */
	s[38] = 0x29;                  /* extended boot signature */
	put32(s + 39, 0x45535041);     /* volume id */
	memcpy(s + 43, "NO NAME    ", 11);
	memcpy(s + 54, fat16 ? "FAT16   " : "FAT12   ", 8);
	s[510] = 0x55;
	s[511] = 0xAA;
	if (!rc)
		rc = io->write(io->user, 0, s, FMT_BPS);
	free(s);
	return rc ? ESPAT_FAT_EIO : 0;
}

/* ---- names --------------------------------------------------------------- */

bool espat_fat_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > ESPAT_FAT_NAME_MAX)
		return false;
	if (name[len - 1] == '.' || name[len - 1] == ' ' || name[0] == ' ')
		return false; /* covers "." and ".." */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c > 0x7E || strchr("/\\:*?\"<>|", c))
			return false;
	}
	return true;
}

static char up(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
}

static bool name_eq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (up(a[i]) != up(b[i]))
			return false;
	return true;
}

static bool sfn_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("!#$%&'()-@^_`{}~", c);
}

/* name as an 8.3 short name (upper case only), or false. */
static bool as_sfn(const char *name, size_t len, uint8_t sfn[11])
{
	memset(sfn, ' ', 11);
	const char *dot = memchr(name, '.', len);
	size_t base = dot ? (size_t)(dot - name) : len;
	size_t ext = dot ? len - base - 1 : 0;
	if (base == 0 || base > 8 || ext > 3)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (name + i == dot)
			continue;
		if (!sfn_char(name[i]))
			return false;
	}
	memcpy(sfn, name, base);
	if (dot)
		memcpy(sfn + 8, dot + 1, ext);
	return true;
}

static uint8_t sfn_sum(const uint8_t *sfn)
{
	uint8_t sum = 0;
	for (int i = 0; i < 11; i++)
		sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + sfn[i]);
	return sum;
}

/* The short name's display form ("NAME.EXT", lower case where the NT
 * flags say so). */
static void sfn_text(const uint8_t *e, char *out)
{
	size_t n = 0;
	for (int i = 0; i < 8 && e[i] != ' '; i++) {
		char c = (char)(i == 0 && e[0] == 0x05 ? 0xE5 : e[i]);
		out[n++] = (e[12] & 0x08) && c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
	}
	if (e[8] != ' ') {
		out[n++] = '.';
		for (int i = 8; i < 11 && e[i] != ' '; i++)
			out[n++] = (e[12] & 0x10) && e[i] >= 'A' && e[i] <= 'Z' ? (char)(e[i] + 32)
									       : (char)e[i];
	}
	out[n] = 0;
}

static size_t put_utf8(char *out, size_t n, uint16_t u)
{
	if (u < 0x80) {
		out[n++] = (char)u;
	} else if (u < 0x800) {
		out[n++] = (char)(0xC0 | u >> 6);
		out[n++] = (char)(0x80 | (u & 0x3F));
	} else {
		out[n++] = (char)(0xE0 | u >> 12);
		out[n++] = (char)(0x80 | (u >> 6 & 0x3F));
		out[n++] = (char)(0x80 | (u & 0x3F));
	}
	return n;
}

static const uint8_t lfn_pos[LFN_CHARS] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};

/* One root entry as the walk sees it. */
struct dent {
	uint32_t idx;   /* the short entry */
	uint32_t first; /* its first long entry (== idx without one) */
	char name[ESPAT_FAT_NAME_MAX * 3 + 1];
	uint8_t *e;     /* the short entry in fs->root */
};

/* Walks the root: fn per live entry (labels skipped); stops on nonzero. */
typedef int walk_fn(struct espat_fat *fs, struct dent *d, void *user);

static int walk(struct espat_fat *fs, walk_fn *fn, void *user)
{
	struct dent *d = malloc(sizeof(*d));
	if (!d)
		return ESPAT_FAT_ENOMEM;
	uint16_t lname[20 * LFN_CHARS + 1];
	int lseq = 0, lcount = 0; /* next expected sequence number, entries seen */
	uint8_t lsum = 0;
	uint32_t lfirst = 0;
	int rc = 0;
	for (uint32_t i = 0; i < fs->nroot && !rc; i++) {
		uint8_t *e = fs->root + i * DIRENT;
		if (e[0] == 0)
			break;
		if (e[0] == 0xE5) {
			lseq = lcount = 0;
			continue;
		}
		if ((e[11] & 0x3F) == ATTR_LFN) {
			int seq = e[0] & 0x1F;
			if (e[0] & 0x40) {
				if (seq == 0 || seq > 20) {
					lseq = lcount = 0;
					continue;
				}
				lcount = seq;
				lsum = e[13];
				lfirst = i;
				memset(lname, 0, sizeof(lname));
			} else if (seq != lseq || e[13] != lsum || lcount == 0) {
				lseq = lcount = 0;
				continue;
			}
			for (uint32_t k = 0; k < LFN_CHARS; k++)
				lname[(uint32_t)(seq - 1) * LFN_CHARS + k] = le16(e + lfn_pos[k]);
			lseq = seq - 1;
			continue;
		}
		bool have_lfn = lseq == 0 && lcount > 0 && lsum == sfn_sum(e);
		if (e[11] & ATTR_VOL) {
			lseq = lcount = 0;
			continue;
		}
		d->idx = i;
		d->e = e;
		d->first = i;
		size_t n = 0;
		if (have_lfn) {
			for (int k = 0; k < lcount * (int)LFN_CHARS && lname[k] && lname[k] != 0xFFFF &&
					n < ESPAT_FAT_NAME_MAX * 3 - 3;
			     k++)
				n = put_utf8(d->name, n, lname[k]);
			d->name[n] = 0;
			d->first = lfirst;
		}
		if (n == 0)
			sfn_text(e, d->name);
		lseq = lcount = 0;
		rc = fn(fs, d, user);
	}
	free(d);
	return rc;
}

struct find {
	const char *name;
	size_t len;
	uint32_t idx, first;
	bool found;
};

static int find_cb(struct espat_fat *fs, struct dent *d, void *user)
{
	struct find *f = user;
	char sfn[13];
	sfn_text(d->e, sfn);
	if (name_eq(f->name, f->len, d->name) || name_eq(f->name, f->len, sfn)) {
		f->idx = d->idx;
		f->first = d->first;
		f->found = true;
		return 1;
	}
	return 0;
}

/* The entry of name: ESPAT_FAT_ENOENT, or 0 with f filled. */
static int lookup(struct espat_fat *fs, const char *name, size_t len, struct find *f)
{
	if (!espat_fat_name_ok(name, len))
		return ESPAT_FAT_EINVAL;
	*f = (struct find){.name = name, .len = len};
	int rc = walk(fs, find_cb, f);
	if (rc < 0)
		return rc;
	return f->found ? 0 : ESPAT_FAT_ENOENT;
}

/* ---- operations ---------------------------------------------------------- */

struct list_ctx {
	espat_fat_list_fn *fn;
	void *user;
};

static int list_cb(struct espat_fat *fs, struct dent *d, void *user)
{
	struct list_ctx *l = user;
	(void)fs;
	return l->fn(l->user, d->name, le32(d->e + 28), (d->e[11] & ATTR_DIR) != 0);
}

int espat_fat_list(struct espat_fat *fs, espat_fat_list_fn *fn, void *user)
{
	struct list_ctx l = {fn, user};
	return walk(fs, list_cb, &l);
}

static uint32_t start_cluster(const uint8_t *e)
{
	return le16(e + 26);
}

/* A regular file's entry, or an error. */
static int file_entry(struct espat_fat *fs, const char *name, size_t len, struct find *f,
		      uint8_t **e)
{
	int rc = lookup(fs, name, len, f);
	if (rc)
		return rc;
	*e = fs->root + f->idx * DIRENT;
	return (*e)[11] & (ATTR_DIR | ATTR_VOL) ? ESPAT_FAT_EISDIR : 0;
}

int espat_fat_stat(struct espat_fat *fs, const char *name, size_t len, uint32_t *size)
{
	struct find f;
	uint8_t *e;
	int rc = file_entry(fs, name, len, &f, &e);
	if (rc == 0)
		*size = le32(e + 28);
	return rc;
}

static uint32_t csize(const struct espat_fat *fs)
{
	return fs->bps * fs->spc;
}

int espat_fat_read(struct espat_fat *fs, const char *name, size_t len, uint32_t off,
		   uint8_t *buf, uint32_t n, uint32_t *got)
{
	struct find f;
	uint8_t *e;
	*got = 0;
	int rc = file_entry(fs, name, len, &f, &e);
	if (rc)
		return rc;
	uint32_t size = le32(e + 28);
	if (off >= size || n == 0)
		return 0;
	if (n > size - off)
		n = size - off;
	uint32_t cs = csize(fs), c = start_cluster(e);
	/* skip to off's cluster, checking the chain as we go */
	for (uint32_t k = off / cs, steps = 0; k > 0; k--) {
		if (!is_data_cluster(fs, c) || ++steps > fs->nclusters)
			return ESPAT_FAT_EIO;
		c = fat_get(fs, c);
	}
	uint32_t in = off % cs, done = 0, steps = 0;
	while (done < n) {
		if (!is_data_cluster(fs, c) || ++steps > fs->nclusters)
			return ESPAT_FAT_EIO;
		uint32_t take = cs - in < n - done ? cs - in : n - done;
		if (fs->io.read(fs->io.user, cluster_off(fs, c) + in, buf + done, take) < 0)
			return ESPAT_FAT_EIO;
		done += take;
		in = 0;
		c = fat_get(fs, c);
	}
	*got = n;
	return 0;
}

uint32_t espat_fat_free_bytes(const struct espat_fat *fs)
{
	uint32_t n = 0;
	for (uint32_t c = 2; c < fs->nclusters + 2; c++)
		n += fat_get(fs, c) == 0;
	return n * csize(fs);
}

/* Free root slots: the first run of k, or ESPAT_FAT_ENOSPC. */
static int free_slots(const struct espat_fat *fs, uint32_t k, uint32_t *at)
{
	uint32_t run = 0;
	for (uint32_t i = 0; i < fs->nroot; i++) {
		uint8_t b = fs->root[i * DIRENT];
		run = b == 0 || b == 0xE5 ? run + 1 : 0;
		if (run == k) {
			*at = i + 1 - k;
			return 0;
		}
	}
	return ESPAT_FAT_ENOSPC;
}

static bool sfn_taken(const struct espat_fat *fs, const uint8_t sfn[11])
{
	for (uint32_t i = 0; i < fs->nroot; i++) {
		const uint8_t *e = fs->root + i * DIRENT;
		if (e[0] == 0)
			break;
		if (e[0] != 0xE5 && (e[11] & 0x3F) != ATTR_LFN && memcmp(e, sfn, 11) == 0)
			return true;
	}
	return false;
}

/* A unique NAME~N.EXT for a long name. */
static int make_sfn(const struct espat_fat *fs, const char *name, size_t len, uint8_t sfn[11])
{
	const char *dot = NULL;
	for (size_t i = len; i-- > 0;)
		if (name[i] == '.') {
			dot = name + i;
			break;
		}
	char base[8], ext[3];
	size_t nb = 0, ne = 0;
	for (const char *p = name; p < (dot ? dot : name + len) && nb < 6; p++) {
		char c = up(*p);
		if (c == ' ' || c == '.')
			continue;
		base[nb++] = sfn_char(c) ? c : '_';
	}
	if (nb == 0)
		base[nb++] = '_';
	for (const char *p = dot ? dot + 1 : name + len; p < name + len && ne < 3; p++) {
		char c = up(*p);
		if (c != ' ')
			ext[ne++] = sfn_char(c) ? c : '_';
	}
	for (uint32_t n = 1; n < 1000000; n++) {
		char num[8];
		size_t nl = 0;
		for (uint32_t v = n; v; v /= 10)
			num[nl++] = (char)('0' + v % 10);
		size_t keep = nb + 1 + nl > 8 ? 8 - 1 - nl : nb;
		memset(sfn, ' ', 11);
		memcpy(sfn, base, keep);
		sfn[keep] = '~';
		for (size_t i = 0; i < nl; i++)
			sfn[keep + 1 + i] = (uint8_t)num[nl - 1 - i];
		memcpy(sfn + 8, ext, ne);
		if (!sfn_taken(fs, sfn))
			return 0;
	}
	return ESPAT_FAT_ENOSPC;
}

/* Fills a new entry (and its long entries) for name at free slots in RAM;
 * *idx is the short entry. Nothing is written to the volume. */
static int new_entry(struct espat_fat *fs, const char *name, size_t len, uint32_t *idx)
{
	uint8_t sfn[11];
	uint32_t nl = 0;
	if (!as_sfn(name, len, sfn)) {
		int rc = make_sfn(fs, name, len, sfn);
		if (rc)
			return rc;
		nl = (uint32_t)(len + LFN_CHARS - 1) / LFN_CHARS;
	}
	uint32_t at;
	int rc = free_slots(fs, nl + 1, &at);
	if (rc)
		return rc;
	uint8_t sum = sfn_sum(sfn);
	for (uint32_t k = 0; k < nl; k++) {
		uint32_t seq = nl - k; /* stored last part first */
		uint8_t *e = fs->root + (at + k) * DIRENT;
		memset(e, 0, DIRENT);
		e[0] = (uint8_t)(seq | (k == 0 ? 0x40 : 0));
		e[11] = ATTR_LFN;
		e[13] = sum;
		for (uint32_t j = 0; j < LFN_CHARS; j++) {
			size_t ci = (seq - 1) * LFN_CHARS + j;
			uint32_t u = ci < len ? (uint8_t)name[ci] : ci == len ? 0 : 0xFFFF;
			put16(e + lfn_pos[j], u);
		}
	}
	uint8_t *e = fs->root + (at + nl) * DIRENT;
	memset(e, 0, DIRENT);
	memcpy(e, sfn, 11);
	e[11] = ATTR_ARCH;
	put16(e + 14, fs->time);
	put16(e + 16, fs->date);
	put16(e + 18, fs->date);
	put16(e + 22, fs->time);
	put16(e + 24, fs->date);
	*idx = at + nl;
	return 0;
}

/* Writes bytes [from, to) of the file whose clusters are cl[], taking
 * src for [off, off+n) and zeros elsewhere; sectors holding bytes below
 * keep (old data) are read first. */
static int write_range(struct espat_fat *fs, const uint32_t *cl, uint32_t from, uint32_t to,
		       uint32_t keep, uint32_t off, const uint8_t *src, uint32_t n)
{
	uint32_t bps = fs->bps, cs = csize(fs);
	for (uint32_t p = from - from % bps; p < to; p += bps) {
		uint32_t vol = cluster_off(fs, cl[p / cs]) + p % cs;
		if (p < keep) {
			if (fs->io.read(fs->io.user, vol, fs->sec, bps) < 0)
				return ESPAT_FAT_EIO;
		} else {
			memset(fs->sec, 0, bps);
		}
		/* zeros from the old end, then the data */
		for (uint32_t b = p < keep ? keep : p; b < p + bps && b < off; b++)
			fs->sec[b - p] = 0;
		uint32_t a = off > p ? off : p;
		uint32_t z = off + n < p + bps ? off + n : p + bps;
		if (a < z)
			memcpy(fs->sec + (a - p), src + (a - off), z - a);
		if (fs->io.write(fs->io.user, vol, fs->sec, bps) < 0)
			return ESPAT_FAT_EIO;
	}
	return 0;
}

static void rollback(struct espat_fat *fs)
{
	memcpy(fs->fat, fs->fat_disk, fs->fat_secs * fs->bps);
	memcpy(fs->root, fs->root_disk, fs->nroot * DIRENT);
}

int espat_fat_write(struct espat_fat *fs, const char *name, size_t len, uint32_t off,
		    const uint8_t *buf, uint32_t n)
{
	struct find f;
	uint8_t *e = NULL;
	int rc = file_entry(fs, name, len, &f, &e);
	if (rc && rc != ESPAT_FAT_ENOENT)
		return rc;
	if ((uint64_t)off + n > 0xFFFFFFFFu || (uint64_t)off + n > fs->io.size)
		return ESPAT_FAT_ENOSPC;
	uint32_t idx;
	if (rc == ESPAT_FAT_ENOENT) {
		rc = new_entry(fs, name, len, &idx);
		if (rc) {
			rollback(fs);
			return rc;
		}
	} else {
		idx = f.idx;
	}
	e = fs->root + idx * DIRENT;
	uint32_t size = le32(e + 28), end = off + n > size ? off + n : size;
	uint32_t cs = csize(fs), have, want = (end + cs - 1) / cs;
	if (chain(fs, start_cluster(e), NULL, &have) < 0) {
		rollback(fs);
		return ESPAT_FAT_EIO;
	}
	uint32_t *cl = malloc(sizeof(uint32_t) * (want > have ? want : have) + sizeof(uint32_t));
	if (!cl) {
		rollback(fs);
		return ESPAT_FAT_ENOMEM;
	}
	chain(fs, start_cluster(e), cl, &have);
	/* allocate first-fit in RAM; nothing written yet */
	uint32_t c = 2;
	for (uint32_t k = have; k < want; k++) {
		while (c < fs->nclusters + 2 && fat_get(fs, c) != 0)
			c++;
		if (c >= fs->nclusters + 2) {
			free(cl);
			rollback(fs);
			return ESPAT_FAT_ENOSPC;
		}
		cl[k] = c;
		fat_set(fs, c, eoc(fs));
		if (k > 0)
			fat_set(fs, cl[k - 1], c);
		c++;
	}
	/* 1. data (new clusters are free space until linked) */
	rc = n ? write_range(fs, cl, off < size ? off : size, off + n, size, off, buf, n) : 0;
	/* 2. the FAT copies */
	if (!rc)
		rc = flush_fat(fs);
	/* 3. the entry */
	if (!rc) {
		if (have == 0 && want > 0)
			put16(e + 26, cl[0]);
		put32(e + 28, end);
		e[11] |= ATTR_ARCH;
		put16(e + 22, fs->time);
		put16(e + 24, fs->date);
		rc = flush_root(fs);
	}
	free(cl);
	if (rc)
		rollback(fs);
	return rc;
}

int espat_fat_delete(struct espat_fat *fs, const char *name, size_t len)
{
	struct find f;
	uint8_t *e;
	int rc = file_entry(fs, name, len, &f, &e);
	if (rc)
		return rc;
	uint32_t n, start = start_cluster(e);
	int broken = chain(fs, start, NULL, &n);
	for (uint32_t i = f.first; i <= f.idx; i++)
		fs->root[i * DIRENT] = 0xE5;
	rc = flush_root(fs); /* the entry goes first: no entry points at free clusters */
	if (rc) {
		rollback(fs);
		return rc;
	}
	if (broken == 0) {
		for (uint32_t c = start, k = 0; k < n; k++) {
			uint32_t next = fat_get(fs, c);
			fat_set(fs, c, 0);
			c = next;
		}
		rc = flush_fat(fs);
		if (rc)
			rollback(fs);
	}
	return rc;
}
