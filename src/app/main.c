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

#include "app/ctl.h"
#include "app/ctl_client.h"
#include "app/options.h"
#include "cmd/module.h"
#include "cmd/tcpip.h"
#include "posix/atport.h"
#include "posix/ctl_server.h"
#include "posix/flash_file.h"
#include "posix/periph_linux.h"
#include "posix/fsutil.h"
#include "posix/files_dir.h"
#include "posix/kv_file.h"
#include "posix/log.h"
#include "posix/loop.h"
#include "posix/mfg_raw.h"
#include "posix/net_posix.h"
#include "posix/pacer.h"
#include "posix/regex_posix.h"
#include "posix/sys_posix.h"
#include "posix/tls_openssl.h"
#include "posix/trace.h"
#include "world/world.h"

#define EXIT_USAGE 2         /* bad option, value or path */
#define LINGER_NS 500000000u /* --stdio: quiet time after end of input */

struct espat_app {
	struct espat_options opt;
	struct espat_log log;
	struct espat_loop loop;
	struct espat_atport port;
	bool port_open;
	struct espat_pacer pacer;
	struct espat_trace trace;
	struct espat_sys_posix sys;
	struct espat_kv_file nvs, mfg;
	bool stores_open;
	struct espat_flash_file flash;
	bool flash_open;
	struct espat_world world; /* the air around the module (--world) */
	struct espat_net_posix net; /* the module's sockets, DNS and ping */
	bool net_open;
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
	struct espat_ctl_server ctl_srv; /* its socket (--ctl) */
	int lock_fd;                     /* flock on DATA_DIR/.lock */
	int sig_fd;
	struct espat_loop_watch sig_watch;
	struct espat_loop_timer module_timer; /* the module's next deadline */
	struct espat_loop_timer pacer_timer;  /* the pacer's next chunk */
	struct espat_loop_timer linger_timer; /* end of --stdio input */
	struct espat_loop_timer tls_timer;    /* the TLS filter's run() */
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
	espat_atport_pause_read(&app->port, paused);
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

static void sink_apply_uart(void *user, const struct espat_uart_cfg *cfg)
{
	struct espat_app *app = user;
	espat_atport_set_uart(&app->port, cfg);
}

static void sink_want_writable(void *user, bool on)
{
	struct espat_app *app = user;
	espat_atport_want_write(&app->port, on);
}

/* --- host -> module ---------------------------------------------------- */

static void port_input(void *user, const uint8_t *p, size_t n)
{
	struct espat_app *app = user;
	espat_trace_bytes(&app->trace, ESPAT_TRACE_IN, p, n);
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
	espat_module_free(&app->module);
	espat_atport_want_write(&app->port, false);
	espat_atport_pause_read(&app->port, false);
	espat_pacer_free(&app->pacer);
	espat_pacer_init(&app->pacer, &app->sink, &app->uart0, app->opt.pace, &app->log);
	espat_module_init(&app->module, &app->ports, &app->mopts);
	espat_module_power_on(&app->module);
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
	uint64_t now = espat_loop_now_ns();
	espat_pacer_run(&app->pacer, now);
	if (espat_pacer_pending(&app->pacer) < ESPAT_TX_HIGH / 2)
		espat_module_tx_room(&app->module);
	arm_or_cancel(&app->loop, &app->pacer_timer, espat_pacer_next_ns(&app->pacer, now),
	              on_pacer_timer, app);
	uint64_t d = espat_module_next_deadline(&app->module);
	uint64_t due = d == ESPAT_NEVER || d > ESPAT_LOOP_NEVER / 1000000u - 1 ? ESPAT_LOOP_NEVER
	                                                                       : d * 1000000u;
	arm_or_cancel(&app->loop, &app->module_timer, due, on_module_timer, app);
	if (app->tls_open)
		arm_or_cancel(&app->loop, &app->tls_timer, espat_tls_filter_next_ns(&app->tls),
		              on_tls_timer, app);
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
	close(dfd);
	if (app->lock_fd < 0)
		return usage_error("--data-dir %s: .lock: %s", dir, espat_fs_strerror(e));
	/* Two modules on one flash would corrupt each other's view. */
	if (flock(app->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return usage_error("--data-dir %s is in use by another espat", dir);
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
	    .user = app,
	};
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
	const struct espat_net plain = espat_net_posix_port(&app->net);
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
	espat_pacer_init(&app->pacer, &app->sink, &app->uart0, app->opt.pace, &app->log);

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
	    .net = espat_tls_filter_port(&app->tls),
	    .files = espat_files_dir_port(&app->files),
	    .periph = app->periph_linux ? espat_periph_linux_port(&app->periph)
	                                : espat_sim_periph_port(&app->world.periph),
	    .on_restart = on_restart,
	    .restart_user = app,
	};
	app->mopts = (struct espat_module_opts){
	    .chip = ESPAT_CHIP_ESP32C3,
	    .factory_baud = app->opt.baud,
	    .paced = app->opt.pace,
	};
	espat_module_init(&app->module, &app->ports, &app->mopts);
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
