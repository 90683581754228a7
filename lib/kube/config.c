/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/kube/config.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

void kube_config_free(struct kube_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->server);
	free(cfg->ns);
	free(cfg->source);
	free(cfg->context);
	free(cfg->ca_file);
	free(cfg->ca_pem);
	free(cfg->cert_file);
	free(cfg->cert_pem);
	free(cfg->key_file);
	free(cfg->key_pem);
	if (cfg->token)
		memset(cfg->token, 0, strlen(cfg->token));
	free(cfg->token);
	free(cfg->token_file);
	free(cfg);
}

const char *kube_config_namespace(const struct kube_config *cfg)
{
	return cfg && cfg->ns && *cfg->ns ? cfg->ns : "default";
}

static int dup_str(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

static int dup_mem(char **dst, const char *src, size_t len)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = malloc(len + 1);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, len);
	(*dst)[len] = '\0';
	return 0;
}

struct kube_config *kube_config_dup(const struct kube_config *cfg)
{
	struct kube_config *d;
	int ret = 0;

	if (!cfg)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	ret |= dup_str(&d->server, cfg->server);
	ret |= dup_str(&d->ns, cfg->ns);
	ret |= dup_str(&d->source, cfg->source);
	ret |= dup_str(&d->context, cfg->context);
	ret |= dup_str(&d->ca_file, cfg->ca_file);
	ret |= dup_mem(&d->ca_pem, cfg->ca_pem, cfg->ca_pem_len);
	ret |= dup_str(&d->cert_file, cfg->cert_file);
	ret |= dup_mem(&d->cert_pem, cfg->cert_pem, cfg->cert_pem_len);
	ret |= dup_str(&d->key_file, cfg->key_file);
	ret |= dup_mem(&d->key_pem, cfg->key_pem, cfg->key_pem_len);
	ret |= dup_str(&d->token, cfg->token);
	ret |= dup_str(&d->token_file, cfg->token_file);
	d->ca_pem_len = cfg->ca_pem_len;
	d->cert_pem_len = cfg->cert_pem_len;
	d->key_pem_len = cfg->key_pem_len;
	d->insecure = cfg->insecure;
	if (ret) {
		kube_config_free(d);
		return NULL;
	}
	return d;
}

/* Reads a whole (small) file; new NUL-terminated buffer in *out. */
static int read_file(const char *path, char **out, size_t *out_len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int ret = 0;

	*out = NULL;
	if (!f)
		return -errno;
	for (;;) {
		if (cap - len < 4096) {
			char *nb;

			if (cap > (16u << 20)) {
				ret = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		ret = -EIO;
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	if (out_len)
		*out_len = len;
out:
	free(buf);
	fclose(f);
	return ret;
}

/* Strips trailing whitespace (tokens and namespace files end with a newline). */
static void rstrip(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

static int b64_val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

/* Decodes base64 (whitespace ignored, padding optional) into a new NUL-terminated buffer. */
static int b64_decode(const char *in, char **out, size_t *out_len)
{
	size_t cap = strlen(in) / 4 * 3 + 4, len = 0;
	unsigned int acc = 0;
	int bits = 0;
	char *buf;

	*out = NULL;
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (; *in; in++) {
		int v;

		if (*in == '=' || *in == ' ' || *in == '\n' || *in == '\r' || *in == '\t')
			continue;
		v = b64_val((unsigned char)*in);
		if (v < 0) {
			free(buf);
			return -EINVAL;
		}
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[len++] = (char)((acc >> bits) & 0xff);
		}
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}

/* ---- YAML document helpers ---- */

static yaml_node_t *ynode_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)k->data.scalar.value, key))
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static const char *ynode_str(yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

static const char *yget_str(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	return ynode_str(ynode_get(doc, map, key));
}

/* In a sequence of {name: X, <field>: {...}}, finds the entry named name and returns <field>. */
static yaml_node_t *ynamed(yaml_document_t *doc, yaml_node_t *root, const char *list,
			   const char *field, const char *name)
{
	yaml_node_t *seq = ynode_get(doc, root, list);
	yaml_node_item_t *it;

	if (!seq || seq->type != YAML_SEQUENCE_NODE || !name)
		return NULL;
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(doc, *it);
		const char *n = yget_str(doc, e, "name");

		if (n && !strcmp(n, name))
			return ynode_get(doc, e, field);
	}
	return NULL;
}

/* Resolves a kubeconfig-relative path; new string. */
static char *resolve_path(const char *base_file, const char *p)
{
	const char *slash;
	char *out;

	if (p[0] == '/' || !(slash = strrchr(base_file, '/')))
		return strdup(p);
	if (asprintf(&out, "%.*s/%s", (int)(slash - base_file), base_file, p) < 0)
		return NULL;
	return out;
}

/* Sets a file field or a data field from "<name>" / "<name>-data" of map. */
static int take_file_or_data(yaml_document_t *doc, yaml_node_t *map, const char *name,
			     const char *base, char **file, char **pem, size_t *pem_len)
{
	char key[64];
	const char *v;

	snprintf(key, sizeof(key), "%s-data", name);
	v = yget_str(doc, map, key);
	if (v && *v)
		return b64_decode(v, pem, pem_len);
	v = yget_str(doc, map, name);
	if (v && *v) {
		*file = resolve_path(base, v);
		return *file ? 0 : -ENOMEM;
	}
	return 0;
}

static int parse_kubeconfig(yaml_document_t *doc, const char *path, const char *context,
			    struct kube_config *cfg, struct kube_error *err)
{
	yaml_node_t *root = yaml_document_get_root_node(doc), *ctx, *cluster, *user;
	const char *cur, *cname, *uname, *v;
	int ret;

	if (!root || root->type != YAML_MAPPING_NODE)
		return kube_error_set(err, -EINVAL, 0, "Config",
				      "kubeconfig %s: not a YAML mapping", path);
	cur = context ? context : yget_str(doc, root, "current-context");
	if (!cur || !*cur)
		return kube_error_set(err, -ENOENT, 0, "Config",
				      "kubeconfig %s: no context given and no current-context",
				      path);
	ctx = ynamed(doc, root, "contexts", "context", cur);
	if (!ctx)
		return kube_error_set(err, -ENOENT, 0, "Config",
				      "kubeconfig %s: context \"%s\" not found", path, cur);
	cname = yget_str(doc, ctx, "cluster");
	uname = yget_str(doc, ctx, "user");
	cluster = ynamed(doc, root, "clusters", "cluster", cname);
	if (!cluster)
		return kube_error_set(err, -ENOENT, 0, "Config",
				      "kubeconfig %s: context \"%s\": cluster \"%s\" not found",
				      path, cur, cname ? cname : "");
	user = ynamed(doc, root, "users", "user", uname);
	if (uname && *uname && !user)
		return kube_error_set(err, -ENOENT, 0, "Config",
				      "kubeconfig %s: context \"%s\": user \"%s\" not found", path,
				      cur, uname);
	v = yget_str(doc, cluster, "server");
	if (!v || !*v)
		return kube_error_set(err, -EINVAL, 0, "Config",
				      "kubeconfig %s: context \"%s\": cluster has no server", path,
				      cur);
	cfg->server = strdup(v);
	cfg->context = strdup(cur);
	v = yget_str(doc, ctx, "namespace");
	cfg->ns = strdup(v && *v ? v : "default");
	if (!cfg->server || !cfg->context || !cfg->ns)
		return kube_error_set(err, -ENOMEM, 0, "Config", "out of memory");
	while (strlen(cfg->server) > 1 && cfg->server[strlen(cfg->server) - 1] == '/')
		cfg->server[strlen(cfg->server) - 1] = '\0';
	v = yget_str(doc, cluster, "insecure-skip-tls-verify");
	cfg->insecure = v && !strcmp(v, "true");
	ret = take_file_or_data(doc, cluster, "certificate-authority", path, &cfg->ca_file,
				&cfg->ca_pem, &cfg->ca_pem_len);
	ret = ret
		  ?: take_file_or_data(doc, user, "client-certificate", path, &cfg->cert_file,
				       &cfg->cert_pem, &cfg->cert_pem_len);
	ret = ret
		  ?: take_file_or_data(doc, user, "client-key", path, &cfg->key_file, &cfg->key_pem,
				       &cfg->key_pem_len);
	if (ret)
		return kube_error_set(err, ret, 0, "Config",
				      "kubeconfig %s: context \"%s\": bad certificate data", path,
				      cur);
	v = yget_str(doc, user, "token");
	if (v && *v && !(cfg->token = strdup(v)))
		return kube_error_set(err, -ENOMEM, 0, "Config", "out of memory");
	v = yget_str(doc, user, "tokenFile");
	if (v && *v && !(cfg->token_file = resolve_path(path, v)))
		return kube_error_set(err, -ENOMEM, 0, "Config", "out of memory");
	if (!(cfg->cert_file || cfg->cert_pem) != !(cfg->key_file || cfg->key_pem))
		return kube_error_set(
		    err, -EINVAL, 0, "Config",
		    "kubeconfig %s: context \"%s\": client certificate without key "
		    "(or key without certificate)",
		    path, cur);
	return 0;
}

int kube_config_load(const char *path, const char *context, struct kube_config **out,
		     struct kube_error *err)
{
	struct kube_config *cfg = NULL;
	yaml_parser_t parser;
	yaml_document_t doc;
	char *owned = NULL, *text = NULL;
	size_t len = 0;
	int ret, have_doc = 0;

	kube_error_clear(err);
	*out = NULL;
	if (!path || !*path) {
		const char *env = getenv("KUBECONFIG");
		const char *home = getenv("HOME");

		if (env && *env) {
			owned = strndup(env, strcspn(env, ":"));
		} else if (home) {
			if (asprintf(&owned, "%s/.kube/config", home) < 0)
				owned = NULL;
		} else {
			return kube_error_set(err, -ENOENT, 0, "Config",
					      "no kubeconfig: KUBECONFIG and HOME unset");
		}
		if (!owned)
			return kube_error_set(err, -ENOMEM, 0, "Config", "out of memory");
		path = owned;
	}
	ret = read_file(path, &text, &len);
	if (ret) {
		kube_error_set(err, ret, 0, "Config", "kubeconfig %s: %s", path, strerror(-ret));
		goto out;
	}
	if (!yaml_parser_initialize(&parser)) {
		ret = kube_error_set(err, -ENOMEM, 0, "Config", "out of memory");
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		ret = kube_error_set(err, -EINVAL, 0, "Config", "kubeconfig %s: line %zu: %s", path,
				     parser.problem_mark.line + 1,
				     parser.problem ? parser.problem : "bad YAML");
		yaml_parser_delete(&parser);
		goto out;
	}
	yaml_parser_delete(&parser);
	have_doc = 1;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg || !(cfg->source = strdup(path))) {
		ret = kube_error_set(err, -ENOMEM, 0, "Config", "out of memory");
		goto out;
	}
	ret = parse_kubeconfig(&doc, path, context, cfg, err);
	if (ret)
		goto out;
	*out = cfg;
	cfg = NULL;
out:
	if (have_doc)
		yaml_document_delete(&doc);
	kube_config_free(cfg);
	free(text);
	free(owned);
	return ret;
}

int kube_config_in_cluster(const char *sa_dir, struct kube_config **out, struct kube_error *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct kube_config *cfg = NULL;
	char *ns = NULL, *p = NULL;
	int ret;

	kube_error_clear(err);
	*out = NULL;
	if (!sa_dir)
		sa_dir = SA_DIR;
	if (!host || !*host || !port || !*port)
		return kube_error_set(err, -ENOENT, 0, "Config",
				      "not in a cluster: KUBERNETES_SERVICE_HOST/PORT unset");
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return kube_error_set(err, -ENOMEM, 0, "Config", "out of memory");
	if (asprintf(&cfg->server, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
		     port) < 0)
		cfg->server = NULL;
	cfg->source = strdup("in-cluster");
	if (asprintf(&cfg->token_file, "%s/token", sa_dir) < 0)
		cfg->token_file = NULL;
	if (asprintf(&cfg->ca_file, "%s/ca.crt", sa_dir) < 0)
		cfg->ca_file = NULL;
	if (asprintf(&p, "%s/namespace", sa_dir) < 0)
		p = NULL;
	if (!cfg->server || !cfg->source || !cfg->token_file || !cfg->ca_file || !p) {
		ret = kube_error_set(err, -ENOMEM, 0, "Config", "out of memory");
		goto out;
	}
	ret = read_file(cfg->token_file, &cfg->token, NULL);
	if (ret) {
		kube_error_set(err, ret, 0, "Config", "in-cluster token %s: %s", cfg->token_file,
			       strerror(-ret));
		goto out;
	}
	rstrip(cfg->token);
	if (read_file(p, &ns, NULL) == 0) {
		rstrip(ns);
		cfg->ns = ns;
		ns = NULL;
	} else if (!(cfg->ns = strdup("default"))) {
		ret = kube_error_set(err, -ENOMEM, 0, "Config", "out of memory");
		goto out;
	}
	*out = cfg;
	cfg = NULL;
out:
	free(p);
	free(ns);
	kube_config_free(cfg);
	return ret;
}

int kube_config_auto(const char *path, struct kube_config **out, struct kube_error *err)
{
	const char *env = getenv("KUBECONFIG");

	if ((path && *path) || (env && *env))
		return kube_config_load(path, NULL, out, err);
	if (getenv("KUBERNETES_SERVICE_HOST"))
		return kube_config_in_cluster(NULL, out, err);
	return kube_config_load(NULL, NULL, out, err);
}
