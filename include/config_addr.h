/*
 * config_addr: a socket address as the configuration writes it, and the
 * lengths of its text.  Types alone, apart from config.h so that the
 * value syntaxes (config_values), which the parser calls, need not
 * include the parser's header.
 */
#ifndef PROXY_CONFIG_ADDR_H
#define PROXY_CONFIG_ADDR_H

#include <sys/socket.h>

#define CONFIG_ADDR_TEXT_MAX 64  /* "[ffff:...]:65535" as written */
#define CONFIG_HOST_MAX 256      /* a DNS name: 253 characters, a final dot */

/* A socket address as parsed from "HOST:PORT" or "[V6]:PORT". */
struct config_addr {
    struct sockaddr_storage sa;
    socklen_t len;
    char text[CONFIG_ADDR_TEXT_MAX]; /* normalised "127.0.0.1:9001" / "[::1]:9001" */
};

#endif
