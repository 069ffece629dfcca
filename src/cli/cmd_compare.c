/*
 * cmd_compare.c: `netcourse compare A B [--json] [--svg FILE]`.
 *
 * A and B are saved runs (`run --save`, or the runs the interface keeps),
 * each optionally PATH@PROGRAM to measure one program's way of a lesson's
 * run (`tls.pcapng@client12 tls.pcapng@client13`). Both are read and
 * measured (compare_load.c), TLS decrypted with the secrets the runs carry.
 * Without options the interface shows them side by side on one time axis;
 * --json prints the summary (the measures of both and which differ),
 * --svg FILE writes the chart ("-": standard output).
 */
#include "cli.h"

#include "../core/buf.h"
#include "../decrypt/decrypt.h"
#include "../runfile/replay.h"
#include "../scenario/compare.h"
#include "../tui/tui.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static int nc_compare_cmd_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"svg", required_argument, NULL, 's'},
        {"data-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    const char *svg = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 's':
            svg = optarg;
            break;
        case 'd':
            nc_cli_data_dir = optarg;
            break;
        case 'h':
            printf("usage: netcourse compare A B [--json] [--svg FILE]\n"
                   "A and B are saved runs, or RUN@PROGRAM for one program's connections\n");
            return NC_EXIT_OK;
        default:
            if (optopt == 's') {
                nc_cli_error("--svg needs a file to write the chart to (\"-\": standard output)");
                return NC_EXIT_USAGE;
            }
            nc_cli_error("compare: unknown option \"%s\"; see `netcourse compare --help`",
                         argv[optind - 1]);
            return NC_EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        nc_cli_error("compare takes two saved runs, `netcourse compare A B`, not %d",
                     argc - optind);
        return NC_EXIT_USAGE;
    }
    if (json && svg && strcmp(svg, "-") == 0) {
        nc_cli_error("--json and --svg - would both print to standard output; give --svg a file");
        return NC_EXIT_USAGE;
    }
    nc_keylog_t *kl = nc_keylog_new();
    nc_replay_use_decryptor(&nc_decrypt_tls, kl);
    nc_compare_run_t runs[2];
    memset(runs, 0, sizeof runs);
    char err[640];
    int rc = NC_EXIT_OK;
    for (int k = 0; k < 2 && rc == NC_EXIT_OK; k++)
        if (nc_compare_load(argv[optind + k], &runs[k], err, sizeof err) < 0) {
            nc_cli_error("%s", err);
            rc = NC_EXIT_FAIL;
        }
    nc_buf_t out;
    nc_buf_init(&out);
    if (rc == NC_EXIT_OK && svg) {
        nc_compare_svg_runs(&runs[0], &runs[1], &out);
        rc = nc_cli_write(svg, &out);
    }
    if (rc == NC_EXIT_OK && json) {
        nc_buf_reset(&out);
        nc_compare_json(&runs[0], &runs[1], &out);
        signal(SIGPIPE, SIG_IGN);
        rc = nc_cli_write("-", &out);
    }
    if (rc == NC_EXIT_OK && !svg && !json) {
        nc_tui_opts_t to = {.compare = {&runs[0], &runs[1]}};
        if (nc_tui_main(&to, err, sizeof err) != 0) {
            nc_cli_error("%s", err);
            rc = NC_EXIT_FAIL;
        }
    }
    nc_buf_done(&out);
    nc_compare_run_done(&runs[0]);
    nc_compare_run_done(&runs[1]);
    nc_replay_use_decryptor(NULL, NULL);
    nc_keylog_free(kl);
    return rc;
}

const nc_cmd_t nc_cmd_compare = {
    .name = "compare",
    .args = "A B",
    .about = "two saved runs side by side on one time axis (--json summary, --svg FILE chart)",
    .needs_lab = false,
    .main = nc_compare_cmd_main,
};
