#include "posix/atport.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix/serial_termios2.h"
#include "posix/log.h"

static void base_init(struct espat_atport *a, enum espat_atport_kind kind, struct espat_loop *loop,
                      const struct espat_log *log, const struct espat_atport_cbs *cb)
{
	a->kind = kind;
	a->loop = loop;
	a->log = log;
	a->cb = *cb;
	a->rfd = a->wfd = a->slave_fd = a->listen_fd = -1;
	a->rwatch.added = a->wwatch.added = a->lwatch.added = false;
	a->want_out = a->ended = a->restore_tty = false;
	a->name[0] = a->link[0] = '\0';
	a->saved_fl[0] = a->saved_fl[1] = -1;
}

static uint32_t data_events(const struct espat_atport *a, bool out_fd)
{
	uint32_t ev = 0;
	if ((!out_fd || a->rfd == a->wfd) && !a->rx_paused)
		ev |= EPOLLIN;
	if (a->want_out && a->wfd >= 0 && (out_fd || a->rfd == a->wfd))
		ev |= EPOLLOUT;
	return ev;
}

static void end(struct espat_atport *a, bool error)
{
	espat_loop_del(a->loop, &a->rwatch);
	if (a->ended)
		return;
	a->ended = true;
	if (a->cb.closed)
		a->cb.closed(a->cb.user, error);
}

/* --- TCP client bookkeeping -------------------------------------------- */

static void drop_client(struct espat_atport *a, const char *why)
{
	if (a->rfd < 0)
		return;
	espat_log_info(a->log, "AT port: TCP client left (%s)", why);
	espat_loop_del(a->loop, &a->rwatch);
	close(a->rfd);
	a->rfd = a->wfd = -1;
}

/* --- reading ----------------------------------------------------------- */

static void on_data(void *user, uint32_t events)
{
	struct espat_atport *a = user;
	if (events & EPOLLOUT) {
		if (a->cb.writable)
			a->cb.writable(a->cb.user);
		if (a->rfd < 0)
			return; /* the writer dropped the client */
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	/* A few reads per wake keep bulk input cheap without starving the
	 * other fds. */
	for (int round = 0; round < 4 && a->rfd >= 0; round++) {
		size_t want = sizeof(a->rbuf);
		if (a->cb.room) {
			size_t room = a->cb.room(a->cb.user);
			if (room == 0)
				return; /* the line has carried nothing more yet */
			if (room < want)
				want = room;
		}
		ssize_t r = read(a->rfd, a->rbuf, want);
		if (r > 0) {
			a->cb.input(a->cb.user, a->rbuf, (size_t)r);
			if ((size_t)r < want || a->rx_paused)
				return;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		switch (a->kind) {
		case ESPAT_ATPORT_TCP:
			drop_client(a, r == 0 ? "closed" : strerror(errno));
			return;
		case ESPAT_ATPORT_STDIO:
			if (r == 0) {
				espat_log_info(a->log, "AT port: end of stdin");
				end(a, false);
			} else {
				espat_log_error(a->log, "AT port: stdin: %s", strerror(errno));
				end(a, true);
			}
			return;
		case ESPAT_ATPORT_PTY:
			/* We hold a slave open, so EOF/EIO should not happen;
			 * if it does, stop reading rather than spin. */
			espat_log_error(a->log, "AT port: pty: %s",
			                r == 0 ? "EOF" : strerror(errno));
			end(a, true);
			return;
		case ESPAT_ATPORT_SERIAL:
			espat_log_error(a->log, "AT port: %s: %s", a->name,
			                r == 0 ? "device gone" : strerror(errno));
			end(a, true);
			return;
		}
	}
}

static void on_stdout(void *user, uint32_t events)
{
	struct espat_atport *a = user;
	/* epoll reports ERR/HUP even when no event is requested: a reader
	 * that went away would wake us forever. Nothing can reach it now. */
	if (events & (EPOLLERR | EPOLLHUP)) {
		espat_log_error(a->log, "AT port: stdout closed by the reader");
		espat_loop_del(a->loop, &a->wwatch);
		a->wfd = -1;
		end(a, true);
		return;
	}
	if ((events & EPOLLOUT) && a->cb.writable)
		a->cb.writable(a->cb.user);
}

/* --- writing ----------------------------------------------------------- */

size_t espat_atport_write(struct espat_atport *a, const uint8_t *p, size_t n)
{
	if (a->wfd < 0)
		return 0;
	for (;;) {
		ssize_t w = write(a->wfd, p, n);
		if (w >= 0)
			return (size_t)w;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		if (a->kind == ESPAT_ATPORT_TCP) {
			drop_client(a, strerror(errno));
			return 0;
		}
		espat_log_error(a->log, "AT port: write: %s", strerror(errno));
		/* Nothing more can go out: stop watching for writability. */
		espat_loop_del(a->loop, &a->wwatch);
		a->wfd = -1;
		end(a, true);
		return 0;
	}
}

void espat_atport_pause_read(struct espat_atport *a, bool on)
{
	if (a->rx_paused == on)
		return; /* no epoll_ctl for nothing: this runs before every sleep */
	a->rx_paused = on;
	if (a->rwatch.added)
		espat_loop_mod(a->loop, &a->rwatch, data_events(a, false));
}

void espat_atport_want_write(struct espat_atport *a, bool on)
{
	a->want_out = on;
	if (a->rwatch.added)
		espat_loop_mod(a->loop, &a->rwatch, data_events(a, false));
	if (a->wwatch.added)
		espat_loop_mod(a->loop, &a->wwatch, data_events(a, true));
}

/* --- UART settings ----------------------------------------------------- */

static const struct {
	uint32_t baud;
	speed_t code;
} std_speeds[] = {
    {50, B50},           {75, B75},           {110, B110},         {134, B134},
    {150, B150},         {200, B200},         {300, B300},         {600, B600},
    {1200, B1200},       {1800, B1800},       {2400, B2400},       {4800, B4800},
    {9600, B9600},       {19200, B19200},     {38400, B38400},     {57600, B57600},
    {115200, B115200},   {230400, B230400},   {460800, B460800},   {500000, B500000},
    {576000, B576000},   {921600, B921600},   {1000000, B1000000}, {1152000, B1152000},
    {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000},
    {3500000, B3500000}, {4000000, B4000000},
};

static speed_t nearest_speed(uint32_t baud)
{
	size_t best = 0;
	for (size_t i = 1; i < sizeof(std_speeds) / sizeof(std_speeds[0]); i++) {
		uint32_t d = std_speeds[i].baud > baud ? std_speeds[i].baud - baud
		                                       : baud - std_speeds[i].baud;
		uint32_t bd = std_speeds[best].baud > baud ? std_speeds[best].baud - baud
		                                           : baud - std_speeds[best].baud;
		if (d < bd)
			best = i;
	}
	return std_speeds[best].code;
}

static void pty_set_uart(struct espat_atport *a, const struct espat_uart_cfg *cfg)
{
	struct termios t;
	if (tcgetattr(a->slave_fd, &t) < 0)
		return;
	cfsetispeed(&t, nearest_speed(cfg->baud));
	cfsetospeed(&t, nearest_speed(cfg->baud));
	/* Frame flags for the host to read; in raw mode (no INPCK, ISTRIP)
	 * they do not change the data on a pty. */
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
	t.c_cflag |= cfg->databits == 5   ? CS5
	             : cfg->databits == 6 ? CS6
	             : cfg->databits == 7 ? CS7
	                                  : CS8;
	if (cfg->parity)
		t.c_cflag |= PARENB | (cfg->parity == 1 ? PARODD : 0);
	if (cfg->stopbits >= 2)
		t.c_cflag |= CSTOPB;
	if (cfg->flow)
		t.c_cflag |= CRTSCTS;
	/* TCSANOW: TCSADRAIN on a slave would wait for the host's unread
	 * input, which only we drain. */
	if (tcsetattr(a->slave_fd, TCSANOW, &t) < 0)
		espat_log_debug(a->log, "AT port: pty termios: %s", strerror(errno));
}

void espat_atport_set_uart(struct espat_atport *a, const struct espat_uart_cfg *cfg)
{
	espat_log_debug(a->log, "AT port: UART %u,%u,%u,%u,%u", (unsigned)cfg->baud,
	                (unsigned)cfg->databits, (unsigned)cfg->stopbits, (unsigned)cfg->parity,
	                (unsigned)cfg->flow);
	switch (a->kind) {
	case ESPAT_ATPORT_PTY:
		pty_set_uart(a, cfg);
		break;
	case ESPAT_ATPORT_SERIAL:
		if (a->rfd >= 0 && espat_serial_apply(a->rfd, cfg) < 0)
			espat_log_error(a->log, "AT port: %s: cannot set %u baud: %s", a->name,
			                (unsigned)cfg->baud, strerror(errno));
		break;
	case ESPAT_ATPORT_STDIO:
	case ESPAT_ATPORT_TCP:
		break; /* no line to configure: only the pacer's rate changes */
	}
}

/* --- pty --------------------------------------------------------------- */

/* Points link at target: a temp symlink renamed over it, so a reader never
 * finds the path missing. Refuses to replace anything but a symlink. */
static int make_link(const char *link, const char *target, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(link, &st) == 0 && !S_ISLNK(st.st_mode)) {
		espat_errf(err, errlen, "%s exists and is not a symlink; refusing to replace it",
		           link);
		return -1;
	}
	char tmp[PATH_MAX];
	int n = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", link, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		espat_errf(err, errlen, "%s: path too long", link);
		return -1;
	}
	unlink(tmp);
	if (symlink(target, tmp) < 0 || rename(tmp, link) < 0) {
		espat_errf(err, errlen, "cannot create symlink %s: %s", link, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int espat_atport_open_pty(struct espat_atport *a, struct espat_loop *loop,
                          const struct espat_log *log, const struct espat_atport_cbs *cb,
                          const char *link, char *err, size_t errlen)
{
	base_init(a, ESPAT_ATPORT_PTY, loop, log, cb);
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0) {
		espat_errf(err, errlen, "cannot create a pseudo-terminal: %s", strerror(errno));
		return -1;
	}
	struct termios t;
	if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, a->name, sizeof(a->name)) != 0 ||
	    fcntl(m, F_SETFL, O_NONBLOCK) < 0) {
		espat_errf(err, errlen, "cannot set up the pseudo-terminal: %s", strerror(errno));
		close(m);
		return -1;
	}
	a->slave_fd = open(a->name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (a->slave_fd < 0 || tcgetattr(a->slave_fd, &t) < 0) {
		espat_errf(err, errlen, "cannot open %s: %s", a->name, strerror(errno));
		goto fail_fds;
	}
	cfmakeraw(&t);
	cfsetispeed(&t, B115200);
	cfsetospeed(&t, B115200);
	if (tcsetattr(a->slave_fd, TCSANOW, &t) < 0) {
		espat_errf(err, errlen, "cannot set %s raw: %s", a->name, strerror(errno));
		goto fail_fds;
	}
	a->rfd = a->wfd = m;
	if (espat_loop_add(loop, &a->rwatch, m, EPOLLIN, on_data, a) < 0) {
		espat_errf(err, errlen, "epoll: %s", strerror(errno));
		goto fail_fds;
	}
	if (link != NULL) {
		if (make_link(link, a->name, err, errlen) < 0) {
			espat_loop_del(loop, &a->rwatch);
			goto fail_fds;
		}
		snprintf(a->link, sizeof(a->link), "%s", link);
	}
	return 0;
fail_fds:
	if (a->slave_fd >= 0)
		close(a->slave_fd);
	close(m);
	a->slave_fd = a->rfd = a->wfd = -1;
	return -1;
}

/* --- stdio ------------------------------------------------------------- */

int espat_atport_open_stdio(struct espat_atport *a, struct espat_loop *loop,
                            const struct espat_log *log, const struct espat_atport_cbs *cb,
                            char *err, size_t errlen)
{
	base_init(a, ESPAT_ATPORT_STDIO, loop, log, cb);
	/* Save both first: stdin and stdout may share one open file, and
	 * its flags must come back as they were. */
	a->saved_fl[0] = fcntl(0, F_GETFL);
	a->saved_fl[1] = fcntl(1, F_GETFL);
	if (a->saved_fl[0] < 0 || a->saved_fl[1] < 0) {
		espat_errf(err, errlen, "--stdio needs an open stdin and stdout");
		return -1;
	}
	if (isatty(0) && tcgetattr(0, &a->saved_tty) == 0) {
		struct termios t = a->saved_tty;
		cfmakeraw(&t);
		t.c_lflag |= ISIG; /* Ctrl-C still stops espat */
		if (tcsetattr(0, TCSANOW, &t) == 0)
			a->restore_tty = true;
	}
	fcntl(0, F_SETFL, a->saved_fl[0] | O_NONBLOCK);
	fcntl(1, F_SETFL, a->saved_fl[1] | O_NONBLOCK);
	a->rfd = 0;
	a->wfd = 1;
	if (espat_loop_add(loop, &a->rwatch, 0, EPOLLIN, on_data, a) < 0 ||
	    espat_loop_add(loop, &a->wwatch, 1, 0, on_stdout, a) < 0) {
		espat_errf(err, errlen, "cannot watch stdin/stdout: %s", strerror(errno));
		a->rfd = a->wfd = -1;
		espat_atport_close(a);
		return -1;
	}
	return 0;
}

/* --- tcp --------------------------------------------------------------- */

static void on_accept(void *user, uint32_t events)
{
	struct espat_atport *a = user;
	int fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return; /* EAGAIN, ECONNABORTED, EMFILE: try on the next event */
	if (a->rfd >= 0) {
		espat_log_info(a->log, "AT port: second TCP client refused (one at a time)");
		close(fd);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	a->rfd = a->wfd = fd;
	if (espat_loop_add(a->loop, &a->rwatch, fd, data_events(a, false), on_data, a) < 0) {
		espat_log_error(a->log, "AT port: epoll: %s", strerror(errno));
		close(fd);
		a->rfd = a->wfd = -1;
		return;
	}
	espat_log_info(a->log, "AT port: TCP client connected");
}

int espat_atport_open_tcp(struct espat_atport *a, struct espat_loop *loop,
                          const struct espat_log *log, const struct espat_atport_cbs *cb,
                          const char *host, const char *port, char *err, size_t errlen)
{
	base_init(a, ESPAT_ATPORT_TCP, loop, log, cb);
	if (host == NULL || host[0] == '\0')
		host = "127.0.0.1";
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		espat_errf(err, errlen, "--tcp %s:%s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	int fd = -1, last = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			last = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4) == 0)
			break;
		last = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		espat_errf(err, errlen, "cannot listen on %s:%s: %s", host, port, strerror(last));
		return -1;
	}
	/* Name the real address (port 0 picks one): that is what clients
	 * need to connect to. */
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char h[NI_MAXHOST], s[NI_MAXSERV];
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), s, sizeof(s),
	                NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(a->name, sizeof(a->name), ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
		         h, s);
	else
		snprintf(a->name, sizeof(a->name), "%s:%s", host, port);
	a->listen_fd = fd;
	if (espat_loop_add(loop, &a->lwatch, fd, EPOLLIN, on_accept, a) < 0) {
		espat_errf(err, errlen, "epoll: %s", strerror(errno));
		close(fd);
		a->listen_fd = -1;
		return -1;
	}
	return 0;
}

/* --- serial ------------------------------------------------------------ */

int espat_atport_open_serial(struct espat_atport *a, struct espat_loop *loop,
                             const struct espat_log *log, const struct espat_atport_cbs *cb,
                             const char *dev, const struct espat_uart_cfg *cfg, char *err,
                             size_t errlen)
{
	base_init(a, ESPAT_ATPORT_SERIAL, loop, log, cb);
	snprintf(a->name, sizeof(a->name), "%s", dev);
	int fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		espat_errf(err, errlen, "cannot open %s: %s", dev, strerror(errno));
		return -1;
	}
	if (!isatty(fd)) {
		espat_errf(err, errlen, "%s is not a serial device (not a tty)", dev);
		close(fd);
		return -1;
	}
	if (ioctl(fd, TIOCEXCL) < 0)
		espat_log_warn(log, "%s: cannot get exclusive access: %s", dev, strerror(errno));
	if (espat_serial_apply(fd, cfg) < 0) {
		espat_errf(err, errlen, "cannot configure %s: %s", dev, strerror(errno));
		close(fd);
		return -1;
	}
	tcflush(fd, TCIOFLUSH); /* drop whatever the line held before us */
	a->rfd = a->wfd = fd;
	if (espat_loop_add(loop, &a->rwatch, fd, EPOLLIN, on_data, a) < 0) {
		espat_errf(err, errlen, "epoll: %s", strerror(errno));
		close(fd);
		a->rfd = a->wfd = -1;
		return -1;
	}
	return 0;
}

/* --- common ------------------------------------------------------------ */

const char *espat_atport_name(const struct espat_atport *a)
{
	return a->name;
}

void espat_atport_close(struct espat_atport *a)
{
	espat_loop_del(a->loop, &a->rwatch);
	espat_loop_del(a->loop, &a->wwatch);
	espat_loop_del(a->loop, &a->lwatch);
	switch (a->kind) {
	case ESPAT_ATPORT_STDIO:
		if (a->restore_tty)
			tcsetattr(0, TCSANOW, &a->saved_tty);
		if (a->saved_fl[0] >= 0)
			fcntl(0, F_SETFL, a->saved_fl[0]);
		if (a->saved_fl[1] >= 0)
			fcntl(1, F_SETFL, a->saved_fl[1]);
		a->restore_tty = false;
		break;
	case ESPAT_ATPORT_PTY:
		if (a->link[0] != '\0') {
			/* Only our own link: a newer espat may have taken
			 * the path over. */
			char target[PATH_MAX];
			ssize_t n = readlink(a->link, target, sizeof(target) - 1);
			if (n >= 0) {
				target[n] = '\0';
				if (strcmp(target, a->name) == 0)
					unlink(a->link);
			}
			a->link[0] = '\0';
		}
		if (a->slave_fd >= 0)
			close(a->slave_fd);
		if (a->rfd >= 0)
			close(a->rfd);
		break;
	case ESPAT_ATPORT_TCP:
		if (a->rfd >= 0)
			close(a->rfd);
		if (a->listen_fd >= 0)
			close(a->listen_fd);
		break;
	case ESPAT_ATPORT_SERIAL:
		if (a->rfd >= 0)
			close(a->rfd);
		break;
	}
	a->rfd = a->wfd = a->slave_fd = a->listen_fd = -1;
}
