/*
 * stats_admin: what the stats port's admin actions check before acting
 * (stats.c answers): the bearer token and the action's path.  Pure
 * functions, no I/O.
 */
#ifndef PROXY_STATS_ADMIN_H
#define PROXY_STATS_ADMIN_H

#include <stddef.h>

#include "runtime.h"

/* Whether an Authorization value is "Bearer TOKEN" (scheme
 * case-insensitive, blanks around), compared in time that depends on the
 * token's length only. */
int stats_bearer_matches(const char *value, const char *token, size_t token_len);
/* Splits "/api/pools/P/servers/S/ACTION" (`path` is modified, %XX
 * decoded in P and S).  Returns 0 with the three parts, or -1 when the path
 * has another shape. */
int stats_admin_path_split(char *path, char **pool, char **server, char **action);
/* "drain", "disable", "enable" to the admin state; -1 for anything else. */
int stats_admin_action(const char *name, enum server_admin *out);

#endif
