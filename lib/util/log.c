/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/util/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum vlog_level vlog_min = VLOG_INFO;
static const char *const vlog_names[] = { "debug", "info", "warn", "error" };

void vlog_set_level(enum vlog_level level)
{
	vlog_min = level;
}

int vlog_parse_level(const char *s, enum vlog_level *out)
{
	for (unsigned i = 0; i < sizeof(vlog_names) / sizeof(vlog_names[0]); i++) {
		if (s && strcmp(s, vlog_names[i]) == 0) {
			*out = (enum vlog_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void vlog_write(enum vlog_level level, const char *sub, const char *fmt, ...)
{
	char line[4096];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	if (level < vlog_min)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s sub=%s ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ts.tv_nsec / 1000000, vlog_names[level], sub ? sub : "-");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
