/*
 * config: the configuration language of CONTRACT.md section 2.
 *
 * The lexer and parser turn a file into a pure-data `struct config` (no
 * sockets, no threads, no runtime state), validated as a whole.  Errors are
 * collected as "FILE:LINE: message" strings rather than printed, so that
 * `proxy -t` can show every one and a failed reload can log them and change
 * nothing.
 */
#ifndef PROXY_CONFIG_H
#define PROXY_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "client_addr.h"
#include "config_addr.h"

#define CONFIG_NAME_MAX 64       /* pool and server names */
#define CONFIG_PATH_MAX 1024
#define CONFIG_MAX_WORKERS 64    /* same as runtime.h's MAX_WORKERS */

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };
enum balance_algo { BALANCE_LEAST_CONN = 0, BALANCE_ROUND_ROBIN };
enum check_kind { CHECK_TCP = 0, CHECK_HTTP, CHECK_OFF };
enum server_role { ROLE_PRIMARY = 0, ROLE_STANDBY };

struct config_server {
    char name[CONFIG_NAME_MAX];
    struct config_addr addr;  /* a literal IP; unset (len 0) when given by host name */
    char host[CONFIG_HOST_MAX]; /* the host name to resolve (ADDR was NAME:PORT); "" for an IP */
    unsigned port;            /* of either */
    enum server_role role;
    unsigned weight;    /* 1..256, default 1 */
    unsigned max_conns; /* 0 = unlimited */
    int line;           /* where it was defined, for messages */
};

/* TLS to a pool's servers (CONTRACT 7). */
struct config_pool_tls {
    int on;                          /* any `tls` line in the pool */
    int verify;                      /* 0 after `tls ca none` */
    char ca[CONFIG_PATH_MAX];        /* bundle to verify servers against */
    char sni[256];                   /* "" = the server's host name when given by name */
    char cert[CONFIG_PATH_MAX];      /* "" = no client certificate */
    int line;
};

struct config_pool {
    char name[CONFIG_NAME_MAX];
    enum balance_algo balance;
    enum check_kind check;
    char check_path[CONFIG_PATH_MAX]; /* CHECK_HTTP: request target, default "/" */
    char check_host[256];             /* CHECK_HTTP: Host header, "" = server address */
    unsigned expect_lo, expect_hi;    /* default 200..399 */
    uint64_t interval_ms;             /* default 2000 */
    uint64_t check_timeout_ms;        /* default 1000 */
    unsigned rise;                    /* default 2 */
    unsigned fall;                    /* default 3 */
    unsigned standby_below;           /* default 1 */
    uint64_t slow_start_ms;           /* default 0 = off */
    unsigned retries;                 /* default 2 */
    unsigned max_queue;               /* default 1000 */
    int ignore_client_abort;          /* default 0: a request whose client left is aborted */
    int on_down_shutdown;             /* default 0: a server marked down keeps its requests */
    struct config_pool_tls tls;
    char sticky_cookie[CONFIG_NAME_MAX]; /* "" = no sticky sessions; else the cookie's name */
    uint64_t sticky_max_age_ms;       /* 0 = a session cookie (no Max-Age) */
    int send_proxy;                   /* PROXY protocol version sent to servers first: 1, 2; 0 = none */
    struct config_server *servers;    /* primaries and standbys, in file order */
    size_t nservers;
    unsigned server_lines;            /* server/standby lines, rejected ones too */
    int line;
};

/* `route ... priority`: the order a pool's queue serves its waiters in. */
enum route_priority { PRIO_LOW = 0, PRIO_NORMAL, PRIO_HIGH };

struct config_route {
    char host[256];          /* "" = any host; matched case-insensitively, port ignored */
    char path[CONFIG_PATH_MAX]; /* "" = any path; a prefix of the request target's path */
    int is_default;          /* `route default pool X` */
    size_t pool;             /* index into config.pools */
    enum route_priority priority; /* default PRIO_NORMAL */
    int line;
};

#define CONFIG_ALPN_MAX 64
#define CONFIG_ALPN_DEFAULT "h2,http/1.1"
/* `error-page STATUS FILE`: the body of one of the proxy's own responses. */
#define CONFIG_ERROR_PAGE_MAX (64 * 1024)
struct config_error_page {
    int status;              /* 0 = none configured */
    char *body;              /* the file's bytes (owned), read at load */
    size_t len;
    int line;
};
/* The statuses an error page may replace: 400 408 413 429 502 503 504. */
#define CONFIG_ERROR_PAGES 7

/* Admission (CONTRACT section 9): per-client limits and who the client is. */
struct config_admission {
    uint64_t rate_interval_ns;   /* limit rate: ns between two tokens; 0 = no limit */
    unsigned rate_burst;         /* limit rate ... burst B (default: one second's worth) */
    unsigned client_conns;       /* limit client-conns: 0 = unlimited */
    unsigned clients;            /* limit clients: the client table's size (default 65536; at start only) */
    struct cidr *trust;          /* never limited */
    size_t ntrust;
    char client_ip_header[64];   /* client-ip header NAME; "" = the peer is the client */
    struct cidr *client_ip_from; /* ... from CIDR (repeatable) */
    size_t nclient_ip_from;
    struct config_error_page error_pages[CONFIG_ERROR_PAGES];
};

struct config_listen {
    struct config_addr addr;
    char tls_path[CONFIG_PATH_MAX];  /* "" = plaintext; else a PEM file or a directory of them */
    char alpn[CONFIG_ALPN_MAX];      /* ALPN protocols offered, comma-separated (TLS: CONFIG_ALPN_DEFAULT when not given) */
    char client_ca[CONFIG_PATH_MAX]; /* "" = no client certificate asked for */
    int redirect_https;              /* every request answered 308 to https:// */
    int proxy_protocol;      /* peers send a PROXY protocol header (v1 or v2) first */
    int defer_accept;        /* TCP_DEFER_ACCEPT: a connection is taken once its first bytes are in */
    int line;
};

/* Settings of every TLS listener (CONTRACT 7 `tls ...`). */
struct config_tls {
    unsigned min_version, max_version; /* TLS1_2_VERSION .. TLS1_3_VERSION (0x0303, 0x0304) */
    char ciphers[1024];                /* TLS 1.2 suites */
    char ciphersuites[512];            /* TLS 1.3 suites ("" = OpenSSL's) */
    int tickets;                       /* default 1 */
    uint64_t hsts_ms;                  /* 0 = no Strict-Transport-Security */
};

/* Surge detection (CONTRACT 10 `surge ...`). */
struct config_surge {
    double threshold;        /* 3: a surge is a rate above 3x the baseline */
    uint64_t hold_ms;        /* 10s: ... for this long; it ends after 6 holds under half of it */
    double min_rate;         /* 20/s: no surge below this rate; the baseline starts here */
    uint64_t baseline_ms;    /* 30m: the baseline's time constant */
    int enabled;             /* 1 (default); `surge off`: 0, no anatomy is kept and no surge declared */
};

struct config {
    char *file;              /* the path it was read from (owned) */
    unsigned workers;        /* 0 = auto (one per CPU) */
    int cpu_affinity;        /* 1 = auto: worker k on the k-th allowed CPU; 0 = off (default) */
    int cpu_yield;           /* 1 = auto (default): yield after a round that sent; 0 = off */
    int normalize_path;      /* 1: forward the normalized path; 0 (default): as the client sent it */
    unsigned max_conns;      /* default 10000 */
    enum log_level log_level; /* default LOG_INFO */
    char access_log[CONFIG_PATH_MAX]; /* path, "stderr" (default) or "off" */
    int access_log_line;              /* its line, 0 for the default */
    char notify[CONFIG_PATH_MAX];     /* "" = none */
    char user[CONFIG_NAME_MAX];       /* "" = stay as started; else drop to it after binding */
    int user_line;
    char sticky_secret[256];          /* "" = a random one per process (sticky.h) */
    uint64_t resolve_interval_ms;     /* servers' host names resolved again this often: 30s */

    struct config_listen *listens;
    size_t nlistens;
    struct config_tls tls;

    int has_stats;
    struct config_addr stats_addr;
    char stats_token[256];   /* "" = no token: admin actions answer 403 */

    uint64_t timeout_connect_ms;    /* 2s */
    uint64_t timeout_client_ms;     /* 10s */
    uint64_t timeout_keep_alive_ms; /* 60s */
    uint64_t timeout_server_ms;     /* 30s */
    uint64_t timeout_queue_ms;      /* 5s */
    uint64_t timeout_shutdown_ms;   /* 30s */

    size_t limit_header_size;  /* 16k */
    size_t limit_response_header_size; /* 16k, at most 64k: a server's response head (502 beyond) */
    unsigned limit_headers;    /* 100 */
    uint64_t limit_body_size;  /* 0 = unlimited */

    /* HTTP/2 with clients (config_h2.c). */
    unsigned h2_max_streams;   /* http2 max-streams: concurrent streams per connection, 100 */
    uint64_t h2_window;        /* http2 window: initial stream window, 64k */
    unsigned h2_max_resets;    /* http2 max-resets: stream resets per 10 s before GOAWAY, 200 */

    struct config_admission admit;
    struct config_surge surge;

    struct config_pool *pools;
    size_t npools;
    struct config_route *routes; /* in file order; when the file has none and
                                    exactly one pool, one default route to it */
    size_t nroutes;
};

/* Collected error messages, each "FILE:LINE: message". */
struct config_errors {
    char **msgs;
    size_t n;
};

/* Parses and validates the file at `path`.  Returns a new config on success.
 * On failure returns NULL and appends every error found to `errs` (the
 * caller frees them with config_errors_clear). */
struct config *config_load(const char *path, struct config_errors *errs);

/* The same from a string; `name` is used as the file name in messages. */
struct config *config_parse(const char *name, const char *text, size_t len,
                            struct config_errors *errs);

void config_free(struct config *cfg);
void config_errors_clear(struct config_errors *errs);

/* Helpers shared with other modules (stats, tests). */
int config_parse_duration(const char *word, uint64_t *out_ms);
int config_parse_size(const char *word, uint64_t *out);
int config_parse_addr(const char *word, struct config_addr *out);
/* 1 when a and b are the same socket address (family, address, port). */
int config_addr_equal(const struct config_addr *a, const struct config_addr *b);
/* Whether two sockets bound to a and b would take the same port: equal,
 * or the same family and port with one of them the wildcard address. */
int config_addr_overlaps(const struct config_addr *a, const struct config_addr *b);
const char *config_log_level_name(enum log_level level);
const char *config_balance_name(enum balance_algo algo);
const char *config_check_name(enum check_kind kind);    /* "tcp" | "http" | "off" */
const char *config_role_name(enum server_role role);    /* "primary" | "standby" */
const char *config_priority_name(enum route_priority prio); /* "high" | "normal" | "low" */
/* Where `status` is in config_admission.error_pages, -1 when no page may
 * replace it. */
int config_error_page_index(int status);
/* Frees what cfg->admit owns (config_free). */
void config_admit_free(struct config *cfg);
/* 1 when the listener takes HTTP/2: a plaintext one (prior knowledge), a
 * TLS one whose ALPN list holds h2; never a `redirect https` one. */
int config_listen_h2(const struct config_listen *l);

#endif
