/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rules_bench: evaluates a synthetic mixed trace (exec / open / connect with realistic paths and
 * process names) against rules files and prints events/s per core, ns/event and the compiled rule
 * set's memory. Numbers only: nothing is asserted (`make bench-rules`).
 *
 *   rules_bench [-n EVENTS] [-j JSONL_EVENTS] RULES_FILE_OR_DIR...
 *
 * Phase 1 ("eval"): events are built in memory the way the live sensor fills them (a pool of
 * distinct events cycled), then evaluated with Falco's first-match default, on one thread.
 * Phase 2 ("replay"): a smaller trace is written as JSON lines and read back through the trace
 * reader, to show the cost of JSON decoding on top.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/rules/rules.h"
#include "lib/rules/trace.h"

#define POOL 2048

static const char *const procs[] = {
    "nginx", "python3",	     "java",	 "postgres", "node",   "kubelet", "containerd", "coredns",
    "envoy", "redis-server", "gunicorn", "php-fpm",  "mysqld", "dockerd", "ruby",	"dotnet"};
/* interactive tools, 5% of processes */
static const char *const hot_procs[] = {"bash", "sh", "curl", "cat", "ls", "vi", "apt-get", "sshd"};
static const char *const parents[] = {
    "containerd-shim", "bash", "systemd", "runc", "sshd", "node", "java", "sh", "kubelet", "cron"};
/* what a busy node mostly opens */
static const char *const paths[] = {
    "/etc/ld.so.cache",
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/usr/lib/python3.11/os.py",
    "/proc/self/status",
    "/var/log/nginx/access.log",
    "/tmp/tmp.XyZ123",
    "/etc/nginx/nginx.conf",
    "/var/lib/postgresql/data/base/1",
    "/dev/null",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/home/app/.cache/pip/x",
    "/usr/share/zoneinfo/UTC",
    "/run/secrets/kubernetes.io/serviceaccount/token",
    "/etc/ssl/certs/ca-certificates.crt",
    "/sys/fs/cgroup/cpu.max",
    "/app/data/orders.db",
    "/srv/www/index.html",
    "/usr/lib/jvm/java-17/lib/modules",
    "/var/cache/app/blob.bin",
};
/* what the rules look for: opened 2% of the time */
static const char *const hot_paths[] = {"/etc/shadow",	       "/etc/passwd",
					"/root/.bash_history", "/var/run/docker.sock",
					"/etc/sudoers",	       "/home/alice/.ssh/id_rsa"};
static const char *const exes[] = {"/usr/sbin/nginx",
				   "/usr/bin/python3",
				   "/usr/bin/java",
				   "/bin/bash",
				   "/bin/sh",
				   "/usr/bin/curl",
				   "/usr/lib/postgresql/15/bin/postgres",
				   "/usr/bin/node",
				   "/bin/cat",
				   "/bin/ls"};
static const char *const ips[] = {"10.0.3.17",	  "10.96.0.1", "172.17.0.2",   "93.184.216.34",
				  "140.82.112.3", "127.0.0.1", "192.168.1.20", "8.8.8.8"};
static const char *const images[] = {"docker.io/library/nginx", "ghcr.io/acme/api",
				     "harbor.golems.internal/golem-trust/payments-db",
				     "registry.k8s.io/coredns/coredns"};
static const char *const flags_r = "O_RDONLY|O_CLOEXEC";
static const char *const flags_w = "O_WRONLY|O_CREAT|O_TRUNC";

static unsigned long long rnd_state = 88172645463325252ULL;

static unsigned rnd(unsigned n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (unsigned)(rnd_state % n);
}

#define PICK(a) a[rnd(sizeof(a) / sizeof(a[0]))]

struct owned {
	char cmdline[160];
	char args[128];
	char cid[16];
	char tuple[80];
	char pod[48];
};

static void make_event(struct rules_event *ev, struct owned *o, unsigned long long ts)
{
	unsigned kind = rnd(100);
	const char *proc = rnd(20) == 0 ? PICK(hot_procs) : PICK(procs);
	const char *path = rnd(50) == 0 ? PICK(hot_paths) : PICK(paths);
	bool in_container = rnd(3) != 0;

	rules_event_reset(ev);
	ev->ts_ns = ts;
	rules_event_set_str(ev, RULES_F_PROC_NAME, proc);
	rules_event_set_str(ev, RULES_F_PROC_EXEPATH, PICK(exes));
	rules_event_set_str(ev, RULES_F_PROC_EXE, proc);
	snprintf(o->args, sizeof(o->args), "%s", kind < 40 ? "-c 'echo hello'" : path);
	snprintf(o->cmdline, sizeof(o->cmdline), "%s %s", proc, o->args);
	rules_event_set_str(ev, RULES_F_PROC_ARGS, o->args);
	rules_event_set_str(ev, RULES_F_PROC_CMDLINE, o->cmdline);
	rules_event_set_num(ev, RULES_F_PROC_PID, 1000 + rnd(30000));
	rules_event_set_num(ev, RULES_F_PROC_PPID, 900 + rnd(100));
	rules_event_set_num(ev, RULES_F_PROC_TTY, rnd(100) == 0 ? 34816 : 0);
	rules_event_set_num(ev, RULES_F_USER_UID, rnd(4) == 0 ? 1000 : 0);
	rules_event_set_str(ev, RULES_F_USER_NAME, rnd(4) == 0 ? "app" : "root");
	rules_event_set_num(ev, RULES_F_USER_LOGINUID, -1);
	rules_event_set_str(ev, RULES_F_PROC_CWD, "/");
	rules_event_push_ancestor(ev, PICK(parents), NULL, "/usr/bin/parent", 900);
	rules_event_push_ancestor(ev, PICK(parents), NULL, "/usr/bin/gparent", 800);
	rules_event_push_ancestor(ev, "systemd", NULL, "/usr/lib/systemd/systemd", 1);
	if (in_container) {
		snprintf(o->cid, sizeof(o->cid), "%012x", rnd(1u << 30));
		snprintf(o->pod, sizeof(o->pod), "web-%05u", rnd(100000));
		rules_event_set_str(ev, RULES_F_CONTAINER_ID, o->cid);
		rules_event_set_str(ev, RULES_F_CONTAINER_IMAGE_REPOSITORY, PICK(images));
		rules_event_set_str(ev, RULES_F_K8S_NS_NAME, "default");
		rules_event_set_str(ev, RULES_F_K8S_POD_NAME, o->pod);
		rules_event_set_num(ev, RULES_F_CONTAINER_PRIVILEGED, 0);
	} else {
		rules_event_set_str(ev, RULES_F_CONTAINER_ID, "host");
	}
	rules_event_set_num(ev, RULES_F_EVT_RAWRES, 0);
	if (kind < 40) {
		ev->type = rnd(10) ? RULES_EVT_execve : RULES_EVT_execveat;
		rules_event_push_arg(ev, "flags", "EXE_WRITABLE");
	} else if (kind < 85) {
		bool wr = rnd(5) == 0;

		/* benign writes go to data and log folders; the 2% hot paths stay as they are */
		if (wr && !strncmp(path, "/etc/", 5) && rnd(50))
			path = "/var/log/app/app.log";

		ev->type = rnd(10) ? RULES_EVT_openat : RULES_EVT_open;
		rules_event_set_str(ev, RULES_F_FD_NAME, path);
		rules_event_set_num(ev, RULES_F_FD_NUM, 3 + rnd(20));
		rules_event_set_str(ev, RULES_F_FD_TYPECHAR, "f");
		rules_event_set_str(ev, RULES_F_FD_TYPE, "file");
		rules_event_push_arg(ev, "flags", wr ? flags_w : flags_r);
		rules_event_push_arg(ev, "name", path);
	} else {
		const char *sip = PICK(ips);
		unsigned port = rnd(2) ? 443 : 5432;

		ev->type = RULES_EVT_connect;
		snprintf(o->tuple, sizeof(o->tuple), "10.0.3.17:%u->%s:%u", 40000 + rnd(20000), sip,
			 port);
		rules_event_set_str(ev, RULES_F_FD_NAME, o->tuple);
		rules_event_set_num(ev, RULES_F_FD_NUM, 5);
		rules_event_set_str(ev, RULES_F_FD_TYPECHAR, "4");
		rules_event_set_str(ev, RULES_F_FD_TYPE, "ipv4");
		rules_event_set_str(ev, RULES_F_FD_L4PROTO, "tcp");
		rules_event_set_str(ev, RULES_F_FD_SOCKFAMILY, "ip");
		rules_event_set_str(ev, RULES_F_FD_CIP, "10.0.3.17");
		rules_event_set_str(ev, RULES_F_FD_SIP, sip);
		rules_event_set_str(ev, RULES_F_FD_LIP, "10.0.3.17");
		rules_event_set_str(ev, RULES_F_FD_RIP, sip);
		rules_event_set_num(ev, RULES_F_FD_SPORT, port);
		rules_event_set_num(ev, RULES_F_FD_RPORT, port);
		rules_event_set_num(ev, RULES_F_FD_CPORT, 40000);
		rules_event_set_num(ev, RULES_F_FD_LPORT, 40000);
	}
	rules_event_derive(ev);
}

/* A compact record of one event (the values a sensor would set), replayed into one hot
 * struct rules_event the way the live sensor fills its per-thread event before evaluating. */
#define DESC_OPS 48
struct desc {
	uint16_t type;
	uint8_t nops, nanc, nargs;
	uint64_t ts;
	struct {
		uint16_t f;
		struct rules_value v;
	} ops[DESC_OPS];
	const char *anc_name[3], *anc_path[3];
	int64_t anc_pid[3];
	struct rules_kv args[2];
};

static void desc_from(struct desc *d, const struct rules_event *ev)
{
	memset(d, 0, sizeof(*d));
	d->type = ev->type;
	d->ts = ev->ts_ns;
	for (unsigned f = 0; f < RULES_F__COUNT && d->nops < DESC_OPS; f++) {
		if (!rules_event_has(ev, f))
			continue;
		d->ops[d->nops].f = (uint16_t)f;
		d->ops[d->nops].v = ev->v[f];
		d->nops++;
	}
	for (unsigned i = 0; i < ev->nanc && i < 3; i++) {
		d->anc_name[i] = ev->anc_name[i];
		d->anc_path[i] = ev->anc_exepath[i];
		d->anc_pid[i] = ev->anc_pid[i];
		d->nanc++;
	}
	for (unsigned i = 0; i < ev->nargs && i < 2; i++)
		d->args[d->nargs++] = ev->args[i];
}

static inline void fill(struct rules_event *ev, const struct desc *d)
{
	rules_event_reset(ev);
	ev->type = d->type;
	ev->ts_ns = d->ts;
	for (unsigned i = 0; i < d->nops; i++) {
		unsigned f = d->ops[i].f;

		ev->v[f] = d->ops[i].v;
		ev->set[f >> 6] |= 1ULL << (f & 63);
	}
	for (unsigned i = 0; i < d->nanc; i++)
		rules_event_push_ancestor(ev, d->anc_name[i], NULL, d->anc_path[i], d->anc_pid[i]);
	for (unsigned i = 0; i < d->nargs; i++)
		ev->args[i] = d->args[i];
	ev->nargs = d->nargs;
}

static double now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long n = 1000000, nj = 100000, alerts = 0, i;
	struct rules_event *pool, *hot;
	struct desc *descs;
	struct owned *own;
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;
	char **files = NULL;
	size_t nfiles = 0;
	double c0, c1, w0, w1, l0;
	int opt;

	while ((opt = getopt(argc, argv, "n:j:")) != -1) {
		if (opt == 'n')
			n = strtoul(optarg, NULL, 10);
		else if (opt == 'j')
			nj = strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: rules_bench [-n EVENTS] [-j JSONL_EVENTS] RULES...\n");
		return 2;
	}
	if (rules_paths_expand((const char *const *)argv + optind, (size_t)(argc - optind), &files,
			       &nfiles))
		return 1;
	l0 = now(CLOCK_MONOTONIC);
	if (rules_load_files((const char *const *)files, nfiles, &rs, &d)) {
		rules_diags_print(d, stderr);
		return 1;
	}
	printf("rules: %zu file(s), %zu rules (%zu active), load+compile %.1f ms\n", nfiles,
	       rules_set_count(rs), rules_set_count_active(rs), (now(CLOCK_MONOTONIC) - l0) * 1e3);
	printf("rules: compiled rule set memory %.2f MB (%zu bytes)\n",
	       (double)rules_set_memory(rs) / (1024.0 * 1024.0), rules_set_memory(rs));

	pool = calloc(POOL, sizeof(*pool));
	own = calloc(POOL, sizeof(*own));
	descs = calloc(POOL, sizeof(*descs));
	hot = calloc(1, sizeof(*hot));
	if (!pool || !own || !descs || !hot)
		return 1;
	for (i = 0; i < POOL; i++) {
		make_event(&pool[i], &own[i], 1759405323000000000ULL + i * 1000);
		desc_from(&descs[i], &pool[i]);
	}

	/* fill one reused event from the compact record, then evaluate: the sensor's hot path */
	c0 = now(CLOCK_THREAD_CPUTIME_ID);
	w0 = now(CLOCK_MONOTONIC);
	for (i = 0; i < n; i++) {
		size_t hit;

		fill(hot, &descs[i % POOL]);
		alerts += rules_set_eval(rs, hot, false, &hit, 1);
	}
	c1 = now(CLOCK_THREAD_CPUTIME_ID);
	w1 = now(CLOCK_MONOTONIC);
	printf("eval: %lu events (40%% exec, 45%% open, 15%% connect; %d distinct), %lu alerts "
	       "(%.2f%%)\n",
	       n, POOL, alerts, 100.0 * (double)alerts / (double)(n ? n : 1));
	printf("eval: %.0f events/s per core, %.1f ns/event (event fill + evaluation; cpu %.3f s, "
	       "wall %.3f s)\n",
	       (double)n / (c1 - c0), (c1 - c0) * 1e9 / (double)n, c1 - c0, w1 - w0);

	/* the same events evaluated in place from a pool bigger than the caches (pessimistic) */
	alerts = 0;
	c0 = now(CLOCK_THREAD_CPUTIME_ID);
	for (i = 0; i < n; i++) {
		size_t hit;

		alerts += rules_set_eval(rs, &pool[i % POOL], false, &hit, 1);
	}
	c1 = now(CLOCK_THREAD_CPUTIME_ID);
	printf(
	    "eval-cold: %.0f events/s per core, %.1f ns/event (events read from a %.0f MB pool)\n",
	    (double)n / (c1 - c0), (c1 - c0) * 1e9 / (double)n,
	    (double)POOL * (double)sizeof(*pool) / 1e6);

	/* alert formatting cost, over the matching events of the pool */
	{
		unsigned long formatted = 0;

		c0 = now(CLOCK_THREAD_CPUTIME_ID);
		for (i = 0; i < POOL * 20; i++) {
			size_t hit;
			char *line = NULL;

			if (rules_set_eval(rs, &pool[i % POOL], false, &hit, 1) &&
			    !rules_set_format_alert(rs, hit, &pool[i % POOL], "node-1", &line))
				formatted++;
			free(line);
		}
		c1 = now(CLOCK_THREAD_CPUTIME_ID);
		if (formatted)
			printf("format: %lu alerts, %.0f ns per evaluated+formatted event\n",
			       formatted, (c1 - c0) * 1e9 / (double)(POOL * 20));
	}

	/* replay through the JSON-lines reader */
	if (nj) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		struct rules_trace_reader *r;
		struct rules_event ev;
		unsigned long got = 0, ja = 0;

		for (i = 0; i < nj; i++)
			rules_trace_write(f, &pool[i % POOL]);
		fclose(f);
		f = fmemopen(buf, len, "r");
		r = rules_trace_reader_new(f, "synthetic");
		c0 = now(CLOCK_THREAD_CPUTIME_ID);
		while (rules_trace_next(r, &ev) == 1) {
			size_t hit;

			got++;
			ja += rules_set_eval(rs, &ev, false, &hit, 1);
		}
		c1 = now(CLOCK_THREAD_CPUTIME_ID);
		printf("replay: %lu JSON-lines events (%.1f MB), %lu alerts, %.0f events/s per "
		       "core, %.0f ns/event (JSON decoding included)\n",
		       got, (double)len / 1e6, ja, (double)got / (c1 - c0),
		       (c1 - c0) * 1e9 / (double)(got ? got : 1));
		rules_trace_reader_free(r);
		fclose(f);
		free(buf);
	}
	free(pool);
	free(own);
	free(descs);
	free(hot);
	rules_set_free(rs);
	rules_diags_free(d);
	rules_paths_free(files);
	return 0;
}
