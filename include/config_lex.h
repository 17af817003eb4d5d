/*
 * config_lex: splits configuration text into words, block braces and line
 * ends, for config_load.c.  Knows quoting, escapes and comments; knows nothing of
 * directives.
 */
#ifndef PROXY_CONFIG_LEX_H
#define PROXY_CONFIG_LEX_H

#include <stddef.h>

enum config_tok {
    CONFIG_TOK_WORD = 0, /* text holds the word (owned by the caller) */
    CONFIG_TOK_OPEN,     /* "{" */
    CONFIG_TOK_CLOSE,    /* "}" */
    CONFIG_TOK_EOL,      /* end of a line */
    CONFIG_TOK_EOF,
    CONFIG_TOK_ERROR     /* error holds a static message; the rest of the line is skipped */
};

struct config_lex {
    const char *p;
    const char *end;
    int line;
};

struct config_token {
    enum config_tok type;
    int line;
    char *text;        /* CONFIG_TOK_WORD only: malloc'd, the caller frees it */
    const char *error; /* CONFIG_TOK_ERROR only */
    int semicolon;     /* CONFIG_TOK_WORD: ends with an unquoted ';' (nginx habit) */
};

void config_lex_init(struct config_lex *lx, const char *text, size_t len);

/* Reads the next token into `tok` and returns its type. */
enum config_tok config_lex_next(struct config_lex *lx, struct config_token *tok);

#endif
