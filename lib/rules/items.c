/* SPDX-License-Identifier: Apache-2.0 */
/* items: YAML items -> tables, with Falco's override / append / redefinition rules. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/rules/cond_lex.h"
#include "lib/rules/items.h"
#include "lib/rules/rules.h"
#include "lib/rules/version.h"

/* What one YAML item is being read as, for messages. */
struct ctx {
	struct rules_items *it;
	struct rules_yfile *f;
	yaml_document_t *doc;
	yaml_node_t *item;
	const char *kind;
	const char *name;
	int err; /* -ENOMEM once allocation failed */
};

static const char *const rule_keys[] = {"rule",
					"condition",
					"output",
					"desc",
					"priority",
					"source",
					"enabled",
					"tags",
					"exceptions",
					"warn_evttypes",
					"skip-if-unknown-filter",
					"append",
					"override",
					"capture",
					"capture_duration",
					NULL};
static const char *const rule_appendable[] = {"condition", "output",	 "desc",
					      "tags",	   "exceptions", NULL};
static const char *const rule_replaceable[] = {"condition",
					       "output",
					       "desc",
					       "priority",
					       "tags",
					       "exceptions",
					       "enabled",
					       "warn_evttypes",
					       "skip-if-unknown-filter",
					       "capture",
					       "capture_duration",
					       NULL};
static const char *const macro_keys[] = {"macro", "condition", "append", "override", NULL};
static const char *const macro_mod[] = {"condition", NULL};
static const char *const list_keys[] = {"list", "items", "append", "override", NULL};
static const char *const list_mod[] = {"items", NULL};

static bool in_set(const char *const *set, const char *s)
{
	for (; *set; set++)
		if (strcmp(*set, s) == 0)
			return true;
	return false;
}

static void diag(struct ctx *c, const yaml_node_t *at, enum rules_severity sev, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));

static void diag(struct ctx *c, const yaml_node_t *at, enum rules_severity sev, const char *fmt,
		 ...)
{
	char buf[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!at)
		at = c->item;
	if (rules_diags_add(c->it->d, c->f->name, rules_yaml_line(at), rules_yaml_col(at), sev,
			    c->kind, c->name, "%s", buf))
		c->err = -ENOMEM;
}

#define ERR(c, at, ...) diag(c, at, RULES_SEV_ERROR, __VA_ARGS__)
#define WARN(c, at, ...) diag(c, at, RULES_SEV_WARNING, __VA_ARGS__)

void rules_items_init(struct rules_items *it, struct rules_arena *a, struct rules_diags *d)
{
	memset(it, 0, sizeof(*it));
	it->a = a;
	it->d = d;
}

struct rules_list_item *rules_items_list(struct rules_items *it, const char *name)
{
	for (size_t i = 0; i < it->nlists; i++)
		if (strcmp(it->lists[i].name, name) == 0)
			return &it->lists[i];
	return NULL;
}

struct rules_macro_item *rules_items_macro(struct rules_items *it, const char *name)
{
	for (size_t i = 0; i < it->nmacros; i++)
		if (strcmp(it->macros[i].name, name) == 0)
			return &it->macros[i];
	return NULL;
}

struct rules_rule_item *rules_items_rule(struct rules_items *it, const char *name)
{
	for (size_t i = 0; i < it->nrules; i++)
		if (strcmp(it->rules[i].name, name) == 0)
			return &it->rules[i];
	return NULL;
}

struct rules_pos rules_text_pos(const struct rules_text *t, size_t off)
{
	const struct rules_seg *s = NULL;
	struct rules_pos p = {0};

	for (size_t i = 0; i < t->nsegs; i++)
		if (t->segs[i].start <= off)
			s = &t->segs[i];
	if (!s)
		return p;
	p = s->pos;
	if (s->exact)
		p.col += (int)(off - s->start);
	return p;
}

int rules_version_parse(const char *s, unsigned v[3])
{
	char *end;
	unsigned long x;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	x = strtoul(s, &end, 10);
	if (*end == '\0') {
		v[0] = 0;
		v[1] = (unsigned)x;
		v[2] = 0;
		return x > 1000000 ? -EINVAL : 0;
	}
	for (int i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		x = strtoul(s, &end, 10);
		if (x > 1000000)
			return -EINVAL;
		v[i] = (unsigned)x;
		if (i < 2) {
			if (*end != '.')
				return -EINVAL;
			s = end + 1;
		}
	}
	/* allow a pre-release / build suffix */
	if (*end != '\0' && *end != '-' && *end != '+')
		return -EINVAL;
	return 0;
}

static char *dup(struct ctx *c, const char *s)
{
	char *p = rules_arena_strdup(c->it->a, s);

	if (s && !p)
		c->err = -ENOMEM;
	return p;
}

/* Text of a key that must be a string (scalar); NULL with an error otherwise. */
static const char *want_string(struct ctx *c, yaml_node_t *n, const char *key)
{
	const char *s = rules_yaml_scalar(n);

	if (!s) {
		ERR(c, n, "'%s' must be a string", key);
		return NULL;
	}
	return s;
}

static bool text_exact(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->start_mark.line == n->end_mark.line &&
	       (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
		n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

static void text_seg(struct rules_text *t, size_t start, struct ctx *c, const yaml_node_t *n)
{
	struct rules_seg *s;

	if (t->nsegs >= RULES_MAX_SEGS)
		return;
	s = &t->segs[t->nsegs++];
	s->start = start;
	s->pos.file = c->f->name;
	s->pos.line = rules_yaml_line(n);
	s->pos.col = rules_yaml_col(n);
	s->exact = text_exact(n);
	if (s->exact && n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		s->pos.col++;
}

static void text_set(struct ctx *c, struct rules_text *t, const char *s, const yaml_node_t *n)
{
	memset(t, 0, sizeof(*t));
	t->s = dup(c, s);
	text_seg(t, 0, c, n);
}

static void text_append(struct ctx *c, struct rules_text *t, const char *s, const yaml_node_t *n)
{
	size_t old = t->s ? strlen(t->s) : 0;
	char *p;

	if (!t->s || !*t->s) {
		text_set(c, t, s, n);
		return;
	}
	p = rules_arena_printf(c->it->a, "%s %s", t->s, s);
	if (!p) {
		c->err = -ENOMEM;
		return;
	}
	t->s = p;
	text_seg(t, old + 1, c, n);
}

static struct rules_pos pos_of(struct ctx *c, const yaml_node_t *n)
{
	struct rules_pos p = {c->f->name, rules_yaml_line(n), rules_yaml_col(n)};

	return p;
}

/* Strings of a sequence of scalars (or one scalar when allow_scalar). */
static char **string_seq(struct ctx *c, yaml_node_t *n, const char *key, bool allow_scalar,
			 size_t *count, bool *was_list)
{
	char **v;
	size_t i = 0;

	*count = 0;
	if (was_list)
		*was_list = false;
	if (n->type == YAML_SCALAR_NODE && allow_scalar) {
		v = rules_arena_alloc(c->it->a, sizeof(*v));
		if (!v || !(v[0] = dup(c, rules_yaml_scalar(n)))) {
			c->err = -ENOMEM;
			return NULL;
		}
		*count = 1;
		return v;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		ERR(c, n, "'%s' is not a sequence", key);
		return NULL;
	}
	if (was_list)
		*was_list = true;
	v = rules_arena_alloc(c->it->a, sizeof(*v) * (size_t)(n->data.sequence.items.top -
							      n->data.sequence.items.start + 1));
	if (!v) {
		c->err = -ENOMEM;
		return NULL;
	}
	for (yaml_node_item_t *x = n->data.sequence.items.start; x < n->data.sequence.items.top;
	     x++) {
		yaml_node_t *e = rules_yaml_node(c->doc, *x);
		const char *s = rules_yaml_scalar(e);

		if (!s) {
			ERR(c, e, "'%s' must hold only strings", key);
			return NULL;
		}
		v[i++] = dup(c, s);
	}
	*count = i;
	return v;
}

/* Checks override/append shape. Returns 1 for override, 2 for legacy append, 0 for neither, -1 on
 * error (reported). ovr gets the override mapping. */
static int modifiers(struct ctx *c, const char *const *appendable, const char *const *replaceable,
		     const char *namekey, yaml_node_t **ovr)
{
	yaml_node_t *o = rules_yaml_map_get(c->doc, c->item, "override");
	yaml_node_t *ap = rules_yaml_map_get(c->doc, c->item, "append");
	bool append = false;
	int bad = 0;

	*ovr = NULL;
	if (ap && rules_yaml_bool(ap, &append)) {
		ERR(c, ap, "'append' must be true or false");
		return -1;
	}
	if (o && ap) {
		ERR(c, o, "'override' and 'append' can't be used together");
		return -1;
	}
	if (!o)
		return append ? 2 : 0;
	if (o->type != YAML_MAPPING_NODE) {
		ERR(c, o, "'override' must be a mapping of key: append|replace");
		return -1;
	}
	for (yaml_node_pair_t *p = o->data.mapping.pairs.start; p < o->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = rules_yaml_node(c->doc, p->key);
		const char *k = rules_yaml_scalar(kn);
		const char *v = rules_yaml_scalar(rules_yaml_node(c->doc, p->value));

		if (!k || !v) {
			ERR(c, kn, "'override' entries must be key: append|replace");
			bad = 1;
			continue;
		}
		if (strcmp(v, "append") && strcmp(v, "replace")) {
			ERR(c, kn, "override of '%s' must be append or replace, not '%s'", k, v);
			bad = 1;
			continue;
		}
		if (!strcmp(v, "append") && !in_set(appendable, k)) {
			if (in_set(replaceable, k))
				ERR(c, kn, "'%s' can't be appended, only replaced", k);
			else
				ERR(c, kn, "'%s' can't be overridden", k);
			bad = 1;
			continue;
		}
		if (!strcmp(v, "replace") && !in_set(replaceable, k)) {
			ERR(c, kn, "'%s' can't be replaced", k);
			bad = 1;
			continue;
		}
		if (!rules_yaml_map_get(c->doc, c->item, k)) {
			ERR(c, kn, "override names '%s' but the item has no '%s' key", k, k);
			bad = 1;
		}
	}
	/* every other key must be named in override */
	for (yaml_node_pair_t *p = c->item->data.mapping.pairs.start;
	     p < c->item->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = rules_yaml_node(c->doc, p->key);
		const char *k = rules_yaml_scalar(kn);

		if (!k || !strcmp(k, namekey) || !strcmp(k, "override"))
			continue;
		if (!rules_yaml_map_get(c->doc, o, k) &&
		    (in_set(appendable, k) || in_set(replaceable, k))) {
			ERR(c, kn, "'%s' is present but not named in 'override'", k);
			bad = 1;
		}
	}
	*ovr = o;
	return bad ? -1 : 1;
}

static const char *override_mode(struct ctx *c, yaml_node_t *ovr, const char *key)
{
	return rules_yaml_scalar(rules_yaml_map_get(c->doc, ovr, key));
}

static void unknown_keys(struct ctx *c, const char *const *known)
{
	for (yaml_node_pair_t *p = c->item->data.mapping.pairs.start;
	     p < c->item->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = rules_yaml_node(c->doc, p->key);
		const char *k = rules_yaml_scalar(kn);

		if (!k)
			ERR(c, kn, "keys must be strings");
		else if (!in_set(known, k))
			WARN(c, kn, "unknown key '%s'", k);
	}
}

/* ---- lists ---- */

static void list_item(struct ctx *c)
{
	struct rules_items *it = c->it;
	yaml_node_t *items = rules_yaml_map_get(c->doc, c->item, "items");
	struct rules_list_item *l = rules_items_list(it, c->name);
	yaml_node_t *ovr;
	int mod;
	char **v = NULL;
	size_t n = 0;
	bool append;

	unknown_keys(c, list_keys);
	mod = modifiers(c, list_mod, list_mod, "list", &ovr);
	if (mod < 0)
		return;
	if (!items) {
		ERR(c, NULL, "item has no 'items' key");
		return;
	}
	if (!rules_yaml_is_null(items)) {
		v = string_seq(c, items, "items", false, &n, NULL);
		if (!v)
			return;
	}
	append = mod == 2 || (mod == 1 && !strcmp(override_mode(c, ovr, "items"), "append"));
	if (mod == 2)
		WARN(c, rules_yaml_map_get(c->doc, c->item, "append"),
		     "'append: true' is deprecated, use 'override: {items: append}'");
	if (mod && !l) {
		ERR(c, NULL, "list '%s' has '%s' but no list by that name is defined before it",
		    c->name, mod == 1 ? "override" : "append");
		return;
	}
	if (!l) {
		l = rules_arena_push(it->a, (void **)&it->lists, &it->nlists, &it->caplists,
				     sizeof(*l));
		if (!l) {
			c->err = -ENOMEM;
			return;
		}
		l->name = dup(c, c->name);
		l->pos = pos_of(c, c->item);
		l->order = it->order++;
	}
	if (!append) {
		l->items = NULL;
		l->n = l->cap = 0;
	}
	for (size_t i = 0; i < n; i++) {
		char **slot =
		    rules_arena_push(it->a, (void **)&l->items, &l->n, &l->cap, sizeof(*slot));
		if (!slot) {
			c->err = -ENOMEM;
			return;
		}
		*slot = v[i];
	}
}

/* ---- macros ---- */

static void macro_item(struct ctx *c)
{
	struct rules_items *it = c->it;
	yaml_node_t *cn = rules_yaml_map_get(c->doc, c->item, "condition");
	struct rules_macro_item *m = rules_items_macro(it, c->name);
	yaml_node_t *ovr;
	const char *cond;
	int mod;

	unknown_keys(c, macro_keys);
	mod = modifiers(c, macro_mod, macro_mod, "macro", &ovr);
	if (mod < 0)
		return;
	if (!cn) {
		ERR(c, NULL, "item has no 'condition' key");
		return;
	}
	cond = want_string(c, cn, "condition");
	if (!cond)
		return;
	if (mod == 2)
		WARN(c, rules_yaml_map_get(c->doc, c->item, "append"),
		     "'append: true' is deprecated, use 'override: {condition: append}'");
	if (mod && !m) {
		ERR(c, NULL, "macro '%s' has '%s' but no macro by that name is defined before it",
		    c->name, mod == 1 ? "override" : "append");
		return;
	}
	if (mod == 2 || (mod == 1 && !strcmp(override_mode(c, ovr, "condition"), "append"))) {
		text_append(c, &m->cond, cond, cn);
		return;
	}
	if (!m) {
		m = rules_arena_push(it->a, (void **)&it->macros, &it->nmacros, &it->capmacros,
				     sizeof(*m));
		if (!m) {
			c->err = -ENOMEM;
			return;
		}
		m->name = dup(c, c->name);
		m->pos = pos_of(c, c->item);
		m->order = it->order++;
	}
	text_set(c, &m->cond, cond, cn);
}

/* ---- exceptions ---- */

static bool valid_comp(const char *s)
{
	struct rules_clex lx = {.s = s, .len = strlen(s)};
	enum rules_op op;

	return !rules_clex_op(&lx, &op) && op != RULES_OP_EXISTS && rules_clex_eof(&lx);
}

static bool comp_is_list(const char *s)
{
	return !strcmp(s, "in") || !strcmp(s, "intersects") || !strcmp(s, "pmatch");
}

static int exc_value(struct ctx *c, yaml_node_t *n, struct rules_excv *out)
{
	if (n->type == YAML_SCALAR_NODE) {
		out->s = dup(c, rules_yaml_scalar(n));
		return 0;
	}
	out->is_list = true;
	out->list = string_seq(c, n, "values", false, &out->nlist, NULL);
	return out->list || n->data.sequence.items.top == n->data.sequence.items.start ? 0 : -1;
}

static int exc_values(struct ctx *c, struct rules_exc *e, yaml_node_t *vals)
{
	struct rules_items *it = c->it;

	if (rules_yaml_is_null(vals))
		return 0;
	if (vals->type != YAML_SEQUENCE_NODE) {
		ERR(c, vals, "exception '%s': 'values' is not a sequence", e->name);
		return -1;
	}
	if (!e->fields_is_list) {
		/* one field: the values together form the right side of one comparison */
		struct rules_excv *t, **slot;
		size_t n =
		    (size_t)(vals->data.sequence.items.top - vals->data.sequence.items.start);

		if (n == 0)
			return 0;
		t = rules_arena_alloc(it->a, sizeof(*t));
		slot = t ? rules_arena_push(it->a, (void **)&e->tuples, &e->ntuples, &e->cap,
					    sizeof(*slot))
			 : NULL;
		if (!slot) {
			c->err = -ENOMEM;
			return -1;
		}
		*slot = t;
		if (comp_is_list(e->comps[0])) {
			t->is_list = true;
			t->list = string_seq(c, vals, "values", false, &t->nlist, NULL);
			return t->list ? 0 : -1;
		}
		if (n != 1) {
			ERR(c, vals, "exception '%s': comparison '%s' takes one value, got %zu",
			    e->name, e->comps[0], n);
			return -1;
		}
		return exc_value(c, rules_yaml_node(c->doc, vals->data.sequence.items.start[0]), t);
	}
	for (yaml_node_item_t *x = vals->data.sequence.items.start;
	     x < vals->data.sequence.items.top; x++) {
		yaml_node_t *tn = rules_yaml_node(c->doc, *x);
		struct rules_excv *t, **slot;
		size_t n, i = 0;

		if (tn->type != YAML_SEQUENCE_NODE) {
			ERR(c, tn, "exception '%s': each value must be a sequence of %zu item(s)",
			    e->name, e->nfields);
			return -1;
		}
		n = (size_t)(tn->data.sequence.items.top - tn->data.sequence.items.start);
		if (n != e->nfields) {
			ERR(c, tn, "exception '%s': value tuple has %zu item(s) but fields has %zu",
			    e->name, n, e->nfields);
			return -1;
		}
		t = rules_arena_alloc(it->a, sizeof(*t) * (n ? n : 1));
		slot = t ? rules_arena_push(it->a, (void **)&e->tuples, &e->ntuples, &e->cap,
					    sizeof(*slot))
			 : NULL;
		if (!slot) {
			c->err = -ENOMEM;
			return -1;
		}
		*slot = t;
		for (yaml_node_item_t *y = tn->data.sequence.items.start;
		     y < tn->data.sequence.items.top; y++, i++)
			if (exc_value(c, rules_yaml_node(c->doc, *y), &t[i]))
				return -1;
	}
	return 0;
}

/* Reads a sequence of exceptions; with existing (override/append) merges by name. */
static int exceptions(struct ctx *c, struct rules_rule_item *r, yaml_node_t *n, bool merge)
{
	struct rules_items *it = c->it;

	if (rules_yaml_is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE) {
		ERR(c, n, "'exceptions' is not a sequence");
		return -1;
	}
	for (yaml_node_item_t *x = n->data.sequence.items.start; x < n->data.sequence.items.top;
	     x++) {
		yaml_node_t *en = rules_yaml_node(c->doc, *x);
		yaml_node_t *nm = rules_yaml_map_get(c->doc, en, "name");
		yaml_node_t *fl = rules_yaml_map_get(c->doc, en, "fields");
		yaml_node_t *cm = rules_yaml_map_get(c->doc, en, "comps");
		yaml_node_t *vl = rules_yaml_map_get(c->doc, en, "values");
		struct rules_exc *e = NULL;
		const char *name;

		if (en->type != YAML_MAPPING_NODE) {
			ERR(c, en, "each exception must be a mapping");
			return -1;
		}
		name = rules_yaml_scalar(nm);
		if (!name) {
			ERR(c, en, "exception has no 'name'");
			return -1;
		}
		for (size_t i = 0; merge && i < r->nexcs; i++)
			if (!strcmp(r->excs[i].name, name))
				e = &r->excs[i];
		if (e) {
			if (fl || cm) {
				ERR(c, en,
				    "exception '%s' exists already: appending may only add values",
				    name);
				return -1;
			}
			if (vl && exc_values(c, e, vl))
				return -1;
			continue;
		}
		e = rules_arena_push(it->a, (void **)&r->excs, &r->nexcs, &r->excap, sizeof(*e));
		if (!e) {
			c->err = -ENOMEM;
			return -1;
		}
		e->name = dup(c, name);
		e->pos = pos_of(c, en);
		if (!fl) {
			ERR(c, en, "exception '%s' has no 'fields'", name);
			return -1;
		}
		e->fields = string_seq(c, fl, "fields", true, &e->nfields, &e->fields_is_list);
		if (!e->fields)
			return -1;
		if (e->fields_is_list && e->nfields == 0) {
			ERR(c, fl, "exception '%s': 'fields' is empty", name);
			return -1;
		}
		if (cm) {
			bool comps_list;
			size_t nc;
			char **cv = string_seq(c, cm, "comps", true, &nc, &comps_list);

			if (!cv)
				return -1;
			if (comps_list != e->fields_is_list || nc != e->nfields) {
				ERR(c, cm,
				    "exception '%s': fields and comps have different lengths (%zu "
				    "vs %zu)",
				    name, e->nfields, nc);
				return -1;
			}
			for (size_t i = 0; i < nc; i++) {
				if (!valid_comp(cv[i])) {
					ERR(c, cm, "exception '%s': invalid comparison '%s'", name,
					    cv[i]);
					return -1;
				}
			}
			e->comps = cv;
		} else {
			e->comps = rules_arena_alloc(it->a, sizeof(char *) * e->nfields);
			if (!e->comps) {
				c->err = -ENOMEM;
				return -1;
			}
			for (size_t i = 0; i < e->nfields; i++)
				e->comps[i] = e->fields_is_list ? "=" : "in";
		}
		if (vl && exc_values(c, e, vl))
			return -1;
	}
	return 0;
}

/* ---- rules ---- */

static int read_enabled(struct ctx *c, yaml_node_t *n, bool *out)
{
	if (rules_yaml_bool(n, out)) {
		ERR(c, n, "'enabled' must be true or false");
		return -1;
	}
	return 0;
}

static int read_bool(struct ctx *c, yaml_node_t *n, const char *key, bool *out)
{
	if (rules_yaml_bool(n, out)) {
		ERR(c, n, "'%s' must be true or false", key);
		return -1;
	}
	return 0;
}

static int read_priority(struct ctx *c, yaml_node_t *n, int *out)
{
	const char *s = rules_yaml_scalar(n);
	enum rules_priority p;

	if (!s || rules_priority_parse(s, &p)) {
		ERR(c, n,
		    "invalid priority '%s' (Emergency, Alert, Critical, Error, Warning, Notice, "
		    "Informational, Debug)",
		    s ? s : "");
		return -1;
	}
	*out = (int)p;
	return 0;
}

static int read_tags(struct ctx *c, yaml_node_t *n, char ***tags, size_t *ntags, bool append)
{
	size_t n2;
	char **v;

	if (rules_yaml_is_null(n)) {
		if (!append)
			*ntags = 0;
		return 0;
	}
	v = string_seq(c, n, "tags", false, &n2, NULL);
	if (!v)
		return -1;
	if (append && *ntags) {
		char **all = rules_arena_alloc(c->it->a, sizeof(*all) * (*ntags + n2));

		if (!all) {
			c->err = -ENOMEM;
			return -1;
		}
		memcpy(all, *tags, sizeof(*all) * *ntags);
		memcpy(all + *ntags, v, sizeof(*all) * n2);
		*tags = all;
		*ntags += n2;
		return 0;
	}
	*tags = v;
	*ntags = n2;
	return 0;
}

/* Applies one key of a rule item to r, appending or replacing. */
static int rule_key(struct ctx *c, struct rules_rule_item *r, const char *k, yaml_node_t *v,
		    bool append)
{
	const char *s;

	if (!strcmp(k, "condition") || !strcmp(k, "output")) {
		struct rules_text *t = k[0] == 'c' ? &r->cond : &r->output;

		s = want_string(c, v, k);
		if (!s)
			return -1;
		if (append)
			text_append(c, t, s, v);
		else
			text_set(c, t, s, v);
		if (k[0] == 'o')
			r->output_pos = pos_of(c, v);
	} else if (!strcmp(k, "desc")) {
		s = want_string(c, v, k);
		if (!s)
			return -1;
		r->desc = append && r->desc ? rules_arena_printf(c->it->a, "%s %s", r->desc, s)
					    : dup(c, s);
	} else if (!strcmp(k, "priority")) {
		return read_priority(c, v, &r->priority);
	} else if (!strcmp(k, "source")) {
		s = want_string(c, v, k);
		if (!s)
			return -1;
		r->source = dup(c, s);
	} else if (!strcmp(k, "enabled")) {
		return read_enabled(c, v, &r->enabled);
	} else if (!strcmp(k, "tags")) {
		return read_tags(c, v, &r->tags, &r->ntags, append);
	} else if (!strcmp(k, "exceptions")) {
		if (!append)
			r->nexcs = 0;
		return exceptions(c, r, v, append);
	} else if (!strcmp(k, "warn_evttypes")) {
		return read_bool(c, v, k, &r->warn_evttypes);
	} else if (!strcmp(k, "skip-if-unknown-filter")) {
		return read_bool(c, v, k, &r->skip_unknown);
	}
	return 0;
}

static void rule_item(struct ctx *c)
{
	struct rules_items *it = c->it;
	struct rules_rule_item *r = rules_items_rule(it, c->name), fresh;
	yaml_node_t *ovr;
	size_t nkeys =
	    (size_t)(c->item->data.mapping.pairs.top - c->item->data.mapping.pairs.start);
	yaml_node_t *en = rules_yaml_map_get(c->doc, c->item, "enabled");
	int mod;

	unknown_keys(c, rule_keys);
	mod = modifiers(c, rule_appendable, rule_replaceable, "rule", &ovr);
	if (mod < 0)
		return;
	if (mod == 1) {
		if (!r) {
			ERR(c, NULL,
			    "rule '%s' has 'override' but no rule by that name is defined before "
			    "it",
			    c->name);
			return;
		}
		for (yaml_node_pair_t *p = ovr->data.mapping.pairs.start;
		     p < ovr->data.mapping.pairs.top; p++) {
			const char *k = rules_yaml_scalar(rules_yaml_node(c->doc, p->key));
			const char *m = rules_yaml_scalar(rules_yaml_node(c->doc, p->value));

			if (rule_key(c, r, k, rules_yaml_map_get(c->doc, c->item, k),
				     !strcmp(m, "append")))
				return;
		}
		return;
	}
	if (mod == 2) {
		WARN(c, rules_yaml_map_get(c->doc, c->item, "append"),
		     "'append: true' is deprecated, use 'override' with append");
		if (!r) {
			ERR(c, NULL,
			    "rule '%s' has 'append' but no rule by that name is defined before it",
			    c->name);
			return;
		}
		for (yaml_node_pair_t *p = c->item->data.mapping.pairs.start;
		     p < c->item->data.mapping.pairs.top; p++) {
			const char *k = rules_yaml_scalar(rules_yaml_node(c->doc, p->key));
			yaml_node_t *v = rules_yaml_node(c->doc, p->value);

			if (!k || !strcmp(k, "rule") || !strcmp(k, "append"))
				continue;
			if (!in_set(rule_appendable, k)) {
				ERR(c, rules_yaml_node(c->doc, p->key),
				    "'%s' can't be appended, only replaced", k);
				return;
			}
			if (rule_key(c, r, k, v, true))
				return;
		}
		return;
	}
	if (en && nkeys == 2) {
		/* legacy "enabled only" entry: flips an existing rule */
		bool on;

		if (!r) {
			ERR(c, NULL,
			    "rule '%s' has only 'enabled' but no rule by that name is defined "
			    "before it",
			    c->name);
			return;
		}
		if (read_enabled(c, en, &on))
			return;
		WARN(c, en,
		     "an entry with only 'enabled' is deprecated, use 'override: {enabled: "
		     "replace}'");
		r->enabled = on;
		return;
	}
	/* a full definition (or a redefinition, which replaces the earlier one in place) */
	memset(&fresh, 0, sizeof(fresh));
	fresh.name = dup(c, c->name);
	fresh.pos = pos_of(c, c->item);
	fresh.enabled = true;
	fresh.source = "syscall";
	fresh.priority = -1;
	fresh.warn_evttypes = true;
	{
		static const char *const required[] = {"condition", "output", "desc", "priority"};
		bool bad = false;

		for (size_t i = 0; i < 4; i++) {
			if (!rules_yaml_map_get(c->doc, c->item, required[i])) {
				ERR(c, NULL, "item has no '%s' key", required[i]);
				bad = true;
			}
		}
		if (bad)
			return;
	}
	for (yaml_node_pair_t *p = c->item->data.mapping.pairs.start;
	     p < c->item->data.mapping.pairs.top; p++) {
		const char *k = rules_yaml_scalar(rules_yaml_node(c->doc, p->key));

		if (k && rule_key(c, &fresh, k, rules_yaml_node(c->doc, p->value), false))
			return;
	}
	if (r) {
		fresh.order = r->order;
		*r = fresh;
		return;
	}
	r = rules_arena_push(it->a, (void **)&it->rules, &it->nrules, &it->caprules, sizeof(*r));
	if (!r) {
		c->err = -ENOMEM;
		return;
	}
	fresh.order = it->order++;
	*r = fresh;
}

/* ---- top level ---- */

static void engine_version(struct ctx *c, yaml_node_t *v)
{
	const char *s = rules_yaml_scalar(v);
	static const unsigned ours[3] = {RULES_ENGINE_VERSION_MAJOR, RULES_ENGINE_VERSION_MINOR,
					 RULES_ENGINE_VERSION_PATCH};
	unsigned req[3];

	if (!s || rules_version_parse(s, req)) {
		ERR(c, v, "'%s' is not a version (expected an integer N or a semver X.Y.Z)",
		    s ? s : "");
		return;
	}
	for (int i = 0; i < 3; i++) {
		if (req[i] > ours[i]) {
			ERR(c, v, "rules require engine version %u.%u.%u, but this engine is %s",
			    req[0], req[1], req[2], RULES_ENGINE_VERSION);
			return;
		}
		if (req[i] < ours[i])
			break;
	}
	for (int i = 0; i < 3; i++) {
		if (req[i] != c->it->required_version[i]) {
			if (req[i] > c->it->required_version[i])
				memcpy(c->it->required_version, req, sizeof(req));
			break;
		}
	}
}

static void plugin_versions(struct ctx *c, yaml_node_t *v)
{
	if (v->type != YAML_SEQUENCE_NODE) {
		ERR(c, v, "'required_plugin_versions' is not a sequence");
		return;
	}
	for (yaml_node_item_t *x = v->data.sequence.items.start; x < v->data.sequence.items.top;
	     x++) {
		yaml_node_t *e = rules_yaml_node(c->doc, *x);
		const char *name = rules_yaml_scalar(rules_yaml_map_get(c->doc, e, "name"));
		const char *ver = rules_yaml_scalar(rules_yaml_map_get(c->doc, e, "version"));
		struct rules_plugin_req *p;

		if (!name || !ver) {
			ERR(c, e, "each required plugin needs 'name' and 'version'");
			continue;
		}
		p = rules_arena_push(c->it->a, (void **)&c->it->plugins, &c->it->nplugins,
				     &c->it->capplugins, sizeof(*p));
		if (!p) {
			c->err = -ENOMEM;
			return;
		}
		p->name = dup(c, name);
		p->version = dup(c, ver);
	}
}

static void one_item(struct ctx *c)
{
	static const char *const kinds[] = {"rule", "macro", "list", "required_engine_version",
					    "required_plugin_versions"};
	yaml_node_t *v = NULL;
	size_t k;

	c->kind = NULL;
	c->name = NULL;
	if (c->item->type != YAML_MAPPING_NODE) {
		ERR(c, NULL, "each item must be a mapping (rule, macro, list, ...)");
		return;
	}
	for (k = 0; k < 5; k++) {
		v = rules_yaml_map_get(c->doc, c->item, kinds[k]);
		if (v)
			break;
	}
	if (k == 5) {
		ERR(c, NULL,
		    "unknown item: expected one of rule, macro, list, required_engine_version, "
		    "required_plugin_versions");
		return;
	}
	c->kind = kinds[k];
	if (k >= 3) {
		if (k == 3)
			engine_version(c, v);
		else
			plugin_versions(c, v);
		return;
	}
	c->name = rules_yaml_scalar(v);
	if (!c->name || !*c->name) {
		ERR(c, v, "the %s name must be a non-empty string", kinds[k]);
		c->name = NULL;
		return;
	}
	if (k == 0)
		rule_item(c);
	else if (k == 1)
		macro_item(c);
	else
		list_item(c);
}

int rules_items_add_file(struct rules_items *it, struct rules_yfile *f)
{
	struct ctx c = {.it = it, .f = f};

	for (size_t d = 0; d < f->ndocs && !c.err; d++) {
		yaml_node_t *root;

		c.doc = &f->docs[d];
		root = yaml_document_get_root_node(c.doc);
		if (!root || rules_yaml_is_null(root))
			continue;
		if (root->type != YAML_SEQUENCE_NODE) {
			c.item = root;
			ERR(&c, root, "a rules file must be a sequence of items");
			continue;
		}
		for (yaml_node_item_t *x = root->data.sequence.items.start;
		     x < root->data.sequence.items.top && !c.err; x++) {
			c.item = rules_yaml_node(c.doc, *x);
			one_item(&c);
		}
	}
	return c.err;
}
