/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for operator/reconcile/bundle: ordering, last good kept, deletions, hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "operator/reconcile/bundle.h"

static const char *file(json_t *files, const char *key)
{
	return json_string_value(json_object_get(files, key));
}

static void test_ordering(void **state)
{
	struct bundle_entry e[] = {
	    {"ns-b", "zeta", 100, 1, "- list: z\n", true},
	    {"ns-a", "alpha", 100, 1, "- list: a\n", true},
	    {"ns-a", "base", 10, 3, "- list: b\n", true},
	    {"ns-z", "alpha", 100, 1, "- list: a2\n", true},
	};
	json_t *files, *src, *keys;

	assert_int_equal(bundle_assemble(e, 4, NULL, NULL, &files, &src), 4);
	keys = bundle_sorted_keys(files);
	/* order first, then name, then namespace; the position prefix makes name order = load order
	 */
	assert_string_equal(json_string_value(json_array_get(keys, 0)), "0000-ns-a-base.yaml");
	assert_string_equal(json_string_value(json_array_get(keys, 1)), "0001-ns-a-alpha.yaml");
	assert_string_equal(json_string_value(json_array_get(keys, 2)), "0002-ns-z-alpha.yaml");
	assert_string_equal(json_string_value(json_array_get(keys, 3)), "0003-ns-b-zeta.yaml");
	assert_string_equal(file(files, "0000-ns-a-base.yaml"), "- list: b\n");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(src, "ns-a/base"), "key")),
	    "0000-ns-a-base.yaml");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(src, "ns-a/base"), "generation")),
	    3);
	json_decref(keys);
	json_decref(files);
	json_decref(src);
}

static void test_last_good_kept(void **state)
{
	struct bundle_entry good[] = {
	    {"t", "a", 1, 1, "A1", true},
	    {"t", "b", 2, 1, "B1", true},
	};
	struct bundle_entry next[] = {
	    {"t", "a", 1, 2, "A2", true},
	    {"t", "b", 0, 2, "B2 broken", false}, /* invalid and moved first: ignored */
	    {"t", "c", 3, 1, "C1 broken", false}, /* never valid: left out */
	};
	json_t *f1, *s1, *f2, *s2;

	assert_int_equal(bundle_assemble(good, 2, NULL, NULL, &f1, &s1), 2);
	assert_int_equal(bundle_assemble(next, 3, f1, s1, &f2, &s2), 2);
	assert_string_equal(file(f2, "0000-t-a.yaml"), "A2");
	assert_string_equal(file(f2, "0001-t-b.yaml"), "B1");
	assert_null(json_object_get(s2, "t/c"));
	/* the kept version is recorded as generation 1, so status can tell it is not current */
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(s2, "t/b"), "generation")), 1);
	/* and it stays kept through further rounds */
	{
		json_t *f3, *s3;

		assert_int_equal(bundle_assemble(next, 3, f2, s2, &f3, &s3), 2);
		assert_true(json_equal(f2, f3));
		json_decref(f3);
		json_decref(s3);
	}
	json_decref(f1);
	json_decref(s1);
	json_decref(f2);
	json_decref(s2);
}

static void test_deleted_dropped(void **state)
{
	struct bundle_entry two[] = {
	    {"t", "a", 1, 1, "A1", true},
	    {"t", "b", 2, 1, "B1", true},
	};
	json_t *f1, *s1, *f2, *s2, *f3, *s3;

	assert_int_equal(bundle_assemble(two, 2, NULL, NULL, &f1, &s1), 2);
	assert_int_equal(bundle_assemble(&two[1], 1, f1, s1, &f2, &s2), 1);
	assert_string_equal(file(f2, "0000-t-b.yaml"), "B1");
	assert_int_equal(json_object_size(f2), 1);
	assert_int_equal(bundle_assemble(NULL, 0, f2, s2, &f3, &s3), 0);
	assert_int_equal(json_object_size(f3), 0);
	assert_int_equal(json_object_size(s3), 0);
	json_decref(f1);
	json_decref(s1);
	json_decref(f2);
	json_decref(s2);
	json_decref(f3);
	json_decref(s3);
}

static void test_too_big(void **state)
{
	char *big = malloc(BUNDLE_MAX_BYTES + 2);
	struct bundle_entry e[] = {{"t", "a", 1, 1, big, true}};
	json_t *f, *s;

	memset(big, 'x', BUNDLE_MAX_BYTES + 1);
	big[BUNDLE_MAX_BYTES + 1] = '\0';
	assert_int_equal(bundle_assemble(e, 1, NULL, NULL, &f, &s), -E2BIG);
	assert_null(f);
	free(big);
}

static void test_hash(void **state)
{
	json_t *f = json_pack("{s:s, s:s}", "0001-t-b.yaml", "B", "0000-t-a.yaml", "A");
	json_t *g = json_pack("{s:s, s:s}", "0000-t-a.yaml", "A", "0001-t-b.yaml", "B");
	json_t *empty = json_object();
	char h1[65], h2[65], h3[65];

	assert_int_equal(bundle_hash(f, h1), 0);
	assert_int_equal(bundle_hash(g, h2), 0);
	assert_string_equal(h1, h2); /* insertion order does not matter */
	assert_int_equal(strlen(h1), 64);
	json_object_set_new(g, "0001-t-b.yaml", json_string("B "));
	bundle_hash(g, h2);
	assert_string_not_equal(h1, h2);
	/* sha256 of nothing */
	bundle_hash(empty, h3);
	assert_string_equal(h3, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* known vector: "k\0" "1\0" "v" */
	json_object_set_new(empty, "k", json_string("v"));
	bundle_hash(empty, h3);
	assert_string_equal(h3, "c3ccbec817fef5af964becc8542ad46c13156eadbe36936ce8ef9c28729e404c");
	json_decref(f);
	json_decref(g);
	json_decref(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ordering),
	    cmocka_unit_test(test_last_good_kept),
	    cmocka_unit_test(test_deleted_dropped),
	    cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
