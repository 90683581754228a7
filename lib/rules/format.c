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
#include "lib/rules/trace.h"

static const char *const prio_names[] = { "Emergency", "Alert",	 "Critical",	  "Error",
					  "Warning",   "Notice", "Informational", "Debug" };
static const char *const prio_upper[] = { "EMERGENCY", "ALERT",	 "CRITICAL",	  "ERROR",
					  "WARNING",   "NOTICE", "INFORMATIONAL", "DEBUG" };

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

struct sb {
	char *s;
	size_t len, cap;
	bool nomem;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->nomem)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (!p) {
			b->nomem = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_json(struct sb *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	sb_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7] = { '\\', 0 };

		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			sb_add(b, esc, 2);
		} else if (c == '\n' || c == '\t' || c == '\r') {
			esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
			sb_add(b, esc, 2);
		} else if (c < 0x20) {
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			sb_add(b, esc, 6);
		} else {
			size_t j = i;

			while (j < n && (unsigned char)s[j] >= 0x20 && s[j] != '"' && s[j] != '\\')
				j++;
			sb_add(b, s + i, j - i);
			i = j - 1;
		}
	}
	sb_add(b, "\"", 1);
}

/* Renders one field reference: returns false when absent. Text goes to out (appended). *num set
 * when the value is a number (JSON number), *boolean for true/false. */
static bool render(const struct rules_fmt_part *p, const struct rules_event *ev, struct sb *out,
		   bool *num, bool *boolean)
{
	struct rules_cx x = { .field = (uint16_t)p->ref.id,
			      .idx = (int16_t)p->ref.idx,
			      .key = p->ref.key,
			      .keylen = p->ref.keylen };
	struct rules_value v[64];
	int n;
	char buf[32];

	*num = *boolean = false;
	if (p->ref.id == RULES_F_CONTAINER_MOUNTS && !rules_event_has(ev, RULES_F_CONTAINER_MOUNTS)) {
		if (!ev->nmounts)
			return false;
		for (unsigned i = 0; i < ev->nmounts; i++) {
			if (i)
				sb_add(out, ",", 1);
			sb_str(out, ev->mounts[i].key ? ev->mounts[i].key : "");
			sb_add(out, ":", 1);
			sb_str(out, ev->mounts[i].val ? ev->mounts[i].val : "");
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
			sb_str(out, v[0].n ? "true" : "false");
			*boolean = true;
		} else {
			snprintf(buf, sizeof(buf), "%" PRId64, v[0].n);
			sb_str(out, buf);
			*num = true;
		}
		return true;
	}
	if (p->ref.id == RULES_F_FD_TYPES && p->ref.idx < 0) {
		sb_add(out, "(", 1);
		for (int i = 0; i < n; i++) {
			if (i)
				sb_add(out, ",", 1);
			sb_add(out, v[i].s, v[i].len);
		}
		sb_add(out, ")", 1);
		return true;
	}
	for (int i = 0; i < n; i++) {
		if (i)
			sb_add(out, " ", 1);
		sb_add(out, v[i].s, v[i].len);
	}
	return true;
}

static int output_text(const struct rules_crule *r, const struct rules_event *ev, struct sb *b)
{
	for (size_t i = 0; i < r->nfmt; i++) {
		const struct rules_fmt_part *p = &r->fmt[i];
		bool num, boolean;

		if (p->kind == RULES_FMT_TEXT)
			sb_add(b, p->s, p->len);
		else if (!render(p, ev, b, &num, &boolean))
			sb_add(b, "<NA>", 4);
	}
	return b->nomem ? -ENOMEM : 0;
}

int rules_set_format_output(const struct rules_set *rs, size_t i, const struct rules_event *ev,
			    char **out)
{
	struct sb b = { 0 };

	*out = NULL;
	if (!rs || i >= rs->nrules)
		return -ERANGE;
	sb_add(&b, "", 0);
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
	struct sb b = { 0 }, text = { 0 }, val = { 0 };
	char tbuf[40];
	bool first = true;

	*out = NULL;
	if (!rs || i >= rs->nrules)
		return -ERANGE;
	r = &rs->rules[i];
	sb_add(&text, "", 0);
	if (output_text(r, ev, &text))
		goto nomem;
	sb_str(&b, "{\"hostname\":");
	sb_json(&b, hostname ? hostname : "", hostname ? strlen(hostname) : 0);
	sb_str(&b, ",\"output\":");
	sb_json(&b, text.s, text.len);
	sb_str(&b, ",\"output_fields\":{");
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
			sb_add(&b, ",", 1);
		first = false;
		sb_json(&b, p->s, p->len);
		sb_add(&b, ":", 1);
		val.len = 0;
		sb_add(&val, "", 0);
		if (!render(p, ev, &val, &num, &boolean))
			sb_str(&b, "null");
		else if (num || boolean)
			sb_add(&b, val.s, val.len);
		else
			sb_json(&b, val.s, val.len);
	}
	sb_str(&b, "},\"priority\":");
	sb_json(&b, rules_priority_name((enum rules_priority)r->priority, true),
		strlen(rules_priority_name((enum rules_priority)r->priority, true)));
	sb_str(&b, ",\"rule\":");
	sb_json(&b, r->name, strlen(r->name));
	sb_str(&b, ",\"source\":");
	sb_json(&b, r->source, strlen(r->source));
	sb_str(&b, ",\"tags\":[");
	for (size_t k = 0; k < r->ntags; k++) {
		if (k)
			sb_add(&b, ",", 1);
		sb_json(&b, r->tags[k], strlen(r->tags[k]));
	}
	sb_str(&b, "],\"time\":");
	rules_time_format(ev->ts_ns, tbuf, sizeof(tbuf));
	sb_json(&b, tbuf, strlen(tbuf));
	sb_str(&b, "}");
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
