/*
 * firewall.c: a stateful firewall in a lab host, made of the kernel's own
 * nftables and connection tracking.
 *
 * Data model. None in this process: the rules live in the host's network
 * namespace. nc_kit_firewall runs nft(8) once, as a child of the program's
 * thread (so in the host's namespace), to add one table: UDP that answers
 * something the host sent (conntrack's "established") is let in, any
 * other UDP is dropped; TCP and everything else pass. That is how a home
 * router or a host firewall filters: an outside sender gets in only to an
 * address and port the host talked to first, the filtering of a
 * port-restricted NAT without its translation. The table goes with the
 * namespace when the lab ends.
 */
#include "kit.h"

#include "../core/xmalloc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct firewall {
    uv_process_t proc; /* must stay first */
    nc_kit_t *k;
    void (*done)(int status, void *data);
    void *data;
    const char *say;
} firewall_t;

static const char nc_fw_rules[] =
    "add table inet netcourse_fw; "
    "add chain inet netcourse_fw input { type filter hook input priority 0; policy accept; }; "
    "add rule inet netcourse_fw input ct state established,related accept; "
    "add rule inet netcourse_fw input meta l4proto udp counter drop";

static void fw_closed(uv_handle_t *h)
{
    free(h);
}

static void fw_exit(uv_process_t *p, int64_t status, int signal)
{
    firewall_t *f = (firewall_t *)p;
    int rc = status == 0 && signal == 0 ? 0 : -1;
    if (rc == 0)
        nc_kit_report(f->k, NULL, "firewall", (nc_scn_kv_t[]){NC_KV_S("policy", "stateful")}, 1,
                      f->say,
                      "firewall: %s now lets in only UDP that answers something it sent; any "
                      "other datagram is dropped in its kernel",
                      nc_kit_host(f->k));
    else
        nc_scn_fail(nc_kit_scn(f->k), "%s: firewall: nft exited with status %lld",
                    nc_kit_host(f->k), (long long)status);
    f->done(rc, f->data);
    uv_close((uv_handle_t *)p, fw_closed);
}

int nc_kit_firewall(nc_kit_t *k, void (*done)(int status, void *data), void *data,
                    const char *say)
{
    firewall_t *f = nc_xcalloc(1, sizeof *f);
    f->k = k;
    f->done = done;
    f->data = data;
    f->say = say;
    /* An ordinary user's PATH often lacks /usr/sbin, where Debian keeps nft. */
    const char *nft = access("/usr/sbin/nft", X_OK) == 0 ? "/usr/sbin/nft" : "nft";
    char *args[] = {(char *)nft, (char *)nc_fw_rules, NULL};
    uv_stdio_container_t io[3] = {{.flags = UV_IGNORE}, {.flags = UV_IGNORE},
                                  {.flags = UV_INHERIT_FD, .data.fd = 2}};
    uv_process_options_t o = {.exit_cb = fw_exit, .file = nft, .args = args,
                              .stdio_count = 3, .stdio = io};
    int rc = uv_spawn(nc_kit_loop(k), &f->proc, &o);
    if (rc != 0) {
        nc_scn_fail(nc_kit_scn(k), "%s: firewall: cannot run nft (%s); install Debian's nftables",
                    nc_kit_host(k), uv_strerror(rc));
        uv_close((uv_handle_t *)&f->proc, fw_closed);
        return rc;
    }
    return 0;
}
