/* The AT engine: the input-mode machine, the command table, dispatch of the
 * four forms, argument checking, busy handling and fixed-length data entry.
 * Single-threaded and run to completion; it never blocks. */
#ifndef ESPAT_CORE_ENGINE_H
#define ESPAT_CORE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/args.h"
#include "core/errcode.h"
#include "core/line.h"
#include "core/timers.h"
#include "core/writer.h"

struct espat_module; /* defined by the cmd layer; opaque here */

/* What a handler returns. */
enum espat_rc {
	ESPAT_RC_OK,        /* engine prints OK */
	ESPAT_RC_ERROR,     /* engine prints [ERR CODE] ERROR; code from espat_fail() */
	ESPAT_RC_PENDING,   /* still executing; finish with espat_engine_complete() */
	ESPAT_RC_DONE,      /* handler printed its own final output */
	ESPAT_RC_PROMPT,    /* engine prints ">" and enters data mode (see expect_data) */
	ESPAT_RC_OK_PROMPT, /* engine prints OK then ">" and enters data mode */
};

typedef enum espat_rc espat_handler_fn(struct espat_module *m, const struct espat_args *a);
/* Receives the bytes of fixed-length data entry in order; last is true on
 * the final chunk, and only then does the return value count (any rc but
 * the prompts). Earlier calls must return ESPAT_RC_PENDING. */
typedef enum espat_rc espat_data_fn(struct espat_module *m, const uint8_t *p, size_t n,
				    bool last);

/* Passthrough: every byte the host sends (but a guarded +++) is data. */
typedef void espat_pt_fn(struct espat_module *m, const uint8_t *p, size_t n);
/* A guarded +++ arrived in data entry (return the rc that ends the
 * command, e.g. after printing "SEND Canceled") or in passthrough (the rc
 * is ignored; the engine is back in command mode when it runs). */
typedef enum espat_rc espat_escape_fn(struct espat_module *m);

/* When the bytes of one chunk of input arrived: the first byte's start and
 * the last byte's end, in microseconds on the module clock. With a paced
 * UART a long chunk spans its transmission time. */
struct espat_arrival {
	uint64_t start_us, end_us;
};

/* +++ guard time (guide 3.3.8): more than this before the first +, less
 * between them, more after the third. */
#define ESPAT_ESCAPE_GUARD_MS 20u

enum espat_ptype {
	ESPAT_P_INT, /* integer within [min, max] */
	ESPAT_P_STR, /* quoted string of at most maxlen bytes */
	ESPAT_P_ANY, /* integer or string: the handler checks */
};

struct espat_param {
	const char *name;    /* as the guide names it, for messages and docs */
	enum espat_ptype type;
	bool optional;       /* may be omitted (or left off the end) */
	int64_t min, max;    /* ESPAT_P_INT range, inclusive */
	size_t maxlen;       /* ESPAT_P_STR limit in bytes after unescaping */
};

enum espat_cmd_flags {
	ESPAT_CMD_DIGIT_SUFFIX = 1u << 0, /* ATE0/ATE1: digits follow the name, run as execute */
};

/* One command: a row of a family's table. A NULL handler means the form
 * does not exist and is answered ERROR (ERR CODE 0x010c0000 under SYSLOG). */
struct espat_cmd {
	const char *name;             /* after "AT": "" for AT, "E" for ATE, "+GMR" */
	espat_handler_fn *test;       /* AT+X=? */
	espat_handler_fn *query;      /* AT+X? */
	espat_handler_fn *set;        /* AT+X=... */
	espat_handler_fn *exec;       /* AT+X */
	const struct espat_param *params; /* schema of the set form */
	uint8_t nparams;
	unsigned flags;               /* enum espat_cmd_flags */
	const char *help;             /* one line, for docs and AT+X=? */
};

struct espat_cmd_table {
	const char *family;           /* "basic", "wifi", ... */
	const struct espat_cmd *rows;
	size_t n;
};

enum espat_state {
	ESPAT_ST_IDLE,    /* command mode, waiting for a line */
	ESPAT_ST_EXEC,    /* a command is executing (pending): input gets busy p... */
	ESPAT_ST_DATA,    /* fixed-length data entry after ">" */
	ESPAT_ST_HALTED,  /* restarting or asleep: input is lost, as on a dead UART */
	ESPAT_ST_PASSTHROUGH, /* every byte is data for pt_fn until a guarded +++ */
};

struct espat_engine {
	struct espat_module *mod;            /* handler context, borrowed */
	struct espat_writer *wr;             /* borrowed */
	const struct espat_cmd_table *const *tables; /* the registry, borrowed */
	size_t ntables;
	enum espat_state state;
	bool echo;                           /* ATE1 (factory default on) */
	uint32_t err;                        /* ERR CODE for the next ERROR */
	struct espat_line line;              /* command line being assembled */
	struct espat_args args;              /* arguments of the running command */
	const struct espat_cmd *cur;         /* running command, or NULL */
	espat_data_fn *data_fn;              /* data entry consumer */
	size_t data_left;                    /* bytes still expected */
	bool busy_said;                      /* busy p... already answered this input line */
	uint64_t lines;                      /* command lines dispatched (stats) */
	/* data modes and the +++ escape */
	struct espat_timers *timers;         /* the module's (guard timer); NULL: no +++ */
	espat_pt_fn *pt_fn;                  /* passthrough consumer */
	espat_escape_fn *esc_fn;             /* what a guarded +++ does now, or NULL */
	bool data_ended;                     /* data_fn ended entry early */
	size_t data_used;                    /* ... after this many bytes of its chunk */
	uint64_t rx_end_us;                  /* when the last input byte arrived */
	uint8_t esc_held;                    /* leading '+' bytes held back (0..3) */
	struct espat_timer esc_timer;        /* end of the guard after held '+' */
};

void espat_engine_init(struct espat_engine *e, struct espat_module *mod, struct espat_writer *wr,
		       const struct espat_cmd_table *const *tables, size_t ntables);

/* Feeds bytes from the AT port that arrived as at says (NULL: timing
 * unknown, so no +++ can be recognised in this chunk). */
void espat_engine_input(struct espat_engine *e, const uint8_t *p, size_t n,
			const struct espat_arrival *at);

/* Sets the ERR CODE of the coming ERROR and returns ESPAT_RC_ERROR, so a
 * handler can say `return espat_fail(e, ESPAT_ERR_INVALID(1));`. */
enum espat_rc espat_fail(struct espat_engine *e, uint32_t code);

/* Finishes a pending command with rc (OK, ERROR, DONE or a prompt). */
void espat_engine_complete(struct espat_engine *e, enum espat_rc rc);

/* From a set/exec handler: the next n bytes of input are data for fn. The
 * handler then returns ESPAT_RC_PROMPT or ESPAT_RC_OK_PROMPT. n > 0. */
void espat_engine_expect_data(struct espat_engine *e, size_t n, espat_data_fn *fn);

/* From a data-entry handler (after expect_data): a guarded +++ during the
 * entry calls fn instead of being data. */
void espat_engine_data_escape(struct espat_engine *e, espat_escape_fn *fn);
/* From inside a data_fn: entry ends after `used` bytes of the chunk being
 * handed over (CIPSENDEX's \0); the fn's return value counts as for the
 * last chunk and the rest of the chunk is command input. */
void espat_engine_data_end(struct espat_engine *e, size_t used);

/* From a handler returning ESPAT_RC_OK_PROMPT / ESPAT_RC_PROMPT: after the
 * prompt, input is passthrough data for pt until a guarded +++ (esc). */
void espat_engine_expect_passthrough(struct espat_engine *e, espat_pt_fn *pt,
				     espat_escape_fn *esc);
/* Enters passthrough directly from command mode (AT+SAVETRANSLINK at
 * boot). */
void espat_engine_enter_passthrough(struct espat_engine *e, espat_pt_fn *pt,
				    espat_escape_fn *esc);
/* Leaves passthrough for command mode (the link cannot go on). */
void espat_engine_leave_passthrough(struct espat_engine *e);
bool espat_engine_in_passthrough(const struct espat_engine *e);

/* Drops all input until espat_engine_resume() (restart, deep sleep). Any
 * running command is abandoned and a partial line discarded. */
void espat_engine_halt(struct espat_engine *e);
void espat_engine_resume(struct espat_engine *e);

/* Looks a command up by its name after "AT" ("+GMR"); NULL if unknown. */
const struct espat_cmd *espat_engine_find(const struct espat_engine *e, const char *name,
					  size_t len);

#endif
