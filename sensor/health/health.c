// SPDX-License-Identifier: Apache-2.0
#include "sensor/health/health.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/httpd/httpd.h"

struct alert_count {
	char *rule;
	char priority[16];
	uint64_t n;
};

/* Alert latency histogram buckets (upper bounds, seconds), Prometheus style. */
static const double lat_le[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
				0.01,	0.025,	 0.05,	 0.1,	0.25,	1};
#define NLAT (sizeof(lat_le) / sizeof(lat_le[0]))

struct health {
	pthread_mutex_t lock;
	uint64_t lat_buckets[NLAT + 1]; /* the last one is +Inf */
	uint64_t lat_count;
	double lat_sum;
	struct health_snapshot s; /* guarded by lock, except last_event_ns (atomic) */
	struct alert_count *alerts;
	size_t nalerts, capalerts;
	/* events-per-second window */
	uint64_t eps_t0, eps_n0, eps_value;
	struct httpd *srv;
};

uint64_t health_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

bool health_events_flowing(const struct health_snapshot *s)
{
	uint64_t w = (uint64_t)(s->events_window_s > 0 ? s->events_window_s : 10) * 1000000000ull;

	return s->last_event_ns && s->now_ns >= s->last_event_ns ? s->now_ns - s->last_event_ns <= w
								 : s->last_event_ns != 0;
}

bool health_ready(const struct health_snapshot *s, char *why, size_t len)
{
	if (!s->probe_attached) {
		if (why)
			snprintf(why, len, "probe not attached: %s: %s", s->probe_reason,
				 s->probe_message);
		return false;
	}
	if (!s->rules_active) {
		if (why)
			snprintf(why, len, "no rules loaded: %s: %s", s->rules_reason,
				 s->rules_message);
		return false;
	}
	if (!health_events_flowing(s)) {
		if (why)
			snprintf(why, len, "no events in the last %d s", s->events_window_s);
		return false;
	}
	if (why)
		snprintf(why, len, "ok");
	return true;
}

struct health *health_new(const struct health_snapshot *id)
{
	struct health *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	pthread_mutex_init(&h->lock, NULL);
	if (id)
		h->s = *id;
	if (!h->s.events_window_s)
		h->s.events_window_s = 10;
	if (!h->s.heartbeat_s)
		h->s.heartbeat_s = 10;
	if (!h->s.probe_reason[0])
		snprintf(h->s.probe_reason, sizeof(h->s.probe_reason), "Pending");
	if (!h->s.rules_reason[0])
		snprintf(h->s.rules_reason, sizeof(h->s.rules_reason), "NoRules");
	h->s.start_ns = health_now_ns();
	return h;
}

void health_free(struct health *h)
{
	size_t i;

	if (!h)
		return;
	httpd_free(h->srv);
	for (i = 0; i < h->nalerts; i++)
		free(h->alerts[i].rule);
	free(h->alerts);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static void cpy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

void health_snapshot(struct health *h, struct health_snapshot *out)
{
	uint64_t now = health_now_ns();

	pthread_mutex_lock(&h->lock);
	/* events per second over the last >= 1 s window */
	if (!h->eps_t0) {
		h->eps_t0 = now;
		h->eps_n0 = h->s.events_total;
	} else if (now - h->eps_t0 >= 1000000000ull) {
		h->eps_value = (h->s.events_total - h->eps_n0) * 1000000000ull / (now - h->eps_t0);
		h->eps_t0 = now;
		h->eps_n0 = h->s.events_total;
	}
	h->s.events_per_second = h->eps_value;
	*out = h->s;
	out->last_event_ns = __atomic_load_n(&h->s.last_event_ns, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&h->lock);
	out->now_ns = now;
}

void health_set_probe(struct health *h, bool attached, const char *reason, const char *message,
		      const char *fix, bool btf_present, const char *caps_held,
		      const char *caps_missing, uint64_t ring_bytes)
{
	pthread_mutex_lock(&h->lock);
	h->s.probe_attached = attached;
	cpy(h->s.probe_reason, sizeof(h->s.probe_reason), reason);
	cpy(h->s.probe_message, sizeof(h->s.probe_message), message);
	cpy(h->s.probe_fix, sizeof(h->s.probe_fix), fix);
	h->s.btf_present = btf_present;
	cpy(h->s.caps_held, sizeof(h->s.caps_held), caps_held);
	cpy(h->s.caps_missing, sizeof(h->s.caps_missing), caps_missing);
	h->s.ring_bytes = ring_bytes;
	pthread_mutex_unlock(&h->lock);
}

void health_set_rules(struct health *h, bool active, bool loaded, const char *reason,
		      const char *message, const char *hash, uint64_t rule_count)
{
	pthread_mutex_lock(&h->lock);
	h->s.rules_active = active;
	h->s.rules_loaded = loaded;
	cpy(h->s.rules_reason, sizeof(h->s.rules_reason), reason);
	cpy(h->s.rules_message, sizeof(h->s.rules_message), message);
	if (hash)
		cpy(h->s.rules_hash, sizeof(h->s.rules_hash), hash);
	if (active)
		h->s.rule_count = rule_count;
	h->s.reloads_total++;
	if (!loaded)
		h->s.reload_failures_total++;
	pthread_mutex_unlock(&h->lock);
}

void health_set_counters(struct health *h, uint64_t events, uint64_t drops,
			 const uint64_t *per_cpu_drops, int n)
{
	int i;

	pthread_mutex_lock(&h->lock);
	h->s.events_total = events;
	h->s.drops_total = drops;
	if (n > HEALTH_MAX_CPUS)
		n = HEALTH_MAX_CPUS;
	h->s.ncpus = n > 0 ? n : 0;
	for (i = 0; i < h->s.ncpus; i++)
		h->s.drops_per_cpu[i] = per_cpu_drops ? per_cpu_drops[i] : 0;
	pthread_mutex_unlock(&h->lock);
}

void health_mark_event(struct health *h, uint64_t now_ns)
{
	__atomic_store_n(&h->s.last_event_ns, now_ns, __ATOMIC_RELAXED);
}

void health_count_alert(struct health *h, const char *rule, const char *priority)
{
	size_t i;

	pthread_mutex_lock(&h->lock);
	h->s.alerts_total++;
	for (i = 0; i < h->nalerts; i++) {
		if (!strcmp(h->alerts[i].rule, rule) && !strcmp(h->alerts[i].priority, priority)) {
			h->alerts[i].n++;
			goto out;
		}
	}
	if (h->nalerts == h->capalerts) {
		size_t cap = h->capalerts ? h->capalerts * 2 : 16;
		struct alert_count *na = realloc(h->alerts, cap * sizeof(*na));

		if (!na)
			goto out;
		h->alerts = na;
		h->capalerts = cap;
	}
	h->alerts[h->nalerts].rule = strdup(rule);
	if (!h->alerts[h->nalerts].rule)
		goto out;
	cpy(h->alerts[h->nalerts].priority, sizeof(h->alerts[0].priority), priority);
	h->alerts[h->nalerts].n = 1;
	h->nalerts++;
out:
	pthread_mutex_unlock(&h->lock);
}

void health_observe_alert_latency(struct health *h, uint64_t ns)
{
	double sec = ns / 1e9;
	size_t i;

	for (i = 0; i < NLAT && sec > lat_le[i]; i++)
		;
	pthread_mutex_lock(&h->lock);
	h->lat_buckets[i]++;
	h->lat_count++;
	h->lat_sum += sec;
	pthread_mutex_unlock(&h->lock);
}

uint64_t health_alert_latency_quantile(struct health *h, double q)
{
	uint64_t want, seen = 0, res = 0;
	size_t i;

	pthread_mutex_lock(&h->lock);
	want = (uint64_t)(q * h->lat_count + 0.999999);
	for (i = 0; h->lat_count && i <= NLAT; i++) {
		seen += h->lat_buckets[i];
		if (seen >= want) {
			res = i < NLAT ? (uint64_t)(lat_le[i] * 1e9) : UINT64_MAX;
			break;
		}
	}
	pthread_mutex_unlock(&h->lock);
	return res;
}

void health_add_output_drops(struct health *h, uint64_t n)
{
	pthread_mutex_lock(&h->lock);
	h->s.output_drops_total += n;
	pthread_mutex_unlock(&h->lock);
}

/* ---- Prometheus text ---- */

struct buf {
	char *p;
	size_t len, cap;
	int err;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = -EINVAL;
			return;
		}
		if (b->len + n < b->cap) {
			b->len += n;
			return;
		}
		char *np = realloc(b->p, b->cap * 2 + n);

		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = b->cap * 2 + n;
	}
}

/* Label value escaping: backslash, double quote and newline. */
static void besc(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			bprintf(b, "\\\\");
		else if (*s == '"')
			bprintf(b, "\\\"");
		else if (*s == '\n')
			bprintf(b, "\\n");
		else
			bprintf(b, "%c", *s);
	}
}

static void metric(struct buf *b, const char *name, const char *type, const char *help)
{
	bprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int health_metrics_render(struct health *h, char **out, size_t *len)
{
	struct health_snapshot *s = malloc(sizeof(*s));
	struct buf b = {.cap = 8192};
	size_t i;
	int c;

	b.p = malloc(b.cap);
	if (!s || !b.p) {
		free(s);
		free(b.p);
		return -ENOMEM;
	}
	b.p[0] = '\0';
	health_snapshot(h, s);
	metric(&b, "vigil_sensor_events_total", "counter", "Records received from the probe.");
	bprintf(&b, "vigil_sensor_events_total %" PRIu64 "\n", s->events_total);
	metric(&b, "vigil_sensor_drops_total", "counter",
	       "Records lost because the ring buffer was full.");
	bprintf(&b, "vigil_sensor_drops_total %" PRIu64 "\n", s->drops_total);
	metric(&b, "vigil_sensor_cpu_drops_total", "counter", "Ring buffer drops per CPU.");
	for (c = 0; c < s->ncpus; c++)
		bprintf(&b, "vigil_sensor_cpu_drops_total{cpu=\"%d\"} %" PRIu64 "\n", c,
			s->drops_per_cpu[c]);
	metric(&b, "vigil_sensor_events_per_second", "gauge", "Records per second, last window.");
	bprintf(&b, "vigil_sensor_events_per_second %" PRIu64 "\n", s->events_per_second);
	metric(&b, "vigil_sensor_last_event_timestamp_seconds", "gauge",
	       "Unix time of the last record.");
	bprintf(&b, "vigil_sensor_last_event_timestamp_seconds %.3f\n", s->last_event_ns / 1e9);
	metric(&b, "vigil_sensor_alerts_total", "counter", "Alerts by rule and priority.");
	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->nalerts; i++) {
		bprintf(&b, "vigil_sensor_alerts_total{rule=\"");
		besc(&b, h->alerts[i].rule);
		bprintf(&b, "\",priority=\"%s\"} %" PRIu64 "\n", h->alerts[i].priority,
			h->alerts[i].n);
	}
	metric(&b, "vigil_sensor_alert_latency_seconds", "histogram",
	       "From the syscall (kernel time) to the alert written to the outputs.");
	{
		uint64_t cum = 0;

		for (i = 0; i <= NLAT; i++) {
			cum += h->lat_buckets[i];
			if (i < NLAT)
				bprintf(
				    &b,
				    "vigil_sensor_alert_latency_seconds_bucket{le=\"%g\"} %" PRIu64
				    "\n",
				    lat_le[i], cum);
			else
				bprintf(&b,
					"vigil_sensor_alert_latency_seconds_bucket{le=\"+Inf\"} "
					"%" PRIu64 "\n",
					cum);
		}
		bprintf(&b, "vigil_sensor_alert_latency_seconds_sum %.6f\n", h->lat_sum);
		bprintf(&b, "vigil_sensor_alert_latency_seconds_count %" PRIu64 "\n", h->lat_count);
	}
	pthread_mutex_unlock(&h->lock);
	metric(&b, "vigil_sensor_rules_info", "gauge", "The active rule set (hash label).");
	bprintf(&b, "vigil_sensor_rules_info{hash=\"%s\"} %d\n", s->rules_hash,
		s->rules_active ? 1 : 0);
	metric(&b, "vigil_sensor_rules_loaded", "gauge",
	       "1 when the latest rules loaded, 0 when they failed (older rules may be active).");
	bprintf(&b, "vigil_sensor_rules_loaded %d\n", s->rules_loaded ? 1 : 0);
	metric(&b, "vigil_sensor_rules", "gauge", "Rules in the active set.");
	bprintf(&b, "vigil_sensor_rules %" PRIu64 "\n", s->rule_count);
	metric(&b, "vigil_sensor_rules_reload_failures_total", "counter",
	       "Rule sets that failed to load.");
	bprintf(&b, "vigil_sensor_rules_reload_failures_total %" PRIu64 "\n",
		s->reload_failures_total);
	metric(&b, "vigil_sensor_probe_attached", "gauge", "1 when the eBPF probe is attached.");
	bprintf(&b, "vigil_sensor_probe_attached %d\n", s->probe_attached ? 1 : 0);
	metric(&b, "vigil_sensor_probe_state", "gauge", "Probe state by reason (1 = current).");
	bprintf(&b, "vigil_sensor_probe_state{reason=\"%s\"} 1\n", s->probe_reason);
	metric(&b, "vigil_sensor_ring_buffer_bytes", "gauge", "Ring buffer size.");
	bprintf(&b, "vigil_sensor_ring_buffer_bytes %" PRIu64 "\n", s->ring_bytes);
	metric(&b, "vigil_sensor_buffer_preset", "gauge", "Buffer size preset (1-10).");
	bprintf(&b, "vigil_sensor_buffer_preset %d\n", s->buffer_preset);
	metric(&b, "vigil_sensor_output_drops_total", "counter", "Alerts the outputs dropped.");
	bprintf(&b, "vigil_sensor_output_drops_total %" PRIu64 "\n", s->output_drops_total);
	metric(&b, "vigil_sensor_ready", "gauge", "1 when detection works (what /readyz says).");
	bprintf(&b, "vigil_sensor_ready %d\n", health_ready(s, NULL, 0) ? 1 : 0);
	metric(&b, "vigil_sensor_build_info", "gauge", "Sensor version.");
	bprintf(&b, "vigil_sensor_build_info{version=\"%s\",kernel=\"%s\"} 1\n", s->driver_version,
		s->kernel_release);
	free(s);
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* ---- HTTP ---- */

static int on_healthz(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	return httpd_resp_set(resp, 200, "text/plain", "ok\n", 3);
}

static int on_readyz(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	struct health_snapshot *s = malloc(sizeof(*s));
	char why[1200];
	bool ok;
	int n;

	if (!s)
		return -ENOMEM;
	health_snapshot(arg, s);
	ok = health_ready(s, why, sizeof(why));
	free(s);
	n = strlen(why);
	if (n < (int)sizeof(why) - 1)
		why[n++] = '\n';
	return httpd_resp_set(resp, ok ? 200 : 503, "text/plain", why, n);
}

static int on_metrics(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	char *text;
	size_t len;
	int err = health_metrics_render(arg, &text, &len);

	if (err)
		return err;
	httpd_resp_take(resp, 200, "text/plain; version=0.0.4", text, len);
	return 0;
}

int health_serve(struct health *h, const char *addr)
{
	struct httpd_opts o = {.addr = addr};
	int err;

	err = httpd_new(&o, &h->srv);
	if (err)
		return err;
	if ((err = httpd_route(h->srv, "GET", "/healthz", on_healthz, h)) ||
	    (err = httpd_route(h->srv, "GET", "/readyz", on_readyz, h)) ||
	    (err = httpd_route(h->srv, "GET", "/metrics", on_metrics, h)) ||
	    (err = httpd_start(h->srv))) {
		httpd_free(h->srv);
		h->srv = NULL;
		return err;
	}
	return 0;
}

int health_port(struct health *h)
{
	return h->srv ? httpd_port(h->srv) : 0;
}
