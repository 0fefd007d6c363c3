#include "app/options.h"
#include "posix/log.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_PTY = 256,
	OPT_STDIO,
	OPT_TCP,
	OPT_SERIAL,
	OPT_BAUD,
	OPT_DATA_DIR,
	OPT_CHIP,
	OPT_WORLD,
	OPT_CTL,
	OPT_MFG_RAW,
	OPT_I2C,
	OPT_SPI,
	OPT_ADC_IIO,
	OPT_PWM_CHIP,
	OPT_NO_PACE,
	OPT_TRACE,
	OPT_LOG_LEVEL,
	OPT_HELP,
	OPT_VERSION,
	OPT_AIR,
};

static const struct option long_opts[] = {
    {"pty", required_argument, NULL, OPT_PTY},
    {"stdio", no_argument, NULL, OPT_STDIO},
    {"tcp", required_argument, NULL, OPT_TCP},
    {"serial", required_argument, NULL, OPT_SERIAL},
    {"baud", required_argument, NULL, OPT_BAUD},
    {"data-dir", required_argument, NULL, OPT_DATA_DIR},
    {"chip", required_argument, NULL, OPT_CHIP},
    {"world", required_argument, NULL, OPT_WORLD},
    {"ctl", required_argument, NULL, OPT_CTL},
    {"mfg-raw", required_argument, NULL, OPT_MFG_RAW},
    {"i2c", required_argument, NULL, OPT_I2C},
    {"spi", required_argument, NULL, OPT_SPI},
    {"adc-iio", required_argument, NULL, OPT_ADC_IIO},
    {"pwm-chip", required_argument, NULL, OPT_PWM_CHIP},
    {"no-pace", no_argument, NULL, OPT_NO_PACE},
    {"trace", required_argument, NULL, OPT_TRACE},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {"air", required_argument, NULL, OPT_AIR},
    {NULL, 0, NULL, 0},
};

void espat_options_usage(FILE *f)
{
	fputs(
	    "Usage: espat [OPTION]...\n"
	    "       espat ctl [--ctl PATH | --data-dir DIR] COMMAND [ARG]...\n"
	    "       espat air --socket PATH\n"
	    "A virtual ESP32-C3 running Espressif's ESP-AT firmware (or, with --chip esp8266,\n"
	    "an ESP8266 speaking the AT v1.5 instruction set), on a pseudo-terminal, a serial\n"
	    "device, a TCP socket or stdin/stdout.\n"
	    "\n"
	    "AT port (at most one; default: a new pty, named on stdout):\n"
	    "  --pty PATH         create a pseudo-terminal and a symlink to it at PATH\n"
	    "                     (an existing symlink is replaced; any other file is refused)\n"
	    "  --stdio            use stdin/stdout (a terminal is set raw, Ctrl-C still quits;\n"
	    "                     at end of stdin, espat exits once its output has been\n"
	    "                     quiet for 0.5 s)\n"
	    "  --tcp HOST:PORT    listen on HOST:PORT (HOST defaults to 127.0.0.1: ':PORT' or\n"
	    "                     'PORT'; PORT 0 picks a free one); one client at a time, a\n"
	    "                     second is closed at once; output waits while none is connected\n"
	    "  --serial DEV       use a real serial device (raw; baud, frame and RTS/CTS follow\n"
	    "                     AT+UART_CUR/AT+UART_DEF; any baud rate)\n"
	    "\n"
	    "Module:\n"
	    "  --baud N           factory UART baud rate, 80..5000000 (default 115200); a\n"
	    "                     saved AT+UART_DEF overrides it\n"
	    "  --data-dir DIR     the module's flash (default ./espat-data, created if needed):\n"
	    "                     nvs.db (settings), mfg_nvs.db (manufacturing NVS),\n"
	    "                     flash/<partition>.bin (user partitions), chip (which chip\n"
	    "                     the device is). One espat per DIR.\n"
	    "  --mfg-raw DIR      flash PKI files into the manufacturing NVS at start, laid\n"
	    "                     out as esp-at's raw_data (DIR/client_cert/client_cert_00.crt,\n"
	    "                     DIR/server_key/server.key, ...): each subdirectory is a\n"
	    "                     namespace and replaces the stored one; its .crt/.key/.pem\n"
	    "                     files, sorted, become <ns>.0, <ns>.1 ... (a lone file: <ns>).\n"
	    "                     A new device already holds the project's test PKI (pki/factory)\n"
	    "  --chip CHIP        esp32c3: ESP-AT v3.3 on an ESP32-C3 (the default for a new\n"
	    "                     data dir); esp8266: the ESP8266 AT v1.5 instruction set\n"
	    "                     (AT+CWJAP_CUR, +CWLAP's 7 fields, WiFi CONNECTED, FAIL...).\n"
	    "                     A data dir remembers its chip (DIR/chip): without --chip\n"
	    "                     espat starts it as that chip; the other chip is refused\n"
	    "  --no-pace          write output as fast as the port takes it; by default output\n"
	    "                     is paced at the UART rate (10 bit times per byte at 8N1)\n"
	    "\n"
	    "Pins and buses (the driver commands, AT+DRV*; default: the world's simulated\n"
	    "devices, docs/internals/periph.md). Each maps one of the module's buses to\n"
	    "this Linux board's own, for a board that stands in as the co-processor:\n"
	    "  --i2c DEV          I2C bus 0 is DEV, an i2c-dev node (/dev/i2c-1)\n"
	    "  --spi DEV          the SPI master is DEV, a spidev node (/dev/spidev0.0)\n"
	    "  --adc-iio DIR      ADC1 channel N reads DIR/in_voltageN_raw times\n"
	    "                     DIR/in_voltage_scale (/sys/bus/iio/devices/iio:device0)\n"
	    "  --pwm-chip DIR     LEDC channel N drives DIR/pwmN (/sys/class/pwm/pwmchip0)\n"
	    "                     Mapping any of them replaces every simulated bus: the\n"
	    "                     buses not mapped are absent (their commands answer ERROR)\n"
	    "\n"
	    "World and control:\n"
	    "  --world FILE       the radio world around the module: access points, their\n"
	    "                     security and networks (format: docs/internals/world.md).\n"
	    "                     Without it, a built-in world with a few APs, one of which\n"
	    "                     (\"espat\") leads to the host's network. A bad file is\n"
	    "                     refused at start: 'espat: FILE:LINE: reason', exit 2.\n"
	    "  --ctl PATH         the control socket (default DIR/ctl.sock of --data-dir),\n"
	    "                     mode 0600, removed at exit. Talk to it with\n"
	    "                     'espat ctl COMMAND...' (see 'espat ctl --help'): inspect\n"
	    "                     the module, add/change/remove APs, make stations join the\n"
	    "                     softAP, SmartConfig, WPS, deauth, cut the power.\n"
	    "  --air PATH         join the shared air whose hub listens at PATH (started with\n"
	    "                     'espat air --socket PATH', which runs in the foreground\n"
	    "                     until SIGTERM): other modules' softAPs show in AT+CWLAP\n"
	    "                     and can be joined, this one's softAP takes their stations,\n"
	    "                     and TCP/UDP inside a softAP's network goes between them;\n"
	    "                     their BLE advertising shows in AT+BLESCAN and takes\n"
	    "                     AT+BLECONN, with ATT both ways (docs/internals/air.md).\n"
	    "                     Without it, the module is alone.\n"
	    "\n"
	    "Diagnostics:\n"
	    "  --trace FILE       append every byte both ways to FILE, one line per line of\n"
	    "                     data, timestamped with local time like the guide's logs:\n"
	    "                       [12:00:01:234] >> AT+GMR\\r\\n     (host to module)\n"
	    "                       [12:00:01:240] << OK\\r\\n         (module to host)\n"
	    "                     printable ASCII as is, backslash as \\\\, CR and LF as \\r and\n"
	    "                     \\n, other bytes as \\xNN; the file line ends after each LF\n"
	    "                     of the data and when the direction changes\n"
	    "  --log-level LEVEL  error, warn (default), info or debug; logs go to stderr as\n"
	    "                     'espat: LEVEL: message'\n"
	    "  --help             print this help and exit\n"
	    "  --version          print the version and exit\n"
	    "\n"
	    "Standard output: one line naming the AT port once it is ready to use: the pty\n"
	    "device (e.g. /dev/pts/7), the TCP address actually listened on (HOST:PORT), or\n"
	    "the serial device. Nothing else is printed there (with --stdio, stdout is the\n"
	    "AT port itself).\n"
	    "\n"
	    "SIGTERM, SIGINT and SIGHUP stop espat cleanly (exit status 0). Bad options or\n"
	    "unusable paths: one line 'espat: ...' on stderr and exit status 2.\n",
	    f);
}

/* A decimal in [min, max], nothing else (no sign games, no trailing junk). */
static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < (long long)min || v > (long long)max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* HOST:PORT, :PORT, PORT, [V6]:PORT. */
static int parse_tcp(struct espat_options *o, const char *arg, char *err, size_t errlen)
{
	const char *port = arg, *host = "";
	size_t hostlen = 0;
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');
		if (close == NULL || close[1] != ':')
			return espat_errf(err, errlen, "--tcp %s: expected [ADDRESS]:PORT", arg);
		host = arg + 1;
		hostlen = (size_t)(close - host);
		port = close + 2;
	} else {
		const char *colon = strrchr(arg, ':');
		if (colon != NULL) {
			host = arg;
			hostlen = (size_t)(colon - arg);
			port = colon + 1;
		}
	}
	uint32_t p;
	if (parse_u32(port, 0, 65535, &p) < 0)
		return espat_errf(err, errlen, "--tcp %s: the port must be a number from 0 to 65535",
		             arg);
	if (hostlen >= sizeof(o->tcp_host))
		return espat_errf(err, errlen, "--tcp %s: host name too long", arg);
	memcpy(o->tcp_host, host, hostlen);
	o->tcp_host[hostlen] = '\0';
	snprintf(o->tcp_port, sizeof(o->tcp_port), "%u", (unsigned)p);
	return 0;
}

/* "--name" of an option's getopt code, for messages. */
static const char *long_name(int c)
{
	static const char *const names[] = {
	    [OPT_PTY - OPT_PTY] = "--pty",     [OPT_STDIO - OPT_PTY] = "--stdio",
	    [OPT_TCP - OPT_PTY] = "--tcp",     [OPT_SERIAL - OPT_PTY] = "--serial",
	    [OPT_BAUD - OPT_PTY] = "--baud",   [OPT_DATA_DIR - OPT_PTY] = "--data-dir",
	    [OPT_CHIP - OPT_PTY] = "--chip",   [OPT_NO_PACE - OPT_PTY] = "--no-pace",
	    [OPT_WORLD - OPT_PTY] = "--world", [OPT_CTL - OPT_PTY] = "--ctl",
	    [OPT_MFG_RAW - OPT_PTY] = "--mfg-raw", [OPT_I2C - OPT_PTY] = "--i2c",
	    [OPT_SPI - OPT_PTY] = "--spi",     [OPT_ADC_IIO - OPT_PTY] = "--adc-iio",
	    [OPT_PWM_CHIP - OPT_PTY] = "--pwm-chip",
	    [OPT_TRACE - OPT_PTY] = "--trace", [OPT_LOG_LEVEL - OPT_PTY] = "--log-level",
	    [OPT_HELP - OPT_PTY] = "--help",   [OPT_VERSION - OPT_PTY] = "--version",
	    [OPT_AIR - OPT_PTY] = "--air",
	};
	return c >= OPT_PTY && c <= OPT_VERSION ? names[c - OPT_PTY] : "option";
}

int espat_options_parse(struct espat_options *o, int argc, char **argv, char *err, size_t errlen)
{
	*o = (struct espat_options){
	    .action = ESPAT_OPT_RUN,
	    .port = ESPAT_PORT_PTY,
	    .data_dir = ESPAT_DEFAULT_DATA_DIR,
	    .pace = true,
	    .log_level = ESPAT_LOG_WARN,
	};
	int nports = 0;
	const char *first_port = NULL;
	opterr = 0; /* we word the errors ourselves */
	optind = 1;
	for (;;) {
		int c = getopt_long(argc, argv, ":", long_opts, NULL);
		if (c == -1)
			break;
		/* The option as typed (for a flag or a missing value; after
		 * "--opt VALUE" this is the value, so named options use names). */
		const char *self = argv[optind - 1];
		/* "--pty --stdio": getopt would take "--stdio" as the path. */
		if (c != ':' && c != '?' && optarg != NULL && strncmp(optarg, "--", 2) == 0)
			return espat_errf(err, errlen, "%s needs a value, not the option %s",
			             long_name(c), optarg);
		switch (c) {
		case OPT_PTY:
		case OPT_STDIO:
		case OPT_TCP:
		case OPT_SERIAL:
			if (nports++ > 0)
				return espat_errf(err, errlen,
				             "only one AT port option may be given (%s and %s)",
				             first_port, long_name(c));
			first_port = long_name(c);
			if (c == OPT_PTY) {
				if (optarg[0] == '\0')
					return espat_errf(err, errlen, "--pty needs a path");
				o->port = ESPAT_PORT_PTY;
				o->pty_link = optarg;
			} else if (c == OPT_STDIO) {
				o->port = ESPAT_PORT_STDIO;
			} else if (c == OPT_TCP) {
				o->port = ESPAT_PORT_TCP;
				if (parse_tcp(o, optarg, err, errlen) < 0)
					return -1;
			} else {
				if (optarg[0] == '\0')
					return espat_errf(err, errlen, "--serial needs a device path");
				o->port = ESPAT_PORT_SERIAL;
				o->serial_dev = optarg;
			}
			break;
		case OPT_BAUD:
			if (parse_u32(optarg, 80, 5000000, &o->baud) < 0)
				return espat_errf(err, errlen,
				             "--baud %s: expected a number from 80 to 5000000",
				             optarg);
			break;
		case OPT_DATA_DIR:
			if (optarg[0] == '\0')
				return espat_errf(err, errlen, "--data-dir needs a directory");
			o->data_dir = optarg;
			break;
		case OPT_CHIP:
			if (strcmp(optarg, "esp32c3") != 0 && strcmp(optarg, "esp8266") != 0)
				return espat_errf(err, errlen,
				             "--chip %s: unknown chip (supported: esp32c3, esp8266)",
				             optarg);
			o->chip = optarg;
			break;
		case OPT_WORLD:
			if (optarg[0] == '\0')
				return espat_errf(err, errlen, "--world needs a file");
			o->world_path = optarg;
			break;
		case OPT_CTL:
			if (optarg[0] == '\0')
				return espat_errf(err, errlen, "--ctl needs a path");
			o->ctl_path = optarg;
			break;
		case OPT_AIR:
			if (optarg[0] == '\0')
				return espat_errf(err, errlen, "--air needs a socket path");
			o->air_path = optarg;
			break;
		case OPT_MFG_RAW:
			if (optarg[0] == '\0')
				return espat_errf(err, errlen, "--mfg-raw needs a directory");
			o->mfg_raw = optarg;
			break;
		case OPT_I2C:
		case OPT_SPI:
		case OPT_ADC_IIO:
		case OPT_PWM_CHIP: {
			if (optarg[0] == '\0')
				return espat_errf(err, errlen, "%s needs a path", long_name(c));
			const char **slot = c == OPT_I2C ? &o->i2c_dev
			                    : c == OPT_SPI ? &o->spi_dev
			                    : c == OPT_ADC_IIO ? &o->adc_iio
			                                       : &o->pwm_chip;
			*slot = optarg;
			break;
		}
		case OPT_NO_PACE:
			o->pace = false;
			break;
		case OPT_TRACE:
			if (optarg[0] == '\0')
				return espat_errf(err, errlen, "--trace needs a file");
			o->trace_path = optarg;
			break;
		case OPT_LOG_LEVEL:
			if (espat_log_level_parse(optarg, &o->log_level) < 0)
				return espat_errf(err, errlen,
				             "--log-level %s: expected error, warn, info or debug",
				             optarg);
			break;
		case OPT_HELP:
			o->action = ESPAT_OPT_HELP;
			return 0;
		case OPT_VERSION:
			o->action = ESPAT_OPT_VERSION;
			return 0;
		case ':':
			return espat_errf(err, errlen, "%s needs a value", self);
		default:
			/* '?': unknown option, or a value given to a flag. */
			if (strncmp(self, "--", 2) == 0 && strchr(self, '=') != NULL)
				return espat_errf(err, errlen, "%s: this option takes no value", self);
			return espat_errf(err, errlen, "unknown option %s (see espat --help)", self);
		}
	}
	if (optind < argc)
		return espat_errf(err, errlen, "unexpected argument '%s' (see espat --help)",
		             argv[optind]);
	return 0;
}
