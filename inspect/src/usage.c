/*
 * usage.c — help text of every command, as `help` and `CMD --help` print
 * it. docs/commands.md is the long form; keep both in step.
 */
#include <string.h>

#include "ti.h"

struct usage {
	const char *name;
	const char *text;
};

/* Every command but help takes them (they decide what is a finding). */
#define THRESHOLDS \
	"  --blocked-ms N     blocked-executor after N ms on one task (500)\n" \
	"  --held-ms N        lock-held-across-await after N ms (1000)\n" \
	"  --granted-ms N     granted-not-claimed after N ms (1000)\n" \
	"  --stuck-ms N       stuck after N ms waiting for a lock (5000)\n"

static const struct usage usages[] = {
	{"triage",
	 "usage: triage [--json] [--all] [thresholds]\n"
	 "  The full report: every finding with its wait chain, then the async\n"
	 "  backtraces of the tasks involved.\n"
	 "  --json             the JSON report (docs/json.md)\n"
	 "  --all              keep the runtime's own frames in backtraces\n"
	 THRESHOLDS},
	{"tasks",
	 "usage: tasks [--state S[,S...]] [--name GLOB] [--label K=V] [--group]\n"
	 "             [--limit N] [--json] [thresholds]\n"
	 "  One line per task: id, state, how long, what it waits for, where, name.\n"
	 "  --state S          runnable, running, waiting, done, cancelled\n"
	 "  --name GLOB        task names matching a shell pattern\n"
	 "  --label K=V        tasks with that label\n"
	 "  --group            one line per wait site and state, with counts\n"
	 "  --limit N          at most N lines (default: all)\n"
	 "  --json             {\"tasks\": [...]} with every field\n"
	 THRESHOLDS},
	{"bt",
	 "usage: bt [ID...|all] [--all] [--json] [thresholds]\n"
	 "  Async backtraces: each task's own frames, the frame where it waits\n"
	 "  marked with what it waits for, its spans, labels and holds. Running\n"
	 "  tasks show their worker thread. Without IDs: every task.\n"
	 "  --all              keep the runtime's own frames (tangle_*)\n"
	 "  --json             {\"tasks\": [...]}, each task with its \"frames\"\n"
	 THRESHOLDS},
	{"locks",
	 "usage: locks [--kind K] [--json] [thresholds]\n"
	 "  Every mutex, rwlock, semaphore, channel and notify: holder, waiters,\n"
	 "  hand-off, counters and where it was created.\n"
	 "  --kind K           mutex, rwlock, semaphore, channel or notify\n"
	 "  --json             {\"objects\": [...]}\n"
	 THRESHOLDS},
	{"why",
	 "usage: why ID [--json] [thresholds]\n"
	 "  The wait chain of task ID: what it waits for, who holds that, what\n"
	 "  they wait for, to the end or round a cycle.\n"
	 "  --json             {\"task\": ..., \"cycle\": ..., \"chain\": [...]}\n"
	 THRESHOLDS},
	{"deadlocks",
	 "usage: deadlocks [--json] [thresholds]\n"
	 "  Only the deadlock findings (cycles, and programs where every task\n"
	 "  waits on the others with nothing left to wake them).\n"
	 "  --json             {\"findings\": [...]} (deadlocks only)\n"
	 THRESHOLDS},
	{"graph",
	 "usage: graph [--json] [thresholds]\n"
	 "  The wait-for graph in Graphviz DOT (tasks in findings in red);\n"
	 "  render with: dot -Tsvg\n"
	 "  --json             {\"nodes\": [...], \"edges\": [...]}, the same graph\n"
	 THRESHOLDS},
	{"help",
	 "usage: help [COMMAND]\n"
	 "  This text, or one command's.\n"},
};

static const char overview[] =
	"usage: COMMAND [OPTIONS]   (COMMAND --help for its options)\n"
	"  triage      findings with wait chains and backtraces (the full report)\n"
	"  tasks       the task table; --group for big programs\n"
	"  bt          async backtraces of tasks\n"
	"  locks       locks, semaphores, channels and notifies\n"
	"  why ID      one task's wait chain\n"
	"  deadlocks   only the deadlocks\n"
	"  graph       the wait-for graph as Graphviz DOT\n"
	"  help        this text\n"
	"Every command but help takes --json.\n"
	"Exit status: 0 no finding, 1 findings, 2 error.\n";

const char *ti_usage_find(const char *command)
{
	if (!command || !*command)
		return overview;
	for (size_t i = 0; i < sizeof(usages) / sizeof(usages[0]); i++)
		if (strcmp(usages[i].name, command) == 0)
			return usages[i].text;
	return NULL;
}

const char *tangle_inspect_usage(const char *command)
{
	const char *u = ti_usage_find(command);
	return u ? u : overview;
}
