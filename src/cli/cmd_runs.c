/*
 * cmd_runs.c: `netcourse runs`: the saved runs kept in the data directory.
 *
 * One line per run, newest first: when it was saved, the lesson, its
 * packets and events, the file's size and its path (which `netcourse
 * replay` and Wireshark open). Runs whose files were removed by hand are
 * dropped from the index first.
 */
#include "cli.h"

#include "../scenario/save.h"
#include "../store/store.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

static void nc_runs_size(int64_t bytes, char *buf, size_t len)
{
    if (bytes >= 1024 * 1024)
        snprintf(buf, len, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
    else if (bytes >= 1024)
        snprintf(buf, len, "%.1f KiB", (double)bytes / 1024.0);
    else
        snprintf(buf, len, "%" PRId64 " B", bytes);
}

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
    else
        printf("%-19s  %-10s %8s %8s %10s  %s\n", "saved", "lesson", "packets", "events", "size",
               "file");
    for (size_t i = 0; i < n; i++) {
        char when[32], size[32];
        time_t t = (time_t)v[i].saved_at;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        nc_runs_size(v[i].bytes, size, sizeof size);
        printf("%-19s  %-10s %8" PRId64 " %8" PRId64 " %10s  %s\n", when,
               v[i].lesson[0] ? v[i].lesson : "-", v[i].packets, v[i].events, size, v[i].path);
    }
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
