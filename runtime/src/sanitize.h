/*
 * sanitize.h — what the runtime tells ASan and TSan about its stack
 * switches (no-ops in normal builds).
 */
#ifndef TANGLE_SANITIZE_H
#define TANGLE_SANITIZE_H

#ifndef __has_feature
#define __has_feature(x) 0
#endif

#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define TANGLE_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#else
#define TANGLE_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#define TANGLE_TSAN 1
#include <sanitizer/tsan_interface.h>
#else
#define TANGLE_TSAN 0
#endif

#endif /* TANGLE_SANITIZE_H */
