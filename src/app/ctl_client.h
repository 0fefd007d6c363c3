/* `espat ctl ...`: the command-line client of the control socket. */
#ifndef ESPAT_APP_CTL_CLIENT_H
#define ESPAT_APP_CTL_CLIENT_H

#include <stdio.h>

#define ESPAT_CTL_SOCK_NAME "ctl.sock" /* in the data dir, unless --ctl says */

/* Runs the client; argv[0] is "ctl". Prints the reply to stdout and
 * returns the exit status: 0 ok, 1 the command failed ("ok":false, the
 * error also on stderr), 2 usage error or no server to talk to. */
int espat_ctl_client_main(int argc, char **argv);
/* The --help text of `espat ctl`. */
void espat_ctl_client_usage(FILE *f);

#endif
