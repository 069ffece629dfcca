/*
 * pipeline.c: decode -> annotate -> timeline (see pipeline.h).
 *
 * Data model: a pipeline is a decoder (its flow table, stream decoders and
 * TLS state: everything that makes packet N's decoding depend on packets
 * before it), the builder nc_pipeline_push builds into, and the timeline it
 * adds to, borrowed. A record's fields are applied after decoding, so that
 * "dropped" replaces the decoder's own (a packet the wire dropped), and the
 * record's note replaces the generic annotation: the note a run wrote is
 * the generic one plus whatever the lesson put before it, so annotating
 * again would be wasted work and could disagree with the run.
 */
#include "pipeline.h"

#include "../annotate/annotate.h"
#include "../core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every top-level packet field that no decoder writes: the wire's
 * (dropped, wire) and the run's (student: the student's own traffic). */
const char *const nc_pipeline_record_keys[] = {"dropped", "wire", "student"};
const size_t nc_pipeline_nrecord_keys =
    sizeof nc_pipeline_record_keys / sizeof nc_pipeline_record_keys[0];

struct nc_pipeline {
    nc_decoder_t *dec;
    nc_timeline_t *tl; /* borrowed, or NULL */
    nc_evb_t b;        /* what nc_pipeline_push builds into */
};

bool nc_pipeline_is_record_key(const char *key)
{
    for (size_t j = 0; key && j < nc_pipeline_nrecord_keys; j++)
        if (strcmp(key, nc_pipeline_record_keys[j]) == 0)
            return true;
    return false;
}

nc_pipeline_t *nc_pipeline_new(const nc_decryptor_t *dec, void *ctx, nc_timeline_t *tl)
{
    nc_pipeline_t *p = nc_xcalloc(1, sizeof *p);
    p->dec = nc_decoder_new();
    nc_decoder_set_decryptor(p->dec, dec, ctx);
    p->tl = tl;
    nc_evb_init(&p->b);
    return p;
}

void nc_pipeline_free(nc_pipeline_t *p)
{
    if (p == NULL)
        return;
    nc_decoder_free(p->dec);
    nc_evb_done(&p->b);
    free(p);
}

void nc_pipeline_name_host(nc_pipeline_t *p, const char *addr, const char *name)
{
    nc_decoder_name_host(p->dec, addr, name);
}

nc_decoder_t *nc_pipeline_decoder(nc_pipeline_t *p)
{
    return p->dec;
}

void nc_pipeline_annotate(nc_evb_t *b)
{
    nc_annotate_event(b);
}

/* The note a packet the wire dropped leads with: its verdict's reason,
 * and who never gets it. */
static void nc_pipeline_apply_keys(nc_evb_t *b, const nc_evb_t *extra, bool record);

static void nc_pipeline_verdict(nc_evb_t *b)
{
    const nc_event_t *ev = nc_evb_view(b);
    const char *reason = nc_event_str(ev, "wire.reason");
    if (!nc_event_bool(ev, "dropped") || reason == NULL)
        return;
    const char *from = nc_event_str(ev, "from");
    const char *to = nc_event_str(ev, "to");
    char note[400];
    snprintf(note, sizeof note,
             "Dropped by the lesson's wire (%s). It left the %s but never reaches the %s.", reason,
             from ? from : "sender", to ? to : "receiver");
    nc_evb_note_first(b, note);
}

int nc_pipeline_build(nc_pipeline_t *p, const nc_frame_t *f, const nc_pipeline_rec_t *rec,
                      nc_evb_t *b)
{
    nc_evb_reset(b, NC_EV_PACKET, f->ts_ns);
    int rc = nc_decoder_packet(p->dec, f->linktype, f->data, f->caplen, f->wirelen, b);
    b->ev.iface = f->iface;
    if (rec && rec->fields)
        nc_pipeline_apply_keys(b, rec->fields, true);
    if (rec && rec->note) {
        nc_buf_reset(&b->note);
        if (rec->note_len)
            nc_buf_append(&b->note, rec->note, rec->note_len);
        return rc;
    }
    if (rec && rec->fields)
        nc_pipeline_verdict(b);
    if (!rec || !rec->bare)
        nc_annotate_event(b);
    return rc;
}

void nc_pipeline_push(nc_pipeline_t *p, const nc_frame_t *f, const nc_pipeline_rec_t *rec)
{
    nc_pipeline_build(p, f, rec, &p->b);
    if (p->tl)
        nc_timeline_add(p->tl, &p->b);
}

void nc_pipeline_add(nc_pipeline_t *p, nc_evb_t *b)
{
    if (p->tl)
        nc_timeline_add(p->tl, b);
}

/* nc_pipeline_apply, of the record's keys only when `record` is set. */
static void nc_pipeline_apply_keys(nc_evb_t *b, const nc_evb_t *extra, bool record)
{
    const nc_field_t *f = extra->fields;
    uint32_t n = extra->nfields, k = 0;
    while (k < n && f[k].kind != NC_F_END) {
        uint32_t next = nc_fields_skip(f, n, k);
        if (record && !nc_pipeline_is_record_key(f[k].key)) {
            k = next;
            continue;
        }
        nc_field_t *have = NULL;
        if (f[k].key && f[k].kind != NC_F_OBJ && f[k].kind != NC_F_LIST) {
            uint32_t m = 0;
            while (m < b->nfields && b->fields[m].kind != NC_F_END) {
                if (b->fields[m].key && strcmp(b->fields[m].key, f[k].key) == 0) {
                    have = &b->fields[m];
                    break;
                }
                m = nc_fields_skip(b->fields, b->nfields, m);
            }
        }
        if (have && (have->kind == NC_F_OBJ || have->kind == NC_F_LIST))
            have = NULL;
        if (have) {
            have->kind = f[k].kind;
            if (f[k].kind == NC_F_STR)
                have->v.s = nc_arena_strdup(&b->arena, f[k].v.s);
            else
                have->v = f[k].v;
            k = next;
            continue;
        }
        for (; k < next; k++) {
            const nc_field_t *t = &f[k];
            switch (t->kind) {
            case NC_F_INT:
                nc_evb_int(b, t->key, t->v.i);
                break;
            case NC_F_NUM:
                nc_evb_num(b, t->key, t->v.d);
                break;
            case NC_F_STR:
                nc_evb_str(b, t->key, t->v.s);
                break;
            case NC_F_BOOL:
                nc_evb_bool(b, t->key, t->v.b != 0);
                break;
            case NC_F_OBJ:
                nc_evb_obj(b, t->key);
                break;
            case NC_F_LIST:
                nc_evb_list(b, t->key);
                break;
            default:
                nc_evb_end(b);
                break;
            }
        }
    }
}

void nc_pipeline_apply(nc_evb_t *b, const nc_evb_t *extra)
{
    nc_pipeline_apply_keys(b, extra, false);
}

void nc_pipeline_record_fields(const nc_event_t *ev, bool exact, nc_buf_t *out)
{
    uint32_t k = 0;
    while (k < ev->nfields && ev->fields[k].kind != NC_F_END) {
        const nc_field_t *t = &ev->fields[k];
        if (!nc_pipeline_is_record_key(t->key)) {
            k = nc_fields_skip(ev->fields, ev->nfields, k);
            continue;
        }
        nc_buf_putc(out, ',');
        nc_buf_json_str(out, t->key);
        nc_buf_putc(out, ':');
        k = nc_fields_json(ev->fields, ev->nfields, k, exact, out);
    }
}

void nc_pipeline_record_json(const nc_event_t *ev, nc_buf_t *out)
{
    nc_event_t head = *ev;
    head.nfields = 0;
    nc_buf_t whole;
    nc_buf_init(&whole);
    nc_event_json(&head, &whole);
    /* The head without its closing brace, then the record's keys. */
    nc_buf_append(out, whole.data, whole.len - 1);
    nc_buf_done(&whole);
    nc_pipeline_record_fields(ev, false, out);
    nc_buf_putc(out, '}');
}
