/*
 * config_values: value syntaxes of the configuration language with the
 * reason a value is refused, for the config module's messages.  Other modules use the
 * 0/-1 config_parse_* helpers of config.h instead.  Below config.h: it
 * knows only the address type (config_addr.h).
 */
#ifndef PROXY_CONFIG_VALUES_H
#define PROXY_CONFIG_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "config_addr.h"

enum config_value {
    CONFIG_VALUE_OK = 0,
    CONFIG_VALUE_BAD,        /* not of the expected form */
    CONFIG_VALUE_RANGE,      /* a number out of range or overflowing */
    CONFIG_VALUE_NO_UNIT,    /* a duration without a unit */
    CONFIG_VALUE_BAD_UNIT,   /* a duration with an unknown unit */
    CONFIG_VALUE_NO_PORT,    /* an address without ":PORT" */
    CONFIG_VALUE_PORT_RANGE, /* a port outside 1..65535 */
    CONFIG_VALUE_HOSTNAME    /* a host name where an IP is needed, or a malformed name */
};

/* Each returns an enum config_value; *out is set only on CONFIG_VALUE_OK. */
int config_value_uint(const char *w, uint64_t lo, uint64_t hi, uint64_t *out);
int config_value_duration(const char *w, uint64_t *out_ms);
int config_value_size(const char *w, uint64_t *out);
int config_value_addr(const char *w, struct config_addr *out);
/* "NAME:PORT" with NAME a host name (not an IP address, not localhost):
 * CONFIG_VALUE_OK, CONFIG_VALUE_HOSTNAME for a malformed name,
 * CONFIG_VALUE_PORT_RANGE, or CONFIG_VALUE_BAD when `w` is no name at all
 * (then it may be a literal address: config_value_addr). */
int config_value_host(const char *w, char *host, size_t cap, unsigned *port);

/* 1 for 0.0.0.0 and ::, which can be listened on but not connected to. */
int config_addr_is_wildcard(const struct config_addr *a);

#endif
