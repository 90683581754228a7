/* SPDX-License-Identifier: Apache-2.0 */
/* Conditions: parser errors and positions, compiler (fields, macros, lists), evaluator. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/rules/cond_parse.h"
#include "lib/rules/rules.h"
#include "rules_testutil.h"

/* Loads pre + one rule with cond; returns whether ev matches it. Fails the test on load errors. */
static bool match(const char *pre, const char *cond, const struct rules_event *ev)
{
	char *y = rt_rule(pre, cond);
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;
	size_t hit;
	bool r;
	int err = rt_load(y, &rs, &d);

	if (err)
		rt_dump(d);
	assert_int_equal(err, 0);
	r = rules_set_eval(rs, ev, false, &hit, 1) == 1;
	rules_set_free(rs);
	rules_diags_free(d);
	free(y);
	return r;
}

/* Loads and expects an error containing needle; returns the diagnostic's line*1000+col. */
static int load_error(const char *pre, const char *cond, const char *needle)
{
	char *y = rt_rule(pre, cond);
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;
	long i;
	int pos;

	assert_int_equal(rt_load(y, &rs, &d), -EINVAL);
	assert_null(rs);
	i = rt_find(d, RULES_SEV_ERROR, needle);
	if (i < 0)
		rt_dump(d);
	assert_true(i >= 0);
	pos = rules_diags_get(d, (size_t)i)->line * 1000 + rules_diags_get(d, (size_t)i)->col;
	rules_diags_free(d);
	free(y);
	return pos;
}

static void exec_ev(struct rules_event *ev, const char *name)
{
	rules_event_reset(ev);
	ev->type = RULES_EVT_execve;
	rules_event_set_str(ev, RULES_F_PROC_NAME, name);
	rules_event_derive(ev);
}

static void test_parse_tree(void **state)
{
	struct rules_arena *a = rules_arena_new();
	struct rules_cnode *n = NULL;
	char msg[128];
	int pos = -1;
	const char *c = "a or b and not c";

	assert_int_equal(rules_cond_parse(a, c, strlen(c), &n, &pos, msg, sizeof(msg)), 0);
	assert_int_equal(n->kind, RULES_CN_OR);
	assert_int_equal(n->nkids, 2);
	assert_int_equal(n->kids[0]->kind, RULES_CN_REF);
	assert_string_equal(n->kids[0]->name, "a");
	assert_int_equal(n->kids[1]->kind, RULES_CN_AND);
	assert_int_equal(n->kids[1]->kids[1]->kind, RULES_CN_NOT);

	c = "proc.name in (a, 'b c', \"d\") and fd.name exists";
	assert_int_equal(rules_cond_parse(a, c, strlen(c), &n, &pos, msg, sizeof(msg)), 0);
	assert_int_equal(n->kind, RULES_CN_AND);
	assert_int_equal(n->kids[0]->op, RULES_OP_IN);
	assert_int_equal(n->kids[0]->nvals, 3);
	assert_string_equal(n->kids[0]->vals[1].s, "b c");
	assert_true(n->kids[0]->vals[1].quoted);
	assert_false(n->kids[0]->vals[0].quoted);
	assert_int_equal(n->kids[1]->op, RULES_OP_EXISTS);

	c = "proc.pname in (runc:[0:PARENT], x) and evt.arg.flags contains O_TRUNC";
	assert_int_equal(rules_cond_parse(a, c, strlen(c), &n, &pos, msg, sizeof(msg)), 0);
	assert_string_equal(n->kids[0]->vals[0].s, "runc:[0:PARENT]");
	assert_string_equal(n->kids[1]->field, "evt.arg.flags");

	c = "proc.name = ";
	assert_int_equal(rules_cond_parse(a, c, strlen(c), &n, &pos, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(pos, 12);
	assert_string_equal(msg, "expected a value");
	c = "(proc.name = a";
	assert_int_equal(rules_cond_parse(a, c, strlen(c), &n, &pos, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "expected ')'");
	c = "proc.name = 'abc";
	assert_int_equal(rules_cond_parse(a, c, strlen(c), &n, &pos, msg, sizeof(msg)), -EINVAL);
	c = "proc.name = a b";
	assert_int_equal(rules_cond_parse(a, c, strlen(c), &n, &pos, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(pos, 14);
	c = "proc.name bogus x";
	assert_int_equal(rules_cond_parse(a, c, strlen(c), &n, &pos, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "expected an operator after the field");
	c = "";
	assert_int_equal(rules_cond_parse(a, c, 0, &n, &pos, msg, sizeof(msg)), -EINVAL);
	rules_arena_free(a);
}

static void test_deep_nesting_no_crash(void **state)
{
	struct rules_arena *a = rules_arena_new();
	struct rules_cnode *n = NULL;
	char msg[128];
	int pos;
	size_t depth = 5000;
	char *c = malloc(depth * 2 + 16);

	memset(c, '(', depth);
	strcpy(c + depth, "a");
	memset(c + depth + 1, ')', depth);
	c[2 * depth + 1] = '\0';
	assert_int_equal(rules_cond_parse(a, c, strlen(c), &n, &pos, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "condition nested too deeply");
	free(c);
	rules_arena_free(a);
}

static void test_error_positions(void **state)
{
	/* rule at line 2: "- rule: r", condition on line 4 at column 14 */
	assert_int_equal(
	    load_error(NULL, "evt.type = execve and proc.nme = x", "unknown field 'proc.nme'"),
	    4 * 1000 + 14 + 22);
	assert_int_equal(
	    load_error(NULL, "(proc.name = a", "syntax error in condition: expected ')'"),
	    4 * 1000 + 14 + 14);
	load_error(NULL, "evt.type = execve and nosuchmacro", "undefined macro 'nosuchmacro'");
	load_error(NULL, "proc.aname = x and evt.arg = y", "field requires an argument");
	load_error(NULL, "proc.name[1] = x", "field takes no argument");
	load_error(NULL, "proc.pid = abc", "'abc' is not a number");
	load_error(NULL, "proc.pid contains 1", "operator 'contains' can't be used");
	load_error(NULL, "fd.name regex '('", "invalid regex");
	load_error(NULL, "fd.snet in (10.0.0.0/99)", "not an IP address or network");
}

static void test_diag_print_format(void **state)
{
	char *y = rt_rule(NULL, "proc.nme = x");
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;
	char buf[512] = {0};
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	assert_int_equal(rt_load(y, &rs, &d), -EINVAL);
	rules_diags_print(d, f);
	fclose(f);
	assert_string_equal(buf, "test.yaml:4:14: error: rule 'r': unknown field 'proc.nme'\n");
	rules_diags_free(d);
	free(y);
}

static void test_skip_if_unknown_filter(void **state)
{
	const char *y = "- rule: r\n  desc: d\n  condition: proc.nme = x\n  output: o\n"
			"  priority: INFO\n  skip-if-unknown-filter: true\n"
			"- rule: s\n  desc: d\n  condition: proc.name = x\n  output: o\n"
			"  priority: INFO\n";
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;

	assert_int_equal(rt_load(y, &rs, &d), 0);
	assert_true(rt_find(d, RULES_SEV_WARNING, "skipped (skip-if-unknown-filter)") >= 0);
	assert_int_equal(rules_set_count(rs), 2);
	assert_int_equal(rules_set_count_active(rs), 1);
	rules_set_free(rs);
	rules_diags_free(d);
}

static void test_macro_visibility_and_loops(void **state)
{
	struct rules_event ev;

	exec_ev(&ev, "sh");
	/* a rule sees macros defined after it */
	assert_true(match("- macro: later\n  condition: proc.name = sh\n", "later", &ev));
	/* a macro sees only macros defined before it */
	load_error("- macro: a\n  condition: b\n- macro: b\n  condition: proc.name = sh\n", "a",
		   "macro 'b' is used before it is defined");
	/* self reference and a loop made by appending: errors, no crash */
	load_error("- macro: a\n  condition: a or proc.name = x\n", "a",
		   "macro reference loop through 'a'");
	load_error("- macro: a\n  condition: proc.name = x\n- macro: b\n  condition: a\n"
		   "- macro: a\n  condition: or b\n  override:\n    condition: append\n",
		   "b", "macro reference loop through 'b' (in macro 'a')");
	/* a list used as a macro */
	load_error("- list: l\n  items: [a]\n", "l", "is a list, not a macro");
}

static void test_lists(void **state)
{
	const char *pre =
	    "- list: sh\n  items: [zsh]\n- list: shells\n  items: [sh, bash, '\"ash\"']\n";
	struct rules_event ev;

	exec_ev(&ev, "zsh");
	assert_true(match(pre, "proc.name in (sh_x, sh)", &ev));
	assert_true(match(pre, "proc.name in (shells)", &ev));	/* nested list expanded */
	assert_false(match(pre, "proc.name in (\"sh\")", &ev)); /* quoted: a value */
	exec_ev(&ev, "sh");
	assert_false(match(pre, "proc.name in (sh)", &ev));
	assert_true(match(pre, "proc.name in ('sh')", &ev));
	assert_false(match(pre, "proc.name = shells", &ev)); /* only after list operators */
	exec_ev(&ev, "ash");
	assert_true(match(pre, "proc.name in (shells)", &ev)); /* '"ash"' item unquoted */
	exec_ev(&ev, "sh_x");
	assert_true(match(pre, "proc.name in (sh_x, sh)", &ev));
}

static void test_operators(void **state)
{
	struct rules_event ev;

	rules_event_reset(&ev);
	ev.type = RULES_EVT_openat;
	rules_event_set_str(&ev, RULES_F_PROC_NAME, "python3");
	rules_event_set_str(&ev, RULES_F_FD_NAME, "/home/alice/.ssh/id_rsa");
	rules_event_set_num(&ev, RULES_F_PROC_PID, 42);
	rules_event_set_str(&ev, RULES_F_PROC_CMDLINE, "python3 -c 'import os'");
	rules_event_push_arg(&ev, "flags", "O_WRONLY|O_CREAT|O_TRUNC");
	rules_event_push_ancestor(&ev, "bash", NULL, "/bin/bash", 40);
	rules_event_push_ancestor(&ev, "sshd", NULL, "/usr/sbin/sshd", 30);
	rules_event_push_env(&ev, "HTTP_PROXY=http://proxy:3128");
	rules_event_derive(&ev);

	assert_true(match(NULL, "fd.name contains /.ssh/", &ev));
	assert_true(match(NULL, "proc.name icontains PYTH", &ev));
	assert_false(match(NULL, "proc.name contains PYTH", &ev));
	assert_true(match(NULL, "fd.name startswith /home", &ev));
	assert_true(match(NULL, "fd.name endswith id_rsa", &ev));
	assert_true(match(NULL, "fd.name glob '/home/*/.ssh/*'", &ev));
	assert_false(match(NULL, "fd.name glob '/root/*'", &ev));
	assert_true(match(NULL, "fd.name pmatch (/etc, /home/alice)", &ev));
	assert_false(match(NULL, "fd.name pmatch (/home/al)", &ev));
	assert_true(match(NULL, "fd.directory = /home/alice/.ssh", &ev));
	assert_true(match(NULL, "fd.filename = id_rsa", &ev));
	assert_true(match(NULL, "proc.name regex '^py[a-z]+[0-9]$'", &ev));
	assert_true(match(NULL, "proc.pid = 42 and proc.pid >= 42 and proc.pid > 41", &ev));
	assert_true(match(NULL, "proc.pid < 43 and proc.pid <= 42 and proc.pid != 7", &ev));
	assert_true(match(NULL, "proc.pid in (1, 42)", &ev));
	assert_true(match(NULL, "proc.cmdline contains \"-c 'import\"", &ev));
	assert_true(match(NULL, "evt.arg.flags contains O_TRUNC", &ev));
	assert_true(match(NULL, "evt.arg[0] contains O_TRUNC", &ev));
	assert_true(match(NULL, "evt.is_open_write = true and evt.is_open_read = false", &ev));
	assert_true(match(NULL, "proc.pname = bash and proc.aname[2] = sshd", &ev));
	assert_true(match(NULL, "proc.aname[0] = python3 and proc.apid[2] = 30", &ev));
	assert_true(match(NULL, "proc.aname = sshd", &ev)); /* any ancestor */
	assert_true(match(NULL, "proc.aname in (nginx, sshd)", &ev));
	assert_false(match(NULL, "proc.aname[3] exists", &ev));
	assert_true(match(NULL, "proc.pexepath = /bin/bash", &ev));
	assert_true(match(NULL, "proc.env icontains http_proxy", &ev));
	assert_true(match(NULL, "proc.env[HTTP_PROXY] startswith http://", &ev));
	assert_true(match(NULL, "proc.args intersects (-V, -c)", &ev) == false);
	/* absent fields: comparisons are false, not exists is true */
	assert_false(match(NULL, "container.id = host", &ev));
	assert_false(match(NULL, "container.id != host", &ev));
	assert_true(match(NULL, "not container.id exists", &ev));
	assert_true(match(NULL, "not container.id = host", &ev));
}

static void test_network_fields(void **state)
{
	struct rules_event ev;

	rules_event_reset(&ev);
	ev.type = RULES_EVT_connect;
	rules_event_set_str(&ev, RULES_F_FD_CIP, "10.1.2.3");
	rules_event_set_str(&ev, RULES_F_FD_SIP, "93.184.216.34");
	rules_event_set_num(&ev, RULES_F_FD_SPORT, 443);
	rules_event_set_num(&ev, RULES_F_FD_CPORT, 51000);
	rules_event_derive(&ev);
	assert_true(match(NULL, "fd.snet != \"10.0.0.0/8\"", &ev));
	assert_true(match(NULL, "fd.cnet in (\"10.0.0.0/8\", \"192.168.0.0/16\")", &ev));
	assert_true(match(NULL, "fd.sip = 93.184.216.34", &ev));
	assert_true(match(NULL, "fd.net = \"10.0.0.0/8\"", &ev)); /* either end */
	assert_true(match(NULL, "fd.port = 51000 and fd.port = 443", &ev));
	assert_false(match(NULL, "fd.sip = 93.184.216.35", &ev));
}

static void test_index_and_first_match(void **state)
{
	const char *y =
	    "- rule: open_only\n  desc: d\n  condition: evt.type = openat and proc.name = a\n"
	    "  output: o\n  priority: INFO\n"
	    "- rule: any\n  desc: d\n  condition: proc.name = a\n  output: o\n  priority: INFO\n"
	    "- rule: not_open\n  desc: d\n  condition: evt.type != openat and proc.name = a\n"
	    "  output: o\n  priority: INFO\n";
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;
	struct rules_event ev;
	size_t hits[4];

	assert_int_equal(rt_load(y, &rs, &d), 0);
	rules_event_reset(&ev);
	ev.type = RULES_EVT_openat;
	rules_event_set_str(&ev, RULES_F_PROC_NAME, "a");
	assert_int_equal(rules_set_eval(rs, &ev, false, hits, 4), 1);
	assert_int_equal(hits[0], 0);
	assert_int_equal(rules_set_eval(rs, &ev, true, hits, 4), 2);
	assert_int_equal(hits[1], 1);
	ev.type = RULES_EVT_execve;
	assert_int_equal(rules_set_eval(rs, &ev, true, hits, 4), 2);
	assert_int_equal(hits[0], 1);
	assert_int_equal(hits[1], 2);
	ev.type = RULES_EVT__UNKNOWN;
	assert_int_equal(rules_set_eval(rs, &ev, true, hits, 4), 2);
	assert_int_equal(rules_set_find(rs, "not_open"), 2);
	assert_int_equal(rules_set_find(rs, "nope"), -1);
	rules_set_free(rs);
	rules_diags_free(d);
}

static void test_multi_file_and_hash(void **state)
{
	struct rules_input in[2] = {
	    {.name = "a.yaml",
	     .text = "- macro: m\n  condition: proc.name = a\n- rule: r\n  desc: d\n"
		     "  condition: evt.type = execve and m\n  output: o\n  priority: INFO\n"},
	    {.name = "b.yaml",
	     .text = "- macro: m\n  condition: or proc.name = b\n  override:\n"
		     "    condition: append\n"},
	};
	struct rules_set *rs = NULL, *rs2 = NULL;
	struct rules_event ev;
	char hash[65];
	size_t hit;

	in[0].len = strlen(in[0].text);
	in[1].len = strlen(in[1].text);
	assert_int_equal(rules_load_buffers(in, 2, &rs, NULL), 0);
	exec_ev(&ev, "b");
	assert_int_equal(rules_set_eval(rs, &ev, false, &hit, 1), 1);
	assert_int_equal(strlen(rules_set_hash(rs)), 64);
	strcpy(hash, rules_set_hash(rs));
	assert_int_equal(rules_load_buffers(in, 2, &rs2, NULL), 0);
	assert_string_equal(hash, rules_set_hash(rs2));
	rules_set_free(rs2);
	assert_int_equal(rules_load_buffers(in, 1, &rs2, NULL), 0);
	assert_string_not_equal(hash, rules_set_hash(rs2));
	assert_int_equal(rules_set_eval(rs2, &ev, false, &hit, 1), 0);
	rules_set_free(rs2);
	rules_set_free(rs);
	rules_set_free(NULL);
	rules_diags_free(NULL);
	assert_int_equal(rules_diags_count(NULL), 0);
}

static void test_yaml_errors(void **state)
{
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;

	assert_int_equal(rt_load("- rule: [unclosed\n", &rs, &d), -EINVAL);
	assert_true(rt_find(d, RULES_SEV_ERROR, "invalid YAML") >= 0);
	rules_diags_free(d);
	assert_int_equal(rt_load("rule: x\n", &rs, &d), -EINVAL);
	assert_true(rt_find(d, RULES_SEV_ERROR, "must be a sequence of items") >= 0);
	rules_diags_free(d);
	assert_int_equal(rt_load("- foo: x\n", &rs, &d), -EINVAL);
	assert_true(rt_find(d, RULES_SEV_ERROR, "unknown item") >= 0);
	rules_diags_free(d);
	assert_int_equal(rt_load("- rule: x\n  desc: d\n  output: o\n  priority: INFO\n", &rs, &d),
			 -EINVAL);
	assert_true(rt_find(d, RULES_SEV_ERROR, "item has no 'condition' key") >= 0);
	rules_diags_free(d);
	/* unknown key: a warning naming file:line */
	assert_int_equal(rt_load("- rule: x\n  desc: d\n  condition: proc.name = a\n  output: o\n"
				 "  priority: INFO\n  colour: red\n",
				 &rs, &d),
			 0);
	{
		long i = rt_find(d, RULES_SEV_WARNING, "unknown key 'colour'");

		assert_true(i >= 0);
		assert_int_equal(rules_diags_get(d, (size_t)i)->line, 6);
	}
	rules_set_free(rs);
	rules_diags_free(d);
	/* empty input is a valid, empty rule set */
	assert_int_equal(rt_load("", &rs, &d), 0);
	assert_int_equal(rules_set_count(rs), 0);
	rules_set_free(rs);
	rules_diags_free(d);
}

static void test_warn_evttypes(void **state)
{
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;

	assert_int_equal(rt_load("- rule: r\n  desc: d\n  condition: proc.name = a\n  output: o\n"
				 "  priority: INFO\n",
				 &rs, &d),
			 0);
	assert_true(rt_find(d, RULES_SEV_WARNING, "does not restrict evt.type") >= 0);
	rules_set_free(rs);
	rules_diags_free(d);
	assert_int_equal(rt_load("- rule: r\n  desc: d\n  condition: proc.name = a\n  output: o\n"
				 "  priority: INFO\n  warn_evttypes: false\n",
				 &rs, &d),
			 0);
	assert_int_equal(rules_diags_warnings(d), 0);
	rules_set_free(rs);
	rules_diags_free(d);
	assert_int_equal(
	    rt_load("- rule: r\n  desc: d\n  condition: evt.type != open and proc.name = a\n"
		    "  output: o\n  priority: INFO\n",
		    &rs, &d),
	    0);
	assert_int_equal(rules_diags_warnings(d), 0);
	rules_set_free(rs);
	rules_diags_free(d);
}

static void test_diag_order_and_plugins(void **state)
{
	const char *y = "- required_plugin_versions:\n  - name: container\n    version: 0.4.0\n"
			"- rule: r\n  desc: d\n  condition: proc.nme = x\n  output: o\n"
			"  priority: INFO\n- list: l\n  items: cp\n";
	const char *ok = "- required_plugin_versions:\n  - name: container\n    version: 0.4.0\n"
			 "  - name: k8saudit\n    version: 0.7.0\n";
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;
	const char *name, *version;

	assert_int_equal(rt_load(y, &rs, &d), -EINVAL);
	assert_int_equal(rules_diags_errors(d), 2);
	/* compile errors (line 6) come before later item errors (line 10): sorted by position */
	assert_int_equal(rules_diags_get(d, 0)->line, 6);
	assert_int_equal(rules_diags_get(d, 1)->line, 10);
	rules_diags_free(d);

	assert_int_equal(rt_load(ok, &rs, &d), 0);
	assert_int_equal(rules_set_plugin(rs, 0, &name, &version), 0);
	assert_string_equal(name, "container");
	assert_string_equal(version, "0.4.0");
	assert_int_equal(rules_set_plugin(rs, 1, &name, &version), 0);
	assert_string_equal(name, "k8saudit");
	assert_int_equal(rules_set_plugin(rs, 2, &name, &version), -ERANGE);
	rules_set_free(rs);
	rules_diags_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_tree),
	    cmocka_unit_test(test_deep_nesting_no_crash),
	    cmocka_unit_test(test_error_positions),
	    cmocka_unit_test(test_diag_print_format),
	    cmocka_unit_test(test_skip_if_unknown_filter),
	    cmocka_unit_test(test_macro_visibility_and_loops),
	    cmocka_unit_test(test_lists),
	    cmocka_unit_test(test_operators),
	    cmocka_unit_test(test_network_fields),
	    cmocka_unit_test(test_index_and_first_match),
	    cmocka_unit_test(test_multi_file_and_hash),
	    cmocka_unit_test(test_yaml_errors),
	    cmocka_unit_test(test_warn_evttypes),
	    cmocka_unit_test(test_diag_order_and_plugins),
	};
	return cmocka_run_group_tests_name("rules_cond", tests, NULL, NULL);
}
