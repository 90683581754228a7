/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for sensor/probe: errno naming, buffer presets, preflight reasons (BTF missing/garbage,
 * with real files), load-failure classification from libbpf logs, the syscall table. When run as
 * root with CAP_BPF on a BTF kernel it also loads and attaches the real probe and sees an event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sensor/probe/probe.h"
#include "sensor/probe/syscalls.h"

static void test_strerror_names(void **state)
{
	char b[96];

	assert_string_equal(probe_strerror(-524, b, sizeof(b)),
			    "ENOTSUPP: not supported by this kernel");
	assert_string_equal(probe_strerror(524, b, sizeof(b)),
			    "ENOTSUPP: not supported by this kernel");
	assert_string_equal(probe_strerror(-EPERM, b, sizeof(b)), "EPERM: Operation not permitted");
	assert_non_null(strstr(probe_strerror(-4001, b, sizeof(b)), "libbpf error 4001"));
}

static void test_buffer_presets(void **state)
{
	assert_int_equal(probe_buffer_size(1), 1 << 20);
	assert_int_equal(probe_buffer_size(4), 8 << 20);
	assert_int_equal(probe_buffer_size(10), 512u << 20);
	assert_int_equal(probe_buffer_size(0), 0);
	assert_int_equal(probe_buffer_size(11), 0);
}

static void test_preflight_btf_missing(void **state)
{
	struct probe_opts o = {.btf_path = "/nonexistent/vmlinux"};
	struct probe_report r;

	assert_int_equal(probe_preflight(&o, &r), -ENOENT);
	assert_int_equal(r.reason, PROBE_R_BTF_NOT_AVAILABLE);
	assert_string_equal(probe_reason_name(r.reason), "BTFNotAvailable");
	assert_false(r.btf_present);
	assert_string_equal(r.message,
			    "BTF /nonexistent/vmlinux: ENOENT: No such file or directory");
	assert_non_null(strstr(r.fix, "--btf"));
}

static void test_preflight_btf_garbage(void **state)
{
	char path[] = "/tmp/vigil-test-btf.XXXXXX";
	struct probe_opts o = {.btf_path = path};
	struct probe_report r;
	int fd = mkstemp(path);

	assert_true(write(fd, "not a BTF file at all", 21) == 21);
	close(fd);
	assert_true(probe_preflight(&o, &r) < 0);
	assert_int_equal(r.reason, PROBE_R_BTF_NOT_AVAILABLE);
	assert_non_null(strstr(r.message, "does not parse"));
	unlink(path);
}

static void test_preflight_env_override(void **state)
{
	struct probe_opts o = {0};
	struct probe_report r;

	setenv("VIGIL_BTF_PATH", "/nonexistent/from-env", 1);
	assert_true(probe_preflight(&o, &r) < 0);
	unsetenv("VIGIL_BTF_PATH");
	assert_int_equal(r.reason, PROBE_R_BTF_NOT_AVAILABLE);
	assert_string_equal(r.btf_path, "/nonexistent/from-env");
}

static void test_preflight_bad_preset(void **state)
{
	struct probe_opts o = {.buffer_preset = 12};
	struct probe_report r;

	assert_int_equal(probe_preflight(&o, &r), -EINVAL);
	assert_int_equal(r.reason, PROBE_R_LOAD_FAILED);
}

static const char verifier_log[] =
    "libbpf: prog 'vigil_exit': BPF program load failed: Permission denied\n"
    "libbpf: prog 'vigil_exit': -- BEGIN PROG LOAD LOG --\n"
    "0: R1=ctx() R10=fp0\n"
    "; int BPF_PROG(vigil_exit, struct task_struct *p) @ vigil.bpf.c:320\n"
    "0: (79) r6 = *(u64 *)(r1 +0)\n"
    "1: (79) r1 = *(u64 *)(r6 +8)\n"
    "R1 invalid mem access 'scalar'\n"
    "processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0\n"
    "-- END PROG LOAD LOG --\n"
    "libbpf: prog 'vigil_exit': failed to load: -13\n"
    "libbpf: prog 'vigil_other': BPF program load failed: Invalid argument\n"
    "libbpf: failed to load object 'vigil_bpf'\n";

static void test_classify_verifier(void **state)
{
	struct probe_report r = {0};

	probe_classify_load(-EACCES, verifier_log, &r);
	assert_int_equal(r.reason, PROBE_R_VERIFIER_REJECTED);
	assert_string_equal(r.prog, "vigil_exit"); /* the first one, not the cascade */
	assert_string_equal(r.message,
			    "verifier rejected program vigil_exit: R1 invalid mem access "
			    "'scalar' (EACCES: Permission denied)");
	assert_non_null(strstr(r.log_tail, "1: (79) r1 = *(u64 *)(r6 +8)"));
	assert_null(strstr(r.log_tail, "END PROG LOAD LOG"));
	assert_null(strstr(r.log_tail, "vigil_other"));
}

static void test_classify_other(void **state)
{
	struct probe_report r = {0};

	probe_classify_load(-524, "libbpf: prog 'x': failed to attach: -524\n", &r);
	assert_int_equal(r.reason, PROBE_R_KERNEL_TOO_OLD);
	assert_non_null(strstr(r.message, "ENOTSUPP: not supported by this kernel"));
	assert_non_null(strstr(r.message, "failed to attach"));

	probe_classify_load(-EPERM, "libbpf: Error in bpf_create_map_xattr(rb): -1\n", &r);
	assert_int_equal(r.reason, PROBE_R_MISSING_CAPABILITIES);

	probe_classify_load(-ESRCH, "libbpf: failed to find kernel BTF type ID of 'foo': -3\n", &r);
	assert_int_equal(r.reason, PROBE_R_KERNEL_TOO_OLD);

	probe_classify_load(
	    -EINVAL,
	    "libbpf: prog 'vigil_exec': BPF program load failed: Invalid argument\n"
	    "libbpf: prog 'vigil_exec': -- BEGIN PROG LOAD LOG --\n"
	    "12: (85) call bpf_task_pt_regs#175\nunknown func bpf_task_pt_regs#175\n"
	    "-- END PROG LOAD LOG --\n",
	    &r);
	assert_int_equal(r.reason, PROBE_R_KERNEL_TOO_OLD);
	assert_string_equal(r.prog, "vigil_exec");
	assert_non_null(strstr(r.message, "unknown func bpf_task_pt_regs#175"));

	probe_classify_load(-ENOMEM, "", &r);
	assert_int_equal(r.reason, PROBE_R_LOAD_FAILED);
	assert_string_equal(r.message, "probe load failed: ENOMEM: Cannot allocate memory");
}

static void test_syscall_table(void **state)
{
	unsigned short cfg[VIGIL_MAX_SYSCALLS];

	assert_string_equal(probe_syscall_name(SYS_openat), "openat");
	assert_string_equal(probe_syscall_name(SYS_execveat), "execveat");
	assert_string_equal(probe_syscall_name(SYS_read), "<NA>");
	probe_syscalls_fill(cfg, VIGIL_MAX_SYSCALLS);
	assert_true(cfg[SYS_openat] & VIGIL_SC_ON);
	assert_true(cfg[SYS_openat] & VIGIL_SC_STR(1));
	assert_true(cfg[SYS_renameat2] & VIGIL_SC_STR(3));
	assert_true(cfg[SYS_connect] & VIGIL_SC_SOCK_ARG0);
	assert_int_equal(cfg[SYS_execve], 0); /* from sched_process_exec instead */
	assert_int_equal(cfg[SYS_read], 0);
}

static int seen_open;

static void on_event(void *ctx, const struct vigil_event *e, size_t len)
{
	if (e->kind == VIGIL_K_SYSCALL && e->nr == SYS_openat && e->nstr == 1 &&
	    !strcmp(e->data, "/tmp/vigil-probe-unit-marker") && e->res == -ENOENT)
		seen_open = 1;
}

static void test_live_probe(void **state)
{
	struct probe_opts o = {.buffer_preset = 1, .on_event = on_event};
	struct probe_report r;
	struct probe *p = NULL;
	uint64_t ev = 0, dr = 0;
	pid_t pid;
	int i;

	if (geteuid() != 0 || access("/sys/kernel/btf/vmlinux", R_OK)) {
		skip();
		return;
	}
	if (probe_start(&o, &p, &r)) {
		print_message("probe did not load: %s: %s\n", probe_reason_name(r.reason),
			      r.message);
		assert_true(r.reason == PROBE_R_MISSING_CAPABILITIES);
		skip();
		return;
	}
	assert_int_equal(r.reason, PROBE_R_OK);
	assert_true(r.btf_present);
	assert_int_equal(probe_ring_size(p), 1 << 20);
	/* our own opens are filtered out (self_tgid); a child's are not */
	pid = fork();
	if (pid == 0) {
		open("/tmp/vigil-probe-unit-marker", O_RDONLY);
		_exit(0);
	}
	for (i = 0; i < 50 && !seen_open; i++)
		probe_poll(p, 100);
	assert_true(seen_open);
	assert_true(probe_counters(p, &ev, &dr, NULL, 0) > 0);
	assert_true(ev > 0);
	probe_destroy(p);
	probe_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strerror_names),
	    cmocka_unit_test(test_buffer_presets),
	    cmocka_unit_test(test_preflight_btf_missing),
	    cmocka_unit_test(test_preflight_btf_garbage),
	    cmocka_unit_test(test_preflight_env_override),
	    cmocka_unit_test(test_preflight_bad_preset),
	    cmocka_unit_test(test_classify_verifier),
	    cmocka_unit_test(test_classify_other),
	    cmocka_unit_test(test_syscall_table),
	    cmocka_unit_test(test_live_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
