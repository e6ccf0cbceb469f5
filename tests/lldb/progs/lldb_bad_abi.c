/*
 * lldb_bad_abi: a program whose debug table has an ABI major version no
 * reader knows (99), to check the message frontends give for it. It does
 * not use libtangle: it only defines the root's header itself.
 */
#include <stdio.h>
#include <unistd.h>

#include "tangle_debug.h"

__attribute__((used, section(TANGLE_DEBUG_SECTION)))
struct tangle_debug_header tangle_debug_root = {
	TANGLE_DEBUG_MAGIC, 99, 0, sizeof(struct tangle_debug_header),
	sizeof(struct tangle_debug_header), sizeof(struct tangle_debug_header),
	0, 8, TANGLE_DEBUG_LITTLE, 0};

int main(void)
{
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
