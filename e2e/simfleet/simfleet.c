/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil-simfleet: plays the sensors of simulated (kwok) nodes for the rollout e2e tests.
 *
 * Every second it lists the sensor pods of a namespace (label vigil.dev/fleet); for each pod that
 * runs (phase Running, not terminating) on a node whose name starts with --node-prefix it writes
 * that node's SensorNode through the sensor's own report module (sensor/report), every heartbeat
 * of the pod (its --heartbeat=N argument), as driver version VIGIL_DRIVER_VERSION from the pod's
 * environment. The probe "loads" --load-delay seconds after the pod is first seen; a version that
 * contains --bad (default "bad") never loads: ProbeLoaded=False reason VerifierRejected, like a
 * driver the kernel verifier refuses. Runs until SIGTERM/SIGINT.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/kube/client.h"
#include "lib/kube/config.h"
#include "lib/kube/path.h"
#include "lib/util/log.h"
#include "operator/rollout/rollout.h"
#include "sensor/health/health.h"
#include "sensor/report/report.h"

struct simpod {
	char name[254];
	char node[254];
	char version[64];
	int heartbeat_s;
	uint64_t first_ns, last_write_ns;
	struct report_state *st;
	bool seen, loaded;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = 1;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* The pod's VIGIL_DRIVER_VERSION and --heartbeat from its first container. */
static void pod_sensor_args(const json_t *pod, char *version, size_t vlen, int *hb)
{
	const json_t *c =
	    json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
	size_t i;
	json_t *x;

	snprintf(version, vlen, "unknown");
	*hb = 10;
	json_array_foreach(json_object_get(c, "env"), i,
			   x) if (strcmp(jstr(x, "name"), "VIGIL_DRIVER_VERSION") == 0)
	    snprintf(version, vlen, "%s", jstr(x, "value"));
	json_array_foreach(json_object_get(c, "args"), i,
			   x) if (json_string_value(x) &&
				  strncmp(json_string_value(x), "--heartbeat=", 12) == 0) *hb =
	    atoi(json_string_value(x) + 12);
	if (*hb < 1)
		*hb = 10;
}

static void fill_snapshot(struct health_snapshot *s, const struct simpod *p, uint64_t now,
			  double load_delay_s, const char *bad)
{
	bool is_bad = bad[0] && strstr(p->version, bad);
	bool loaded = !is_bad && now - p->first_ns >= (uint64_t)(load_delay_s * 1e9);

	memset(s, 0, sizeof(*s));
	snprintf(s->node, sizeof(s->node), "%s", p->node);
	snprintf(s->hostname, sizeof(s->hostname), "%s", p->node);
	snprintf(s->driver_version, sizeof(s->driver_version), "%s", p->version);
	snprintf(s->kernel_release, sizeof(s->kernel_release), "6.8.0-sim");
	snprintf(s->pod_name, sizeof(s->pod_name), "%s", p->name);
	s->heartbeat_s = p->heartbeat_s;
	s->buffer_preset = 4;
	s->events_window_s = 10;
	s->btf_present = true;
	snprintf(s->caps_held, sizeof(s->caps_held), "CAP_BPF,CAP_PERFMON,CAP_SYS_RESOURCE");
	if (loaded) {
		s->probe_attached = true;
		snprintf(s->probe_reason, sizeof(s->probe_reason), "Loaded");
		snprintf(s->probe_message, sizeof(s->probe_message), "simulated probe attached");
		s->last_event_ns = now;
		s->events_total = (now - p->first_ns) / 1000000;
		s->events_per_second = 1000;
	} else if (is_bad) {
		snprintf(s->probe_reason, sizeof(s->probe_reason), "VerifierRejected");
		snprintf(s->probe_message, sizeof(s->probe_message),
			 "bpf: Permission denied (simulated verifier rejection of %s)", p->version);
	} else {
		snprintf(s->probe_reason, sizeof(s->probe_reason), "Pending");
	}
	s->rules_active = s->rules_loaded = true;
	snprintf(s->rules_reason, sizeof(s->rules_reason), "Loaded");
	snprintf(s->rules_hash, sizeof(s->rules_hash), "simulated");
	s->rule_count = 1;
	s->now_ns = now;
	s->start_ns = p->first_ns;
}

struct pass {
	struct kube_client *client;
	struct simpod *pods;
	size_t n, first, step;
	uint64_t now;
	double load_delay;
	const char *bad;
};

/* Writes the due reports of pods first, first+step, ... (one writer thread of a pass). */
static void *write_reports(void *arg)
{
	struct pass *w = arg;
	struct kube_error err;

	for (size_t i = w->first; i < w->n && !stopping; i += w->step) {
		struct simpod *p = &w->pods[i];
		struct health_snapshot s;

		fill_snapshot(&s, p, health_now_ns(), w->load_delay, w->bad);
		if (p->last_write_ns && s.probe_attached == p->loaded &&
		    w->now - p->last_write_ns < (uint64_t)p->heartbeat_s * 1000000000ULL)
			continue;
		p->loaded = s.probe_attached;
		if (report_write(w->client, p->st, &s, &err) == 0)
			p->last_write_ns = w->now;
		else
			vlog_warn("simfleet", "node=%s msg=\"cannot report\" err=\"%s\"", p->node,
				  err.message);
	}
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vigil-simfleet --namespace NS [--kubeconfig FILE] [--node-prefix P]\n"
		   "                     [--load-delay SECONDS] [--bad TEXT] [--writers N]\n"
		   "       vigil-simfleet --revision FLEET VERSION IMAGE   (prints the revision id;\n"
		   "                     FLEET is namespace/name)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"kubeconfig", required_argument, NULL, 'k'},
	    {"namespace", required_argument, NULL, 'n'},
	    {"node-prefix", required_argument, NULL, 'p'},
	    {"load-delay", required_argument, NULL, 'd'},
	    {"bad", required_argument, NULL, 'b'},
	    {"writers", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *kubeconfig = NULL, *ns = NULL, *prefix = "kwok-node-", *bad = "bad";
	double load_delay = 2;
	int writers = 8;
	struct kube_config *cfg = NULL;
	struct kube_client *client = NULL;
	struct kube_error err;
	struct simpod *pods = NULL;
	size_t n = 0, cap = 0;
	struct sigaction sa = {.sa_handler = on_signal};
	char path[KUBE_PATH_MAX];
	int c;

	if (argc == 5 && strcmp(argv[1], "--revision") == 0) {
		char rev[ROLLOUT_REV_LEN];

		rollout_revision_id(argv[2], argv[3], argv[4], rev);
		printf("%s\n", rev);
		return 0;
	}
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			kubeconfig = optarg;
			break;
		case 'n':
			ns = optarg;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'd':
			load_delay = atof(optarg);
			break;
		case 'b':
			bad = optarg;
			break;
		case 'w':
			writers = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!ns) {
		usage(stderr);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (kube_config_auto(kubeconfig, &cfg, &err) || kube_client_new(cfg, NULL, &client)) {
		vlog_error("simfleet", "msg=\"no cluster\" err=\"%s\"", err.message);
		return 1;
	}
	kube_path(path, sizeof(path), &kube_res_pods, ns, NULL, NULL);
	vlog_info("simfleet", "namespace=%s node_prefix=%s load_delay=%.1f bad=%s", ns, prefix,
		  load_delay, bad);
	while (!stopping) {
		struct kube_list_opts lo = {.label_selector = "vigil.dev/fleet"};
		json_t *list = NULL, *pod;
		uint64_t now = health_now_ns();
		size_t i;

		if (kube_list(client, path, &lo, &list, &err) == 0) {
			for (i = 0; i < n; i++)
				pods[i].seen = false;
			json_array_foreach(json_object_get(list, "items"), i, pod)
			{
				const json_t *m = json_object_get(pod, "metadata");
				const char *node = jstr(json_object_get(pod, "spec"), "nodeName");
				struct simpod *p = NULL;

				if (strncmp(node, prefix, strlen(prefix)) != 0 ||
				    strcmp(jstr(json_object_get(pod, "status"), "phase"),
					   "Running") ||
				    json_object_get(m, "deletionTimestamp"))
					continue;
				for (size_t k = 0; k < n && !p; k++)
					if (strcmp(pods[k].name, jstr(m, "name")) == 0)
						p = &pods[k];
				if (!p) {
					if (n == cap) {
						size_t nc = cap ? cap * 2 : 64;
						struct simpod *v = realloc(pods, nc * sizeof(*v));

						if (!v)
							break;
						pods = v;
						cap = nc;
					}
					p = &pods[n++];
					memset(p, 0, sizeof(*p));
					snprintf(p->name, sizeof(p->name), "%s", jstr(m, "name"));
					snprintf(p->node, sizeof(p->node), "%s", node);
					pod_sensor_args(pod, p->version, sizeof(p->version),
							&p->heartbeat_s);
					p->first_ns = now;
					p->st = report_state_new(p->node);
					vlog_info("simfleet",
						  "pod=%s node=%s version=%s msg=started", p->name,
						  p->node, p->version);
				}
				p->seen = true;
			}
			json_decref(list);
			/* pods that stopped running: their sensor is gone */
			for (i = 0; i < n;) {
				if (pods[i].seen) {
					i++;
					continue;
				}
				vlog_info("simfleet", "pod=%s node=%s msg=stopped", pods[i].name,
					  pods[i].node);
				report_state_free(pods[i].st);
				pods[i] = pods[--n];
			}
		} else {
			vlog_warn("simfleet", "msg=\"cannot list pods\" err=\"%s\"", err.message);
		}
		/* due reports, written by `writers` threads (a pass must fit in a heartbeat) */
		{
			pthread_t th[64];
			struct pass ps[64];
			int nt = writers < 1 ? 1 : writers > 64 ? 64 : writers, started = 0;

			for (int t = 0; t < nt; t++) {
				ps[t] = (struct pass){client,	  pods, n,	    (size_t)t,
						      (size_t)nt, now,	load_delay, bad};
				if (pthread_create(&th[t], NULL, write_reports, &ps[t]) != 0)
					break;
				started++;
			}
			for (int t = 0; t < started; t++)
				pthread_join(th[t], NULL);
		}
		for (int t = 0; t < 10 && !stopping; t++)
			usleep(100 * 1000);
	}
	for (size_t i = 0; i < n; i++)
		report_state_free(pods[i].st);
	free(pods);
	kube_client_free(client);
	return 0;
}
