// SPDX-License-Identifier: Apache-2.0
#include "sensor/sensor.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "lib/kube/client.h"
#include "lib/kube/config.h"
#include "lib/rules/rules.h"
#include "lib/rules/trace.h"
#include "lib/util/log.h"
#include "sensor/decode/decode.h"
#include "sensor/health/health.h"
#include "sensor/k8s/meta.h"
#include "sensor/output/output.h"
#include "sensor/probe/probe.h"
#include "sensor/proc/proc.h"
#include "sensor/report/report.h"
#include "sensor/rules/reload.h"

#define MAX_HITS 16

struct sensor {
	const struct sensor_opts *o;
	char hostname[256];
	struct health *health;
	struct proc_table *procs;
	struct k8s_meta *meta;
	struct decoder *dec;
	struct reloader *rl;
	struct output *out;
	FILE *record;
	struct probe *probe;
	struct kube_client *kube;
	struct reporter *reporter;
	struct rules_event ev;
	bool batch_had_events;
	uint64_t out_drops_seen;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = 1;
}

void sensor_opts_defaults(struct sensor_opts *o)
{
	const char *v;

	memset(o, 0, sizeof(*o));
	o->buffer_preset = 4;
	o->health_addr = "127.0.0.1:8765";
	o->output = "json";
	o->node_name = getenv("NODE_NAME");
	o->pod_name = getenv("POD_NAME");
	v = getenv("VIGIL_DRIVER_VERSION");
	o->driver_version = v && *v ? v : VIGIL_VERSION;
	o->heartbeat_s = 10;
	o->events_window_s = 10;
	o->reload_debounce_ms = 500;
	v = getenv("VIGIL_TEST_VERIFIER_REJECT");
	o->test_verifier_reject = v && !strcmp(v, "1");
}

void sensor_usage(FILE *f)
{
	fprintf(
	    f,
	    "Live mode (default): load the eBPF probe and evaluate rules on this node.\n"
	    "  -r, --rules PATH         rules file or directory (repeatable; hot-reloaded)\n"
	    "      --btf PATH           custom BTF file for CO-RE (also $VIGIL_BTF_PATH)\n"
	    "      --buffer-preset N    ring buffer size 1..10 = 1 MB..512 MB (default 4 = 8 MB)\n"
	    "      --health-addr ADDR   /healthz /readyz /metrics on ADDR (default "
	    "127.0.0.1:8765, 'off' to disable)\n"
	    "      --output SPEC        json (stdout, default), file:PATH, http:URL\n"
	    "      --record FILE        also write every event in the replay trace format\n"
	    "      --node-name NAME     node to report as (default $NODE_NAME); with API access\n"
	    "                           the sensor writes SensorNode NAME and reads its pods\n"
	    "      --kubeconfig FILE    kubeconfig (default $KUBECONFIG, then in-cluster)\n"
	    "      --driver-version V   version to report (default $VIGIL_DRIVER_VERSION, then "
	    "%s)\n"
	    "      --heartbeat SECONDS  SensorNode update interval (default 10)\n"
	    "      --hostname NAME      hostname in alerts (default: gethostname)\n"
	    "      --pod-metadata FILE  JSON {container id: {namespace, pod, image, container}}\n"
	    "                           used before the API's pods (tests, non-k8s hosts)\n"
	    "      --events-window S    events must be younger than S seconds for readiness "
	    "(default 10)\n"
	    "      --reload-debounce-ms N  quiet time before reloading changed rules (default "
	    "500)\n",
	    VIGIL_VERSION);
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

int sensor_parse_args(int argc, char **argv, struct sensor_opts *o)
{
	enum {
		O_BTF = 1000,
		O_PRESET,
		O_HEALTH,
		O_OUTPUT,
		O_RECORD,
		O_NODE,
		O_KUBECONFIG,
		O_DRIVER,
		O_HEARTBEAT,
		O_HOSTNAME,
		O_PODMETA,
		O_WINDOW,
		O_DEBOUNCE,
		O_VERSION,
		O_LOGLEVEL,
	};
	static const struct option opts[] = {
	    {"rules", required_argument, NULL, 'r'},
	    {"btf", required_argument, NULL, O_BTF},
	    {"buffer-preset", required_argument, NULL, O_PRESET},
	    {"health-addr", required_argument, NULL, O_HEALTH},
	    {"output", required_argument, NULL, O_OUTPUT},
	    {"record", required_argument, NULL, O_RECORD},
	    {"node-name", required_argument, NULL, O_NODE},
	    {"kubeconfig", required_argument, NULL, O_KUBECONFIG},
	    {"driver-version", required_argument, NULL, O_DRIVER},
	    {"heartbeat", required_argument, NULL, O_HEARTBEAT},
	    {"hostname", required_argument, NULL, O_HOSTNAME},
	    {"pod-metadata", required_argument, NULL, O_PODMETA},
	    {"events-window", required_argument, NULL, O_WINDOW},
	    {"reload-debounce-ms", required_argument, NULL, O_DEBOUNCE},
	    {"log-level", required_argument, NULL, O_LOGLEVEL},
	    {"version", no_argument, NULL, O_VERSION},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (o->nrules == SENSOR_MAX_RULES_PATHS) {
				fprintf(stderr, "too many -r paths\n");
				return -EINVAL;
			}
			o->rules_paths[o->nrules++] = optarg;
			break;
		case O_BTF:
			o->btf_path = optarg;
			break;
		case O_PRESET:
			if (parse_int(optarg, 1, 10, &o->buffer_preset)) {
				fprintf(stderr, "--buffer-preset: 1 to 10, got '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case O_HEALTH:
			o->health_addr = optarg;
			break;
		case O_OUTPUT:
			o->output = optarg;
			break;
		case O_RECORD:
			o->record = optarg;
			break;
		case O_NODE:
			o->node_name = optarg;
			break;
		case O_KUBECONFIG:
			o->kubeconfig = optarg;
			break;
		case O_DRIVER:
			o->driver_version = optarg;
			break;
		case O_HEARTBEAT:
			if (parse_int(optarg, 1, 3600, &o->heartbeat_s)) {
				fprintf(stderr, "--heartbeat: seconds 1..3600, got '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case O_HOSTNAME:
			o->hostname = optarg;
			break;
		case O_PODMETA:
			o->pod_metadata = optarg;
			break;
		case O_WINDOW:
			if (parse_int(optarg, 1, 3600, &o->events_window_s)) {
				fprintf(stderr, "--events-window: seconds 1..3600\n");
				return -EINVAL;
			}
			break;
		case O_DEBOUNCE:
			if (parse_int(optarg, 0, 60000, &o->reload_debounce_ms)) {
				fprintf(stderr, "--reload-debounce-ms: 0..60000\n");
				return -EINVAL;
			}
			break;
		case O_LOGLEVEL: {
			enum vlog_level l;

			if (vlog_parse_level(optarg, &l)) {
				fprintf(stderr, "--log-level: debug, info, warn or error\n");
				return -EINVAL;
			}
			vlog_set_level(l);
			break;
		}
		case O_VERSION:
			printf("%s\n", VIGIL_VERSION);
			return 1;
		case 'h':
			sensor_usage(stdout);
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* ---- alerts ---- */

static void emit_line(struct sensor *s, const char *line)
{
	if (s->out)
		output_emit(s->out, line, strlen(line));
}

/* The internal alert for a rules reload failure. */
static void internal_alert(struct sensor *s, const char *message, const char *hash)
{
	char ts[40], *line, text[1400];
	json_t *j;

	rules_time_format(health_now_ns(), ts, sizeof(ts));
	snprintf(text, sizeof(text),
		 "Vigil rules reload failed, keeping the last good rules (hash=%s): %s",
		 hash ? hash : "none", message);
	j = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:s, s:[s], s:s}", "hostname",
		      s->hostname, "output", text, "output_fields", "vigil.rules.error", message,
		      "vigil.rules.hash", hash ? hash : "<NA>", "priority", "ERROR", "rule",
		      "Vigil rules reload failed", "source", "internal", "tags", "vigil", "time",
		      ts);
	if (!j)
		return;
	line = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (line)
		emit_line(s, line);
	free(line);
	json_decref(j);
	health_count_alert(s->health, "Vigil rules reload failed", "ERROR");
}

static void on_reload(void *ctx, const struct reload_result *r)
{
	struct sensor *s = ctx;

	health_set_rules(s->health, r->hash != NULL, r->ok,
			 r->ok ? "Loaded" : (r->hash ? "InvalidRules" : "InvalidRules"), r->message,
			 r->hash, r->rule_count);
	if (!r->ok)
		internal_alert(s, r->message, r->hash);
}

static void on_event(void *ctx, const struct vigil_event *e, size_t len)
{
	struct sensor *s = ctx;
	struct rules_set *rs;
	size_t hits[MAX_HITS], n, i;
	uint64_t now;

	s->batch_had_events = true;
	if (decode_event(s->dec, e, len, &s->ev) != DECODE_EVAL)
		return;
	if (s->record)
		rules_trace_write(s->record, &s->ev);
	rs = reload_active(s->rl);
	if (!rs)
		return;
	n = rules_set_eval(rs, &s->ev, false, hits, MAX_HITS);
	for (i = 0; i < n; i++) {
		struct rules_info info;
		char *line = NULL;

		if (rules_set_format_alert(rs, hits[i], &s->ev, s->hostname, &line))
			continue;
		emit_line(s, line);
		free(line);
		now = health_now_ns();
		health_observe_alert_latency(s->health, now > s->ev.ts_ns ? now - s->ev.ts_ns : 0);
		if (rules_set_rule_info(rs, hits[i], &info) == 0)
			health_count_alert(s->health, info.name,
					   rules_priority_name(info.priority, true));
	}
}

/* ---- setup ---- */

static void start_probe(struct sensor *s)
{
	struct probe_opts po = {
	    .btf_path = s->o->btf_path,
	    .buffer_preset = s->o->buffer_preset,
	    .on_event = on_event,
	    .ctx = s,
	    .test_verifier_reject = s->o->test_verifier_reject,
	};
	struct probe_report rep;
	int err = probe_start(&po, &s->probe, &rep);

	health_set_probe(s->health, err == 0, probe_reason_name(rep.reason), rep.message, rep.fix,
			 rep.btf_present, rep.caps_held, rep.caps_missing,
			 err == 0 ? probe_ring_size(s->probe) : 0);
	if (err) {
		vlog_error("probe", "reason=%s msg=\"%s\" fix=\"%s\"%s%s%s",
			   probe_reason_name(rep.reason), rep.message, rep.fix,
			   rep.prog[0] ? " prog=" : "", rep.prog,
			   rep.log_tail[0] ? " log_tail=see-below" : "");
		if (rep.log_tail[0])
			fprintf(stderr, "--- verifier log (tail) of %s ---\n%s\n---\n", rep.prog,
				rep.log_tail);
		return;
	}
	vlog_info("probe", "msg=\"%s\" kernel=%s caps=%s", rep.message, rep.kernel_release,
		  rep.caps_held);
}

static void start_kube(struct sensor *s)
{
	struct kube_config *cfg = NULL;
	struct kube_error ke;
	int err;

	if (!s->o->node_name || !*s->o->node_name)
		return;
	err = kube_config_auto(s->o->kubeconfig, &cfg, &ke);
	if (err) {
		vlog_warn("report",
			  "node=%s msg=\"no Kubernetes API access, not reporting\" "
			  "reason=%s message=\"%s\"",
			  s->o->node_name, ke.reason, ke.message);
		return;
	}
	err = kube_client_new(cfg, NULL, &s->kube);
	if (err) {
		vlog_warn("report", "msg=\"kube client failed\" err=%d", err);
		return;
	}
	if (k8s_meta_start(s->meta, s->kube, s->o->node_name))
		vlog_warn("k8s", "msg=\"pod metadata refresher did not start\"");
	if (report_start(s->kube, s->health, s->o->node_name, s->o->heartbeat_s, &s->reporter))
		vlog_warn("report", "msg=\"reporter did not start\"");
	else
		vlog_info("report", "node=%s interval=%ds msg=\"reporting SensorNode\"",
			  s->o->node_name, s->o->heartbeat_s);
}

static void update_counters(struct sensor *s)
{
	uint64_t ev = 0, dr = 0, pc[HEALTH_MAX_CPUS], od;
	int n;

	if (s->probe) {
		n = probe_counters(s->probe, &ev, &dr, pc, HEALTH_MAX_CPUS);
		if (n > 0)
			health_set_counters(s->health, ev, dr, pc, n);
	}
	od = output_drops(s->out);
	if (od > s->out_drops_seen) {
		health_add_output_drops(s->health, od - s->out_drops_seen);
		s->out_drops_seen = od;
	}
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sensor_run(const struct sensor_opts *o)
{
	struct health_snapshot *id = calloc(1, sizeof(*id));
	struct sensor *s = calloc(1, sizeof(*s));
	struct sigaction sa = {.sa_handler = on_signal};
	long long next_counters = 0, next_clock = 0;
	struct utsname u;
	int err, rc = 0;

	if (!id || !s) {
		free(id);
		free(s);
		return 1;
	}
	s->o = o;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (o->hostname)
		snprintf(s->hostname, sizeof(s->hostname), "%s", o->hostname);
	else
		gethostname(s->hostname, sizeof(s->hostname) - 1);

	/* identity for health */
	snprintf(id->node, sizeof(id->node), "%s", o->node_name ? o->node_name : "");
	snprintf(id->hostname, sizeof(id->hostname), "%s", s->hostname);
	snprintf(id->driver_version, sizeof(id->driver_version), "%s", o->driver_version);
	snprintf(id->pod_name, sizeof(id->pod_name), "%s", o->pod_name ? o->pod_name : "");
	if (uname(&u) == 0)
		snprintf(id->kernel_release, sizeof(id->kernel_release), "%s", u.release);
	id->heartbeat_s = o->heartbeat_s;
	id->buffer_preset = o->buffer_preset;
	id->events_window_s = o->events_window_s;
	s->health = health_new(id);
	free(id);
	if (!s->health) {
		rc = 1;
		goto out;
	}
	if (o->health_addr && *o->health_addr && strcmp(o->health_addr, "off")) {
		err = health_serve(s->health, o->health_addr);
		if (err) {
			vlog_error("health", "addr=%s msg=\"cannot serve health\" err=%s",
				   o->health_addr, strerror(-err));
			rc = 1;
			goto out;
		}
		vlog_info("health", "addr=%s port=%d msg=\"serving /healthz /readyz /metrics\"",
			  o->health_addr, health_port(s->health));
	}
	err = output_open(o->output, &s->out);
	if (err) {
		vlog_error("output", "spec=%s msg=\"cannot open output\" err=%s", o->output,
			   strerror(-err));
		rc = 1;
		goto out;
	}
	if (o->record) {
		s->record = fopen(o->record, "a");
		if (!s->record) {
			vlog_error("record", "file=%s msg=\"cannot open\" err=%s", o->record,
				   strerror(errno));
			rc = 1;
			goto out;
		}
	}
	s->procs = proc_table_new();
	s->meta = k8s_meta_new();
	if (!s->procs || !s->meta) {
		rc = 1;
		goto out;
	}
	if (o->pod_metadata && k8s_meta_load_file(s->meta, o->pod_metadata))
		vlog_warn("k8s", "file=%s msg=\"pod metadata file not loaded\"", o->pod_metadata);
	s->dec = decode_new(s->procs, s->meta, "/proc");
	if (!s->dec) {
		rc = 1;
		goto out;
	}
	if (o->nrules) {
		err = reload_new(o->rules_paths, o->nrules, o->reload_debounce_ms, on_reload, s,
				 &s->rl);
		if (err)
			vlog_error("rules", "msg=\"cannot watch rules\" err=%s", strerror(-err));
	} else {
		health_set_rules(s->health, false, false, "NoRules", "no -r rules given", NULL, 0);
	}
	start_kube(s);
	/* seed after the probe is attached would race less, but the probe needs the table's
	 * owner ready; seeding first and accepting a few unknown pids (loaded lazily) is fine */
	err = proc_table_seed(s->procs, "/proc");
	vlog_info("proc", "seeded=%d", err);
	start_probe(s);

	while (!stopping) {
		int timeout = 200, due = reload_poll(s->rl);
		long long now;

		if (due >= 0 && due < timeout)
			timeout = due;
		s->batch_had_events = false;
		if (s->probe) {
			int n = probe_poll(s->probe, timeout);

			if (n < 0 && n != -EINTR) {
				vlog_error("probe", "msg=\"ring buffer poll failed\" err=%d", n);
				sleep(1);
			}
		} else {
			struct pollfd pfd = {.fd = reload_fd(s->rl), .events = POLLIN};

			poll(&pfd, pfd.fd >= 0 ? 1 : 0, timeout);
		}
		if (s->batch_had_events)
			health_mark_event(s->health, health_now_ns());
		now = mono_ms();
		if (now >= next_counters) {
			update_counters(s);
			next_counters = now + 1000;
		}
		if (now >= next_clock) {
			decode_sync_clock(s->dec);
			next_clock = now + 10000;
		}
	}
	vlog_info("main", "msg=\"stopping\"");
out:
	report_stop(s->reporter);
	k8s_meta_free(s->meta);
	kube_client_free(s->kube);
	probe_destroy(s->probe);
	reload_free(s->rl);
	decode_free(s->dec);
	proc_table_free(s->procs);
	if (s->record)
		fclose(s->record);
	output_close(s->out);
	health_free(s->health);
	free(s);
	return rc;
}
