/* Prints the command tables of the registry (cmd/registry.c) as JSON, one
 * command per line: its name, which of the four forms exist and the
 * argument schema of its set form, exactly as the engine checks it
 * (core/engine.c check_args). bench/soak.py reads it to generate malformed
 * argument lists for every command:
 *
 *   {"family":"basic","name":"+UART_CUR","forms":"TQS-","params":[
 *     {"name":"baudrate","type":"int","optional":false,"min":80,"max":5000000}, ...]}
 *
 * forms: T (=?), Q (?), S (=...), E (bare), '-' where absent. The ESP32-C3's
 * tables; `schema_dump esp8266` prints the v1.5 dialect's. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/registry.h"

static void json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void dump_param(const struct espat_param *p)
{
	static const char *const types[] = {
	    [ESPAT_P_INT] = "int", [ESPAT_P_STR] = "str", [ESPAT_P_ANY] = "any"};
	printf("{\"name\":");
	json_str(p->name);
	printf(",\"type\":\"%s\",\"optional\":%s", types[p->type], p->optional ? "true" : "false");
	if (p->type == ESPAT_P_INT)
		printf(",\"min\":%" PRId64 ",\"max\":%" PRId64, p->min, p->max);
	if (p->type == ESPAT_P_STR)
		printf(",\"maxlen\":%zu", p->maxlen);
	putchar('}');
}

int main(int argc, char **argv)
{
	const struct espat_registry *reg = &espat_registry_esp32c3;
	if (argc > 1 && strcmp(argv[1], "esp8266") == 0)
		reg = &espat_registry_esp8266;
	else if (argc > 1 && strcmp(argv[1], "esp32c3") != 0) {
		fprintf(stderr, "usage: schema_dump [esp32c3|esp8266]\n");
		return 2;
	}
	for (size_t f = 0; f < reg->n; f++) {
		const struct espat_family *fam = reg->rows[f];
		if (!fam->table)
			continue;
		for (size_t i = 0; i < fam->table->n; i++) {
			const struct espat_cmd *c = &fam->table->rows[i];
			printf("{\"family\":");
			json_str(fam->name);
			printf(",\"name\":");
			json_str(c->name);
			printf(",\"forms\":\"%c%c%c%c\",\"digit_suffix\":%s,\"params\":[",
			       c->test ? 'T' : '-', c->query ? 'Q' : '-', c->set ? 'S' : '-',
			       c->exec ? 'E' : '-',
			       c->flags & ESPAT_CMD_DIGIT_SUFFIX ? "true" : "false");
			for (size_t k = 0; k < c->nparams; k++) {
				if (k)
					putchar(',');
				dump_param(&c->params[k]);
			}
			printf("]}\n");
		}
	}
	return 0;
}
