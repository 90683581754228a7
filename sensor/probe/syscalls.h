/* SPDX-License-Identifier: Apache-2.0 */
/*
 * syscalls: the syscalls the probe captures, with their Falco event-type names and how their
 * arguments are captured (VIGIL_SC_* flags of bpf/vigil_abi.h). x86_64 numbering.
 */
#ifndef VIGIL_SENSOR_PROBE_SYSCALLS_H
#define VIGIL_SENSOR_PROBE_SYSCALLS_H

#include <stddef.h>

struct probe_syscall {
	const char *name;	 /* Falco evt.type, e.g. "openat" */
	int nr;			 /* syscall number */
	unsigned short cfg;	 /* VIGIL_SC_* */
	const char *argnames[6]; /* evt.arg.<name> names of the raw arguments, NULL past the last */
};

/* The table (static storage) and its length. */
const struct probe_syscall *probe_syscalls(size_t *n);

/* Looks a syscall up by number; NULL when it isn't captured. Borrowed, static storage. */
const struct probe_syscall *probe_syscall_by_nr(int nr);

/* Name of syscall nr ("execve" ...); a static "syscall_<nr>"-free fallback "<NA>" when unknown. */
const char *probe_syscall_name(int nr);

/* Fills cfg[0..n) (the probe's rodata syscall_cfg) from the table. */
void probe_syscalls_fill(unsigned short *cfg, size_t n);

#endif
