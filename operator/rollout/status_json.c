/* SPDX-License-Identifier: Apache-2.0 */
#include "operator/rollout/status_json.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int rollout_time_parse(const char *s, int64_t *ms)
{
	struct tm tm = {0};
	const char *p;
	int64_t frac = 0, off = 0;

	if (!s || !*s)
		return -EINVAL;
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -EINVAL;
	if (*p == '.') {
		int digits = 0;

		for (p++; isdigit((unsigned char)*p); p++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*p - '0');
		if (!digits)
			return -EINVAL;
		for (; digits < 3; digits++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm;

		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
			return -EINVAL;
		off = (int64_t)(hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	*ms = ((int64_t)timegm(&tm) - off) * 1000 + frac;
	return 0;
}

void rollout_time_format(int64_t ms, char buf[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void get_str(const json_t *o, const char *k, char *dst, size_t n)
{
	const char *s = json_string_value(json_object_get(o, k));

	snprintf(dst, n, "%s", s ? s : "");
}

static int64_t get_int(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_number(v) ? (int64_t)json_number_value(v) : 0;
}

static double get_num(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : 0;
}

static int64_t get_time(const json_t *o, const char *k)
{
	int64_t ms = 0;

	rollout_time_parse(json_string_value(json_object_get(o, k)), &ms);
	return ms;
}

static enum rollout_cond_status cond_status_parse(const char *s)
{
	if (s && strcmp(s, "True") == 0)
		return ROLLOUT_TRUE;
	if (s && strcmp(s, "False") == 0)
		return ROLLOUT_FALSE;
	return ROLLOUT_UNKNOWN;
}

static const char *cond_status_name(enum rollout_cond_status s)
{
	return s == ROLLOUT_TRUE ? "True" : s == ROLLOUT_FALSE ? "False" : "Unknown";
}

void rollout_status_from_json(const json_t *status, struct rollout_status *out)
{
	const json_t *nodes, *last, *arr, *it;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(status))
		return;
	out->observed_generation = get_int(status, "observedGeneration");
	get_str(status, "currentVersion", out->current_version, sizeof(out->current_version));
	get_str(status, "targetVersion", out->target_version, sizeof(out->target_version));
	get_str(status, "targetRevision", out->target_revision, sizeof(out->target_revision));
	get_str(status, "lastGoodVersion", out->last_good_version, sizeof(out->last_good_version));
	get_str(status, "lastGoodImage", out->last_good_image, sizeof(out->last_good_image));
	get_str(status, "lastGoodRevision", out->last_good_revision,
		sizeof(out->last_good_revision));
	get_str(status, "rolledBackVersion", out->rolled_back_version,
		sizeof(out->rolled_back_version));
	get_str(status, "rolledBackRevision", out->rolled_back_revision,
		sizeof(out->rolled_back_revision));
	nodes = json_object_get(status, "nodes");
	out->nodes_total = (int)get_int(nodes, "total");
	out->nodes_updated = (int)get_int(nodes, "updated");
	out->nodes_with_detection = (int)get_int(nodes, "withDetection");
	out->nodes_without_detection = (int)get_int(nodes, "withoutDetection");
	arr = json_object_get(status, "problemNodes");
	json_array_foreach(arr, i, it)
	{
		struct rollout_problem *p;

		if (out->n_problems >= ROLLOUT_PROBLEMS_MAX)
			break;
		p = &out->problems[out->n_problems++];
		get_str(it, "name", p->node, sizeof(p->node));
		get_str(it, "reason", p->reason, sizeof(p->reason));
		p->gap_seconds = get_num(it, "gapSeconds");
		p->since_ms = get_time(it, "since");
	}
	last = json_object_get(status, "lastRollout");
	get_str(last, "fromVersion", out->last.from_version, sizeof(out->last.from_version));
	get_str(last, "toVersion", out->last.to_version, sizeof(out->last.to_version));
	out->last.start_ms = get_time(last, "startTime");
	out->last.completion_ms = get_time(last, "completionTime");
	out->last.max_gap_seconds = get_num(last, "maxGapSeconds");
	out->last.total_gap_seconds = get_num(last, "totalGapSeconds");
	out->last.result = rollout_result_parse(json_string_value(json_object_get(last, "result")));
	arr = json_object_get(status, "conditions");
	json_array_foreach(arr, i, it)
	{
		const char *type = json_string_value(json_object_get(it, "type"));

		for (int t = 0; t < ROLLOUT_COND_COUNT; t++) {
			struct rollout_cond *c = &out->conds[t];

			if (!type || strcmp(type, rollout_cond_type_name(t)) != 0)
				continue;
			c->status =
			    cond_status_parse(json_string_value(json_object_get(it, "status")));
			get_str(it, "reason", c->reason, sizeof(c->reason));
			get_str(it, "message", c->message, sizeof(c->message));
			c->observed_generation = get_int(it, "observedGeneration");
			c->transition_ms = get_time(it, "lastTransitionTime");
		}
	}
}

static json_t *time_or_null(int64_t ms)
{
	char buf[32];

	if (!ms)
		return json_null();
	rollout_time_format(ms, buf);
	return json_string(buf);
}

/* Gap seconds with 0.1 s resolution (what the API keeps is then stable across round trips). */
static json_t *secs(double s)
{
	return json_real((double)(int64_t)(s * 10 + 0.5) / 10);
}

json_t *rollout_status_to_json(const struct rollout_status *st)
{
	json_t *o = json_object(), *probs = json_array(), *conds = json_array(), *nodes, *last;

	if (!o || !probs || !conds)
		goto fail;
	for (int i = 0; i < st->n_problems; i++) {
		const struct rollout_problem *p = &st->problems[i];
		json_t *e = json_pack("{s:s, s:s, s:I}", "name", p->node, "reason", p->reason,
				      "gapSeconds", (json_int_t)p->gap_seconds);

		if (!e || json_array_append_new(probs, e))
			goto fail;
		if (p->since_ms)
			json_object_set_new(e, "since", time_or_null(p->since_ms));
	}
	for (int t = 0; t < ROLLOUT_COND_COUNT; t++) {
		const struct rollout_cond *c = &st->conds[t];
		char ltt[32];
		json_t *e;

		rollout_time_format(c->transition_ms, ltt);
		e = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "type", rollout_cond_type_name(t),
			      "status", cond_status_name(c->status), "reason", c->reason, "message",
			      c->message, "observedGeneration", (json_int_t)c->observed_generation,
			      "lastTransitionTime", ltt);
		if (!e || json_array_append_new(conds, e))
			goto fail;
	}
	nodes = json_pack("{s:i, s:i, s:i, s:i}", "total", st->nodes_total, "updated",
			  st->nodes_updated, "withDetection", st->nodes_with_detection,
			  "withoutDetection", st->nodes_without_detection);
	last = json_pack(
	    "{s:s, s:s, s:o, s:o, s:o, s:o, s:s}", "fromVersion", st->last.from_version,
	    "toVersion", st->last.to_version, "startTime", time_or_null(st->last.start_ms),
	    "completionTime", time_or_null(st->last.completion_ms), "maxGapSeconds",
	    secs(st->last.max_gap_seconds), "totalGapSeconds", secs(st->last.total_gap_seconds),
	    "result", rollout_result_name(st->last.result));
	if (!nodes || !last) {
		json_decref(nodes);
		json_decref(last);
		goto fail;
	}
	if (json_object_set_new(o, "observedGeneration", json_integer(st->observed_generation)) ||
	    json_object_set_new(o, "currentVersion", json_string(st->current_version)) ||
	    json_object_set_new(o, "targetVersion", json_string(st->target_version)) ||
	    json_object_set_new(o, "targetRevision", json_string(st->target_revision)) ||
	    json_object_set_new(o, "lastGoodVersion", json_string(st->last_good_version)) ||
	    json_object_set_new(o, "lastGoodImage", json_string(st->last_good_image)) ||
	    json_object_set_new(o, "lastGoodRevision", json_string(st->last_good_revision)) ||
	    json_object_set_new(o, "rolledBackVersion", json_string(st->rolled_back_version)) ||
	    json_object_set_new(o, "rolledBackRevision", json_string(st->rolled_back_revision)) ||
	    json_object_set_new(o, "nodes", nodes) || json_object_set_new(o, "lastRollout", last) ||
	    json_object_set_new(o, "problemNodes", probs) ||
	    json_object_set_new(o, "conditions", conds))
		goto fail_set;
	return o;
fail:
	json_decref(probs);
	json_decref(conds);
fail_set:
	json_decref(o);
	return NULL;
}
