/* cmd.h — what the command files share: parsed options. */
#ifndef TI_CMD_H
#define TI_CMD_H

#include "ti.h"

#define TI_MAX_POS 256

typedef struct ti_opts {
	int json, all, group, help;
	const char *state, *name, *label, *kind;
	uint64_t limit;           /* 0: no limit */
	ti_thresholds th;
	const char *pos[TI_MAX_POS];
	int npos;
} ti_opts;

tangle_error *ti_cmd_tasks(tangle_session *s, const ti_opts *o, FILE *out,
                           int *status);
tangle_error *ti_cmd_locks(tangle_session *s, const ti_opts *o, FILE *out,
                           int *status);

#endif
