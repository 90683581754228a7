/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The evaluator's shortcuts (event-type index, rule guards, the guard index, macro memo, sorted
 * and/or) must never change a result: for many generated events, rules_set_eval(all) must equal
 * a plain walk of every active rule's tree in definition order.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/rules/compile.h"
#include "lib/rules/rules.h"
#include "rules_testutil.h"

static const char *const names[] = {"bash",    "sh",   "cat", "nginx", "crontab", "nc",	  "curl",
				    "python3", "sudo", "a",   "b",     "runc",	  "sshd", "vi"};
static const char *const files[] = {
    "/etc/shadow",     "/etc/cron.d/x", "/tmp/x",      "/root/.bashrc",	  "/home/u/.ssh/id_rsa",
    "/proc/1/environ", "/dev/shm/x",	"/etc/passwd", "/var/log/syslog", "/usr/bin/ls"};
static const char *const ips[] = {"169.254.169.254", "10.0.0.1", "8.8.8.8", "127.0.0.1"};
static const unsigned types[] = {RULES_EVT_execve,  RULES_EVT_openat,  RULES_EVT_open,
				 RULES_EVT_connect, RULES_EVT_unlink,  RULES_EVT_rename,
				 RULES_EVT_setuid,  RULES_EVT__UNKNOWN};

static unsigned long long seed = 0x9E3779B97F4A7C15ULL;

static unsigned rnd(unsigned n)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (unsigned)(seed % n);
}

#define PICK(a) a[rnd(sizeof(a) / sizeof(a[0]))]

static void gen(struct rules_event *ev)
{
	rules_event_reset(ev);
	ev->type = (uint16_t)PICK(types);
	rules_event_set_str(ev, RULES_F_PROC_NAME, PICK(names));
	if (rnd(2))
		rules_event_set_str(ev, RULES_F_FD_NAME, PICK(files));
	if (rnd(2))
		rules_event_set_str(ev, RULES_F_CONTAINER_ID, rnd(2) ? "host" : "abc123");
	rules_event_set_str(ev, RULES_F_PROC_CMDLINE, rnd(2) ? "x -c stratum+tcp://" : "x");
	rules_event_set_str(ev, RULES_F_PROC_EXE, rnd(3) ? "/dev/shm/x" : "x");
	rules_event_set_num(ev, RULES_F_PROC_TTY, rnd(2));
	rules_event_set_num(ev, RULES_F_USER_UID, rnd(2) ? 0 : 1000);
	rules_event_set_num(ev, RULES_F_FD_NUM, 3);
	rules_event_set_str(ev, RULES_F_FD_TYPECHAR, rnd(2) ? "f" : "4");
	rules_event_set_str(ev, RULES_F_FD_SIP, PICK(ips));
	rules_event_set_str(ev, RULES_F_FD_L4PROTO, "tcp");
	rules_event_push_ancestor(ev, PICK(names), NULL, "/p", 1);
	rules_event_push_ancestor(ev, PICK(names), NULL, "/g", 2);
	rules_event_push_arg(ev, "flags", rnd(2) ? "O_RDONLY" : "O_WRONLY|O_CREAT");
	rules_event_derive(ev);
}

/* Reference: every active rule that can see the type, tree only, in definition order. */
static size_t brute(const struct rules_set *rs, const struct rules_event *ev, size_t *hits)
{
	unsigned t = ev->type < RULES_EVT__COUNT ? ev->type : 0;
	size_t n = 0;

	for (size_t r = 0; r < rs->nrules; r++) {
		struct rules_eval_ctx ctx;

		if (!rs->rules[r].active || !((rs->rules[r].evmask[t >> 6] >> (t & 63)) & 1))
			continue;
		memset(&ctx, 0, sizeof(ctx));
		ctx.ev = ev;
		if (rules_cx_eval(rs->rules[r].cx, &ctx))
			hits[n++] = r;
	}
	return n;
}

static void compare(const struct rules_set *rs, unsigned rounds, unsigned *matched)
{
	struct rules_event *ev = malloc(sizeof(*ev));
	size_t a[256], b[256];

	for (unsigned i = 0; i < rounds; i++) {
		size_t na, nb;

		gen(ev);
		na = rules_set_eval(rs, ev, true, a, 256);
		nb = brute(rs, ev, b);
		assert_int_equal(na, nb);
		for (size_t k = 0; k < na; k++)
			assert_int_equal(a[k], b[k]);
		*matched += na > 0;
		if (nb) {
			size_t first;

			assert_int_equal(rules_set_eval(rs, ev, false, &first, 1), 1);
			assert_int_equal(first, b[0]);
		}
	}
	free(ev);
}

static void test_guards_local(void **state)
{
	const char *y =
	    "- list: shells\n  items: [bash, sh]\n"
	    "- macro: spawned\n  condition: evt.type in (execve, execveat)\n"
	    "- rule: or_guards\n  desc: d\n  output: o\n  priority: INFO\n"
	    "  condition: (spawned and proc.name = crontab) or (evt.type = openat and fd.name "
	    "startswith /etc/cron)\n"
	    "- rule: shell\n  desc: d\n  output: o\n  priority: INFO\n"
	    "  condition: spawned and proc.name in (shells) and not proc.pname in (sshd)\n"
	    "- rule: mixed_or\n  desc: d\n  output: o\n  priority: INFO\n"
	    "  condition: proc.name = nc or proc.cmdline contains stratum or proc.aname = sudo\n"
	    "- rule: any_ip\n  desc: d\n  output: o\n  priority: INFO\n"
	    "  condition: evt.type = connect and fd.sip = 169.254.169.254\n"
	    "- rule: neg\n  desc: d\n  output: o\n  priority: INFO\n"
	    "  condition: not proc.name in (shells) and fd.name = /etc/shadow\n"
	    "- rule: bool\n  desc: d\n  output: o\n  priority: INFO\n"
	    "  condition: evt.is_open_write = true and fd.typechar = f and not container.id = "
	    "host\n";
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;
	unsigned matched = 0;

	if (rt_load(y, &rs, &d))
		rt_dump(d);
	assert_non_null(rs);
	compare(rs, 20000, &matched);
	assert_true(matched > 1000); /* the comparison saw plenty of matches */
	rules_set_free(rs);
	rules_diags_free(d);
}

static void test_guards_upstream(void **state)
{
	const char *dir = rt_upstream_dir();
	struct rules_set *rs = NULL;
	char **paths = NULL;
	size_t n = 0;
	unsigned matched = 0;

	if (!dir) {
		print_message("upstream rules not found (set VIGIL_UPSTREAM_RULES): skipped\n");
		skip();
	}
	assert_int_equal(rules_paths_expand(&dir, 1, &paths, &n), 0);
	assert_int_equal(rules_load_files((const char *const *)paths, n, &rs, NULL), 0);
	compare(rs, 20000, &matched);
	assert_true(matched > 0);
	rules_paths_free(paths);
	rules_set_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_guards_local),
	    cmocka_unit_test(test_guards_upstream),
	};
	return cmocka_run_group_tests_name("rules_guards", tests, NULL, NULL);
}
