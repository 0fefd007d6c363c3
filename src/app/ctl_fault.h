/* The control interface's `fault` commands: faults a user injects into the
 * world's network (world/netfault.h), each reported on the AT port as the
 * module's own timeouts, errors and keep-alives see it. The rows live in
 * ctl.c's table; docs/internals/ctl.md ("Faults") has the commands and
 * what the AT port shows for each. */
#ifndef ESPAT_APP_CTL_FAULT_H
#define ESPAT_APP_CTL_FAULT_H

#include <jansson.h>
#include <stddef.h>

struct espat_ctl;

char *espat_ctl_fault_list(struct espat_ctl *c, size_t argc, const char *const *argv);
char *espat_ctl_fault_dns(struct espat_ctl *c, size_t argc, const char *const *argv);
char *espat_ctl_fault_connect(struct espat_ctl *c, size_t argc, const char *const *argv);
char *espat_ctl_fault_latency(struct espat_ctl *c, size_t argc, const char *const *argv);
char *espat_ctl_fault_loss(struct espat_ctl *c, size_t argc, const char *const *argv);
char *espat_ctl_fault_freeze(struct espat_ctl *c, size_t argc, const char *const *argv);
char *espat_ctl_fault_thaw(struct espat_ctl *c, size_t argc, const char *const *argv);
char *espat_ctl_fault_drop(struct espat_ctl *c, size_t argc, const char *const *argv);
char *espat_ctl_fault_clear(struct espat_ctl *c, size_t argc, const char *const *argv);

/* The faults in effect, for `state` and `fault list`: null when the app
 * has no fault layer. */
json_t *espat_ctl_fault_json(struct espat_ctl *c);

/* ctl.c's reply builders: {"ok":true[,key:val]} (val consumed) and
 * {"ok":false,"error":msg}. */
char *espat_ctl_reply_ok(const char *key, json_t *val);
char *espat_ctl_reply_fail(const char *msg);

#endif
