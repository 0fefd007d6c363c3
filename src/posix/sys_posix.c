#include "posix/sys_posix.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

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

struct espat_sys espat_sys_posix_port(struct espat_sys_posix *s)
{
	return (struct espat_sys){
	    .now_ms = sys_now_ms,
	    .wall_s = sys_wall_s,
	    .random = sys_random,
	    .user = s,
	};
}
