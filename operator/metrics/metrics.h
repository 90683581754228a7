/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: a small Prometheus registry (counters, gauges, histograms) rendered as text format
 * 0.0.4, for the operator's /metrics.
 *
 *   metrics_describe(m, "vigil_reconcile_total", "counter", "Reconciles by controller and
 * result."); metrics_counter_add(m, "vigil_reconcile_total",
 * "controller=\"ruleset\",result=\"done\"", 1);
 *
 * A series is (name, labels); labels is the text between the braces, borrowed and copied on first
 * use ("" for none). Collectors registered with metrics_on_render run before each render to
 * refresh gauges read from elsewhere (queue depth, watch restarts, leader state). Thread-safe.
 */
#ifndef VIGIL_OPERATOR_METRICS_METRICS_H
#define VIGIL_OPERATOR_METRICS_METRICS_H

#include <stddef.h>

#include "lib/httpd/httpd.h"

struct metrics;

/* New empty registry (caller frees with metrics_free); NULL on ENOMEM. */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* Declares a family: type "counter", "gauge" or "histogram"; strings copied. 0 or -errno. */
int metrics_describe(struct metrics *m, const char *name, const char *type, const char *help);

/* Adds v to a counter series (created at 0). */
void metrics_counter_add(struct metrics *m, const char *name, const char *labels, double v);

/* Sets a gauge series. */
void metrics_gauge_set(struct metrics *m, const char *name, const char *labels, double v);

/* Records one observation (seconds) in a histogram series (buckets 1 ms .. 10 s). */
void metrics_observe(struct metrics *m, const char *name, const char *labels, double v);

/* The current value of a counter or gauge series (0 when absent); for tests and benchmarks. */
double metrics_value(struct metrics *m, const char *name, const char *labels);

/* Registers fn to run (without the registry lock) before each render. ctx borrowed. */
int metrics_on_render(struct metrics *m, void (*fn)(void *ctx, struct metrics *m), void *ctx);

/* Renders every family: *out is new (caller frees), *len its length. 0 or -ENOMEM. */
int metrics_render(struct metrics *m, char **out, size_t *len);

/* An httpd handler serving metrics_render; arg is the struct metrics. */
int metrics_http_handler(const struct httpd_request *req, struct httpd_response *resp, void *arg);

#endif
