#include "posix/loop.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

uint64_t espat_loop_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int espat_loop_init(struct espat_loop *l)
{
	*l = (struct espat_loop){.epfd = -1};
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -1 : 0;
}

void espat_loop_free(struct espat_loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
	l->timers = NULL;
	l->always = NULL;
}

int espat_loop_add(struct espat_loop *l, struct espat_loop_watch *w, int fd, uint32_t events,
                   espat_loop_fd_fn *fn, void *user)
{
	*w = (struct espat_loop_watch){.fd = fd, .events = events, .fn = fn, .user = user};
	struct epoll_event ev = {.events = events, .data.ptr = w};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		if (errno != EPERM)
			return -1;
		/* A regular file (stdin redirected from a file): reads and
		 * writes never block, so it is simply always ready. */
		w->always = true;
		w->next_always = l->always;
		l->always = w;
		l->always_gen++;
	}
	w->added = true;
	return 0;
}

int espat_loop_mod(struct espat_loop *l, struct espat_loop_watch *w, uint32_t events)
{
	if (!w->added || w->events == events)
		return 0;
	w->events = events;
	if (w->always)
		return 0;
	struct epoll_event ev = {.events = events, .data.ptr = w};
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

void espat_loop_del(struct espat_loop *l, struct espat_loop_watch *w)
{
	if (!w->added)
		return;
	if (w->always) {
		for (struct espat_loop_watch **pp = &l->always; *pp; pp = &(*pp)->next_always) {
			if (*pp == w) {
				*pp = w->next_always;
				l->always_gen++;
				break;
			}
		}
	} else {
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	}
	/* The owner may free w right after this: forget events of the
	 * current batch that still point at it. */
	for (int i = l->cur; i < l->nevs; i++) {
		if (l->evs[i].data.ptr == w)
			l->evs[i].data.ptr = NULL;
	}
	w->added = false;
	w->always = false;
}

void espat_loop_timer_arm(struct espat_loop *l, struct espat_loop_timer *t, uint64_t due_ns,
                          espat_loop_timer_fn *fn, void *user)
{
	if (!t->armed) {
		t->next = l->timers;
		l->timers = t;
		t->armed = true;
	}
	t->due_ns = due_ns;
	t->fn = fn;
	t->user = user;
}

void espat_loop_timer_cancel(struct espat_loop *l, struct espat_loop_timer *t)
{
	if (!t->armed)
		return;
	for (struct espat_loop_timer **pp = &l->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->armed = false;
	t->next = NULL;
}

/* Milliseconds epoll_wait may sleep: rounded up, so a wake-up is never
 * early (an early wake would find nothing due and spin). */
static int wait_ms(const struct espat_loop *l, uint64_t now)
{
	for (const struct espat_loop_watch *w = l->always; w; w = w->next_always) {
		if (w->events & (EPOLLIN | EPOLLOUT))
			return 0;
	}
	uint64_t due = ESPAT_LOOP_NEVER;
	for (const struct espat_loop_timer *t = l->timers; t; t = t->next) {
		if (t->due_ns < due)
			due = t->due_ns;
	}
	if (due == ESPAT_LOOP_NEVER)
		return -1;
	if (due <= now)
		return 0;
	uint64_t ms = (due - now + 999999u) / 1000000u;
	return ms > 60000u ? 60000 : (int)ms;
}

static void run_timers(struct espat_loop *l)
{
	uint64_t now = espat_loop_now_ns();
	/* A callback may arm or cancel any timer: rescan after each one. */
	for (;;) {
		struct espat_loop_timer *due = NULL;
		for (struct espat_loop_timer *t = l->timers; t; t = t->next) {
			if (t->due_ns <= now && (due == NULL || t->due_ns < due->due_ns))
				due = t;
		}
		if (due == NULL)
			return;
		espat_loop_timer_cancel(l, due);
		due->fn(due->user);
	}
}

static void run_always(struct espat_loop *l)
{
	/* A callback that changes the list ends the walk (next may be gone);
	 * the next iteration, with a zero timeout, covers the rest. */
	unsigned gen = l->always_gen;
	for (struct espat_loop_watch *w = l->always; w; w = w->next_always) {
		uint32_t ev = w->events & (EPOLLIN | EPOLLOUT);
		if (ev)
			w->fn(w->user, ev);
		if (l->always_gen != gen)
			return;
	}
}

int espat_loop_run_once(struct espat_loop *l)
{
	if (l->prepare)
		l->prepare(l->prepare_user);
	if (l->stop)
		return 0;
	int timeout = wait_ms(l, espat_loop_now_ns());
	int n = epoll_wait(l->epfd, l->evs, ESPAT_LOOP_BATCH, timeout);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return -1;
	}
	l->nevs = n;
	for (l->cur = 0; l->cur < l->nevs; l->cur++) {
		struct espat_loop_watch *w = l->evs[l->cur].data.ptr;
		if (w != NULL)
			w->fn(w->user, l->evs[l->cur].events);
	}
	l->nevs = l->cur = 0;
	run_always(l);
	run_timers(l);
	return 0;
}

int espat_loop_run(struct espat_loop *l)
{
	while (!l->stop) {
		if (espat_loop_run_once(l) < 0)
			return -1;
	}
	return 0;
}
