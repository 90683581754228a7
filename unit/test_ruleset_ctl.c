/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for operator/reconcile/ruleset: validation verdicts and their line:column messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/kube/client.h"
#include "lib/kube/config.h"
#include "operator/controller/controller.h"
#include "operator/metrics/metrics.h"
#include "operator/reconcile/ruleset.h"

static const char *good = "- list: shells\n"
			  "  items: [bash, sh]\n"
			  "- rule: Shell in container\n"
			  "  desc: a shell\n"
			  "  condition: evt.type = execve and proc.name in (shells)\n"
			  "  output: \"shell %proc.name\"\n"
			  "  priority: WARNING\n";

static const char *bad = "- rule: Broken rule\n"
			 "  desc: x\n"
			 "  condition: evt.type = execve and proc.nme = bash\n"
			 "  output: \"x %proc.name\"\n"
			 "  priority: WARNING\n";

static void test_format_errors(void **state)
{
	struct rules_input in = {"spec.rules", bad, strlen(bad)};
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;
	char msg[512];

	assert_int_not_equal(rules_load_buffers(&in, 1, &rs, &d), 0);
	assert_null(rs);
	rsctl_format_errors(d, "spec.rules", msg, sizeof(msg));
	assert_string_equal(msg, "3:36: rule 'Broken rule': unknown field 'proc.nme'");
	/* errors of other inputs are shown only when this one has none */
	rsctl_format_errors(d, "other", msg, sizeof(msg));
	assert_non_null(strstr(msg, "3:36"));
	rules_diags_free(d);
	rsctl_format_errors(NULL, "spec.rules", msg, sizeof(msg));
	assert_string_equal(msg, "rules did not load");
}

struct fixture {
	struct kube_client *client;
	struct metrics *mx;
	struct ctl_manager *m;
	struct rsctl *r;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kube_config *cfg = calloc(1, sizeof(*cfg));

	cfg->server = strdup("https://127.0.0.1:1");
	cfg->ns = strdup("default");
	cfg->insecure = true;
	assert_int_equal(kube_client_new(cfg, NULL, &f->client), 0);
	f->mx = metrics_new();
	f->m = ctl_manager_new(&(struct ctl_manager_opts){.client = f->client, .metrics = f->mx});
	assert_non_null(f->m);
	assert_int_equal(
	    rsctl_register(
		&(struct rsctl_opts){.manager = f->m, .client = f->client, .ns = "vigil-system"},
		&f->r),
	    0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ctl_manager_free(f->m);
	rsctl_free(f->r);
	metrics_free(f->mx);
	kube_client_free(f->client);
	free(f);
	return 0;
}

static json_t *ruleset(const char *rules)
{
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:i}, s:{s:s, s:i}}", "apiVersion",
			 "vigil.dev/v1alpha1", "kind", "RuleSet", "metadata", "name", "x",
			 "namespace", "t", "generation", 1, "spec", "rules", rules, "order", 100);
}

static void test_validate(void **state)
{
	struct fixture *f = *state;
	json_t *rs = ruleset(good);
	char msg[512] = "";

	assert_int_equal(rsctl_validate(f->r, rs, msg, sizeof(msg)), 0);
	json_decref(rs);
	rs = ruleset(bad);
	assert_int_equal(rsctl_validate(f->r, rs, msg, sizeof(msg)), 1);
	assert_string_equal(msg, "3:36: rule 'Broken rule': unknown field 'proc.nme'");
	/* the memo answers the same way the second time */
	msg[0] = '\0';
	assert_int_equal(rsctl_validate(f->r, rs, msg, sizeof(msg)), 1);
	assert_string_equal(msg, "3:36: rule 'Broken rule': unknown field 'proc.nme'");
	json_decref(rs);
	rs = ruleset("");
	assert_int_equal(rsctl_validate(f->r, rs, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "empty"));
	json_decref(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_errors),
	    cmocka_unit_test_setup_teardown(test_validate, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
