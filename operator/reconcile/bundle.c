/* SPDX-License-Identifier: Apache-2.0 */
#include "operator/reconcile/bundle.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pick {
	const char *ns, *name, *text;
	int order;
	int64_t generation;
};

static int pick_cmp(const void *a, const void *b)
{
	const struct pick *x = a, *y = b;
	int c;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->ns, y->ns);
}

int bundle_assemble(const struct bundle_entry *e, size_t n, const json_t *prev_data,
		    const json_t *prev_sources, json_t **files, json_t **sources)
{
	struct pick *p = calloc(n ? n : 1, sizeof(*p));
	size_t np = 0, total = 0;
	json_t *f = json_object(), *s = json_object();
	int rc;

	*files = NULL;
	*sources = NULL;
	if (!p || !f || !s) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct pick *k = &p[np];

		k->ns = e[i].ns;
		k->name = e[i].name;
		if (e[i].valid && e[i].rules) {
			k->text = e[i].rules;
			k->order = e[i].order;
			k->generation = e[i].generation;
		} else {
			/* last good version, if the previous bundle had one */
			char id[512];
			json_t *src;
			const char *key, *text;

			snprintf(id, sizeof(id), "%s/%s", e[i].ns, e[i].name);
			src = json_object_get(prev_sources, id);
			key = json_string_value(json_object_get(src, "key"));
			text = key ? json_string_value(json_object_get(prev_data, key)) : NULL;
			if (!text)
				continue;
			k->text = text;
			k->order = (int)json_integer_value(json_object_get(src, "order"));
			k->generation = json_integer_value(json_object_get(src, "generation"));
		}
		total += strlen(k->text);
		np++;
	}
	if (total > BUNDLE_MAX_BYTES) {
		rc = -E2BIG;
		goto out;
	}
	qsort(p, np, sizeof(*p), pick_cmp);
	for (size_t i = 0; i < np; i++) {
		char key[600], id[512];

		snprintf(key, sizeof(key), "%04zu-%s-%s.yaml", i, p[i].ns, p[i].name);
		snprintf(id, sizeof(id), "%s/%s", p[i].ns, p[i].name);
		if (json_object_set_new(f, key, json_string(p[i].text)) ||
		    json_object_set_new(s, id,
					json_pack("{s:s, s:i, s:I}", "key", key, "order",
						  p[i].order, "generation",
						  (json_int_t)p[i].generation))) {
			rc = -ENOMEM;
			goto out;
		}
	}
	*files = f;
	*sources = s;
	f = s = NULL;
	rc = (int)np;
out:
	json_decref(f);
	json_decref(s);
	free(p);
	return rc;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *bundle_sorted_keys(const json_t *files)
{
	size_t n = json_object_size(files), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	json_t *arr = json_array(), *v;
	const char *k;

	if (!keys || !arr) {
		free(keys);
		json_decref(arr);
		return NULL;
	}
	json_object_foreach((json_t *)files, k, v)
	{
		keys[i++] = k;
	}
	qsort(keys, n, sizeof(*keys), str_cmp);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_string(keys[i]));
	free(keys);
	return arr;
}

int bundle_hash(const json_t *files, char out[65])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	json_t *keys = bundle_sorted_keys(files), *k;
	unsigned char md[32];
	unsigned int mdlen = 0;
	size_t i;

	if (!ctx || !keys) {
		EVP_MD_CTX_free(ctx);
		json_decref(keys);
		return -ENOMEM;
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	json_array_foreach(keys, i, k)
	{
		const char *key = json_string_value(k);
		json_t *v = json_object_get(files, key);
		char len[32];

		if (!json_is_string(v))
			continue;
		snprintf(len, sizeof(len), "%zu", json_string_length(v));
		EVP_DigestUpdate(ctx, key, strlen(key) + 1);
		EVP_DigestUpdate(ctx, len, strlen(len) + 1);
		EVP_DigestUpdate(ctx, json_string_value(v), json_string_length(v));
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	for (unsigned j = 0; j < mdlen; j++)
		sprintf(out + 2 * j, "%02x", md[j]);
	out[64] = '\0';
	EVP_MD_CTX_free(ctx);
	json_decref(keys);
	return 0;
}
