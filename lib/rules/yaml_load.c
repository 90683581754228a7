/* SPDX-License-Identifier: Apache-2.0 */
/* yaml_load: libyaml document loading with positions kept. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/rules/yaml_load.h"

int rules_yaml_parse(const char *name, const char *text, size_t len, struct rules_yfile *f,
		     struct rules_diags *d)
{
	yaml_parser_t p;
	int err = 0;

	memset(f, 0, sizeof(*f));
	f->name = name;
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	for (;;) {
		yaml_document_t doc;
		yaml_document_t *nd;

		if (!yaml_parser_load(&p, &doc)) {
			rules_diags_add(d, name, (int)p.problem_mark.line + 1,
					(int)p.problem_mark.column + 1, RULES_SEV_ERROR, NULL, NULL,
					"invalid YAML: %s%s%s",
					p.problem ? p.problem : "syntax error",
					p.context ? " " : "", p.context ? p.context : "");
			err = -EINVAL;
			break;
		}
		if (!yaml_document_get_root_node(&doc)) {
			yaml_document_delete(&doc);
			break;
		}
		nd = realloc(f->docs, (f->ndocs + 1) * sizeof(*nd));
		if (!nd) {
			yaml_document_delete(&doc);
			err = -ENOMEM;
			break;
		}
		f->docs = nd;
		f->docs[f->ndocs++] = doc;
	}
	yaml_parser_delete(&p);
	return err;
}

void rules_yaml_release(struct rules_yfile *f)
{
	for (size_t i = 0; i < f->ndocs; i++)
		yaml_document_delete(&f->docs[i]);
	free(f->docs);
	f->docs = NULL;
	f->ndocs = 0;
}

yaml_node_t *rules_yaml_node(yaml_document_t *doc, int id)
{
	return yaml_document_get_node(doc, id);
}

const char *rules_yaml_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

yaml_node_t *rules_yaml_map_get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *pr;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		const char *k = rules_yaml_scalar(yaml_document_get_node(doc, pr->key));

		if (k && strcmp(k, key) == 0)
			return yaml_document_get_node(doc, pr->value);
	}
	return NULL;
}

bool rules_yaml_is_null(const yaml_node_t *n)
{
	const char *s = rules_yaml_scalar(n);

	if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*s || strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0;
}

int rules_yaml_bool(const yaml_node_t *n, bool *out)
{
	static const char *const t[] = {"true", "yes", "on"}, *const f[] = {"false", "no", "off"};
	const char *s = rules_yaml_scalar(n);

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, t[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, f[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}
