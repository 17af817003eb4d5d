/*
 * rehearse_types: what every piece of a rehearsal shares (see rehearse.h)
 * - the options, a step's figures, the error kinds - as types alone, so
 * that the pieces, which rehearse.c calls, need not include the run's own
 * header.
 */
#ifndef PROXY_REHEARSE_TYPES_H
#define PROXY_REHEARSE_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rehearse_hist.h"

#define RH_MAX_HEADERS 32
#define RH_MAX_SERVERS 64
#define RH_MAX_STEPS 1000
#define RH_NAME_MAX 64

/* One line of --paths (or the URL's own path): the request bytes, built
 * once, and its share of the mix. */
struct rh_entry {
    unsigned weight;
    char method[16];
    char *path;
    char *req;         /* the whole request: head and body */
    size_t req_len;
};

struct rh_opts {
    const char *url;
    char host[256];               /* as written in the URL (for Host:) */
    char port_text[8];
    struct sockaddr_storage addr; /* resolved target */
    socklen_t addr_len;
    char path[2048];

    unsigned rate_from, rate_to, rate_step;
    uint64_t step_ms;
    unsigned conns;               /* 0 = derived from the top rate */
    uint64_t timeout_ms;          /* a request older than this is an error */
    const char *paths_file;
    double slo_p99_ms;
    double slo_errors;            /* a fraction: 0.001 for 0.1% */
    int have_stats;
    struct sockaddr_storage stats_addr;
    socklen_t stats_addr_len;
    char stats_text[128];
    const char *report_dir;
    const char *headers[RH_MAX_HEADERS];
    unsigned nheaders;
    int quiet;
};

/* Error kinds, counted separately on the live line and in the report. */
enum rh_err {
    RH_ERR_CONNECT = 0, /* the connection could not be made */
    RH_ERR_TIMEOUT,     /* no complete answer within --timeout of the due time */
    RH_ERR_CLOSED,      /* the connection closed or reset before the answer */
    RH_ERR_BAD,         /* an answer that is not valid HTTP/1.x */
    RH_ERR_5XX,
    RH_ERR_4XX,
    RH_ERR_KINDS
};

/* What --stats saw of one server during one step. */
struct rh_server_step {
    char pool[RH_NAME_MAX], name[RH_NAME_MAX];
    unsigned active_max, queued_max, max_conns;
    double active_sum;   /* over samples: the mean concurrency */
    unsigned samples;
    uint64_t failures_base, failures_last;
    char state[16], states[64]; /* the last state; every state seen, "up>down" */
};

struct rh_step {
    unsigned rate;
    double achieved;      /* requests written within the step's time / step time */
    uint64_t sent;        /* requests the step attempted (all that fell due) */
    uint64_t done, errors;
    uint64_t err[RH_ERR_KINDS];
    uint64_t conn_waits;  /* requests that waited for a free connection */
    uint64_t retried;     /* sent again after a kept connection closed unused */
    double p50_ms, p90_ms, p99_ms, p999_ms, max_ms, mean_ms;
    double lag_p99_ms;    /* how late the generator itself sent (schedule lag) */
    int held;
    int behind;           /* could not keep to the schedule (see rh_step_behind) */
    unsigned nservers;
    struct rh_server_step servers[RH_MAX_SERVERS];
};

#endif
