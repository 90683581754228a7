/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe: the life of the eBPF probe: preflight -> open -> set rodata -> load -> attach -> poll ->
 * destroy. Every failure is classified into a reason (the SensorNode condition reason), a message
 * that says what happened and a fix that says what to do.
 *
 *   struct probe_opts o = { .buffer_preset = 4, .on_event = cb, .ctx = me };
 *   struct probe_report rep;
 *   struct probe *p;
 *   if (probe_start(&o, &p, &rep) < 0) log(rep.reason, rep.message, rep.fix);
 *   while (running) probe_poll(p, 100);
 *   probe_destroy(p);
 */
#ifndef VIGIL_SENSOR_PROBE_PROBE_H
#define VIGIL_SENSOR_PROBE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/vigil_abi.h"

enum probe_reason {
	PROBE_R_OK = 0,
	PROBE_R_BTF_NOT_AVAILABLE,
	PROBE_R_MISSING_CAPABILITIES,
	PROBE_R_KERNEL_TOO_OLD,
	PROBE_R_VERIFIER_REJECTED,
	PROBE_R_LOAD_FAILED,
};

/* The condition reason text: "Loaded", "BTFNotAvailable", "MissingCapabilities", ... Static. */
const char *probe_reason_name(enum probe_reason r);

/* Called for each record; len is the record's length. The record is borrowed for the call. */
typedef void (*probe_event_fn)(void *ctx, const struct vigil_event *e, size_t len);

struct probe_opts {
	const char *btf_path; /* custom BTF file (NULL: $VIGIL_BTF_PATH, then the kernel's) */
	int buffer_preset;    /* 1..10 -> 1 MB..512 MB ring buffer (0: default 4 = 8 MB) */
	probe_event_fn on_event;
	void *ctx;
	bool test_verifier_reject; /* test hook: make the verifier reject the object */
};

#define PROBE_CAPS_LEN 128
#define PROBE_MSG_LEN 512
#define PROBE_LOG_TAIL 1536

/* What preflight found and, on failure, why. Plain data, caller-owned. */
struct probe_report {
	enum probe_reason reason;
	int err;	    /* negative errno of the failure, 0 when ok */
	bool btf_present;   /* the BTF file exists and parses */
	char btf_path[256]; /* the BTF file checked */
	char kernel_release[65];
	char caps_held[PROBE_CAPS_LEN];	   /* needed capabilities held, comma-separated */
	char caps_missing[PROBE_CAPS_LEN]; /* needed capabilities missing, comma-separated */
	char message[PROBE_MSG_LEN];	   /* what happened */
	char fix[256];			   /* what to do about it */
	char prog[64];			   /* VerifierRejected: the first program rejected */
	char log_tail[PROBE_LOG_TAIL];	   /* VerifierRejected: the end of its verifier log */
};

/* Ring buffer size in bytes for preset 1..10 (1 MB doubling to 512 MB); 0 for a bad preset. */
size_t probe_buffer_size(int preset);

/* Names an errno value ("EPERM: Operation not permitted"; 524: "ENOTSUPP: not supported by this
 * kernel"). Returns buf. err may be negative. */
const char *probe_strerror(int err, char *buf, size_t len);

/* Preflight checks without loading the probe: BTF, capabilities, kernel features. Fills rep
 * (always, also on success) and returns 0 or a negative errno. */
int probe_preflight(const struct probe_opts *opts, struct probe_report *rep);

/* Classifies a failed load from the error and libbpf's log text (borrowed): fills rep's reason,
 * message, fix, prog and log_tail. Exposed for tests. */
void probe_classify_load(int err, const char *libbpf_log, struct probe_report *rep);

struct probe;

/* Runs preflight, then opens, loads and attaches the probe. On success *out is a new probe (free
 * with probe_destroy) and 0 is returned; on failure rep says why and a negative errno returns. */
int probe_start(const struct probe_opts *opts, struct probe **out, struct probe_report *rep);

/* Waits up to timeout_ms for records and hands each to opts->on_event, at most a batch (16384) per
 * call so that the caller's loop runs even under a flood. Returns the number of records handled
 * or a negative errno (-EINTR when interrupted). */
int probe_poll(struct probe *p, int timeout_ms);

/* Epoll fd of the ring buffer, for callers that multiplex. Borrowed. */
int probe_fd(struct probe *p);

/* Sums the per-CPU counters; per_cpu_drops (may be NULL) receives up to max_cpus values. Returns
 * the number of possible CPUs or a negative errno. */
int probe_counters(struct probe *p, uint64_t *events, uint64_t *drops, uint64_t *per_cpu_drops,
		   int max_cpus);

/* Ring buffer size in bytes of a running probe. */
size_t probe_ring_size(const struct probe *p);

/* Detaches and frees. NULL is fine. */
void probe_destroy(struct probe *p);

#endif
