/*
 * config_parser: what config.c (errors, value readers), config_load.c
 * (statements, blocks, validation) and every directive file share.  Internal to the
 * config module: other modules include config.h only.
 */
#ifndef PROXY_CONFIG_PARSER_H
#define PROXY_CONFIG_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define CFG_MAX_WORDS 32  /* the longest directive has 7 words */
#define CFG_MAX_DEPTH 8
#define CFG_MAX_SEEN 48   /* distinct single-valued settings in one block */

enum config_block_kind { CFG_BLOCK_POOL, CFG_BLOCK_SKIP };

/* An open block.  CFG_BLOCK_SKIP absorbs the contents and "}" of a block that
 * was an error already, so one mistake does not cascade into many. */
struct config_block {
    enum config_block_kind kind;
    int line;
    size_t pool;
};

/* A single-valued setting already given in this block ("timeout client"),
 * to refuse a second one. */
struct config_seen {
    char key[48];
    int line;
};

struct config_parser {
    const char *file;
    struct config *cfg;
    struct config_errors *errs;
    size_t nerrors;
    struct config_block stack[CFG_MAX_DEPTH];
    int depth;
    struct config_seen top_seen[CFG_MAX_SEEN], pool_seen[CFG_MAX_SEEN];
    size_t ntop_seen, npool_seen;
    char (*route_pools)[CONFIG_NAME_MAX]; /* pool names of cfg->routes, resolved at the end */
    int stats_line;
};

struct config_command {
    const char *name;
    int min_args, max_args;   /* words after the name */
    const char *usage;        /* for a wrong argument count */
    unsigned flags;
    int (*handler)(struct config_parser *p, int line, int argc, char **argv);
};

#define CFG_CMD_BLOCK 1      /* takes a { ... } block */
#define CFG_CMD_REPEAT 2     /* may be given more than once */
#define CFG_CMD_KEYED 4      /* "once" means once per first argument (timeout X) */

/* config_tls.c: the `tls` directives, a listen line's options and their checks. */
int config_do_tls(struct config_parser *p, int line, int argc, char **argv);
int config_do_pool_tls(struct config_parser *p, int line, int argc, char **argv);
int config_listen_options(struct config_parser *p, int line, struct config_listen *l, int argc, char **argv);
void config_tls_defaults(struct config_tls *tls);

/* config_surge.c: `surge off|threshold|hold|min-rate|baseline`. */
#define SURGE_USAGE "surge off | threshold FACTORx | hold DURATION | min-rate N/s | baseline DURATION"
int config_do_surge(struct config_parser *p, int line, int argc, char **argv);
void config_surge_defaults(struct config_surge *surge);

extern const struct config_command config_top_commands[];
extern const struct config_command config_pool_commands[];
/* Top-level admission directives (config_admit.c). */
extern const struct config_command config_admit_commands[];
/* Top-level `http2 ...` directives (config_h2.c). */
extern const struct config_command config_h2_commands[];
/* `limit rate ...` and `limit client-conns N`, from do_limit. */
int config_do_limit_rate(struct config_parser *p, int line, int argc, char **argv);
int config_do_limit_client_conns(struct config_parser *p, int line, int argc, char **argv);
int config_do_limit_clients(struct config_parser *p, int line, int argc, char **argv);
/* A route's `priority high|normal|low`. */
int config_route_priority(struct config_parser *p, int line, const char *w, enum route_priority *out);

/* Takes msg (malloc'ed) into errs' list; frees it when errs is NULL or
 * memory ran out. */
void config_errors_add(struct config_errors *errs, char *msg);
/* Records "FILE:LINE: message" ("FILE: message" for line 0) and counts it. */
void config_perr(struct config_parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Value readers: 0, or -1 after recording a message that starts with `what`
 * and says what was expected. */
int config_get_uint(struct config_parser *p, int line, const char *what, const char *w,
                    unsigned lo, unsigned hi, unsigned *out);
int config_get_duration(struct config_parser *p, int line, const char *what, const char *w,
                        uint64_t *out);
int config_get_size(struct config_parser *p, int line, const char *what, const char *w,
                    uint64_t *out);
int config_get_addr(struct config_parser *p, int line, const char *w, struct config_addr *out);
int config_get_string(struct config_parser *p, int line, const char *what, const char *w,
                      char *dst, size_t dstsz);
int config_get_name(struct config_parser *p, int line, const char *what, const char *w,
                    char *dst);
int config_get_path(struct config_parser *p, int line, const char *what, const char *w,
                    char *dst, size_t dstsz);

/* Appends one zeroed element to the array *arrp of *n elements; NULL (and
 * an error recorded) when out of memory. */
void *config_append(struct config_parser *p, void *arrp, size_t *n, size_t size);

/* The pool whose block is open (only valid in pool directive handlers). */
struct config_pool *config_cur_pool(struct config_parser *p);

#endif
