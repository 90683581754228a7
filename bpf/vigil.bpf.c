// SPDX-License-Identifier: GPL-2.0
/*
 * vigil.bpf.c: the Vigil probe. CO-RE, BTF-enabled tracepoints only (no tracefs, no kprobes):
 *   tp_btf/sys_exit             syscalls chosen by user space through rodata syscall_cfg
 *   tp_btf/sched_process_exec   successful execve/execveat (exe, argv, cgroup)
 *   tp_btf/sched_process_fork   new processes, for the process tree
 *   tp_btf/sched_process_exit   process exit
 * Records go to one ring buffer (size set by the loader); a full buffer counts a drop in the
 * per-CPU `counters` map. The record layout is bpf/vigil_abi.h.
 *
 * Syscall arguments are read at exit from the task's saved user registers, which still hold them
 * (the return value goes to ax), so no enter/exit pairing map is needed and user strings are read
 * after the kernel has faulted them in.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "vigil_abi.h"

char LICENSE[] SEC("license") = "GPL";

#define OFF_MASK (4 * VIGIL_STR_MAX - 1) /* keeps a write offset provably inside data[] */
#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000

const volatile unsigned int abi_version = VIGIL_ABI_VERSION;
const volatile unsigned int self_tgid = 0;
const volatile unsigned int execve_nr = 59; /* set by the loader */
const volatile unsigned short syscall_cfg[VIGIL_MAX_SYSCALLS] = {};
/* Test hook: when set, vigil_exit contains an invalid memory access and the verifier must reject
 * the object. Dead code (pruned by the verifier) when 0. */
const volatile unsigned int test_verifier_reject = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VIGIL_C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vigil_event);
} scratch SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

static __always_inline struct vigil_event *event_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

/* Fills the header from task t (the current task, or a new child). */
static __always_inline void fill_task(struct vigil_event *e, struct task_struct *t, __u16 kind)
{
	const struct cred *c = BPF_CORE_READ(t, real_cred);
	struct tty_struct *tty;
	struct pid *pid;
	unsigned int level;
	struct upid up = {};

	e->abi = VIGIL_ABI_VERSION;
	e->kind = kind;
	e->nr = 0;
	e->res = 0;
	e->ts = bpf_ktime_get_boot_ns();
	e->tgid = BPF_CORE_READ(t, tgid);
	e->tid = BPF_CORE_READ(t, pid);
	e->ppid = BPF_CORE_READ(t, real_parent, tgid);
	e->uid = BPF_CORE_READ(c, uid.val);
	e->gid = BPF_CORE_READ(c, gid.val);
	e->euid = BPF_CORE_READ(c, euid.val);
	e->egid = BPF_CORE_READ(c, egid.val);
	e->cap_effective = 0;
	e->cap_permitted = 0;
	bpf_core_read(&e->cap_effective, sizeof(e->cap_effective), &c->cap_effective);
	bpf_core_read(&e->cap_permitted, sizeof(e->cap_permitted), &c->cap_permitted);
	e->loginuid = (unsigned int)-1;
	if (bpf_core_field_exists(t->loginuid))
		e->loginuid = BPF_CORE_READ(t, loginuid.val);
	e->start_ns = BPF_CORE_READ(t, start_boottime);
	e->tty = 0;
	tty = BPF_CORE_READ(t, signal, tty);
	if (tty) {
		int index = BPF_CORE_READ(tty, index);
		int major = BPF_CORE_READ(tty, driver, major);
		int minor = BPF_CORE_READ(tty, driver, minor_start) + index;

		e->tty = ((unsigned int)major << 20) | (unsigned int)minor;
	}
	pid = BPF_CORE_READ(t, thread_pid);
	level = BPF_CORE_READ(pid, level);
	bpf_core_read(&up, sizeof(up), &pid->numbers[level & 31]);
	e->vpid = up.nr;
	e->pidns = BPF_CORE_READ(up.ns, ns.inum);
	e->cgroup_id = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
	e->cpu = bpf_get_smp_processor_id();
	BPF_CORE_READ_STR_INTO(&e->comm, t, comm);
	e->nstr = 0;
	e->str_len[0] = e->str_len[1] = e->str_len[2] = e->str_len[3] = 0;
	e->sock.family = 0;
}

/* Captures the endpoints of socket fd of task t into e->sock (family 0 when not a socket). */
static __always_inline void fill_sock(struct vigil_event *e, struct task_struct *t, long fd)
{
	struct file **fds;
	struct file *f = NULL;
	struct socket *sock;
	struct sock *sk;
	unsigned int max;
	unsigned short mode;

	if (fd < 0)
		return;
	max = BPF_CORE_READ(t, files, fdt, max_fds);
	if ((unsigned long)fd >= max)
		return;
	fds = BPF_CORE_READ(t, files, fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return;
	e->sock.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->sock.type = BPF_CORE_READ(sock, type);
	e->sock.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->sock.rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (e->sock.family == AF_INET) {
		bpf_core_read(e->sock.laddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->sock.raddr, 4, &sk->__sk_common.skc_daddr);
	} else if (e->sock.family == AF_INET6) {
		bpf_core_read(e->sock.laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->sock.raddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

/* Writes the record (header plus `off` bytes of data) to the ring buffer, counting drops. */
static __always_inline void emit(struct vigil_event *e, unsigned long off)
{
	unsigned long size = VIGIL_EVENT_HDR_SIZE + (off & OFF_MASK);

	if (size > sizeof(*e))
		size = sizeof(*e);
	if (bpf_ringbuf_output(&rb, e, size, 0))
		count(VIGIL_C_DROPS);
	else
		count(VIGIL_C_EVENTS);
}

/* Appends a user string at data[off]; returns the bytes used (0 when unreadable). */
static __always_inline long put_user_str(struct vigil_event *e, unsigned long off, __u64 ptr)
{
	long n;

	if (!ptr)
		return 0;
	n = bpf_probe_read_user_str(&e->data[off & OFF_MASK], VIGIL_STR_MAX, (const void *)ptr);
	return n > 0 ? n : 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(vigil_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *t;
	struct vigil_event *e;
	unsigned long off = 0;
	unsigned short cfg;
	long nr;
	int i;

	if ((bpf_get_current_pid_tgid() >> 32) == self_tgid)
		return 0;
	nr = BPF_CORE_READ(regs, orig_ax);
	if (nr < 0 || nr >= VIGIL_MAX_SYSCALLS)
		return 0;
	cfg = syscall_cfg[nr];
	if (!(cfg & VIGIL_SC_ON))
		return 0;
	e = event_get();
	if (!e)
		return 0;
	t = bpf_get_current_task_btf();
	fill_task(e, t, VIGIL_K_SYSCALL);
	e->nr = nr;
	e->res = ret;
	e->args[0] = BPF_CORE_READ(regs, di);
	e->args[1] = BPF_CORE_READ(regs, si);
	e->args[2] = BPF_CORE_READ(regs, dx);
	e->args[3] = BPF_CORE_READ(regs, r10);
	e->args[4] = BPF_CORE_READ(regs, r8);
	e->args[5] = BPF_CORE_READ(regs, r9);

#pragma unroll
	for (i = 0; i < 6; i++) {
		long n;
		unsigned short k = e->nstr;

		if (!(cfg & VIGIL_SC_STR(i)) || k >= VIGIL_MAX_STR - 1)
			continue;
		n = put_user_str(e, off, e->args[i]);
		barrier_var(k); /* keep the mask: the verifier needs it to bound the index */
		e->str_len[k & (VIGIL_MAX_STR - 1)] = n;
		e->nstr = k + 1;
		off += n;
	}
	if ((cfg & VIGIL_SC_HOW_ARG2) && e->nstr < VIGIL_MAX_STR) {
		unsigned short k = e->nstr;
		long n = 24;

		if (bpf_probe_read_user(&e->data[off & OFF_MASK], 24, (const void *)e->args[2]))
			n = 0;
		barrier_var(k);
		e->str_len[k & (VIGIL_MAX_STR - 1)] = n;
		e->nstr = k + 1;
		off += n;
	}
	if (cfg & VIGIL_SC_SOCK_ARG0)
		fill_sock(e, t, (long)e->args[0]);
	else if ((cfg & VIGIL_SC_SOCK_RES) && ret >= 0)
		fill_sock(e, t, ret);
	emit(e, off);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vigil_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct vigil_event *e;
	struct pt_regs *regs;
	struct mm_struct *mm;
	const char *s;
	unsigned long off = 0, start, end, len;
	long n;

	if (p->tgid == self_tgid)
		return 0;
	e = event_get();
	if (!e)
		return 0;
	fill_task(e, p, VIGIL_K_EXEC);
	/* which exec syscall: from the task's saved registers where the kernel has the helper
	 * (5.15+); on older kernels the branch is dead code and execve is assumed */
	e->nr = execve_nr;
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs)) {
		regs = (struct pt_regs *)bpf_task_pt_regs(p);
		e->nr = BPF_CORE_READ(regs, orig_ax);
	}

	/* 0: the file name given to exec */
	s = BPF_CORE_READ(bprm, filename);
	n = bpf_probe_read_kernel_str(&e->data[0], VIGIL_STR_MAX, s);
	n = n > 0 ? n : 0;
	e->str_len[0] = n;
	off = n;

	/* 1: argv, NUL-separated, from the new image's stack */
	mm = BPF_CORE_READ(p, mm);
	start = BPF_CORE_READ(mm, arg_start);
	end = BPF_CORE_READ(mm, arg_end);
	len = end > start ? end - start : 0;
	if (len > VIGIL_STR_MAX - 1)
		len = VIGIL_STR_MAX - 1;
	if (len && bpf_probe_read_user(&e->data[off & OFF_MASK], len & (VIGIL_STR_MAX - 1),
				       (const void *)start))
		len = 0;
	e->str_len[1] = len;
	off += len;

	/* 2: the leaf name of the task's cgroup (v2), where container runtimes put the id */
	s = BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, name);
	n = bpf_probe_read_kernel_str(&e->data[off & OFF_MASK], VIGIL_CGROUP_LEN, s);
	n = n > 0 ? n : 0;
	e->str_len[2] = n;
	off += n;
	e->nstr = 3;
	emit(e, off);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(vigil_fork, struct task_struct *parent, struct task_struct *child)
{
	struct vigil_event *e;

	if (child->pid != child->tgid || parent->tgid == self_tgid)
		return 0; /* a new thread, not a new process */
	e = event_get();
	if (!e)
		return 0;
	fill_task(e, child, VIGIL_K_FORK);
	e->ppid = parent->tgid;
	emit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(vigil_exit, struct task_struct *p)
{
	struct vigil_event *e;

	if (p->pid != p->tgid || p->tgid == self_tgid)
		return 0;
	e = event_get();
	if (!e)
		return 0;
	fill_task(e, p, VIGIL_K_EXIT);
	e->res = BPF_CORE_READ(p, exit_code);
	if (test_verifier_reject)
		e->res = *(volatile long *)(long)e->start_ns;
	emit(e, 0);
	return 0;
}
