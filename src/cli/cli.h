/*
 * cli.h: subcommands. Each lives in its own cmd_*.c file and exports one
 * const nc_cmd_t, listed in the table in main.c. Commands only turn
 * arguments into calls: the work is in the modules.
 */
#ifndef NC_CLI_H
#define NC_CLI_H

#include "../core/buf.h"
#include "../core/course.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses: 0 done, 1 it failed at run time, 2 the user's words were
 * wrong (unknown lesson, bad option), 130 interrupted. */
enum { NC_EXIT_OK = 0, NC_EXIT_FAIL = 1, NC_EXIT_USAGE = 2, NC_EXIT_INTERRUPTED = 130 };

typedef struct nc_cmd {
    const char *name;
    const char *args;  /* for the usage line */
    const char *about; /* one line */
    bool needs_lab;    /* enter the lab's user namespace first */
    int (*main)(int argc, char **argv);
} nc_cmd_t;

/* Prints "netcourse: <sentence>" to stderr. */
void nc_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes b to path ("-": standard output); prints one sentence and
 * returns NC_EXIT_FAIL when it cannot, else NC_EXIT_OK. */
int nc_cli_write(const char *path, const nc_buf_t *b);

/* Loads the course from the lessons directory; prints one sentence and
 * returns NULL when it cannot. */
nc_course_t *nc_cli_course(void);
/* Finds a lesson by its id ("tcp") or its number ("14", as `list` shows
 * it), printing one sentence when there is none. */
const nc_lesson_t *nc_cli_lesson(const nc_course_t *c, const char *id);

/* Opens the progress store in the data directory. On failure prints
 * "netcourse: <prefix><why>" and returns NULL. */
struct nc_store *nc_cli_store(const char *prefix);
/* The same, printing nothing: on failure, says in why (one clause, for
 * "progress will not be kept: <why>") what stops it, such as a data
 * directory that cannot be written. */
struct nc_store *nc_cli_store_quiet(char *why, size_t len);

/* Parses --seed's argument; prints one sentence and returns false when it
 * is not a whole number. */
bool nc_cli_seed(const char *arg, uint64_t *out);

/* Checks --link's argument (core/link.h) before anything starts; prints
 * one sentence and returns false when it is not a valid link spec. */
bool nc_cli_link(const char *arg);

/* The one LESSON operand of `netcourse CMD [options] LESSON` at argv[first]:
 * loads the course and finds the lesson. Returns NC_EXIT_OK with *course
 * (caller frees with nc_course_free) and *lesson set, or prints one sentence
 * and returns the exit status to give. */
int nc_cli_lesson_arg(const char *cmd, int argc, char **argv, int first, nc_course_t **course,
                      const nc_lesson_t **lesson);

/* Options every command takes. */
extern const char *nc_cli_data_dir; /* --data-dir */

#endif
