/* SPDX-License-Identifier: Apache-2.0 */
/*
 * yaml_load: a rules file parsed by libyaml into documents of nodes that keep their line:column.
 */
#ifndef VIGIL_LIB_RULES_YAML_LOAD_H
#define VIGIL_LIB_RULES_YAML_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "lib/rules/diag.h"

struct rules_yfile {
	const char *name; /* borrowed */
	yaml_document_t *docs;
	size_t ndocs;
};

/* Parses text (len bytes, borrowed) into f. A syntax error is added to d (as name:line:col) and
 * gives -EINVAL; documents before the error are kept. Release with rules_yaml_release. */
int rules_yaml_parse(const char *name, const char *text, size_t len, struct rules_yfile *f,
		     struct rules_diags *d);

/* Frees what rules_yaml_parse allocated; safe on a zeroed or released struct. */
void rules_yaml_release(struct rules_yfile *f);

/* Node by id (NULL when out of range). */
yaml_node_t *rules_yaml_node(yaml_document_t *doc, int id);

/* Scalar text (borrowed, NUL-terminated) or NULL when the node is not a scalar. */
const char *rules_yaml_scalar(const yaml_node_t *n);

/* Value node of key in a mapping node, or NULL. */
yaml_node_t *rules_yaml_map_get(yaml_document_t *doc, const yaml_node_t *map, const char *key);

/* 1-based position of a node. */
static inline int rules_yaml_line(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

static inline int rules_yaml_col(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.column + 1 : 0;
}

/* True for a scalar that YAML would read as null (~, null, empty plain). */
bool rules_yaml_is_null(const yaml_node_t *n);

/* Parses a YAML boolean scalar (true/false/yes/no/on/off, any case). 0 or -EINVAL. */
int rules_yaml_bool(const yaml_node_t *n, bool *out);

#endif
