/*
 * error.c — errors are values: a code, an address and a one-line message.
 * tangle_error_out_of_memory is static so that running out of memory can
 * still be reported; freeing it is a no-op.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ti.h"

tangle_error tangle_error_out_of_memory = {
	TANGLE_INSPECT_ENOMEM, 0, (char *)"out of memory"};

tangle_error *tangle_error_new(int code, uint64_t address, const char *fmt, ...)
{
	tangle_error *e = malloc(sizeof(*e));
	if (!e)
		return &tangle_error_out_of_memory;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	e->message = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (!e->message) {
		free(e);
		return &tangle_error_out_of_memory;
	}
	va_start(ap, fmt);
	vsnprintf(e->message, (size_t)n + 1, fmt, ap);
	va_end(ap);
	/* one line: no newline inside */
	for (char *p = e->message; *p; p++)
		if (*p == '\n')
			*p = ' ';
	e->code = code;
	e->address = address;
	return e;
}

void tangle_error_free(tangle_error *err)
{
	if (!err || err == &tangle_error_out_of_memory)
		return;
	free(err->message);
	free(err);
}

void tangle_inspect_free(void *p)
{
	free(p);
}
