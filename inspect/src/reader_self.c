/*
 * reader_self.c — a tangle_reader over the current process. Reads go
 * through process_vm_readv so that a bad address is a short read, never a
 * fault; symbols come from the dynamic linker.
 */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ti.h"

static size_t try_read(uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {buf, len};
	struct iovec remote = {(void *)(uintptr_t)addr, len};
	ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	return n > 0 ? (size_t)n : 0;
}

static size_t self_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (len == 0)
		return 0;
	size_t n = try_read(addr, buf, len);
	if (n == len)
		return n;
	/* A fault part-way: read page by page to find the readable prefix. */
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		page = 4096;
	size_t done = n;
	while (done < len) {
		uint64_t a = addr + done;
		size_t chunk = (size_t)page - (size_t)(a % (uint64_t)page);
		if (chunk > len - done)
			chunk = len - done;
		size_t got = try_read(a, (char *)buf + done, chunk);
		done += got;
		if (got < chunk)
			break;
	}
	return done;
}

static int self_lookup(void *ctx, const char *symbol, uint64_t *addr)
{
	(void)ctx;
	void *p = dlsym(RTLD_DEFAULT, symbol);
	if (!p)
		return -1;
	*addr = (uint64_t)(uintptr_t)p;
	return 0;
}

tangle_error *tangle_reader_self(tangle_reader *out)
{
	if (!out)
		return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                        "tangle_reader_self: out is NULL");
	char probe = 1, got = 0;
	if (try_read((uint64_t)(uintptr_t)&probe, &got, 1) != 1 || got != 1)
		return tangle_error_new(TANGLE_INSPECT_ESYSTEM, 0,
		                        "cannot read own memory: process_vm_readv: %s",
		                        strerror(errno));
	out->ctx = NULL;
	out->read = self_read;
	out->lookup = self_lookup;
	out->close = NULL;
	return NULL;
}
