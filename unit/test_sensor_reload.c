/* SPDX-License-Identifier: Apache-2.0 */
/* sensor/rules/reload on a temporary directory: first load, a broken file keeps the last good set
 * and reports FILE:LINE:COL, a fix swaps, files written one by one within the quiet time load
 * once, identical content does not swap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/rules/rules.h"
#include "sensor/rules/reload.h"

struct seen {
	int calls, ok, changed;
	char message[512];
	size_t rules;
};

static void on_reload(void *ctx, const struct reload_result *r)
{
	struct seen *s = ctx;

	s->calls++;
	s->ok += r->ok;
	s->changed += r->changed;
	s->rules = r->rule_count;
	snprintf(s->message, sizeof(s->message), "%s", r->message);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Polls until a reload happened (or 3 s). */
static void settle(struct reloader *r, struct seen *s, int calls)
{
	int i;

	for (i = 0; i < 300 && s->calls < calls; i++) {
		reload_poll(r);
		usleep(10000);
	}
	/* and a little more, to catch a reload that should not happen */
	for (i = 0; i < 30; i++) {
		reload_poll(r);
		usleep(10000);
	}
}

#define RULE(name, cond)                                                                           \
	"- rule: " name "\n  desc: d\n  condition: " cond "\n  output: o\n  priority: WARNING\n"

static void test_reload_cycle(void **state)
{
	char dir[] = "/tmp/vigil-test-reload.XXXXXX", cmd[128];
	const char *paths[1] = {dir};
	struct seen s = {0};
	struct reloader *r;
	struct rules_set *first;

	assert_non_null(mkdtemp(dir));
	put(dir, "10.yaml", RULE("A", "evt.type = execve"));
	assert_int_equal(reload_new(paths, 1, 100, on_reload, &s, &r), 0);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.ok, 1);
	assert_int_equal(s.rules, 1);
	first = reload_active(r);
	assert_non_null(first);
	assert_true(reload_fd(r) >= 0);

	/* broken: last good set stays, the message has the location */
	put(dir, "20.yaml", RULE("B", "evt.type = execve and proc.nme = x"));
	settle(r, &s, 2);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.ok, 1);
	assert_ptr_equal(reload_active(r), first);
	assert_non_null(strstr(s.message, "20.yaml:3:"));
	assert_non_null(strstr(s.message, "proc.nme"));

	/* fixed: swapped */
	put(dir, "20.yaml", RULE("B", "evt.type = execve and proc.name = x"));
	settle(r, &s, 3);
	assert_int_equal(s.calls, 3);
	assert_int_equal(s.ok, 2);
	assert_int_equal(s.rules, 2);
	assert_int_equal(rules_set_count(reload_active(r)), 2);

	/* two files that need each other, written one by one inside the quiet time: one load */
	put(dir, "30.yaml", RULE("C", "evt.type = execve and m30"));
	usleep(30000);
	put(dir, "31.yaml", "- macro: m30\n  condition: proc.name = y\n");
	settle(r, &s, 4);
	assert_int_equal(s.calls, 4);
	assert_int_equal(s.ok, 3);
	assert_int_equal(s.rules, 3);

	/* the same content again: loaded but not swapped */
	put(dir, "31.yaml", "- macro: m30\n  condition: proc.name = y\n");
	settle(r, &s, 5);
	assert_int_equal(s.calls, 5);
	assert_int_equal(s.changed, 3);

	reload_free(r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_missing_paths(void **state)
{
	const char *paths[1] = {"/nonexistent/rules"};
	struct seen s = {0};
	struct reloader *r;

	assert_int_equal(reload_new(paths, 1, 100, on_reload, &s, &r), 0);
	assert_int_equal(s.ok, 0);
	assert_null(reload_active(r));
	assert_true(strlen(s.message) > 0);
	reload_free(r);
	reload_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reload_cycle),
	    cmocka_unit_test(test_missing_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
