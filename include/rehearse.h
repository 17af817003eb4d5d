/*
 * rehearse: `proxy rehearse URL [options]` (CONTRACT.md section 11), a
 * load test that finds a pool's capacity through the real proxy and says
 * what to set before a campaign.
 *
 * The pieces, each in its own file: rehearse_opts (the command line),
 * rehearse_sched (open-loop due times), rehearse_hist (latency histogram),
 * rehearse_client (connections and requests on one libev loop),
 * rehearse_stats (sampling the proxy's /api/stats, read with the small
 * rehearse_json reader), rehearse_verdict (SLO, knee and suggested
 * settings: pure functions), rehearse_report (the live line, the summary,
 * report.json), rehearse_html (report.html and its SVG charts), rehearse.c
 * (the run, step by step).  The types they share are rehearse_types.h.
 */
#ifndef PROXY_REHEARSE_H
#define PROXY_REHEARSE_H

/* `proxy rehearse ...`: argv[0] is "rehearse".  Returns the exit code. */
int rehearse_main(int argc, char **argv);

#endif
