/* The AT port: the byte stream between the host and the module, over a
 * pseudo-terminal, stdin/stdout, a TCP socket or a real serial device.
 * Registers its fds with the loop, hands what it reads to cb.input, and
 * takes writes without blocking.
 *
 * pty:    a new pseudo-terminal in raw mode. We keep a slave fd open so
 *         the master never sees EIO/HUP when a client closes; output
 *         written while no client is connected waits in the pty. An
 *         optional symlink names it (replaced atomically if it is a
 *         symlink, refused if it is anything else; removed at close if it
 *         still points at our pty). set_uart sets the nearest standard
 *         speed and the frame flags in the pty's termios for the host to
 *         read; data is not affected.
 * stdio:  stdin/stdout; a tty is put in raw mode (keeping ISIG, so Ctrl-C
 *         still stops espat) and restored at close.
 * tcp:    listens; one client at a time (a second one is accepted and
 *         closed at once); when the client leaves, the next one may come.
 *         Output waits while no client is connected.
 * serial: a real tty, raw, configured from the UART settings (any baud via
 *         termios2), exclusive (TIOCEXCL). */
#ifndef ESPAT_POSIX_ATPORT_H
#define ESPAT_POSIX_ATPORT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "port/pipe.h"
#include "posix/log.h"
#include "posix/loop.h"

#define ESPAT_ATPORT_RBUF 65536 /* bytes read per read(2) */

enum espat_atport_kind {
	ESPAT_ATPORT_PTY,
	ESPAT_ATPORT_STDIO,
	ESPAT_ATPORT_TCP,
	ESPAT_ATPORT_SERIAL,
};

struct espat_atport_cbs {
	/* Bytes from the host; p is valid only during the call. */
	void (*input)(void *user, const uint8_t *p, size_t n);
	/* How many bytes the next read may take (0: none now); NULL reads
	 * whatever is there. The input side's pace (posix/uart_rx.h). */
	size_t (*room)(void *user);
	/* The port can take bytes again (after espat_atport_want_write). */
	void (*writable)(void *user);
	/* The port ended for good: end of stdin (error false), or a device
	 * or stdout error (error true). Nothing more will be read. */
	void (*closed)(void *user, bool error);
	void *user;
};

struct espat_atport {
	enum espat_atport_kind kind;
	struct espat_loop *loop;     /* borrowed */
	const struct espat_log *log; /* borrowed */
	struct espat_atport_cbs cb;
	int rfd, wfd;                   /* data fds; -1 while a TCP port has no client */
	int slave_fd;                   /* pty: our own slave handle */
	int listen_fd;                  /* tcp */
	struct espat_loop_watch rwatch; /* rfd (and wfd when the same) */
	struct espat_loop_watch wwatch; /* stdio: stdout */
	struct espat_loop_watch lwatch; /* tcp: listening socket */
	bool want_out;                  /* a writer waits for EPOLLOUT */
	bool rx_paused;                 /* the module asked us to stop reading (RTS) */
	bool ended;                     /* closed() was reported */
	char name[PATH_MAX];            /* slave path, address or device */
	char link[PATH_MAX];            /* pty symlink, "" when none */
	struct termios saved_tty;       /* stdio: stdin's mode to restore */
	bool restore_tty;
	int saved_fl[2]; /* stdio: fcntl flags of fds 0 and 1 */
	uint8_t rbuf[ESPAT_ATPORT_RBUF];
};

/* Each open function sets up a (which may be uninitialised), registers
 * with loop and returns 0; or returns -1 with a one-line reason in err
 * (nothing left open). */
int espat_atport_open_pty(struct espat_atport *a, struct espat_loop *loop,
                          const struct espat_log *log, const struct espat_atport_cbs *cb,
                          const char *link, char *err, size_t errlen);
int espat_atport_open_stdio(struct espat_atport *a, struct espat_loop *loop,
                            const struct espat_log *log, const struct espat_atport_cbs *cb,
                            char *err, size_t errlen);
/* host may be NULL or "" for 127.0.0.1; port 0 picks a free port. */
int espat_atport_open_tcp(struct espat_atport *a, struct espat_loop *loop,
                          const struct espat_log *log, const struct espat_atport_cbs *cb,
                          const char *host, const char *port, char *err, size_t errlen);
/* cfg: the initial line settings (the module sets its own at power-on). */
int espat_atport_open_serial(struct espat_atport *a, struct espat_loop *loop,
                             const struct espat_log *log, const struct espat_atport_cbs *cb,
                             const char *dev, const struct espat_uart_cfg *cfg, char *err,
                             size_t errlen);

/* What to tell the user the port is called: the pty slave (/dev/pts/N),
 * the TCP listening address (HOST:PORT), the serial device; "" for stdio. */
const char *espat_atport_name(const struct espat_atport *a);
/* Writes up to n bytes without blocking; returns how many were taken (0
 * when the port would block or has no client). */
size_t espat_atport_write(struct espat_atport *a, const uint8_t *p, size_t n);
/* Stops (on) or resumes reading input: RTS flow control, or a paced line
 * that has carried nothing more yet. */
void espat_atport_pause_read(struct espat_atport *a, bool on);
/* Asks for cb.writable when the port can take bytes (on), or stops. */
void espat_atport_want_write(struct espat_atport *a, bool on);
/* Applies UART settings (pty: termios for show; serial: the line). */
void espat_atport_set_uart(struct espat_atport *a, const struct espat_uart_cfg *cfg);
/* Unregisters, restores the terminal, removes the symlink, closes. */
void espat_atport_close(struct espat_atport *a);

#endif
