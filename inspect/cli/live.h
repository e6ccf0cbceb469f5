/*
 * live.h — a running process as target memory.
 *
 * Stopping (the default): every thread is attached with PTRACE_SEIZE and
 * stopped with PTRACE_INTERRUPT (threads that appear meanwhile too), so the
 * table is read in one consistent state. Every attached thread is detached
 * again — by cli_live_close(), at exit, and from a SIGINT/SIGTERM/SIGHUP/
 * SIGQUIT/SIGPIPE handler — so an interrupted tangle never leaves the target
 * stopped. Without stopping, memory is read as it changes (a torn view).
 * Reads use process_vm_readv, then /proc/PID/mem.
 */
#ifndef TANGLE_CLI_LIVE_H
#define TANGLE_CLI_LIVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tangle_inspect.h"

struct cli_live;

/* Errors name the pid: no such process, or not permitted to trace it. */
tangle_error *cli_live_open(pid_t pid, int stop, struct cli_live **out);
/* Detach (if stopped) and release. */
void cli_live_close(struct cli_live *l);

size_t cli_live_read(void *ctx, uint64_t addr, void *buf, size_t len);
/* Threads attached and stopped (0 without stopping). */
int cli_live_stopped(const struct cli_live *l);

#endif
