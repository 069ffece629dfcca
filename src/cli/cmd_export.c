/*
 * cmd_export.c: `netcourse export FILE --svg OUT | --mermaid OUT`.
 *
 * Reads a saved run or capture as `replay` does and draws its ladder as a
 * sequence diagram (diagram.h): SVG for slides, Mermaid for documents.
 * --from I and --to J keep events I..J (the indexes `replay --dump` and the
 * ladder show); OUT "-" is standard output. --compare-svg OUT draws the
 * run's comparison instead (a lesson's compare block: each way's time to
 * first and last byte as bars, and its numbers; compare_svg.c).
 */
#include "cli.h"

#include "../core/buf.h"
#include "../runfile/diagram.h"
#include "../runfile/replay.h"
#include "../scenario/compare.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool nc_export_index(const char *arg, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || arg[0] == '-' || errno)
        return false;
    *out = v;
    return true;
}

static int nc_export_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"svg", required_argument, NULL, 's'},  {"mermaid", required_argument, NULL, 'm'},
        {"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},
        {"compare-svg", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    const char *svg = NULL, *mermaid = NULL, *chart = NULL;
    uint64_t from = 0, to = UINT64_MAX;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            svg = optarg;
            break;
        case 'm':
            mermaid = optarg;
            break;
        case 'c':
            chart = optarg;
            break;
        case 'f':
        case 't':
            if (!nc_export_index(optarg, c == 'f' ? &from : &to)) {
                nc_cli_error("--%s takes an event number, not \"%s\"", c == 'f' ? "from" : "to",
                             optarg);
                return NC_EXIT_USAGE;
            }
            break;
        case 'h':
            printf("usage: netcourse export FILE [--svg OUT] [--mermaid OUT] [--compare-svg OUT] "
                   "[--from I] [--to J]\n");
            return NC_EXIT_OK;
        default:
            nc_cli_error("export: unknown option \"%s\"; see `netcourse export --help`",
                         argv[optind - 1]);
            return NC_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        nc_cli_error("export needs a file: `netcourse export FILE --svg OUT`");
        return NC_EXIT_USAGE;
    }
    if (optind + 1 < argc) {
        nc_cli_error("export takes one file, not \"%s\" too", argv[optind + 1]);
        return NC_EXIT_USAGE;
    }
    if (!svg && !mermaid && !chart) {
        nc_cli_error("export needs --svg OUT, --mermaid OUT or --compare-svg OUT");
        return NC_EXIT_USAGE;
    }
    if (from > to) {
        nc_cli_error("--from %" PRIu64 " comes after --to %" PRIu64, from, to);
        return NC_EXIT_USAGE;
    }
    const char *path = argv[optind];
    char err[512];
    nc_replay_t *r = nc_replay_open(path, err, sizeof err);
    if (r == NULL) {
        nc_cli_error("%s", err);
        return NC_EXIT_FAIL;
    }
    nc_diagram_t *d = nc_diagram_new();
    nc_evb_t b;
    nc_evb_init(&b);
    nc_compare_table_t table;
    bool compared = false;
    int rc;
    while ((rc = nc_replay_next(r, &b, err, sizeof err)) == 1 && b.ev.i <= to) {
        if (b.ev.i < from)
            continue;
        b.ev.t_ns -= nc_replay_t0(r);
        nc_diagram_add(d, &b.ev);
        if (chart && b.ev.type == NC_EV_NOTE && nc_compare_from_event(&b.ev, &table))
            compared = true;
    }
    const nc_runfile_info_t *info = nc_replay_info(r);
    char title[256];
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (info && info->lesson)
        snprintf(title, sizeof title, "netcourse: lesson \"%s\" (%s)", info->lesson, base);
    else
        snprintf(title, sizeof title, "netcourse: %s", base);
    nc_evb_done(&b);
    nc_replay_close(r);
    int status = NC_EXIT_OK;
    if (rc < 0) {
        nc_cli_error("%s: %s", path, err);
        status = NC_EXIT_FAIL;
    } else if (nc_diagram_count(d) == 0) {
        nc_cli_error("%s has no events in the range asked for", path);
        status = NC_EXIT_USAGE;
    }
    nc_buf_t out;
    nc_buf_init(&out);
    if (status == NC_EXIT_OK && svg) {
        nc_diagram_svg(d, title, &out);
        status = nc_cli_write(svg, &out);
    }
    if (status == NC_EXIT_OK && chart && !compared) {
        nc_cli_error("%s has no comparison: only a lesson with a compare block ends with one",
                     path);
        status = NC_EXIT_FAIL;
    }
    if (status == NC_EXIT_OK && chart) {
        nc_buf_reset(&out);
        nc_compare_svg_table(&table, &out);
        status = nc_cli_write(chart, &out);
    }
    if (status == NC_EXIT_OK && mermaid) {
        nc_buf_reset(&out);
        nc_diagram_mermaid(d, title, &out);
        status = nc_cli_write(mermaid, &out);
    }
    nc_buf_done(&out);
    nc_diagram_free(d);
    return status;
}

const nc_cmd_t nc_cmd_export = {
    .name = "export",
    .args = "FILE",
    .about = "draw a run as a sequence diagram (--svg OUT, --mermaid OUT; --from/--to)",
    .needs_lab = false,
    .main = nc_export_main,
};
