/*
 * main.c: netcourse's entry point and the table of subcommands.
 *
 * The first thing main does, for the commands that run a lab, is enter a
 * user namespace of its own (nc_lab_prepare): that only works while the
 * process has a single thread, so it happens before libuv, SQLite or curses
 * start anything.
 */
#include "cli.h"

#include "../core/link.h"
#include "../core/xmalloc.h"
#include "../lab/lab.h"
#include "../lesson/lesson.h"
#include "../store/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const nc_cmd_t nc_cmd_tui;
extern const nc_cmd_t nc_cmd_list;
extern const nc_cmd_t nc_cmd_run;
extern const nc_cmd_t nc_cmd_progress;
extern const nc_cmd_t nc_cmd_teach;
extern const nc_cmd_t nc_cmd_join;
extern const nc_cmd_t nc_cmd_replay;
extern const nc_cmd_t nc_cmd_runs;
extern const nc_cmd_t nc_cmd_export;
extern const nc_cmd_t nc_cmd_shell;
extern const nc_cmd_t nc_cmd_compare;

static const nc_cmd_t *const nc_cmds[] = {
    &nc_cmd_list,
    &nc_cmd_run,
    &nc_cmd_progress,
    &nc_cmd_teach,
    &nc_cmd_join,
    &nc_cmd_replay,
    &nc_cmd_runs,
    &nc_cmd_export,
    &nc_cmd_shell,
    &nc_cmd_compare,
};

const char *nc_cli_data_dir;

void nc_cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("netcourse: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int nc_cli_write(const char *path, const nc_buf_t *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (f == NULL) {
        nc_cli_error("cannot write %s: %s", path, strerror(errno));
        return NC_EXIT_FAIL;
    }
    bool ok = fwrite(b->data ? b->data : "", 1, b->len, f) == b->len;
    ok = (f == stdout ? fflush(f) : fclose(f)) == 0 && ok;
    if (!ok) {
        nc_cli_error("cannot write %s: %s", path, strerror(errno));
        return NC_EXIT_FAIL;
    }
    return NC_EXIT_OK;
}

nc_course_t *nc_cli_course(void)
{
    char *dir = nc_course_find_dir();
    if (dir == NULL) {
        nc_cli_error("cannot find the lessons directory; set NETCOURSE_LESSONS to it");
        return NULL;
    }
    nc_course_t *c = NULL;
    char err[512];
    if (nc_course_load(dir, &c, err, sizeof(err)) != 0) {
        nc_cli_error("%s", err);
        free(dir);
        return NULL;
    }
    free(dir);
    return c;
}

const nc_lesson_t *nc_cli_lesson(const nc_course_t *c, const char *id)
{
    const nc_lesson_t *l = nc_course_find(c, id);
    char *end;
    long number = id[0] >= '0' && id[0] <= '9' ? strtol(id, &end, 10) : -1;
    for (size_t k = 0; !l && number >= 0 && *end == '\0' && k < c->nlessons; k++)
        if (c->lessons[k]->number == number)
            l = c->lessons[k];
    if (l == NULL)
        nc_cli_error("there is no lesson \"%s\"; `netcourse list` shows the lessons with "
                     "their numbers and ids",
                     id);
    return l;
}

bool nc_cli_link(const char *arg)
{
    nc_link_t link = {0};
    char why[256];
    if (nc_link_parse(arg, &link, why, sizeof why) == 0)
        return true;
    nc_cli_error("--link: %s", why);
    return false;
}

bool nc_cli_seed(const char *arg, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || arg[0] == '-') {
        nc_cli_error("--seed takes a whole number, not \"%s\"", arg);
        return false;
    }
    *out = v;
    return true;
}

int nc_cli_lesson_arg(const char *cmd, int argc, char **argv, int first, nc_course_t **course,
                      const nc_lesson_t **lesson)
{
    if (first >= argc) {
        nc_cli_error("%s needs a lesson: `netcourse %s LESSON`; `netcourse list` shows them", cmd,
                     cmd);
        return NC_EXIT_USAGE;
    }
    if (first + 1 < argc) {
        nc_cli_error("%s takes one lesson, not \"%s\" too", cmd, argv[first + 1]);
        return NC_EXIT_USAGE;
    }
    if ((*course = nc_cli_course()) == NULL)
        return NC_EXIT_FAIL;
    if ((*lesson = nc_cli_lesson(*course, argv[first])) == NULL) {
        nc_course_free(*course);
        *course = NULL;
        return NC_EXIT_USAGE;
    }
    return NC_EXIT_OK;
}

nc_store_t *nc_cli_store_quiet(char *why, size_t len)
{
    char err[512];
    char *dir = nc_store_default_dir(nc_cli_data_dir);
    nc_store_t *st = nc_store_open(dir, err, sizeof(err));
    /* SQLite's own words for a directory it cannot write in ("unable to
     * open database file") do not say what is wrong; access() does. */
    if (st == NULL && access(dir, F_OK) == 0 && access(dir, W_OK) != 0)
        snprintf(why, len, "the data directory %s cannot be written (%s)", dir, strerror(errno));
    else if (st == NULL)
        snprintf(why, len, "%s", err);
    free(dir);
    return st;
}

nc_store_t *nc_cli_store(const char *prefix)
{
    char why[640];
    nc_store_t *st = nc_cli_store_quiet(why, sizeof(why));
    if (st == NULL)
        nc_cli_error("%s%s", prefix, why);
    return st;
}

static void nc_usage(FILE *out)
{
    fprintf(out, "usage: netcourse [--data-dir DIR] [--lessons DIR] [COMMAND] [ARGS]\n\n"
                 "  netcourse                 %s\n",
            nc_cmd_tui.about);
    for (size_t k = 0; k < sizeof(nc_cmds) / sizeof(nc_cmds[0]); k++) {
        char left[64];
        snprintf(left, sizeof(left), "%s %s", nc_cmds[k]->name, nc_cmds[k]->args);
        fprintf(out, "  netcourse %-16s%s\n", left, nc_cmds[k]->about);
    }
    fprintf(out, "\n  --help, --version         this text; the version\n"
                 "\nSee netcourse(1) for every option.\n");
}

int main(int argc, char **argv)
{
    /* Global options come before the command. */
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
            strcmp(argv[i], "help") == 0) {
            nc_usage(stdout);
            return NC_EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("netcourse %s\n", NC_VERSION);
            return NC_EXIT_OK;
        } else if (strcmp(argv[i], "--data-dir") == 0) {
            if (i + 1 >= argc) {
                nc_cli_error("--data-dir needs a directory");
                return NC_EXIT_USAGE;
            }
            nc_cli_data_dir = argv[++i];
        } else if (strncmp(argv[i], "--data-dir=", 11) == 0) {
            nc_cli_data_dir = argv[i] + 11;
        } else if (strcmp(argv[i], "--lessons") == 0 || strncmp(argv[i], "--lessons=", 10) == 0) {
            /* The same as NETCOURSE_LESSONS, which nc_course_find_dir reads
             * (this runs before any thread exists, so setenv is safe). */
            const char *dir = argv[i][9] == '=' ? argv[i] + 10 : i + 1 < argc ? argv[++i] : NULL;
            if (dir == NULL || *dir == '\0') {
                nc_cli_error("--lessons needs a directory of lesson files");
                return NC_EXIT_USAGE;
            }
            setenv("NETCOURSE_LESSONS", dir, 1);
        } else {
            break;
        }
    }
    const nc_cmd_t *cmd = &nc_cmd_tui;
    if (i < argc && argv[i][0] != '-') {
        cmd = NULL;
        for (size_t k = 0; k < sizeof(nc_cmds) / sizeof(nc_cmds[0]); k++)
            if (strcmp(argv[i], nc_cmds[k]->name) == 0)
                cmd = nc_cmds[k];
        if (cmd == NULL) {
            nc_cli_error("unknown command \"%s\"; `netcourse --help` lists the commands",
                         argv[i]);
            return NC_EXIT_USAGE;
        }
        i++;
    }
    if (cmd->needs_lab) {
        char err[512];
        if (nc_lab_prepare(err, sizeof(err)) != 0) {
            nc_cli_error("%s", err);
            return NC_EXIT_FAIL;
        }
    }
    /* Hand the command its own argv, with argv[0] as its name. */
    argv[i - 1] = (char *)cmd->name;
    return cmd->main(argc - (i - 1), argv + (i - 1));
}
