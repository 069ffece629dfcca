/*
 * lesson_priv.h: what lesson.c and course.c share beyond lesson.h.
 *
 * A parsed lesson is allocated as an nc_lesson_priv_t whose first member is
 * the public nc_lesson_t, so nc_lesson_free() can free it through the public
 * pointer. The extra members remember the lines of the id and number keys,
 * so that the course loader can point at them when two lessons collide.
 */
#ifndef NC_LESSON_PRIV_H
#define NC_LESSON_PRIV_H

#include "core/course.h"

#include <stdarg.h>
#include <stddef.h>

typedef struct nc_lesson_priv {
    nc_lesson_t pub; /* must stay first */
    int id_line;
    int number_line;
    int link_line; /* the line of the link: line for every link, or 0 */
} nc_lesson_priv_t;

/* Returns the private view of a lesson made by nc_lesson_parse (borrowed). */
static inline const nc_lesson_priv_t *nc_lesson_priv(const nc_lesson_t *l)
{
    return (const nc_lesson_priv_t *)l;
}

/* Writes "PATH:LINE: " and then the message made from fmt into err (at most
 * errlen bytes, always terminated when errlen > 0): the one shape of every
 * error the lesson and program parsers report. */
void nc__lesson_verr(char *err, size_t errlen, const char *path, int line, const char *fmt,
                     va_list ap);

#endif
