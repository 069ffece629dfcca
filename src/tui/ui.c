/*
 * ui.c: the view stack, rendering, key dispatch and checkpoint bookkeeping.
 *
 * The stack holds the views the user went through (map -> reader -> ladder
 * -> inspector); the top one gets keys and, with the overlays on it, is
 * drawn. Rendering is a pure function of nc_ui_t and the canvas size, which
 * is what makes the snapshot tests possible: a terminal smaller than 80x24
 * always gets the too-small view instead, whatever the stack holds.
 *
 * Checkpoint answers live in ui->answers, one per checkpoint of the current
 * source. An answer is given at once; it is written to the store only when
 * the run has decided the right choice, so a stored answer always carries
 * whether it was right.
 */
#include "ui.h"

#include "nav.h"

#include "../core/error.h"
#include "../core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const nc_view_t *const nc_views[] = {
    &nc_view_map, &nc_view_reader, &nc_view_ladder, &nc_view_inspector,
    &nc_view_help, &nc_view_toosmall, &nc_view_dashboard, &nc_view_classbox, &nc_view_runs,
    &nc_view_convs, &nc_view_prompt, &nc_view_compare, &nc_view_pair, NULL,
};

void nc_ui_init(nc_ui_t *ui, const nc_course_t *course, nc_store_t *store, bool utf8)
{
    memset(ui, 0, sizeof *ui);
    ui->course = course;
    ui->store = store;
    ui->utf8 = utf8;
    ui->stack[0] = &nc_view_map;
    ui->depth = 1;
    ui->follow = true;
}

void nc_ui_done(nc_ui_t *ui)
{
    free(ui->answers);
    ui->answers = NULL;
    ui->nanswers = 0;
    nc_store_saved_free(ui->runs, ui->nruns);
    ui->runs = NULL;
    ui->nruns = 0;
    nc_nav_free(ui->nav);
    ui->nav = NULL;
}

const nc_view_t *nc_ui_view(const char *name)
{
    for (size_t i = 0; nc_views[i]; i++)
        if (strcmp(nc_views[i]->name, name) == 0)
            return nc_views[i];
    return NULL;
}

const nc_view_t *nc_ui_top(const nc_ui_t *ui)
{
    return ui->stack[ui->depth - 1];
}

void nc_ui_push(nc_ui_t *ui, const nc_view_t *v)
{
    if (ui->depth < NC_UI_STACK)
        ui->stack[ui->depth++] = v;
    else
        ui->stack[ui->depth - 1] = v;
}

bool nc_ui_pop(nc_ui_t *ui)
{
    if (ui->depth <= 1)
        return false;
    ui->depth--;
    return true;
}

void nc_ui_open_lesson(nc_ui_t *ui, const nc_lesson_t *l)
{
    ui->lesson = l;
    ui->page = 0;
    ui->scroll = 0;
    for (size_t i = 0; ui->course && i < ui->course->nlessons; i++)
        if (ui->course->lessons[i] == l)
            ui->map_sel = i;
    nc_progress_t p;
    if (ui->store && nc_store_progress(ui->store, l->id, &p) == 0 && p.page > 0 &&
        (size_t)p.page < l->npages)
        ui->page = p.page;
}

void nc_ui_set_source(nc_ui_t *ui, const nc_ui_source_t *src)
{
    ui->src = *src;
    ui->cursor = 0;
    ui->top = 0;
    ui->follow = true;
    ui->layer = 0;
    ui->insp_scroll = 0;
    ui->insp_layer[0] = '\0';
    ui->place[0] = '\0';
    ui->notice[0] = '\0';
    ui->compare_shown = false;
    nc_nav_free(ui->nav); /* its index and filter were the old source's */
    ui->nav = NULL;
    while (ui->depth > 1 && nc_ui_top(ui) == &nc_view_prompt)
        nc_ui_pop(ui);
    free(ui->answers);
    ui->nanswers = src->checkpoint_count ? src->checkpoint_count(src->ctx) : 0;
    ui->answers = nc_xcalloc(ui->nanswers + 1, sizeof *ui->answers);
    for (size_t k = 0; k < ui->nanswers; k++)
        ui->answers[k].choice = -1;
}

size_t nc_ui_visible(nc_ui_t *ui)
{
    if (!ui->src.tl)
        return 0;
    size_t vis = nc_timeline_count(ui->src.tl);
    if (ui->src.limit) {
        size_t lim = ui->src.limit(ui->src.ctx);
        if (lim < vis)
            vis = lim;
    }
    for (size_t k = 0; k < ui->nanswers; k++) {
        nc_run_checkpoint_t cp;
        ui->src.checkpoint(ui->src.ctx, k, &cp);
        /* The asked mark itself is shown; what follows waits for the answer. */
        if (cp.asked_at >= 0 && ui->answers[k].choice < 0 && (size_t)cp.asked_at < vis)
            vis = (size_t)cp.asked_at + 1;
    }
    return vis;
}

const nc_event_t *nc_ui_current(nc_ui_t *ui)
{
    size_t vis = nc_ui_visible(ui);
    if (vis == 0)
        return NULL;
    if (ui->cursor >= vis)
        ui->cursor = vis - 1;
    return nc_timeline_get(ui->src.tl, ui->cursor);
}

bool nc_ui_tick(nc_ui_t *ui)
{
    bool changed = false;
    for (size_t k = 0; k < ui->nanswers; k++) {
        nc_ui_answer_t *a = &ui->answers[k];
        if (a->choice < 0 || a->stored)
            continue;
        nc_run_checkpoint_t cp;
        ui->src.checkpoint(ui->src.ctx, k, &cp);
        if (cp.right < 0 || !cp.cp)
            continue;
        if (ui->store && ui->lesson && (size_t)a->choice < cp.cp->nchoices)
            nc_store_answer(ui->store, ui->lesson->id, cp.cp->id,
                            cp.cp->choices[a->choice].key, a->choice == cp.right);
        a->stored = true;
        changed = true;
    }
    return changed;
}

void nc_ui_title(nc_canvas_t *c, int y, const char *left, const char *right)
{
    int rw = right ? nc_text_width(right) : 0;
    nc_canvas_textn(c, y, 1, c->w - rw - 3, left, NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT), true);
    if (right)
        nc_canvas_text(c, y, c->w - rw - 1, right, NC_STYLE(0, NC_ROLE_MUTED));
}

void nc_ui_footer(nc_canvas_t *c, const nc_ui_t *ui, const nc_action_t *acts)
{
    int y = c->h - 1, x = 1;
    nc_canvas_fill(c, y, 0, 1, c->w, ' ', NC_STYLE(NC_A_REVERSE, NC_ROLE_NORMAL));
    for (size_t i = 0; acts && acts[i] != NC_ACT_NONE; i++) {
        char keys[64];
        nc_action_keys(acts[i], "/", keys, sizeof keys, ui->utf8);
        /* Two keys at most keep the footer on one line: "↑/k up". */
        char *second = strchr(keys, '/');
        if (second && strchr(second + 1, '/'))
            *strchr(second + 1, '/') = '\0';
        const char *label = nc_action_label(acts[i]);
        for (const nc_view_label_t *l = nc_ui_top(ui)->labels; l && l->action != NC_ACT_NONE; l++)
            if (l->action == acts[i])
                label = l->label;
        int need = nc_text_width(keys) + 1 + nc_text_width(label) + 2;
        if (x + need > c->w)
            break;
        x = nc_canvas_text(c, y, x, keys, NC_STYLE(NC_A_REVERSE | NC_A_BOLD, NC_ROLE_NORMAL));
        x = nc_canvas_text(c, y, x + 1, label, NC_STYLE(NC_A_REVERSE, NC_ROLE_NORMAL));
        x += 2;
    }
}

void nc_ui_render(nc_ui_t *ui, nc_canvas_t *c)
{
    nc_canvas_clear(c);
    c->utf8 = ui->utf8;
    ui->w = c->w;
    ui->h = c->h;
    if (c->w < NC_UI_MIN_W || c->h < NC_UI_MIN_H) {
        nc_view_toosmall.draw(c, ui);
        return;
    }
    /* Draw from the deepest opaque view up through the overlays on it. */
    int from = ui->depth - 1;
    while (from > 0 && ui->stack[from]->overlay)
        from--;
    for (int i = from; i < ui->depth; i++)
        ui->stack[i]->draw(c, ui);
    const nc_view_t *top = nc_ui_top(ui);
    nc_ui_footer(c, ui, top == &nc_view_ladder && ui->src.footer ? ui->src.footer : top->footer);
    /* The ladder's filter and search, at the footer's right. */
    char nav[320];
    nc_nav_describe(ui, nav, sizeof nav);
    if (nav[0] && !ui->class_line[0] && (top == &nc_view_ladder || top == &nc_view_prompt)) {
        int w = nc_text_width(nav) + 2;
        int x = c->w - w > c->w / 2 ? c->w - w : c->w / 2;
        nc_canvas_fill(c, c->h - 1, x, 1, c->w - x, ' ', NC_STYLE(NC_A_REVERSE, NC_ROLE_ACCENT));
        nc_canvas_textn(c, c->h - 1, x + 1, c->w - x - 1, nav,
                        NC_STYLE(NC_A_REVERSE | NC_A_BOLD, NC_ROLE_ACCENT), true);
    }
    if (ui->banner[0]) {
        int lines = nc_canvas_wrap(c, 0, 1, 0, c->w - 2, ui->banner, NC_PLAIN);
        int y = c->h - 1 - lines;
        nc_canvas_fill(c, y, 0, lines, c->w, ' ', NC_STYLE(NC_A_REVERSE, NC_ROLE_BAD));
        nc_canvas_wrap(c, y, 1, lines, c->w - 2, ui->banner,
                       NC_STYLE(NC_A_REVERSE | NC_A_BOLD, NC_ROLE_BAD));
    }
    if (ui->class_line[0]) {
        int w = nc_text_width(ui->class_line) + 2;
        int x = c->w - w > c->w / 3 ? c->w - w : c->w / 3;
        nc_canvas_fill(c, c->h - 1, x, 1, c->w - x, ' ', NC_STYLE(NC_A_REVERSE, NC_ROLE_ACCENT));
        nc_canvas_textn(c, c->h - 1, x + 1, c->w - x - 1, ui->class_line,
                        NC_STYLE(NC_A_REVERSE | NC_A_BOLD, NC_ROLE_ACCENT), true);
    }
}

int nc_ui_key(nc_ui_t *ui, int key)
{
    nc_action_t a = nc_key_action(key);
    ui->banner[0] = '\0'; /* said once: the first key dismisses it */
    if (ui->w && ui->h && (ui->w < NC_UI_MIN_W || ui->h < NC_UI_MIN_H))
        return a == NC_ACT_QUIT ? NC_VIEW_QUIT : 0;
    const nc_view_t *top = nc_ui_top(ui);
    if (top->input) /* a prompt takes every key as text */
        return top->key(ui, a, key);
    if (a == NC_ACT_HELP) {
        ui->help_scroll = 0;
        if (top == &nc_view_help)
            nc_ui_pop(ui);
        else
            nc_ui_push(ui, &nc_view_help);
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    /* r would throw away the live run on screen: the first r asks, a second
     * one confirms, any other key keeps the run. */
    bool confirmed = ui->confirm_run && a == NC_ACT_RUN;
    ui->confirm_run = false;
    if (a == NC_ACT_RUN && !confirmed && ui->src.tl && !ui->src.limit && !ui->join &&
        !ui->teach && !top->overlay) {
        ui->confirm_run = true;
        if (!ui->src.done)
            snprintf(ui->banner, sizeof ui->banner,
                     "This run is still going. Press r again to stop it and start a new one; "
                     "any other key keeps it.");
        else
            snprintf(ui->banner, sizeof ui->banner,
                     "Start a new run? Press r again (%s); any other key keeps this one on "
                     "screen.",
                     ui->store ? "this one is kept: R lists the saved runs"
                               : "this one is not kept: s saves it first");
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    /* In a class the ladder is the class's: the saved runs wait until after. */
    if (a == NC_ACT_RUNS && top != &nc_view_runs && !top->overlay && !ui->teach && !ui->join) {
        nc_ui_runs_load(ui);
        nc_ui_push(ui, &nc_view_runs);
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    int flags = top->key ? top->key(ui, a, key) : 0;
    if (flags & NC_VIEW_HANDLED)
        return flags;
    if (a == NC_ACT_BACK || a == NC_ACT_QUIT) {
        if (nc_ui_pop(ui))
            return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
        if (a == NC_ACT_QUIT)
            return NC_VIEW_HANDLED | NC_VIEW_QUIT;
    }
    return flags;
}

int nc_tui_render_text(nc_ui_t *ui, const char *view, int w, int h, nc_buf_t *out)
{
    if (view) {
        const nc_view_t *v = nc_ui_view(view);
        if (!v)
            return NC_ENOENT;
        if (nc_ui_top(ui) != v)
            nc_ui_push(ui, v);
    }
    nc_canvas_t *c = nc_canvas_new(w, h, ui->utf8);
    nc_ui_render(ui, c);
    nc_canvas_to_text(c, out);
    nc_canvas_free(c);
    return 0;
}
