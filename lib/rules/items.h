/* SPDX-License-Identifier: Apache-2.0 */
/*
 * items: rules-file items (rule, macro, list, required_engine_version, required_plugin_versions)
 * read from YAML into tables, with override / append / redefinition applied in load order.
 * Internal to lib/rules: compile.c reads the tables. Everything lives in the loader's arena.
 */
#ifndef VIGIL_LIB_RULES_ITEMS_H
#define VIGIL_LIB_RULES_ITEMS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/rules/arena.h"
#include "lib/rules/diag.h"
#include "lib/rules/yaml_load.h"

struct rules_pos {
	const char *file;
	int line;
	int col;
};

/* A piece of condition text and where it came from: offsets >= start map to pos. When exact, the
 * text sits on one line at pos (plus quote) so a column inside it can be computed. */
struct rules_seg {
	size_t start;
	struct rules_pos pos;
	bool exact;
};

#define RULES_MAX_SEGS 16

struct rules_text {
	char *s;
	struct rules_seg segs[RULES_MAX_SEGS];
	size_t nsegs;
};

struct rules_list_item {
	char *name;
	char **items;
	size_t n, cap;
	struct rules_pos pos;
	int order;
};

struct rules_macro_item {
	char *name;
	struct rules_text cond;
	struct rules_pos pos;
	int order;
};

/* One element of an exception value tuple: a scalar or a list of scalars. */
struct rules_excv {
	char *s;
	char **list;
	size_t nlist;
	bool is_list;
};

struct rules_exc {
	char *name;
	char **fields;
	size_t nfields;
	bool fields_is_list;
	char **comps;		    /* nfields entries once defaults are applied */
	struct rules_excv **tuples; /* each nfields long (scalar-field form: one element) */
	size_t ntuples, cap;
	struct rules_pos pos;
};

struct rules_rule_item {
	char *name;
	struct rules_text cond;
	struct rules_text output;
	char *desc;
	char *source;
	int priority; /* enum rules_priority */
	bool enabled;
	char **tags;
	size_t ntags;
	struct rules_exc *excs;
	size_t nexcs, excap;
	bool skip_unknown;
	bool warn_evttypes;
	struct rules_pos pos;
	struct rules_pos output_pos;
	int order;
};

struct rules_plugin_req {
	char *name;
	char *version;
};

struct rules_items {
	struct rules_arena *a;
	struct rules_diags *d;
	struct rules_list_item *lists;
	size_t nlists, caplists;
	struct rules_macro_item *macros;
	size_t nmacros, capmacros;
	struct rules_rule_item *rules;
	size_t nrules, caprules;
	struct rules_plugin_req *plugins;
	size_t nplugins, capplugins;
	int order;
	unsigned required_version[3];
};

/* Initialises an empty table set using arena a and diags d (both borrowed). */
void rules_items_init(struct rules_items *it, struct rules_arena *a, struct rules_diags *d);

/* Applies every item of a parsed file in order. Problems go to the diags; returns 0 or -ENOMEM. */
int rules_items_add_file(struct rules_items *it, struct rules_yfile *f);

/* Lookups by name (NULL when absent). */
struct rules_list_item *rules_items_list(struct rules_items *it, const char *name);
struct rules_macro_item *rules_items_macro(struct rules_items *it, const char *name);
struct rules_rule_item *rules_items_rule(struct rules_items *it, const char *name);

/* Position in the file of byte offset off of a condition/output text. */
struct rules_pos rules_text_pos(const struct rules_text *t, size_t off);

/* Parses a version "X.Y.Z" or an integer N (meaning 0.N.0). 0 or -EINVAL. */
int rules_version_parse(const char *s, unsigned v[3]);

#endif
