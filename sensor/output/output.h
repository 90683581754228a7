/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output: where alerts go. One table of function pointers per sink:
 *   json (stdout, default)  one JSON line per alert on standard output
 *   file:PATH               appended JSON lines
 *   http:URL | http(s)://…  POST each alert (falcosidekick-compatible JSON body) from a worker
 *                           thread, with a bounded queue, retries with exponential backoff and a
 *                           drop counter (queue full, or retries exhausted)
 * output_emit never blocks on the network.
 */
#ifndef VIGIL_SENSOR_OUTPUT_OUTPUT_H
#define VIGIL_SENSOR_OUTPUT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

struct output_sink_ops {
	const char *name; /* "stdout", "file", "http" */
	/* Writes one line (no trailing newline, len bytes, borrowed). 0 or -errno. */
	int (*emit)(void *impl, const char *line, size_t len);
	/* Alerts dropped so far. */
	uint64_t (*drops)(void *impl);
	/* Alerts delivered so far. */
	uint64_t (*delivered)(void *impl);
	/* Flushes what it can (the http sink waits up to its drain time) and frees impl. */
	void (*close)(void *impl);
};

struct output {
	const struct output_sink_ops *ops;
	void *impl;
};

struct output_http_opts {
	size_t queue_len;    /* alerts waiting at most [1024] */
	int max_attempts;    /* per alert, the first included [5] */
	int backoff_base_ms; /* first retry wait, doubling [100] */
	int backoff_max_ms;  /* [5000] */
	int timeout_ms;	     /* per request [5000] */
	int drain_ms;	     /* how long close() keeps delivering [2000] */
};

/* Opens a sink from its spec ("json", "stdout", "file:/var/log/x.json", "http:URL" or a URL
 * starting with http:// or https://). *out is new (free with output_close). 0, -EINVAL or -errno.
 */
int output_open(const char *spec, struct output **out);

/* Opens the HTTP sink with explicit options (NULL: defaults). url borrowed (copied). */
int output_open_http(const char *url, const struct output_http_opts *opts, struct output **out);

/* Emits one alert line (borrowed). */
int output_emit(struct output *o, const char *line, size_t len);

uint64_t output_drops(const struct output *o);
uint64_t output_delivered(const struct output *o);

/* Closes and frees. NULL is fine. */
void output_close(struct output *o);

#endif
