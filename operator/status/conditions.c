/* SPDX-License-Identifier: Apache-2.0 */
#include "operator/status/conditions.h"

#include <errno.h>
#include <string.h>
#include <time.h>

void cond_time(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *str_of(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

json_t *cond_find(const json_t *status, const char *type)
{
	json_t *arr = json_object_get(status, "conditions");
	size_t i;
	json_t *c;

	json_array_foreach(arr, i, c)
	{
		if (strcmp(str_of(c, "type"), type) == 0)
			return c;
	}
	return NULL;
}

bool cond_is(const json_t *status, const char *type, const char *cstatus)
{
	json_t *c = cond_find(status, type);

	return c && strcmp(str_of(c, "status"), cstatus) == 0;
}

/* Sets key to a string when it differs; returns 1 when changed. */
static int set_str(json_t *o, const char *k, const char *v)
{
	if (strcmp(str_of(o, k), v) == 0 && json_object_get(o, k))
		return 0;
	json_object_set_new(o, k, json_string(v));
	return 1;
}

int cond_set(json_t *status, const char *type, const char *cstatus, const char *reason,
	     const char *message, int64_t observed_generation, const char *now)
{
	json_t *arr, *c;
	int changed = 0;

	if (!json_is_object(status) || !type || !cstatus)
		return -EINVAL;
	arr = json_object_get(status, "conditions");
	if (!json_is_array(arr)) {
		arr = json_array();
		if (!arr || json_object_set_new(status, "conditions", arr))
			return -ENOMEM;
	}
	c = cond_find(status, type);
	if (!c) {
		c = json_object();
		if (!c || json_array_append_new(arr, c))
			return -ENOMEM;
		json_object_set_new(c, "type", json_string(type));
		changed = 1;
	}
	if (set_str(c, "status", cstatus) || !json_object_get(c, "lastTransitionTime")) {
		json_object_set_new(c, "lastTransitionTime", json_string(now));
		changed = 1;
	}
	changed |= set_str(c, "reason", reason ? reason : "");
	changed |= set_str(c, "message", message ? message : "");
	if (json_integer_value(json_object_get(c, "observedGeneration")) != observed_generation ||
	    !json_object_get(c, "observedGeneration")) {
		json_object_set_new(c, "observedGeneration", json_integer(observed_generation));
		changed = 1;
	}
	return changed;
}

json_t *cond_status_copy(const json_t *obj)
{
	json_t *st = json_object_get(obj, "status");

	return json_is_object(st) ? json_deep_copy(st) : json_object();
}

bool cond_status_differs(const json_t *obj, const json_t *status)
{
	json_t *st = json_object_get(obj, "status");

	if (!st)
		return json_object_size(status) != 0;
	return !json_equal(st, (json_t *)status);
}
