/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for sensor/decode: probe records built by hand -> rules events (exec with container and
 * pod metadata, open with flags and relative paths, connect/accept tuples, fork/exit bookkeeping,
 * malformed records), plus the k8s image split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/rules/event.h"
#include "sensor/decode/decode.h"
#include "sensor/k8s/meta.h"
#include "sensor/proc/proc.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct fx {
	struct proc_table *procs;
	struct k8s_meta *meta;
	struct decoder *dec;
	struct vigil_event *e;
	struct rules_event ev;
	char metafile[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	FILE *mf;
	int fd;

	f->procs = proc_table_new();
	f->meta = k8s_meta_new();
	/* a pid root that doesn't exist: nothing is read from the real /proc */
	f->dec = decode_new(f->procs, f->meta, "/nonexistent-proc");
	decode_set_clock_offset(f->dec, 1000000000000000000ll);
	f->e = calloc(1, sizeof(*f->e));
	snprintf(f->metafile, sizeof(f->metafile), "/tmp/vigil-test-meta.XXXXXX");
	fd = mkstemp(f->metafile);
	mf = fdopen(fd, "w");
	fprintf(mf,
		"{\"%s\": {\"namespace\": \"production\", \"pod\": \"payments-db-1\", "
		"\"image\": \"harbor.golems.internal/golem-trust/payments-db:2.1.4\", "
		"\"container\": \"db\"}}",
		ID);
	fclose(mf);
	assert_int_equal(k8s_meta_load_file(f->meta, f->metafile), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	unlink(f->metafile);
	decode_free(f->dec);
	k8s_meta_free(f->meta);
	proc_table_free(f->procs);
	free(f->e);
	free(f);
	return 0;
}

/* Starts a record of kind for tgid (parent ppid), cleared. */
static void rec(struct fx *f, int kind, uint32_t tgid, uint32_t ppid, const char *comm)
{
	memset(f->e, 0, sizeof(*f->e));
	f->e->abi = VIGIL_ABI_VERSION;
	f->e->kind = kind;
	f->e->tgid = f->e->tid = tgid;
	f->e->ppid = ppid;
	f->e->ts = 5;
	f->e->loginuid = (uint32_t)-1;
	snprintf(f->e->comm, sizeof(f->e->comm), "%s", comm);
}

/* Appends a variable part (len bytes) and returns the record length. */
static size_t add(struct fx *f, const void *data, size_t len)
{
	size_t off = 0;
	int i;

	for (i = 0; i < f->e->nstr; i++)
		off += f->e->str_len[i];
	memcpy(f->e->data + off, data, len);
	f->e->str_len[f->e->nstr++] = len;
	return VIGIL_EVENT_HDR_SIZE + off + len;
}

static const char *str(const struct rules_event *ev, enum rules_field fl)
{
	return rules_event_has(ev, fl) ? ev->v[fl].s : NULL;
}

static size_t exec_bash(struct fx *f, uint32_t pid, uint32_t ppid, const char *cg)
{
	const char argv[] = "/bin/bash\0-i";
	size_t len;

	rec(f, VIGIL_K_EXEC, pid, ppid, "bash");
	f->e->nr = SYS_execve;
	add(f, "/bin/bash", 10);
	add(f, argv, sizeof(argv));
	len = add(f, cg, strlen(cg) + 1);
	return len;
}

static void test_exec_in_container(void **state)
{
	struct fx *f = *state;
	struct rules_event *ev = &f->ev;
	size_t len;

	/* the parent, known from an earlier exec on the host */
	rec(f, VIGIL_K_EXEC, 50, 1, "containerd-shim");
	f->e->nr = SYS_execve;
	add(f, "/usr/bin/containerd-shim", 25);
	add(f, "containerd-shim", 16);
	len = add(f, "", 1);
	assert_int_equal(decode_event(f->dec, f->e, len, ev), DECODE_EVAL);

	len = exec_bash(f, 100, 50, "cri-containerd-" ID ".scope");
	assert_int_equal(decode_event(f->dec, f->e, len, ev), DECODE_EVAL);
	assert_int_equal(ev->type, RULES_EVT_execve);
	assert_int_equal(ev->ts_ns, 1000000000000000005ull);
	assert_string_equal(str(ev, RULES_F_PROC_NAME), "bash");
	assert_string_equal(str(ev, RULES_F_PROC_EXE), "/bin/bash");
	assert_string_equal(str(ev, RULES_F_PROC_EXEPATH), "/bin/bash");
	assert_string_equal(str(ev, RULES_F_PROC_CMDLINE), "bash -i");
	assert_string_equal(str(ev, RULES_F_PROC_ARGS), "-i");
	assert_string_equal(str(ev, RULES_F_USER_NAME), "root");
	assert_string_equal(str(ev, RULES_F_EVT_DIR), "<");
	assert_string_equal(str(ev, RULES_F_EVT_RES), "SUCCESS");
	assert_string_equal(str(ev, RULES_F_CONTAINER_ID), ID);
	assert_string_equal(str(ev, RULES_F_K8S_NS_NAME), "production");
	assert_string_equal(str(ev, RULES_F_K8S_POD_NAME), "payments-db-1");
	assert_string_equal(str(ev, RULES_F_CONTAINER_IMAGE_REPOSITORY),
			    "harbor.golems.internal/golem-trust/payments-db");
	assert_string_equal(str(ev, RULES_F_CONTAINER_IMAGE_TAG), "2.1.4");
	assert_int_equal(ev->nanc, 1);
	assert_string_equal(ev->anc_name[0], "containerd-shim");
	assert_string_equal(str(ev, RULES_F_PROC_PNAME), "containerd-shim");
	assert_string_equal(rules_event_arg(ev, "filename"), "/bin/bash");
}

static void test_exec_on_host_and_unknown_pod(void **state)
{
	struct fx *f = *state;
	struct rules_event *ev = &f->ev;
	size_t len = exec_bash(f, 200, 1, "session-3.scope");

	assert_int_equal(decode_event(f->dec, f->e, len, ev), DECODE_EVAL);
	assert_string_equal(str(ev, RULES_F_CONTAINER_ID), "host");
	assert_null(str(ev, RULES_F_K8S_NS_NAME));

	/* a container the metadata doesn't know: id set, k8s fields absent (<NA>) */
	len = exec_bash(f, 201, 1,
			"crio-"
			"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
			".scope");
	assert_int_equal(decode_event(f->dec, f->e, len, ev), DECODE_EVAL);
	assert_string_equal(str(ev, RULES_F_CONTAINER_ID),
			    "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210");
	assert_null(str(ev, RULES_F_K8S_POD_NAME));
}

static void test_open_flags_and_paths(void **state)
{
	struct fx *f = *state;
	struct rules_event *ev = &f->ev;
	size_t len;

	len = exec_bash(f, 300, 1, "cri-containerd-" ID ".scope");
	decode_event(f->dec, f->e, len, ev);
	proc_table_set_cwd(f->procs, 300, "/var/lib");

	rec(f, VIGIL_K_SYSCALL, 300, 1, "bash");
	f->e->nr = SYS_openat;
	f->e->res = 3;
	f->e->args[0] = (uint64_t)AT_FDCWD;
	f->e->args[2] = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
	f->e->args[3] = 0644;
	len = add(f, "pg/data.txt", 12);
	assert_int_equal(decode_event(f->dec, f->e, len, ev), DECODE_EVAL);
	assert_int_equal(ev->type, RULES_EVT_openat);
	assert_string_equal(str(ev, RULES_F_FD_NAME), "/var/lib/pg/data.txt");
	assert_string_equal(str(ev, RULES_F_FD_NAMERAW), "pg/data.txt");
	assert_string_equal(str(ev, RULES_F_FD_TYPECHAR), "f");
	assert_int_equal(ev->v[RULES_F_FD_NUM].n, 3);
	assert_string_equal(rules_event_arg(ev, "flags"), "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC");
	assert_string_equal(rules_event_arg(ev, "mode"), "0644");
	assert_int_equal(ev->v[RULES_F_EVT_IS_OPEN_WRITE].n, 1);
	assert_int_equal(ev->v[RULES_F_EVT_IS_OPEN_READ].n, 0);
	assert_string_equal(str(ev, RULES_F_K8S_NS_NAME), "production");

	/* a failed open: fd.num -1, evt.res the errno name */
	rec(f, VIGIL_K_SYSCALL, 300, 1, "bash");
	f->e->nr = SYS_openat;
	f->e->res = -ENOENT;
	f->e->args[0] = (uint64_t)AT_FDCWD;
	len = add(f, "/etc/shadow", 12);
	assert_int_equal(decode_event(f->dec, f->e, len, ev), DECODE_EVAL);
	assert_int_equal(ev->v[RULES_F_FD_NUM].n, -1);
	assert_string_equal(str(ev, RULES_F_EVT_RES), "ENOENT");
	assert_string_equal(rules_event_arg(ev, "flags"), "O_RDONLY");
	assert_int_equal(ev->v[RULES_F_EVT_IS_OPEN_READ].n, 1);

	/* openat2: flags from struct open_how */
	{
		uint64_t how[3] = {O_RDWR | O_APPEND, 0, 0};

		rec(f, VIGIL_K_SYSCALL, 300, 1, "bash");
		f->e->nr = SYS_openat2;
		f->e->res = 4;
		add(f, "/tmp/x", 7);
		len = add(f, how, sizeof(how));
		assert_int_equal(decode_event(f->dec, f->e, len, ev), DECODE_EVAL);
		assert_int_equal(ev->type, RULES_EVT_openat2);
		assert_string_equal(rules_event_arg(ev, "flags"), "O_RDWR|O_APPEND");
		assert_string_equal(str(ev, RULES_F_FD_NAME), "/tmp/x");
	}
}

static void test_connect_accept(void **state)
{
	struct fx *f = *state;
	struct rules_event *ev = &f->ev;
	size_t len = VIGIL_EVENT_HDR_SIZE;

	rec(f, VIGIL_K_SYSCALL, 400, 1, "curl");
	f->e->nr = SYS_connect;
	f->e->res = 0;
	f->e->sock.family = AF_INET;
	f->e->sock.type = SOCK_STREAM;
	f->e->sock.lport = 40000;
	f->e->sock.rport = 443;
	inet_pton(AF_INET, "10.0.0.5", f->e->sock.laddr);
	inet_pton(AF_INET, "93.184.216.34", f->e->sock.raddr);
	assert_int_equal(decode_event(f->dec, f->e, len, ev), DECODE_EVAL);
	assert_int_equal(ev->type, RULES_EVT_connect);
	assert_string_equal(str(ev, RULES_F_FD_NAME), "10.0.0.5:40000->93.184.216.34:443");
	assert_string_equal(str(ev, RULES_F_FD_TYPE), "ipv4");
	assert_string_equal(str(ev, RULES_F_FD_L4PROTO), "tcp");
	assert_string_equal(str(ev, RULES_F_FD_SIP), "93.184.216.34");
	assert_int_equal(ev->v[RULES_F_FD_SPORT].n, 443);
	assert_int_equal(ev->v[RULES_F_FD_LPORT].n, 40000);
	assert_string_equal(str(ev, RULES_F_PROC_NAME), "curl"); /* unknown pid: comm */

	rec(f, VIGIL_K_SYSCALL, 401, 1, "nginx");
	f->e->nr = SYS_accept4;
	f->e->res = 7;
	f->e->sock.family = AF_INET6;
	f->e->sock.type = SOCK_STREAM;
	f->e->sock.lport = 80;
	f->e->sock.rport = 51000;
	inet_pton(AF_INET6, "::1", f->e->sock.laddr);
	inet_pton(AF_INET6, "fe80::2", f->e->sock.raddr);
	assert_int_equal(decode_event(f->dec, f->e, len, ev), DECODE_EVAL);
	assert_string_equal(str(ev, RULES_F_FD_NAME), "fe80::2:51000->::1:80");
	assert_string_equal(str(ev, RULES_F_FD_CIP), "fe80::2");
	assert_string_equal(str(ev, RULES_F_FD_SIP), "::1");
	assert_int_equal(ev->v[RULES_F_FD_SPORT].n, 80);
	assert_int_equal(ev->v[RULES_F_FD_NUM].n, 7);
	assert_string_equal(str(ev, RULES_F_FD_TYPECHAR), "6");
}

static void test_fork_exit_and_bad_records(void **state)
{
	struct fx *f = *state;
	struct rules_event *ev = &f->ev;
	size_t len = exec_bash(f, 500, 1, "");

	decode_event(f->dec, f->e, len, ev);
	rec(f, VIGIL_K_FORK, 501, 500, "bash");
	assert_int_equal(decode_event(f->dec, f->e, VIGIL_EVENT_HDR_SIZE, ev), DECODE_SKIP);
	assert_non_null(proc_table_get(f->procs, 501));
	assert_string_equal(proc_table_get(f->procs, 501)->cmdline, "bash -i");
	rec(f, VIGIL_K_EXIT, 501, 500, "bash");
	assert_int_equal(decode_event(f->dec, f->e, VIGIL_EVENT_HDR_SIZE, ev), DECODE_SKIP);
	assert_null(proc_table_get(f->procs, 501));

	/* short, wrong ABI, unknown kind, strings past the end */
	assert_int_equal(decode_event(f->dec, f->e, 10, ev), -EINVAL);
	rec(f, VIGIL_K_SYSCALL, 1, 0, "x");
	f->e->abi = VIGIL_ABI_VERSION + 1;
	assert_int_equal(decode_event(f->dec, f->e, VIGIL_EVENT_HDR_SIZE, ev), -EINVAL);
	rec(f, 99, 1, 0, "x");
	assert_int_equal(decode_event(f->dec, f->e, VIGIL_EVENT_HDR_SIZE, ev), -EINVAL);
	rec(f, VIGIL_K_SYSCALL, 1, 0, "x");
	f->e->nr = SYS_unlink;
	f->e->nstr = 1;
	f->e->str_len[0] = 4000; /* claims more than the record holds */
	assert_int_equal(decode_event(f->dec, f->e, VIGIL_EVENT_HDR_SIZE + 10, ev), DECODE_EVAL);
	assert_false(rules_event_has(ev, RULES_F_FS_PATH_NAME));
}

static void test_open_flags_text(void **state)
{
	char b[256];

	assert_string_equal(decode_open_flags(O_RDONLY, b, sizeof(b)), "O_RDONLY");
	assert_string_equal(decode_open_flags(O_RDONLY | O_DIRECTORY | O_CLOEXEC, b, sizeof(b)),
			    "O_RDONLY|O_DIRECTORY|O_CLOEXEC");
	assert_string_equal(decode_open_flags(O_RDWR | O_TMPFILE, b, sizeof(b)),
			    "O_RDWR|O_TMPFILE");
}

static void test_image_split(void **state)
{
	char repo[128], tag[64];

	k8s_image_split("harbor.golems.internal/golem-trust/payments-db:2.1.4", repo, sizeof(repo),
			tag, sizeof(tag));
	assert_string_equal(repo, "harbor.golems.internal/golem-trust/payments-db");
	assert_string_equal(tag, "2.1.4");
	k8s_image_split("registry:5000/app", repo, sizeof(repo), tag, sizeof(tag));
	assert_string_equal(repo, "registry:5000/app");
	assert_string_equal(tag, "");
	k8s_image_split("nginx:1.25@sha256:abcd", repo, sizeof(repo), tag, sizeof(tag));
	assert_string_equal(repo, "nginx");
	assert_string_equal(tag, "1.25");
}

static void test_meta_from_pod_list(void **state)
{
	struct k8s_meta *m = k8s_meta_new();
	struct k8s_pod_meta pm;
	json_t *list = json_loads(
	    "{\"items\":[{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"shop\",\"uid\":\"u1\"},"
	    "\"status\":{\"containerStatuses\":[{\"name\":\"nginx\",\"image\":\"nginx:1.25\","
	    "\"containerID\":\"containerd://" ID "\"},{\"name\":\"pending\",\"image\":\"x\"}]}}]}",
	    0, NULL);

	assert_non_null(list);
	assert_int_equal(k8s_meta_set_pods(m, list), 1);
	assert_true(k8s_meta_lookup(m, ID, &pm));
	assert_string_equal(pm.ns, "shop");
	assert_string_equal(pm.pod, "web-1");
	assert_string_equal(pm.container, "nginx");
	assert_string_equal(pm.image_repo, "nginx");
	assert_false(k8s_meta_lookup(m, "deadbeef", &pm));
	/* an override file wins over the API for the same container */
	{
		char path[] = "/tmp/vigil-test-override.XXXXXX";
		int fd = mkstemp(path);
		FILE *of = fdopen(fd, "w");

		fprintf(of,
			"{\"%s\": {\"namespace\": \"override\", \"pod\": \"p\", "
			"\"image\": \"i:1\"}, \"%064d\": {\"namespace\": \"other\"}}",
			ID, 7);
		fclose(of);
		assert_int_equal(k8s_meta_load_file(m, path), 0);
		unlink(path);
		assert_true(k8s_meta_lookup(m, ID, &pm));
		assert_string_equal(pm.ns, "override");
		assert_int_equal(k8s_meta_count(m), 3);
		assert_int_equal(k8s_meta_set_pods(m, list), 1); /* a relist keeps the overrides */
		assert_true(k8s_meta_lookup(m, ID, &pm));
		assert_string_equal(pm.ns, "override");
		assert_int_equal(k8s_meta_count(m), 3);
	}
	/* a new list replaces the old entries */
	json_decref(list);
	list = json_loads("{\"items\":[]}", 0, NULL);
	assert_int_equal(k8s_meta_set_pods(m, list), 0);
	assert_int_equal(k8s_meta_count(m), 2); /* only the overrides are left */
	assert_true(k8s_meta_lookup(m, ID, &pm));
	assert_string_equal(pm.ns, "override");
	json_decref(list);
	k8s_meta_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_exec_in_container, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_on_host_and_unknown_pod, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_flags_and_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connect_accept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork_exit_and_bad_records, setup, teardown),
	    cmocka_unit_test(test_open_flags_text),
	    cmocka_unit_test(test_image_split),
	    cmocka_unit_test(test_meta_from_pod_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
