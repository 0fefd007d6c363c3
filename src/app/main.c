/* espat: options, wiring, signals. Everything lives in one struct
 * espat_app; the only process-wide state touched is the signal mask
 * (signals arrive through a signalfd in the loop) and SIGPIPE's
 * disposition. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "app/air.h"
#include "app/ble_peer_sec.h"
#include "app/air_hub.h"
#include "app/ctl.h"
#include "app/ctl_client.h"
#include "app/options.h"
#include "cmd/ble.h"
#include "cmd/module.h"
#include "cmd/tcpip.h"
#include "posix/atport.h"
#include "posix/ctl_server.h"
#include "posix/crypto_openssl.h"
#include "posix/flash_file.h"
#include "posix/periph_linux.h"
#include "posix/fsutil.h"
#include "posix/files_dir.h"
#include "posix/kv_file.h"
#include "posix/log.h"
#include "posix/loop.h"
#include "posix/mfg_raw.h"
#include "posix/net_posix.h"
#include "world/netfault.h"
#include "posix/pacer.h"
#include "posix/regex_posix.h"
#include "posix/sys_posix.h"
#include "posix/tls_openssl.h"
#include "posix/trace.h"
#include "posix/uart_rx.h"
#include "world/world.h"

#define EXIT_USAGE 2         /* bad option, value or path */
#define LINGER_NS 500000000u /* --stdio: quiet time after end of input */
/* Output queued past this (a host that has not read for a long while):
 * the module stops reading the host as well (COMPAT #243). */
#define TX_HOLD_INPUT (ESPAT_PACER_CAP / 2)

struct espat_app {
	struct espat_options opt;
	enum espat_chip chip; /* the chip the data dir is (DIR/chip) */
	struct espat_log log;
	struct espat_loop loop;
	struct espat_atport port;
	bool port_open;
	struct espat_pacer pacer; /* the UART's TX side */
	struct espat_uart_rx rx;  /* the UART's RX side */
	struct espat_trace trace;
	struct espat_sys_posix sys;
	struct espat_kv_file nvs, mfg;
	bool stores_open;
	struct espat_flash_file flash;
	bool flash_open;
	struct espat_world world;   /* the air around the module (--world) */
	struct espat_net_posix net; /* the module's sockets, DNS and ping */
	bool net_open;
	struct espat_netfault fault; /* faults over net's sockets (espat ctl fault) */
	bool fault_open;
	struct espat_air air; /* the shared air (--air), between net and the faults */
	bool air_open;
	struct espat_tls_filter tls; /* TLS over net's sockets: the module's net port */
	bool tls_open;
	struct espat_files_dir files; /* whole files in the data dir (OTA images) */
	bool files_open;
	struct espat_periph_linux periph; /* the host's buses (--i2c, --spi, ...) */
	bool periph_linux;                /* mapped: used instead of the world's */
	struct espat_ports ports; /* the module's wiring, kept for power cuts */
	struct espat_module_opts mopts;
	struct espat_uart_cfg uart0; /* the port's UART at start (factory) */
	struct espat_pacer_sink sink;
	struct espat_module module; /* same address across power cuts */
	bool module_live;
	struct espat_ctl ctl;            /* the control interpreter */
	struct espat_ble_peers_sm ble_sm; /* the scripted BLE peers' pairing */
	struct espat_ctl_server ctl_srv; /* its socket (--ctl) */
	int lock_fd;                     /* flock on DATA_DIR/.lock */
	int sig_fd;
	struct espat_loop_watch sig_watch;
	struct espat_loop_timer module_timer; /* the module's next deadline */
	struct espat_loop_timer pacer_timer;  /* the pacer's next chunk */
	struct espat_loop_timer rx_timer;     /* the input line carries more */
	struct espat_loop_timer linger_timer; /* end of --stdio input */
	struct espat_loop_timer tls_timer;    /* the TLS filter's run() */
	struct espat_loop_timer fault_timer;  /* the fault layer's run() */
	bool input_closed;                    /* stdin ended: exit when quiet */
	uint64_t last_out_ns;                 /* when the module last wrote */
	int exit_code;
};

/* --- module -> host ---------------------------------------------------- */

static void pipe_write(void *user, const uint8_t *buf, size_t len)
{
	struct espat_app *app = user;
	app->last_out_ns = espat_loop_now_ns();
	espat_pacer_push(&app->pacer, buf, len, app->last_out_ns);
}

static void pipe_set_uart(void *user, const struct espat_uart_cfg *cfg)
{
	struct espat_app *app = user;
	espat_pacer_set_uart(&app->pacer, cfg);
}

static size_t pipe_pending(void *user)
{
	struct espat_app *app = user;
	return espat_pacer_pending(&app->pacer);
}

static void pipe_rx_pause(void *user, bool paused)
{
	struct espat_app *app = user;
	espat_uart_rx_hold(&app->rx, paused); /* prepare() applies it to the port */
}

static void on_restart(void *user)
{
	struct espat_app *app = user;
	espat_log_info(&app->log, "module restarted");
}

static size_t sink_write(void *user, const uint8_t *p, size_t n)
{
	struct espat_app *app = user;
	size_t w = espat_atport_write(&app->port, p, n);
	espat_trace_bytes(&app->trace, ESPAT_TRACE_OUT, p, w);
	return w;
}

/* The new settings reach the line (and so both directions) once the
 * output before them has left. */
static void sink_apply_uart(void *user, const struct espat_uart_cfg *cfg)
{
	struct espat_app *app = user;
	espat_atport_set_uart(&app->port, cfg);
	espat_uart_rx_set_uart(&app->rx, cfg);
}

static void sink_want_writable(void *user, bool on)
{
	struct espat_app *app = user;
	espat_atport_want_write(&app->port, on);
}

/* --- host -> module ---------------------------------------------------- */

/* How much of the host's input the port may read now: what the line has
 * carried, and nothing while the host has left megabytes unread. */
static size_t rx_room(struct espat_app *app, uint64_t now)
{
	if (espat_pacer_pending(&app->pacer) > TX_HOLD_INPUT)
		return 0;
	return espat_uart_rx_room(&app->rx, now);
}

static size_t port_room(void *user)
{
	struct espat_app *app = user;
	return rx_room(app, espat_loop_now_ns());
}

/* Bytes on the wire: traced as read (even those a full buffer then loses). */
static void port_input(void *user, const uint8_t *p, size_t n)
{
	struct espat_app *app = user;
	espat_trace_bytes(&app->trace, ESPAT_TRACE_IN, p, n);
	espat_uart_rx_input(&app->rx, p, n);
}

static void rx_deliver(void *user, const uint8_t *p, size_t n)
{
	struct espat_app *app = user;
	espat_module_input(&app->module, p, n);
}

static void port_writable(void *user)
{
	struct espat_app *app = user;
	espat_pacer_writable(&app->pacer, espat_loop_now_ns());
}

static void port_closed(void *user, bool error)
{
	struct espat_app *app = user;
	if (error) {
		app->exit_code = 1;
		app->loop.stop = true;
		return;
	}
	app->input_closed = true;
}

/* --- control ----------------------------------------------------------- */

/* What a scripted BLE peer sends the module over their link. */
static void ble_peer_to_module(void *user, const uint8_t addr[6], const uint8_t *pdu, size_t len)
{
	espat_ble_att_in(user, addr, pdu, len);
}

static struct espat_module *ctl_module(void *user)
{
	struct espat_app *app = user;
	return &app->module;
}

/* Power cut: the module dies with whatever the UART still had to send (lost
 * on a dead line, as on the real one) and boots again on the same flash, at
 * the same address. */
static void ctl_power_cut(void *user)
{
	struct espat_app *app = user;
	espat_log_info(&app->log, "power cut");
	if (app->air_open)
		espat_air_power_cut(&app->air);
	espat_module_free(&app->module);
	espat_atport_want_write(&app->port, false);
	espat_pacer_reset(&app->pacer, &app->uart0);
	espat_uart_rx_reset(&app->rx, &app->uart0);
	espat_module_init(&app->module, &app->ports, &app->mopts);
	espat_module_power_on(&app->module);
}

static struct json_t *ctl_air_state(void *user)
{
	struct espat_app *app = user;
	return espat_air_state(&app->air);
}

static char *ctl_handle(void *user, const char *const *argv, size_t argc)
{
	struct espat_app *app = user;
	return espat_ctl_run(&app->ctl, argc, argv);
}

/* --- loop hooks -------------------------------------------------------- */

static void on_module_timer(void *user)
{
	struct espat_app *app = user;
	espat_module_poll(&app->module);
}

static void on_pacer_timer(void *user)
{
	struct espat_app *app = user;
	espat_pacer_run(&app->pacer, espat_loop_now_ns());
}

static void on_rx_timer(void *user)
{
	(void)user; /* prepare() opens the port again */
}

static void on_tls_timer(void *user)
{
	struct espat_app *app = user;
	espat_tls_filter_run(&app->tls);
}

/* The filter has plaintext to deliver: run() from the loop, not from
 * inside the call that woke it. */
static void tls_wake(void *user)
{
	struct espat_app *app = user;
	espat_loop_timer_arm(&app->loop, &app->tls_timer, espat_loop_now_ns(), on_tls_timer, app);
}

static void on_fault_timer(void *user)
{
	struct espat_app *app = user;
	espat_netfault_run(&app->fault);
}

/* The fault layer has something due now: run() from the loop. */
static void fault_wake(void *user)
{
	struct espat_app *app = user;
	espat_loop_timer_arm(&app->loop, &app->fault_timer, espat_loop_now_ns(), on_fault_timer,
	                     app);
}

static uint64_t fault_now_ms(void *user)
{
	return espat_loop_now_ns() / 1000000u;
}

static void on_linger_timer(void *user)
{
	(void)user; /* prepare() decides */
}

static void arm_or_cancel(struct espat_loop *l, struct espat_loop_timer *t, uint64_t due_ns,
                          espat_loop_timer_fn *fn, void *user)
{
	if (due_ns == ESPAT_LOOP_NEVER)
		espat_loop_timer_cancel(l, t);
	else
		espat_loop_timer_arm(l, t, due_ns, fn, user);
}

/* Before every sleep: send what is due, then derive the wake-up times
 * from the module's and the pacer's state, which any callback may have
 * changed. */
static void prepare(void *user)
{
	struct espat_app *app = user;
	espat_uart_rx_run(&app->rx); /* input the module held back, if it takes it now */
	uint64_t now = espat_loop_now_ns();
	size_t room = rx_room(app, now);
	espat_atport_pause_read(&app->port, room == 0);
	arm_or_cancel(&app->loop, &app->rx_timer,
	              room == 0 && espat_pacer_pending(&app->pacer) <= TX_HOLD_INPUT
	                  ? espat_uart_rx_next_ns(&app->rx, now)
	                  : ESPAT_LOOP_NEVER,
	              on_rx_timer, app);
	espat_pacer_run(&app->pacer, now);
	if (espat_pacer_pending(&app->pacer) < ESPAT_TX_HIGH / 2)
		espat_module_tx_room(&app->module);
	if (app->air_open)
		espat_air_sync(&app->air); /* the softAP as the module left it */
	arm_or_cancel(&app->loop, &app->pacer_timer, espat_pacer_next_ns(&app->pacer, now),
	              on_pacer_timer, app);
	uint64_t d = espat_module_next_deadline(&app->module);
	uint64_t due = d == ESPAT_NEVER || d > ESPAT_LOOP_NEVER / 1000000u - 1 ? ESPAT_LOOP_NEVER
	                                                                       : d * 1000000u;
	arm_or_cancel(&app->loop, &app->module_timer, due, on_module_timer, app);
	if (app->tls_open)
		arm_or_cancel(&app->loop, &app->tls_timer, espat_tls_filter_next_ns(&app->tls),
		              on_tls_timer, app);
	if (app->fault_open) {
		uint64_t f = espat_netfault_next_ms(&app->fault);
		arm_or_cancel(&app->loop, &app->fault_timer,
		              f >= ESPAT_LOOP_NEVER / 1000000u ? ESPAT_LOOP_NEVER : f * 1000000u,
		              on_fault_timer, app);
	}
	if (app->input_closed) {
		uint64_t quiet = app->last_out_ns + LINGER_NS;
		if (espat_pacer_pending(&app->pacer) == 0 && now >= quiet)
			app->loop.stop = true;
		else
			espat_loop_timer_arm(&app->loop, &app->linger_timer,
			                     quiet > now ? quiet : now + LINGER_NS, on_linger_timer,
			                     app);
	}
}

static void on_signal(void *user, uint32_t events)
{
	struct espat_app *app = user;
	struct signalfd_siginfo si;
	while (read(app->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		espat_log_info(&app->log, "signal %u: shutting down", (unsigned)si.ssi_signo);
		app->loop.stop = true;
	}
}

/* --- setup ------------------------------------------------------------- */

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "espat: %s\n", msg);
	return EXIT_USAGE;
}

static const char *const chip_names[ESPAT_CHIP_COUNT] = {
    [ESPAT_CHIP_ESP32C3] = "esp32c3",
    [ESPAT_CHIP_ESP8266] = "esp8266",
};

static int chip_parse(const char *s, size_t n, enum espat_chip *out)
{
	for (int c = 0; c < ESPAT_CHIP_COUNT; c++) {
		size_t l = strlen(chip_names[c]);
		if (n == l && memcmp(s, chip_names[c], l) == 0) {
			*out = (enum espat_chip)c;
			return 0;
		}
	}
	return -1;
}

/* The data dir is one device, so one chip: DIR/chip names it ("esp8266\n").
 * A dir without the file is new (the chip asked for, or esp32c3), or was
 * made before chips were remembered and holds an ESP32-C3's nvs.db or
 * efuse.bin (COMPAT #303). Starting it as the other chip is a usage error. */
static int data_dir_chip(struct espat_app *app, int dfd)
{
	const char *dir = app->opt.data_dir;
	enum espat_chip want = ESPAT_CHIP_ESP32C3, have;
	if (app->opt.chip && chip_parse(app->opt.chip, strlen(app->opt.chip), &want) < 0)
		return usage_error("--chip %s: unknown chip", app->opt.chip);
	uint8_t *buf = NULL;
	size_t len = 0;
	if (espat_read_all(dfd, "chip", 64, &buf, &len) == 0) {
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			len--;
		int bad = chip_parse((const char *)buf, len, &have);
		free(buf);
		if (bad < 0)
			return usage_error("--data-dir %s: chip: not a chip this espat knows", dir);
		if (app->opt.chip && have != want)
			return usage_error("--data-dir %s holds an %s module; start it with --chip %s "
			                   "or use another data dir",
			                   dir, chip_names[have], chip_names[have]);
		app->chip = have;
		return 0;
	}
	if (errno != ENOENT)
		return usage_error("--data-dir %s: chip: %s", dir, espat_fs_strerror(errno));
	bool used = faccessat(dfd, "nvs.db", F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
	            faccessat(dfd, "efuse.bin", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	if (used && want != ESPAT_CHIP_ESP32C3)
		return usage_error("--data-dir %s holds an esp32c3 module; start it with --chip "
		                   "esp32c3 or use another data dir",
		                   dir);
	char text[16];
	int n = snprintf(text, sizeof(text), "%s\n", chip_names[want]);
	if (espat_write_atomic(dfd, "chip", text, (size_t)n) < 0)
		return usage_error("--data-dir %s: cannot write chip: %s", dir,
		                   espat_fs_strerror(errno));
	app->chip = want;
	return 0;
}

/* Creates and locks the data dir. 0, or an exit status after printing. */
static int open_data_dir(struct espat_app *app)
{
	const char *dir = app->opt.data_dir;
	if (espat_mkdir_p(dir) < 0) {
		if (errno == ENOTDIR || errno == EEXIST)
			return usage_error("--data-dir %s: not a directory", dir);
		return usage_error("--data-dir %s: cannot create it: %s", dir, strerror(errno));
	}
	if (access(dir, W_OK | X_OK) < 0)
		return usage_error("--data-dir %s: not writable: %s", dir, strerror(errno));
	/* The path given is trusted; what is inside is opened without
	 * following a symlink (posix/fsutil.h, COMPAT #200-209). */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return usage_error("--data-dir %s: %s", dir, strerror(errno));
	app->lock_fd = espat_file_open(dfd, ".lock", O_RDWR | O_CREAT);
	int e = errno;
	if (app->lock_fd < 0) {
		close(dfd);
		return usage_error("--data-dir %s: .lock: %s", dir, espat_fs_strerror(e));
	}
	/* Two modules on one flash would corrupt each other's view. */
	if (flock(app->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		close(dfd);
		return usage_error("--data-dir %s is in use by another espat", dir);
	}
	int rc = data_dir_chip(app, dfd);
	close(dfd);
	if (rc != 0)
		return rc;
	if (espat_kv_file_open(&app->nvs, dir, "nvs.db", &app->log) < 0)
		return usage_error("--data-dir %s: cannot read nvs.db: %s", dir,
		                   espat_fs_strerror(errno));
	if (espat_kv_file_open(&app->mfg, dir, "mfg_nvs.db", &app->log) < 0) {
		e = errno;
		espat_kv_file_close(&app->nvs);
		return usage_error("--data-dir %s: cannot read mfg_nvs.db: %s", dir,
		                   espat_fs_strerror(e));
	}
	app->stores_open = true;
	if (espat_flash_file_open(&app->flash, dir, &app->log) < 0)
		return usage_error("--data-dir %s: cannot open the flash partitions: %s", dir,
		                   espat_fs_strerror(errno));
	app->flash_open = true;
	if (espat_sys_posix_load_efuse(&app->sys, dir) < 0)
		return usage_error("--data-dir %s: cannot create efuse.bin: %s", dir,
		                   espat_fs_strerror(errno));
	return 0;
}

static int open_signals(struct espat_app *app)
{
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, NULL); /* write errors come back as EPIPE */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	app->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (app->sig_fd < 0)
		return -1;
	return espat_loop_add(&app->loop, &app->sig_watch, app->sig_fd, EPOLLIN, on_signal, app);
}

static int open_port(struct espat_app *app, const struct espat_uart_cfg *cfg)
{
	const struct espat_atport_cbs cbs = {
	    .input = port_input,
	    .room = port_room,
	    .writable = port_writable,
	    .closed = port_closed,
	    .user = app,
	};
	char err[512];
	int rc = -1;
	switch (app->opt.port) {
	case ESPAT_PORT_PTY:
		rc = espat_atport_open_pty(&app->port, &app->loop, &app->log, &cbs,
		                           app->opt.pty_link, err, sizeof(err));
		break;
	case ESPAT_PORT_STDIO:
		rc = espat_atport_open_stdio(&app->port, &app->loop, &app->log, &cbs, err,
		                             sizeof(err));
		break;
	case ESPAT_PORT_TCP:
		rc = espat_atport_open_tcp(&app->port, &app->loop, &app->log, &cbs,
		                           app->opt.tcp_host, app->opt.tcp_port, err, sizeof(err));
		break;
	case ESPAT_PORT_SERIAL:
		rc = espat_atport_open_serial(&app->port, &app->loop, &app->log, &cbs,
		                              app->opt.serial_dev, cfg, err, sizeof(err));
		break;
	}
	if (rc < 0)
		return usage_error("%s", err);
	app->port_open = true;
	return 0;
}

static void app_free(struct espat_app *app)
{
	if (app->module_live) {
		/* Give the host what is already queued, without waiting. */
		espat_pacer_flush(&app->pacer);
		espat_module_free(&app->module);
	}
	espat_pacer_free(&app->pacer);
	if (app->files_open)
		espat_files_dir_close(&app->files);
	if (app->periph_linux)
		espat_periph_linux_free(&app->periph);
	if (app->tls_open) {
		espat_loop_timer_cancel(&app->loop, &app->tls_timer);
		espat_tls_filter_free(&app->tls);
	}
	if (app->fault_open) {
		espat_loop_timer_cancel(&app->loop, &app->fault_timer);
		espat_netfault_free(&app->fault);
	}
	if (app->air_open)
		espat_air_close(&app->air);
	if (app->net_open)
		espat_net_posix_free(&app->net);
	espat_ctl_server_close(&app->ctl_srv);
	if (app->port_open)
		espat_atport_close(&app->port);
	if (app->flash_open)
		espat_flash_file_close(&app->flash);
	if (app->stores_open) {
		espat_kv_file_close(&app->nvs);
		espat_kv_file_close(&app->mfg);
	}
	espat_trace_close(&app->trace);
	if (app->sig_fd >= 0) {
		espat_loop_del(&app->loop, &app->sig_watch);
		close(app->sig_fd);
	}
	espat_loop_free(&app->loop);
	if (app->lock_fd >= 0)
		close(app->lock_fd);
}

/* The world, before anything is created: a bad file changes nothing. */
static int load_world(struct espat_app *app)
{
	if (app->opt.world_path == NULL) {
		espat_world_default(&app->world);
		return 0;
	}
	struct espat_world_err err = {0};
	if (espat_world_load(&app->world, app->opt.world_path, &err) == 0)
		return 0;
	if (err.line > 0)
		return usage_error("%s:%d: %s", app->opt.world_path, err.line, err.msg);
	return usage_error("%s", err.msg);
}

static int open_ctl(struct espat_app *app)
{
	char def[4096];
	const char *path = app->opt.ctl_path;
	if (path == NULL) {
		int n = snprintf(def, sizeof(def), "%s/%s", app->opt.data_dir, ESPAT_CTL_SOCK_NAME);
		if (n < 0 || (size_t)n >= ESPAT_CTL_PATH_MAX)
			return usage_error("--data-dir %s: the control socket %s/%s would be too "
			                   "long for a Unix socket; give --ctl PATH",
			                   app->opt.data_dir, app->opt.data_dir,
			                   ESPAT_CTL_SOCK_NAME);
		path = def;
	}
	app->ctl = (struct espat_ctl){
	    .module = ctl_module,
	    .world = &app->world,
	    .power_cut = ctl_power_cut,
	    .air_state = app->opt.air_path ? ctl_air_state : NULL,
	    .ble_sm = &app->ble_sm,
	    .user = app,
	};
	espat_ble_peers_sm_init(&app->ble_sm, &app->world.ble, ctl_module, app);
	char err[512];
	if (espat_ctl_server_open(&app->ctl_srv, &app->loop, &app->log, path, ctl_handle, app, err,
	                          sizeof(err)) < 0)
		return usage_error("%s", err);
	return 0;
}

static int run(struct espat_app *app)
{
	int rc = load_world(app);
	if (rc != 0)
		return rc;
	/* seeded before the data dir: a new device's eFuse MAC is drawn from it */
	espat_sys_posix_init(&app->sys);
	rc = open_data_dir(app);
	if (rc != 0)
		return rc;
	if (app->opt.trace_path && espat_trace_open(&app->trace, app->opt.trace_path) < 0)
		return usage_error("--trace %s: %s", app->opt.trace_path, strerror(errno));
	if (espat_loop_init(&app->loop) < 0 || open_signals(app) < 0) {
		fprintf(stderr, "espat: cannot set up the event loop: %s\n", strerror(errno));
		return 1;
	}
	rc = open_ctl(app);
	if (rc != 0)
		return rc;
	if (espat_net_posix_init(&app->net, &app->loop, &app->log) < 0) {
		fprintf(stderr, "espat: cannot set up the network: %s\n", strerror(errno));
		return 1;
	}
	app->net_open = true;
	struct espat_net host = espat_net_posix_port(&app->net);
	if (app->opt.air_path) {
		char err[640];
		if (espat_air_open(&app->air, app->opt.air_path, &app->loop, &app->log,
		                   app->opt.data_dir, err, sizeof(err)) < 0)
			return usage_error("%s", err);
		app->air_open = true;
		app->air.m = &app->module;
		host = espat_air_net(&app->air, &host); /* air networks beneath the faults */
	}
	/* host sockets (and the air's), then the world's faults, then TLS: a
	 * fault reaches every protocol as a bad network would */
	espat_netfault_init(&app->fault, &host, fault_now_ms, app, fault_wake, app);
	app->fault_open = true;
	app->ctl.fault = &app->fault;
	const struct espat_net plain = espat_netfault_port(&app->fault);
	if (espat_tls_filter_init(&app->tls, &plain, tls_wake, app, &app->log) < 0) {
		fprintf(stderr, "espat: cannot set up TLS: %s\n", strerror(errno));
		return 1;
	}
	app->tls_open = true;
	if (espat_files_dir_open(&app->files, app->opt.data_dir, &app->log) < 0) {
		fprintf(stderr, "espat: cannot open the data dir %s: %s\n", app->opt.data_dir,
		        strerror(errno));
		return 1;
	}
	app->files_open = true;
	const struct espat_periph_linux_cfg pcfg = {
	    .i2c_dev = app->opt.i2c_dev,
	    .spi_dev = app->opt.spi_dev,
	    .iio_dir = app->opt.adc_iio,
	    .pwm_chip = app->opt.pwm_chip,
	};
	if (pcfg.i2c_dev || pcfg.spi_dev || pcfg.iio_dir || pcfg.pwm_chip) {
		if (espat_periph_linux_init(&app->periph, &pcfg, NULL) < 0)
			return usage_error("a bus path is longer than %d bytes",
			                   ESPAT_PERIPH_PATH_MAX - 1);
		app->periph_linux = true;
	}
	app->uart0 = (struct espat_uart_cfg){
	    .baud = app->opt.baud ? app->opt.baud : 115200,
	    .databits = 8,
	    .stopbits = 1,
	    .parity = 0,
	    .flow = 0,
	};
	rc = open_port(app, &app->uart0);
	if (rc != 0)
		return rc;
	app->sink = (struct espat_pacer_sink){
	    .write = sink_write,
	    .apply_uart = sink_apply_uart,
	    .want_writable = sink_want_writable,
	    .user = app,
	};
	if (espat_pacer_init(&app->pacer, &app->sink, &app->uart0, app->opt.pace, &app->log) < 0) {
		fprintf(stderr, "espat: out of memory for the UART's output queue\n");
		return 1;
	}
	const struct espat_uart_rx_sink rx_sink = {.input = rx_deliver, .user = app};
	espat_uart_rx_init(&app->rx, &rx_sink, &app->uart0, app->opt.pace, &app->log);

	app->ports = (struct espat_ports){
	    .pipe = {.write = pipe_write,
	             .set_uart = pipe_set_uart,
	             .pending = pipe_pending,
	             .rx_pause = pipe_rx_pause,
	             .user = app},
	    .sys = espat_sys_posix_port(&app->sys),
	    .nvs = espat_kv_file_port(&app->nvs),
	    .mfg = espat_kv_file_port(&app->mfg),
	    .flash = espat_flash_file_port(&app->flash),
	    .regex = espat_regex_posix_port(),
	    .radio = espat_world_radio(&app->world),
	    .ble = espat_ble_world_port(&app->world.ble),
	    .crypto = espat_crypto_openssl(),
	    .net = espat_tls_filter_port(&app->tls),
	    .files = espat_files_dir_port(&app->files),
	    .periph = app->periph_linux ? espat_periph_linux_port(&app->periph)
	                                : espat_sim_periph_port(&app->world.periph),
	    .on_restart = on_restart,
	    .restart_user = app,
	};
	if (app->air_open) {
		const struct espat_radio world = app->ports.radio;
		app->ports.radio = espat_air_radio(&app->air, &world);
		const struct espat_ble_port ble = app->ports.ble;
		app->ports.ble = espat_air_ble(&app->air, &ble); /* scripted peers and modules */
	}
	app->mopts = (struct espat_module_opts){
	    .chip = app->chip,
	    .factory_baud = app->opt.baud,
	    .paced = app->opt.pace,
	};
	espat_module_init(&app->module, &app->ports, &app->mopts);
	app->world.ble.to_module = ble_peer_to_module;
	app->world.ble.to_module_user = &app->module;
	app->module_live = true;
	espat_module_power_on(&app->module);
	/* --mfg-raw flashes the partition of a powered device: after power-on,
	 * so a new device's factory data is seeded first and then replaced */
	if (app->opt.mfg_raw) {
		char err[512];
		if (espat_mfg_raw_load(&app->ports.mfg, app->opt.mfg_raw, err, sizeof(err)) < 0)
			return usage_error("%s", err);
	}

	if (app->opt.port != ESPAT_PORT_STDIO) {
		printf("%s\n", espat_atport_name(&app->port));
		fflush(stdout);
	}
	app->loop.prepare = prepare;
	app->loop.prepare_user = app;
	if (espat_loop_run(&app->loop) < 0) {
		espat_log_error(&app->log, "event loop: %s", strerror(errno));
		return 1;
	}
	return app->exit_code;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
		return espat_ctl_client_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "air") == 0)
		return espat_air_hub_main(argc - 1, argv + 1);
	struct espat_app *app = calloc(1, sizeof(*app));
	if (app == NULL) {
		fputs("espat: out of memory\n", stderr);
		return 1;
	}
	app->lock_fd = app->sig_fd = -1;
	app->loop.epfd = -1;
	app->ctl_srv.fd = -1;
	char err[512];
	int rc;
	if (espat_options_parse(&app->opt, argc, argv, err, sizeof(err)) < 0) {
		rc = usage_error("%s", err);
	} else if (app->opt.action == ESPAT_OPT_HELP) {
		espat_options_usage(stdout);
		rc = 0;
	} else if (app->opt.action == ESPAT_OPT_VERSION) {
		printf("espat %s\n", ESPAT_VERSION);
		rc = 0;
	} else {
		app->log = (struct espat_log){.level = app->opt.log_level, .out = stderr};
		rc = run(app);
	}
	app_free(app);
	free(app);
	return rc;
}
