/* SPDX-License-Identifier: Apache-2.0 */
/* trace: JSON-lines event traces (docs/trace-format.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/rules/fields.h"
#include "lib/rules/sbuf.h"
#include "lib/rules/tjson.h"
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
	struct tm tm = {0};
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

/* The reader keeps the parsed line alive: the event's strings point into it. */
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
	free(r->storage);
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

#define KIDS(doc, node)                                                                            \
	for (const struct tj_node *k = (node)->child >= 0 ? &(doc)->n[(node)->child] : NULL; k;    \
	     k = k->next >= 0 ? &(doc)->n[k->next] : NULL)

static int set_value(struct rules_event *ev, const struct tj_doc *doc, const char *key,
		     const struct tj_node *v, char *err, size_t errlen)
{
	int id;
	const struct rules_fieldinfo *fi;

	if (v->type == TJ_NULL)
		return 0;
	if (!strncmp(key, "evt.arg.", 8)) {
		if (v->type != TJ_STR) {
			snprintf(err, errlen, "'%s' must be a string", key);
			return -EINVAL;
		}
		if (rules_event_push_arg(ev, key + 8, v->s)) {
			snprintf(err, errlen, "too many arguments");
			return -EINVAL;
		}
		return 0;
	}
	id = rules_field_from_name(key);
	if (id == RULES_F_PROC_ANAME || id == RULES_F_PROC_AEXE || id == RULES_F_PROC_AEXEPATH ||
	    id == RULES_F_PROC_APID) {
		unsigned i = 0;

		if (v->type != TJ_ARR) {
			snprintf(err, errlen, "'%s' must be an array (parent first)", key);
			return -EINVAL;
		}
		KIDS(doc, v)
		{
			if (i >= RULES_EVENT_MAX_ANC)
				break;
			while (ev->nanc <= i)
				rules_event_push_ancestor(ev, NULL, NULL, NULL, 0);
			if (id == RULES_F_PROC_APID)
				ev->anc_pid[i] = k->type == TJ_NUM ? k->i : 0;
			else if (k->type == TJ_STR)
				(id == RULES_F_PROC_ANAME  ? ev->anc_name
				 : id == RULES_F_PROC_AEXE ? ev->anc_exe
							   : ev->anc_exepath)[i] = k->s;
			i++;
		}
		return 0;
	}
	if (id == RULES_F_PROC_ENV && v->type == TJ_ARR) {
		KIDS(doc, v)
		if (k->type == TJ_STR)
			rules_event_push_env(ev, k->s);
		return 0;
	}
	if (id == RULES_F_CONTAINER_MOUNTS && v->type == TJ_ARR) {
		KIDS(doc, v)
		{
			const struct tj_node *src = tj_get(doc, k, "source"),
					     *dst = tj_get(doc, k, "dest");

			rules_event_push_mount(ev, src && src->type == TJ_STR ? src->s : NULL,
					       dst && dst->type == TJ_STR ? dst->s : NULL);
		}
		return 0;
	}
	if (id == RULES_F_FD_TYPES && v->type == TJ_ARR) {
		KIDS(doc, v)
		if (k->type == TJ_STR && ev->ntypes < RULES_EVENT_MAX_LIST)
			ev->types[ev->ntypes++] = k->s;
		return 0;
	}
	if (id < 0) {
		snprintf(err, errlen, "unknown field '%s'", key);
		return -EINVAL;
	}
	fi = rules_field_info((unsigned)id);
	if (fi->type == RULES_FT_NUM || fi->type == RULES_FT_BOOL) {
		if ((v->type == TJ_NUM && v->is_int) || v->type == TJ_BOOL) {
			rules_event_set_num(ev, id, v->i);
		} else if (v->type == TJ_STR) {
			char *end;
			long long n = strtoll(v->s, &end, 0);

			if (*end || end == v->s) {
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
	if (v->type != TJ_STR) {
		snprintf(err, errlen, "'%s' must be a string", key);
		return -EINVAL;
	}
	rules_event_set_strn(ev, id, v->s, v->len);
	return 0;
}

int rules_trace_parse_line(const char *line, struct rules_event *ev, void **storage, char *errbuf,
			   size_t errlen)
{
	char dummy[8];
	struct tj_doc doc;
	const struct tj_node *root, *t, *fields, *v;
	int err;

	if (!errbuf) {
		errbuf = dummy;
		errlen = sizeof(dummy);
	}
	errbuf[0] = '\0';
	*storage = NULL;
	rules_event_reset(ev);
	err = tj_parse(line, strcspn(line, "\n"), &doc, errbuf, errlen);
	if (err)
		return err;
	err = -EINVAL;
	root = &doc.n[0];
	if (root->type != TJ_OBJ) {
		snprintf(errbuf, errlen, "an event must be a JSON object");
		goto out;
	}
	t = tj_get(&doc, root, "evt.type");
	if (!t || t->type != TJ_STR) {
		snprintf(errbuf, errlen, "'evt.type' is missing or not a string");
		goto out;
	}
	ev->type = (uint16_t)rules_evttype_from_name(t->s);
	rules_event_set_strn(ev, RULES_F_EVT_TYPE, t->s, t->len);
	if ((v = tj_get(&doc, root, "time"))) {
		unsigned long long ns;

		if (v->type != TJ_STR || rules_time_parse(v->s, &ns)) {
			snprintf(errbuf, errlen, "'time' must be an RFC 3339 time");
			goto out;
		}
		ev->ts_ns = ns;
	} else if ((v = tj_get(&doc, root, "ts"))) {
		if (v->type != TJ_NUM || !v->is_int || v->i < 0) {
			snprintf(errbuf, errlen, "'ts' must be a non-negative integer");
			goto out;
		}
		ev->ts_ns = (uint64_t)v->i;
	}
	fields = tj_get(&doc, root, "fields");
	if (fields && fields->type != TJ_OBJ) {
		snprintf(errbuf, errlen, "'fields' must be an object");
		goto out;
	}
	if (fields) {
		KIDS(&doc, fields)
		{
			/* the event's type is the top-level "evt.type" only: a second one in fields
			 * would silently disagree with the indexed type (found by fuzz_trace_line) */
			if (strcmp(k->key, "evt.type") == 0) {
				snprintf(errbuf, errlen,
					 "'fields' must not hold 'evt.type' (it is the top-level key)");
				goto out;
			}
			if (set_value(ev, &doc, k->key, k, errbuf, errlen))
				goto out;
		}
	}
	rules_event_derive(ev);
	*storage = doc.mem;
	return 0;
out:
	tj_free(&doc);
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
		free(r->storage);
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

static void key(struct rules_sbuf *b, bool *first, const char *k)
{
	if (!*first)
		rules_sbuf_add(b, ",", 1);
	*first = false;
	rules_sbuf_json(b, k, strlen(k));
	rules_sbuf_add(b, ":", 1);
}

static void str_or_null(struct rules_sbuf *b, const char *s)
{
	if (s)
		rules_sbuf_json(b, s, strlen(s));
	else
		rules_sbuf_str(b, "null");
}

int rules_trace_write(FILE *f, const struct rules_event *ev)
{
	struct rules_sbuf b = {0};
	char tbuf[40], kbuf[300];
	bool first = true;
	int err = 0;

	rules_sbuf_str(&b, "{\"evt.type\":");
	if (rules_event_has(ev, RULES_F_EVT_TYPE))
		rules_sbuf_json(&b, ev->v[RULES_F_EVT_TYPE].s, ev->v[RULES_F_EVT_TYPE].len);
	else
		str_or_null(&b, rules_evttype_name(ev->type));
	rules_sbuf_str(&b, ",\"time\":");
	rules_time_format(ev->ts_ns, tbuf, sizeof(tbuf));
	rules_sbuf_json(&b, tbuf, strlen(tbuf));
	rules_sbuf_str(&b, ",\"fields\":{");
	for (unsigned i = 0; i < RULES_F__COUNT; i++) {
		const struct rules_fieldinfo *fi = rules_field_info(i);

		if (!rules_event_has(ev, i) || i == RULES_F_EVT_TYPE)
			continue;
		if ((fi->type != RULES_FT_NUM && fi->type != RULES_FT_BOOL) && !ev->v[i].s)
			continue;
		key(&b, &first, fi->name);
		if (fi->type == RULES_FT_NUM)
			rules_sbuf_printf(&b, "%" PRId64, ev->v[i].n);
		else if (fi->type == RULES_FT_BOOL)
			rules_sbuf_str(&b, ev->v[i].n ? "true" : "false");
		else
			rules_sbuf_json(&b, ev->v[i].s, ev->v[i].len);
	}
	if (ev->nanc) {
		static const char *const names[] = {"proc.aname", "proc.aexe", "proc.aexepath"};

		for (unsigned w = 0; w < 3; w++) {
			const char *const *arr = w == 0	  ? ev->anc_name
						 : w == 1 ? ev->anc_exe
							  : ev->anc_exepath;
			bool any = false;

			for (unsigned i = 0; i < ev->nanc; i++)
				any = any || arr[i];
			if (!any)
				continue;
			key(&b, &first, names[w]);
			rules_sbuf_add(&b, "[", 1);
			for (unsigned i = 0; i < ev->nanc; i++) {
				if (i)
					rules_sbuf_add(&b, ",", 1);
				str_or_null(&b, arr[i]);
			}
			rules_sbuf_add(&b, "]", 1);
		}
		key(&b, &first, "proc.apid");
		rules_sbuf_add(&b, "[", 1);
		for (unsigned i = 0; i < ev->nanc; i++)
			rules_sbuf_printf(&b, "%s%" PRId64, i ? "," : "", ev->anc_pid[i]);
		rules_sbuf_add(&b, "]", 1);
	}
	for (unsigned i = 0; i < ev->nargs; i++) {
		if (!ev->args[i].key || !ev->args[i].val)
			continue;
		snprintf(kbuf, sizeof(kbuf), "evt.arg.%s", ev->args[i].key);
		key(&b, &first, kbuf);
		rules_sbuf_json(&b, ev->args[i].val, ev->args[i].vlen);
	}
	if (ev->nenv) {
		key(&b, &first, "proc.env");
		rules_sbuf_add(&b, "[", 1);
		for (unsigned i = 0; i < ev->nenv; i++) {
			if (i)
				rules_sbuf_add(&b, ",", 1);
			str_or_null(&b, ev->env[i].val);
		}
		rules_sbuf_add(&b, "]", 1);
	}
	if (ev->nmounts) {
		key(&b, &first, "container.mounts");
		rules_sbuf_add(&b, "[", 1);
		for (unsigned i = 0; i < ev->nmounts; i++) {
			rules_sbuf_str(&b, i ? ",{\"source\":" : "{\"source\":");
			str_or_null(&b, ev->mounts[i].key);
			rules_sbuf_str(&b, ",\"dest\":");
			str_or_null(&b, ev->mounts[i].val);
			rules_sbuf_add(&b, "}", 1);
		}
		rules_sbuf_add(&b, "]", 1);
	}
	if (ev->ntypes) {
		key(&b, &first, "fd.types");
		rules_sbuf_add(&b, "[", 1);
		for (unsigned i = 0; i < ev->ntypes; i++) {
			if (i)
				rules_sbuf_add(&b, ",", 1);
			str_or_null(&b, ev->types[i]);
		}
		rules_sbuf_add(&b, "]", 1);
	}
	rules_sbuf_str(&b, "}}\n");
	if (b.nomem)
		err = -ENOMEM;
	else if (fwrite(b.s, 1, b.len, f) != b.len)
		err = -EIO;
	free(b.s);
	return err;
}
