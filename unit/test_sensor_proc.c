/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for sensor/proc: container ids from cgroup paths, the process table (fork/exec/exit),
 * seeding from a /proc-like tree, argument joining. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sensor/proc/proc.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_container_id_patterns(void **state)
{
	char out[PROC_CID_LEN];

	assert_true(proc_container_id("cri-containerd-" ID ".scope", out));
	assert_string_equal(out, ID);
	assert_true(proc_container_id("/kubepods.slice/kubepods-besteffort.slice/"
				      "kubepods-besteffort-pod1234.slice/cri-containerd-" ID
				      ".scope",
				      out));
	assert_string_equal(out, ID);
	assert_true(proc_container_id("/kubepods.slice/crio-" ID ".scope", out));
	assert_string_equal(out, ID);
	assert_true(proc_container_id("/system.slice/docker-" ID ".scope", out));
	assert_string_equal(out, ID);
	assert_true(proc_container_id("/docker/" ID, out));
	assert_string_equal(out, ID);
	assert_true(proc_container_id("/kubepods/besteffort/pod1234-5678/" ID, out));
	assert_string_equal(out, ID);
	assert_true(proc_container_id("/machine.slice/libpod-" ID ".scope/container", out));
	assert_string_equal(out, ID);
}

static void test_container_id_rejects(void **state)
{
	char out[PROC_CID_LEN];

	assert_false(proc_container_id("/", out));
	assert_string_equal(out, "");
	assert_false(proc_container_id("", out));
	assert_false(proc_container_id(NULL, out));
	assert_false(proc_container_id("/user.slice/user-0.slice/session-1.scope", out));
	/* the conmon monitor of CRI-O is not the container */
	assert_false(proc_container_id("/kubepods.slice/crio-conmon-" ID ".scope", out));
	/* upper case or short hex is not an id */
	assert_false(proc_container_id("/docker/0123456789ABCDEF0123456789abcdef0123456789abcdef"
				       "0123456789abcdef",
				       out));
	assert_false(proc_container_id("cri-containerd-0123.scope", out));
}

static void test_join_args(void **state)
{
	const char argv[] = "bash\0-c\0echo hi\0";
	char *s = proc_join_args(argv, sizeof(argv) - 1, 1);

	assert_string_equal(s, "-c echo hi");
	free(s);
	s = proc_join_args(argv, sizeof(argv) - 1, 0);
	assert_string_equal(s, "bash -c echo hi");
	free(s);
	s = proc_join_args("", 0, 1);
	assert_string_equal(s, "");
	free(s);
}

static void test_table_fork_exec_exit(void **state)
{
	struct proc_table *t = proc_table_new();
	struct proc_entry *p, *c;
	const char argv[] = "/bin/bash\0-i\0";

	assert_non_null(t);
	p = proc_table_exec(t, 100, 1, "bash", "/bin/bash", argv, sizeof(argv) - 1,
			    "cri-containerd-" ID ".scope");
	assert_non_null(p);
	assert_string_equal(p->name, "bash");
	assert_string_equal(p->exe, "/bin/bash");
	assert_string_equal(p->exepath, "/bin/bash");
	assert_string_equal(p->args, "-i");
	assert_string_equal(p->cmdline, "bash -i");
	assert_string_equal(p->cid, ID);
	proc_table_set_cwd(t, 100, "/root");

	c = proc_table_fork(t, 100, 101);
	assert_non_null(c);
	assert_int_equal(c->ppid, 100);
	assert_string_equal(c->name, "bash");
	assert_string_equal(c->cid, ID);
	assert_string_equal(c->cwd, "/root");
	c = proc_table_exec(t, 101, 100, "cat", "/usr/bin/cat", "cat\0/etc/shadow", 15, "");
	assert_string_equal(c->cmdline, "cat /etc/shadow");
	assert_string_equal(c->cid, ""); /* moved out of the container cgroup */
	assert_int_equal(proc_table_count(t), 2);

	proc_table_exit(t, 101);
	assert_null(proc_table_get(t, 101));
	assert_non_null(proc_table_get(t, 100));
	assert_int_equal(proc_table_count(t), 1);
	proc_table_free(t);
}

static void test_table_grows(void **state)
{
	struct proc_table *t = proc_table_new();
	uint32_t i;

	for (i = 1; i <= 20000; i++)
		assert_non_null(proc_table_fork(t, i - 1, i));
	assert_int_equal(proc_table_count(t), 20000);
	for (i = 1; i <= 20000; i += 997)
		assert_int_equal(proc_table_get(t, i)->ppid, i - 1);
	proc_table_free(t);
}

static void put(const char *dir, const char *name, const char *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(data, 1, len, f);
	fclose(f);
}

static void test_seed_from_fake_proc(void **state)
{
	char root[] = "/tmp/vigil-test-proc.XXXXXX", dir[600], cmd[700];
	struct proc_table *t = proc_table_new();
	struct proc_entry *e;
	const char cmdline[] = "postgres\0-D\0/var/lib/pg\0";
	const char status[] =
	    "Name:\tpostgres\nUid:\t999\t1000\t999\t999\nGid:\t998\t998\t998\t998\n"
	    "NSpid:\t4242\t7\n";
	const char stat[] = "4242 (postgres: main) S 4200 4242 4242 34816 0 0";
	const char cgroup[] = "0::/kubepods.slice/cri-containerd-" ID ".scope\n";

	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/4242", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	put(dir, "stat", stat, sizeof(stat) - 1);
	put(dir, "status", status, sizeof(status) - 1);
	put(dir, "cmdline", cmdline, sizeof(cmdline) - 1);
	put(dir, "cgroup", cgroup, sizeof(cgroup) - 1);
	put(dir, "loginuid", "1000", 4);
	snprintf(dir, sizeof(dir), "%s/self", root);
	mkdir(dir, 0755); /* not a pid: ignored */

	assert_int_equal(proc_table_seed(t, root), 1);
	e = proc_table_get(t, 4242);
	assert_non_null(e);
	assert_string_equal(e->name, "postgres: main");
	assert_int_equal(e->ppid, 4200);
	assert_int_equal(e->uid, 1000); /* effective */
	assert_int_equal(e->gid, 998);
	assert_int_equal(e->vpid, 7);
	assert_int_equal(e->tty, 34816);
	assert_int_equal(e->loginuid, 1000);
	assert_string_equal(e->exe, "postgres");
	assert_string_equal(e->args, "-D /var/lib/pg");
	assert_string_equal(e->cmdline, "postgres: main -D /var/lib/pg");
	assert_string_equal(e->cid, ID);
	assert_true(e->from_proc);
	proc_table_free(t);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static void test_seed_real_proc(void **state)
{
	struct proc_table *t = proc_table_new();
	struct proc_entry *e;
	char self[4096];
	ssize_t n;

	assert_true(proc_table_seed(t, "/proc") > 0);
	e = proc_table_get(t, getpid());
	assert_non_null(e);
	assert_int_equal(e->ppid, getppid());
	assert_non_null(e->exepath);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	assert_string_equal(e->exepath, self);
	proc_table_free(t);
}

static void test_user_names(void **state)
{
	assert_string_equal(proc_user_name(0), "root");
	assert_string_equal(proc_group_name(0), "root");
	/* unknown ids print as numbers, and the answer is cached (same pointer) */
	assert_string_equal(proc_user_name(3999999), "3999999");
	assert_ptr_equal(proc_user_name(3999999), proc_user_name(3999999));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_container_id_patterns),
	    cmocka_unit_test(test_container_id_rejects),
	    cmocka_unit_test(test_join_args),
	    cmocka_unit_test(test_table_fork_exec_exit),
	    cmocka_unit_test(test_table_grows),
	    cmocka_unit_test(test_seed_from_fake_proc),
	    cmocka_unit_test(test_seed_real_proc),
	    cmocka_unit_test(test_user_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
