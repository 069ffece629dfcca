/*
 * scenario.h: the lessons' own clients and servers.
 *
 * A scenario is one file exporting one const nc_scenario_t, listed in the
 * registry in scenario.c. Its run() is called on a thread of the run; it
 * starts the lesson's programs on lab hosts with nc_scn_spawn (each on a
 * thread inside that host's network namespace, usually with a libuv loop of
 * its own), waits for them, and returns 0 when the scenario completed.
 *
 * Programs report what they do as app events with nc_scn_app: a call named
 * after the system or library call ("connect", "accept", "read", "write",
 * "close", "sendto", ...) and one sentence saying what came back.
 */
#ifndef NC_SCENARIO_H
#define NC_SCENARIO_H

#include "../core/timeline.h"
#include "../lab/lab.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <uv.h>

typedef struct nc_scn nc_scn_t;

typedef struct nc_scenario {
    const char *name;     /* the lesson front matter's "scenario:" */
    const char *topology; /* the topology it needs */
    const char *about;    /* one line */
    int (*run)(nc_scn_t *s);
} nc_scenario_t;

/* Returns the scenario with this name, or NULL. */
const nc_scenario_t *nc_scenario_find(const char *name);

/* The scenario that runs a lesson's program blocks (program.c). */
extern const nc_scenario_t nc_scenario_programs;

/* The context a run hands to its scenario. */
struct nc_scn {
    nc_lab_t *lab;
    nc_timeline_t *tl;
    const struct nc_lesson *lesson; /* the lesson being run (its programs) */
    /* netcourse shell: the host the student is (its programs are not run;
     * servers stay up until the run is stopped), or NULL. Owned. */
    char *shell_host;
    /* The lab stays up after the run (the interface, until the student
     * leaves the lesson): a server that reaches the end of its program
     * keeps serving until the run is stopped. */
    bool stay;
    /* Set once every program has reached its end, or serves on at it: the
     * lesson's own run is over, though its lab may still be up. */
    atomic_int settled;
    volatile int stop; /* set when the run is stopped early */
    pthread_mutex_t lock;
    pthread_t threads[16];
    int nthreads;
    int error; /* first error a program reported */
    char errmsg[256];
    struct nc_keylog *keylog; /* borrowed from the run: TLS secrets, or NULL */
};

/* Starts fn(arg) on host (see nc_lab_spawn). Returns 0 or a negative code. */
int nc_scn_spawn(nc_scn_t *s, const char *host, void *(*fn)(void *), void *arg);
/* Joins every program; returns 0 or the first error reported. */
int nc_scn_join(nc_scn_t *s);
/* Reports an error (the first one is kept) from any program thread. */
void nc_scn_fail(nc_scn_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds one TLS key log line (SSLKEYLOGFILE format, from OpenSSL's keylog
 * callback; borrowed) to the run's secrets; any thread. */
void nc_scn_keylog(nc_scn_t *s, const char *line);
/* The host's address, as text. */
const char *nc_scn_addr(nc_scn_t *s, const char *host);
/*
 * When an app event happened: the time the call was made, not the time it
 * was reported. A program reports most calls after they return (with what
 * came back), yet their effects on the wire happen inside the call: the FIN
 * of close(), the data of write(), the window update of read(). So, just
 * before such a call, a program thread calls nc_scn_call_begin(call); the
 * next app event it reports for that call carries that time. A call
 * reported before it is made needs nothing (the report is stamped now).
 * libuv programs need nothing for their reads: nc_scn_alloc, which libuv
 * calls just before each read() or recvmsg(), marks the read. A blocking
 * call is marked once it is ready (after poll), never before it blocks:
 * its result is caused by what made it ready. Both clocks agree: app
 * events and captured packets are CLOCK_REALTIME (clock.h). A NULL call
 * marks a read of any kind ("read", "recv", "recvfrom", "recvmsg").
 */
void nc_scn_call_begin(const char *call);

/* Adds an app event: host did call, and text says what came back. */
void nc_scn_app(nc_scn_t *s, const char *host, const char *call, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * App events with fields of their own, beside "call" and "text": the
 * lessons about the kernel report pids, tids, ports, byte counts and errors
 * ({"call": "write", "errno": "EAGAIN", "blocked": true}). An entry with
 * kind 's' holds a string, 'i' an integer, 'b' a boolean (in i).
 *
 * Linking to packets: an accept or connect app event that carries "port"
 * (the program's own port) and "peer_port" gets a field "packet" from the
 * run: the timeline index of the packet that let the call return (for
 * accept, the client's last handshake ACK before it; for connect, the
 * server's SYN-ACK). See applink.c.
 */
typedef struct nc_scn_kv {
    const char *key;
    char kind; /* 's', 'i' or 'b' */
    const char *s;
    int64_t i;
} nc_scn_kv_t;
#define NC_KV_S(k, v) ((nc_scn_kv_t){(k), 's', (v), 0})
#define NC_KV_I(k, v) ((nc_scn_kv_t){(k), 'i', NULL, (int64_t)(v)})
#define NC_KV_B(k, v) ((nc_scn_kv_t){(k), 'b', NULL, (v) ? 1 : 0})
void nc_scn_app_kv(nc_scn_t *s, const char *host, const char *call, const nc_scn_kv_t *kv,
                   size_t nkv, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Names the calling program thread "nc-HOST" (what ps and /proc show), so a
 * user can find a thread inside a host's namespace:
 * nsenter --net=/proc/PID/task/TID/ns/net ss -tin. */
void nc_scn_thread_name(const char *host);

/*
 * Runs a program's loop until it has no more work, the run is stopped, or
 * timeout_ms passes (then every handle is closed and an error reported).
 * Returns 0, or NC_ETIMEDOUT / NC_ESTOPPED.
 */
int nc_scn_loop_run(nc_scn_t *s, uv_loop_t *loop, const char *who, int timeout_ms);

/* A one-shot signal between programs ("the server is listening"). */
typedef struct nc_scn_signal {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int set;
} nc_scn_signal_t;
void nc_scn_signal_init(nc_scn_signal_t *sig);
void nc_scn_signal_done(nc_scn_signal_t *sig);
void nc_scn_signal_set(nc_scn_signal_t *sig);
/* Returns 0 when set, NC_ETIMEDOUT after timeout_ms, or NC_ESTOPPED as
 * soon as the run of the calling program thread is stopped. */
int nc_scn_signal_wait(nc_scn_signal_t *sig, int timeout_ms);

/* Text of a peer address ("client:40112" when the address is a lab host). */
void nc_scn_peer_name(nc_scn_t *s, const struct sockaddr *sa, char *out, size_t outlen);

/* A libuv alloc callback: a per-thread 64 KiB buffer, enough for one read.
 * libuv calls it just before each read, so it also marks the read's time
 * (nc_scn_call_begin) for the "read" or "recvfrom" event that reports it. */
void nc_scn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);

/* The usual shape of a pair scenario: server() on "server", which calls
 * nc_scn_signal_set(ready) once it listens; then client() on "client";
 * then both are joined. Returns 0 or the first error. */
int nc_scn_run_pair(nc_scn_t *s, void *(*server)(void *), void *(*client)(void *), void *arg,
                    nc_scn_signal_t *ready);

/* Sleeps ms milliseconds (on a program thread without a loop). */
void nc_scn_sleep_ms(int ms);

/*
 * Plain sockets, for the lessons about the kernel (queues, buffers,
 * workers, processes), whose programs must control exactly when they call
 * listen(), accept(), read() and write(): an event loop would accept and
 * read for them.
 *
 * nc_scn_socket: a TCP socket bound to host's address and port (0: any
 * port), SO_REUSEADDR set, close-on-exec; nonblocking when asked. Returns
 * the fd, or -1 after reporting the failure with nc_scn_fail.
 */
int nc_scn_socket(nc_scn_t *s, const char *host, int port, bool nonblock);
/* Connects fd to host:port (a nonblocking fd returns at once; EINPROGRESS
 * counts as success). Returns 0 or -errno. */
int nc_scn_connect(nc_scn_t *s, int fd, const char *host, int port);
/* The local or the remote port of a socket, or 0. */
int nc_scn_port(int fd, bool peer);
/* Waits until fd is ready for events (POLLIN, POLLOUT), at most
 * timeout_ms, waking every 50 ms to honour a stopped run. Returns the
 * revents, 0 on time-out, or NC_ESTOPPED. */
int nc_scn_wait(nc_scn_t *s, int fd, short events, int timeout_ms);

/* Reads an integer kernel setting ("net.ipv4.tcp_syn_retries") as the
 * calling thread's network namespace sees it (call it from a program
 * thread to read the lab's value). Returns 0, or -errno (-ENOENT: this
 * kernel has no such setting). See sysctl.c. */
int nc_scn_sysctl_read(const char *name, long *value);
/* A setting to read, and its value (-1 when this kernel has none). */
typedef struct nc_scn_sysctl {
    const char *name; /* as sysctl(8) spells it: "net.core.somaxconn" */
    long value;
} nc_scn_sysctl_t;
/* Reads n settings into v[k].value, and fills kv (room for n) with one
 * integer field per setting this kernel has, named after the setting's
 * last component ("somaxconn"; kv borrows v's names). Returns how many
 * fields it filled: the kv of a "sysctl" app event. */
size_t nc_scn_sysctl_read_all(nc_scn_sysctl_t *v, size_t n, nc_scn_kv_t *kv);

#endif
