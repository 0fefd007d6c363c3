#include "posix/serial_termios2.h"

#include <asm/termbits.h>
#include <sys/ioctl.h>

int espat_serial_apply(int fd, const struct espat_uart_cfg *cfg)
{
	struct termios2 t;
	if (ioctl(fd, TCGETS2, &t) < 0)
		return -1;
	/* cfmakeraw's flags, spelled out (no <termios.h> here). */
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON |
	                         IXOFF | IXANY | INPCK);
	t.c_oflag &= ~(tcflag_t)OPOST;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &=
	    ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS | CBAUD | (CBAUD << IBSHIFT));
	t.c_cflag |= CREAD | CLOCAL | BOTHER | (BOTHER << IBSHIFT);
	switch (cfg->databits) {
	case 5:
		t.c_cflag |= CS5;
		break;
	case 6:
		t.c_cflag |= CS6;
		break;
	case 7:
		t.c_cflag |= CS7;
		break;
	default:
		t.c_cflag |= CS8;
		break;
	}
	if (cfg->parity == 1)
		t.c_cflag |= PARENB | PARODD;
	else if (cfg->parity == 2)
		t.c_cflag |= PARENB;
	if (cfg->stopbits >= 2)
		t.c_cflag |= CSTOPB;
	if (cfg->flow != 0)
		t.c_cflag |= CRTSCTS;
	t.c_ispeed = cfg->baud;
	t.c_ospeed = cfg->baud;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	return ioctl(fd, TCSETS2, &t);
}
