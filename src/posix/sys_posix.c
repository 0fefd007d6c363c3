#include "posix/sys_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "posix/fsutil.h"
#include "posix/loop.h"

static uint64_t sys_now_ms(void *user)
{
	(void)user;
	return espat_loop_now_ns() / 1000000u;
}

static int64_t sys_wall_s(void *user)
{
	(void)user;
	return (int64_t)time(NULL);
}

static uint32_t sys_random(void *user)
{
	struct espat_sys_posix *s = user;
	uint64_t x = s->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->rng = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

void espat_sys_posix_init(struct espat_sys_posix *s)
{
	uint64_t seed = 0;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = espat_loop_now_ns() ^ ((uint64_t)getpid() << 32);
	s->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

static void sys_base_mac(void *user, uint8_t mac[6])
{
	struct espat_sys_posix *s = user;
	memcpy(mac, s->mac, 6);
}

int espat_sys_posix_load_efuse(struct espat_sys_posix *s, const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = 0;
	if (espat_read_all(dfd, "efuse.bin", 64, &buf, &len) == 0 && len == 6) {
		memcpy(s->mac, buf, 6);
	} else {
		uint32_t r = sys_random(s);
		/* a unicast, globally administered address in Espressif's OUI */
		uint8_t mac[6] = {0x34, 0x85, 0x18, (uint8_t)(r >> 16), (uint8_t)(r >> 8),
				  (uint8_t)(r & 0xFEu)};
		memcpy(s->mac, mac, 6);
		rc = espat_write_atomic(dfd, "efuse.bin", mac, sizeof(mac));
	}
	free(buf);
	int e = errno;
	close(dfd);
	errno = e;
	return rc;
}

struct espat_sys espat_sys_posix_port(struct espat_sys_posix *s)
{
	return (struct espat_sys){
	    .now_ms = sys_now_ms,
	    .wall_s = sys_wall_s,
	    .random = sys_random,
	    .base_mac = sys_base_mac,
	    .user = s,
	};
}
