/* Command-line options of the espat executable. Parsing is pure: it fills
 * a struct or says what is wrong, and main() decides how to exit. */
#ifndef ESPAT_APP_OPTIONS_H
#define ESPAT_APP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "posix/log.h"

#define ESPAT_VERSION "0.1.0"
#define ESPAT_DEFAULT_DATA_DIR "./espat-data"

enum espat_port_kind {
	ESPAT_PORT_PTY,    /* --pty PATH, or no port option (no symlink) */
	ESPAT_PORT_STDIO,  /* --stdio */
	ESPAT_PORT_TCP,    /* --tcp HOST:PORT */
	ESPAT_PORT_SERIAL, /* --serial DEV */
};

enum espat_opt_action {
	ESPAT_OPT_RUN,
	ESPAT_OPT_HELP,
	ESPAT_OPT_VERSION,
};

struct espat_options {
	enum espat_opt_action action;
	enum espat_port_kind port;
	const char *pty_link;   /* --pty PATH, NULL when none (borrowed from argv) */
	const char *serial_dev; /* --serial DEV */
	char tcp_host[256];     /* "" = 127.0.0.1 */
	char tcp_port[16];
	uint32_t baud; /* --baud, 0 = module default (115200) */
	const char *data_dir;
	const char *trace_path; /* NULL = no trace */
	const char *world_path; /* --world FILE, NULL = the built-in world */
	const char *ctl_path;   /* --ctl PATH, NULL = DATA_DIR/ctl.sock */
	const char *mfg_raw;    /* --mfg-raw DIR: PKI files flashed at start, NULL = none */
	const char *air_path;   /* --air PATH: the shared air's hub, NULL = alone */
	/* the host's buses for the driver commands; all NULL: simulated */
	const char *i2c_dev;  /* --i2c DEV */
	const char *spi_dev;  /* --spi DEV */
	const char *adc_iio;  /* --adc-iio DIR */
	const char *pwm_chip; /* --pwm-chip DIR */
	bool pace;              /* false with --no-pace */
	const char *chip;       /* --chip: "esp32c3" or "esp8266"; NULL = the data dir's */
	enum espat_log_level log_level;
};

/* Parses argv. 0 on success; -1 with a one-line reason in err (without the
 * "espat: " prefix) for anything the user got wrong. Values are checked
 * here; paths are checked when they are used. */
int espat_options_parse(struct espat_options *o, int argc, char **argv, char *err, size_t errlen);
/* The --help text. */
void espat_options_usage(FILE *f);

#endif
