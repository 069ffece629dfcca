/*
 * cmd_progress.c: `netcourse progress`: what the student has done.
 *
 * Prints each lesson opened so far with its page, run and checkpoint
 * answers; --json prints the same as one JSON object; --reset forgets it all.
 */
#include "cli.h"

#include "../core/buf.h"
#include "../lesson/lesson.h"
#include "../store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int nc_progress_main(int argc, char **argv)
{
    bool json = false, reset = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "--export") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--reset") == 0) {
            reset = true;
        } else {
            nc_cli_error("progress: unknown option \"%s\"; it takes --json or --reset", argv[i]);
            return NC_EXIT_USAGE;
        }
    }
    char err[512];
    char *dir = nc_store_default_dir(nc_cli_data_dir);
    nc_store_t *st = nc_store_open(dir, err, sizeof(err));
    if (st == NULL) {
        nc_cli_error("%s", err);
        free(dir);
        return NC_EXIT_FAIL;
    }
    if (reset) {
        int rc = nc_store_reset(st);
        nc_store_close(st);
        if (rc != 0) {
            nc_cli_error("could not reset the progress kept in %s", dir);
            free(dir);
            return NC_EXIT_FAIL;
        }
        printf("Progress reset (%s).\n", dir);
        free(dir);
        return NC_EXIT_OK;
    }
    nc_course_t *course = nc_cli_course();
    if (course == NULL) {
        nc_store_close(st);
        free(dir);
        return NC_EXIT_FAIL;
    }
    nc_buf_t out;
    nc_buf_init(&out);
    int done = 0, opened = 0;
    if (json)
        nc_buf_puts(&out, "{\"lessons\":[");
    for (size_t k = 0; k < course->nlessons; k++) {
        const nc_lesson_t *l = course->lessons[k];
        nc_progress_t p = {0};
        nc_store_progress(st, l->id, &p);
        done += p.completed;
        if (json) {
            nc_buf_printf(&out, "%s{\"id\":", k ? "," : "");
            nc_buf_json_str(&out, l->id);
            nc_buf_printf(&out,
                          ",\"page\":%d,\"step\":%d,\"run_seen\":%s,\"answered\":%d,"
                          "\"correct\":%d,\"checkpoints\":%zu,\"completed\":%s}",
                          p.page, p.step, p.run_seen ? "true" : "false", p.answered, p.correct,
                          l->ncheckpoints, p.completed ? "true" : "false");
            continue;
        }
        if (!(p.updated || p.run_seen || p.answered))
            continue;
        opened++;
        nc_buf_printf(&out, "%-20s %s  page %d/%zu, run %s, checkpoints %d/%zu answered (%d right)\n",
                      l->id, p.completed ? "complete" : "started ", p.page + 1, l->npages,
                      p.run_seen ? "seen" : "not seen", p.answered, l->ncheckpoints, p.correct);
    }
    if (json)
        nc_buf_printf(&out, "],\"completed\":%d,\"total\":%zu}\n", done, course->nlessons);
    else if (opened == 0)
        nc_buf_puts(&out, "No lessons started yet. Run `netcourse` to begin.\n");
    else
        nc_buf_printf(&out, "%d of %zu lessons complete.\n", done, course->nlessons);
    fputs(nc_buf_cstr(&out), stdout);
    nc_buf_done(&out);
    nc_course_free(course);
    nc_store_close(st);
    free(dir);
    return NC_EXIT_OK;
}

const nc_cmd_t nc_cmd_progress = {
    .name = "progress",
    .args = "",
    .about = "your progress (--json to export it, --reset to forget it)",
    .needs_lab = false,
    .main = nc_progress_main,
};
