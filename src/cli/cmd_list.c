/*
 * cmd_list.c: `netcourse list`: the lessons, by part, with progress.
 */
#include "cli.h"

#include "../lesson/lesson.h"
#include "../store/store.h"

#include <stdio.h>
#include <stdlib.h>

/* The mark for a lesson's progress, as the course map shows it. */
static const char *nc_list_mark(const nc_progress_t *p)
{
    if (p->completed)
        return "done";
    if (p->updated || p->run_seen || p->answered)
        return "started";
    return "-";
}

static int nc_list_main(int argc, char **argv)
{
    if (argc > 1) {
        nc_cli_error("list takes no arguments");
        return NC_EXIT_USAGE;
    }
    nc_course_t *course = nc_cli_course();
    if (course == NULL)
        return NC_EXIT_FAIL;
    nc_store_t *st = nc_cli_store("progress is not shown: ");
    int part = 0;
    for (size_t k = 0; k < course->nlessons; k++) {
        const nc_lesson_t *l = course->lessons[k];
        if (l->part != part) {
            part = l->part;
            printf("%sPart %d: %s\n", k ? "\n" : "", l->part, l->part_title ? l->part_title : "");
        }
        nc_progress_t p = {0};
        if (st)
            nc_store_progress(st, l->id, &p);
        printf("  %2d  %-20s %-32s %-6s %s\n", l->number, l->id, l->title, l->topology,
               nc_list_mark(&p));
    }
    if (st)
        nc_store_close(st);
    nc_course_free(course);
    return NC_EXIT_OK;
}

const nc_cmd_t nc_cmd_list = {
    .name = "list",
    .args = "",
    .about = "the lessons, with your progress",
    .needs_lab = false,
    .main = nc_list_main,
};
