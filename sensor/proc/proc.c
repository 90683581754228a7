// SPDX-License-Identifier: Apache-2.0
#include "sensor/proc/proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node {
	struct proc_entry e;
	struct node *next;
};

struct proc_table {
	struct node **b;
	size_t nb, n;
};

static size_t slot(const struct proc_table *t, uint32_t pid)
{
	return (pid * 2654435761u) & (t->nb - 1);
}

struct proc_table *proc_table_new(void)
{
	struct proc_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nb = 4096;
	t->b = calloc(t->nb, sizeof(*t->b));
	if (!t->b) {
		free(t);
		return NULL;
	}
	return t;
}

static void entry_clear(struct proc_entry *e)
{
	free(e->exe);
	free(e->exepath);
	free(e->args);
	free(e->cmdline);
	free(e->cwd);
	e->exe = e->exepath = e->args = e->cmdline = e->cwd = NULL;
}

void proc_table_free(struct proc_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nb; i++) {
		struct node *n = t->b[i], *next;

		for (; n; n = next) {
			next = n->next;
			entry_clear(&n->e);
			free(n);
		}
	}
	free(t->b);
	free(t);
}

size_t proc_table_count(const struct proc_table *t)
{
	return t->n;
}

struct proc_entry *proc_table_get(struct proc_table *t, uint32_t pid)
{
	struct node *n;

	for (n = t->b[slot(t, pid)]; n; n = n->next)
		if (n->e.pid == pid)
			return &n->e;
	return NULL;
}

static void grow(struct proc_table *t)
{
	size_t nb = t->nb * 2, i;
	struct node **b = calloc(nb, sizeof(*b));

	if (!b)
		return; /* keep chaining longer */
	for (i = 0; i < t->nb; i++) {
		struct node *n = t->b[i], *next;

		for (; n; n = next) {
			size_t s = (n->e.pid * 2654435761u) & (nb - 1);

			next = n->next;
			n->next = b[s];
			b[s] = n;
		}
	}
	free(t->b);
	t->b = b;
	t->nb = nb;
}

/* Returns the entry for pid, created empty (pid set) when missing; NULL on ENOMEM. */
static struct proc_entry *get_or_add(struct proc_table *t, uint32_t pid)
{
	struct proc_entry *e = proc_table_get(t, pid);
	struct node *n;
	size_t s;

	if (e)
		return e;
	if (t->n >= t->nb * 2)
		grow(t);
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->e.pid = pid;
	n->e.loginuid = (uint32_t)-1;
	s = slot(t, pid);
	n->next = t->b[s];
	t->b[s] = n;
	t->n++;
	return &n->e;
}

void proc_table_exit(struct proc_table *t, uint32_t pid)
{
	struct node **pp = &t->b[slot(t, pid)], *n;

	for (; (n = *pp); pp = &n->next) {
		if (n->e.pid == pid) {
			*pp = n->next;
			entry_clear(&n->e);
			free(n);
			t->n--;
			return;
		}
	}
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *proc_join_args(const char *argv, size_t len, int from)
{
	char *out = malloc(len + 1), *o = out;
	size_t i = 0;
	int idx = 0;

	if (!out)
		return NULL;
	while (i < len) {
		size_t n = strnlen(argv + i, len - i);

		if (idx >= from) {
			if (o != out)
				*o++ = ' ';
			memcpy(o, argv + i, n);
			o += n;
		}
		idx++;
		i += n + 1;
	}
	*o = '\0';
	return out;
}

static void set_cmdline(struct proc_entry *e)
{
	size_t n = strlen(e->name) + 1 + (e->args ? strlen(e->args) : 0) + 1;

	free(e->cmdline);
	e->cmdline = malloc(n);
	if (!e->cmdline)
		return;
	if (e->args && e->args[0])
		snprintf(e->cmdline, n, "%s %s", e->name, e->args);
	else
		snprintf(e->cmdline, n, "%s", e->name);
}

struct proc_entry *proc_table_fork(struct proc_table *t, uint32_t ppid, uint32_t pid)
{
	struct proc_entry *p, *e;

	proc_table_exit(t, pid); /* a reused pid */
	e = get_or_add(t, pid);
	if (!e)
		return NULL;
	p = proc_table_get(t, ppid);
	e->ppid = ppid;
	if (!p)
		return e;
	e->uid = p->uid;
	e->gid = p->gid;
	e->loginuid = p->loginuid;
	e->tty = p->tty;
	memcpy(e->name, p->name, sizeof(e->name));
	memcpy(e->cid, p->cid, sizeof(e->cid));
	e->cgroup_id = p->cgroup_id;
	e->exe = xstrdup(p->exe);
	e->exepath = xstrdup(p->exepath);
	e->args = xstrdup(p->args);
	e->cmdline = xstrdup(p->cmdline);
	e->cwd = xstrdup(p->cwd);
	return e;
}

struct proc_entry *proc_table_exec(struct proc_table *t, uint32_t pid, uint32_t ppid,
				   const char *comm, const char *filename, const char *argv,
				   size_t argv_len, const char *cgroup_leaf)
{
	struct proc_entry *e = get_or_add(t, pid);
	size_t n0;

	if (!e)
		return NULL;
	e->ppid = ppid;
	e->from_proc = false;
	snprintf(e->name, sizeof(e->name), "%s", comm ? comm : "");
	free(e->exe);
	free(e->exepath);
	free(e->args);
	n0 = argv_len ? strnlen(argv, argv_len) : 0;
	e->exe = n0 ? strndup(argv, n0) : xstrdup(filename);
	e->exepath = xstrdup(filename);
	e->args = proc_join_args(argv, argv_len, 1);
	set_cmdline(e);
	if (cgroup_leaf)
		proc_container_id(cgroup_leaf, e->cid);
	return e;
}

void proc_table_set_cwd(struct proc_table *t, uint32_t pid, const char *cwd)
{
	struct proc_entry *e = proc_table_get(t, pid);

	if (!e)
		return;
	free(e->cwd);
	e->cwd = xstrdup(cwd);
}

/* ---- container ids ---- */

static bool hexrun(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

/* Checks one path component for a runtime pattern. */
static bool component_id(const char *c, size_t len, char out[PROC_CID_LEN])
{
	static const char *const prefixes[] = {"cri-containerd-", "crio-", "docker-", "libpod-",
					       "containerd-"};
	size_t i, pl;

	if (len > 6 && !memcmp(c + len - 6, ".scope", 6))
		len -= 6;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		pl = strlen(prefixes[i]);
		if (len == pl + 64 && !memcmp(c, prefixes[i], pl) && hexrun(c + pl, 64)) {
			memcpy(out, c + pl, 64);
			out[64] = '\0';
			return true;
		}
	}
	/* cgroupfs driver: /kubepods/.../pod<uid>/<id>, /docker/<id>, /system.slice/containerd/<id>
	 */
	if (len == 64 && hexrun(c, 64)) {
		memcpy(out, c, 64);
		out[64] = '\0';
		return true;
	}
	return false;
}

bool proc_container_id(const char *cgroup, char out[PROC_CID_LEN])
{
	const char *p = cgroup, *end;

	out[0] = '\0';
	if (!cgroup)
		return false;
	/* the innermost matching component wins */
	while (*p) {
		size_t len;

		end = strchr(p, '/');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len && strncmp(p, "crio-conmon-", 12)) {
			char tmp[PROC_CID_LEN];

			if (component_id(p, len, tmp))
				memcpy(out, tmp, PROC_CID_LEN);
		}
		if (!end)
			break;
		p = end + 1;
	}
	return out[0] != '\0';
}

/* ---- seeding from /proc ---- */

static ssize_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)total < len - 1 && (n = read(fd, buf + total, len - 1 - total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return total;
}

static char *read_link(const char *path)
{
	char buf[4096];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

int proc_table_load_pid(struct proc_table *t, const char *root, uint32_t pid)
{
	char path[512], *buf;
	struct proc_entry *e;
	ssize_t n;
	char *p;
	int err = 0;

	buf = malloc(8192);
	if (!buf)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%u/stat", root, pid);
	n = read_file(path, buf, 8192);
	if (n <= 0) {
		err = n < 0 ? (int)n : -ENOENT;
		goto out;
	}
	proc_table_exit(t, pid);
	e = get_or_add(t, pid);
	if (!e) {
		err = -ENOMEM;
		goto out;
	}
	e->from_proc = true;
	/* pid (comm) state ppid pgrp session tty_nr ... field 22 starttime */
	p = strchr(buf, '(');
	if (p) {
		char *q = strrchr(p, ')');
		int tty = 0;
		unsigned ppid = 0;

		if (q) {
			size_t cl = q - p - 1;

			if (cl >= sizeof(e->name))
				cl = sizeof(e->name) - 1;
			memcpy(e->name, p + 1, cl);
			e->name[cl] = '\0';
			if (sscanf(q + 2, "%*c %u %*d %*d %d", &ppid, &tty) == 2) {
				e->ppid = ppid;
				e->tty = tty > 0 ? (uint32_t)tty : 0;
			}
		}
	}
	snprintf(path, sizeof(path), "%s/%u/status", root, pid);
	if (read_file(path, buf, 8192) > 0) {
		unsigned ruid, euid, rgid, egid;

		/* "Uid:\treal\teffective\t...": Falco's user.uid is the effective one */
		p = strstr(buf, "\nUid:");
		if (p && sscanf(p + 5, "%u %u", &ruid, &euid) == 2)
			e->uid = euid;
		p = strstr(buf, "\nGid:");
		if (p && sscanf(p + 5, "%u %u", &rgid, &egid) == 2)
			e->gid = egid;
		p = strstr(buf, "\nNSpid:");
		if (p) {
			char *last = p + 7, *nl = strchr(last, '\n'), *tab;

			while ((tab = strchr(last, '\t')) && (!nl || tab < nl))
				last = tab + 1;
			e->vpid = strtoul(last, NULL, 10);
		}
	}
	snprintf(path, sizeof(path), "%s/%u/loginuid", root, pid);
	if (read_file(path, buf, 64) > 0)
		e->loginuid = strtoul(buf, NULL, 10);
	snprintf(path, sizeof(path), "%s/%u/cmdline", root, pid);
	n = read_file(path, buf, 8192);
	if (n > 0) {
		size_t n0 = strnlen(buf, n);

		e->exe = strndup(buf, n0);
		e->args = proc_join_args(buf, n, 1);
	} else {
		e->args = strdup("");
	}
	set_cmdline(e);
	snprintf(path, sizeof(path), "%s/%u/exe", root, pid);
	e->exepath = read_link(path);
	snprintf(path, sizeof(path), "%s/%u/cwd", root, pid);
	e->cwd = read_link(path);
	snprintf(path, sizeof(path), "%s/%u/cgroup", root, pid);
	if (read_file(path, buf, 8192) > 0) {
		/* v2: "0::/path"; v1: several "N:ctrl:/path" lines; check each path */
		char *line = buf, *nl;

		for (; line && *line; line = nl ? nl + 1 : NULL) {
			char *colon;

			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			colon = strchr(line, ':');
			colon = colon ? strchr(colon + 1, ':') : NULL;
			if (colon && proc_container_id(colon + 1, e->cid))
				break;
		}
	}
out:
	free(buf);
	return err;
}

int proc_table_seed(struct proc_table *t, const char *root)
{
	DIR *d = opendir(root);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (*end || !pid)
			continue;
		if (proc_table_load_pid(t, root, pid) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* ---- user and group names ---- */

struct idname {
	uint32_t id;
	char *name;
};

struct idcache {
	pthread_mutex_t lock;
	struct idname *v;
	size_t n, cap;
};

static struct idcache users = {.lock = PTHREAD_MUTEX_INITIALIZER};
static struct idcache groups = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *idcache_get(struct idcache *c, uint32_t id, bool user)
{
	const char *res = NULL;
	char buf[16384], num[16];
	size_t i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->n; i++)
		if (c->v[i].id == id) {
			res = c->v[i].name;
			goto out;
		}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct idname *nv = realloc(c->v, cap * sizeof(*nv));

		if (!nv)
			goto out;
		c->v = nv;
		c->cap = cap;
	}
	snprintf(num, sizeof(num), "%u", id);
	if (user) {
		struct passwd pw, *r = NULL;

		getpwuid_r(id, &pw, buf, sizeof(buf), &r);
		c->v[c->n].name = strdup(r ? r->pw_name : num);
	} else {
		struct group gr, *r = NULL;

		getgrgid_r(id, &gr, buf, sizeof(buf), &r);
		c->v[c->n].name = strdup(r ? r->gr_name : num);
	}
	if (!c->v[c->n].name)
		goto out;
	c->v[c->n].id = id;
	res = c->v[c->n++].name;
out:
	pthread_mutex_unlock(&c->lock);
	return res ? res : "<NA>";
}

const char *proc_user_name(uint32_t uid)
{
	return idcache_get(&users, uid, true);
}

const char *proc_group_name(uint32_t gid)
{
	return idcache_get(&groups, gid, false);
}
