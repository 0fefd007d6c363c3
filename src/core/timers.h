/* Intrusive one-shot timers driven by the time the platform passes in.
 * Owners embed a struct espat_timer; nothing is allocated. */
#ifndef ESPAT_CORE_TIMERS_H
#define ESPAT_CORE_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#define ESPAT_NEVER UINT64_MAX

struct espat_timer {
	uint64_t due;                /* ms on the module clock */
	void (*fn)(void *user);      /* called once when due */
	void *user;
	struct espat_timer *next;    /* list link, owned by espat_timers */
	bool armed;
};

struct espat_timers {
	struct espat_timer *head; /* armed timers, soonest first */
};

/* (Re)arms t to fire at due; an armed timer is moved. */
void espat_timer_arm(struct espat_timers *ts, struct espat_timer *t, uint64_t due,
		     void (*fn)(void *user), void *user);
void espat_timer_cancel(struct espat_timers *ts, struct espat_timer *t);
/* Due time of the soonest timer, or ESPAT_NEVER. */
uint64_t espat_timers_next(const struct espat_timers *ts);
/* Fires every timer due at or before now, in due order; a callback may arm
 * or cancel timers. */
void espat_timers_run(struct espat_timers *ts, uint64_t now);

#endif
