/* The FAT layer on a mutated image: mount, list, stat and read every file
 * (and one write) must never crash, loop or read out of bounds. Seeds:
 * tests/fuzz/seeds/fuzz_fat/ (*.bin), small images made by the layer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/fat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct img {
	uint8_t *b;
	uint32_t size;
};

static int rd(void *user, uint32_t off, uint8_t *buf, uint32_t len)
{
	struct img *im = user;
	if (off > im->size || len > im->size - off)
		return -1;
	memcpy(buf, im->b + off, len);
	return 0;
}

static int wr(void *user, uint32_t off, const uint8_t *buf, uint32_t len)
{
	struct img *im = user;
	if (off > im->size || len > im->size - off)
		return -1;
	memcpy(im->b + off, buf, len);
	return 0;
}

struct ctx {
	struct espat_fat *fs;
	uint8_t buf[8192];
};

static int each(void *user, const char *name, uint32_t size, bool dir)
{
	struct ctx *c = user;
	uint32_t got, sz;
	size_t n = strlen(name);
	espat_fat_stat(c->fs, name, n, &sz);
	espat_fat_read(c->fs, name, n, 0, c->buf, sizeof(c->buf), &got);
	espat_fat_read(c->fs, name, n, 5000, c->buf, 100, &got);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	struct img im = {malloc(size ? size : 1), (uint32_t)size};
	if (!im.b)
		return 0;
	memcpy(im.b, data, size);
	struct espat_fat_io io = {rd, wr, &im, im.size};
	static struct espat_fat fs;
	if (espat_fat_mount(&fs, &io) == 0) {
		static struct ctx c;
		c.fs = &fs;
		espat_fat_list(&fs, each, &c);
		static const uint8_t d[5000];
		espat_fat_write(&fs, "fuzz file.txt", 13, 100, d, sizeof(d));
		espat_fat_delete(&fs, "fuzz file.txt", 13);
		espat_fat_unmount(&fs);
	}
	free(im.b);
	return 0;
}
