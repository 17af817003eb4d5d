/*
 * rehearse_text: what a rehearsal's outputs share - the run they describe,
 * and the way a step's latencies and errors and the suggested settings are
 * written as text - so the live lines, the summary, report.json and
 * report.html say the same thing the same way.
 */
#ifndef PROXY_REHEARSE_TEXT_H
#define PROXY_REHEARSE_TEXT_H

#include <stddef.h>
#include <stdio.h>

#include "rehearse_types.h"
#include "rehearse_verdict.h"

/* One run, as every output describes it. */
struct rh_run_info {
    const struct rh_opts *o;
    const struct rh_step *steps;
    int n, nsteps_planned;
    unsigned conns;
    const struct rh_suggest *sg;
    const char *started;        /* UTC, ISO 8601 */
    int interrupted;
};

/* The error kinds' names (enum rh_err), as every output writes them. */
extern const char *const rh_err_names[RH_ERR_KINDS];
/* Shared by the text and the HTML: "21.3ms" / "1.3s"; "12 (5xx 10, timeout
 * 2)"; the suggested settings as commented configuration lines. */
void rh_fmt_ms(char *out, size_t cap, double ms);
void rh_errors_text(char *out, size_t cap, const struct rh_step *s);
/* A step's latencies and errors as text, the way every output shows them. */
struct rh_step_text {
    char p50[16], p99[16], max[16], errors[160];
};
void rh_step_text(struct rh_step_text *out, const struct rh_step *s);
void rh_suggestions_text(FILE *out, const char *indent, const struct rh_suggest *sg,
                         const struct rh_step *steps);

#endif
