/*
 * rehearse_opts: the command line of `proxy rehearse`.
 */
#ifndef PROXY_REHEARSE_OPTS_H
#define PROXY_REHEARSE_OPTS_H

#include <stddef.h>
#include <stdio.h>

#include "rehearse_types.h"

/* Parses argv (argv[0] is "rehearse") into o.  Returns 0, 1 for a bad
 * value (err says which option and why), 2 for bad usage (an unknown
 * option, no URL).  Resolves the URL's host, and the --stats address. */
int rh_opts_parse(struct rh_opts *o, int argc, char **argv, char *err, size_t errlen);

/* Parses "p99=300ms,errors=0.1%" into o's slo fields.  0 or -1. */
int rh_opts_slo(struct rh_opts *o, const char *s, char *err, size_t errlen);
/* "FROM:TO:STEP", "FROM:TO" (step FROM) or "N".  0 or -1. */
int rh_opts_rate(struct rh_opts *o, const char *s, char *err, size_t errlen);

/* The steps of --rate FROM:TO:STEP: FROM, FROM+STEP, ... and TO itself
 * last when STEP does not land on it (10:25:10 is 10, 20, 25: the top
 * rate asked is always tried).  rh_opts_step_rate gives step k's. */
int rh_opts_nsteps(const struct rh_opts *o);
unsigned rh_opts_step_rate(const struct rh_opts *o, int k);

/* The connections to allow: --conns, or enough for the top rate with
 * latencies up to twice the SLO's p99 (at least half a second), within
 * [64, 20000]; and within the fd limit `nofile` either way. */
unsigned rh_opts_conns(const struct rh_opts *o, unsigned long long nofile);

/* Builds the request mix: --paths FILE, or one GET of the URL's path.
 * Returns the count, or -1 with err set.  *out is malloc'ed. */
int rh_entries_load(const struct rh_opts *o, struct rh_entry **out, char *err, size_t errlen);
void rh_entries_free(struct rh_entry *e, int n);

void rh_usage(FILE *out);

#endif
