/*
 * runs.c: the saved runs, and the way back to one.
 *
 * The list `netcourse runs` prints, as a view: the runs kept in the data
 * directory, newest first (ui->runs, read from the store when the view is
 * opened with R and freed when it is opened again or the interface ends).
 * ui->runs_sel is the selected row; the list scrolls to keep it in view,
 * and the selected run's file is named under the list. Enter asks tui.c to
 * replay the file (NC_VIEW_REPLAY, ui->replay_path), which opens it in the
 * ladder as `netcourse replay FILE` would.
 */
#include "tui.h"
#include "ui.h"

#include "../scenario/save.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

void nc_tui_bytes(int64_t bytes, char *buf, size_t len)
{
    if (bytes >= 1024 * 1024)
        snprintf(buf, len, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
    else if (bytes >= 1024)
        snprintf(buf, len, "%.1f KiB", (double)bytes / 1024.0);
    else
        snprintf(buf, len, "%" PRId64 " B", bytes);
}

void nc_ui_runs_load(nc_ui_t *ui)
{
    nc_store_saved_free(ui->runs, ui->nruns);
    ui->runs = NULL;
    ui->nruns = 0;
    ui->runs_sel = 0;
    if (!ui->store)
        return;
    uint64_t cap = nc_save_cap();
    nc_save_trim(ui->store, cap ? cap : UINT64_MAX);
    if (nc_store_saved_list(ui->store, &ui->runs, &ui->nruns) < 0) {
        ui->runs = NULL;
        ui->nruns = 0;
    }
}

static void nc_runs_draw(nc_canvas_t *c, nc_ui_t *ui)
{
    char right[64];
    snprintf(right, sizeof right, "%zu run%s kept", ui->nruns, ui->nruns == 1 ? "" : "s");
    nc_ui_title(c, 0, "Saved runs", right);
    nc_canvas_hline(c, 1, 0, c->w, NC_STYLE(0, NC_ROLE_MUTED));
    if (!ui->store) {
        nc_canvas_wrap(c, 3, 2, 3, c->w - 4,
                       "No runs are kept: the data directory cannot be used (see the message "
                       "netcourse gave when it started).",
                       NC_STYLE(0, NC_ROLE_MUTED));
        return;
    }
    if (ui->nruns == 0) {
        nc_canvas_wrap(c, 3, 2, 3, c->w - 4,
                       "No saved runs yet: every lesson run is kept here once it finishes.",
                       NC_STYLE(0, NC_ROLE_MUTED));
        return;
    }
    if (ui->runs_sel >= ui->nruns)
        ui->runs_sel = ui->nruns - 1;
    int ly = 3, lh = c->h - 1 - ly - 3;
    nc_canvas_printf(c, 2, 3, NC_STYLE(NC_A_BOLD, NC_ROLE_MUTED), "%-19s  %-18s %8s %8s %10s",
                     "saved", "lesson", "packets", "events", "size");
    size_t top = ui->runs_sel >= (size_t)lh ? ui->runs_sel - (size_t)lh + 1 : 0;
    for (int r = 0; r < lh && top + (size_t)r < ui->nruns; r++) {
        size_t i = top + (size_t)r;
        const nc_store_saved_t *v = &ui->runs[i];
        char when[32], size[32];
        time_t t = (time_t)v->saved_at;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        nc_tui_bytes(v->bytes, size, sizeof size);
        nc_canvas_printf(c, ly + r, 3, NC_PLAIN, "%-19s  %-18.18s %8" PRId64 " %8" PRId64 " %10s",
                         when, v->lesson[0] ? v->lesson : "-", v->packets, v->events, size);
        if (i == ui->runs_sel) {
            nc_canvas_text(c, ly + r, 1, ui->utf8 ? "▸" : ">", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
            nc_canvas_mark(c, ly + r, 1, c->w - 2, NC_STYLE(NC_A_REVERSE, NC_ROLE_NORMAL));
        }
    }
    int dy = c->h - 1 - 3;
    nc_canvas_hline(c, dy, 0, c->w, NC_STYLE(0, NC_ROLE_MUTED));
    nc_canvas_textn(c, dy + 1, 1, c->w - 2, ui->runs[ui->runs_sel].path, NC_PLAIN, true);
    nc_canvas_textn(c, dy + 2, 1, c->w - 2,
                    "Enter replays it here; Wireshark opens the file as it is.",
                    NC_STYLE(0, NC_ROLE_MUTED), true);
}

static int nc_runs_key(nc_ui_t *ui, nc_action_t a, int key)
{
    size_t n = ui->nruns;
    switch (a) {
    case NC_ACT_UP:
        if (ui->runs_sel > 0)
            ui->runs_sel--;
        break;
    case NC_ACT_DOWN:
        if (ui->runs_sel + 1 < n)
            ui->runs_sel++;
        break;
    case NC_ACT_TOP:
        ui->runs_sel = 0;
        break;
    case NC_ACT_BOTTOM:
        ui->runs_sel = n ? n - 1 : 0;
        break;
    case NC_ACT_OPEN:
        if (ui->runs_sel >= n)
            return NC_VIEW_HANDLED;
        ui->replay_path = ui->runs[ui->runs_sel].path;
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW | NC_VIEW_REPLAY;
    default:
        return 0;
    }
    return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
}

static const nc_action_t nc_runs_footer[] = {
    NC_ACT_UP, NC_ACT_DOWN, NC_ACT_OPEN, NC_ACT_HELP, NC_ACT_BACK, NC_ACT_NONE,
};

const nc_view_t nc_view_runs = {
    .name = "runs",
    .draw = nc_runs_draw,
    .key = nc_runs_key,
    .footer = nc_runs_footer,
    .legend = nc_legend_runs,
};
