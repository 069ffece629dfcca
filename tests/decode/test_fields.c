/*
 * test_fields.c: every field a decoder writes is one it declares.
 *
 *   test_decode_fields FILE|DIR...
 *
 * Decodes every packet of every capture given (directories are read one
 * level deep) and walks each event's fields: each path outside the private
 * "_" keys must be declared by a decoder (nc_decode_field_kind), with the
 * kind it has in the event. A field declared NC_F_STR may hold a number (a
 * name, or the number where there is none); a layer written as a list (a
 * packet that completes several messages) counts as its object. This is what
 * lets the lesson loader refuse matchers naming undeclared fields: a decoder
 * that writes a field it does not declare fails here. Exit status 0, or 1
 * with one line per undeclared path.
 */
#include "decode/decode.h"

#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int failures;

static bool kind_ok(int declared, int got)
{
    if (declared == got)
        return true;
    if (declared == NC_F_STR && got == NC_F_INT)
        return true;
    if (declared == NC_F_NUM && got == NC_F_INT)
        return true;
    return declared == NC_F_OBJ && got == NC_F_LIST;
}

static void check_path(const char *file, const char *path, int kind)
{
    int declared = nc_decode_field_kind(path, NULL);
    if (declared < 0 || !kind_ok(declared, kind)) {
        if (failures++ < 50)
            fprintf(stderr, "%s: field \"%s\" (kind %d) is %s\n", file, path, kind,
                    declared < 0 ? "not declared" : "declared with another kind");
    }
}

/* Walks the value at f[k] whose path is prefix; returns the index past it. */
static uint32_t walk(const char *file, const nc_field_t *f, uint32_t n, uint32_t k,
                     const char *prefix)
{
    const nc_field_t *t = &f[k];
    if (t->kind == NC_F_OBJ || t->kind == NC_F_LIST) {
        bool objects = t->kind == NC_F_LIST && k + 1 < n && f[k + 1].kind == NC_F_OBJ;
        k++;
        while (k < n && f[k].kind != NC_F_END) {
            if (objects || t->kind == NC_F_LIST) {
                /* A list of layer objects: their fields sit under the list's
                 * path. A list of scalars is checked as a whole. */
                if (objects)
                    k = walk(file, f, n, k, prefix);
                else
                    k = nc_fields_skip(f, n, k);
                continue;
            }
            if (f[k].key && f[k].key[0] == '_') {
                k = nc_fields_skip(f, n, k);
                continue;
            }
            char path[256];
            snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", f[k].key);
            check_path(file, path, f[k].kind);
            k = walk(file, f, n, k, path);
        }
        return k + 1;
    }
    return k + 1;
}

static void check_file(const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (p == NULL)
        return;
    nc_decoder_t *d = nc_decoder_new();
    nc_evb_t b;
    nc_evb_init(&b);
    struct pcap_pkthdr *h;
    const u_char *data;
    while (pcap_next_ex(p, &h, &data) == 1) {
        nc_evb_reset(&b, NC_EV_PACKET, 0);
        nc_decoder_packet(d, pcap_datalink(p), data, h->caplen, h->len, &b);
        const nc_event_t *ev = nc_evb_view(&b);
        for (uint32_t k = 0; k < ev->nfields;) {
            const nc_field_t *t = &ev->fields[k];
            if (t->key && t->key[0] != '_')
                check_path(path, t->key, t->kind);
            k = t->key && t->key[0] != '_' ? walk(path, ev->fields, ev->nfields, k, t->key)
                                           : nc_fields_skip(ev->fields, ev->nfields, k);
        }
    }
    nc_evb_done(&b);
    nc_decoder_free(d);
    pcap_close(p);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0)
            continue;
        if (!S_ISDIR(st.st_mode)) {
            check_file(argv[i]);
            continue;
        }
        DIR *dir = opendir(argv[i]);
        struct dirent *e;
        while (dir && (e = readdir(dir)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", argv[i], e->d_name);
            check_file(p);
        }
        if (dir)
            closedir(dir);
    }
    if (failures)
        fprintf(stderr, "%d undeclared field uses\n", failures);
    return failures ? 1 : 0;
}
