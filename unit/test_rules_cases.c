/* SPDX-License-Identifier: Apache-2.0 */
/* The numbered cases of issue #3 (real reports), one test each. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/rules/rules.h"
#include "rules_testutil.h"

#define RULE_X                                                                                     \
	"- rule: x\n  desc: d\n  condition: proc.name = cp\n  output: \"o %proc.name\"\n"          \
	"  priority: WARNING\n"

static void expect_error(const char *yaml, const char *needle)
{
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;
	int err = rt_load(yaml, &rs, &d);

	if (rt_find(d, RULES_SEV_ERROR, needle) < 0)
		rt_dump(d);
	assert_int_equal(err, -EINVAL);
	assert_null(rs);
	assert_true(rt_find(d, RULES_SEV_ERROR, needle) >= 0);
	rules_diags_free(d);
}

static struct rules_set *expect_ok(const char *yaml, struct rules_diags **out_d)
{
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;
	int err = rt_load(yaml, &rs, &d);

	if (err)
		rt_dump(d);
	assert_int_equal(err, 0);
	assert_non_null(rs);
	assert_int_equal(rules_diags_errors(d), 0);
	if (out_d)
		*out_d = d;
	else
		rules_diags_free(d);
	return rs;
}

/* 1. list append before the definition: error; after it: items joined */
static void test_case1_list_append(void **state)
{
	struct rules_event ev;
	struct rules_set *rs;
	size_t hit;

	expect_error("- list: bins\n  items: [ls]\n  append: true\n"
		     "- list: bins\n  items: [cp]\n",
		     "no list by that name is defined before it");
	expect_error("- list: bins\n  items: [ls]\n  override:\n    items: append\n",
		     "no list by that name is defined before it");
	rs = expect_ok(
	    "- list: bins\n  items: [cp]\n"
	    "- list: bins\n  items: [ls]\n  override:\n    items: append\n"
	    "- rule: x\n  desc: d\n  condition: evt.type = execve and proc.name in (bins)\n"
	    "  output: o\n  priority: WARNING\n",
	    NULL);
	rules_event_reset(&ev);
	ev.type = RULES_EVT_execve;
	rules_event_set_str(&ev, RULES_F_PROC_NAME, "cp");
	assert_int_equal(rules_set_eval(rs, &ev, false, &hit, 1), 1);
	rules_event_set_str(&ev, RULES_F_PROC_NAME, "ls");
	assert_int_equal(rules_set_eval(rs, &ev, false, &hit, 1), 1);
	rules_event_set_str(&ev, RULES_F_PROC_NAME, "mv");
	assert_int_equal(rules_set_eval(rs, &ev, false, &hit, 1), 0);
	rules_set_free(rs);
}

/* 2. enabled-only entry: deprecation warning, flips enabled; for a missing rule: error */
static void test_case2_enabled_only(void **state)
{
	struct rules_diags *d = NULL;
	struct rules_info ri;
	struct rules_set *rs;

	rs = expect_ok(RULE_X "- rule: x\n  enabled: false\n", &d);
	assert_true(rt_find(d, RULES_SEV_WARNING, "deprecated") >= 0);
	assert_int_equal(rules_set_count(rs), 1);
	assert_int_equal(rules_set_rule_info(rs, 0, &ri), 0);
	assert_false(ri.enabled);
	assert_string_equal(ri.condition, "proc.name = cp"); /* nothing else changed */
	assert_int_equal(ri.priority, RULES_PRIO_WARNING);
	assert_int_equal(rules_set_count_active(rs), 0);
	rules_set_free(rs);
	rules_diags_free(d);

	rs = expect_ok(RULE_X "- rule: x\n  enabled: false\n- rule: x\n  enabled: true\n", &d);
	assert_int_equal(rules_set_rule_info(rs, 0, &ri), 0);
	assert_true(ri.enabled);
	rules_set_free(rs);
	rules_diags_free(d);

	expect_error("- rule: nope\n  enabled: true\n", "no rule by that name");
}

/* 3. override shape errors */
static void test_case3_override_errors(void **state)
{
	expect_error(RULE_X "- rule: x\n  priority: ERROR\n  override:\n    priority: append\n",
		     "'priority' can't be appended, only replaced");
	expect_error(RULE_X "- rule: x\n  condition: and 1\n  append: true\n  override:\n"
			    "    condition: append\n",
		     "can't be used together");
	expect_error(RULE_X "- rule: x\n  output: o2\n  override:\n    condition: append\n",
		     "override names 'condition' but the item has no 'condition' key");
	expect_error(RULE_X "- rule: x\n  condition: and proc.pid = 1\n  output: o2\n"
			    "  override:\n    condition: append\n",
		     "'output' is present but not named in 'override'");
}

/* 3b. the accepted forms: append and replace */
static void test_case3_override_ok(void **state)
{
	struct rules_diags *d = NULL;
	struct rules_info ri;
	struct rules_set *rs;

	rs = expect_ok(RULE_X "- rule: x\n  condition: and proc.pid = 1\n  priority: ERROR\n"
			      "  tags: [t2]\n  override:\n    condition: append\n"
			      "    priority: replace\n    tags: append\n",
		       &d);
	assert_int_equal(rules_set_rule_info(rs, 0, &ri), 0);
	assert_string_equal(ri.condition, "proc.name = cp and proc.pid = 1");
	assert_int_equal(ri.priority, RULES_PRIO_ERROR);
	assert_int_equal(ri.ntags, 1);
	assert_string_equal(ri.tags[0], "t2");
	assert_true(rt_find(d, RULES_SEV_WARNING, "deprecated") < 0);
	rules_set_free(rs);
	rules_diags_free(d);

	/* legacy append: true works with a deprecation warning */
	rs = expect_ok(RULE_X "- rule: x\n  condition: or proc.name = mv\n  append: true\n", &d);
	assert_int_equal(rules_set_rule_info(rs, 0, &ri), 0);
	assert_string_equal(ri.condition, "proc.name = cp or proc.name = mv");
	assert_true(rt_find(d, RULES_SEV_WARNING, "deprecated") >= 0);
	rules_set_free(rs);
	rules_diags_free(d);
}

/* 4. exception shapes */
static void test_case4_exceptions(void **state)
{
	struct rules_event ev;
	struct rules_set *rs;
	size_t hit;

	rs = expect_ok("- rule: x\n  desc: d\n  condition: evt.type = execve\n  output: o\n"
		       "  priority: WARNING\n  exceptions:\n  - name: bins\n    fields: proc.name\n"
		       "    values: [cp, mv]\n",
		       NULL);
	rules_event_reset(&ev);
	ev.type = RULES_EVT_execve;
	rules_event_set_str(&ev, RULES_F_PROC_NAME, "cp");
	assert_int_equal(rules_set_eval(rs, &ev, false, &hit, 1), 0); /* excepted: comps `in` */
	rules_event_set_str(&ev, RULES_F_PROC_NAME, "rm");
	assert_int_equal(rules_set_eval(rs, &ev, false, &hit, 1), 1);
	rules_set_free(rs);

	expect_error("- rule: x\n  desc: d\n  condition: evt.type = execve\n  output: o\n"
		     "  priority: WARNING\n  exceptions:\n  - name: e\n"
		     "    fields: [proc.name, fd.name]\n    comps: [=]\n",
		     "fields and comps have different lengths");
	expect_error("- rule: x\n  desc: d\n  condition: evt.type = execve\n  output: o\n"
		     "  priority: WARNING\n  exceptions:\n  - name: e\n"
		     "    fields: [proc.name, fd.name]\n    values:\n    - [cp]\n",
		     "value tuple has 1 item(s) but fields has 2");
}

/* 5. a macro whose name starts with "not" */
static void test_case5_not_prefixed_macro(void **state)
{
	char *y = rt_rule("- macro: a\n  condition: evt.type = connect\n"
			  "- macro: not_vpn_inbound\n  condition: fd.sport = 443\n",
			  "(a) and (not_vpn_inbound)");
	struct rules_event ev;
	struct rules_set *rs = expect_ok(y, NULL);
	size_t hit;

	rules_event_reset(&ev);
	ev.type = RULES_EVT_connect;
	rules_event_set_num(&ev, RULES_F_FD_SPORT, 443);
	assert_int_equal(rules_set_eval(rs, &ev, false, &hit, 1), 1);
	rules_event_set_num(&ev, RULES_F_FD_SPORT, 80);
	assert_int_equal(rules_set_eval(rs, &ev, false, &hit, 1), 0);
	rules_set_free(rs);
	free(y);
}

/* 6. trailing space inside quotes is kept */
static void test_case6_quoted_space(void **state)
{
	char *y = rt_rule(NULL, "'evt.type = execve and proc.cmdline = \"run job \"'");
	struct rules_event ev;
	struct rules_set *rs = expect_ok(y, NULL);
	size_t hit;

	rules_event_reset(&ev);
	ev.type = RULES_EVT_execve;
	rules_event_set_str(&ev, RULES_F_PROC_CMDLINE, "run job ");
	assert_int_equal(rules_set_eval(rs, &ev, false, &hit, 1), 1);
	rules_event_set_str(&ev, RULES_F_PROC_CMDLINE, "run job");
	assert_int_equal(rules_set_eval(rs, &ev, false, &hit, 1), 0);
	rules_set_free(rs);
	free(y);
}

/* 7. precedence: not > and > or */
static bool eval_tf(const char *cond)
{
	char *y = rt_rule("- macro: T\n  condition: evt.type = execve\n"
			  "- macro: F\n  condition: evt.type = openat\n",
			  cond);
	struct rules_event ev;
	struct rules_set *rs = expect_ok(y, NULL);
	size_t hit;
	bool r;

	rules_event_reset(&ev);
	ev.type = RULES_EVT_execve;
	r = rules_set_eval(rs, &ev, false, &hit, 1) == 1;
	rules_set_free(rs);
	free(y);
	return r;
}

static void test_case7_precedence(void **state)
{
	assert_true(eval_tf("T or T and F"));
	assert_false(eval_tf("(T or T) and F"));
	assert_true(eval_tf("not F or F"));
	assert_false(eval_tf("not (F or not F and T)"));
	assert_false(eval_tf("not T and T"));
	assert_true(eval_tf("F or not F"));
}

/* 8. required_engine_version */
static void test_case8_engine_version(void **state)
{
	struct rules_set *rs;

	rs = expect_ok("- required_engine_version: 26\n" RULE_X, NULL);
	rules_set_free(rs);
	rs = expect_ok("- required_engine_version: 0.26.0\n" RULE_X, NULL);
	rules_set_free(rs);
	rs = expect_ok("- required_engine_version: " RULES_ENGINE_VERSION "\n" RULE_X, NULL);
	rules_set_free(rs);
	expect_error("- required_engine_version: seven\n" RULE_X, "'seven' is not a version");
	expect_error(
	    "- required_engine_version: 0.99.0\n" RULE_X,
	    "rules require engine version 0.99.0, but this engine is " RULES_ENGINE_VERSION);
	expect_error("- required_engine_version: 1000\n" RULE_X,
		     "rules require engine version 0.1000.0");
}

/* 9. a scalar where a sequence belongs */
static void test_case9_items_scalar(void **state)
{
	expect_error("- list: l\n  items: cp\n", "'items' is not a sequence");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_case1_list_append),
	    cmocka_unit_test(test_case2_enabled_only),
	    cmocka_unit_test(test_case3_override_errors),
	    cmocka_unit_test(test_case3_override_ok),
	    cmocka_unit_test(test_case4_exceptions),
	    cmocka_unit_test(test_case5_not_prefixed_macro),
	    cmocka_unit_test(test_case6_quoted_space),
	    cmocka_unit_test(test_case7_precedence),
	    cmocka_unit_test(test_case8_engine_version),
	    cmocka_unit_test(test_case9_items_scalar),
	};
	return cmocka_run_group_tests_name("rules_cases", tests, NULL, NULL);
}
