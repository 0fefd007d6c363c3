/* AT+FS and AT+FSMOUNT (guide 3.7) over the fatfs partition:
 *
 *   AT+FS=0,0,"<name>"            delete                 OK
 *   AT+FS=0,1,"<name>",<off>,<n>  ">", n bytes, written   OK
 *   AT+FS=0,2,"<name>",<off>,<n>  +FS:<got>,<data>       OK
 *   AT+FS=0,3,"<name>"            +FS:<size>             OK
 *   AT+FS=0,4,"."                 +FS: . .. <names>      OK
 *   AT+FSMOUNT=<0|1>                                     OK
 *
 * The guide shows only OK; the output forms are COMPAT #166-#168. */
#include "cmd/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/params.h"

static struct espat_engine *E(struct espat_module *m)
{
	return &m->eng;
}

static struct espat_fs *F(struct espat_module *m)
{
	return m->fs;
}

/* ---- the volume on flash ------------------------------------------------- */

static int vol_read(void *user, uint32_t off, uint8_t *buf, uint32_t len)
{
	struct espat_module *m = user;
	const struct espat_flash *fl = &m->ports.flash;
	return fl->read(fl->user, F(m)->part, off, buf, len);
}

/* Replaces [off, off+len): per 4096-byte flash sector, a write alone when
 * it only clears bits (fresh erased space), else erase and rewrite. */
static int vol_write(void *user, uint32_t off, const uint8_t *buf, uint32_t len)
{
	struct espat_module *m = user;
	struct espat_fs *s = F(m);
	const struct espat_flash *fl = &m->ports.flash;
	while (len > 0) {
		uint32_t base = off - off % ESPAT_FLASH_SECTOR, in = off - base;
		uint32_t take = ESPAT_FLASH_SECTOR - in < len ? ESPAT_FLASH_SECTOR - in : len;
		if (fl->read(fl->user, s->part, base, s->sector, ESPAT_FLASH_SECTOR) != 0)
			return -1;
		bool clears = true, same = true;
		for (uint32_t i = 0; i < take; i++) {
			uint8_t o = s->sector[in + i], n = buf[i];
			same = same && o == n;
			clears = clears && (o & n) == n;
		}
		if (!same) {
			int rc;
			if (clears) {
				rc = fl->write(fl->user, s->part, off, buf, take);
			} else {
				memcpy(s->sector + in, buf, take);
				rc = fl->erase(fl->user, s->part, base, ESPAT_FLASH_SECTOR);
				if (rc == 0)
					rc = fl->write(fl->user, s->part, base, s->sector,
						       ESPAT_FLASH_SECTOR);
			}
			if (rc != 0)
				return -1;
		}
		off += take;
		buf += take;
		len -= take;
	}
	return 0;
}

static void unmount(struct espat_module *m)
{
	struct espat_fs *s = F(m);
	if (s->mounted)
		espat_fat_unmount(&s->fat);
	s->mounted = false;
}

/* Mounts the partition, formatting it when it holds no FAT. */
static int mount(struct espat_module *m)
{
	struct espat_fs *s = F(m);
	if (s->mounted)
		return 0;
	const struct espat_flash *fl = &m->ports.flash;
	const struct espat_flash_part *p = NULL;
	for (size_t i = 0; fl->part && (p = fl->part(fl->user, i)) != NULL; i++)
		if (strcmp(p->name, ESPAT_FS_PART) == 0) {
			s->part = i;
			break;
		}
	if (!p)
		return ESPAT_FAT_ENOFS;
	struct espat_fat_io io = {vol_read, vol_write, m, p->size};
	int rc = espat_fat_mount(&s->fat, &io);
	if (rc == ESPAT_FAT_ENOFS) {
		rc = espat_fat_format(&io);
		if (rc == 0)
			rc = espat_fat_mount(&s->fat, &io);
	}
	s->mounted = rc == 0;
	return rc;
}

int espat_fs_size(struct espat_module *m, const char *name, size_t len, uint32_t *size)
{
	int rc = mount(m);
	return rc ? rc : espat_fat_stat(&F(m)->fat, name, len, size);
}

int espat_fs_read(struct espat_module *m, const char *name, size_t len, uint32_t off,
		  uint8_t *buf, uint32_t n, uint32_t *got)
{
	*got = 0;
	int rc = mount(m);
	return rc ? rc : espat_fat_read(&F(m)->fat, name, len, off, buf, n, got);
}

/* ---- AT+FS ---------------------------------------------------------------- */

enum { OP_DELETE, OP_WRITE, OP_READ, OP_SIZE, OP_LIST };

static const struct espat_param p_fs[] = {
    P_INT("type", 0, 0),
    P_INT("operation", 0, 4),
    P_STR("filename", ESPAT_FAT_NAME_MAX),
    P_INT_OPT("offset", 0, 0x7FFFFFFF),
    P_INT_OPT("length", 1, 0x7FFFFFFF),
};

static size_t given(const struct espat_args *a)
{
	size_t n = a->n;
	while (n > 0 && a->v[n - 1].kind == ESPAT_ARG_OMITTED)
		n--;
	return n;
}

static enum espat_rc fs_error(struct espat_module *m)
{
	return espat_fail(E(m), ESPAT_ERR_EXEC);
}

static void entry_reset(struct espat_fs *s)
{
	free(s->entry);
	s->entry = NULL;
	s->entry_len = s->entry_got = s->entry_off = 0;
	s->entry_name_len = 0;
}

static enum espat_rc write_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_fs *s = F(m);
	if (s->entry && n <= s->entry_len - s->entry_got) {
		memcpy(s->entry + s->entry_got, p, n);
		s->entry_got += (uint32_t)n;
	}
	if (!last)
		return ESPAT_RC_PENDING;
	int rc = !s->entry || s->entry_got != s->entry_len ? ESPAT_FAT_EIO : mount(m);
	if (rc == 0)
		rc = espat_fat_write(&s->fat, s->entry_name, s->entry_name_len, s->entry_off,
				     s->entry, s->entry_len);
	entry_reset(s);
	return rc ? fs_error(m) : ESPAT_RC_OK;
}

static int list_line(void *user, const char *name, uint32_t size, bool dir)
{
	struct espat_module *m = user;
	espat_wr_part(&m->wr, (const uint8_t *)name, strlen(name));
	espat_wr_part(&m->wr, (const uint8_t *)"\r\n", 2);
	return 0;
}

static enum espat_rc fs_list(struct espat_module *m)
{
	espat_wr_open(&m->wr);
	static const char head[] = "+FS:\r\n.\r\n..\r\n";
	espat_wr_part(&m->wr, (const uint8_t *)head, sizeof(head) - 1);
	int rc = espat_fat_list(&F(m)->fat, list_line, m);
	espat_wr_close(&m->wr);
	return rc < 0 ? fs_error(m) : ESPAT_RC_OK;
}

/* "+FS:<got>,<data>\r\n" as one message, so no report lands in the data. */
static enum espat_rc fs_read(struct espat_module *m, const struct espat_args *a)
{
	uint32_t off = (uint32_t)a->v[3].i, n = (uint32_t)a->v[4].i, size = 0;
	struct espat_fs *s = F(m);
	if (espat_fat_stat(&s->fat, a->v[2].s, a->v[2].len, &size) != 0)
		return fs_error(m);
	uint32_t avail = off < size ? size - off : 0;
	if (n > avail)
		n = avail;
	char head[32];
	int hn = snprintf(head, sizeof(head), "+FS:%u,", (unsigned)n);
	uint8_t *msg = malloc((size_t)hn + n + 2);
	if (!msg)
		return fs_error(m);
	uint32_t got = 0;
	memcpy(msg, head, (size_t)hn);
	if (espat_fat_read(&s->fat, a->v[2].s, a->v[2].len, off, msg + hn, n, &got) != 0) {
		free(msg);
		return fs_error(m);
	}
	memcpy(msg + hn + got, "\r\n", 2);
	espat_wr_msg(&m->wr, msg, (size_t)hn + got + 2);
	free(msg);
	return ESPAT_RC_OK;
}

static enum espat_rc fs_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_fs *s = F(m);
	int64_t op = a->v[1].i;
	size_t need = op == OP_WRITE || op == OP_READ ? 5 : 3;
	if (given(a) != need)
		return espat_fail(E(m), ESPAT_ERR_NUM(need, a->n));
	const char *name = a->v[2].s;
	size_t len = a->v[2].len;
	if (op == OP_LIST) {
		if (!(len == 1 && name[0] == '.') && !(len == 1 && name[0] == '/'))
			return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	} else if (!espat_fat_name_ok(name, len)) {
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	}
	if (mount(m) != 0)
		return fs_error(m);
	uint32_t size;
	switch (op) {
	case OP_DELETE:
		return espat_fat_delete(&s->fat, name, len) ? fs_error(m) : ESPAT_RC_OK;
	case OP_SIZE:
		if (espat_fat_stat(&s->fat, name, len, &size) != 0)
			return fs_error(m);
		espat_wr_linef(&m->wr, "+FS:%u", (unsigned)size);
		return ESPAT_RC_OK;
	case OP_LIST:
		return fs_list(m);
	case OP_READ:
		return fs_read(m, a);
	default:
		break;
	}
	/* write: the whole entry must fit the partition */
	const struct espat_fat_io *io = &s->fat.io;
	if ((uint64_t)a->v[3].i > io->size)
		return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	if ((uint64_t)a->v[4].i > io->size)
		return espat_fail(E(m), ESPAT_ERR_INVALID(4));
	entry_reset(s);
	s->entry_len = (uint32_t)a->v[4].i;
	s->entry = malloc(s->entry_len);
	if (!s->entry)
		return fs_error(m);
	s->entry_off = (uint32_t)a->v[3].i;
	memcpy(s->entry_name, name, len);
	s->entry_name[len] = 0;
	s->entry_name_len = len;
	espat_engine_expect_data(E(m), s->entry_len, write_data);
	/* "wrap return > after the write command": no OK first (as AT+SYSFLASH) */
	return ESPAT_RC_PROMPT;
}

/* ---- AT+FSMOUNT ----------------------------------------------------------- */

static const struct espat_param p_mount[] = {
    P_INT("mount", 0, 1),
};

static enum espat_rc fsmount_set(struct espat_module *m, const struct espat_args *a)
{
	if (a->v[0].i == 0) {
		unmount(m);
		return ESPAT_RC_OK;
	}
	return mount(m) ? fs_error(m) : ESPAT_RC_OK;
}

/* ---- table, lifecycle ----------------------------------------------------- */

static const struct espat_cmd fs_rows[] = {
    {.name = "+FS",
     .set = fs_set,
     .params = p_fs,
     .nparams = N(p_fs),
     .help = "Filesystem Operations"},
    {.name = "+FSMOUNT",
     .set = fsmount_set,
     .params = p_mount,
     .nparams = N(p_mount),
     .help = "Mount/Unmount Filesystem"},
};

const struct espat_cmd_table espat_fs_table = {
    .family = "fs",
    .rows = fs_rows,
    .n = sizeof(fs_rows) / sizeof(fs_rows[0]),
};

static void fs_free(struct espat_module *m)
{
	entry_reset(F(m));
	unmount(m);
}

const struct espat_family espat_fs_family = {
    .name = "fs",
    .table = &espat_fs_table,
    .state_size = sizeof(struct espat_fs),
    .state_slot = offsetof(struct espat_module, fs),
    .free = fs_free,
};
