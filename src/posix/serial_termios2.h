/* Serial line settings through Linux's termios2 (TCGETS2/TCSETS2 with
 * BOTHER), which takes any baud rate, not only the Bxxx table. Kept apart
 * because <asm/termbits.h> cannot share a file with <termios.h>. */
#ifndef ESPAT_POSIX_SERIAL_TERMIOS2_H
#define ESPAT_POSIX_SERIAL_TERMIOS2_H

#include "port/pipe.h"

/* Puts the tty in raw mode with cfg's rate, data bits, parity, stop bits
 * (1.5 is not available on Linux and becomes 2) and RTS/CTS (Linux only
 * has both together: any flow mode turns on CRTSCTS). 0, or -1 with errno
 * set. */
int espat_serial_apply(int fd, const struct espat_uart_cfg *cfg);

#endif
