/*
 * cmd_replay.c: `netcourse replay FILE`: a saved run or any capture.
 *
 * Without options it opens the file in the TUI's ladder, with playback
 * controls. --dump prints the ladder as text and --json the EVENTS.md
 * stream, both streamed: each event is decoded, printed and forgotten, so a
 * file of any size costs the same memory; decoding runs on a second core
 * (nc_replay_write). On a saved run the stream equals the one the live run
 * printed. --filter keeps the events a matcher (the
 * lesson matcher language of core/match.h, `tcp.flags~RST`) accepts: with
 * --dump or --json only they are printed, each with its own index; in the
 * TUI the ladder opens filtered. TLS is decrypted with the secrets of the
 * file's Decryption Secrets Blocks (a saved run carries its own), and with
 * those of --keylog FILE (SSLKEYLOGFILE lines) for a foreign capture.
 */
#include "cli.h"

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/match.h"
#include "../decrypt/decrypt.h"
#include "../lesson/lesson.h"
#include "../runfile/replay.h"
#include "../store/store.h"
#include "../tui/tui.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the events of path that m accepts (every event when m is NULL). */
static int nc_replay_print(const char *path, bool json, const nc_match_t *m)
{
    char err[512];
    nc_replay_t *r = nc_replay_open(path, err, sizeof err);
    if (r == NULL) {
        nc_cli_error("%s", err);
        return NC_EXIT_FAIL;
    }
    signal(SIGPIPE, SIG_IGN);
    int rc = nc_replay_write(r, json, m, stdout, err, sizeof err);
    nc_replay_close(r);
    if (rc < 0 && rc != NC_EIO)
        nc_cli_error("%s: %s", path, err);
    return rc < 0 ? NC_EXIT_FAIL : NC_EXIT_OK;
}

static void nc_replay_usage(FILE *out)
{
    fprintf(out, "usage: netcourse replay FILE [--dump | --json] [--filter MATCHER] "
                 "[--pace SECONDS] [--keylog FILE]\n");
}

static int nc_replay_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dump", no_argument, NULL, 'D'},
        {"json", no_argument, NULL, 'j'},
        {"filter", required_argument, NULL, 'f'},
        {"pace", required_argument, NULL, 'p'},
        {"keylog", required_argument, NULL, 'k'},
        {"data-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool dump = false, json = false;
    const char *filter = NULL, *keylog = NULL;
    double pace = 0;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'D':
            dump = true;
            break;
        case 'j':
            json = true;
            break;
        case 'f':
            filter = optarg;
            break;
        case 'p': {
            char *end;
            pace = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(pace >= 0.125 && pace <= 8)) {
                nc_cli_error("--pace takes seconds an event, from 0.125 to 8, not \"%s\"", optarg);
                return NC_EXIT_USAGE;
            }
            break;
        }
        case 'k':
            keylog = optarg;
            break;
        case 'd':
            nc_cli_data_dir = optarg;
            break;
        case 'h':
            nc_replay_usage(stdout);
            return NC_EXIT_OK;
        default:
            if (optopt == 'f') {
                nc_cli_error("--filter needs a matcher, such as --filter 'tcp.flags~RST'");
                return NC_EXIT_USAGE;
            }
            if (optopt == 'k') {
                nc_cli_error("--keylog needs a key log file (SSLKEYLOGFILE lines)");
                return NC_EXIT_USAGE;
            }
            if (optopt == 'p') {
                nc_cli_error("--pace needs seconds an event, such as --pace 1");
                return NC_EXIT_USAGE;
            }
            nc_cli_error("replay: unknown option \"%s\"; see `netcourse replay --help`",
                         argv[optind - 1]);
            return NC_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        nc_cli_error("replay needs a file: `netcourse replay FILE` (a saved run, pcap or pcapng)");
        return NC_EXIT_USAGE;
    }
    if (optind + 1 < argc) {
        nc_cli_error("replay takes one file, not \"%s\" too", argv[optind + 1]);
        return NC_EXIT_USAGE;
    }
    if (pace > 0 && (dump || json)) {
        nc_cli_error("--pace paces the interface; --dump and --json print at once");
        return NC_EXIT_USAGE;
    }
    if (dump && json) {
        nc_cli_error("--dump and --json are two ways to print; pick one");
        return NC_EXIT_USAGE;
    }
    const char *path = argv[optind];
    char err[512];
    nc_match_t *m = NULL;
    if (filter && !(m = nc_match_compile(filter, err, sizeof err))) {
        nc_cli_error("--filter: %s", err);
        return NC_EXIT_USAGE;
    }
    /* The secrets: the file's own, and --keylog's. They live until exit. */
    nc_keylog_t *kl = nc_keylog_new();
    if (keylog && nc_keylog_load(kl, keylog, err, sizeof err) != 0) {
        nc_cli_error("--keylog: %s", err);
        nc_keylog_free(kl);
        nc_match_free(m);
        return NC_EXIT_FAIL;
    }
    nc_replay_use_decryptor(&nc_decrypt_tls, kl);
    if (dump || json) {
        int rc = nc_replay_print(path, json, m);
        nc_match_free(m);
        nc_replay_use_decryptor(NULL, NULL);
        nc_keylog_free(kl);
        return rc;
    }
    nc_match_free(m); /* the interface compiles it again, as the ladder's filter */

    /* The interface: the lessons are optional (a foreign capture needs none). */
    nc_replay_t *probe = nc_replay_open(path, err, sizeof err);
    if (probe == NULL) {
        nc_cli_error("%s", err);
        nc_replay_use_decryptor(NULL, NULL);
        nc_keylog_free(kl);
        return NC_EXIT_FAIL;
    }
    nc_replay_close(probe);
    nc_course_t *course = nc_cli_course();
    char why[640], note[700];
    nc_store_t *st = nc_cli_store_quiet(why, sizeof(why));
    snprintf(note, sizeof(note), "progress will not be kept: %s", why);
    nc_tui_opts_t to = {.course = course, .store = st, .replay_path = path, .filter = filter,
                        .pace = pace,
                        .store_note = st ? NULL : note};
    int rc = nc_tui_main(&to, err, sizeof err) == 0 ? NC_EXIT_OK : NC_EXIT_FAIL;
    if (rc != NC_EXIT_OK)
        nc_cli_error("%s", err);
    if (st)
        nc_store_close(st);
    if (course)
        nc_course_free(course);
    nc_replay_use_decryptor(NULL, NULL);
    nc_keylog_free(kl);
    return rc;
}

const nc_cmd_t nc_cmd_replay = {
    .name = "replay",
    .args = "FILE",
    .about = "replay a saved run or any pcap/pcapng (--dump text, --json JSON Lines)",
    .needs_lab = false,
    .main = nc_replay_main,
};
