/* SPDX-License-Identifier: Apache-2.0 */
/* reconcile/fleet_render + fleet_view: the DaemonSet of a revision, and API objects -> machine
 * input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "operator/reconcile/fleet_render.h"
#include "operator/reconcile/fleet_view.h"

static json_t *fleet_obj(void)
{
	json_t *f = json_loads(
	    "{\"apiVersion\":\"vigil.dev/v1alpha1\",\"kind\":\"SensorFleet\","
	    " \"metadata\":{\"name\":\"default\",\"namespace\":\"vigil-system\",\"uid\":\"u-1\","
	    "  \"generation\":3,\"resourceVersion\":\"10\"},"
	    " \"spec\":{\"driverVersion\":\"2.0\",\"image\":\"vigil/"
	    "sensor:2.0\",\"bufSizePreset\":2,"
	    "  \"heartbeatSeconds\":5,\"nodeSelector\":{\"type\":\"kwok\"},"
	    "  "
	    "\"tolerations\":[{\"key\":\"dedicated\",\"operator\":\"Exists\",\"effect\":"
	    "\"NoSchedule\"}],"
	    "  \"rollout\":{\"maxParallel\":3,\"makeBeforeBreak\":false,\"gapBudgetSeconds\":10,"
	    "   "
	    "\"maxNodesWithoutDetection\":2,\"paused\":true,\"canarySelector\":{\"pool\":"
	    "\"canary\"}}},"
	    " \"status\":{\"targetRevision\":\"abc\",\"lastGoodVersion\":\"1.0\","
	    "  \"lastRollout\":{\"result\":\"InProgress\"}}}",
	    0, NULL);

	assert_non_null(f);
	return f;
}

static const json_t *path(const json_t *o, const char *a, const char *b, const char *c)
{
	o = json_object_get(o, a);
	if (b)
		o = json_object_get(o, b);
	if (c)
		o = json_object_get(o, c);
	return o;
}

static void test_render(void **state)
{
	json_t *f = fleet_obj(), *ds, *ds2;
	struct fleet_render_in in = {
	    .fleet = f, .rev = "0123456789", .version = "2.0", .image = "vigil/sensor:2.0"};
	char *txt;

	ds = fleet_render_daemonset(&in);
	assert_non_null(ds);
	assert_string_equal(json_string_value(path(ds, "metadata", "name", NULL)),
			    "vigil-sensor-0123456789");
	assert_string_equal(json_string_value(path(ds, "metadata", "namespace", NULL)),
			    "vigil-system");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(path(ds, "metadata", "ownerReferences", NULL), 0), "uid")),
	    "u-1");
	assert_string_equal(json_string_value(path(ds, "metadata", "labels", "vigil.dev/revision")),
			    "0123456789");
	const json_t *pod = path(ds, "spec", "template", "spec");

	assert_true(json_is_true(json_object_get(pod, "hostPID")));
	assert_string_equal(json_string_value(path(pod, "nodeSelector", "type", NULL)), "kwok");
	assert_int_equal(json_array_size(json_object_get(pod, "tolerations")), 1);
	txt = json_dumps(ds, JSON_COMPACT);
	assert_non_null(
	    strstr(txt, "\"key\":\"vigil.dev/sensor-0123456789\",\"operator\":\"Exists\""));
	assert_non_null(strstr(txt, "\"VIGIL_DRIVER_VERSION\",\"value\":\"2.0\""));
	assert_non_null(strstr(txt, "\"fieldPath\":\"spec.nodeName\""));
	assert_non_null(strstr(txt, "\"add\":[\"BPF\",\"PERFMON\",\"SYS_RESOURCE\"]"));
	assert_non_null(strstr(txt, "\"path\":\"/readyz\""));
	assert_non_null(strstr(txt, "--buffer-preset=2"));
	assert_non_null(strstr(txt, "--heartbeat=5"));
	assert_non_null(strstr(txt, "\"mountPath\":\"/sys/kernel/btf\""));
	assert_non_null(strstr(txt, "\"mountPath\":\"/sys/kernel/tracing\""));
	assert_non_null(strstr(txt, "\"path\":\"/proc\""));
	assert_non_null(strstr(txt, "\"configMap\":{\"name\":\"vigil-rules\"}"));
	assert_non_null(strstr(txt, "\"mountPath\":\"/etc/vigil/rules\""));
	assert_null(strstr(txt, "hostPort"));
	free(txt);
	/* stable hash; changes with the image */
	ds2 = fleet_render_daemonset(&in);
	assert_string_equal(
	    json_string_value(path(ds, "metadata", "annotations", FLEET_ANN_HASH)),
	    json_string_value(path(ds2, "metadata", "annotations", FLEET_ANN_HASH)));
	json_decref(ds2);
	in.image = "vigil/sensor:2.0b";
	ds2 = fleet_render_daemonset(&in);
	assert_string_not_equal(
	    json_string_value(path(ds, "metadata", "annotations", FLEET_ANN_HASH)),
	    json_string_value(path(ds2, "metadata", "annotations", FLEET_ANN_HASH)));
	json_decref(ds2);
	json_decref(ds);
	json_decref(f);
}

static void test_node_filters(void **state)
{
	json_t *n = json_loads("{\"metadata\":{\"name\":\"a\",\"labels\":{\"type\":\"kwok\"}},"
			       " \"spec\":{\"taints\":[{\"key\":\"dedicated\",\"value\":\"x\","
			       "  \"effect\":\"NoSchedule\"},{\"key\":\"node.kubernetes.io/"
			       "unreachable\",\"effect\":\"NoExecute\"},{\"key\":\"soft\","
			       "  \"effect\":\"PreferNoSchedule\"}]}}",
			       0, NULL);
	json_t *sel_ok = json_pack("{s:s}", "type", "kwok"),
	       *sel_no = json_pack("{s:s}", "type", "real");
	json_t *tol_exists =
	    json_loads("[{\"key\":\"dedicated\",\"operator\":\"Exists\"}]", 0, NULL);
	json_t *tol_equal = json_loads("[{\"key\":\"dedicated\",\"value\":\"y\"}]", 0, NULL);
	json_t *tol_all = json_loads("[{\"operator\":\"Exists\"}]", 0, NULL);

	assert_true(fleet_node_selected(n, sel_ok));
	assert_false(fleet_node_selected(n, sel_no));
	assert_true(fleet_node_selected(n, NULL));
	assert_false(fleet_node_tolerated(n, NULL));
	assert_true(fleet_node_tolerated(n, tol_exists));
	assert_false(fleet_node_tolerated(n, tol_equal));
	assert_true(fleet_node_tolerated(n, tol_all));
	json_decref(n);
	json_decref(sel_ok);
	json_decref(sel_no);
	json_decref(tol_exists);
	json_decref(tol_equal);
	json_decref(tol_all);
}

static void test_reports(void **state)
{
	struct fleet_reports *r = fleet_reports_new();
	const char *tmpl = "{\"metadata\":{\"name\":\"n1\"},\"status\":{\"podName\":\"%s\","
			   "\"driverVersion\":\"%s\",\"heartbeatSeconds\":10,"
			   "\"lastHeartbeatTime\":\"%s\",\"conditions\":["
			   "{\"type\":\"ProbeLoaded\",\"status\":\"%s\",\"reason\":\"%s\"},"
			   "{\"type\":\"RulesLoaded\",\"status\":\"True\"},"
			   "{\"type\":\"EventsFlowing\",\"status\":\"True\"}]}}";
	char buf[1024];
	json_t *o;

#define SN(pod, ver, t, st, why)                                                                   \
	(snprintf(buf, sizeof(buf), tmpl, pod, ver, t, st, why), o = json_loads(buf, 0, NULL))
	SN("p1", "1.0", "2026-12-03T13:00:00Z", "True", "Loaded");
	assert_int_equal(fleet_reports_observe(r, o), 1);
	json_decref(o);
	SN("p1", "1.0", "2026-12-03T13:00:10Z", "True", "Loaded");
	assert_int_equal(fleet_reports_observe(r, o), 0); /* only a heartbeat */
	json_decref(o);
	SN("p2", "2.0", "2026-12-03T13:00:11Z", "False", "VerifierRejected");
	assert_int_equal(fleet_reports_observe(r, o), 1); /* the other sensor of the overlap */
	json_decref(o);
	SN("p1", "1.0", "2026-12-03T13:00:05Z", "True", "Loaded");
	assert_int_equal(fleet_reports_observe(r, o), 0); /* older than what we have */
	json_decref(o);
	SN("p1", "1.0", "2026-12-03T13:01:00Z", "True", "Loaded");
	assert_int_equal(fleet_reports_observe(r, o), 1); /* after a silence: freshness changed */
	json_decref(o);
	assert_int_equal(fleet_reports_count(r), 2);

	/* the view carries both */
	json_t *f = fleet_obj();
	json_t *nodes = json_loads(
	    "[{\"metadata\":{\"name\":\"n1\",\"labels\":{\"type\":\"kwok\",\"pool\":\"canary\","
	    "  \"vigil.dev/sensor-r1\":\"1700000000\"}},"
	    "  \"spec\":{\"taints\":[{\"key\":\"dedicated\",\"effect\":\"NoSchedule\"}]},"
	    "  \"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}},"
	    " {\"metadata\":{\"name\":\"n2\",\"labels\":{\"type\":\"other\"},"
	    "  \"deletionTimestamp\":\"2026-12-03T13:00:00Z\"},"
	    "  \"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}]",
	    0, NULL);
	json_t *pods = json_loads(
	    "[{\"metadata\":{\"name\":\"p1\",\"namespace\":\"vigil-system\","
	    "  \"labels\":{\"vigil.dev/fleet\":\"default\",\"vigil.dev/revision\":\"r1\"}},"
	    "  \"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\","
	    "  \"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}},"
	    " {\"metadata\":{\"name\":\"p2\",\"namespace\":\"vigil-system\","
	    "  \"deletionTimestamp\":\"2026-12-03T13:00:30Z\","
	    "  \"labels\":{\"vigil.dev/fleet\":\"default\",\"vigil.dev/revision\":\"r2\"}},"
	    "  "
	    "\"spec\":{\"affinity\":{\"nodeAffinity\":{"
	    "\"requiredDuringSchedulingIgnoredDuringExecution\":"
	    "  "
	    "{\"nodeSelectorTerms\":[{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":"
	    "\"In\","
	    "  \"values\":[\"n1\"]}]}]}}}},\"status\":{\"phase\":\"Pending\"}},"
	    " {\"metadata\":{\"name\":\"x\",\"namespace\":\"vigil-system\","
	    "  \"labels\":{\"vigil.dev/fleet\":\"other\",\"vigil.dev/revision\":\"r1\"}},"
	    "  \"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\"}}]",
	    0, NULL);
	json_t *dss = json_loads(
	    "[{\"metadata\":{\"name\":\"vigil-sensor-r1\",\"namespace\":\"vigil-system\","
	    "  \"labels\":{\"vigil.dev/fleet\":\"default\",\"vigil.dev/revision\":\"r1\"},"
	    "  "
	    "\"annotations\":{\"vigil.dev/driver-version\":\"1.0\",\"vigil.dev/image\":\"i:1\"}}}]",
	    0, NULL);
	struct fleet_view v;

	assert_non_null(nodes);
	assert_non_null(pods);
	assert_non_null(dss);
	assert_int_equal(fleet_view_build(&v, f, nodes, pods, dss, r, NULL), 0);
	assert_string_equal(v.spec.driver_version, "2.0");
	assert_int_equal(v.spec.heartbeat_seconds, 5);
	assert_int_equal(v.spec.generation, 3);
	assert_int_equal(v.spec.policy.max_parallel, 3);
	assert_false(v.spec.policy.make_before_break);
	assert_int_equal(v.spec.policy.gap_budget_seconds, 10);
	assert_int_equal(v.spec.policy.max_nodes_without_detection, 2);
	assert_true(v.spec.policy.paused);
	assert_int_equal(v.spec.policy.n_canary, 1);
	assert_string_equal(v.spec.policy.canary[0].key, "pool");
	assert_true(v.has_prev);
	assert_string_equal(v.prev.last_good_version, "1.0");
	assert_int_equal(v.prev.last.result, ROLLOUT_IN_PROGRESS);
	assert_int_equal(v.n_nodes, 2);
	assert_string_equal(v.nodes[0].name, "n1");
	assert_true(v.nodes[0].ready && v.nodes[0].targeted && !v.nodes[0].deleted);
	assert_int_equal(v.nodes[0].n_labels, 3);
	assert_false(v.nodes[1].ready);
	assert_true(v.nodes[1].deleted);
	assert_false(v.nodes[1].targeted);
	assert_int_equal(v.n_pods, 2);
	assert_string_equal(v.pods[1].node, "n1");
	assert_int_equal(v.pods[1].phase, ROLLOUT_POD_PENDING);
	assert_true(v.pods[1].terminating);
	assert_true(v.pods[1].deletion_ms == 1796302830000LL);
	assert_true(v.pods[0].ready);
	assert_int_equal(v.n_revisions, 1);
	assert_string_equal(v.revisions[0].version, "1.0");
	assert_int_equal(v.n_reports, 2);
	assert_string_equal(v.reports[0].pod, "p1");
	assert_true(v.reports[0].probe_loaded);
	assert_true(v.reports[0].heartbeat_ms == 1796302860000LL);
	assert_string_equal(v.reports[1].pod, "p2");
	assert_false(v.reports[1].probe_loaded);
	assert_string_equal(v.reports[1].reason, "VerifierRejected");
	fleet_view_release(&v);
	fleet_view_release(NULL);

	/* a spec without image is refused */
	json_object_del(json_object_get(f, "spec"), "image");
	assert_int_equal(fleet_view_build(&v, f, nodes, pods, dss, r, NULL), -EINVAL);
	fleet_reports_forget(r, "n1");
	assert_int_equal(fleet_reports_count(r), 0);
	json_decref(f);
	json_decref(nodes);
	json_decref(pods);
	json_decref(dss);
	fleet_reports_free(r);
	fleet_reports_free(NULL);
}

static void test_trims(void **state)
{
	json_t *n = json_loads(
	    "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"a\","
	    "\"resourceVersion\":\"5\",\"labels\":{\"x\":\"1\"},\"annotations\":{\"big\":\"y\"},"
	    "\"deletionTimestamp\":\"2026-12-03T13:00:00Z\"},\"spec\":{\"podCIDR\":\"10.0.0.0/24\","
	    "\"taints\":[{\"key\":\"k\",\"effect\":\"NoSchedule\"}]},\"status\":{\"capacity\":{},"
	    "\"images\":[1,2,3],\"conditions\":[{\"type\":\"MemoryPressure\",\"status\":\"False\"},"
	    "{\"type\":\"Ready\",\"status\":\"True\",\"message\":\"long text\"}]}}",
	    0, NULL);
	json_t *want =
	    json_loads("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"a\","
		       "\"resourceVersion\":\"5\",\"labels\":{\"x\":\"1\"},"
		       "\"deletionTimestamp\":\"2026-12-03T13:00:00Z\"},\"spec\":{"
		       "\"taints\":[{\"key\":\"k\",\"effect\":\"NoSchedule\"}]},\"status\":{"
		       "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
		       0, NULL);

	assert_non_null(n);
	fleet_trim_node(NULL, n);
	assert_true(json_equal(n, want));
	json_decref(n);
	json_decref(want);

	json_t *p = json_loads(
	    "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"labels\":{\"a\":\"b\"},"
	    "\"annotations\":{\"x\":\"y\"}},\"spec\":{\"nodeName\":\"n\",\"containers\":[{}],"
	    "\"volumes\":[]},\"status\":{\"phase\":\"Running\",\"podIP\":\"1.2.3.4\","
	    "\"containerStatuses\":[{}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\","
	    "\"reason\":\"r\"},{\"type\":\"Initialized\",\"status\":\"True\"}]}}",
	    0, NULL);
	want = json_loads("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"labels\":{\"a\":"
			  "\"b\"}},\"spec\":{\"nodeName\":\"n\"},\"status\":{\"phase\":\"Running\","
			  "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}",
			  0, NULL);
	assert_non_null(p);
	fleet_trim_pod(NULL, p);
	assert_true(json_equal(p, want));
	json_decref(p);
	json_decref(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_node_filters),
	    cmocka_unit_test(test_reports),
	    cmocka_unit_test(test_trims),
	};
	return cmocka_run_group_tests_name("fleet_view", tests, NULL, NULL);
}
