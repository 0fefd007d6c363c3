/* One end of a connection to the shared air: a non-blocking Unix stream
 * socket in the event loop, carrying proto/air.h frames both ways. Used by
 * the hub (one per module) and by a module's air client (one, to the hub).
 *
 * Writes never block: frames queue in memory and go out as the socket
 * takes them. A peer that lets more than ESPAT_AIR_CONN_OUT_MAX bytes pile
 * up (it stopped reading) is dropped, as is one that sends a malformed
 * frame. */
#ifndef ESPAT_APP_AIR_CONN_H
#define ESPAT_APP_AIR_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "posix/bytebuf.h"
#include "posix/loop.h"
#include "proto/air.h"

#define ESPAT_AIR_CONN_OUT_MAX (16u * 1024u * 1024u)

struct espat_air_conn;

/* A whole message arrived (its payload valid for the call). */
typedef void espat_air_msg_fn(void *user, const struct espat_air_msg *m);
/* The connection ended (EOF, error, malformed input, overflow); the fd is
 * closed already and the conn is reset (fd -1); no more calls. */
typedef void espat_air_gone_fn(void *user);

struct espat_air_conn {
	int fd; /* -1: closed */
	struct espat_loop *loop;
	struct espat_loop_watch watch;
	struct espat_bytebuf in, out;
	espat_air_msg_fn *on_msg;
	espat_air_gone_fn *on_gone;
	void *user;
	bool dispatching; /* inside on_msg: a close is deferred to its end */
	bool closing;
};

/* Takes fd (connected, any blocking mode; made non-blocking). 0, or -1. */
int espat_air_conn_open(struct espat_air_conn *c, struct espat_loop *l, int fd,
                        espat_air_msg_fn *on_msg, espat_air_gone_fn *on_gone, void *user);
/* Queues one message. false when the connection is closed or overflowing
 * (it is then dropped, and on_gone follows from the loop). */
bool espat_air_conn_send(struct espat_air_conn *c, const struct espat_air_msg *m);
/* Closes without calling on_gone. */
void espat_air_conn_close(struct espat_air_conn *c);

#endif
