/*
 * fixtures: helpers shared by the Criterion unit tests under tests/unit.
 */
#ifndef PROXY_TEST_FIXTURES_H
#define PROXY_TEST_FIXTURES_H

#include "runtime.h"

/* A runtime built from configuration text; fails the test (logging every
 * configuration error) when the text does not parse. */
struct runtime *fixture_runtime(const char *text);

/* The configuration `text` parsed as file `file` (messages start with
 * it); fails the test, logging every error, when it does not parse. */
struct config *fixture_config(const char *file, const char *text);
/* Asserts that `text` is refused and that the first message is `want`. */
void fixture_config_error(const char *file, const char *text, const char *want);

#endif
