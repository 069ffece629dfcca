/*
 * wire_bench.c: how fast the wire forwards, and the latency it adds.
 *
 *   lab_wire_bench [MBYTES] [forward|record|latency]
 *
 * With a second argument only that part runs (for a profiler).
 * Throughput: a TCP bulk transfer from client to server through the "pair"
 * wire, once forwarding only (no timeline) and once recording every frame
 * (decode, annotate, timeline), as a lesson does. A recording run prints
 * two rates: forwarded (the bytes over the transfer's time, as the client
 * sees it) and recorded (the bytes over the time until the last frame is
 * on the timeline, the wire stopped), with the frames the timeline holds
 * against those captured and ps_drop, the frames the capture lost. Latency: the median round
 * trip of 2000 small UDP ping-pongs through the wire with delay=0, against
 * the same over a plain veth pair between two namespaces; half the
 * difference is what one pass through the wire costs. Prints; asserts
 * nothing (timings depend on the machine).
 */
#include "core/clock.h"
#include "core/timeline.h"
#include "lab/lab_impl.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { PINGS = 2000 };

typedef struct job {
    const char *addr;
    int port;
    size_t bytes;
    sem_t ready;
    int64_t t0;
    double seconds;
    double rtt[PINGS];
} job_t;

static struct sockaddr_in sin_of(const char *addr, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, addr, &sa.sin_addr);
    return sa;
}

static void *bulk_server(void *arg)
{
    job_t *j = arg;
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = sin_of(j->addr, j->port);
    bind(ls, (struct sockaddr *)&sa, sizeof sa);
    listen(ls, 1);
    sem_post(&j->ready);
    int s = accept(ls, NULL, NULL);
    static char buf[1 << 16];
    while (read(s, buf, sizeof buf) > 0)
        ;
    close(s);
    close(ls);
    return NULL;
}

static void *bulk_client(void *arg)
{
    job_t *j = arg;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = sin_of(j->addr, j->port);
    connect(s, (struct sockaddr *)&sa, sizeof sa);
    static char buf[1 << 16];
    int64_t t0 = j->t0 = nc_clock_mono_ns();
    size_t sent = 0;
    while (sent < j->bytes) {
        ssize_t n = write(s, buf, sizeof buf);
        if (n <= 0)
            break;
        sent += (size_t)n;
    }
    shutdown(s, SHUT_WR);
    char c;
    while (read(s, &c, 1) > 0) /* until the server has read it all */
        ;
    j->seconds = (double)(nc_clock_mono_ns() - t0) / 1e9;
    close(s);
    return NULL;
}

static void *echo_server(void *arg)
{
    job_t *j = arg;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = sin_of(j->addr, j->port);
    bind(s, (struct sockaddr *)&sa, sizeof sa);
    struct timeval tv = {2, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sem_post(&j->ready);
    char buf[64];
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n;
    for (int i = 0; i < PINGS + 10 && (n = recvfrom(s, buf, sizeof buf, 0,
                                                    (struct sockaddr *)&from, &fl)) > 0; i++)
        sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
    close(s);
    return NULL;
}

static void *ping_client(void *arg)
{
    job_t *j = arg;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = sin_of(j->addr, j->port);
    connect(s, (struct sockaddr *)&sa, sizeof sa);
    struct timeval tv = {1, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[64] = "ping";
    send(s, buf, 4, 0); /* warm up ARP */
    recv(s, buf, sizeof buf, 0);
    for (int i = 0; i < PINGS; i++) {
        int64_t t0 = nc_clock_mono_ns();
        send(s, buf, 4, 0);
        j->rtt[i] = recv(s, buf, sizeof buf, 0) > 0 ? (double)(nc_clock_mono_ns() - t0) / 1e3
                                                     : 1e9;
    }
    close(s);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void run(int srv_ns, int cli_ns, void *(*srv)(void *), void *(*cli)(void *), job_t *j)
{
    pthread_t ts, tc;
    sem_init(&j->ready, 0, 0);
    nc_netns_spawn(srv_ns, srv, j, &ts);
    sem_wait(&j->ready);
    nc_netns_spawn(cli_ns, cli, j, &tc);
    pthread_join(tc, NULL);
    pthread_join(ts, NULL);
}

/* CPU seconds (user + system) spent so far by this process's threads named
 * name ("nc-wire", "nc-recorder"), from /proc. */
static double thread_cpu_s(const char *name)
{
    double total = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], comm[64] = "", stat[1024];
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (!fgets(comm, sizeof comm, f))
            comm[0] = '\0';
        fclose(f);
        comm[strcspn(comm, "\n")] = '\0';
        if (strcmp(comm, name) != 0)
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        f = fopen(path, "r");
        size_t n = f ? fread(stat, 1, sizeof stat - 1, f) : 0;
        if (f)
            fclose(f);
        stat[n] = '\0';
        const char *p = strrchr(stat, ')'); /* fields 14 and 15 follow comm */
        unsigned long ut = 0, st = 0;
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                        &st) == 2)
            total += (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    }
    if (d)
        closedir(d);
    return total;
}

static double median_rtt_us(job_t *j)
{
    qsort(j->rtt, PINGS, sizeof j->rtt[0], cmp_double);
    return j->rtt[PINGS / 2];
}

static void bench_bulk(size_t mbytes, bool record)
{
    char err[300];
    nc_timeline_t *tl = record ? nc_timeline_new(0) : NULL;
    nc_lab_opts_t o = {.topology = "pair", .tl = tl};
    nc_lab_t *lab = nc_lab_new(&o, err, sizeof err);
    if (!lab) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    job_t *j = calloc(1, sizeof *j);
    j->addr = "10.0.0.2";
    j->port = 5001;
    j->bytes = mbytes << 20;
    run(nc_lab_host_netns(lab, "server"), nc_lab_host_netns(lab, "client"), bulk_server,
        bulk_client, j);
    double wire_cpu = thread_cpu_s("nc-wire"), rec_cpu = thread_cpu_s("nc-recorder");
    nc_lab_stop(lab);
    double recorded_s = (double)(nc_clock_mono_ns() - j->t0) / 1e9;
    nc_lab_stats_t st;
    nc_lab_stats(lab, &st);
    double mbit = (double)j->bytes * 8 / 1e6;
    printf("bulk TCP %zu MiB, %s: forwarded %.0f Mbit/s, %.0f frames/s (%llu frames), "
           "ps_drop %llu\n",
           mbytes, record ? "recording every frame" : "forwarding only", mbit / j->seconds,
           (double)st.captured / j->seconds, (unsigned long long)st.captured,
           (unsigned long long)st.dropped);
    printf("  CPU per frame: wire thread %.2f us%s", wire_cpu * 1e6 / (double)st.captured,
           tl ? "" : "\n");
    if (tl)
        printf(", recorder %.2f us (until the transfer ended)\n",
               rec_cpu * 1e6 / (double)st.captured);
    if (tl) {
        nc_timeline_flush(tl, true);
        size_t n = nc_timeline_count(tl), packets = 0;
        for (size_t i = 0; i < n; i++)
            packets += nc_timeline_get(tl, i)->type == NC_EV_PACKET;
        printf("  recorded %.0f Mbit/s: %zu of %llu frames on the timeline when the wire "
               "stopped, %.1f s after the first byte (%zu events, %.1f MiB)\n",
               mbit / recorded_s, packets, (unsigned long long)st.captured, recorded_s, n,
               (double)nc_timeline_memory(tl) / (1 << 20));
    }
    nc_lab_free(lab);
    if (tl)
        nc_timeline_free(tl);
    free(j);
}

typedef struct direct {
    int a, b;
    char err[300];
} direct_t;

static int direct_link(void *arg)
{
    direct_t *d = arg;
    return nc_netlink_veth_add("a0", "b0", d->b, d->err, sizeof d->err) ||
           nc_netlink_addr_add("a0", "10.1.0.1", 24, d->err, sizeof d->err) ||
           nc_netlink_link_up("a0", d->err, sizeof d->err);
}

static int direct_peer(void *arg)
{
    direct_t *d = arg;
    return nc_netlink_addr_add("b0", "10.1.0.2", 24, d->err, sizeof d->err) ||
           nc_netlink_link_up("b0", d->err, sizeof d->err);
}

static void bench_latency(void)
{
    char err[300];
    job_t *j = calloc(1, sizeof *j);
    direct_t d = {0};
    if (nc_netns_new(&d.a, err, sizeof err) || nc_netns_new(&d.b, err, sizeof err) ||
        nc_netns_call(d.a, direct_link, &d) || nc_netns_call(d.b, direct_peer, &d)) {
        fprintf(stderr, "%s %s\n", err, d.err);
        exit(1);
    }
    j->addr = "10.1.0.2";
    j->port = 5002;
    run(d.b, d.a, echo_server, ping_client, j);
    double direct = median_rtt_us(j);
    close(d.a);
    close(d.b);

    nc_timeline_t *tl = nc_timeline_new(0);
    nc_lab_opts_t o = {.topology = "pair", .tl = tl};
    nc_lab_t *lab = nc_lab_new(&o, err, sizeof err);
    if (!lab) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    j->addr = "10.0.0.2";
    run(nc_lab_host_netns(lab, "server"), nc_lab_host_netns(lab, "client"), echo_server,
        ping_client, j);
    double wire = median_rtt_us(j);
    nc_lab_free(lab);
    nc_timeline_free(tl);
    printf("UDP round trip (median of %d): plain veth %.1f us, through the wire %.1f us; "
           "one pass through the wire adds %.1f us\n",
           PINGS, direct, wire, (wire - direct) / 2);
    free(j);
}

int main(int argc, char **argv)
{
    char err[512];
    if (nc_lab_prepare(err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    size_t mbytes = argc > 1 ? (size_t)atoi(argv[1]) : 200;
    const char *only = argc > 2 ? argv[2] : "";
    if (!*only || !strcmp(only, "forward"))
        bench_bulk(mbytes * 4, false);
    if (!*only || !strcmp(only, "record"))
        bench_bulk(mbytes, true);
    if (!*only || !strcmp(only, "latency"))
        bench_latency();
    return 0;
}
