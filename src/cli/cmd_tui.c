/*
 * cmd_tui.c: plain `netcourse`: the course in the terminal interface.
 */
#include "cli.h"

#include "../lesson/lesson.h"
#include "../store/store.h"
#include "../tui/tui.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int nc_tui_cmd_main(int argc, char **argv)
{
    if (argc > 1) {
        nc_cli_error("unknown option \"%s\"; `netcourse --help` lists the commands", argv[1]);
        return NC_EXIT_USAGE;
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        nc_cli_error("the course needs a terminal; without one, use "
                     "`netcourse run LESSON --headless` (add --json for JSON Lines)");
        return NC_EXIT_USAGE;
    }
    nc_course_t *course = nc_cli_course();
    if (course == NULL)
        return NC_EXIT_FAIL;
    char err[512];
    /* Without a usable data directory the course still runs; the interface
     * says once that progress will not be kept, and why. */
    char why[640], note[700];
    nc_store_t *st = nc_cli_store_quiet(why, sizeof(why));
    snprintf(note, sizeof(note), "progress will not be kept: %s", why);
    nc_tui_opts_t o = {.course = course, .store = st, .store_note = st ? NULL : note};
    int rc = nc_tui_main(&o, err, sizeof(err));
    if (rc != 0)
        nc_cli_error("%s", err);
    if (st)
        nc_store_close(st);
    nc_course_free(course);
    return rc == 0 ? NC_EXIT_OK : NC_EXIT_FAIL;
}

const nc_cmd_t nc_cmd_tui = {
    .name = "netcourse",
    .args = "",
    .about = "the course: map, lessons, live runs (needs a terminal)",
    .needs_lab = true,
    .main = nc_tui_cmd_main,
};
