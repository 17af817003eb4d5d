/*
 * rehearse_report: what a rehearsal prints and writes - the live line of
 * each step, the summary with the suggested settings, and --report DIR's
 * report.json (CONTRACT.md section 11) and self-contained report.html.
 */
#ifndef PROXY_REHEARSE_REPORT_H
#define PROXY_REHEARSE_REPORT_H

#include <stdio.h>

#include "rehearse_types.h"
#include "rehearse_text.h"
#include "rehearse_verdict.h"

/* The line of a finished step ("step 2/5  rate 200/s  achieved ..."). */
void rh_report_line(FILE *out, const struct rh_step *s, int k, int nsteps);
/* A terminal's progress bar for the step running (no newline). */
void rh_report_progress(FILE *out, int k, int nsteps, unsigned rate, double frac, uint64_t sent,
                        uint64_t errors);
/* After the last step: capacity, where it broke, what to set. */
void rh_report_summary(FILE *out, const struct rh_opts *o, const struct rh_step *steps, int n,
                       const struct rh_suggest *sg);

/* Writes DIR/report.json and DIR/report.html.  0, or -1 with errno. */
int rh_report_write(const char *dir, const struct rh_run_info *ri);
/* The JSON document alone (for tests): malloc'ed, NUL-ended. */
char *rh_report_json(const struct rh_run_info *ri);

#endif
