/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trace: recorded events as JSON lines (docs/trace-format.md), read by --replay and written by the
 * sensor's --record.
 *
 *   {"evt.type":"openat","time":"2025-10-02T11:42:03.000000123Z","fields":{"proc.name":"cat",
 *    "fd.name":"/etc/shadow","user.uid":0,"proc.aname":["bash","runc"],
 *    "evt.arg.flags":"O_RDONLY"}}
 *
 * Reader: one struct rules_trace_reader per stream; each rules_trace_next() fills the caller's
 * event with strings that stay valid until the next call (the reader owns them).
 * Writer: rules_trace_write() appends one line for an event (thread-safe per FILE as stdio is).
 */
#ifndef VIGIL_LIB_RULES_TRACE_H
#define VIGIL_LIB_RULES_TRACE_H

#include <stdio.h>

#include "lib/rules/event.h"

struct rules_trace_reader;

/* Opens a reader on f (borrowed, not closed by the reader); name is used in error messages.
 * Returns a new reader (free with rules_trace_reader_free) or NULL with errno set. */
struct rules_trace_reader *rules_trace_reader_new(FILE *f, const char *name);

/* Reads the next event into ev (reset first, then derived). Returns 1 when an event was read,
 * 0 at end of stream, -EINVAL for a malformed line (message via rules_trace_reader_error; the
 * caller may continue with the next line), -EIO/-ENOMEM otherwise. Blank and '#' lines skipped. */
int rules_trace_next(struct rules_trace_reader *r, struct rules_event *ev);

/* Line number of the last line read (1-based). */
unsigned long rules_trace_reader_line(const struct rules_trace_reader *r);

/* Last error message (owned by the reader), "" when none. */
const char *rules_trace_reader_error(const struct rules_trace_reader *r);

void rules_trace_reader_free(struct rules_trace_reader *r);

/* Parses one JSON line into ev; text lives in *storage (new: the caller releases it with free()
 * after using ev). 0 or -EINVAL (errbuf gets a message when non-NULL) or -ENOMEM. */
int rules_trace_parse_line(const char *line, struct rules_event *ev, void **storage, char *errbuf,
			   size_t errlen);

/* Writes ev as one JSON line (with '\n') to f. 0, -EIO or -ENOMEM. */
int rules_trace_write(FILE *f, const struct rules_event *ev);

/* Formats ns since the epoch as RFC 3339 UTC with nanoseconds into buf (>= 32 bytes):
 * "2025-10-02T11:42:03.000000000Z". Returns buf. */
char *rules_time_format(unsigned long long ns, char *buf, size_t len);

/* Parses RFC 3339 time ("...Z" or "+hh:mm", 0-9 fraction digits) into ns since the epoch. 0 or
 * -EINVAL. */
int rules_time_parse(const char *s, unsigned long long *ns);

#endif
