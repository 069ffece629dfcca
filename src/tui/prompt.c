/*
 * prompt.c: the one-line prompt of the ladder's `/`, `:` and `&`.
 *
 * An overlay (nc_view_prompt) drawn on the row above the footer: the
 * prompt's character, what was typed (ui->nav->line) and a cursor. It is an
 * input view: every key comes to it as text, so `?` or `r` typed in a
 * search are letters, not commands. Enter hands the line to nav.c (search,
 * go to, filter) and closes the prompt; Esc closes it and changes nothing.
 * A filter that does not compile keeps the prompt open with the reason
 * under it, so the user can fix it; an empty one shows every event again
 * (the conversation chosen in convs.c too).
 */
#include "nav.h"

#include "../core/buf.h"

#include <stdio.h>
#include <string.h>

void nc_nav_prompt(nc_ui_t *ui, int kind)
{
    if (!ui->nav)
        nc_nav_set_conv(ui, NULL); /* makes ui->nav, filters nothing */
    nc_nav_t *nav = ui->nav;
    nav->prompt = kind;
    /* A filter is edited from its current text; a search starts afresh. */
    snprintf(nav->line, sizeof nav->line, "%s", kind == '&' ? nav->filter : "");
    nav->error[0] = '\0';
    ui->notice[0] = '\0';
    nc_ui_push(ui, &nc_view_prompt);
}

static const char *nc_prompt_label(int kind)
{
    return kind == '/' ? "search: /" : kind == ':' ? "go to event #" : "filter: ";
}

static void nc_prompt_draw(nc_canvas_t *c, nc_ui_t *ui)
{
    if (!ui->nav)
        return;
    int y = c->h - 2;
    nc_canvas_fill(c, y, 0, 1, c->w, ' ', NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
    int x = nc_canvas_text(c, y, 1, nc_prompt_label(ui->nav->prompt),
                           NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
    x = nc_canvas_textn(c, y, x, c->w - x - 2, ui->nav->line, NC_PLAIN, true);
    nc_canvas_text(c, y, x, "_", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
    if (ui->nav->error[0]) {
        nc_canvas_fill(c, y - 1, 0, 1, c->w, ' ', NC_PLAIN);
        nc_canvas_textn(c, y - 1, 1, c->w - 2, ui->nav->error, NC_STYLE(NC_A_BOLD, NC_ROLE_BAD),
                        true);
    }
}

static int nc_prompt_commit(nc_ui_t *ui)
{
    nc_nav_t *nav = ui->nav;
    int kind = nav->prompt;
    char line[sizeof nav->line];
    snprintf(line, sizeof line, "%s", nav->line);
    ui->notice[0] = '\0';
    if (kind == '&') {
        if (nc_nav_set_filter(ui, line, nav->error, sizeof nav->error) < 0)
            return NC_VIEW_HANDLED | NC_VIEW_REDRAW; /* stays open to be fixed */
        if (!nav->filter[0])
            nc_nav_set_conv(ui, NULL); /* an empty filter shows every event again */
        nav->prompt = 0;
        nc_ui_pop(ui);
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    nc_ui_pop(ui);
    nav->prompt = 0;
    if (kind == ':')
        return line[0] ? nc_nav_goto(ui, line) : NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    nc_nav_search(ui, line);
    return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
}

static int nc_prompt_key(nc_ui_t *ui, nc_action_t a, int key)
{
    nc_nav_t *nav = ui->nav;
    size_t n = strlen(nav->line);
    nav->error[0] = '\0'; /* said until the next key */
    if (key == NC_KEY_ESC) {
        nav->prompt = 0;
        nc_ui_pop(ui);
    } else if (key == NC_KEY_ENTER || key == '\r') {
        return nc_prompt_commit(ui);
    } else if (key == NC_KEY_BACKSPACE) {
        /* Back over one UTF-8 character. */
        while (n > 0 && ((unsigned char)nav->line[n - 1] & 0xC0) == 0x80)
            n--;
        nav->line[n > 0 ? n - 1 : 0] = '\0';
    } else if (key >= ' ' && key < NC_KEY_SPECIAL) {
        nc_buf_t b;
        nc_buf_init(&b);
        nc_utf8_put(&b, (uint32_t)key);
        if (n + b.len < sizeof nav->line) {
            memcpy(nav->line + n, b.data, b.len);
            nav->line[n + b.len] = '\0';
        }
        nc_buf_done(&b);
    }
    return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
}

static const nc_action_t nc_prompt_footer[] = {NC_ACT_OPEN, NC_ACT_BACK, NC_ACT_NONE};

const nc_view_t nc_view_prompt = {
    .name = "prompt",
    .draw = nc_prompt_draw,
    .key = nc_prompt_key,
    .footer = nc_prompt_footer,
    .overlay = true,
    .input = true,
};
