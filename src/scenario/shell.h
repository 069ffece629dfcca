/*
 * shell.h: the user's shell inside a lab host.
 *
 * Used by `netcourse shell` and by the interface's shell key. The shell
 * ($SHELL, else /bin/sh) runs in the host's network namespace, with a
 * prompt that names the host ("[netcourse client] $ ") and every lab
 * host's address in its environment ($SERVER, $CLIENT ...), so that
 * `curl http://$SERVER:8080/` reaches the lesson's server.
 *
 * Nothing the student starts there outlives the lab: the shell is the
 * first process of a PID namespace of its own (when the kernel allows one),
 * so that when it exits every process it left running is killed; and it is
 * killed itself when netcourse dies, however it dies (PR_SET_PDEATHSIG), so
 * a killed netcourse leaves no process holding a lab namespace.
 */
#ifndef NC_SCENARIO_SHELL_H
#define NC_SCENARIO_SHELL_H

#include "../lab/lab.h"

#include <stddef.h>
#include <sys/types.h>

/*
 * Starts the shell on host (cmd: run that command with -c instead of
 * reading the terminal; lab, host and cmd are borrowed for the call). An
 * interactive shell on a terminal gets the terminal's foreground. Returns
 * the pid the caller waits for (its exit status is the shell's; 126 when
 * the host could not be entered, 127 when the shell could not be run), or
 * -1 with one sentence in err.
 */
pid_t nc_shell_spawn(nc_lab_t *lab, const char *host, const char *cmd, char *err, size_t errlen);

/* The name of the variable that holds host's address in the shell
 * ("server": SERVER, "db-1": DB_1), into out (len bytes, cut to fit). */
void nc_shell_var(const char *host, char *out, size_t len);

/* After the shell exited: gives the terminal's foreground back to this
 * process's group, which an interactive shell took. */
void nc_shell_reclaim_terminal(void);

/* Kills the shell and everything it started, and waits for it. */
void nc_shell_kill(pid_t pid);

/* The host a student steps into when none is named: "client" when the lab
 * has one, else its first host (borrowed: a static name, or the lab's). */
const char *nc_shell_default_host(const nc_lab_t *lab);

#endif
