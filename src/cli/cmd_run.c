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
#include "../lesson/lesson.h"
#include "../scenario/run.h"
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

/* One event as a line of the text ladder (and its note below it). */
static void nc_run_print_text(const nc_event_t *ev, nc_buf_t *out)
{
    char who[48];
    const char *from = nc_event_str(ev, "from");
    const char *to = nc_event_str(ev, "to");
    if (ev->type == NC_EV_PACKET && from && to)
        snprintf(who, sizeof(who), "%s %s %s", from, nc_event_bool(ev, "dropped") ? "-x" : "->",
                 to);
    else
        snprintf(who, sizeof(who), "%s", ev->host && ev->host[0] ? ev->host : "-");
    nc_buf_printf(out, "%5" PRIu64 " %+11.6f  %-7s %-22s %s\n", ev->i, (double)ev->t_ns / 1e9,
                  nc_event_type_name(ev->type), who, ev->summary);
    if (ev->note)
        nc_buf_printf(out, "%43s%s\n", "", ev->note);
}

static int nc_run_headless(const nc_lesson_t *l, const nc_run_opts_t *o, bool json)
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
                nc_run_print_text(ev, &out);
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
    } else {
        nc_store_t *st = nc_cli_store("the run completed, but progress was not saved: ");
        if (st) {
            nc_store_run_seen(st, l->id);
            nc_store_update_completion(st, l->id, (int)l->ncheckpoints);
            nc_store_close(st);
        }
    }
    nc_run_free(r);
    return rc;
}

static void nc_run_usage(FILE *out)
{
    fprintf(out, "usage: netcourse run LESSON [--headless] [--json] [--seed N] [--link SPEC]\n");
}

static int nc_run_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"headless", no_argument, NULL, 'H'}, {"json", no_argument, NULL, 'j'},
        {"seed", required_argument, NULL, 's'}, {"link", required_argument, NULL, 'l'},
        {"data-dir", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool headless = false, json = false;
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
        case 's': {
            char *end;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || optarg[0] == '-') {
                nc_cli_error("--seed takes a whole number, not \"%s\"", optarg);
                return NC_EXIT_USAGE;
            }
            o.seed = v;
            break;
        }
        case 'l':
            o.link = optarg;
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
    if (optind >= argc) {
        nc_cli_error("run needs a lesson: `netcourse run LESSON`; `netcourse list` shows them");
        return NC_EXIT_USAGE;
    }
    if (optind + 1 < argc) {
        nc_cli_error("run takes one lesson, not \"%s\" too", argv[optind + 1]);
        return NC_EXIT_USAGE;
    }
    if (json && !headless) {
        nc_cli_error("--json goes with --headless");
        return NC_EXIT_USAGE;
    }
    nc_course_t *course = nc_cli_course();
    if (course == NULL)
        return NC_EXIT_FAIL;
    const nc_lesson_t *l = nc_cli_lesson(course, argv[optind]);
    if (l == NULL) {
        nc_course_free(course);
        return NC_EXIT_USAGE;
    }
    int rc;
    if (headless) {
        rc = nc_run_headless(l, &o, json);
    } else {
        char err[512];
        nc_store_t *st = nc_cli_store("");
        if (st == NULL) {
            nc_course_free(course);
            return NC_EXIT_FAIL;
        }
        nc_tui_opts_t to = {
            .course = course, .store = st, .run = o, .start_lesson = l->id, .start_run = true};
        rc = nc_tui_main(&to, err, sizeof(err)) == 0 ? NC_EXIT_OK : NC_EXIT_FAIL;
        if (rc != NC_EXIT_OK)
            nc_cli_error("%s", err);
        nc_store_close(st);
    }
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
