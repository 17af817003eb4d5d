/*
 * fixtures: helpers shared by the Criterion unit tests under tests/unit.
 */
#ifndef PROXY_TEST_FIXTURES_H
#define PROXY_TEST_FIXTURES_H

#include "runtime.h"

/* A runtime built from configuration text; fails the test (logging every
 * configuration error) when the text does not parse. */
struct runtime *fixture_runtime(const char *text);

#endif
