/*
 * cmd_run.c: `netcourse run LESSON`: a lesson's live run.
 *
 * Without --headless it opens the TUI at the lesson. With --headless it runs
 * the scenario and prints the timeline as it is published: a readable ladder
 * by default, or with --json the EVENTS.md stream, one object per line and
 * nothing else on stdout. Exit status 0 means the run completed.
 */
#include "cli.h"

#include "../core/buf.h"
#include "../core/clock.h"
#include "../lab/lab.h"
#include "../lesson/lesson.h"
#include "../scenario/run.h"
#include "../scenario/save.h"
#include "../store/store.h"
#include "../tui/tui.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t nc_run_interrupted;

static void nc_run_on_signal(int sig)
{
    nc_run_interrupted = 1;
}

/* st may be NULL: the run goes on, and progress is not kept (said once,
 * by the caller, before the run). */
static int nc_run_headless(const nc_lesson_t *l, const nc_run_opts_t *o, bool json,
                           const char *save, nc_store_t *st)
{
    char err[512];
    nc_run_t *r = nc_run_start(l, o, err, sizeof(err));
    if (r == NULL) {
        nc_cli_error("%s", err);
        return NC_EXIT_FAIL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = nc_run_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    nc_timeline_t *tl = nc_run_timeline(r);
    size_t shown = 0;
    nc_buf_t out;
    nc_buf_init(&out);
    bool done = false;
    while (!done) {
        if (nc_run_interrupted) {
            nc_run_stop(r);
            nc_run_poll(r);
        }
        done = nc_run_poll(r);
        size_t n = nc_timeline_count(tl);
        for (; shown < n; shown++) {
            const nc_event_t *ev = nc_timeline_get(tl, shown);
            if (json) {
                nc_event_json(ev, &out);
                nc_buf_putc(&out, '\n');
            } else {
                nc_event_text(ev, &out);
            }
        }
        if (out.len) {
            fwrite(out.data, 1, out.len, stdout);
            fflush(stdout);
            nc_buf_reset(&out);
        }
        if (!done) {
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    nc_buf_done(&out);
    int status = nc_run_status(r, err, sizeof(err));
    int rc = NC_EXIT_OK;
    if (nc_run_interrupted) {
        nc_cli_error("the run of \"%s\" was interrupted; its lab has been removed", l->id);
        rc = NC_EXIT_INTERRUPTED;
    } else if (status != 0) {
        nc_cli_error("the run of \"%s\" failed: %s", l->id, err);
        rc = NC_EXIT_FAIL;
    } else if (st) {
        nc_store_run_seen(st, l->id);
        nc_store_update_completion(st, l->id, (int)l->ncheckpoints);
        if (nc_save_auto(r, st, NULL, err, sizeof(err)) < 0)
            nc_cli_error("the run was not kept in the data directory: %s", err);
    }
    if (save && !nc_run_interrupted && nc_save_run(r, save, err, sizeof(err)) < 0) {
        nc_cli_error("%s", err);
        rc = NC_EXIT_FAIL;
    }
    nc_run_free(r);
    return rc;
}

static void nc_run_usage(FILE *out)
{
    fprintf(out, "usage: netcourse run LESSON [--headless] [--json] [--seed N] [--link SPEC] "
                 "[--save FILE] [--nat KIND]\n");
}

static int nc_run_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"headless", no_argument, NULL, 'H'}, {"json", no_argument, NULL, 'j'},
        {"seed", required_argument, NULL, 's'}, {"link", required_argument, NULL, 'l'},
        {"data-dir", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
        {"save", required_argument, NULL, 'S'},
        {"nat", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    bool headless = false, json = false;
    const char *save = NULL;
    nc_run_opts_t o = {0};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H':
            headless = true;
            break;
        case 'j':
            json = true;
            break;
        case 's':
            if (!nc_cli_seed(optarg, &o.seed))
                return NC_EXIT_USAGE;
            break;
        case 'l':
            if (!nc_cli_link(optarg))
                return NC_EXIT_USAGE;
            o.link = optarg;
            break;
        case 'S':
            save = optarg;
            break;
        case 'n':
            if (!nc_lab_nat_known(optarg)) {
                nc_cli_error("run: unknown NAT behaviour \"%s\"; expected one of %s", optarg,
                             nc_lab_nat_names());
                return NC_EXIT_USAGE;
            }
            o.nat = optarg;
            break;
        case 'd':
            nc_cli_data_dir = optarg;
            break;
        case 'h':
            nc_run_usage(stdout);
            return NC_EXIT_OK;
        default:
            nc_cli_error("run: unknown option \"%s\"; see `netcourse run --help`",
                         argv[optind - 1]);
            return NC_EXIT_USAGE;
        }
    }
    if (json && !headless) {
        nc_cli_error("--json goes with --headless");
        return NC_EXIT_USAGE;
    }
    nc_course_t *course;
    const nc_lesson_t *l;
    int status = nc_cli_lesson_arg("run", argc, argv, optind, &course, &l);
    if (status != NC_EXIT_OK)
        return status;
    /* A data directory that cannot be used stops no run: it is said once,
     * before the run, that progress will not be kept, and why. */
    char why[640];
    nc_store_t *st = nc_cli_store_quiet(why, sizeof(why));
    char note[700] = "";
    if (st == NULL)
        snprintf(note, sizeof(note), "progress will not be kept: %s", why);
    int rc;
    if (headless) {
        if (st == NULL)
            nc_cli_error("%s", note);
        rc = nc_run_headless(l, &o, json, save, st);
    } else {
        char err[512];
        nc_tui_opts_t to = {
            .course = course, .store = st, .run = o, .start_lesson = l->id, .start_run = true,
            .save_path = save, .store_note = st ? NULL : note};
        rc = nc_tui_main(&to, err, sizeof(err)) == 0 ? NC_EXIT_OK : NC_EXIT_FAIL;
        if (rc != NC_EXIT_OK)
            nc_cli_error("%s", err);
    }
    if (st)
        nc_store_close(st);
    nc_course_free(course);
    return rc;
}

const nc_cmd_t nc_cmd_run = {
    .name = "run",
    .args = "LESSON",
    .about = "run a lesson live (--headless prints the timeline, --json as JSON Lines)",
    .needs_lab = true,
    .main = nc_run_main,
};
