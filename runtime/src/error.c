/* error.c — messages for the TANGLE_E* codes. */
#include "internal.h"

const char *tangle_strerror(int err)
{
	switch (err) {
	case TANGLE_OK: return "success";
	case TANGLE_ETIMEDOUT: return "the deadline passed first";
	case TANGLE_ECANCELED: return "the task was cancelled";
	case TANGLE_ECLOSED: return "the channel or fd is closed";
	case TANGLE_EAGAIN: return "the operation would have to wait";
	case TANGLE_ENOTOWNER: return "the calling task does not hold the lock";
	case TANGLE_ENOTASK: return "called outside a task";
	case TANGLE_EINVAL: return "invalid argument";
	case TANGLE_ENOMEM: return "out of memory";
	case TANGLE_EBUSY: return "the object is in use";
	case TANGLE_EJOIN: return "the task cannot be joined (itself, detached or joined already)";
	case TANGLE_ESYSTEM: return "a system call failed";
	default: return "unknown error";
	}
}
