#include "core/timers.h"

#include <stddef.h>

void espat_timer_cancel(struct espat_timers *ts, struct espat_timer *t)
{
	if (!t->armed)
		return;
	for (struct espat_timer **pp = &ts->head; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->next = NULL;
	t->armed = false;
}

void espat_timer_arm(struct espat_timers *ts, struct espat_timer *t, uint64_t due,
		     void (*fn)(void *user), void *user)
{
	espat_timer_cancel(ts, t);
	t->due = due;
	t->fn = fn;
	t->user = user;
	struct espat_timer **pp = &ts->head;
	while (*pp && (*pp)->due <= due)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	t->armed = true;
}

uint64_t espat_timers_next(const struct espat_timers *ts)
{
	return ts->head ? ts->head->due : ESPAT_NEVER;
}

void espat_timers_run(struct espat_timers *ts, uint64_t now)
{
	while (ts->head && ts->head->due <= now) {
		struct espat_timer *t = ts->head;
		ts->head = t->next;
		t->next = NULL;
		t->armed = false;
		t->fn(t->user);
	}
}
