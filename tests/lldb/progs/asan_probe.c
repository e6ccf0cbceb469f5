/*
 * asan_probe: a shared library built with AddressSanitizer, as a sanitizer
 * build's libtangle-inspect.so is. lldb cannot load it (ASan's runtime must
 * come first in the process and aborts it otherwise): test_discovery.py
 * checks that the module refuses it with one line instead.
 */
int tangle_asan_probe(int x);

int tangle_asan_probe(int x)
{
	return x + 1;
}
