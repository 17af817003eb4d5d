/*
 * fixtures: helpers shared by the Criterion unit tests under tests/unit.
 */
#ifndef PROXY_TEST_FIXTURES_H
#define PROXY_TEST_FIXTURES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "runtime.h"

struct stats_buf;

/* A runtime built from configuration text; fails the test (logging every
 * configuration error) when the text does not parse. */
struct runtime *fixture_runtime(const char *text);

/* The configuration `text` parsed as file `file` (messages start with
 * it); fails the test, logging every error, when it does not parse. */
struct config *fixture_config(const char *file, const char *text);
/* Asserts that `text` is refused and that the first message is `want`. */
void fixture_config_error(const char *file, const char *text, const char *want);

/* The stats document `render` (stats_json_render, stats_prom_render) makes
 * of rt at monotonic time `now` (ms), NUL-terminated: free() it.  Fails the
 * test when rendering fails. */
char *fixture_render(int (*render)(struct stats_buf *, const struct runtime *, uint64_t), const struct runtime *rt,
                     uint64_t now);
/* Fails the test unless `want` stands in `text` (or, _lacks, unless it
 * does not), printing both.  Macros (Criterion's cr_assert), so that a
 * failure names the test's own line. */
#define fixture_assert_has(text, want) cr_assert(strstr((text), (want)), "no %s in:\n%s", (want), (text))
#define fixture_assert_lacks(text, want) cr_assert_null(strstr((text), (want)), "%s in:\n%s", (want), (text))
/* How many times `needle` stands in `text`, one after another (not
 * overlapping). */
size_t fixture_count(const char *text, const char *needle);

/* A TLS server context with an ECDSA certificate for shop.example (a day
 * left) and the process's session-ticket keys attached (tls_tickets). */
struct ssl_ctx_st *fixture_tls_server_with_tickets(void);

#endif
