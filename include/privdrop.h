/*
 * privdrop: running as an unprivileged user after binding (`user NAME`).
 */
#ifndef PROXY_PRIVDROP_H
#define PROXY_PRIVDROP_H

/* Switches the whole process (before the worker threads start) to `user`
 * and its primary group, with no supplementary groups, and checks that
 * root cannot be regained.  Returns 0, or -1 after logging why (a start-up
 * error: never silently root). */
int privdrop_to(const char *user);

#endif
