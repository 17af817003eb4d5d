/*
 * config_lex: the tokenizer of the configuration language (see
 * config_lex.h).  A word is a run of plain characters and "quoted" parts,
 * shell style, so `token"a b"` is one word; a word that was quoted at all is
 * never a brace, so "{" can be written as a value.
 */
#include "config_lex.h"

#include <stdlib.h>
#include <string.h>

/* A growable byte string for the word being read. */
struct word_buf {
    char *s;
    size_t len, cap;
};

static int word_put(struct word_buf *w, char c)
{
    if (w->len + 1 >= w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        char *s = realloc(w->s, cap);
        if (!s)
            return -1;
        w->s = s;
        w->cap = cap;
    }
    w->s[w->len++] = c;
    w->s[w->len] = '\0';
    return 0;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Characters that end an unquoted word. */
static int is_word_end(char c)
{
    return is_blank(c) || c == '\n' || c == '#' || c == '{' || c == '}';
}

void config_lex_init(struct config_lex *lx, const char *text, size_t len)
{
    lx->p = text;
    lx->end = text + len;
    lx->line = 1;
}

/* After an error, the rest of the line means nothing: skip it, but leave
 * the newline so the parser still sees the end of the statement. */
static void skip_line(struct config_lex *lx)
{
    while (lx->p < lx->end && *lx->p != '\n')
        lx->p++;
}

static enum config_tok lex_error(struct config_lex *lx, struct config_token *tok,
                                 struct word_buf *w, const char *msg)
{
    free(w->s);
    skip_line(lx);
    tok->type = CONFIG_TOK_ERROR;
    tok->error = msg;
    return tok->type;
}

/* Reads one "quoted" part; lx->p is on the opening quote.  Only \" and \\
 * are escapes: any other backslash stays as written (Windows-ish paths,
 * regex-looking values). */
static const char *lex_quoted(struct config_lex *lx, struct word_buf *w)
{
    lx->p++;
    while (lx->p < lx->end && *lx->p != '"') {
        char c = *lx->p;
        if (c == '\n')
            return "unterminated quoted string (a quote must close on the same line)";
        if (c == '\0')
            return "unexpected NUL byte";
        if (c == '\\' && lx->p + 1 < lx->end && (lx->p[1] == '"' || lx->p[1] == '\\')) {
            lx->p++;
            c = *lx->p;
        }
        if (word_put(w, c) < 0)
            return "out of memory";
        lx->p++;
    }
    if (lx->p >= lx->end)
        return "unterminated quoted string (a quote must close on the same line)";
    lx->p++; /* closing quote */
    return NULL;
}

static enum config_tok lex_word(struct config_lex *lx, struct config_token *tok)
{
    struct word_buf w = { NULL, 0, 0 };
    const char *err;

    /* An empty quoted word ("") still needs a string. */
    if (word_put(&w, 'x') < 0)
        return lex_error(lx, tok, &w, "out of memory");
    w.len = 0;
    w.s[0] = '\0';
    while (lx->p < lx->end && !is_word_end(*lx->p)) {
        if (*lx->p == '"') {
            if ((err = lex_quoted(lx, &w)))
                return lex_error(lx, tok, &w, err);
            tok->semicolon = 0;
            continue;
        }
        if (*lx->p == '\0')
            return lex_error(lx, tok, &w, "unexpected NUL byte");
        if (word_put(&w, *lx->p) < 0)
            return lex_error(lx, tok, &w, "out of memory");
        tok->semicolon = *lx->p == ';';
        lx->p++;
    }
    tok->type = CONFIG_TOK_WORD;
    tok->text = w.s;
    return tok->type;
}

enum config_tok config_lex_next(struct config_lex *lx, struct config_token *tok)
{
    memset(tok, 0, sizeof(*tok));
    while (lx->p < lx->end && is_blank(*lx->p))
        lx->p++;
    if (lx->p < lx->end && *lx->p == '#')
        skip_line(lx);
    tok->line = lx->line;
    if (lx->p >= lx->end) {
        tok->type = CONFIG_TOK_EOF;
        return tok->type;
    }
    switch (*lx->p) {
    case '\n':
        lx->p++;
        lx->line++;
        tok->type = CONFIG_TOK_EOL;
        return tok->type;
    case '{':
        lx->p++;
        tok->type = CONFIG_TOK_OPEN;
        return tok->type;
    case '}':
        lx->p++;
        tok->type = CONFIG_TOK_CLOSE;
        return tok->type;
    default:
        return lex_word(lx, tok);
    }
}
