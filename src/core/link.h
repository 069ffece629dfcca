/*
 * link.h: the text form of link conditions (nc_link_t, course.h).
 *
 * The same spelling is used by a lesson's "link:" line and by --link on the
 * command line: comma- or space-separated key=value pairs,
 *
 *   delay=50ms     one-way delay; units ns, us, ms, s
 *   loss=5%        random loss; a percentage, or a fraction such as 0.05
 *   rate=1mbit     rate limit; units bit, kbit, mbit, gbit (decimal); 0 = off
 *
 * It lives in core so that both the lesson parser and the lab can use it
 * without depending on each other.
 */
#ifndef NC_LINK_H
#define NC_LINK_H

#include "course.h"

#include <stddef.h>

/* Parses spec onto *link: fields the spec does not name keep their value.
 * Returns 0, or NC_ESYNTAX with one sentence in err (and *link untouched).
 * spec and link are borrowed. An empty spec is valid and changes nothing. */
int nc_link_parse(const char *spec, nc_link_t *link, char *err, size_t errlen);

#endif
