/*
 * rehearse_html: report.html, self-contained (inline styles and SVG).
 */
#ifndef PROXY_REHEARSE_HTML_H
#define PROXY_REHEARSE_HTML_H

#include <stdio.h>

#include "rehearse_text.h"

void rh_html_write(FILE *f, const struct rh_run_info *ri);

#endif
