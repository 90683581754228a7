// SPDX-License-Identifier: Apache-2.0
#include "sensor/probe/probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "lib/util/log.h"
#include "sensor/probe/syscalls.h"
#include "vigil.skel.h"

#define DEFAULT_BTF "/sys/kernel/btf/vmlinux"
#define ENOTSUPP_KERNEL 524

struct probe {
	struct vigil_bpf *skel;
	struct ring_buffer *rb;
	probe_event_fn on_event;
	void *ctx;
	size_t ring_size;
	int ncpus;
	int batch; /* records handled in the current poll */
	bool more; /* the last poll stopped at a full batch */
};

const char *probe_reason_name(enum probe_reason r)
{
	switch (r) {
	case PROBE_R_OK:
		return "Loaded";
	case PROBE_R_BTF_NOT_AVAILABLE:
		return "BTFNotAvailable";
	case PROBE_R_MISSING_CAPABILITIES:
		return "MissingCapabilities";
	case PROBE_R_KERNEL_TOO_OLD:
		return "KernelTooOld";
	case PROBE_R_VERIFIER_REJECTED:
		return "VerifierRejected";
	case PROBE_R_LOAD_FAILED:
		return "LoadFailed";
	}
	return "LoadFailed";
}

size_t probe_buffer_size(int preset)
{
	if (preset < 1 || preset > 10)
		return 0;
	return (size_t)1 << (20 + preset - 1);
}

const char *probe_strerror(int err, char *buf, size_t len)
{
	const char *name;

	if (err < 0)
		err = -err;
	switch (err) {
	case ENOTSUPP_KERNEL:
		snprintf(buf, len, "ENOTSUPP: not supported by this kernel");
		return buf;
	case 525:
		snprintf(buf, len, "ETOOSMALL: buffer too small");
		return buf;
	case 0:
		snprintf(buf, len, "success");
		return buf;
	}
	if (err >= 4000 && err < 4100) { /* libbpf's own codes (LIBBPF_ERRNO__*) */
		char lb[80];

		libbpf_strerror(-err, lb, sizeof(lb));
		snprintf(buf, len, "libbpf error %d: %s", err, lb);
		return buf;
	}
	name = strerrorname_np(err);
	if (name)
		snprintf(buf, len, "%s: %s", name, strerror(err));
	else
		snprintf(buf, len, "error %d", err);
	return buf;
}

/* ---- libbpf log capture (libbpf_set_print is process-wide) ---- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_buf;
static size_t log_len, log_cap;

static int log_capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *line = NULL;
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	n = vasprintf(&line, fmt, ap);
	if (n < 0)
		return 0;
	if (log_len + n + 1 > log_cap) {
		size_t cap = log_cap ? log_cap * 2 : 65536;
		char *nb;

		while (cap < log_len + n + 1)
			cap *= 2;
		nb = cap <= (64u << 20) ? realloc(log_buf, cap) : NULL;
		if (!nb) {
			free(line);
			return 0;
		}
		log_buf = nb;
		log_cap = cap;
	}
	memcpy(log_buf + log_len, line, n);
	free(line);
	log_len += n;
	log_buf[log_len] = '\0';
	return n;
}

static void log_begin(void)
{
	pthread_mutex_lock(&log_lock);
	log_len = 0;
	if (log_buf)
		log_buf[0] = '\0';
	libbpf_set_print(log_capture);
}

/* Returns the captured text (valid until log_end) */
static const char *log_text(void)
{
	return log_buf ? log_buf : "";
}

static void log_end(void)
{
	libbpf_set_print(NULL);
	free(log_buf);
	log_buf = NULL;
	log_len = log_cap = 0;
	pthread_mutex_unlock(&log_lock);
}

/* ---- preflight ---- */

static void set_msg(struct probe_report *rep, enum probe_reason r, int err, const char *fix,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void set_msg(struct probe_report *rep, enum probe_reason r, int err, const char *fix,
		    const char *fmt, ...)
{
	va_list ap;

	rep->reason = r;
	rep->err = err;
	va_start(ap, fmt);
	vsnprintf(rep->message, sizeof(rep->message), fmt, ap);
	va_end(ap);
	snprintf(rep->fix, sizeof(rep->fix), "%s", fix);
}

static const char *btf_path_of(const struct probe_opts *opts, bool *custom)
{
	const char *p = opts->btf_path;

	if (!p || !*p)
		p = getenv("VIGIL_BTF_PATH");
	*custom = p && *p;
	return *custom ? p : DEFAULT_BTF;
}

static int read_int_file(const char *path, int *out)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%d", out) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static void append_name(char *buf, size_t len, const char *name)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n, "%s%s", n ? "," : "", name);
}

/* Kernels from 5.11 charge BPF memory to the memory cgroup instead of RLIMIT_MEMLOCK; they are the
 * ones with bpf_ktime_get_coarse_ns (the same probe libbpf uses). Needs CAP_BPF to answer. */
static bool kernel_accounts_bpf_memcg(void)
{
	struct utsname u;
	int r, major = 0, minor = 0;

	r = libbpf_probe_bpf_helper(BPF_PROG_TYPE_SOCKET_FILTER, BPF_FUNC_ktime_get_coarse_ns,
				    NULL);
	if (r >= 0)
		return r == 1;
	/* cannot probe (no CAP_BPF): fall back to the release number */
	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 5 || (major == 5 && minor >= 11);
}

static int check_caps(struct probe_report *rep)
{
	struct {
		cap_value_t cap;
		const char *name;
	} need[] = {
	    {CAP_BPF, "CAP_BPF"},
	    {CAP_PERFMON, "CAP_PERFMON"},
	    {CAP_SYS_RESOURCE, "CAP_SYS_RESOURCE"},
	    {CAP_SYS_ADMIN, "CAP_SYS_ADMIN"},
	};
	int n = sizeof(need) / sizeof(need[0]);
	int paranoid = 2, last = 0, i;
	bool memcg;
	cap_t caps;

	if (read_int_file("/proc/sys/kernel/cap_last_cap", &last) == 0 && last < CAP_BPF) {
		set_msg(rep, PROBE_R_KERNEL_TOO_OLD, -ENOTSUP,
			"run a kernel of 5.8 or later (with CAP_BPF and BTF), e.g. Ubuntu 22.04",
			"kernel does not know CAP_BPF (cap_last_cap=%d)", last);
		return -ENOTSUP;
	}
	read_int_file("/proc/sys/kernel/perf_event_paranoid", &paranoid);
	if (paranoid <= 2)
		n--; /* CAP_SYS_ADMIN only needed when perf_event_paranoid > 2 */
	caps = cap_get_proc();
	if (!caps) {
		set_msg(rep, PROBE_R_MISSING_CAPABILITIES, -errno, "", "cannot read capabilities");
		return rep->err;
	}
	/* CAP_SYS_RESOURCE only raises RLIMIT_MEMLOCK, which kernels >= 5.11 ignore for BPF */
	memcg = kernel_accounts_bpf_memcg();
	for (i = 0; i < n; i++) {
		cap_flag_value_t v = CAP_CLEAR;

		cap_get_flag(caps, need[i].cap, CAP_EFFECTIVE, &v);
		if (v == CAP_SET)
			append_name(rep->caps_held, sizeof(rep->caps_held), need[i].name);
		else if (need[i].cap != CAP_SYS_RESOURCE || !memcg)
			append_name(rep->caps_missing, sizeof(rep->caps_missing), need[i].name);
	}
	cap_free(caps);
	if (rep->caps_missing[0]) {
		set_msg(
		    rep, PROBE_R_MISSING_CAPABILITIES, -EPERM,
		    "grant the sensor container CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE (and "
		    "CAP_SYS_ADMIN when kernel.perf_event_paranoid > 2); check that no admission "
		    "policy strips them",
		    "missing capabilities: %s (perf_event_paranoid=%d)", rep->caps_missing,
		    paranoid);
		return -EPERM;
	}
	return 0;
}

static int check_btf(const char *path, bool custom, struct probe_report *rep)
{
	static const char *const tps[] = {"btf_trace_sys_exit", "btf_trace_sched_process_exec",
					  "btf_trace_sched_process_fork",
					  "btf_trace_sched_process_exit"};
	struct btf *btf;
	char eb[96];
	size_t i;
	int err;

	snprintf(rep->btf_path, sizeof(rep->btf_path), "%s", path);
	if (access(path, R_OK) < 0) {
		err = -errno;
		set_msg(rep, PROBE_R_BTF_NOT_AVAILABLE, err,
			custom
			    ? "point --btf / VIGIL_BTF_PATH at a readable BTF file for this kernel"
			    : "run a kernel built with CONFIG_DEBUG_INFO_BTF=y, or give a BTF file "
			      "for this kernel with --btf",
			"BTF %s: %s", path, probe_strerror(err, eb, sizeof(eb)));
		return err;
	}
	log_begin(); /* keep libbpf's complaints out of stderr; the report says it */
	btf = btf__parse(path, NULL);
	err = libbpf_get_error(btf);
	log_end();
	if (err) {
		set_msg(
		    rep, PROBE_R_BTF_NOT_AVAILABLE, err,
		    "the BTF file is damaged or not BTF; regenerate it (bpftool btf dump) or drop "
		    "the override",
		    "BTF %s does not parse: %s", path, probe_strerror(err, eb, sizeof(eb)));
		return err;
	}
	rep->btf_present = true;
	/* tp_btf needs the kernel to describe each tracepoint as btf_trace_<name> */
	for (i = 0; i < sizeof(tps) / sizeof(tps[0]); i++) {
		if (btf__find_by_name_kind(btf, tps[i], BTF_KIND_TYPEDEF) < 0) {
			set_msg(rep, PROBE_R_KERNEL_TOO_OLD, -ENOENT,
				"run a kernel of 5.8 or later with BTF tracepoints",
				"kernel BTF has no %s: BTF tracepoints not supported", tps[i]);
			btf__free(btf);
			return -ENOENT;
		}
	}
	btf__free(btf);
	return 0;
}

static int check_features(struct probe_report *rep)
{
	char eb[96];
	int r;

	r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	if (r == 0) {
		set_msg(rep, PROBE_R_KERNEL_TOO_OLD, -ENOTSUP, "run a kernel of 5.8 or later",
			"kernel has no BPF ring buffer (BPF_MAP_TYPE_RINGBUF)");
		return -ENOTSUP;
	}
	if (r < 0) {
		set_msg(rep, r == -EPERM ? PROBE_R_MISSING_CAPABILITIES : PROBE_R_LOAD_FAILED, r,
			"check the capabilities and seccomp/LSM policy of the sensor",
			"probing BPF_MAP_TYPE_RINGBUF failed: %s",
			probe_strerror(r, eb, sizeof(eb)));
		return r;
	}
	/* libbpf cannot probe BPF_PROG_TYPE_TRACING without a target; raw tracepoints are its base
	 */
	r = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL);
	if (r == 0) {
		set_msg(rep, PROBE_R_KERNEL_TOO_OLD, -ENOTSUP, "run a kernel of 5.8 or later",
			"kernel cannot load raw tracepoint programs");
		return -ENOTSUP;
	}
	return 0;
}

int probe_preflight(const struct probe_opts *opts, struct probe_report *rep)
{
	struct utsname u;
	bool custom;
	const char *path = btf_path_of(opts, &custom);
	int err;

	memset(rep, 0, sizeof(*rep));
	if (uname(&u) == 0)
		snprintf(rep->kernel_release, sizeof(rep->kernel_release), "%s", u.release);
	if (opts->buffer_preset && !probe_buffer_size(opts->buffer_preset)) {
		set_msg(rep, PROBE_R_LOAD_FAILED, -EINVAL, "use a buffer preset from 1 to 10",
			"buffer preset %d out of range", opts->buffer_preset);
		return -EINVAL;
	}
	err = check_btf(path, custom, rep);
	if (err)
		return err;
	err = check_caps(rep);
	if (err)
		return err;
	log_begin();
	err = check_features(rep);
	log_end();
	if (err)
		return err;
	rep->reason = PROBE_R_OK;
	snprintf(rep->message, sizeof(rep->message), "preflight passed");
	return 0;
}

/* ---- load failure classification ---- */

/* Copies the last lines of the verifier log of the first failing program into rep. */
static void extract_verifier_log(const char *log, struct probe_report *rep)
{
	const char *fail = strstr(log, "BPF program load failed");
	const char *p, *q, *begin, *end;
	size_t n;

	if (!fail)
		return;
	/* "libbpf: prog 'NAME': BPF program load failed: ..." */
	p = fail;
	while (p > log && p[-1] != '\n')
		p--;
	q = strstr(p, "prog '");
	if (q && q < fail) {
		q += 6;
		n = strcspn(q, "'");
		if (n >= sizeof(rep->prog))
			n = sizeof(rep->prog) - 1;
		memcpy(rep->prog, q, n);
		rep->prog[n] = '\0';
	}
	begin = strstr(fail, "-- BEGIN PROG LOAD LOG --");
	if (!begin)
		return;
	begin = strchr(begin, '\n');
	if (!begin)
		return;
	begin++;
	end = strstr(begin, "-- END PROG LOAD LOG --");
	if (!end)
		end = begin + strlen(begin);
	/* keep whole lines from the end that fit */
	p = end;
	while (p > begin && (size_t)(end - p) < sizeof(rep->log_tail) - 1) {
		const char *l = p - 1;

		while (l > begin && l[-1] != '\n')
			l--;
		if ((size_t)(end - l) >= sizeof(rep->log_tail) - 1)
			break;
		p = l;
	}
	n = end - p;
	memcpy(rep->log_tail, p, n);
	rep->log_tail[n] = '\0';
	while (n && rep->log_tail[n - 1] == '\n')
		rep->log_tail[--n] = '\0';
}

static const char *last_line(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);
	const char *e, *b;

	while (n && s[n - 1] == '\n')
		n--;
	e = s + n;
	b = e;
	while (b > s && b[-1] != '\n')
		b--;
	n = e - b;
	if (n >= len)
		n = len - 1;
	memcpy(buf, b, n);
	buf[n] = '\0';
	return buf;
}

/* The verifier's complaint: the first line after the last instruction line ("123: (85) ..."),
 * else the last line that is not the statistics line. */
static const char *verifier_error_line(const char *tail, char *buf, size_t len)
{
	const char *p = tail, *pick = NULL, *nl;
	size_t n;

	while (*p) {
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (p[0] >= '0' && p[0] <= '9' && memchr(p, ':', n))
			pick = NULL; /* an instruction: the complaint comes after it */
		else if (!pick && n && strncmp(p, "processed ", 10) && p[0] != ';')
			pick = p;
		if (!nl)
			break;
		p = nl + 1;
	}
	if (!pick) {
		buf[0] = '\0';
		return buf;
	}
	n = strcspn(pick, "\n");
	if (n >= len)
		n = len - 1;
	memcpy(buf, pick, n);
	buf[n] = '\0';
	return buf;
}

void probe_classify_load(int err, const char *log, struct probe_report *rep)
{
	char eb[96], ll[200];
	const char *l;

	if (err > 0)
		err = -err;
	if (!log)
		log = "";
	probe_strerror(err, eb, sizeof(eb));
	rep->prog[0] = '\0';
	rep->log_tail[0] = '\0';
	if (strstr(log, "BEGIN PROG LOAD LOG") &&
	    (strstr(log, "unknown func ") || strstr(log, "invalid func "))) {
		/* the verifier does not know a helper the probe calls: an older kernel */
		extract_verifier_log(log, rep);
		l = verifier_error_line(rep->log_tail, ll, sizeof(ll));
		set_msg(rep, PROBE_R_KERNEL_TOO_OLD, err,
			"run a kernel of 5.8 or later with the BPF helpers the probe uses",
			"kernel lacks a BPF helper (program %s): %s (%s)",
			rep->prog[0] ? rep->prog : "?", l, eb);
		return;
	}
	if (strstr(log, "BEGIN PROG LOAD LOG")) {
		extract_verifier_log(log, rep);
		l = verifier_error_line(rep->log_tail, ll, sizeof(ll));
		set_msg(
		    rep, PROBE_R_VERIFIER_REJECTED, err,
		    "this kernel's verifier rejects the probe: report the program and log to the "
		    "Vigil developers, or move the node to a supported kernel",
		    "verifier rejected program %s: %s (%s)", rep->prog[0] ? rep->prog : "?", l, eb);
		return;
	}
	last_line(log, ll, sizeof(ll));
	if (err == -EPERM) {
		set_msg(rep, PROBE_R_MISSING_CAPABILITIES, err,
			"grant CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE; check seccomp/LSM policy",
			"load refused: %s%s%s", eb, ll[0] ? "; " : "", ll);
	} else if (err == -ENOTSUPP_KERNEL || err == -EOPNOTSUPP || err == -ENOSYS ||
		   err == -ESRCH || strstr(log, "failed to find kernel BTF type ID")) {
		set_msg(rep, PROBE_R_KERNEL_TOO_OLD, err,
			"run a kernel of 5.8 or later with BTF tracepoints (tp_btf) support",
			"kernel lacks a feature the probe needs: %s%s%s", eb, ll[0] ? "; " : "",
			ll);
	} else if (strstr(log, "vmlinux BTF") || strstr(log, "failed to parse target BTF")) {
		set_msg(rep, PROBE_R_BTF_NOT_AVAILABLE, err,
			"run a kernel built with CONFIG_DEBUG_INFO_BTF=y, or give --btf",
			"BTF unusable: %s%s%s", eb, ll[0] ? "; " : "", ll);
	} else {
		set_msg(rep, PROBE_R_LOAD_FAILED, err, "see the sensor log for libbpf's messages",
			"probe load failed: %s%s%s", eb, ll[0] ? "; " : "", ll);
	}
}

/* ---- start / poll / destroy ---- */

/* Records handled per probe_poll call at most: under a sustained flood libbpf would otherwise keep
 * consuming inside one poll forever and the caller would never get its loop back. */
#define POLL_BATCH 16384
#define BATCH_FULL (-EAGAIN)

static int on_ring(void *ctx, void *data, size_t len)
{
	struct probe *p = ctx;
	const struct vigil_event *e = data;

	if (len >= VIGIL_EVENT_HDR_SIZE && e->abi == VIGIL_ABI_VERSION && p->on_event)
		p->on_event(p->ctx, e, len);
	/* the record is consumed either way; a negative value ends this poll */
	return ++p->batch >= POLL_BATCH ? BATCH_FULL : 0;
}

int probe_start(const struct probe_opts *opts, struct probe **out, struct probe_report *rep)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct probe *p = NULL;
	bool custom;
	const char *path = btf_path_of(opts, &custom);
	size_t size = probe_buffer_size(opts->buffer_preset ? opts->buffer_preset : 4);
	int err;

	*out = NULL;
	err = probe_preflight(opts, rep);
	if (err)
		return err;
	p = calloc(1, sizeof(*p));
	if (!p) {
		set_msg(rep, PROBE_R_LOAD_FAILED, -ENOMEM, "", "out of memory");
		return -ENOMEM;
	}
	p->on_event = opts->on_event;
	p->ctx = opts->ctx;
	p->ring_size = size;
	p->ncpus = libbpf_num_possible_cpus();
	if (custom)
		oo.btf_custom_path = path;

	log_begin();
	p->skel = vigil_bpf__open_opts(&oo);
	if (!p->skel) {
		err = -errno;
		probe_classify_load(err, log_text(), rep);
		goto out_log;
	}
	if (p->skel->rodata->abi_version != VIGIL_ABI_VERSION) {
		err = -EPROTO;
		set_msg(rep, PROBE_R_LOAD_FAILED, err, "rebuild the sensor and probe together",
			"probe ABI %u, sensor ABI %d", p->skel->rodata->abi_version,
			VIGIL_ABI_VERSION);
		goto out_log;
	}
	p->skel->rodata->self_tgid = getpid();
	p->skel->rodata->execve_nr = SYS_execve;
	p->skel->rodata->test_verifier_reject = opts->test_verifier_reject;
	probe_syscalls_fill((unsigned short *)p->skel->rodata->syscall_cfg, VIGIL_MAX_SYSCALLS);
	err = bpf_map__set_max_entries(p->skel->maps.rb, size);
	if (err) {
		probe_classify_load(err, log_text(), rep);
		goto out_log;
	}
	err = vigil_bpf__load(p->skel);
	if (err) {
		probe_classify_load(err, log_text(), rep);
		goto out_log;
	}
	err = vigil_bpf__attach(p->skel);
	if (err) {
		probe_classify_load(err, log_text(), rep);
		goto out_log;
	}
out_log:
	log_end();
	if (err)
		goto out;
	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.rb), on_ring, p, NULL);
	if (!p->rb) {
		err = -errno;
		probe_classify_load(err, "", rep);
		goto out;
	}
	rep->reason = PROBE_R_OK;
	rep->err = 0;
	snprintf(rep->message, sizeof(rep->message),
		 "probe attached: 4 programs, ring buffer %zu MB", size >> 20);
	rep->fix[0] = '\0';
	*out = p;
	return 0;
out:
	probe_destroy(p);
	return err;
}

int probe_poll(struct probe *p, int timeout_ms)
{
	int n;

	p->batch = 0;
	/* after a full batch records are still waiting, and the kernel won't wake us for them (it
	 * only notifies a consumer that has caught up): consume without sleeping */
	if (p->more)
		n = ring_buffer__consume(p->rb);
	else
		n = ring_buffer__poll(p->rb, timeout_ms);
	p->more = n == BATCH_FULL;
	return n == BATCH_FULL ? p->batch : n;
}

int probe_fd(struct probe *p)
{
	return ring_buffer__epoll_fd(p->rb);
}

int probe_counters(struct probe *p, uint64_t *events, uint64_t *drops, uint64_t *per_cpu_drops,
		   int max_cpus)
{
	uint64_t vals[1024];
	int fd = bpf_map__fd(p->skel->maps.counters);
	__u32 k;
	int i, n = p->ncpus;

	if (n <= 0 || n > 1024)
		return -ERANGE;
	*events = *drops = 0;
	memset(vals, 0, sizeof(vals)); /* written by the kernel; zeroed for memory checkers */
	k = VIGIL_C_EVENTS;
	if (bpf_map_lookup_elem(fd, &k, vals))
		return -errno;
	for (i = 0; i < n; i++)
		*events += vals[i];
	k = VIGIL_C_DROPS;
	if (bpf_map_lookup_elem(fd, &k, vals))
		return -errno;
	for (i = 0; i < n; i++) {
		*drops += vals[i];
		if (per_cpu_drops && i < max_cpus)
			per_cpu_drops[i] = vals[i];
	}
	return n;
}

size_t probe_ring_size(const struct probe *p)
{
	return p ? p->ring_size : 0;
}

void probe_destroy(struct probe *p)
{
	if (!p)
		return;
	ring_buffer__free(p->rb);
	vigil_bpf__destroy(p->skel);
	free(p);
}
