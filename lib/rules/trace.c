/* SPDX-License-Identifier: Apache-2.0 */
/* trace: JSON-lines event traces (docs/trace-format.md). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/rules/fields.h"
#include "lib/rules/trace.h"

char *rules_time_format(unsigned long long ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	char date[24];

	gmtime_r(&s, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09lluZ", date, ns % 1000000000ULL);
	return buf;
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -EINVAL;
		v = v * 10 + (*p)[i] - '0';
	}
	*p += n;
	*out = v;
	return 0;
}

int rules_time_parse(const char *s, unsigned long long *ns)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, se, frac = 0, fd = 0;
	long long off = 0;
	time_t t;

	if (!s || digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' ||
	    digits(&s, 2, &d) || (*s != 'T' && *s != 't' && *s != ' '))
		return -EINVAL;
	s++;
	if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) || *s++ != ':' ||
	    digits(&s, 2, &se))
		return -EINVAL;
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			if (fd < 9) {
				frac = frac * 10 + (*s - '0');
				fd++;
			}
			s++;
		}
		if (fd == 0)
			return -EINVAL;
		for (; fd < 9; fd++)
			frac *= 10;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int oh, om, sign = *s == '-' ? -1 : 1;

		s++;
		if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om))
			return -EINVAL;
		off = sign * (oh * 3600LL + om * 60LL);
	} else {
		return -EINVAL;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || y < 1970)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	if (t - off < 0)
		return -EINVAL;
	*ns = (unsigned long long)(t - off) * 1000000000ULL + (unsigned long long)frac;
	return 0;
}

/* The reader keeps the parsed JSON of the current line alive: the event's strings point into it. */
struct rules_trace_reader {
	FILE *f;
	char *name;
	char *line;
	size_t cap;
	unsigned long lineno;
	void *storage;
	char err[256];
};

struct rules_trace_reader *rules_trace_reader_new(FILE *f, const char *name)
{
	struct rules_trace_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->f = f;
	r->name = strdup(name ? name : "<trace>");
	if (!r->name) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	return r;
}

void rules_trace_reader_free(struct rules_trace_reader *r)
{
	if (!r)
		return;
	json_decref(r->storage);
	free(r->line);
	free(r->name);
	free(r);
}

unsigned long rules_trace_reader_line(const struct rules_trace_reader *r)
{
	return r ? r->lineno : 0;
}

const char *rules_trace_reader_error(const struct rules_trace_reader *r)
{
	return r ? r->err : "";
}

static int set_value(struct rules_event *ev, const char *key, json_t *v, char *err, size_t errlen)
{
	int id = rules_field_from_name(key);
	const struct rules_fieldinfo *fi;

	if (json_is_null(v))
		return 0;
	if (!strncmp(key, "evt.arg.", 8)) {
		if (!json_is_string(v)) {
			snprintf(err, errlen, "'%s' must be a string", key);
			return -EINVAL;
		}
		return rules_event_push_arg(ev, key + 8, json_string_value(v)) ? -EINVAL : 0;
	}
	if (id == RULES_F_PROC_ANAME || id == RULES_F_PROC_AEXE || id == RULES_F_PROC_AEXEPATH ||
	    id == RULES_F_PROC_APID) {
		size_t i;
		json_t *e;

		if (!json_is_array(v)) {
			snprintf(err, errlen, "'%s' must be an array (parent first)", key);
			return -EINVAL;
		}
		json_array_foreach(v, i, e) {
			if (i >= RULES_EVENT_MAX_ANC)
				break;
			while (ev->nanc <= i)
				rules_event_push_ancestor(ev, NULL, NULL, NULL, 0);
			if (id == RULES_F_PROC_APID)
				ev->anc_pid[i] = json_integer_value(e);
			else if (json_is_string(e))
				(id == RULES_F_PROC_ANAME ? ev->anc_name :
				 id == RULES_F_PROC_AEXE  ? ev->anc_exe :
							    ev->anc_exepath)[i] = json_string_value(e);
		}
		return 0;
	}
	if (id == RULES_F_PROC_ENV && json_is_array(v)) {
		size_t i;
		json_t *e;

		json_array_foreach(v, i, e)
			if (json_is_string(e))
				rules_event_push_env(ev, json_string_value(e));
		return 0;
	}
	if (id == RULES_F_CONTAINER_MOUNTS && json_is_array(v)) {
		size_t i;
		json_t *e;

		json_array_foreach(v, i, e)
			rules_event_push_mount(ev, json_string_value(json_object_get(e, "source")),
					       json_string_value(json_object_get(e, "dest")));
		return 0;
	}
	if (id == RULES_F_FD_TYPES && json_is_array(v)) {
		size_t i;
		json_t *e;

		json_array_foreach(v, i, e)
			if (json_is_string(e) && ev->ntypes < RULES_EVENT_MAX_LIST)
				ev->types[ev->ntypes++] = json_string_value(e);
		return 0;
	}
	if (id < 0) {
		snprintf(err, errlen, "unknown field '%s'", key);
		return -EINVAL;
	}
	fi = rules_field_info((unsigned)id);
	if (fi->type == RULES_FT_NUM || fi->type == RULES_FT_BOOL) {
		if (json_is_integer(v))
			rules_event_set_num(ev, id, json_integer_value(v));
		else if (json_is_boolean(v))
			rules_event_set_num(ev, id, json_is_true(v));
		else if (json_is_string(v)) {
			char *end;
			long long n = strtoll(json_string_value(v), &end, 0);

			if (*end || end == json_string_value(v)) {
				snprintf(err, errlen, "'%s' must be a number", key);
				return -EINVAL;
			}
			rules_event_set_num(ev, id, n);
		} else {
			snprintf(err, errlen, "'%s' must be a number", key);
			return -EINVAL;
		}
		return 0;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "'%s' must be a string", key);
		return -EINVAL;
	}
	rules_event_set_strn(ev, id, json_string_value(v), json_string_length(v));
	return 0;
}

int rules_trace_parse_line(const char *line, struct rules_event *ev, void **storage, char *errbuf,
			   size_t errlen)
{
	char dummy[8];
	json_error_t je;
	json_t *root, *t, *fields, *v;
	const char *key;
	int err = -EINVAL;

	if (!errbuf) {
		errbuf = dummy;
		errlen = sizeof(dummy);
	}
	errbuf[0] = '\0';
	*storage = NULL;
	rules_event_reset(ev);
	root = json_loads(line, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(errbuf, errlen, "invalid JSON: %s", je.text);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		snprintf(errbuf, errlen, "an event must be a JSON object");
		goto out;
	}
	t = json_object_get(root, "evt.type");
	if (!json_is_string(t)) {
		snprintf(errbuf, errlen, "'evt.type' is missing or not a string");
		goto out;
	}
	ev->type = (uint16_t)rules_evttype_from_name(json_string_value(t));
	rules_event_set_str(ev, RULES_F_EVT_TYPE, json_string_value(t));
	v = json_object_get(root, "time");
	if (v) {
		unsigned long long ns;

		if (!json_is_string(v) || rules_time_parse(json_string_value(v), &ns)) {
			snprintf(errbuf, errlen, "'time' must be an RFC 3339 time");
			goto out;
		}
		ev->ts_ns = ns;
	} else if ((v = json_object_get(root, "ts"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			snprintf(errbuf, errlen, "'ts' must be a non-negative integer");
			goto out;
		}
		ev->ts_ns = (uint64_t)json_integer_value(v);
	}
	fields = json_object_get(root, "fields");
	if (fields && !json_is_object(fields)) {
		snprintf(errbuf, errlen, "'fields' must be an object");
		goto out;
	}
	json_object_foreach(fields, key, v) {
		if (set_value(ev, key, v, errbuf, errlen))
			goto out;
	}
	rules_event_derive(ev);
	*storage = root;
	return 0;
out:
	json_decref(root);
	return err;
}

int rules_trace_next(struct rules_trace_reader *r, struct rules_event *ev)
{
	for (;;) {
		ssize_t n = getline(&r->line, &r->cap, r->f);
		char *p;
		int err;

		if (n < 0) {
			if (ferror(r->f)) {
				snprintf(r->err, sizeof(r->err), "%s: read error", r->name);
				return -EIO;
			}
			return 0;
		}
		r->lineno++;
		for (p = r->line; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\n' || *p == '\r' || *p == '\0' || *p == '#')
			continue;
		json_decref(r->storage);
		r->storage = NULL;
		{
			char msg[200];

			err = rules_trace_parse_line(p, ev, &r->storage, msg, sizeof(msg));
			if (err) {
				snprintf(r->err, sizeof(r->err), "%s:%lu: %s", r->name, r->lineno,
					 msg);
				return err;
			}
		}
		r->err[0] = '\0';
		return 1;
	}
}

/* ---- writer ---- */

static int put_str(json_t *o, const char *k, const char *s, size_t n)
{
	return s ? json_object_set_new(o, k, json_stringn(s, n)) : 0;
}

int rules_trace_write(FILE *f, const struct rules_event *ev)
{
	json_t *root = json_object(), *fields = json_object();
	char tbuf[40], key[300];
	char *text = NULL;
	int err = -ENOMEM;

	if (!root || !fields)
		goto out;
	json_object_set_new(root, "evt.type", json_string(rules_event_has(ev, RULES_F_EVT_TYPE) ?
								  ev->v[RULES_F_EVT_TYPE].s :
								  rules_evttype_name(ev->type)));
	json_object_set_new(root, "time", json_string(rules_time_format(ev->ts_ns, tbuf,
									 sizeof(tbuf))));
	for (unsigned i = 0; i < RULES_F__COUNT; i++) {
		const struct rules_fieldinfo *fi = rules_field_info(i);

		if (!rules_event_has(ev, i) || i == RULES_F_EVT_TYPE)
			continue;
		if (fi->type == RULES_FT_NUM)
			json_object_set_new(fields, fi->name, json_integer(ev->v[i].n));
		else if (fi->type == RULES_FT_BOOL)
			json_object_set_new(fields, fi->name, json_boolean(ev->v[i].n));
		else
			put_str(fields, fi->name, ev->v[i].s, ev->v[i].len);
	}
	if (ev->nanc) {
		json_t *n = json_array(), *e = json_array(), *p = json_array(), *pid = json_array();
		bool he = false, hp = false;

		for (unsigned i = 0; i < ev->nanc; i++) {
			json_array_append_new(n, ev->anc_name[i] ? json_string(ev->anc_name[i]) :
								   json_null());
			json_array_append_new(e, ev->anc_exe[i] ? json_string(ev->anc_exe[i]) :
								  json_null());
			json_array_append_new(p, ev->anc_exepath[i] ?
							 json_string(ev->anc_exepath[i]) :
							 json_null());
			json_array_append_new(pid, json_integer(ev->anc_pid[i]));
			he |= ev->anc_exe[i] != NULL;
			hp |= ev->anc_exepath[i] != NULL;
		}
		json_object_set_new(fields, "proc.aname", n);
		json_object_set_new(fields, "proc.apid", pid);
		if (he)
			json_object_set_new(fields, "proc.aexe", e);
		else
			json_decref(e);
		if (hp)
			json_object_set_new(fields, "proc.aexepath", p);
		else
			json_decref(p);
	}
	for (unsigned i = 0; i < ev->nargs; i++) {
		if (!ev->args[i].key)
			continue;
		snprintf(key, sizeof(key), "evt.arg.%s", ev->args[i].key);
		if (ev->args[i].val)
			json_object_set_new(fields, key, json_string(ev->args[i].val));
	}
	if (ev->nenv) {
		json_t *a = json_array();

		for (unsigned i = 0; i < ev->nenv; i++)
			if (ev->env[i].val)
				json_array_append_new(a, json_string(ev->env[i].val));
		json_object_set_new(fields, "proc.env", a);
	}
	if (ev->nmounts) {
		json_t *a = json_array();

		for (unsigned i = 0; i < ev->nmounts; i++)
			json_array_append_new(a, json_pack("{s:s?,s:s?}", "source", ev->mounts[i].key,
							   "dest", ev->mounts[i].val));
		json_object_set_new(fields, "container.mounts", a);
	}
	if (ev->ntypes) {
		json_t *a = json_array();

		for (unsigned i = 0; i < ev->ntypes; i++)
			json_array_append_new(a, json_string(ev->types[i] ? ev->types[i] : ""));
		json_object_set_new(fields, "fd.types", a);
	}
	json_object_set(root, "fields", fields);
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		goto out;
	err = fprintf(f, "%s\n", text) < 0 ? -EIO : 0;
out:
	free(text);
	json_decref(fields);
	json_decref(root);
	return err;
}
