/*
 * lesson.h: reading lessons/NAME.md into the lesson model (core/course.h).
 *
 * A lesson file is Markdown with a front-matter block and fenced blocks for
 * the run's script (step, checkpoint, note); the format is described in
 * lessons/README.md. Every error is reported as "FILE:LINE: sentence".
 */
#ifndef NC_LESSON_H
#define NC_LESSON_H

#include "../core/course.h"

#include <stddef.h>

/* Parses one file. Returns 0 and a new lesson (caller frees with
 * nc_lesson_free), or a negative code with "path:line: ..." in err. */
int nc_lesson_load(const char *path, nc_lesson_t **out, char *err, size_t errlen);
/* The same, from text in memory (path is used in messages only). */
int nc_lesson_parse(const char *path, const char *text, size_t len, nc_lesson_t **out,
                    char *err, size_t errlen);
void nc_lesson_free(nc_lesson_t *l);

/* Parses one scripted fault, as written after "fault:" in a lesson's front
 * matter or typed by an instructor live: "drop 3rd packet from=client
 * tcp.len>0". Returns 0 and fills *out (free with nc_fault_done), or a
 * negative code with one sentence in err. */
int nc_fault_parse(const char *text, nc_fault_t *out, char *err, size_t errlen);
void nc_fault_done(nc_fault_t *f);

/* Loads every *.md lesson in dir (README.md excepted), sorted by number;
 * also checks ids and numbers are unique. */
int nc_course_load(const char *dir, nc_course_t **out, char *err, size_t errlen);
void nc_course_free(nc_course_t *c);

/* Finds the lessons directory: $NETCOURSE_LESSONS, then the installed
 * share/netcourse/lessons beside the binary, then the source tree's lessons/.
 * Returns a heap string (caller frees) or NULL. */
char *nc_course_find_dir(void);

#endif
