/*
 * shell.c: the user's shell inside a lab host (see shell.h).
 *
 * The process tree: netcourse forks a keeper, which enters the host's
 * network namespace, makes a PID namespace for its children and forks the
 * shell into it as that namespace's first process. The keeper only waits
 * and passes on the shell's exit status. Each dies with its parent
 * (PR_SET_PDEATHSIG): netcourse gone, the keeper goes; the keeper gone,
 * the shell goes; the shell gone, the kernel kills whatever else runs in
 * its PID namespace. Everything the children need is made before the first
 * fork: netcourse has threads, so between fork and exec only
 * async-signal-safe calls are made.
 */
#include "shell.h"

#include "../core/xmalloc.h"

#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define NC_SHELL_MAX_HOSTS 16

void nc_shell_var(const char *host, char *out, size_t len)
{
    size_t k = 0;
    for (; len > 0 && host[k] && k < len - 1; k++)
        out[k] = host[k] == '-' ? '_' : (char)toupper((unsigned char)host[k]);
    if (len > 0)
        out[k] = '\0';
}

/* The environment of the shell: the caller's, the host's name, a prompt
 * that says where the student is, and every lab host's address ($SERVER).
 * Its strings live in space (NC_SHELL_MAX_HOSTS + 2 lines of 128 bytes);
 * the array is the caller's to free. */
static char **nc_shell_env(nc_lab_t *lab, const char *host, char (*space)[128])
{
    extern char **environ;
    size_t n = 0;
    while (environ[n])
        n++;
    size_t nh = nc_lab_host_count(lab);
    char **env = nc_xcalloc(n + NC_SHELL_MAX_HOSTS + 3, sizeof *env);
    size_t e = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "PS1=", 4) != 0)
            env[e++] = environ[i];
    snprintf(space[0], 128, "PS1=[netcourse %s] $ ", host);
    snprintf(space[1], 128, "NETCOURSE_HOST=%s", host);
    env[e++] = space[0];
    env[e++] = space[1];
    for (size_t i = 0; i < nh && i < NC_SHELL_MAX_HOSTS; i++) {
        char *v = space[i + 2];
        const char *h = nc_lab_host_name(lab, i);
        const char *a = nc_lab_host_addr(lab, h);
        nc_shell_var(h ? h : "", v, 96);
        size_t k = strlen(v);
        snprintf(v + k, 128 - k, "=%s", a ? a : "");
        env[e++] = v;
    }
    env[e] = NULL;
    return env;
}

static void nc_shell_default_signals(void)
{
    static const int sigs[] = {SIGINT,  SIGQUIT, SIGTERM, SIGPIPE,  SIGTTOU,
                               SIGTTIN, SIGTSTP, SIGCHLD, SIGWINCH, SIGHUP};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++)
        sigaction(sigs[k], &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The shell, in the keeper's new PID namespace. */
static void nc_shell_exec(const char *shell, char **argv, char **env, bool interactive,
                          bool to_terminal)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (interactive) {
        /* A process group of its own, in the terminal's foreground: the
         * terminal's ^C and ^Z are the shell's, and job control works. */
        struct sigaction ign;
        memset(&ign, 0, sizeof ign);
        ign.sa_handler = SIG_IGN;
        sigaction(SIGTTOU, &ign, NULL);
        setpgid(0, 0);
        tcsetpgrp(STDIN_FILENO, getpgrp());
    }
    nc_shell_default_signals();
    if (to_terminal)
        dup2(STDERR_FILENO, STDOUT_FILENO);
    /* Nothing of netcourse's own (its store, the lab's namespaces, its
     * sockets) is the shell's. */
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
    execve(shell, argv, env);
    _exit(127);
}

pid_t nc_shell_spawn(nc_lab_t *lab, const char *host, const char *cmd, char *err, size_t errlen)
{
    int ns = nc_lab_host_netns(lab, host);
    if (ns < 0) {
        snprintf(err, errlen, "the lab has no host \"%s\"", host);
        return -1;
    }
    const char *shell = getenv("SHELL");
    if (!shell || !*shell || access(shell, X_OK) != 0)
        shell = "/bin/sh";
    const char *base = strrchr(shell, '/') ? strrchr(shell, '/') + 1 : shell;
    char space[NC_SHELL_MAX_HOSTS + 2][128];
    char **env = nc_shell_env(lab, host, space);
    char *argv[5] = {(char *)shell, NULL, NULL, NULL, NULL};
    if (cmd) {
        argv[1] = "-c";
        argv[2] = (char *)cmd;
    } else if (strcmp(base, "bash") == 0) {
        argv[1] = "--norc"; /* a .bashrc would set its own prompt */
        argv[2] = "-i";
    } else {
        argv[1] = "-i";
    }
    bool interactive = !cmd && isatty(STDIN_FILENO);
    /* An interactive shell talks to the terminal, even when netcourse's own
     * output (the timeline) goes to a file. */
    bool to_terminal = !cmd && !isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* The keeper: ^C in the terminal is the shell's business. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(126);
        struct sigaction ign;
        memset(&ign, 0, sizeof ign);
        ign.sa_handler = SIG_IGN;
        sigaction(SIGINT, &ign, NULL);
        sigaction(SIGQUIT, &ign, NULL);
        if (setns(ns, CLONE_NEWNET) != 0)
            _exit(126);
        /* Without a PID namespace (a kernel or sandbox that refuses one)
         * the shell still dies with netcourse, but not what it leaves
         * running. */
        (void)unshare(CLONE_NEWPID);
        pid_t sh = fork();
        if (sh == 0)
            nc_shell_exec(shell, argv, env, interactive, to_terminal);
        if (sh < 0)
            _exit(126);
        int st = 0;
        while (waitpid(sh, &st, 0) < 0)
            if (errno != EINTR)
                _exit(126);
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    }
    int saved = errno;
    free(env);
    if (pid < 0) {
        snprintf(err, errlen, "cannot start a shell on %s: %s", host, strerror(saved));
        return -1;
    }
    return pid;
}

void nc_shell_reclaim_terminal(void)
{
    if (!isatty(STDIN_FILENO))
        return;
    struct sigaction ign, old;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGTTOU, &ign, &old);
    tcsetpgrp(STDIN_FILENO, getpgrp());
    sigaction(SIGTTOU, &old, NULL);
}

void nc_shell_kill(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    nc_shell_reclaim_terminal();
}

const char *nc_shell_default_host(const nc_lab_t *lab)
{
    if (nc_lab_host_addr(lab, "client"))
        return "client";
    return nc_lab_host_count(lab) ? nc_lab_host_name(lab, 0) : NULL;
}
