// SPDX-License-Identifier: Apache-2.0
#include "sensor/probe/syscalls.h"

#include <string.h>
#include <sys/syscall.h>

#include "bpf/vigil_abi.h"

#define ON VIGIL_SC_ON
#define S(i) VIGIL_SC_STR(i)

/* Event types the upstream rules name, minus the high-rate I/O ones (send/recv), which the
 * default rules only use in combination with other types. */
static const struct probe_syscall table[] = {
    {"open", SYS_open, ON | S(0), {"name", "flags", "mode"}},
    {"openat", SYS_openat, ON | S(1), {"dirfd", "name", "flags", "mode"}},
    {"openat2", SYS_openat2, ON | S(1) | VIGIL_SC_HOW_ARG2, {"dirfd", "name", "how", "size"}},
    {"creat", SYS_creat, ON | S(0), {"name", "mode"}},
    {"execve", SYS_execve, ON, {"filename", "argv", "envp"}},
    {"execveat", SYS_execveat, ON, {"dirfd", "pathname", "argv", "envp", "flags"}},
    {"connect", SYS_connect, ON | VIGIL_SC_SOCK_ARG0, {"fd", "addr", "addrlen"}},
    {"accept", SYS_accept, ON | VIGIL_SC_SOCK_RES, {"fd", "addr", "addrlen"}},
    {"accept4", SYS_accept4, ON | VIGIL_SC_SOCK_RES, {"fd", "addr", "addrlen", "flags"}},
    {"listen", SYS_listen, ON | VIGIL_SC_SOCK_ARG0, {"fd", "backlog"}},
    {"socket", SYS_socket, ON, {"domain", "type", "proto"}},
    {"unlink", SYS_unlink, ON | S(0), {"path"}},
    {"unlinkat", SYS_unlinkat, ON | S(1), {"dirfd", "name", "flags"}},
    {"rmdir", SYS_rmdir, ON | S(0), {"path"}},
    {"mkdir", SYS_mkdir, ON | S(0), {"path", "mode"}},
    {"mkdirat", SYS_mkdirat, ON | S(1), {"dirfd", "path", "mode"}},
    {"rename", SYS_rename, ON | S(0) | S(1), {"oldpath", "newpath"}},
    {"renameat", SYS_renameat, ON | S(1) | S(3), {"olddirfd", "oldpath", "newdirfd", "newpath"}},
    {"renameat2",
     SYS_renameat2,
     ON | S(1) | S(3),
     {"olddirfd", "oldpath", "newdirfd", "newpath", "flags"}},
    {"link", SYS_link, ON | S(0) | S(1), {"oldpath", "newpath"}},
    {"linkat", SYS_linkat, ON | S(1) | S(3), {"olddir", "oldpath", "newdir", "newpath", "flags"}},
    {"symlink", SYS_symlink, ON | S(0) | S(1), {"target", "linkpath"}},
    {"symlinkat", SYS_symlinkat, ON | S(0) | S(2), {"target", "linkdirfd", "linkpath"}},
    {"chmod", SYS_chmod, ON | S(0), {"filename", "mode"}},
    {"fchmod", SYS_fchmod, ON, {"fd", "mode"}},
    {"fchmodat", SYS_fchmodat, ON | S(1), {"dirfd", "filename", "mode"}},
    {"setuid", SYS_setuid, ON, {"uid"}},
    {"setgid", SYS_setgid, ON, {"gid"}},
    {"setreuid", SYS_setreuid, ON, {"ruid", "euid"}},
    {"setregid", SYS_setregid, ON, {"rgid", "egid"}},
    {"setresuid", SYS_setresuid, ON, {"ruid", "euid", "suid"}},
    {"setresgid", SYS_setresgid, ON, {"rgid", "egid", "sgid"}},
    {"ptrace", SYS_ptrace, ON, {"request", "pid", "addr", "data"}},
    {"memfd_create", SYS_memfd_create, ON | S(0), {"name", "flags"}},
    {"unshare", SYS_unshare, ON, {"flags"}},
    {"setns", SYS_setns, ON, {"fd", "nstype"}},
    {"dup", SYS_dup, ON, {"fd"}},
    {"dup2", SYS_dup2, ON, {"oldfd", "newfd"}},
    {"dup3", SYS_dup3, ON, {"oldfd", "newfd", "flags"}},
    {"init_module", SYS_init_module, ON, {"image", "len", "uargs"}},
    {"finit_module", SYS_finit_module, ON, {"fd", "uargs", "flags"}},
    {"bpf", SYS_bpf, ON, {"cmd", "attr", "size"}},
    {"userfaultfd", SYS_userfaultfd, ON, {"flags"}},
    {"mount", SYS_mount, ON | S(0) | S(1) | S(2), {"dev", "dir", "type", "flags"}},
    {"chdir", SYS_chdir, ON | S(0), {"path"}},
    {"fchdir", SYS_fchdir, ON, {"fd"}},
    {"kill", SYS_kill, ON, {"pid", "sig"}},
};

const struct probe_syscall *probe_syscalls(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]);
	return table;
}

const struct probe_syscall *probe_syscall_by_nr(int nr)
{
	static const struct probe_syscall *index[VIGIL_MAX_SYSCALLS];
	static int built;
	size_t i;

	if (!__atomic_load_n(&built, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
			if (table[i].nr >= 0 && table[i].nr < VIGIL_MAX_SYSCALLS)
				index[table[i].nr] = &table[i];
		__atomic_store_n(&built, 1, __ATOMIC_RELEASE);
	}
	if (nr < 0 || nr >= VIGIL_MAX_SYSCALLS)
		return NULL;
	return index[nr];
}

const char *probe_syscall_name(int nr)
{
	const struct probe_syscall *s = probe_syscall_by_nr(nr);

	return s ? s->name : "<NA>";
}

void probe_syscalls_fill(unsigned short *cfg, size_t n)
{
	size_t i;

	memset(cfg, 0, n * sizeof(*cfg));
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].nr >= 0 && (size_t)table[i].nr < n)
			cfg[table[i].nr] = table[i].cfg;
	/* successful execs come from sched_process_exec; their sys_exit is not needed */
	if ((size_t)SYS_execve < n)
		cfg[SYS_execve] = 0;
	if ((size_t)SYS_execveat < n)
		cfg[SYS_execveat] = 0;
}
