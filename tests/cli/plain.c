/* plain.c — a program without libtangle, for the CLI's "does not use
 * libtangle" error: says ready and waits. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	puts("ready");
	fflush(stdout);
	for (;;)
		pause();
}
