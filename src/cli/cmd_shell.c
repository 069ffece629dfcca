/*
 * cmd_shell.c: `netcourse shell LESSON [HOST]`: a shell inside a lab host.
 *
 * The lesson's lab is built and its programs are run, except those of HOST
 * (default "client"): the student is that host. Servers stay up until the
 * student leaves. The user's shell then runs inside HOST (shell.h: its
 * network namespace, a prompt naming it, $SERVER ...). Everything on
 * the lab's wire is captured meanwhile, the student's own traffic
 * included; when the shell exits the lab is torn down and the timeline is
 * printed, decoded and annotated (--json: as JSON Lines; --save FILE keeps
 * the run). With -c CMD the shell runs that command instead of reading the
 * terminal.
 */
#include "cli.h"

#include "../core/buf.h"
#include "../lab/lab.h"
#include "../lesson/lesson.h"
#include "../scenario/run.h"
#include "../scenario/save.h"
#include "../scenario/shell.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nc_shell_usage(FILE *out)
{
    fprintf(out, "usage: netcourse shell LESSON [HOST] [-c COMMAND] [--json] [--save FILE]\n");
}

static void nc_shell_nap(void)
{
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits until the servers listen (an app event "listen"), the run ends, or
 * two seconds pass. */
static void nc_shell_wait_ready(nc_run_t *r)
{
    nc_timeline_t *tl = nc_run_timeline(r);
    for (int k = 0; k < 200; k++) {
        if (nc_run_poll(r))
            return;
        for (size_t i = 0; i < nc_timeline_count(tl); i++) {
            const nc_event_t *ev = nc_timeline_get(tl, i);
            const char *call = ev->type == NC_EV_APP ? nc_event_str(ev, "call") : NULL;
            if (call && strcmp(call, "listen") == 0)
                return;
        }
        nc_shell_nap();
    }
}

static int nc_shell_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"save", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    bool json = false;
    const char *save = NULL, *cmd = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'S':
            save = optarg;
            break;
        case 'c':
            cmd = optarg;
            break;
        case 'h':
            nc_shell_usage(stdout);
            return NC_EXIT_OK;
        default:
            nc_cli_error("shell: unknown option \"%s\"; see `netcourse shell --help`",
                         argv[optind - 1]);
            return NC_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        nc_cli_error("shell needs a lesson: `netcourse shell LESSON [HOST]`");
        return NC_EXIT_USAGE;
    }
    const char *host = optind + 1 < argc ? argv[optind + 1] : "client";
    if (optind + 2 < argc) {
        nc_cli_error("shell takes a lesson and a host, not \"%s\" too", argv[optind + 2]);
        return NC_EXIT_USAGE;
    }
    nc_course_t *course;
    const nc_lesson_t *l;
    int status = nc_cli_lesson_arg("shell", optind + 1, argv, optind, &course, &l);
    if (status != NC_EXIT_OK)
        return status;
    char err[512];
    nc_run_opts_t o = {.shell_host = host};
    nc_run_t *r = nc_run_start(l, &o, err, sizeof err);
    if (!r) {
        nc_cli_error("%s", err);
        nc_course_free(course);
        return NC_EXIT_FAIL;
    }
    int rc = NC_EXIT_OK;
    if (nc_lab_host_netns(nc_run_lab(r), host) < 0) {
        nc_cli_error("the %s lab of lesson \"%s\" has no host \"%s\"", l->topology, l->id, host);
        rc = NC_EXIT_USAGE;
    }
    pid_t pid = -1;
    if (rc == NC_EXIT_OK) {
        nc_shell_wait_ready(r);
        /* The terminal's ^C is the shell's: netcourse waits it out. */
        signal(SIGINT, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        pid = nc_shell_spawn(nc_run_lab(r), host, cmd, err, sizeof err);
        if (pid < 0) {
            nc_cli_error("%s", err);
            rc = NC_EXIT_FAIL;
        }
    }
    int wstatus = 0;
    while (pid > 0) {
        nc_run_poll(r);
        pid_t w = waitpid(pid, &wstatus, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            break;
        nc_shell_nap();
    }
    if (pid > 0)
        nc_shell_reclaim_terminal();
    /* The student left: the lab goes, and the timeline is shown. */
    nc_run_stop(r);
    while (!nc_run_poll(r))
        nc_shell_nap();
    nc_timeline_t *tl = nc_run_timeline(r);
    nc_buf_t out;
    nc_buf_init(&out);
    for (size_t i = 0; i < nc_timeline_count(tl); i++) {
        if (json) {
            nc_event_json(nc_timeline_get(tl, i), &out);
            nc_buf_putc(&out, '\n');
        } else {
            nc_event_text(nc_timeline_get(tl, i), &out);
        }
    }
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    fflush(stdout);
    nc_buf_done(&out);
    if (pid > 0 && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) >= 126) {
        nc_cli_error("the shell could not be started inside %s", host);
        rc = NC_EXIT_FAIL;
    }
    if (save && nc_save_run(r, save, err, sizeof err) < 0) {
        nc_cli_error("%s", err);
        rc = NC_EXIT_FAIL;
    }
    nc_run_free(r);
    nc_course_free(course);
    return rc;
}

const nc_cmd_t nc_cmd_shell = {
    .name = "shell",
    .args = "LESSON [HOST]",
    .about = "a shell inside a host of the lesson's lab; its traffic is captured and explained",
    .needs_lab = true,
    .main = nc_shell_main,
};
