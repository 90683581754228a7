/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proc: the process table. Seeded from /proc at start, then kept by the probe's fork, exec and exit
 * records. Entries are owned by the table; pointers returned by proc_table_get stay valid until the
 * next call that changes the table (single-threaded use: the event loop).
 *
 * Also the pure helpers for container ids (cgroup path or leaf name -> id) and user names.
 */
#ifndef VIGIL_SENSOR_PROC_PROC_H
#define VIGIL_SENSOR_PROC_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROC_CID_LEN 65 /* 64 hex + NUL */

struct proc_entry {
	uint32_t pid, ppid;
	uint32_t uid, gid, loginuid;
	uint32_t tty;
	uint32_t vpid;
	uint64_t start_ns;
	char name[16];		/* comm */
	char *exe;		/* argv[0], new */
	char *exepath;		/* the executable's path, new */
	char *args;		/* arguments after argv[0], space-joined, new */
	char *cmdline;		/* name + " " + args (Falco's proc.cmdline), new */
	char *cwd;		/* new, may be NULL */
	char cid[PROC_CID_LEN]; /* container id (12..64 hex) or "" on the host */
	uint64_t cgroup_id;
	bool from_proc; /* seeded from /proc rather than seen exec */
};

struct proc_table;

/* New empty table (capacity grows); NULL on ENOMEM. */
struct proc_table *proc_table_new(void);
void proc_table_free(struct proc_table *t);

/* Number of entries. */
size_t proc_table_count(const struct proc_table *t);

/* Reads every process under root (normally "/proc"). Returns the number seeded or -errno. */
int proc_table_seed(struct proc_table *t, const char *root);

/* Reads one process from root/<pid> into the table (replacing any entry). 0 or -errno. */
int proc_table_load_pid(struct proc_table *t, const char *root, uint32_t pid);

/* Entry for pid or NULL. Borrowed. */
struct proc_entry *proc_table_get(struct proc_table *t, uint32_t pid);

/* A new process pid forked from ppid: copies the parent's entry when known. Returns the entry. */
struct proc_entry *proc_table_fork(struct proc_table *t, uint32_t ppid, uint32_t pid);

/* An exec in pid: replaces exe/exepath/args from argv (NUL-separated, argv_len bytes), name from
 * comm, and the container id from the cgroup leaf name (may be NULL to keep the old). Returns the
 * entry (created when unknown). All strings borrowed. */
struct proc_entry *proc_table_exec(struct proc_table *t, uint32_t pid, uint32_t ppid,
				   const char *comm, const char *filename, const char *argv,
				   size_t argv_len, const char *cgroup_leaf);

/* Sets pid's cwd (borrowed, copied). */
void proc_table_set_cwd(struct proc_table *t, uint32_t pid, const char *cwd);

/* Forgets pid. */
void proc_table_exit(struct proc_table *t, uint32_t pid);

/* Container id from a cgroup path or leaf name: containerd ("cri-containerd-<id>.scope",
 * ".../<id>" under kubepods or containerd), CRI-O ("crio-<id>.scope", "crio-conmon-" excluded),
 * Docker ("docker-<id>.scope", "/docker/<id>"), podman ("libpod-<id>.scope"). Writes the id
 * (64 hex) into out and returns true, or writes "" and returns false. */
bool proc_container_id(const char *cgroup, char out[PROC_CID_LEN]);

/* Joins argv (NUL-separated, len bytes) from index `from` with spaces into a new string (never
 * NULL unless out of memory). */
char *proc_join_args(const char *argv, size_t len, int from);

/* User name for uid (from getpwuid, cached); "<NA>"-free: returns the uid as text when unknown.
 * Static storage owned by the cache, valid for the life of the process. */
const char *proc_user_name(uint32_t uid);

/* Group name for gid, as proc_user_name. */
const char *proc_group_name(uint32_t gid);

#endif
