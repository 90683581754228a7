/* SPDX-License-Identifier: Apache-2.0 */
/* Output formatting, the JSON alert, time formatting and the trace reader/writer. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/rules/rules.h"
#include "lib/rules/tjson.h"
#include "lib/rules/trace.h"
#include "rules_testutil.h"

static struct rules_set *load_output(const char *output, const char *extra)
{
	char *y = NULL;
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;
	int err;

	assert_true(asprintf(&y,
			     "- rule: Shell spawned in production database container\n  desc: d\n"
			     "  condition: evt.type = execve\n  output: %s\n  priority: CRITICAL\n"
			     "  tags: [shell, mitre_execution]\n%s",
			     output, extra ? extra : "") > 0);
	err = rt_load(y, &rs, &d);
	if (err)
		rt_dump(d);
	assert_int_equal(err, 0);
	rules_diags_free(d);
	free(y);
	return rs;
}

static void runbook_event(struct rules_event *ev)
{
	rules_event_reset(ev);
	ev->type = RULES_EVT_execve;
	ev->ts_ns = 1759405323000000000ULL; /* 2025-10-02T11:42:03Z */
	rules_event_set_str(ev, RULES_F_K8S_NS_NAME, "production");
	rules_event_set_str(ev, RULES_F_K8S_POD_NAME, "payments-db-6f7c9d-mn4xp");
	rules_event_set_str(ev, RULES_F_CONTAINER_IMAGE_REPOSITORY,
			    "harbor.golems.internal/golem-trust/payments-db");
	rules_event_set_str(ev, RULES_F_CONTAINER_IMAGE_TAG, "2.1.4");
	rules_event_set_str(ev, RULES_F_PROC_CMDLINE, "/bin/bash");
	rules_event_set_str(ev, RULES_F_USER_NAME, "root");
	rules_event_set_num(ev, RULES_F_USER_UID, 0);
	rules_event_derive(ev);
}

/* The runbook's alert, plus hostname, source, tags and a nanosecond time. */
static void test_runbook_alert(void **state)
{
	struct rules_set *rs =
	    load_output("\"Shell spawned in production database container (ns=%k8s.ns.name "
			"pod=%k8s.pod.name image=%container.image.repository:%container.image.tag "
			"cmd=%proc.cmdline user=%user.name)\"",
			NULL);
	struct rules_event ev;
	char *line = NULL;

	runbook_event(&ev);
	assert_int_equal(rules_set_format_alert(rs, 0, &ev, "node-1", &line), 0);
	assert_string_equal(
	    line,
	    "{\"hostname\":\"node-1\",\"output\":\"Shell spawned in production database container "
	    "(ns=production pod=payments-db-6f7c9d-mn4xp "
	    "image=harbor.golems.internal/golem-trust/payments-db:2.1.4 cmd=/bin/bash user=root)\","
	    "\"output_fields\":{\"k8s.ns.name\":\"production\",\"k8s.pod.name\":"
	    "\"payments-db-6f7c9d-mn4xp\",\"container.image.repository\":"
	    "\"harbor.golems.internal/golem-trust/payments-db\",\"container.image.tag\":\"2.1.4\","
	    "\"proc.cmdline\":\"/bin/bash\",\"user.name\":\"root\"},\"priority\":\"CRITICAL\","
	    "\"rule\":\"Shell spawned in production database container\",\"source\":\"syscall\","
	    "\"tags\":[\"shell\",\"mitre_execution\"],\"time\":\"2025-10-02T11:42:03."
	    "000000000Z\"}");
	/* it is valid JSON with the expected types */
	{
		json_error_t je;
		json_t *j = json_loads(line, 0, &je);

		assert_non_null(j);
		assert_true(json_is_object(json_object_get(j, "output_fields")));
		json_decref(j);
	}
	free(line);
	rules_set_free(rs);
}

static void test_na_numbers_and_escaping(void **state)
{
	struct rules_set *rs = load_output(
	    "'x=%proc.name uid=%user.uid p=%proc.aname[2] f=%fd.name. q=%proc.args'", NULL);
	struct rules_event ev;
	char *text = NULL, *line = NULL;

	rules_event_reset(&ev);
	ev.type = RULES_EVT_execve;
	rules_event_set_num(&ev, RULES_F_USER_UID, 1000);
	rules_event_set_str(&ev, RULES_F_PROC_ARGS, "say \"hi\"\n");
	assert_int_equal(rules_set_format_output(rs, 0, &ev, &text), 0);
	assert_string_equal(text, "x=<NA> uid=1000 p=<NA> f=<NA>. q=say \"hi\"\n");
	assert_int_equal(rules_set_format_alert(rs, 0, &ev, "h", &line), 0);
	assert_non_null(strstr(line, "\"output_fields\":{\"proc.name\":null,\"user.uid\":1000,"
				     "\"proc.aname[2]\":null,\"fd.name\":null,"
				     "\"proc.args\":\"say \\\"hi\\\"\\n\"}"));
	free(text);
	assert_int_equal(rules_set_format_output(rs, 5, &ev, &text), -ERANGE);
	assert_null(text);
	free(line);
	rules_set_free(rs);
}

static void test_output_errors(void **state)
{
	static const char *const bad[] = {"'50% of %proc.name'", "'at end %'", "'x %evt.arg'",
					  "'x %proc.nme'", "'x %container.mount.dest'"};
	static const char *const why[] = {
	    "'%' must be followed by a field name", "'%' must be followed by a field name",
	    "field requires an argument", "unknown field 'proc.nme'", "field requires an argument"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *y = NULL;
		struct rules_set *rs = NULL;
		struct rules_diags *d = NULL;

		assert_true(asprintf(&y,
				     "- rule: r\n  desc: d\n  condition: evt.type = execve\n"
				     "  output: %s\n  priority: INFO\n",
				     bad[i]) > 0);
		assert_int_equal(rt_load(y, &rs, &d), -EINVAL);
		assert_true(rt_find(d, RULES_SEV_ERROR, why[i]) >= 0);
		rules_diags_free(d);
		free(y);
	}
}

static void test_time(void **state)
{
	char buf[40];
	unsigned long long ns = 0;

	assert_string_equal(rules_time_format(1759405323123456789ULL, buf, sizeof(buf)),
			    "2025-10-02T11:42:03.123456789Z");
	assert_string_equal(rules_time_format(0, buf, sizeof(buf)),
			    "1970-01-01T00:00:00.000000000Z");
	assert_int_equal(rules_time_parse("2025-10-02T11:42:03.123456789Z", &ns), 0);
	assert_true(ns == 1759405323123456789ULL);
	assert_int_equal(rules_time_parse("2025-10-02T13:42:03.5+02:00", &ns), 0);
	assert_true(ns == 1759405323500000000ULL);
	assert_int_equal(rules_time_parse("2025-10-02 11:42", &ns), -EINVAL);
	assert_int_equal(rules_time_parse("yesterday", &ns), -EINVAL);
}

static void test_priorities(void **state)
{
	enum rules_priority p;

	assert_int_equal(rules_priority_parse("info", &p), 0);
	assert_int_equal(p, RULES_PRIO_INFORMATIONAL);
	assert_int_equal(rules_priority_parse("cRiTiCaL", &p), 0);
	assert_int_equal(p, RULES_PRIO_CRITICAL);
	assert_int_equal(rules_priority_parse("loud", &p), -EINVAL);
	assert_string_equal(rules_priority_name(RULES_PRIO_NOTICE, false), "Notice");
	assert_string_equal(rules_priority_name(RULES_PRIO_NOTICE, true), "NOTICE");
}

static void test_trace_roundtrip(void **state)
{
	struct rules_event ev, back;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct rules_trace_reader *r;
	void *storage = NULL;

	runbook_event(&ev);
	rules_event_push_ancestor(&ev, "runc", "runc", "/usr/bin/runc", 77);
	rules_event_push_arg(&ev, "flags", "O_RDONLY");
	rules_event_push_env(&ev, "A=1");
	assert_int_equal(rules_trace_write(f, &ev), 0);
	fclose(f);
	assert_non_null(
	    strstr(buf, "\"evt.type\":\"execve\",\"time\":\"2025-10-02T11:42:03.000000000Z\""));
	assert_non_null(strstr(buf, "\"proc.aname\":[\"runc\"]"));
	assert_non_null(strstr(buf, "\"evt.arg.flags\":\"O_RDONLY\""));

	f = fmemopen(buf, len, "r");
	r = rules_trace_reader_new(f, "mem");
	assert_int_equal(rules_trace_next(r, &back), 1);
	assert_int_equal(back.type, RULES_EVT_execve);
	assert_true(back.ts_ns == ev.ts_ns);
	assert_true(rules_event_has(&back, RULES_F_K8S_POD_NAME));
	assert_string_equal(back.v[RULES_F_K8S_POD_NAME].s, "payments-db-6f7c9d-mn4xp");
	assert_int_equal(back.v[RULES_F_USER_UID].n, 0);
	assert_int_equal(back.nanc, 1);
	assert_string_equal(back.anc_exepath[0], "/usr/bin/runc");
	assert_int_equal(back.anc_pid[0], 77);
	assert_string_equal(rules_event_arg(&back, "flags"), "O_RDONLY");
	assert_string_equal(back.v[RULES_F_PROC_PNAME].s, "runc");
	assert_int_equal(rules_trace_next(r, &back), 0);
	rules_trace_reader_free(r);
	fclose(f);
	free(buf);

	/* malformed lines: an error with a message, the reader continues */
	{
		const char *text = "# comment\n\n{\"fields\":{}}\nnot json\n"
				   "{\"evt.type\":\"openat\",\"fields\":{\"proc.pid\":\"x\"}}\n"
				   "{\"evt.type\":\"openat\",\"fields\":{\"no.such\":1}}\n"
				   "{\"evt.type\":\"openat\",\"time\":\"bad\"}\n"
				   "{\"evt.type\":\"openat\",\"ts\":5}\n";

		f = fmemopen((void *)text, strlen(text), "r");
		r = rules_trace_reader_new(f, "t.jsonl");
		assert_int_equal(rules_trace_next(r, &back), -EINVAL);
		assert_string_equal(rules_trace_reader_error(r),
				    "t.jsonl:3: 'evt.type' is missing or not a string");
		assert_int_equal(rules_trace_next(r, &back), -EINVAL);
		assert_int_equal(rules_trace_reader_line(r), 4);
		assert_int_equal(rules_trace_next(r, &back), -EINVAL);
		assert_int_equal(rules_trace_next(r, &back), -EINVAL);
		assert_non_null(strstr(rules_trace_reader_error(r), "unknown field 'no.such'"));
		assert_int_equal(rules_trace_next(r, &back), -EINVAL);
		assert_int_equal(rules_trace_next(r, &back), 1);
		assert_true(back.ts_ns == 5);
		assert_int_equal(rules_trace_next(r, &back), 0);
		rules_trace_reader_free(r);
		fclose(f);
	}
	assert_int_equal(
	    rules_trace_parse_line("{\"evt.type\":\"connect\"}", &back, &storage, NULL, 0), 0);
	assert_int_equal(back.type, RULES_EVT_connect);
	free(storage);
	/* a second evt.type inside fields would disagree with the type (fuzz finding) */
	{
		char err[128];

		storage = NULL;
		assert_int_equal(rules_trace_parse_line("{\"evt.type\":\"openat\",\"fields\":"
							"{\"evt.type\":\"ope\"}}",
							&back, &storage, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "'fields' must not hold 'evt.type'"));
		free(storage);
	}
	rules_trace_reader_free(NULL);
}

static void test_tjson(void **state)
{
	struct tj_doc doc;
	char err[128];
	const char *t = "{\"a\":\"x\\\"y\\u00e9\\ud83d\\ude00\\n\",\"b\":[1,-2,true,null,{\"c\":1."
			"5}],\"d\":{}}";
	const struct tj_node *a, *b, *c;

	assert_int_equal(tj_parse(t, strlen(t), &doc, err, sizeof(err)), 0);
	a = tj_get(&doc, &doc.n[0], "a");
	assert_non_null(a);
	assert_string_equal(a->s, "x\"y\xc3\xa9\xf0\x9f\x98\x80\n");
	b = tj_get(&doc, &doc.n[0], "b");
	assert_int_equal(b->type, TJ_ARR);
	c = &doc.n[b->child];
	assert_true(c->is_int && c->i == 1);
	c = &doc.n[c->next];
	assert_true(c->is_int && c->i == -2);
	c = &doc.n[c->next];
	assert_int_equal(c->type, TJ_BOOL);
	c = &doc.n[doc.n[c->next].next];
	assert_int_equal(c->type, TJ_OBJ);
	assert_false(tj_get(&doc, c, "c")->is_int);
	assert_null(tj_get(&doc, &doc.n[0], "zz"));
	tj_free(&doc);

	static const char *const bad[] = {
	    "",
	    "{",
	    "{\"a\" 1}",
	    "[1,]",
	    "\"abc",
	    "{\"a\":1} x",
	    "\"\\u00\"",
	    "tru",
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	    "\"a\\u0000\""};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tj_parse(bad[i], strlen(bad[i]), &doc, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "invalid JSON"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_runbook_alert), cmocka_unit_test(test_na_numbers_and_escaping),
	    cmocka_unit_test(test_output_errors), cmocka_unit_test(test_time),
	    cmocka_unit_test(test_priorities),	  cmocka_unit_test(test_trace_roundtrip),
	    cmocka_unit_test(test_tjson),
	};
	return cmocka_run_group_tests_name("rules_format", tests, NULL, NULL);
}
