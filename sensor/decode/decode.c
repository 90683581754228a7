// SPDX-License-Identifier: Apache-2.0
#include "sensor/decode/decode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sensor/k8s/meta.h"
#include "sensor/probe/syscalls.h"
#include "sensor/proc/proc.h"

#define PATHBUF 8300

struct decoder {
	struct proc_table *procs;
	struct k8s_meta *meta;
	const char *proc_root;
	int64_t boot_to_real;
	/* scratch for one event */
	char path[2][PATHBUF];
	char argtxt[6][32];
	char flags[256];
	char fdname[160];
	char lip[INET6_ADDRSTRLEN], rip[INET6_ADDRSTRLEN];
	char cwd[4200];
	char res[32];
	struct k8s_pod_meta pm;
	/* thread.cap_effective text cache */
	uint64_t cap_val;
	char *cap_txt;
};

struct decoder *decode_new(struct proc_table *procs, struct k8s_meta *meta, const char *proc_root)
{
	struct decoder *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->procs = procs;
	d->meta = meta;
	d->proc_root = proc_root ? proc_root : "/proc";
	decode_sync_clock(d);
	return d;
}

void decode_free(struct decoder *d)
{
	if (!d)
		return;
	free(d->cap_txt);
	free(d);
}

void decode_set_clock_offset(struct decoder *d, int64_t off)
{
	d->boot_to_real = off;
}

void decode_sync_clock(struct decoder *d)
{
	struct timespec r, b;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_BOOTTIME, &b);
	d->boot_to_real = ((int64_t)r.tv_sec - b.tv_sec) * 1000000000ll + (r.tv_nsec - b.tv_nsec);
}

const char *decode_open_flags(uint64_t f, char *buf, size_t len)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} bits[] = {
	    {O_CREAT, "O_CREAT"},
	    {O_EXCL, "O_EXCL"},
	    {O_NOCTTY, "O_NOCTTY"},
	    {O_TRUNC, "O_TRUNC"},
	    {O_APPEND, "O_APPEND"},
	    {O_NONBLOCK, "O_NONBLOCK"},
	    {O_DSYNC, "O_DSYNC"},
	    {O_DIRECT, "O_DIRECT"},
	    {0100000 /* the kernel's O_LARGEFILE; glibc defines 0 */, "O_LARGEFILE"},
	    {O_NOFOLLOW, "O_NOFOLLOW"},
	    {O_NOATIME, "O_NOATIME"},
	    {O_CLOEXEC, "O_CLOEXEC"},
	    {O_PATH, "O_PATH"},
	};
	size_t i, n;

	switch (f & O_ACCMODE) {
	case O_WRONLY:
		n = snprintf(buf, len, "O_WRONLY");
		break;
	case O_RDWR:
		n = snprintf(buf, len, "O_RDWR");
		break;
	default:
		n = snprintf(buf, len, "O_RDONLY");
	}
	if ((f & O_TMPFILE) == O_TMPFILE)
		n += snprintf(buf + n, n < len ? len - n : 0, "|O_TMPFILE");
	else if (f & O_DIRECTORY)
		n += snprintf(buf + n, n < len ? len - n : 0, "|O_DIRECTORY");
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (bits[i].bit && (f & bits[i].bit) == bits[i].bit && n < len)
			n += snprintf(buf + n, len - n, "|%s", bits[i].name);
	return buf;
}

const char *decode_addr(int family, const unsigned char *addr, char *buf, size_t len)
{
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

/* The i-th variable part of e, or NULL when absent/empty; *n gets its length. */
static const char *part(const struct vigil_event *e, size_t len, int i, size_t *n)
{
	size_t off = 0;
	int k;

	if (i >= e->nstr || i >= VIGIL_MAX_STR)
		return NULL;
	for (k = 0; k < i; k++)
		off += e->str_len[k];
	if (!e->str_len[i] || VIGIL_EVENT_HDR_SIZE + off + e->str_len[i] > len)
		return NULL;
	*n = e->str_len[i];
	return e->data + off;
}

/* A NUL-terminated string part (strings carry their NUL), or NULL. */
static const char *str_part(const struct vigil_event *e, size_t len, int i)
{
	size_t n = 0;
	const char *s = part(e, len, i, &n);

	if (!s || s[n - 1] != '\0')
		return NULL;
	return s;
}

/* Resolves path relative to dirfd (AT_FDCWD: the process's cwd) into out; returns out or path. */
static const char *resolve(struct decoder *d, const struct proc_entry *p, uint32_t tid, long dirfd,
			   const char *path, char *out)
{
	char link[64];
	ssize_t n;

	if (!path || path[0] == '/' || !path[0])
		return path;
	if (dirfd == AT_FDCWD) {
		if (!p || !p->cwd)
			return path;
		snprintf(out, PATHBUF, "%s%s%s", p->cwd,
			 p->cwd[strlen(p->cwd) - 1] == '/' ? "" : "/", path);
		return out;
	}
	snprintf(link, sizeof(link), "%s/%u/fd/%ld", d->proc_root, tid, dirfd);
	n = readlink(link, d->cwd, sizeof(d->cwd) - 1);
	if (n <= 0)
		return path;
	d->cwd[n] = '\0';
	snprintf(out, PATHBUF, "%s/%s", d->cwd, path);
	return out;
}

static const char *caps_text(struct decoder *d, uint64_t v)
{
	size_t cap = 2048, n = 0;
	int i;

	if (d->cap_txt && d->cap_val == v)
		return d->cap_txt;
	free(d->cap_txt);
	d->cap_txt = malloc(cap);
	if (!d->cap_txt)
		return NULL;
	d->cap_txt[0] = '\0';
	for (i = 0; i < 64 && n < cap; i++) {
		char *name;

		if (!(v & (1ull << i)))
			continue;
		name = cap_to_name(i);
		if (!name)
			continue;
		for (char *c = name; *c; c++)
			if (*c >= 'a' && *c <= 'z')
				*c -= 32;
		n += snprintf(d->cap_txt + n, cap - n, "%s%s", n ? " " : "", name);
		cap_free(name);
	}
	d->cap_val = v;
	return d->cap_txt;
}

static const char *ptrace_req(long r)
{
	switch (r) {
	case 0:
		return "PTRACE_TRACEME";
	case 1:
		return "PTRACE_PEEKTEXT";
	case 2:
		return "PTRACE_PEEKDATA";
	case 3:
		return "PTRACE_PEEKUSR";
	case 4:
		return "PTRACE_POKETEXT";
	case 5:
		return "PTRACE_POKEDATA";
	case 6:
		return "PTRACE_POKEUSR";
	case 7:
		return "PTRACE_CONT";
	case 8:
		return "PTRACE_KILL";
	case 9:
		return "PTRACE_SINGLESTEP";
	case 12:
		return "PTRACE_GETREGS";
	case 13:
		return "PTRACE_SETREGS";
	case 16:
		return "PTRACE_ATTACH";
	case 17:
		return "PTRACE_DETACH";
	case 0x4206:
		return "PTRACE_SEIZE";
	}
	return NULL;
}

/* Process fields, container and k8s fields, ancestors, user, result. */
static void fill_common(struct decoder *d, const struct vigil_event *e, struct proc_entry *p,
			struct rules_event *ev)
{
	const struct proc_entry *a;
	uint32_t ppid;
	int depth;

	ev->ts_ns = e->ts + d->boot_to_real;
	rules_event_set_str(ev, RULES_F_PROC_NAME, p && p->name[0] ? p->name : e->comm);
	rules_event_set_num(ev, RULES_F_PROC_PID, e->tgid);
	rules_event_set_num(ev, RULES_F_THREAD_TID, e->tid);
	rules_event_set_num(ev, RULES_F_PROC_PPID, e->ppid);
	rules_event_set_num(ev, RULES_F_PROC_VPID, e->vpid);
	if (p) {
		rules_event_set_str(ev, RULES_F_PROC_EXE, p->exe);
		rules_event_set_str(ev, RULES_F_PROC_EXEPATH, p->exepath);
		rules_event_set_str(ev, RULES_F_PROC_ARGS, p->args ? p->args : "");
		rules_event_set_str(ev, RULES_F_PROC_CMDLINE, p->cmdline);
		rules_event_set_str(ev, RULES_F_PROC_CWD, p->cwd);
	}
	rules_event_set_num(ev, RULES_F_PROC_TTY, e->tty);
	rules_event_set_num(ev, RULES_F_USER_UID, e->euid);
	rules_event_set_str(ev, RULES_F_USER_NAME, proc_user_name(e->euid));
	rules_event_set_num(ev, RULES_F_USER_LOGINUID, (int32_t)e->loginuid);
	if (e->loginuid != (uint32_t)-1)
		rules_event_set_str(ev, RULES_F_USER_LOGINNAME, proc_user_name(e->loginuid));
	rules_event_set_num(ev, RULES_F_GROUP_GID, e->egid);
	rules_event_set_str(ev, RULES_F_GROUP_NAME, proc_group_name(e->egid));
	rules_event_set_str(ev, RULES_F_THREAD_CAP_EFFECTIVE, caps_text(d, e->cap_effective));
	rules_event_set_num(ev, RULES_F_EVT_CPU, e->cpu);
	rules_event_set_str(ev, RULES_F_EVT_SOURCE, "syscall");
	if (p && p->cid[0]) {
		rules_event_set_str(ev, RULES_F_CONTAINER_ID, p->cid);
		if (d->meta && k8s_meta_lookup(d->meta, p->cid, &d->pm)) {
			rules_event_set_str(ev, RULES_F_K8S_NS_NAME, d->pm.ns);
			rules_event_set_str(ev, RULES_F_K8S_POD_NAME, d->pm.pod);
			if (d->pm.pod_uid[0])
				rules_event_set_str(ev, RULES_F_K8S_POD_UID, d->pm.pod_uid);
			rules_event_set_str(ev, RULES_F_CONTAINER_NAME, d->pm.container);
			rules_event_set_str(ev, RULES_F_CONTAINER_IMAGE, d->pm.image);
			rules_event_set_str(ev, RULES_F_CONTAINER_IMAGE_REPOSITORY,
					    d->pm.image_repo);
			rules_event_set_str(ev, RULES_F_CONTAINER_IMAGE_TAG, d->pm.image_tag);
		}
	} else {
		rules_event_set_str(ev, RULES_F_CONTAINER_ID, "host");
	}
	/* ancestors, parent first */
	ppid = p ? p->ppid : e->ppid;
	for (depth = 0; depth < RULES_EVENT_MAX_ANC && ppid; depth++) {
		a = proc_table_get(d->procs, ppid);
		if (!a || a->pid == a->ppid)
			break;
		rules_event_push_ancestor(ev, a->name, a->exe, a->exepath, a->pid);
		ppid = a->ppid;
	}
	rules_event_set_num(ev, RULES_F_EVT_RAWRES, e->res);
	if (e->res >= 0) {
		rules_event_set_str(ev, RULES_F_EVT_RES, "SUCCESS");
	} else {
		const char *name = strerrorname_np((int)-e->res);

		snprintf(d->res, sizeof(d->res), "%s", name ? name : "E?");
		rules_event_set_str(ev, RULES_F_EVT_RES, d->res);
	}
}

/* The process entry for the record's process, loading it from /proc when unknown. */
static struct proc_entry *entry_for(struct decoder *d, const struct vigil_event *e)
{
	struct proc_entry *p = proc_table_get(d->procs, e->tgid);

	if (p)
		return p;
	if (proc_table_load_pid(d->procs, d->proc_root, e->tgid) == 0)
		p = proc_table_get(d->procs, e->tgid);
	if (!p) {
		p = proc_table_fork(d->procs, e->ppid, e->tgid);
		if (p)
			snprintf(p->name, sizeof(p->name), "%s", e->comm);
	}
	return p;
}

static void fill_sock(struct decoder *d, const struct vigil_event *e, struct rules_event *ev,
		      bool server_side)
{
	const struct vigil_sock *s = &e->sock;
	const char *proto;

	if (s->family == AF_UNIX) {
		rules_event_set_str(ev, RULES_F_FD_TYPE, "unix");
		rules_event_set_str(ev, RULES_F_FD_TYPECHAR, "u");
		rules_event_set_str(ev, RULES_F_FD_SOCKFAMILY, "unix");
		return;
	}
	if (s->family != AF_INET && s->family != AF_INET6)
		return;
	decode_addr(s->family, s->laddr, d->lip, sizeof(d->lip));
	decode_addr(s->family, s->raddr, d->rip, sizeof(d->rip));
	proto = s->type == SOCK_STREAM ? "tcp" : s->type == SOCK_DGRAM ? "udp" : "raw";
	rules_event_set_str(ev, RULES_F_FD_TYPE, s->family == AF_INET ? "ipv4" : "ipv6");
	rules_event_set_str(ev, RULES_F_FD_TYPECHAR, s->family == AF_INET ? "4" : "6");
	rules_event_set_str(ev, RULES_F_FD_SOCKFAMILY, "ip");
	rules_event_set_str(ev, RULES_F_FD_L4PROTO, proto);
	rules_event_set_str(ev, RULES_F_FD_LIP, d->lip);
	rules_event_set_str(ev, RULES_F_FD_RIP, d->rip);
	rules_event_set_num(ev, RULES_F_FD_LPORT, s->lport);
	rules_event_set_num(ev, RULES_F_FD_RPORT, s->rport);
	if (server_side) {
		rules_event_set_str(ev, RULES_F_FD_SIP, d->lip);
		rules_event_set_str(ev, RULES_F_FD_CIP, d->rip);
		rules_event_set_num(ev, RULES_F_FD_SPORT, s->lport);
		rules_event_set_num(ev, RULES_F_FD_CPORT, s->rport);
		snprintf(d->fdname, sizeof(d->fdname), "%s:%u->%s:%u", d->rip, s->rport, d->lip,
			 s->lport);
	} else {
		rules_event_set_str(ev, RULES_F_FD_CIP, d->lip);
		rules_event_set_str(ev, RULES_F_FD_SIP, d->rip);
		rules_event_set_num(ev, RULES_F_FD_CPORT, s->lport);
		rules_event_set_num(ev, RULES_F_FD_SPORT, s->rport);
		snprintf(d->fdname, sizeof(d->fdname), "%s:%u->%s:%u", d->lip, s->lport, d->rip,
			 s->rport);
	}
	rules_event_set_num(ev, RULES_F_FD_IS_SERVER, server_side);
	rules_event_set_num(ev, RULES_F_FD_CONNECTED, e->res >= 0 || e->res == -EINPROGRESS);
	rules_event_set_str(ev, RULES_F_FD_NAME, d->fdname);
}

static int decode_syscall(struct decoder *d, const struct vigil_event *e, size_t len,
			  struct rules_event *ev)
{
	const struct probe_syscall *sc = probe_syscall_by_nr(e->nr);
	const char *strs[6] = {0};
	struct proc_entry *p;
	int i, k = 0;

	if (!sc)
		return DECODE_SKIP;
	p = entry_for(d, e);
	if (p) {
		p->uid = e->euid;
		p->gid = e->egid;
	}
	ev->type = rules_evttype_from_name(sc->name);
	for (i = 0; i < 6; i++)
		if (sc->cfg & VIGIL_SC_STR(i))
			strs[i] = str_part(e, len, k++);

	/* arguments by name */
	for (i = 0; i < 6 && sc->argnames[i]; i++) {
		const char *n = sc->argnames[i], *v = strs[i];

		if (!v) {
			long a = (long)e->args[i];

			if (!strcmp(n, "flags") &&
			    (ev->type == RULES_EVT_open || ev->type == RULES_EVT_openat))
				v = decode_open_flags(a, d->flags, sizeof(d->flags));
			else if (!strcmp(n, "mode"))
				snprintf(d->argtxt[i], sizeof(d->argtxt[i]), "0%lo", a & 07777),
				    v = d->argtxt[i];
			else if (!strcmp(n, "request") && ptrace_req(a))
				v = ptrace_req(a);
			else if (!strcmp(n, "dirfd") || !strcmp(n, "olddirfd") ||
				 !strcmp(n, "newdirfd") || !strcmp(n, "fd"))
				snprintf(d->argtxt[i], sizeof(d->argtxt[i]), "%d", (int)a),
				    v = d->argtxt[i];
			else
				snprintf(d->argtxt[i], sizeof(d->argtxt[i]), "%ld", a),
				    v = d->argtxt[i];
		}
		rules_event_push_arg(ev, n, v);
	}

	switch (ev->type) {
	case RULES_EVT_open:
	case RULES_EVT_openat:
	case RULES_EVT_openat2:
	case RULES_EVT_creat: {
		int pi = ev->type == RULES_EVT_open || ev->type == RULES_EVT_creat ? 0 : 1;
		long dirfd = pi ? (int)e->args[0] : AT_FDCWD;
		uint64_t flags = e->args[1];
		const char *name;

		if (ev->type == RULES_EVT_openat)
			flags = e->args[2];
		else if (ev->type == RULES_EVT_creat)
			flags = O_CREAT | O_WRONLY | O_TRUNC;
		else if (ev->type == RULES_EVT_openat2) {
			size_t n = 0;
			const char *how = part(e, len, 1, &n);

			flags = 0;
			if (how && n >= 8)
				memcpy(&flags, how, 8);
		}
		if (ev->type != RULES_EVT_open && ev->type != RULES_EVT_openat) {
			decode_open_flags(flags, d->flags, sizeof(d->flags));
			rules_event_push_arg(ev, "flags", d->flags);
		}
		name = resolve(d, p, e->tid, dirfd, strs[pi], d->path[0]);
		if (name) {
			rules_event_set_str(ev, RULES_F_FD_NAME, name);
			rules_event_set_str(ev, RULES_F_FD_NAMERAW, strs[pi]);
		}
		rules_event_set_num(ev, RULES_F_FD_NUM, e->res >= 0 ? e->res : -1);
		rules_event_set_str(ev, RULES_F_FD_TYPE,
				    flags & O_DIRECTORY ? "directory" : "file");
		rules_event_set_str(ev, RULES_F_FD_TYPECHAR, flags & O_DIRECTORY ? "d" : "f");
		break;
	}
	case RULES_EVT_connect:
		fill_sock(d, e, ev, false);
		break;
	case RULES_EVT_accept:
	case RULES_EVT_accept4:
		rules_event_set_num(ev, RULES_F_FD_NUM, e->res >= 0 ? e->res : -1);
		fill_sock(d, e, ev, true);
		break;
	case RULES_EVT_listen:
		fill_sock(d, e, ev, true);
		break;
	case RULES_EVT_chdir:
		if (e->res == 0 && strs[0] && p) {
			const char *cwd = resolve(d, p, e->tid, AT_FDCWD, strs[0], d->path[0]);

			proc_table_set_cwd(d->procs, e->tgid, cwd);
		}
		break;
	case RULES_EVT_rename:
	case RULES_EVT_link:
	case RULES_EVT_symlink:
		rules_event_set_str(ev, RULES_F_FS_PATH_SOURCE,
				    resolve(d, p, e->tid, AT_FDCWD, strs[0], d->path[0]));
		rules_event_set_str(ev, RULES_F_FS_PATH_TARGET,
				    resolve(d, p, e->tid, AT_FDCWD, strs[1], d->path[1]));
		break;
	case RULES_EVT_renameat:
	case RULES_EVT_renameat2:
	case RULES_EVT_linkat:
		rules_event_set_str(ev, RULES_F_FS_PATH_SOURCE,
				    resolve(d, p, e->tid, (int)e->args[0], strs[1], d->path[0]));
		rules_event_set_str(ev, RULES_F_FS_PATH_TARGET,
				    resolve(d, p, e->tid, (int)e->args[2], strs[3], d->path[1]));
		break;
	case RULES_EVT_unlink:
	case RULES_EVT_rmdir:
	case RULES_EVT_mkdir:
	case RULES_EVT_chmod:
		rules_event_set_str(ev, RULES_F_FS_PATH_NAME,
				    resolve(d, p, e->tid, AT_FDCWD, strs[0], d->path[0]));
		break;
	case RULES_EVT_unlinkat:
	case RULES_EVT_mkdirat:
	case RULES_EVT_fchmodat:
		rules_event_set_str(ev, RULES_F_FS_PATH_NAME,
				    resolve(d, p, e->tid, (int)e->args[0], strs[1], d->path[0]));
		break;
	default:
		break;
	}
	fill_common(d, e, p, ev);
	return DECODE_EVAL;
}

static int decode_exec(struct decoder *d, const struct vigil_event *e, size_t len,
		       struct rules_event *ev)
{
	const char *filename = str_part(e, len, 0), *cg = str_part(e, len, 2);
	size_t argv_len = 0;
	const char *argv = part(e, len, 1, &argv_len);
	struct proc_entry *p;
	char link[64];
	ssize_t n;

	/* the exe path: the name given to exec when absolute, else what /proc says */
	if (!filename || filename[0] != '/' || !strncmp(filename, "/dev/fd/", 8)) {
		snprintf(link, sizeof(link), "%s/%u/exe", d->proc_root, e->tgid);
		n = readlink(link, d->path[0], PATHBUF - 1);
		if (n > 0) {
			d->path[0][n] = '\0';
			filename = d->path[0];
		}
	}
	p = proc_table_exec(d->procs, e->tgid, e->ppid, e->comm, filename, argv ? argv : "",
			    argv_len, cg ? cg : "");
	if (p) {
		p->uid = e->euid;
		p->gid = e->egid;
		p->loginuid = e->loginuid;
		p->tty = e->tty;
		p->vpid = e->vpid;
		p->start_ns = e->start_ns;
		p->cgroup_id = e->cgroup_id;
	}
	ev->type = probe_syscall_by_nr(e->nr) && !strcmp(probe_syscall_name(e->nr), "execveat")
		       ? RULES_EVT_execveat
		       : RULES_EVT_execve;
	if (filename)
		rules_event_push_arg(ev, "filename", filename);
	fill_common(d, e, p, ev);
	return DECODE_EVAL;
}

int decode_event(struct decoder *d, const struct vigil_event *e, size_t len, struct rules_event *ev)
{
	int r;

	if (len < VIGIL_EVENT_HDR_SIZE || e->abi != VIGIL_ABI_VERSION || e->nstr > VIGIL_MAX_STR)
		return -EINVAL;
	rules_event_reset(ev);
	switch (e->kind) {
	case VIGIL_K_FORK: {
		struct proc_entry *p;

		if (!proc_table_get(d->procs, e->ppid))
			proc_table_load_pid(d->procs, d->proc_root, e->ppid);
		p = proc_table_fork(d->procs, e->ppid, e->tgid);
		if (p && !p->name[0])
			snprintf(p->name, sizeof(p->name), "%s", e->comm);
		return DECODE_SKIP;
	}
	case VIGIL_K_EXIT:
		proc_table_exit(d->procs, e->tgid);
		return DECODE_SKIP;
	case VIGIL_K_EXEC:
		r = decode_exec(d, e, len, ev);
		break;
	case VIGIL_K_SYSCALL:
		r = decode_syscall(d, e, len, ev);
		break;
	default:
		return -EINVAL;
	}
	if (r == DECODE_EVAL) {
		rules_event_set_str(ev, RULES_F_EVT_DIR, "<");
		rules_event_derive(ev);
	}
	return r;
}
