/* A small FAT12/16 file system over a byte-addressed volume: mount (BPB
 * check), format, and the root directory's files — list, stat, read,
 * write (create, overwrite, extend), delete — with VFAT long names.
 *
 * Pure: it does no I/O itself. The volume is reached through struct
 * espat_fat_io, which the caller implements (the AT+FS family over the
 * flash port's fatfs partition, the tests over an in-memory image).
 *
 * Crash safety: every io.write covers at most one logical sector and the
 * layer assumes each such write is atomic (the flash adapter rewrites a
 * 4096-byte flash sector; the FS it formats has 4096-byte sectors). Updates
 * are ordered so a cut between any two writes leaves a FS fsck.fat
 * repairs without losing committed data: file data into free clusters
 * first, then the FAT copies (first, then the others), then the
 * directory entry; a delete frees the entry before its clusters. A cut
 * can leave lost clusters or FAT copies that differ; mount copies FAT 1
 * over the others when they differ (docs/COMPAT.md #163).
 *
 * Names are file names in the root directory only: no '/', '\\', no "."
 * or "..", printable ASCII (esp-at's FatFs takes UTF-8; see COMPAT #165). */
#ifndef ESPAT_PROTO_FAT_H
#define ESPAT_PROTO_FAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESPAT_FAT_NAME_MAX 255       /* a long name, in bytes */
#define ESPAT_FAT_SECTOR_MAX 4096u   /* largest logical sector accepted */
#define ESPAT_FAT_VOLUME_MAX (32u << 20) /* largest volume mounted */

enum espat_fat_err {
	ESPAT_FAT_OK = 0,
	ESPAT_FAT_ENOENT = -1, /* no such file */
	ESPAT_FAT_EIO = -2,    /* io failed, or the volume is damaged */
	ESPAT_FAT_ENOSPC = -3, /* no free cluster or directory entry */
	ESPAT_FAT_EINVAL = -4, /* bad name or range */
	ESPAT_FAT_ENOFS = -5,  /* not a FAT12/16 volume (mount) */
	ESPAT_FAT_ENOMEM = -6,
	ESPAT_FAT_EISDIR = -7, /* the name is a directory or volume label */
};

/* The volume. Both return 0 on success, -1 on failure. A write covers at
 * most one logical sector and replaces its bytes (the adapter erases as
 * its medium needs). */
struct espat_fat_io {
	int (*read)(void *user, uint32_t off, uint8_t *buf, uint32_t len);
	int (*write)(void *user, uint32_t off, const uint8_t *buf, uint32_t len);
	void *user;
	uint32_t size; /* volume bytes */
};

/* A mounted volume. Fields after io are the layer's own. */
struct espat_fat {
	struct espat_fat_io io;
	uint32_t bps;       /* bytes per sector */
	uint32_t spc;       /* sectors per cluster */
	uint32_t nfats;
	uint32_t fat_sec;   /* first sector of FAT 1 */
	uint32_t fat_secs;  /* sectors per FAT */
	uint32_t root_sec;  /* first sector of the root directory */
	uint32_t nroot;     /* root directory entries */
	uint32_t data_sec;  /* first sector of cluster 2 */
	uint32_t nclusters; /* data clusters (numbered 2..nclusters+1) */
	int bits;           /* 12 or 16 */
	uint8_t *fat, *fat_disk;   /* FAT 1 in RAM, and as on the volume */
	uint8_t *root, *root_disk; /* the root directory, likewise */
	uint8_t *sec;              /* one sector of scratch */
	uint16_t date, time;       /* FAT timestamp for new/changed entries */
};

/* Mounts io's volume. ESPAT_FAT_ENOFS when it holds no FAT12/16. */
int espat_fat_mount(struct espat_fat *fs, const struct espat_fat_io *io);
void espat_fat_unmount(struct espat_fat *fs);

/* Writes an empty FAT onto io's volume (4096-byte sectors, one per
 * cluster, two FATs, 128 root entries; COMPAT #161). */
int espat_fat_format(const struct espat_fat_io *io);

/* Calls fn for each entry of the root directory (files and directories;
 * name is UTF-8, NUL-ended, valid for the call). fn returning nonzero
 * stops the walk with that value. */
typedef int espat_fat_list_fn(void *user, const char *name, uint32_t size, bool dir);
int espat_fat_list(struct espat_fat *fs, espat_fat_list_fn *fn, void *user);

/* The size of file name[0..len). */
int espat_fat_stat(struct espat_fat *fs, const char *name, size_t len, uint32_t *size);
/* Reads up to n bytes at off; *got is what the file had (0 past its end). */
int espat_fat_read(struct espat_fat *fs, const char *name, size_t len, uint32_t off,
		   uint8_t *buf, uint32_t n, uint32_t *got);
/* Writes n bytes at off, creating the file, zero-filling any gap after its
 * end. All or nothing: ESPAT_FAT_ENOSPC before anything is written when
 * the volume cannot hold it. */
int espat_fat_write(struct espat_fat *fs, const char *name, size_t len, uint32_t off,
		    const uint8_t *buf, uint32_t n);
int espat_fat_delete(struct espat_fat *fs, const char *name, size_t len);
/* Free bytes (whole free clusters). */
uint32_t espat_fat_free_bytes(const struct espat_fat *fs);

/* True if name[0..len) is a name the layer accepts. */
bool espat_fat_name_ok(const char *name, size_t len);

#endif
