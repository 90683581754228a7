/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode: a probe record (bpf/vigil_abi.h) -> a rules event (lib/rules/event.h), keeping the
 * process table current on the way (fork, exec, exit, chdir).
 *
 * The rules event BORROWS strings from the record and from the decoder's scratch space: use it
 * (evaluate, format, record) before the next decode_event call and before the record goes away.
 * Single-threaded.
 */
#ifndef VIGIL_SENSOR_DECODE_DECODE_H
#define VIGIL_SENSOR_DECODE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/vigil_abi.h"
#include "lib/rules/event.h"

struct proc_table;
struct k8s_meta;

enum decode_result {
	DECODE_EVAL = 0, /* ev is ready for the rules */
	DECODE_SKIP = 1, /* bookkeeping only (fork, exit), nothing to evaluate */
};

struct decoder;

/* New decoder over procs (borrowed) and meta (borrowed, may be NULL). proc_root is where to read
 * processes the table doesn't know yet ("/proc"; borrowed). NULL on ENOMEM. */
struct decoder *decode_new(struct proc_table *procs, struct k8s_meta *meta, const char *proc_root);
void decode_free(struct decoder *d);

/* Sets the offset added to the probe's boot-time stamps to get wall-clock ns (tests pin it). */
void decode_set_clock_offset(struct decoder *d, int64_t boot_to_real_ns);

/* Re-reads the clock offset from CLOCK_REALTIME - CLOCK_BOOTTIME. */
void decode_sync_clock(struct decoder *d);

/* Decodes record e (len bytes) into ev (reset first). Returns DECODE_EVAL, DECODE_SKIP or
 * -EINVAL for a malformed record. */
int decode_event(struct decoder *d, const struct vigil_event *e, size_t len,
		 struct rules_event *ev);

/* Formats open(2) flags as Falco prints them: "O_RDONLY|O_CLOEXEC". Returns buf. */
const char *decode_open_flags(uint64_t flags, char *buf, size_t len);

/* Formats an address (family AF_INET/AF_INET6, bytes network order) as text. Returns buf. */
const char *decode_addr(int family, const unsigned char *addr, char *buf, size_t len);

#endif
