/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The upstream Falco rule files (../shared/upstream-rules, or $VIGIL_UPSTREAM_RULES): each
 * validates with zero errors, all three load together, every rule they define is listed, and the
 * hand-written trace e2e/traces/upstream-basic.jsonl replays to the exact expected alerts.
 * Skipped, with a message, when the folder is absent.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/rules/rules.h"
#include "lib/rules/trace.h"
#include "rules_testutil.h"

static const char *const files[] = {"falco_rules.yaml", "falco-incubating_rules.yaml",
				    "falco-sandbox_rules.yaml"};

static const char *dir_or_skip(void)
{
	const char *dir = rt_upstream_dir();

	if (!dir) {
		print_message("upstream rules not found (set VIGIL_UPSTREAM_RULES): skipped\n");
		skip();
	}
	return dir;
}

static void test_each_file_validates(void **state)
{
	const char *dir = dir_or_skip();

	for (size_t i = 0; i < 3; i++) {
		char path[512];
		const char *p = path;
		struct rules_set *rs = NULL;
		struct rules_diags *d = NULL;
		int err;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		err = rules_load_files(&p, 1, &rs, &d);
		if (err)
			rt_dump(d);
		assert_int_equal(err, 0);
		assert_int_equal(rules_diags_errors(d), 0);
		assert_true(rules_set_count(rs) > 20);
		rules_set_free(rs);
		rules_diags_free(d);
	}
}

/* Rule names from the file text itself ("- rule: NAME" lines), to check the listing. */
static size_t names_in(const char *path, char names[][128], size_t max, size_t n)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		bool dup = false;

		if (strncmp(line, "- rule: ", 8))
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		for (size_t i = 0; i < n; i++)
			dup = dup || !strcmp(names[i], line + 8);
		if (!dup && n < max)
			snprintf(names[n++], 128, "%.127s", line + 8);
	}
	fclose(f);
	return n;
}

static void test_all_load_together_and_list(void **state)
{
	const char *dir = dir_or_skip();
	static char names[512][128];
	char paths[3][512];
	const char *p[3];
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;
	size_t n = 0;
	int err;

	for (size_t i = 0; i < 3; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, files[i]);
		p[i] = paths[i];
		n = names_in(paths[i], names, 512, n);
	}
	err = rules_load_files(p, 3, &rs, &d);
	if (err)
		rt_dump(d);
	assert_int_equal(err, 0);
	assert_int_equal(rules_set_count(rs), n);
	for (size_t i = 0; i < n; i++) {
		struct rules_info ri;
		long k = rules_set_find(rs, names[i]);

		if (k < 0)
			print_message("not listed: %s\n", names[i]);
		assert_true(k >= 0);
		assert_int_equal(rules_set_rule_info(rs, (size_t)k, &ri), 0);
		assert_string_equal(ri.name, names[i]);
		assert_string_equal(ri.source, "syscall");
	}
	assert_true(rules_set_count_active(rs) > 0);
	assert_int_equal(strlen(rules_set_hash(rs)), 64);
	rules_set_free(rs);
	rules_diags_free(d);

	/* a directory loads its files in name order: same rules */
	{
		char **expanded = NULL;
		size_t ne = 0;

		assert_int_equal(rules_paths_expand(&dir, 1, &expanded, &ne), 0);
		assert_int_equal(ne, 3);
		assert_non_null(strstr(expanded[0], "falco-incubating_rules.yaml"));
		assert_non_null(strstr(expanded[2], "falco_rules.yaml"));
		assert_int_equal(rules_load_files((const char *const *)expanded, ne, &rs, NULL), 0);
		assert_int_equal(rules_set_count(rs), n);
		rules_set_free(rs);
		rules_paths_free(expanded);
	}
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int c;

	assert_non_null(f);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	fclose(m);
	return buf;
}

static void test_replay_exact_alerts(void **state)
{
	const char *dir = dir_or_skip();
	const char *trace = "e2e/traces/upstream-basic.jsonl";
	const char *expected_path = "e2e/traces/upstream-basic.expected.jsonl";
	struct rules_set *rs = NULL;
	struct rules_trace_reader *r;
	struct rules_event *ev = malloc(sizeof(*ev));
	char *got = NULL, *expected;
	size_t glen = 0, events = 0;
	FILE *out, *f;
	int err;

	assert_int_equal(rules_load_files(&dir, 0, &rs, NULL), 0); /* empty set is fine */
	rules_set_free(rs);
	{
		char **paths = NULL;
		size_t n = 0;

		assert_int_equal(rules_paths_expand(&dir, 1, &paths, &n), 0);
		assert_int_equal(rules_load_files((const char *const *)paths, n, &rs, NULL), 0);
		rules_paths_free(paths);
	}
	f = fopen(trace, "r");
	if (!f) {
		print_message("%s not found (run from the repository root): skipped\n", trace);
		rules_set_free(rs);
		free(ev);
		skip();
	}
	out = open_memstream(&got, &glen);
	r = rules_trace_reader_new(f, trace);
	while ((err = rules_trace_next(r, ev)) == 1) {
		size_t hit;

		events++;
		if (rules_set_eval(rs, ev, false, &hit, 1) == 1) {
			char *line = NULL;

			assert_int_equal(rules_set_format_alert(rs, hit, ev, "node-1", &line), 0);
			fprintf(out, "%s\n", line);
			free(line);
		}
	}
	assert_int_equal(err, 0);
	assert_int_equal(events, 4);
	fclose(out);
	expected = slurp(expected_path);
	assert_string_equal(got, expected);
	/* the three rules the trace was written for */
	assert_non_null(strstr(got, "\"rule\":\"Terminal shell in container\""));
	assert_non_null(strstr(got, "\"rule\":\"Read sensitive file untrusted\""));
	assert_non_null(strstr(got, "\"rule\":\"Write below etc\""));
	free(expected);
	free(got);
	rules_trace_reader_free(r);
	fclose(f);
	rules_set_free(rs);
	free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_each_file_validates),
	    cmocka_unit_test(test_all_load_together_and_list),
	    cmocka_unit_test(test_replay_exact_alerts),
	};
	return cmocka_run_group_tests_name("rules_upstream", tests, NULL, NULL);
}
