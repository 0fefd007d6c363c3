/* The FAT layer (proto/fat.h) on in-memory images: format and mount, short
 * and long names, odd sizes and offsets, a full volume, bad names, and a
 * power cut after every write followed by a consistency check. mtools and
 * fsck.fat read the layer's images in tests/e2e/test_fs.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/fat.h"

#define VOL (100u * 1024u) /* the fatfs partition */

struct img {
	uint8_t *b;
	uint32_t size;
	long budget; /* writes left before the power goes; <0: unlimited */
	long writes; /* writes done */
};

static int img_read(void *user, uint32_t off, uint8_t *buf, uint32_t len)
{
	struct img *im = user;
	if (off > im->size || len > im->size - off)
		return -1;
	memcpy(buf, im->b + off, len);
	return 0;
}

static int img_write(void *user, uint32_t off, const uint8_t *buf, uint32_t len)
{
	struct img *im = user;
	if (off > im->size || len > im->size - off)
		return -1;
	if (im->budget == 0)
		return -1; /* the power is gone: nothing more reaches the volume */
	if (im->budget > 0)
		im->budget--;
	memcpy(im->b + off, buf, len);
	im->writes++;
	return 0;
}

static struct espat_fat_io io_of(struct img *im)
{
	return (struct espat_fat_io){img_read, img_write, im, im->size};
}

static void img_new(struct img *im, uint32_t size)
{
	im->b = malloc(size);
	assert_non_null(im->b);
	memset(im->b, 0xFF, size);
	im->size = size;
	im->budget = -1;
	im->writes = 0;
}

static void mount_fresh(struct img *im, struct espat_fat *fs)
{
	img_new(im, VOL);
	struct espat_fat_io io = io_of(im);
	assert_int_equal(espat_fat_mount(fs, &io), ESPAT_FAT_ENOFS);
	assert_int_equal(espat_fat_format(&io), 0);
	assert_int_equal(espat_fat_mount(fs, &io), 0);
}

static void pattern(uint8_t *p, uint32_t n, uint32_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 131u + seed * 7u) >> 3 ^ seed);
}

static void put(struct espat_fat *fs, const char *name, uint32_t off, const uint8_t *p,
		uint32_t n)
{
	assert_int_equal(espat_fat_write(fs, name, strlen(name), off, p, n), 0);
}

static void same(struct espat_fat *fs, const char *name, const uint8_t *want, uint32_t n)
{
	uint32_t size = 0, got = 0;
	assert_int_equal(espat_fat_stat(fs, name, strlen(name), &size), 0);
	assert_int_equal(size, n);
	uint8_t *b = malloc(n + 1);
	assert_int_equal(espat_fat_read(fs, name, strlen(name), 0, b, n + 1, &got), 0);
	assert_int_equal(got, n);
	assert_memory_equal(b, want, n);
	free(b);
}

struct names {
	char v[32][300];
	uint32_t size[32];
	int n;
};

static int collect(void *user, const char *name, uint32_t size, bool dir)
{
	struct names *ns = user;
	if (ns->n < 32) {
		snprintf(ns->v[ns->n], sizeof(ns->v[0]), "%s", name);
		ns->size[ns->n++] = size;
	}
	return 0;
}

static void format_mount(void **state)
{
	struct img im;
	struct espat_fat fs;
	mount_fresh(&im, &fs);
	assert_int_equal(fs.bits, 12);
	assert_int_equal(fs.bps, 4096);
	assert_int_equal(espat_fat_free_bytes(&fs), 21 * 4096);
	struct names ns = {0};
	assert_int_equal(espat_fat_list(&fs, collect, &ns), 0);
	assert_int_equal(ns.n, 0);
	espat_fat_unmount(&fs);
	/* too small, and garbage, are no FAT */
	struct espat_fat_io io = io_of(&im);
	io.size = 100;
	assert_int_equal(espat_fat_mount(&fs, &io), ESPAT_FAT_ENOFS);
	memset(im.b, 0, 512);
	io = io_of(&im);
	assert_int_equal(espat_fat_mount(&fs, &io), ESPAT_FAT_ENOFS);
	free(im.b);
}

static void names_short_and_long(void **state)
{
	struct img im;
	struct espat_fat fs;
	mount_fresh(&im, &fs);
	static const char *const n[] = {"A.TXT", "test.txt", "index.html",
					"a rather long file name with spaces.json", "LONGNAME~1",
					"NOEXT"};
	uint8_t d[64];
	for (int i = 0; i < 6; i++) {
		pattern(d, sizeof(d), (uint32_t)i);
		put(&fs, n[i], 0, d, (uint32_t)(10 + i));
	}
	struct names ns = {0};
	assert_int_equal(espat_fat_list(&fs, collect, &ns), 0);
	assert_int_equal(ns.n, 6);
	for (int i = 0; i < 6; i++) {
		assert_string_equal(ns.v[i], n[i]);
		assert_int_equal(ns.size[i], 10 + i);
	}
	/* case-insensitive, and the short alias finds the long name */
	uint32_t size;
	assert_int_equal(espat_fat_stat(&fs, "TEST.TXT", 8, &size), 0);
	assert_int_equal(espat_fat_stat(&fs, "INDEX~1.HTM", 11, &size), 0);
	assert_int_equal(size, 12);
	/* a remount sees the same */
	espat_fat_unmount(&fs);
	struct espat_fat_io io = io_of(&im);
	assert_int_equal(espat_fat_mount(&fs, &io), 0);
	pattern(d, sizeof(d), 3);
	same(&fs, n[3], d, 13);
	/* delete removes the long entries too */
	assert_int_equal(espat_fat_delete(&fs, n[3], strlen(n[3])), 0);
	assert_int_equal(espat_fat_stat(&fs, n[3], strlen(n[3]), &size), ESPAT_FAT_ENOENT);
	assert_int_equal(espat_fat_delete(&fs, n[3], strlen(n[3])), ESPAT_FAT_ENOENT);
	memset(&ns, 0, sizeof(ns));
	espat_fat_list(&fs, collect, &ns);
	assert_int_equal(ns.n, 5);
	/* bad names never reach the volume */
	static const char *const bad[] = {"", ".", "..", "../etc/passwd", "a/b", "a\\b",
					  "x:y", "trail.", " lead", "tab\t"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(espat_fat_name_ok(bad[i], strlen(bad[i])));
		assert_int_equal(espat_fat_write(&fs, bad[i], strlen(bad[i]), 0, d, 1),
				 ESPAT_FAT_EINVAL);
	}
	char longest[ESPAT_FAT_NAME_MAX + 2];
	memset(longest, 'x', sizeof(longest));
	assert_true(espat_fat_name_ok(longest, ESPAT_FAT_NAME_MAX));
	assert_false(espat_fat_name_ok(longest, ESPAT_FAT_NAME_MAX + 1));
	assert_int_equal(espat_fat_write(&fs, longest, ESPAT_FAT_NAME_MAX, 0, d, 3), 0);
	assert_int_equal(espat_fat_stat(&fs, longest, ESPAT_FAT_NAME_MAX, &size), 0);
	espat_fat_unmount(&fs);
	free(im.b);
}

static void odd_sizes_and_offsets(void **state)
{
	struct img im;
	struct espat_fat fs;
	mount_fresh(&im, &fs);
	static const uint32_t sizes[] = {1, 4095, 4096, 4097, 10000, 12289};
	uint8_t *d = malloc(20000), *w = malloc(40000);
	for (size_t i = 0; i < 6; i++) {
		char name[16];
		snprintf(name, sizeof(name), "f%zu.bin", i);
		pattern(d, sizes[i], (uint32_t)i);
		put(&fs, name, 0, d, sizes[i]);
		same(&fs, name, d, sizes[i]);
		uint32_t got;
		assert_int_equal(espat_fat_read(&fs, name, strlen(name), sizes[i], d, 5, &got), 0);
		assert_int_equal(got, 0);
		espat_fat_delete(&fs, name, strlen(name));
	}
	assert_int_equal(espat_fat_free_bytes(&fs), 21 * 4096);
	/* overwrite inside, extend across clusters, write past the end (zeros) */
	memset(w, 0, 40000);
	pattern(w, 5000, 9);
	put(&fs, "g", 0, w, 5000);
	pattern(d, 3000, 10);
	put(&fs, "g", 4000, d, 3000);
	memcpy(w + 4000, d, 3000);
	pattern(d, 10, 11);
	put(&fs, "g", 20000, d, 10);
	memcpy(w + 20000, d, 10);
	same(&fs, "g", w, 20010);
	uint32_t got;
	assert_int_equal(espat_fat_read(&fs, "g", 1, 4090, d, 20, &got), 0);
	assert_int_equal(got, 20);
	assert_memory_equal(d, w + 4090, 20);
	espat_fat_unmount(&fs);
	free(d);
	free(w);
	free(im.b);
}

static void full_volume(void **state)
{
	struct img im;
	struct espat_fat fs;
	mount_fresh(&im, &fs);
	uint8_t *d = calloc(1, VOL);
	put(&fs, "big", 0, d, 20 * 4096);
	uint32_t before = espat_fat_free_bytes(&fs);
	assert_int_equal(before, 4096);
	long w = im.writes;
	/* all or nothing: no byte reaches the volume */
	assert_int_equal(espat_fat_write(&fs, "more", 4, 0, d, 4097), ESPAT_FAT_ENOSPC);
	assert_int_equal(espat_fat_write(&fs, "big", 3, 20 * 4096, d, 4097), ESPAT_FAT_ENOSPC);
	assert_int_equal(im.writes, w);
	assert_int_equal(espat_fat_free_bytes(&fs), before);
	uint32_t size;
	assert_int_equal(espat_fat_stat(&fs, "more", 4, &size), ESPAT_FAT_ENOENT);
	put(&fs, "more", 0, d, 4096);
	assert_int_equal(espat_fat_free_bytes(&fs), 0);
	assert_int_equal(espat_fat_delete(&fs, "big", 3), 0);
	assert_int_equal(espat_fat_free_bytes(&fs), 20 * 4096);
	/* the root directory fills too: 128 entries */
	int made = 0;
	for (int i = 0; i < 200; i++) {
		char name[16];
		snprintf(name, sizeof(name), "E%d", i);
		int rc = espat_fat_write(&fs, name, strlen(name), 0, d, 0);
		if (rc == ESPAT_FAT_ENOSPC)
			break;
		assert_int_equal(rc, 0);
		made++;
	}
	assert_int_equal(made, 126); /* "more" took two: a long entry and its short one */
	espat_fat_unmount(&fs);
	free(d);
	free(im.b);
}

/* ---- power cut at every write ------------------------------------------- */

static uint32_t getfat(const struct espat_fat *fs, uint32_t c)
{
	if (fs->bits == 16)
		return (uint32_t)fs->fat[2 * c] | (uint32_t)fs->fat[2 * c + 1] << 8;
	uint32_t o = c + c / 2, v = (uint32_t)fs->fat[o] | (uint32_t)fs->fat[o + 1] << 8;
	return c & 1 ? v >> 4 : v & 0xFFF;
}

/* What fsck.fat would refuse to repair without loss: a chain that leaves
 * the volume, loops, or crosses another; a size beyond the chain; FAT
 * copies that differ after mount. Lost clusters and a chain longer than
 * the size are repairable leftovers of a cut. */
static void consistent(struct img *im)
{
	struct espat_fat fs;
	struct espat_fat_io io = io_of(im);
	im->budget = -1;
	assert_int_equal(espat_fat_mount(&fs, &io), 0);
	uint8_t *seen = calloc(fs.nclusters + 2, 1);
	for (uint32_t i = 0; i < fs.nroot; i++) {
		const uint8_t *e = fs.root + 32 * i;
		if (e[0] == 0)
			break;
		if (e[0] == 0xE5 || (e[11] & 0x3F) == 0x0F || (e[11] & 0x08))
			continue;
		uint32_t c = (uint32_t)e[26] | (uint32_t)e[27] << 8;
		uint32_t size = (uint32_t)e[28] | (uint32_t)e[29] << 8 | (uint32_t)e[30] << 16 |
				(uint32_t)e[31] << 24;
		uint32_t n = 0;
		while (c != 0 && c < 0xFF8) {
			assert_true(c >= 2 && c < fs.nclusters + 2);
			assert_int_equal(seen[c], 0);
			seen[c] = 1;
			n++;
			c = getfat(&fs, c);
			assert_int_not_equal(c, 0);
		}
		assert_true((uint64_t)n * 4096 >= size);
	}
	uint32_t fb = fs.fat_secs * fs.bps;
	assert_memory_equal(im->b + fs.fat_sec * fs.bps, im->b + (fs.fat_sec + fs.fat_secs) * fs.bps,
			    fb);
	struct names ns = {0};
	assert_int_equal(espat_fat_list(&fs, collect, &ns), 0);
	free(seen);
	espat_fat_unmount(&fs);
}

enum cut_op { CUT_CREATE, CUT_APPEND, CUT_OVERWRITE, CUT_DELETE, CUT_OPS };

static int run_op(struct espat_fat *fs, enum cut_op op, const uint8_t *d)
{
	static const char lname[] = "a new file with a long name.txt";
	switch (op) {
	case CUT_CREATE:
		return espat_fat_write(fs, lname, strlen(lname), 0, d, 9000);
	case CUT_APPEND:
		return espat_fat_write(fs, "KEEP.BIN", 8, 5000, d, 6000);
	case CUT_OVERWRITE:
		return espat_fat_write(fs, "KEEP.BIN", 8, 100, d, 5000);
	default:
		return espat_fat_delete(fs, "gone.txt", 8);
	}
}

static void power_cut_every_write(void **state)
{
	struct img base;
	struct espat_fat fs;
	mount_fresh(&base, &fs);
	uint8_t keep[5000], other[7000], *d = malloc(9000);
	pattern(keep, sizeof(keep), 1);
	pattern(other, sizeof(other), 2);
	pattern(d, 9000, 3);
	put(&fs, "KEEP.BIN", 0, keep, sizeof(keep));
	put(&fs, "gone.txt", 0, other, sizeof(other));
	put(&fs, "stays with a long name", 0, other, sizeof(other));
	espat_fat_unmount(&fs);
	int cuts = 0;
	for (int op = 0; op < CUT_OPS; op++) {
		/* how many writes the whole operation takes */
		struct img im = base;
		im.b = malloc(VOL);
		memcpy(im.b, base.b, VOL);
		struct espat_fat_io io = io_of(&im);
		assert_int_equal(espat_fat_mount(&fs, &io), 0);
		im.writes = 0;
		assert_int_equal(run_op(&fs, (enum cut_op)op, d), 0);
		long total = im.writes;
		espat_fat_unmount(&fs);
		assert_true(total > 0);
		for (long k = 0; k <= total; k++) {
			memcpy(im.b, base.b, VOL);
			io = io_of(&im);
			assert_int_equal(espat_fat_mount(&fs, &io), 0);
			im.budget = k;
			int rc = run_op(&fs, (enum cut_op)op, d);
			assert_true(k == total ? rc == 0 : rc == ESPAT_FAT_EIO);
			espat_fat_unmount(&fs);
			consistent(&im);
			/* the files the operation did not touch are whole */
			io = io_of(&im);
			assert_int_equal(espat_fat_mount(&fs, &io), 0);
			same(&fs, "stays with a long name", other, sizeof(other));
			if (op == CUT_CREATE || op == CUT_DELETE)
				same(&fs, "KEEP.BIN", keep, sizeof(keep));
			espat_fat_unmount(&fs);
			cuts++;
		}
		free(im.b);
	}
	assert_true(cuts > 10);
	free(d);
	free(base.b);
}

/* Images from other tools: a 512-byte-sector FAT16 written here by hand
 * geometry (as mkfs.fat makes) mounts and takes files. */
static void foreign_geometry(void **state)
{
	struct img im;
	img_new(&im, 8u << 20);
	memset(im.b, 0, im.size);
	uint8_t *b = im.b;
	b[0] = 0xEB;
	b[11] = 0x00, b[12] = 0x02; /* 512 */
	b[13] = 2;
	b[14] = 4;
	b[16] = 2;
	b[17] = 0x00, b[18] = 0x02; /* 512 root entries */
	uint32_t tot = (8u << 20) / 512;
	b[19] = (uint8_t)tot, b[20] = (uint8_t)(tot >> 8);
	b[21] = 0xF8;
	b[22] = 32; /* sectors per FAT */
	b[510] = 0x55, b[511] = 0xAA;
	uint32_t fat = 4 * 512;
	b[fat] = 0xF8, b[fat + 1] = 0xFF, b[fat + 2] = 0xFF, b[fat + 3] = 0xFF;
	memcpy(b + fat + 32 * 512, b + fat, 4);
	struct espat_fat fs;
	struct espat_fat_io io = io_of(&im);
	assert_int_equal(espat_fat_mount(&fs, &io), 0);
	assert_int_equal(fs.bits, 16);
	uint8_t d[3000];
	pattern(d, sizeof(d), 5);
	put(&fs, "on fat16.dat", 0, d, sizeof(d));
	same(&fs, "on fat16.dat", d, sizeof(d));
	espat_fat_unmount(&fs);
	consistent(&im);
	free(im.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(format_mount),
	    cmocka_unit_test(names_short_and_long),
	    cmocka_unit_test(odd_sizes_and_offsets),
	    cmocka_unit_test(full_volume),
	    cmocka_unit_test(power_cut_every_write),
	    cmocka_unit_test(foreign_geometry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
