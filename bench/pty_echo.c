/* The reference for the AT round-trip benchmark: a pty that echoes every
 * byte back, with the same pty set-up and event loop shape as espat
 * (epoll, non-blocking master), so the ratio measures espat's own work. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>

int main(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (m < 0 || grantpt(m) || unlockpt(m))
		return 1;
	const char *name = ptsname(m);
	int s = open(name, O_RDWR | O_NOCTTY);
	struct termios t;
	tcgetattr(s, &t);
	cfmakeraw(&t);
	tcsetattr(s, TCSANOW, &t);
	printf("%s\n", name);
	fflush(stdout);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = m};
	epoll_ctl(ep, EPOLL_CTL_ADD, m, &ev);
	char buf[4096];
	for (;;) {
		if (epoll_wait(ep, &ev, 1, -1) < 1)
			continue;
		ssize_t n = read(m, buf, sizeof(buf));
		if (n > 0 && write(m, buf, (size_t)n) < 0)
			return 1;
	}
}
