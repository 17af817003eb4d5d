/*
 * config_load: the parser and validator of the configuration language
 * (CONTRACT.md section 2): reading a file, running its statements through
 * the keyword tables of every module (config_directives, config_admit,
 * config_tls, config_h2, config_surge), validating the whole, and freeing
 * a struct config.
 *
 * Text goes through config_lex into statements (the words of one line, or up
 * to a brace), each looked up in a keyword table (nginx ngx_command_t style)
 * for the block it stands in.  Every error is collected with its file and
 * line and parsing goes on, so `proxy -t` shows them all at once; a config
 * is returned only when there was none.
 */
#include "config.h"
#include "config_lex.h"
#include "config_parser.h"
#include "config_values.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- statements and blocks ------------------------------------------------ */

static void push_skip(struct config_parser *p, int line)
{
    if (p->depth >= CFG_MAX_DEPTH) {
        config_perr(p, line, "blocks nested too deeply");
        return; /* the "}" will then read as unexpected: one more message, no harm */
    }
    p->stack[p->depth].kind = CFG_BLOCK_SKIP;
    p->stack[p->depth].line = line;
    p->depth++;
}

/* Refuses a second value for a single-valued setting in the same block. */
static void check_once(struct config_parser *p, const struct config_command *cmd, int line, char **argv)
{
    int in_pool = p->depth > 0 && p->stack[p->depth - 1].kind == CFG_BLOCK_POOL;
    struct config_seen *seen = in_pool ? p->pool_seen : p->top_seen;
    size_t *n = in_pool ? &p->npool_seen : &p->ntop_seen;
    char key[48];

    if (cmd->flags & CFG_CMD_REPEAT)
        return;
    if (cmd->flags & CFG_CMD_KEYED)
        snprintf(key, sizeof(key), "%s %s", cmd->name, argv[1]);
    else
        snprintf(key, sizeof(key), "%s", cmd->name);
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(seen[i].key, key) == 0) {
            config_perr(p, line, "duplicate \"%s\" (first defined at line %d)", key, seen[i].line);
            return;
        }
    }
    if (*n < CFG_MAX_SEEN) {
        strcpy(seen[*n].key, key);
        seen[(*n)++].line = line;
    }
}

static const struct config_command *find_command(const struct config_command *table, const char *name)
{
    for (; table->name; table++)
        if (strcmp(table->name, name) == 0)
            return table;
    return NULL;
}

/* Runs one statement: `argv` are its words, `opens` says it ended with "{",
 * `semicolon` that its last word ended with an unquoted ';'. */
static void run_statement(struct config_parser *p, int line, int argc, char **argv, int opens,
                          int semicolon)
{
    struct config_block *top = p->depth ? &p->stack[p->depth - 1] : NULL;
    const struct config_command *cmd;
    int depth = p->depth;

    if (top && top->kind == CFG_BLOCK_SKIP) {
        if (opens)
            push_skip(p, line);
        return;
    }
    if (argc == 0) {
        config_perr(p, line, "unexpected \"{\"");
        push_skip(p, line);
        return;
    }
    cmd = find_command(top ? config_pool_commands : config_top_commands, argv[0]);
    if (!cmd && !top)
        cmd = find_command(config_admit_commands, argv[0]);
    if (!cmd && !top)
        cmd = find_command(config_h2_commands, argv[0]);
    /* A pool whose server lines were all refused gets those errors, not one
     * more saying it has no server. */
    if (top && cmd && (strcmp(cmd->name, "server") == 0 || strcmp(cmd->name, "standby") == 0))
        p->cfg->pools[top->pool].server_lines++;
    if (semicolon) {
        config_perr(p, line, "%s: the line ends with \";\": there is no \";\" in this language "
                    "(a directive ends with its line)", argv[0]);
    } else if (!cmd) {
        if (top)
            config_perr(p, line, "unknown directive \"%s\" in pool \"%s\"", argv[0],
                        p->cfg->pools[top->pool].name);
        else
            config_perr(p, line, "unknown directive \"%s\"", argv[0]);
    } else if (opens && !(cmd->flags & CFG_CMD_BLOCK)) {
        config_perr(p, line, "%s: unexpected \"{\" (expected \"%s\")", cmd->name, cmd->usage);
    } else if (!opens && (cmd->flags & CFG_CMD_BLOCK)) {
        config_perr(p, line, "%s: missing \"{\" at the end of the line (expected \"%s\")",
                    cmd->name, cmd->usage);
    } else if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args) {
        config_perr(p, line, "%s: wrong number of arguments (expected \"%s\")", cmd->name, cmd->usage);
    } else if (cmd->handler(p, line, argc, argv) == 0) {
        check_once(p, cmd, line, argv);
    }
    if (opens && p->depth == depth)
        push_skip(p, line);
}

static void close_block(struct config_parser *p, int line)
{
    if (p->depth == 0) {
        config_perr(p, line, "unexpected \"}\"");
        return;
    }
    p->depth--;
}

static void free_words(char **words, int *n)
{
    for (int i = 0; i < *n; i++)
        free(words[i]);
    *n = 0;
}

/* Reads the whole text, running each statement as it ends. */
static void parse_text(struct config_parser *p, const char *text, size_t len)
{
    struct config_lex lx;
    struct config_token tok;
    char *words[CFG_MAX_WORDS];
    int n = 0, line = 0, broken = 0, semicolon = 0;

    config_lex_init(&lx, text, len);
    for (;;) {
        enum config_tok t = config_lex_next(&lx, &tok);
        if (t == CONFIG_TOK_WORD) {
            if (n == 0)
                line = tok.line;
            semicolon = tok.semicolon;
            if (n == CFG_MAX_WORDS) {
                if (!broken)
                    config_perr(p, tok.line, "too many words in one directive");
                broken = 1;
                free(tok.text);
            } else {
                words[n++] = tok.text;
            }
            continue;
        }
        if (t == CONFIG_TOK_ERROR) {
            config_perr(p, tok.line, "%s", tok.error);
            broken = 1;
            continue;
        }
        /* A line end or a brace ends the statement. */
        if (!broken && (n > 0 || t == CONFIG_TOK_OPEN))
            run_statement(p, n ? line : tok.line, n, words, t == CONFIG_TOK_OPEN, n > 0 && semicolon);
        else if (broken && t == CONFIG_TOK_OPEN)
            push_skip(p, tok.line);
        free_words(words, &n);
        if (t == CONFIG_TOK_EOL || t == CONFIG_TOK_EOF)
            broken = 0;
        if (t == CONFIG_TOK_CLOSE)
            close_block(p, tok.line);
        if (t == CONFIG_TOK_EOF)
            break;
    }
}

/* ---- whole-file validation ------------------------------------------------ */

static void check_unclosed(struct config_parser *p)
{
    for (int i = 0; i < p->depth; i++) {
        const struct config_block *b = &p->stack[i];
        if (b->kind == CFG_BLOCK_POOL)
            config_perr(p, b->line, "unclosed block \"pool %s\" opened here",
                        p->cfg->pools[b->pool].name);
        else
            config_perr(p, b->line, "unclosed block opened here");
    }
}

static void resolve_routes(struct config_parser *p)
{
    struct config *cfg = p->cfg;

    for (size_t r = 0; r < cfg->nroutes; r++) {
        size_t i;
        for (i = 0; i < cfg->npools; i++)
            if (strcmp(cfg->pools[i].name, p->route_pools[r]) == 0)
                break;
        if (i == cfg->npools)
            config_perr(p, cfg->routes[r].line, "route: undefined pool \"%s\"", p->route_pools[r]);
        else
            cfg->routes[r].pool = i;
    }
}

static void validate(struct config_parser *p)
{
    struct config *cfg = p->cfg;

    check_unclosed(p);
    for (size_t i = 0; i < cfg->npools; i++)
        if (cfg->pools[i].nservers == 0 && cfg->pools[i].server_lines == 0)
            config_perr(p, cfg->pools[i].line, "pool \"%s\" has no server", cfg->pools[i].name);
    resolve_routes(p);
    if (cfg->nlistens == 0)
        config_perr(p, 0, "no listen address (expected e.g. \"listen 0.0.0.0:8080\")");
    for (size_t i = 0; cfg->has_stats && i < cfg->nlistens; i++)
        if (strcmp(cfg->listens[i].addr.text, cfg->stats_addr.text) == 0)
            config_perr(p, p->stats_line, "stats: address \"%s\" is also a listen address (line %d)",
                        cfg->stats_addr.text, cfg->listens[i].line);
        else if (config_addr_overlaps(&cfg->listens[i].addr, &cfg->stats_addr))
            config_perr(p, p->stats_line, "stats: address \"%s\" takes the same port as listen \"%s\" (line %d)",
                        cfg->stats_addr.text, cfg->listens[i].addr.text, cfg->listens[i].line);
    if (cfg->npools == 0)
        config_perr(p, 0, "no pool defined (expected \"pool NAME { server NAME ADDR }\")");
    else if (cfg->npools > 1 && cfg->nroutes == 0)
        config_perr(p, 0, "no route and several pools: add `route default pool NAME`");
}

/* With one pool and no route, everything goes to that pool (CONTRACT 2). */
static void add_implicit_route(struct config_parser *p)
{
    struct config *cfg = p->cfg;
    struct config_route *r;

    if (cfg->npools != 1 || cfg->nroutes != 0)
        return;
    if ((r = config_append(p, &cfg->routes, &cfg->nroutes, sizeof(*r)))) {
        r->is_default = 1;
        r->pool = 0;
        r->priority = PRIO_NORMAL; /* as an explicit route's (PRIO_LOW is 0) */
    }
}

/* ---- public API ----------------------------------------------------------- */

static void config_defaults(struct config *cfg)
{
    cfg->workers = 0;
    cfg->max_conns = 10000;
    cfg->cpu_affinity = 0;
    cfg->cpu_yield = 1;
    cfg->log_level = LOG_INFO;
    strcpy(cfg->access_log, "stderr");
    cfg->timeout_connect_ms = 2000;
    cfg->timeout_client_ms = 10000;
    cfg->timeout_keep_alive_ms = 60000;
    cfg->timeout_server_ms = 30000;
    cfg->timeout_queue_ms = 5000;
    cfg->timeout_shutdown_ms = 30000;
    cfg->resolve_interval_ms = 30000;
    cfg->limit_header_size = 16 * 1024;
    cfg->limit_response_header_size = 16 * 1024;
    cfg->limit_headers = 100;
    cfg->limit_body_size = 0;
    cfg->h2_max_streams = 100;
    cfg->h2_window = 64 * 1024;
    cfg->h2_max_resets = 200;
    config_tls_defaults(&cfg->tls);
    cfg->admit.clients = 65536;
    config_surge_defaults(&cfg->surge);
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->npools; i++)
        free(cfg->pools[i].servers);
    free(cfg->pools);
    free(cfg->routes);
    free(cfg->listens);
    config_admit_free(cfg);
    free(cfg->file);
    free(cfg);
}

struct config *config_parse(const char *name, const char *text, size_t len,
                            struct config_errors *errs)
{
    struct config_parser p;
    struct config *cfg = calloc(1, sizeof(*cfg));

    memset(&p, 0, sizeof(p));
    p.file = name;
    p.errs = errs;
    if (!cfg || !(cfg->file = strdup(name))) {
        config_perr(&p, 0, "out of memory");
        free(cfg);
        return NULL;
    }
    config_defaults(cfg);
    p.cfg = cfg;
    parse_text(&p, text, len);
    validate(&p);
    add_implicit_route(&p);
    free(p.route_pools);
    if (p.nerrors) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* Reads a whole file into memory; NULL with errno set on failure. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL, *grown;
    size_t cap = 0, n = 0, got;
    int saved;

    if (!f)
        return NULL;
    do {
        if (n == cap) {
            cap = cap ? cap * 2 : 8192;
            if (!(grown = realloc(buf, cap))) {
                errno = ENOMEM;
                goto fail;
            }
            buf = grown;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    if (ferror(f)) {
        errno = errno ? errno : EIO;
        goto fail;
    }
    fclose(f);
    *len = n;
    return buf ? buf : calloc(1, 1);
fail:
    saved = errno;
    fclose(f);
    free(buf);
    errno = saved;
    return NULL;
}

struct config *config_load(const char *path, struct config_errors *errs)
{
    struct config *cfg;
    size_t len = 0;
    char *text = read_file(path, &len);

    if (!text) {
        char *msg;
        if (asprintf(&msg, "%s: cannot read: %s", path, strerror(errno)) >= 0)
            config_errors_add(errs, msg);
        return NULL;
    }
    cfg = config_parse(path, text, len, errs);
    free(text);
    return cfg;
}
