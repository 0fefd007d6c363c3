/* The one event loop of the Linux port: every file descriptor (AT port,
 * signals, later sockets and the control socket) is a watch, every wake-up
 * time (module timers, the pacer's next chunk) is a timer. One thread, no
 * busy polling: the loop sleeps in epoll_wait until an fd is ready or the
 * soonest timer is due.
 *
 * Watches and timers are intrusive: their owner embeds them and keeps them
 * alive while they are registered. Nothing here allocates after init. */
#ifndef ESPAT_POSIX_LOOP_H
#define ESPAT_POSIX_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#define ESPAT_LOOP_NEVER UINT64_MAX
#define ESPAT_LOOP_BATCH 32 /* events taken from the kernel per wait */

/* Called with the ready events (EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR). */
typedef void espat_loop_fd_fn(void *user, uint32_t events);
typedef void espat_loop_timer_fn(void *user);

struct espat_loop_watch {
	int fd;
	uint32_t events; /* currently requested */
	espat_loop_fd_fn *fn;
	void *user;
	bool added;  /* registered with the loop */
	bool always; /* regular file: epoll refuses it, treated as always ready */
	struct espat_loop_watch *next_always; /* list of "always" watches */
};

struct espat_loop_timer {
	uint64_t due_ns; /* on espat_loop_now_ns()'s clock */
	espat_loop_timer_fn *fn;
	void *user;
	bool armed;
	struct espat_loop_timer *next; /* list link, owned by the loop */
};

struct espat_loop {
	int epfd;
	struct espat_loop_timer *timers; /* armed timers, unsorted (few) */
	struct espat_loop_watch *always; /* watches on regular files */
	unsigned always_gen;             /* bumped when that list changes */
	/* Called before every wait, so owners can re-arm timers from state
	 * that changed during dispatch (the module's next deadline). */
	void (*prepare)(void *user);
	void *prepare_user;
	struct epoll_event evs[ESPAT_LOOP_BATCH]; /* batch being dispatched */
	int nevs, cur;
	bool stop; /* espat_loop_run() returns */
};

/* CLOCK_MONOTONIC in nanoseconds; the same clock as the module's ms. */
uint64_t espat_loop_now_ns(void);

/* 0, or -1 with errno set. */
int espat_loop_init(struct espat_loop *l);
/* Closes the epoll fd; watches and timers must be removed by their owners
 * (their fds are theirs to close). */
void espat_loop_free(struct espat_loop *l);

/* Registers fd. Regular files (which epoll refuses) are accepted and
 * reported ready for whatever events are requested on every iteration.
 * 0, or -1 with errno set. */
int espat_loop_add(struct espat_loop *l, struct espat_loop_watch *w, int fd, uint32_t events,
                   espat_loop_fd_fn *fn, void *user);
/* Changes the requested events; no syscall when they are unchanged. */
int espat_loop_mod(struct espat_loop *l, struct espat_loop_watch *w, uint32_t events);
/* Unregisters (safe during dispatch, also for the watch being run and for
 * watches with events still pending in the current batch). No-op when not
 * added. Does not close the fd. */
void espat_loop_del(struct espat_loop *l, struct espat_loop_watch *w);

/* (Re)arms t; an armed timer is moved. */
void espat_loop_timer_arm(struct espat_loop *l, struct espat_loop_timer *t, uint64_t due_ns,
                          espat_loop_timer_fn *fn, void *user);
void espat_loop_timer_cancel(struct espat_loop *l, struct espat_loop_timer *t);

/* One iteration: prepare, sleep until an fd is ready or a timer is due,
 * dispatch. Returns 0, or -1 when epoll_wait failed for a reason other
 * than EINTR (errno set). */
int espat_loop_run_once(struct espat_loop *l);
/* Iterates until l->stop is set (by a callback) or a fatal error (-1). */
int espat_loop_run(struct espat_loop *l);

#endif
