/* SPDX-License-Identifier: Apache-2.0 */
/* The rules hash a sensor reports must equal the operator's bundle.sha256 for the same bundle,
 * wherever the sensor has the files mounted: that is how RuleSet "Applied" counts nodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "lib/rules/rules.h"
#include "operator/reconcile/bundle.h"

static const char *const A = "- list: shells\n  items: [bash, sh]\n";
static const char *const B = "- macro: m\n  condition: proc.name in (shells)\n";

static void hash_of(const char *n1, const char *n2, char out[65])
{
	struct rules_input in[2] = { { n1, A, strlen(A) }, { n2, B, strlen(B) } };
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;

	assert_int_equal(rules_load_buffers(in, 2, &rs, &d), 0);
	strcpy(out, rules_set_hash(rs));
	rules_set_free(rs);
	rules_diags_free(d);
}

static void test_hash_ignores_directory(void **state)
{
	char h1[65], h2[65], h3[65];

	hash_of("/etc/vigil/rules/0000-a.yaml", "/etc/vigil/rules/0001-b.yaml", h1);
	hash_of("/var/lib/x/..data/0000-a.yaml", "0001-b.yaml", h2);
	assert_string_equal(h1, h2);
	hash_of("/etc/vigil/rules/0000-a.yaml", "/etc/vigil/rules/0001-c.yaml", h3);
	assert_string_not_equal(h1, h3);
	assert_int_equal(strlen(h1), 64);
}

static void test_sensor_hash_equals_bundle_hash(void **state)
{
	char sensor[65], bundle[65];
	json_t *files = json_pack("{s:s, s:s}", "0001-b.yaml", B, "0000-a.yaml", A);

	hash_of("/mnt/rules/0000-a.yaml", "/mnt/rules/0001-b.yaml", sensor);
	assert_int_equal(bundle_hash(files, bundle), 0);
	assert_string_equal(sensor, bundle);
	json_decref(files);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_ignores_directory),
		cmocka_unit_test(test_sensor_hash_equals_bundle_hash),
	};
	return cmocka_run_group_tests_name("rules_hash", tests, NULL, NULL);
}
