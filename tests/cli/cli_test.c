/*
 * cli_test.c — see cli_test.h.
 */
#include "cli_test.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int scratch_dir(char *dir)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, 256, "%s/tangle-cli-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

void scratch_remove(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char path[1024];
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(dir);
}

int kernel_cores(void)
{
	char pat[256] = "";
	FILE *f = fopen("/proc/sys/kernel/core_pattern", "r");
	if (f) {
		if (!fgets(pat, sizeof pat, f))
			pat[0] = 0;
		fclose(f);
	}
	return pat[0] != '|' && pat[0] != '/';
}

static int read_line(int fd, char *buf, size_t size, int timeout_ms)
{
	size_t n = 0;
	struct timespec nap = {0, 10000000};
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (int waited = 0; waited < timeout_ms;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r == 1) {
			if (c == '\n') {
				buf[n] = 0;
				if (strncmp(buf, "ready", 5) == 0)
					return 0;
				n = 0;
				continue;
			}
			if (n + 1 < size)
				buf[n++] = c;
			continue;
		}
		if (r == 0)
			return -1;
		nanosleep(&nap, NULL);
		waited += 10;
	}
	return -1;
}

int fixture_start(const char *exe, char *const args[], const char *dir,
                  struct fixture *f)
{
	int fds[2];
	memset(f, 0, sizeof *f);
	if (pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
		setrlimit(RLIMIT_CORE, &rl);
		if (chdir(dir) != 0)
			_exit(127);
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		char *argv[16] = {(char *)exe};
		for (int i = 0; args && args[i] && i < 14; i++)
			argv[i + 1] = args[i];
		execv(exe, argv);
		_exit(127);
	}
	close(fds[1]);
	f->pid = pid;
	int r = read_line(fds[0], f->ready, sizeof f->ready, 10000);
	close(fds[0]);
	if (r != 0) {
		fixture_kill(f);
		return -1;
	}
	unsigned long buf = 0, ro = 0, root = 0;
	int p = 0, t = 0;
	if (sscanf(f->ready, "ready %d %d %lx %lx %lx %d", &p, &t, &buf, &ro,
	           &root, &f->line) == 6) {
		f->tid = t;
		f->buf = buf;
		f->ro = ro;
		f->root = root;
	}
	return 0;
}

void fixture_kill(struct fixture *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	f->pid = 0;
}

int fixture_dump(struct fixture *f, const char *dir, char *core)
{
	struct stat st;
	if (!kernel_cores()) {
		char cmd[1024];
		snprintf(cmd, sizeof cmd, "gcore -o %s/core %d >/dev/null 2>&1",
		         dir, (int)f->pid);
		int r = system(cmd);
		snprintf(core, 512, "%s/core.%d", dir, (int)f->pid);
		fixture_kill(f);
		return r == 0 && stat(core, &st) == 0 ? 0 : -1;
	}
	pid_t pid = f->pid;
	kill(pid, SIGABRT);
	int status;
	waitpid(pid, &status, 0);
	f->pid = 0;
	snprintf(core, 512, "%s/core", dir);
	if (stat(core, &st) == 0)
		return 0;
	snprintf(core, 512, "%s/core.%d", dir, (int)pid);
	return stat(core, &st) == 0 ? 0 : -1;
}

int copy_file(const char *from, const char *to, long size)
{
	int in = open(from, O_RDONLY), out = -1;
	if (in < 0)
		return -1;
	struct stat st;
	fstat(in, &st);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, st.st_mode & 0777);
	if (out < 0) {
		close(in);
		return -1;
	}
	char buf[65536];
	long left = size >= 0 ? size : (long)st.st_size;
	while (left > 0) {
		ssize_t n = read(in, buf, left < (long)sizeof buf ? (size_t)left : sizeof buf);
		if (n <= 0 || write(out, buf, (size_t)n) != n)
			break;
		left -= n;
	}
	close(in);
	close(out);
	return left == 0 ? 0 : -1;
}

int core_drop_nt_file(const char *core)
{
	int fd = open(core, O_RDWR);
	Elf64_Ehdr eh;
	int done = -1;
	if (fd < 0 || pread(fd, &eh, sizeof eh, 0) != sizeof eh)
		goto out;
	for (int i = 0; i < eh.e_phnum && done; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) !=
		    sizeof ph || ph.p_type != PT_NOTE)
			continue;
		for (uint64_t off = 0; off + sizeof(Elf64_Nhdr) <= ph.p_filesz;) {
			Elf64_Nhdr nh;
			char name[8] = "";
			off_t at = (off_t)(ph.p_offset + off);
			if (pread(fd, &nh, sizeof nh, at) != sizeof nh)
				break;
			if (pread(fd, name, nh.n_namesz < 8 ? nh.n_namesz : 8,
			          at + (off_t)sizeof nh) < 0)
				break;
			if (nh.n_type == NT_FILE && strcmp(name, "CORE") == 0) {
				nh.n_type = 0x46494c00;
				if (pwrite(fd, &nh, sizeof nh, at) == sizeof nh)
					done = 0;
				break;
			}
			off += sizeof nh + ((nh.n_namesz + 3u) & ~3u) +
			       ((nh.n_descsz + 3u) & ~3u);
		}
	}
out:
	if (fd >= 0)
		close(fd);
	return done;
}
