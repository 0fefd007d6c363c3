/* A framed connection to the shared air (app/air_conn.h). */
#include "app/air_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK 65536u

static void want(struct espat_air_conn *c)
{
	uint32_t ev = EPOLLIN;
	if (espat_bytebuf_size(&c->out) > 0)
		ev |= EPOLLOUT;
	espat_loop_mod(c->loop, &c->watch, ev);
}

void espat_air_conn_close(struct espat_air_conn *c)
{
	if (c->fd < 0)
		return;
	espat_loop_del(c->loop, &c->watch);
	close(c->fd);
	c->fd = -1;
	espat_bytebuf_free(&c->in);
	espat_bytebuf_free(&c->out);
}

/* Ends the connection and tells the owner (who may free c). */
static void drop(struct espat_air_conn *c)
{
	if (c->dispatching) {
		c->closing = true;
		return;
	}
	espat_air_conn_close(c);
	c->on_gone(c->user);
}

static void flush(struct espat_air_conn *c)
{
	while (espat_bytebuf_size(&c->out) > 0) {
		ssize_t n = send(c->fd, espat_bytebuf_data(&c->out), espat_bytebuf_size(&c->out),
		                 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			c->closing = true;
			shutdown(c->fd, SHUT_RDWR); /* reported as a hang-up: dropped there */
			return;
		}
		espat_bytebuf_take(&c->out, (size_t)n);
	}
	want(c);
}

bool espat_air_conn_send(struct espat_air_conn *c, const struct espat_air_msg *m)
{
	if (c->fd < 0 || c->closing)
		return false;
	uint8_t frame[ESPAT_AIR_FRAME_MAX];
	size_t n = espat_air_encode(m, frame, sizeof(frame));
	if (n == 0 || n > sizeof(frame))
		return false;
	bool was_empty = espat_bytebuf_size(&c->out) == 0;
	if (espat_bytebuf_size(&c->out) + n > ESPAT_AIR_CONN_OUT_MAX ||
	    !espat_bytebuf_append(&c->out, frame, n)) {
		/* the peer stopped reading: the hang-up this causes reports
		 * through the loop and ends the connection there */
		c->closing = true;
		shutdown(c->fd, SHUT_RDWR);
		return false;
	}
	if (was_empty)
		flush(c); /* most frames go out at once */
	return true;
}

/* Hands every whole frame in the input to the owner. */
static void dispatch(struct espat_air_conn *c)
{
	c->dispatching = true;
	while (!c->closing && c->fd >= 0) {
		struct espat_air_msg m;
		size_t used = 0;
		enum espat_air_rc rc = espat_air_decode(espat_bytebuf_data(&c->in),
		                                        espat_bytebuf_size(&c->in), &m, &used);
		if (rc == ESPAT_AIR_NEED)
			break;
		if (rc == ESPAT_AIR_BAD) {
			c->closing = true;
			break;
		}
		c->on_msg(c->user, &m);
		espat_bytebuf_take(&c->in, used);
	}
	c->dispatching = false;
}

static void on_io(void *user, uint32_t events)
{
	struct espat_air_conn *c = user;
	if (events & EPOLLOUT)
		flush(c);
	if (!c->closing && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		uint8_t buf[READ_CHUNK];
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n > 0) {
			if (!espat_bytebuf_append(&c->in, buf, (size_t)n))
				c->closing = true;
			else
				dispatch(c);
		} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			c->closing = true;
		}
	}
	if (c->closing)
		drop(c);
}

int espat_air_conn_open(struct espat_air_conn *c, struct espat_loop *l, int fd,
                        espat_air_msg_fn *on_msg, espat_air_gone_fn *on_gone, void *user)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	c->loop = l;
	c->on_msg = on_msg;
	c->on_gone = on_gone;
	c->user = user;
	if (espat_loop_add(l, &c->watch, fd, EPOLLIN, on_io, c) < 0)
		return -1;
	c->fd = fd;
	return 0;
}
