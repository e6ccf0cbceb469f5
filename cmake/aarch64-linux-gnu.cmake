# Cross-compiling for aarch64 Linux on a Debian 12 x86-64 host (see
# scripts/test-aarch64.sh): gcc-aarch64-linux-gnu, libraries from the
# arm64 multiarch packages (libcmocka-dev:arm64), and tests run under
# qemu-user (ctest uses CMAKE_CROSSCOMPILING_EMULATOR).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)

# Headers and libraries of the target only; programs (cmake, python) of the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# pkg-config finds only the arm64 multiarch .pc files (cmocka).
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# The dynamic loader and libc come from libc6:arm64 (/lib/aarch64-linux-gnu),
# pulled in by libcmocka0:arm64, so qemu needs no -L prefix.
find_program(TANGLE_QEMU_AARCH64 qemu-aarch64 qemu-aarch64-static REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${TANGLE_QEMU_AARCH64})
