/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health: what the sensor knows about itself, for /healthz, /readyz, /metrics and the SensorNode.
 *
 * struct health is the live, thread-safe state (written by the event loop, the rules reloader and
 * the probe loader; read by the HTTP server and the reporter). struct health_snapshot is a plain
 * copy of it at one instant: pure data, no pointers, so the report module can also be fed
 * snapshots built by hand (simulated nodes).
 *
 * Ready means detection works: the probe is attached, a rule set is active and events arrived in
 * the last `events_window_s` seconds.
 */
#ifndef VIGIL_SENSOR_HEALTH_HEALTH_H
#define VIGIL_SENSOR_HEALTH_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEALTH_MAX_CPUS 256

struct health_snapshot {
	/* identity */
	char node[254];
	char hostname[256];
	char driver_version[64];
	char kernel_release[65];
	char pod_name[254];
	int heartbeat_s;
	int buffer_preset;
	int events_window_s; /* EventsFlowing when the last event is younger than this */
	/* probe */
	bool probe_attached;
	char probe_reason[32]; /* "Loaded", "BTFNotAvailable", ... ("Pending" before the first try)
				*/
	char probe_message[768];
	char probe_fix[256];
	bool btf_present;
	char caps_held[128]; /* comma-separated */
	char caps_missing[128];
	uint64_t ring_bytes;
	/* rules */
	bool rules_active;	 /* some set is evaluating (maybe an older one) */
	bool rules_loaded;	 /* the latest set loaded (RulesLoaded condition) */
	char rules_reason[32];	 /* "Loaded", "InvalidRules", "NoRules" */
	char rules_message[768]; /* e.g. the first error, "FILE:LINE:COL: ..." */
	char rules_hash[65];
	uint64_t rule_count;
	uint64_t reloads_total;
	uint64_t reload_failures_total;
	/* events */
	uint64_t events_total; /* records received from the probe */
	uint64_t drops_total;  /* records lost in the ring buffer */
	int ncpus;
	uint64_t drops_per_cpu[HEALTH_MAX_CPUS];
	uint64_t last_event_ns; /* CLOCK_REALTIME ns of the last record, 0 if none */
	uint64_t events_per_second;
	uint64_t alerts_total;
	uint64_t output_drops_total;
	uint64_t now_ns; /* CLOCK_REALTIME ns when the snapshot was taken */
	uint64_t start_ns;
};

/* Current CLOCK_REALTIME in ns. */
uint64_t health_now_ns(void);

/* True when s says detection works at s->now_ns; otherwise why (may be NULL) says what's missing.
 */
bool health_ready(const struct health_snapshot *s, char *why, size_t len);

/* True when events arrived within the window at s->now_ns. */
bool health_events_flowing(const struct health_snapshot *s);

struct health;

/* New state with identity fields from `id` (copied); NULL on ENOMEM. Free with health_free. */
struct health *health_new(const struct health_snapshot *id);
void health_free(struct health *h);

/* Copies the current state into *out (also fills now_ns and events_per_second). */
void health_snapshot(struct health *h, struct health_snapshot *out);

/* Probe result: attached or not, reason name, message and fix (borrowed, copied), BTF and caps. */
void health_set_probe(struct health *h, bool attached, const char *reason, const char *message,
		      const char *fix, bool btf_present, const char *caps_held,
		      const char *caps_missing, uint64_t ring_bytes);

/* Rules result. active: a set is evaluating; loaded: the latest attempt succeeded. hash may be
 * NULL when no set is active. A failed attempt counts a reload failure. */
void health_set_rules(struct health *h, bool active, bool loaded, const char *reason,
		      const char *message, const char *hash, uint64_t rule_count);

/* Event counters from the probe (totals) and per-CPU drops (n values, borrowed). */
void health_set_counters(struct health *h, uint64_t events, uint64_t drops,
			 const uint64_t *per_cpu_drops, int n);

/* Notes that a record arrived now (cheap: one relaxed atomic store). */
void health_mark_event(struct health *h, uint64_t now_ns);

/* Counts one alert of rule (borrowed, copied on first sight) at priority (e.g. "CRITICAL"). */
void health_count_alert(struct health *h, const char *rule, const char *priority);

/* Records one syscall-to-alert latency (ns from the event's kernel time to the alert's output). */
void health_observe_alert_latency(struct health *h, uint64_t ns);

/* The latency below which fraction q (0..1) of the observed alerts fall, from the histogram
 * (bucket upper bound, in ns); 0 when nothing was observed. */
uint64_t health_alert_latency_quantile(struct health *h, double q);

/* Adds n to the output drop counter. */
void health_add_output_drops(struct health *h, uint64_t n);

/* Renders Prometheus text for the current state into *out (new, caller frees). 0 or -ENOMEM. */
int health_metrics_render(struct health *h, char **out, size_t *len);

/* Serves /healthz, /readyz and /metrics on addr ("127.0.0.1:8765") with lib/httpd from its own
 * threads. 0 or a negative errno (bind failure). Stopped by health_free. */
int health_serve(struct health *h, const char *addr);

/* Port the server is bound to (0 when not serving). */
int health_port(struct health *h);

#endif
