/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: one-line key=value logging to stderr, shared by operator and sensor.
 *
 *   vlog_info("reconcile", "kind=RuleSet name=%s ms=%d", name, ms);
 *   -> ts=2026-12-03T13:00:00.123Z level=info sub=reconcile kind=RuleSet name=x ms=3
 *
 * Log once, where an error is handled. Thread-safe (one write(2) per line).
 */
#ifndef VIGIL_LIB_UTIL_LOG_H
#define VIGIL_LIB_UTIL_LOG_H

enum vlog_level { VLOG_DEBUG, VLOG_INFO, VLOG_WARN, VLOG_ERROR };

/* Sets the minimum level printed (default VLOG_INFO). */
void vlog_set_level(enum vlog_level level);

/* Parses "debug", "info", "warn" or "error"; returns 0 or -EINVAL. */
int vlog_parse_level(const char *s, enum vlog_level *out);

/* Writes one line: ts, level, sub (subsystem, borrowed) then the formatted key=value text. */
void vlog_write(enum vlog_level level, const char *sub, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define vlog_debug(sub, ...) vlog_write(VLOG_DEBUG, sub, __VA_ARGS__)
#define vlog_info(sub, ...) vlog_write(VLOG_INFO, sub, __VA_ARGS__)
#define vlog_warn(sub, ...) vlog_write(VLOG_WARN, sub, __VA_ARGS__)
#define vlog_error(sub, ...) vlog_write(VLOG_ERROR, sub, __VA_ARGS__)

#endif
