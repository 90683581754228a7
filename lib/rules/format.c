/* SPDX-License-Identifier: Apache-2.0 */
/* format: output interpolation and the one-line JSON alert. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/rules/compile.h"
#include "lib/rules/rules.h"
#include "lib/rules/sbuf.h"
#include "lib/rules/trace.h"

static const char *const prio_names[] = {"Emergency", "Alert",	"Critical",	 "Error",
					 "Warning",   "Notice", "Informational", "Debug"};
static const char *const prio_upper[] = {"EMERGENCY", "ALERT",	"CRITICAL",	 "ERROR",
					 "WARNING",   "NOTICE", "INFORMATIONAL", "DEBUG"};

const char *rules_priority_name(enum rules_priority p, bool upper)
{
	if ((unsigned)p > RULES_PRIO_DEBUG)
		return upper ? "UNKNOWN" : "Unknown";
	return upper ? prio_upper[p] : prio_names[p];
}

int rules_priority_parse(const char *s, enum rules_priority *out)
{
	if (!s)
		return -EINVAL;
	for (unsigned i = 0; i <= RULES_PRIO_DEBUG; i++) {
		if (!strcasecmp(s, prio_names[i])) {
			*out = (enum rules_priority)i;
			return 0;
		}
	}
	if (!strcasecmp(s, "info")) {
		*out = RULES_PRIO_INFORMATIONAL;
		return 0;
	}
	return -EINVAL;
}

/* Renders one field reference: returns false when absent. Text goes to out (appended). *num set
 * when the value is a number (JSON number), *boolean for true/false. */
static bool render(const struct rules_fmt_part *p, const struct rules_event *ev,
		   struct rules_sbuf *out, bool *num, bool *boolean)
{
	struct rules_cx x = {.field = (uint16_t)p->ref.id,
			     .idx = (int16_t)p->ref.idx,
			     .key = p->ref.key,
			     .keylen = p->ref.keylen};
	struct rules_value v[64];
	int n;
	char buf[32];

	*num = *boolean = false;
	if (p->ref.id == RULES_F_CONTAINER_MOUNTS &&
	    !rules_event_has(ev, RULES_F_CONTAINER_MOUNTS)) {
		if (!ev->nmounts)
			return false;
		for (unsigned i = 0; i < ev->nmounts; i++) {
			if (i)
				rules_sbuf_add(out, ",", 1);
			rules_sbuf_str(out, ev->mounts[i].key ? ev->mounts[i].key : "");
			rules_sbuf_add(out, ":", 1);
			rules_sbuf_str(out, ev->mounts[i].val ? ev->mounts[i].val : "");
		}
		return true;
	}
	/* without an index, proc.aname & co. print the parent */
	if ((p->ref.id == RULES_F_PROC_ANAME || p->ref.id == RULES_F_PROC_AEXE ||
	     p->ref.id == RULES_F_PROC_AEXEPATH || p->ref.id == RULES_F_PROC_APID) &&
	    p->ref.idx < 0)
		x.idx = 1;
	/* fd.ip & co. print the server side */
	if (p->ref.id == RULES_F_FD_IP || p->ref.id == RULES_F_FD_NET ||
	    p->ref.id == RULES_F_FD_PORT) {
		if (!rules_event_has(ev, p->ref.id))
			return false;
		v[0] = ev->v[p->ref.id];
		n = 1;
	} else {
		n = rules_eval_values(&x, ev, v);
	}
	if (n <= 0)
		return false;
	if (p->ref.id == RULES_F_PROC_APID || p->ftype == RULES_FT_NUM ||
	    p->ftype == RULES_FT_BOOL) {
		if (p->ftype == RULES_FT_BOOL) {
			rules_sbuf_str(out, v[0].n ? "true" : "false");
			*boolean = true;
		} else {
			snprintf(buf, sizeof(buf), "%" PRId64, v[0].n);
			rules_sbuf_str(out, buf);
			*num = true;
		}
		return true;
	}
	if (p->ref.id == RULES_F_FD_TYPES && p->ref.idx < 0) {
		rules_sbuf_add(out, "(", 1);
		for (int i = 0; i < n; i++) {
			if (i)
				rules_sbuf_add(out, ",", 1);
			rules_sbuf_add(out, v[i].s, v[i].len);
		}
		rules_sbuf_add(out, ")", 1);
		return true;
	}
	for (int i = 0; i < n; i++) {
		if (i)
			rules_sbuf_add(out, " ", 1);
		rules_sbuf_add(out, v[i].s, v[i].len);
	}
	return true;
}

static int output_text(const struct rules_crule *r, const struct rules_event *ev,
		       struct rules_sbuf *b)
{
	for (size_t i = 0; i < r->nfmt; i++) {
		const struct rules_fmt_part *p = &r->fmt[i];
		bool num, boolean;

		if (p->kind == RULES_FMT_TEXT)
			rules_sbuf_add(b, p->s, p->len);
		else if (!render(p, ev, b, &num, &boolean))
			rules_sbuf_add(b, "<NA>", 4);
	}
	return b->nomem ? -ENOMEM : 0;
}

int rules_set_format_output(const struct rules_set *rs, size_t i, const struct rules_event *ev,
			    char **out)
{
	struct rules_sbuf b = {0};

	*out = NULL;
	if (!rs || i >= rs->nrules)
		return -ERANGE;
	rules_sbuf_add(&b, "", 0);
	if (output_text(&rs->rules[i], ev, &b)) {
		free(b.s);
		return -ENOMEM;
	}
	*out = b.s;
	return 0;
}

int rules_set_format_alert(const struct rules_set *rs, size_t i, const struct rules_event *ev,
			   const char *hostname, char **out)
{
	const struct rules_crule *r;
	struct rules_sbuf b = {0}, text = {0}, val = {0};
	char tbuf[40];
	bool first = true;

	*out = NULL;
	if (!rs || i >= rs->nrules)
		return -ERANGE;
	r = &rs->rules[i];
	rules_sbuf_add(&text, "", 0);
	if (output_text(r, ev, &text))
		goto nomem;
	rules_sbuf_str(&b, "{\"hostname\":");
	rules_sbuf_json(&b, hostname ? hostname : "", hostname ? strlen(hostname) : 0);
	rules_sbuf_str(&b, ",\"output\":");
	rules_sbuf_json(&b, text.s, text.len);
	rules_sbuf_str(&b, ",\"output_fields\":{");
	for (size_t k = 0; k < r->nfmt; k++) {
		const struct rules_fmt_part *p = &r->fmt[k];
		bool dup = false, num, boolean;

		if (p->kind != RULES_FMT_FIELD)
			continue;
		for (size_t j = 0; j < k && !dup; j++)
			dup = r->fmt[j].kind == RULES_FMT_FIELD && r->fmt[j].len == p->len &&
			      !memcmp(r->fmt[j].s, p->s, p->len);
		if (dup)
			continue;
		if (!first)
			rules_sbuf_add(&b, ",", 1);
		first = false;
		rules_sbuf_json(&b, p->s, p->len);
		rules_sbuf_add(&b, ":", 1);
		val.len = 0;
		rules_sbuf_add(&val, "", 0);
		if (!render(p, ev, &val, &num, &boolean))
			rules_sbuf_str(&b, "null");
		else if (num || boolean)
			rules_sbuf_add(&b, val.s, val.len);
		else
			rules_sbuf_json(&b, val.s, val.len);
	}
	rules_sbuf_str(&b, "},\"priority\":");
	rules_sbuf_json(&b, rules_priority_name((enum rules_priority)r->priority, true),
			strlen(rules_priority_name((enum rules_priority)r->priority, true)));
	rules_sbuf_str(&b, ",\"rule\":");
	rules_sbuf_json(&b, r->name, strlen(r->name));
	rules_sbuf_str(&b, ",\"source\":");
	rules_sbuf_json(&b, r->source, strlen(r->source));
	rules_sbuf_str(&b, ",\"tags\":[");
	for (size_t k = 0; k < r->ntags; k++) {
		if (k)
			rules_sbuf_add(&b, ",", 1);
		rules_sbuf_json(&b, r->tags[k], strlen(r->tags[k]));
	}
	rules_sbuf_str(&b, "],\"time\":");
	rules_time_format(ev->ts_ns, tbuf, sizeof(tbuf));
	rules_sbuf_json(&b, tbuf, strlen(tbuf));
	rules_sbuf_str(&b, "}");
	if (b.nomem || text.nomem || val.nomem)
		goto nomem;
	free(text.s);
	free(val.s);
	*out = b.s;
	return 0;
nomem:
	free(b.s);
	free(text.s);
	free(val.s);
	return -ENOMEM;
}
