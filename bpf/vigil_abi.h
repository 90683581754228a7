/* SPDX-License-Identifier: (Apache-2.0 OR GPL-2.0) */
/*
 * vigil_abi: the one header shared by the eBPF probe (bpf/vigil.bpf.c) and the sensor's user space.
 *
 * Every record in the ring buffer starts with struct vigil_event. After the fixed header comes
 * `nstr` variable parts, packed back to back in `data`, part i being str_len[i] bytes (a user or
 * kernel string with its NUL, or a raw blob such as the open_how struct). The record's total length
 * is offsetof(data) + sum(str_len). Change anything here and bump VIGIL_ABI_VERSION: the loader
 * checks that the probe it opened was built with the same version (the probe exports it in rodata).
 *
 * User space tells the probe which syscalls to capture, and how, through the rodata array
 * `syscall_cfg` (indexed by syscall number, flags below), set before load.
 */
#ifndef VIGIL_BPF_VIGIL_ABI_H
#define VIGIL_BPF_VIGIL_ABI_H

#define VIGIL_ABI_VERSION 1

#define VIGIL_MAX_SYSCALLS 512		   /* syscall numbers captured are below this */
#define VIGIL_MAX_STR 4			   /* variable parts per event */
#define VIGIL_STR_MAX 4096		   /* bytes read for one string (PATH_MAX) */
#define VIGIL_DATA_MAX (5 * VIGIL_STR_MAX) /* room for the variable parts */
#define VIGIL_COMM_LEN 16
#define VIGIL_CGROUP_LEN 128

/* Event kinds (vigil_event.kind). */
enum vigil_kind {
	VIGIL_K_SYSCALL = 1, /* a syscall exit; nr is the syscall number, res its return value */
	VIGIL_K_EXEC = 2,    /* a successful execve/execveat: strings exe filename, argv
			      * (NUL-separated),    cgroup leaf name; nr is the syscall that did it */
	VIGIL_K_FORK = 3,    /* a new process (not a thread): header describes the child */
	VIGIL_K_EXIT = 4,    /* a process (thread-group leader) exited */
};

/* syscall_cfg flags: which arguments are user strings, and what else to capture. */
#define VIGIL_SC_STR(i) (1u << (i))  /* argument i (0..5) is a user string */
#define VIGIL_SC_SOCK_ARG0 (1u << 6) /* argument 0 is a socket fd: capture its endpoints */
#define VIGIL_SC_SOCK_RES (1u << 7)  /* the result is a socket fd (accept): capture its endpoints  \
				      */
#define VIGIL_SC_HOW_ARG2 (1u << 8)  /* argument 2 points at struct open_how: capture 24 bytes */
#define VIGIL_SC_ON (1u << 15)	     /* capture this syscall at all */

/* One socket's endpoints, addresses in network byte order, ports in host order. */
struct vigil_sock {
	unsigned short family; /* AF_INET, AF_INET6, AF_UNIX or 0 when not a socket */
	unsigned short type;   /* SOCK_STREAM, ... */
	unsigned short lport;
	unsigned short rport;
	unsigned char laddr[16];
	unsigned char raddr[16];
};

struct vigil_event {
	unsigned short abi;    /* VIGIL_ABI_VERSION */
	unsigned short kind;   /* enum vigil_kind */
	unsigned int nr;       /* syscall number */
	unsigned long long ts; /* bpf_ktime_get_boot_ns() */
	long long res;	       /* syscall return value */
	unsigned long long args[6];
	unsigned long long cgroup_id;
	unsigned long long cap_effective;
	unsigned long long cap_permitted;
	unsigned long long start_ns;  /* task start_time (boot-based ns) */
	unsigned int tgid, tid, ppid; /* ppid is the real parent's tgid */
	unsigned int uid, gid, euid, egid, loginuid;
	unsigned int tty; /* 0 when the process has no controlling terminal */
	unsigned int cpu;
	unsigned int vpid;  /* pid in the task's own pid namespace */
	unsigned int pidns; /* pid namespace inode number */
	unsigned short nstr;
	unsigned short str_len[VIGIL_MAX_STR];
	unsigned short pad;
	char comm[VIGIL_COMM_LEN];
	struct vigil_sock sock;
	char data[VIGIL_DATA_MAX];
};

/* Size of the fixed part of a record. */
#define VIGIL_EVENT_HDR_SIZE ((unsigned long)&((struct vigil_event *)0)->data)

/* Indices of the per-CPU counters map `counters`. */
enum vigil_counter {
	VIGIL_C_EVENTS = 0, /* records written to the ring buffer */
	VIGIL_C_DROPS = 1,  /* records lost because the ring buffer was full */
	VIGIL_C_MAX = 2,
};

#endif
