/*
 * cmd_list.c: `netcourse list`: the lessons, by part, with progress.
 *
 * One line per lesson: its number and id (either names it on the command
 * line), its title, what its lab looks like (the topology, said in words)
 * and the progress mark the course map shows. Columns are as wide as their
 * widest entry.
 */
#include "cli.h"

#include "../lesson/lesson.h"
#include "../store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The mark for a lesson's progress, as the course map shows it. */
static const char *nc_list_mark(const nc_progress_t *p)
{
    if (p->completed)
        return "done";
    if (p->updated || p->run_seen || p->answered)
        return "started";
    return "-";
}

/* What a lab of each topology looks like, in words. */
static const struct {
    const char *topology, *words;
} nc_list_labs[] = {
    {"pair", "two hosts, client ~ server"},
    {"local", "one host, over loopback"},
    {"chain", "client ~ middle ~ server"},
    {"fan", "2 clients ~ balancer ~ 3 backends"},
    {"nat", "inside ~ NAT ~ outside, STUN"},
};

static const char *nc_list_lab(const char *topology)
{
    for (size_t i = 0; i < sizeof nc_list_labs / sizeof nc_list_labs[0]; i++)
        if (topology && strcmp(nc_list_labs[i].topology, topology) == 0)
            return nc_list_labs[i].words;
    return topology ? topology : "-";
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
    int wid = 2, wtitle = 5, wlab = 3;
    for (size_t k = 0; k < course->nlessons; k++) {
        const nc_lesson_t *l = course->lessons[k];
        int a = (int)strlen(l->id), b = (int)strlen(l->title), c = (int)strlen(nc_list_lab(l->topology));
        wid = a > wid ? a : wid;
        wtitle = b > wtitle ? b : wtitle;
        wlab = c > wlab ? c : wlab;
    }
    printf("   #  %-*s  %-*s  %-*s  %s\n", wid, "id", wtitle, "title", wlab, "lab", "progress");
    int part = 0;
    for (size_t k = 0; k < course->nlessons; k++) {
        const nc_lesson_t *l = course->lessons[k];
        if (l->part != part) {
            part = l->part;
            printf("\nPart %d: %s\n", l->part, l->part_title ? l->part_title : "");
        }
        nc_progress_t p = {0};
        if (st)
            nc_store_progress(st, l->id, &p);
        printf("  %2d  %-*s  %-*s  %-*s  %s\n", l->number, wid, l->id, wtitle, l->title, wlab,
               nc_list_lab(l->topology), nc_list_mark(&p));
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
