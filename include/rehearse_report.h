/*
 * rehearse_report: what a rehearsal prints and writes - the live line of
 * each step, the summary with the suggested settings, and --report DIR's
 * report.json (CONTRACT.md section 11) and self-contained report.html.
 */
#ifndef PROXY_REHEARSE_REPORT_H
#define PROXY_REHEARSE_REPORT_H

#include <stdio.h>

#include "rehearse.h"
#include "rehearse_verdict.h"

/* The line of a finished step ("step 2/5  rate 200/s  achieved ..."). */
void rh_report_line(FILE *out, const struct rh_step *s, int k, int nsteps);
/* A terminal's progress bar for the step running (no newline). */
void rh_report_progress(FILE *out, int k, int nsteps, unsigned rate, double frac, uint64_t sent,
                        uint64_t errors);
/* After the last step: capacity, where it broke, what to set. */
void rh_report_summary(FILE *out, const struct rh_opts *o, const struct rh_step *steps, int n,
                       const struct rh_suggest *sg);

struct rh_run_info {
    const struct rh_opts *o;
    const struct rh_step *steps;
    int n, nsteps_planned;
    unsigned conns;
    const struct rh_suggest *sg;
    const char *started;        /* UTC, ISO 8601 */
    int interrupted;
};

/* report.html's text (rehearse_html.c). */
void rh_html_write(FILE *f, const struct rh_run_info *ri);

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

/* Writes DIR/report.json and DIR/report.html.  0, or -1 with errno. */
int rh_report_write(const char *dir, const struct rh_run_info *ri);
/* The JSON document alone (for tests): malloc'ed, NUL-ended. */
char *rh_report_json(const struct rh_run_info *ri);

#endif
