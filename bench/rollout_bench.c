/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rollout_bench: the SensorFleet controller's cost without an API server (`make bench-rollout`).
 *
 * A simulated cluster of N nodes held as API JSON objects (nodes with realistic labels, sensor
 * pods, SensorNode reports fed through the report memory) goes through the controller's own path
 * each simulated second: fleet_view_build (cached objects -> machine input) + rollout_step.
 * Printed:
 *   - a healthy upgrade, maxParallel 50: simulated duration, steps, CPU per step and per node step;
 *   - a bad version: time from the step that sees the budget exceeded to its first rollback action;
 *   - RSS of a process holding N nodes' objects, the report memory and the tracker, for 1,000 and
 *     5,000 nodes (each measured in a fresh child process).
 * Numbers only; nothing is asserted.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "operator/reconcile/fleet_view.h"
#include "operator/rollout/rollout.h"
#include "operator/rollout/status_json.h"

#define T0 1800000000000LL
#define LOAD_MS 3000

struct sim {
	int n;
	int64_t now;
	json_t *fleet, *nodes, *pods, *dss;
	json_t *started; /* pod name -> start ms */
	struct fleet_reports *reps;
	struct rollout_tracker *tr;
	struct rollout_status status;
	bool have_status;
	double step_cpu_s;
	long steps;
	bool rolled_back;
	double rollback_step_ms;
};

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static json_t *make_fleet(const char *version, int max_parallel, int budget)
{
	char img[64];

	snprintf(img, sizeof(img), "vigil/sensor:%s", version);
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:I}, s:{s:s, s:s, s:i, s:{s:s},"
			 " s:{s:i, s:b, s:i, s:i}}}",
			 "apiVersion", "vigil.dev/v1alpha1", "kind", "SensorFleet", "metadata",
			 "name", "fleet", "namespace", "vigil-system", "uid", "u-1", "generation",
			 (json_int_t)1, "spec", "driverVersion", version, "image", img,
			 "heartbeatSeconds", 10, "nodeSelector", "type", "sim", "rollout",
			 "maxParallel", max_parallel, "makeBeforeBreak", 1,
			 "maxNodesWithoutDetection", 1, "gapBudgetSeconds", budget);
}

/* A node shaped like a real one once managedFields are dropped (labels, taints, conditions,
 * addresses, capacity, nodeInfo): about 2.5 KB of JSON. */
static json_t *make_node(int i)
{
	char name[32], ip[32];

	snprintf(name, sizeof(name), "sim-node-%05d", i);
	snprintf(ip, sizeof(ip), "10.%d.%d.%d", i / 65536, (i / 256) % 256, i % 256);
	return json_pack(
	    "{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s},"
	    " s:{s:s, s:s}},"
	    " s:{s:s, s:s},"
	    " s:{s:[{s:s, s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s, s:s},"
	    " {s:s, s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s, s:s}],"
	    " s:[{s:s, s:s}, {s:s, s:s}], s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s},"
	    " s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}}}",
	    "apiVersion", "v1", "kind", "Node", "metadata", "name", name, "uid",
	    "6a1c2f8e-2f0b-4d8e-9c1a-000000000000", "resourceVersion", "123456", "labels", "type",
	    "sim", "kubernetes.io/hostname", name, "kubernetes.io/os", "linux",
	    "kubernetes.io/arch", "amd64", "node.kubernetes.io/instance-type", "m6i.2xlarge",
	    "topology.kubernetes.io/region", "eu-west-1", "topology.kubernetes.io/zone",
	    "eu-west-1a", "node-role.kubernetes.io/worker", "", "annotations",
	    "node.alpha.kubernetes.io/ttl", "0",
	    "volumes.kubernetes.io/controller-managed-attach-detach", "true", "spec", "podCIDR",
	    "10.244.0.0/24", "providerID", "aws:///eu-west-1a/i-0abc", "status", "conditions",
	    "type", "Ready", "status", "True", "reason", "KubeletReady", "message",
	    "kubelet is posting ready status", "lastHeartbeatTime", "2026-12-03T13:00:00Z",
	    "lastTransitionTime", "2026-12-01T09:00:00Z", "type", "MemoryPressure", "status",
	    "False", "reason", "KubeletHasSufficientMemory", "message",
	    "kubelet has sufficient memory available", "lastHeartbeatTime", "2026-12-03T13:00:00Z",
	    "lastTransitionTime", "2026-12-01T09:00:00Z", "type", "DiskPressure", "status", "False",
	    "reason", "KubeletHasNoDiskPressure", "message", "kubelet has no disk pressure",
	    "lastHeartbeatTime", "2026-12-03T13:00:00Z", "lastTransitionTime",
	    "2026-12-01T09:00:00Z", "type", "PIDPressure", "status", "False", "reason",
	    "KubeletHasSufficientPID", "message", "kubelet has sufficient PID available",
	    "lastHeartbeatTime", "2026-12-03T13:00:00Z", "lastTransitionTime",
	    "2026-12-01T09:00:00Z", "addresses", "type", "InternalIP", "address", ip, "type",
	    "Hostname", "address", name, "capacity", "cpu", "8", "memory", "32Gi", "pods", "110",
	    "ephemeral-storage", "100Gi", "allocatable", "cpu", "7910m", "memory", "31Gi", "pods",
	    "110", "ephemeral-storage", "95Gi", "nodeInfo", "kernelVersion", "6.8.0-1019-aws",
	    "osImage", "Ubuntu 24.04.1 LTS", "containerRuntimeVersion", "containerd://1.7.22",
	    "kubeletVersion", "v1.34.0", "kubeProxyVersion", "v1.34.0", "operatingSystem", "linux",
	    "architecture", "amd64", "machineID", "ec2aaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bootID",
	    "0b7e1f3c-1111-2222-3333-444455556666");
}

static bool trim_nodes;

static void sim_init(struct sim *s, int n, const char *version, int max_parallel, int budget)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->now = T0;
	s->fleet = make_fleet(version, max_parallel, budget);
	s->nodes = json_array();
	for (int i = 0; i < n; i++) {
		json_t *node = make_node(i);

		if (trim_nodes)
			fleet_trim_node(NULL, node); /* what the informer would keep */
		json_array_append_new(s->nodes, node);
	}
	s->pods = json_array();
	s->dss = json_array();
	s->started = json_object();
	s->reps = fleet_reports_new();
	s->tr = rollout_tracker_new();
}

static void sim_free(struct sim *s)
{
	json_decref(s->fleet);
	json_decref(s->nodes);
	json_decref(s->pods);
	json_decref(s->dss);
	json_decref(s->started);
	fleet_reports_free(s->reps);
	rollout_tracker_free(s->tr);
}

static const char *version_of(struct sim *s, const char *rev)
{
	size_t i;
	json_t *d;

	json_array_foreach(s->dss, i, d)
	{
		if (strcmp(json_string_value(json_object_get(d, "rev")), rev) == 0)
			return json_string_value(json_object_get(d, "version"));
	}
	return NULL;
}

/* The DaemonSet controllers, kubelets and sensors for one simulated second. */
static void sim_world(struct sim *s)
{
	size_t plen = strlen(ROLLOUT_NODE_LABEL_PREFIX), i;
	json_t *pods = json_array(), *n;
	char ts[32];

	rollout_time_format(s->now, ts);
	json_array_foreach(s->nodes, i, n)
	{
		const char *name =
		    json_string_value(json_object_get(json_object_get(n, "metadata"), "name"));
		json_t *labels = json_object_get(json_object_get(n, "metadata"), "labels");
		const char *k;
		json_t *v;

		json_object_foreach(labels, k, v)
		{
			const char *rev = k + plen, *ver;
			char pod[96];

			if (strncmp(k, ROLLOUT_NODE_LABEL_PREFIX, plen) ||
			    !(ver = version_of(s, rev)))
				continue;
			snprintf(pod, sizeof(pod), "vigil-sensor-%s-%s", rev, name);
			json_t *st = json_object_get(s->started, pod);
			int64_t start = st ? json_integer_value(st) : s->now;

			if (!st)
				json_object_set_new(s->started, pod, json_integer(s->now));
			json_array_append_new(
			    pods,
			    json_pack("{s:{s:s, s:s, s:{s:s, s:s}}, s:{s:s}, s:{s:s}}", "metadata",
				      "name", pod, "namespace", "vigil-system", "labels",
				      "vigil.dev/fleet", "fleet", ROLLOUT_REVISION_LABEL, rev,
				      "spec", "nodeName", name, "status", "phase", "Running"));
			bool ok = !strstr(ver, "bad") && s->now - start >= LOAD_MS;
			/* a SensorNode write: at start, when the probe loads, then every 10 s */
			if (!st || (s->now - start) % 10000 == 0 || s->now - start == LOAD_MS) {
				json_t *sn = json_pack(
				    "{s:{s:s}, s:{s:s, s:s, s:i, s:s, s:[{s:s, s:s, s:s},"
				    " {s:s, s:s}, {s:s, s:s}]}}",
				    "metadata", "name", name, "status", "podName", pod,
				    "driverVersion", ver, "heartbeatSeconds", 10,
				    "lastHeartbeatTime", ts, "conditions", "type", "ProbeLoaded",
				    "status", ok ? "True" : "False", "reason",
				    ok			 ? "Loaded"
				    : strstr(ver, "bad") ? "VerifierRejected"
							 : "Pending",
				    "type", "RulesLoaded", "status", "True", "type",
				    "EventsFlowing", "status", ok ? "True" : "False");

				fleet_reports_observe(s->reps, sn);
				json_decref(sn);
			}
		}
	}
	json_decref(s->pods);
	s->pods = pods;
}

static void apply(struct sim *s, const struct rollout_plan *p)
{
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct rollout_action *a = &p->actions[i];
		char key[64];
		json_t *n;

		snprintf(key, sizeof(key), ROLLOUT_NODE_LABEL_PREFIX "%s", a->rev);
		if (a->kind == ROLLOUT_ACT_ENSURE_REVISION && !version_of(s, a->rev)) {
			json_array_append_new(
			    s->dss, json_pack("{s:s, s:s}", "rev", a->rev, "version", a->version));
		} else if (a->kind == ROLLOUT_ACT_LABEL_NODE ||
			   a->kind == ROLLOUT_ACT_UNLABEL_NODE) {
			/* nodes are named sim-node-%05d: index from the name */
			int idx = atoi(a->name + strlen("sim-node-"));

			n = json_array_get(s->nodes, (size_t)idx);
			json_t *labels = json_object_get(json_object_get(n, "metadata"), "labels");

			if (a->kind == ROLLOUT_ACT_LABEL_NODE)
				json_object_set_new(labels, key, json_string(a->value));
			else
				json_object_del(labels, key);
		}
	}
}

/* One operator reconcile: view + step + apply. Returns the plan's n_actions. */
static size_t sim_reconcile(struct sim *s)
{
	struct fleet_view v;
	struct rollout_plan plan;
	json_t *dss = json_array();
	size_t i, n;
	json_t *d;

	/* DaemonSets as the view reads them */
	json_array_foreach(s->dss, i, d)
	{
		const char *rev = json_string_value(json_object_get(d, "rev"));
		const char *ver = json_string_value(json_object_get(d, "version"));

		json_array_append_new(dss, json_pack("{s:{s:s, s:{s:s, s:s}, s:{s:s}}}", "metadata",
						     "namespace", "vigil-system", "labels",
						     "vigil.dev/fleet", "fleet",
						     ROLLOUT_REVISION_LABEL, rev, "annotations",
						     "vigil.dev/driver-version", ver));
	}
	double t0 = cpu_s();

	if (fleet_view_build(&v, s->fleet, s->nodes, s->pods, dss, s->reps,
			     s->have_status ? &s->status : NULL)) {
		fprintf(stderr, "view failed\n");
		exit(1);
	}
	struct rollout_input in = fleet_view_input(&v, s->now);

	if (rollout_step(s->tr, &in, &plan)) {
		fprintf(stderr, "step failed\n");
		exit(1);
	}
	double dt = cpu_s() - t0;

	s->step_cpu_s += dt;
	s->steps++;
	for (i = 0; i < plan.n_actions; i++)
		if (plan.actions[i].kind == ROLLOUT_ACT_ROLLBACK && !s->rolled_back) {
			s->rolled_back = true;
			s->rollback_step_ms = dt * 1000;
		}
	apply(s, &plan);
	s->status = plan.status;
	s->have_status = true;
	n = plan.n_actions;
	rollout_plan_release(&plan);
	fleet_view_release(&v);
	json_decref(dss);
	return n;
}

static void sim_set_version(struct sim *s, const char *version)
{
	char img[64];
	json_t *spec = json_object_get(s->fleet, "spec");

	snprintf(img, sizeof(img), "vigil/sensor:%s", version);
	json_object_set_new(spec, "driverVersion", json_string(version));
	json_object_set_new(spec, "image", json_string(img));
}

static int run_until(struct sim *s, enum rollout_result r, int max_s)
{
	for (int t = 0; t < max_s; t++) {
		s->now += 1000;
		sim_world(s);
		sim_reconcile(s);
		if (s->status.last.result == r)
			return t + 1;
	}
	return -1;
}

static void bench_upgrade(int n, int max_parallel)
{
	struct sim s;
	int secs;

	sim_init(&s, n, "1.0.0", max_parallel, 120);
	if (run_until(&s, ROLLOUT_SUCCEEDED, 600) < 0) {
		printf("  install of %d nodes did not finish\n", n);
		goto out;
	}
	s.step_cpu_s = 0;
	s.steps = 0;
	sim_set_version(&s, "1.1.0");
	secs = run_until(&s, ROLLOUT_SUCCEEDED, 100000);
	printf("  upgrade %5d nodes, maxParallel %3d: %5d simulated s, %ld steps, %.2f ms CPU per "
	       "step, %.1f us per node step, max gap %.0f s, RSS %ld kB\n",
	       n, max_parallel, secs, s.steps, s.step_cpu_s * 1000 / s.steps,
	       s.step_cpu_s * 1e6 / ((double)s.steps * n), s.status.last.max_gap_seconds, rss_kb());
out:
	sim_free(&s);
}

static void bench_rollback(int n)
{
	struct sim s;

	sim_init(&s, n, "1.0.0", 10, 10);
	run_until(&s, ROLLOUT_SUCCEEDED, 600);
	sim_set_version(&s, "1.1.0-bad");
	run_until(&s, ROLLOUT_ROLLING_BACK, 600);
	printf("  rollback %5d nodes: decided and first rollback actions in the same step, %.2f ms "
	       "CPU (budget exceeded -> first action, excluding the API round trip)\n",
	       n, s.rollback_step_ms);
	int back = run_until(&s, ROLLOUT_ROLLED_BACK, 3600);

	printf("  rollback %5d nodes: all nodes back on the old version %d simulated s later\n", n,
	       back);
	sim_free(&s);
}

static void bench_rss(int n, bool trim)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();

	if (pid == 0) {
		struct sim s;
		long base = rss_kb();

		trim_nodes = trim;
		sim_init(&s, n, "1.0.0", 50, 120);
		run_until(&s, ROLLOUT_SUCCEEDED, 600);
		for (int i = 0; i < 10; i++) {
			s.now += 1000;
			sim_world(&s);
			sim_reconcile(&s);
		}
		long rss = rss_kb();

		malloc_trim(0);
		printf("  RSS with %5d nodes, %s node objects + sensor pods, reports, tracker: %ld "
		       "kB, "
		       "%ld kB after malloc_trim (process before: %ld kB)\n",
		       n, trim ? "trimmed" : "full   ", rss, rss_kb(), base);
		fflush(stdout);
		sim_free(&s);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	printf("rollout bench (simulated cluster, controller path: view + rollout_step)\n");
	bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;

	bench_rss(1000, false);
	bench_rss(5000, false);
	bench_rss(1000, true);
	bench_rss(5000, true);
	bench_upgrade(500, 50);
	bench_upgrade(1000, 50);
	if (!quick)
		bench_upgrade(5000, 50);
	bench_rollback(500);
	if (!quick)
		bench_rollback(5000);
	return 0;
}
