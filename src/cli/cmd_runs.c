/*
 * cmd_runs.c: `netcourse runs`: the saved runs kept in the data directory.
 *
 * One line per run, newest first: when it was saved, the lesson, its
 * packets and events, the file's size and its path (which `netcourse
 * replay` and Wireshark open), in columns as wide as their widest cell.
 * Runs whose files were removed by hand are dropped from the index first.
 */
#include "cli.h"

#include "../core/xmalloc.h"
#include "../scenario/save.h"
#include "../store/store.h"
#include "../tui/tui.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int nc_runs_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            nc_cli_data_dir = optarg;
            break;
        case 'h':
            printf("usage: netcourse runs\n");
            return NC_EXIT_OK;
        default:
            nc_cli_error("runs: unknown option \"%s\"; see `netcourse runs --help`",
                         argv[optind - 1]);
            return NC_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        nc_cli_error("runs takes no arguments, not \"%s\"", argv[optind]);
        return NC_EXIT_USAGE;
    }
    nc_store_t *st = nc_cli_store("");
    if (st == NULL)
        return NC_EXIT_FAIL;
    uint64_t cap = nc_save_cap();
    nc_save_trim(st, cap ? cap : UINT64_MAX);
    nc_store_saved_t *v;
    size_t n;
    if (nc_store_saved_list(st, &v, &n) < 0) {
        nc_cli_error("%s", nc_store_error(st));
        nc_store_close(st);
        return NC_EXIT_FAIL;
    }
    if (n == 0)
        printf("No saved runs yet: every lesson run is kept here once it finishes.\n");
    /* Each row's cells first, then every column as wide as its widest cell
     * (the heading's included), so no lesson id or size shifts the rest. */
    enum { NC_RUNS_COLS = 6 };
    static const char *const head[NC_RUNS_COLS] = {"saved", "lesson", "packets", "events",
                                                    "size", "file"};
    static const bool right[NC_RUNS_COLS] = {false, false, true, true, true, false};
    char(*cell)[NC_RUNS_COLS][32] = nc_xcalloc(n ? n : 1, sizeof *cell);
    int width[NC_RUNS_COLS];
    for (int k = 0; k < NC_RUNS_COLS; k++)
        width[k] = (int)strlen(head[k]);
    for (size_t i = 0; i < n; i++) {
        time_t t = (time_t)v[i].saved_at;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(cell[i][0], sizeof cell[i][0], "%Y-%m-%d %H:%M:%S", &tm);
        snprintf(cell[i][1], sizeof cell[i][1], "%s", v[i].lesson[0] ? v[i].lesson : "-");
        snprintf(cell[i][2], sizeof cell[i][2], "%" PRId64, v[i].packets);
        snprintf(cell[i][3], sizeof cell[i][3], "%" PRId64, v[i].events);
        nc_tui_bytes(v[i].bytes, cell[i][4], sizeof cell[i][4]);
        for (int k = 0; k < NC_RUNS_COLS - 1; k++) {
            int w = (int)strlen(cell[i][k]);
            width[k] = w > width[k] ? w : width[k];
        }
    }
    for (size_t i = 0; i <= n && n > 0; i++) {
        for (int k = 0; k < NC_RUNS_COLS - 1; k++) {
            const char *text = i == 0 ? head[k] : cell[i - 1][k];
            printf(right[k] ? "%*s  " : "%-*s  ", width[k], text);
        }
        printf("%s\n", i == 0 ? head[NC_RUNS_COLS - 1] : v[i - 1].path);
    }
    free(cell);
    nc_store_saved_free(v, n);
    nc_store_close(st);
    return NC_EXIT_OK;
}

const nc_cmd_t nc_cmd_runs = {
    .name = "runs",
    .args = "",
    .about = "the saved runs kept in the data directory (replay them with `replay FILE`)",
    .needs_lab = false,
    .main = nc_runs_main,
};
