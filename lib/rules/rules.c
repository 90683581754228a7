/* SPDX-License-Identifier: Apache-2.0 */
/* rules: loading (files, buffers, directories), the content hash and rule accessors. */
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/rules/compile.h"
#include "lib/rules/diag.h"
#include "lib/rules/items.h"
#include "lib/rules/rules.h"
#include "lib/rules/yaml_load.h"

void rules_set_free(struct rules_set *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nregexes; i++) {
		regfree(rs->regexes[i]);
		free(rs->regexes[i]);
	}
	rules_arena_free(rs->a);
	free(rs);
}

static void hash_inputs(const struct rules_input *in, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	out[0] = '\0';
	if (!ctx)
		return;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; i < n; i++) {
		char len[32];
		const char *name = in[i].name ? in[i].name : "";
		const char *slash = strrchr(name, '/');

		/* Inputs are named by their file name only, so the same files hash the same wherever
		 * they are mounted (the operator's bundle.sha256 is this formula over its keys). */
		if (slash)
			name = slash + 1;
		snprintf(len, sizeof(len), "%zu", in[i].len);
		EVP_DigestUpdate(ctx, name, strlen(name) + 1);
		EVP_DigestUpdate(ctx, len, strlen(len) + 1);
		EVP_DigestUpdate(ctx, in[i].text, in[i].len);
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int rules_load_buffers(const struct rules_input *in, size_t n, struct rules_set **out,
		       struct rules_diags **diags)
{
	struct rules_diags *d = rules_diags_new();
	struct rules_arena *a = rules_arena_new();
	struct rules_yfile *files = calloc(n ? n : 1, sizeof(*files));
	struct rules_set *rs = NULL;
	struct rules_items it;
	int err = -ENOMEM;

	*out = NULL;
	if (diags)
		*diags = NULL;
	if (!d || !a || !files)
		goto out;
	rules_items_init(&it, a, d);
	for (size_t i = 0; i < n; i++) {
		err = rules_yaml_parse(in[i].name, in[i].text, in[i].len, &files[i], d);
		if (err == -ENOMEM)
			goto out;
		err = rules_items_add_file(&it, &files[i]);
		if (err)
			goto out;
	}
	err = rules_compile(&it, d, &rs);
	if (err)
		goto out;
	hash_inputs(in, n, rs->hash);
	{
		const char **names = calloc(n ? n : 1, sizeof(*names));

		if (!names) {
			err = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			names[i] = in[i].name;
		rules_diags_sort(d, names, n);
		free(names);
	}
	if (rules_diags_errors(d)) {
		err = -EINVAL;
		goto out;
	}
	*out = rs;
	rs = NULL;
	err = 0;
out:
	for (size_t i = 0; files && i < n; i++)
		rules_yaml_release(&files[i]);
	free(files);
	rules_arena_free(a);
	rules_set_free(rs);
	if (diags)
		*diags = d;
	else
		rules_diags_free(d);
	return err;
}

static int read_file(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int err = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t got;

		if (n + 4096 + 1 > cap) {
			char *p;

			cap = cap ? cap * 2 : 65536;
			p = realloc(buf, cap);
			if (!p) {
				err = -ENOMEM;
				goto out;
			}
			buf = p;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				err = -EIO;
			break;
		}
	}
out:
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

int rules_load_files(const char *const *paths, size_t n, struct rules_set **out,
		     struct rules_diags **diags)
{
	struct rules_input *in = calloc(n ? n : 1, sizeof(*in));
	int err = 0;

	*out = NULL;
	if (diags)
		*diags = NULL;
	if (!in)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char *text = NULL;
		size_t len = 0;

		err = read_file(paths[i], &text, &len);
		if (err) {
			struct rules_diags *d = rules_diags_new();

			rules_diags_add(d, paths[i], 0, 0, RULES_SEV_ERROR, NULL, NULL,
					"can't read the file: %s", strerror(-err));
			if (diags)
				*diags = d;
			else
				rules_diags_free(d);
			err = err == -ENOMEM ? err : err == -ENOENT ? -ENOENT : -EIO;
			goto out;
		}
		in[i].name = paths[i];
		in[i].text = text;
		in[i].len = len;
	}
	err = rules_load_buffers(in, n, out, diags);
out:
	for (size_t i = 0; i < n; i++)
		free((char *)in[i].text);
	free(in);
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool yaml_name(const char *s)
{
	size_t n = strlen(s);

	return (n > 5 && !strcmp(s + n - 5, ".yaml")) || (n > 4 && !strcmp(s + n - 4, ".yml"));
}

static int push_path(char ***v, size_t *n, size_t *cap, char *p)
{
	if (!p)
		return -ENOMEM;
	if (*n + 2 > *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		char **nv = realloc(*v, nc * sizeof(**v));

		if (!nv) {
			free(p);
			return -ENOMEM;
		}
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = p;
	(*v)[*n] = NULL;
	return 0;
}

int rules_paths_expand(const char *const *paths, size_t n, char ***out_paths, size_t *out_n)
{
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	int err = 0;

	*out_paths = NULL;
	*out_n = 0;
	for (size_t i = 0; i < n && !err; i++) {
		struct stat st;

		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *dir = opendir(paths[i]);
			struct dirent *de;
			size_t first = cnt;

			if (!dir) {
				err = -errno;
				break;
			}
			while (!err && (de = readdir(dir))) {
				char *p;

				if (de->d_name[0] == '.' || !yaml_name(de->d_name))
					continue;
				if (asprintf(&p, "%s/%s", paths[i], de->d_name) < 0)
					p = NULL;
				err = push_path(&v, &cnt, &cap, p);
			}
			closedir(dir);
			if (cnt > first)
				qsort(v + first, cnt - first, sizeof(*v), cmp_str);
		} else {
			err = push_path(&v, &cnt, &cap, strdup(paths[i]));
		}
	}
	if (err) {
		rules_paths_free(v);
		return err;
	}
	if (!v && push_path(&v, &cnt, &cap, strdup("")) == 0) {
		free(v[0]);
		v[0] = NULL;
		cnt = 0;
	}
	*out_paths = v;
	*out_n = cnt;
	return v ? 0 : -ENOMEM;
}

void rules_paths_free(char **paths)
{
	for (size_t i = 0; paths && paths[i]; i++)
		free(paths[i]);
	free(paths);
}

size_t rules_set_count(const struct rules_set *rs)
{
	return rs ? rs->nrules : 0;
}

size_t rules_set_count_active(const struct rules_set *rs)
{
	return rs ? rs->nactive : 0;
}

const char *rules_set_hash(const struct rules_set *rs)
{
	return rs ? rs->hash : "";
}

int rules_set_rule_info(const struct rules_set *rs, size_t i, struct rules_info *out)
{
	const struct rules_crule *r;

	if (!rs || i >= rs->nrules)
		return -ERANGE;
	r = &rs->rules[i];
	out->name = r->name;
	out->desc = r->desc;
	out->condition = r->condition;
	out->output = r->output;
	out->source = r->source;
	out->priority = (enum rules_priority)r->priority;
	out->enabled = r->enabled;
	out->tags = r->tags;
	out->ntags = r->ntags;
	return 0;
}

long rules_set_find(const struct rules_set *rs, const char *name)
{
	for (size_t i = 0; rs && name && i < rs->nrules; i++)
		if (!strcmp(rs->rules[i].name, name))
			return (long)i;
	return -1;
}

size_t rules_set_memory(const struct rules_set *rs)
{
	return rs ? rules_arena_used(rs->a) + sizeof(*rs) : 0;
}

int rules_set_plugin(const struct rules_set *rs, size_t i, const char **name, const char **version)
{
	if (!rs || i >= rs->nplugins)
		return -ERANGE;
	*name = rs->plugin_names[i];
	*version = rs->plugin_versions[i];
	return 0;
}
