/*
 * program.h: the parser of `program` blocks (the language is described in
 * lessons/README.md; program.c holds its grammar as a table).
 */
#ifndef NC_PROGRAM_H
#define NC_PROGRAM_H

#include "../core/course.h"

#include <stddef.h>
#include <stdint.h>

/* Parses the body of one program block: text[0..len), whose first line is
 * line first_line of the file path. Returns 0 and fills *out (free with
 * nc_program_done), or NC_ESYNTAX with "path:line: sentence" in err. */
int nc_program_parse(const char *path, const char *text, size_t len, int first_line,
                     nc_program_t *out, char *err, size_t errlen);
void nc_program_done(nc_program_t *pg);
/* Checks what one block cannot: program names are unique, every wait and
 * hold names a program of the lesson, and the lesson has a scenario or
 * programs (not both). Returns 0 or NC_ESYNTAX with err. */
int nc_program_check(const nc_lesson_t *l, char *err, size_t errlen);

/* A duration ("20ms", "1s", "500us", "100ns") in nanoseconds, or -1. */
int64_t nc_prog_duration_ns(const char *s);
/* A decimal number in [min, max], or -1. */
long nc_prog_number(const char *s, long min, long max);

#endif
