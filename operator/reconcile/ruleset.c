/* SPDX-License-Identifier: Apache-2.0 */
#include "operator/reconcile/ruleset.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/kube/path.h"
#include "lib/util/log.h"
#include "operator/reconcile/bundle.h"
#include "operator/status/conditions.h"

#define MEMO_MAX 1024
#define SELECTOR_TTL_S 30
#define DEFAULT_ORDER 100

struct memo {
	char sha[65];
	bool valid;
	int count;
	char *msg;
};

struct selmemo {
	char *selector;
	json_t *names; /* object used as a set of node names */
	time_t at;
};

struct rsctl {
	struct ctl_manager *m;
	struct ctl_controller *c;  /* RuleSet status */
	struct ctl_controller *cb; /* the bundle: its own queue, never behind status writes */
	struct kube_client *client;
	struct evrec *events;
	char *ns;
	char *watch_ns;
	char cm_field[128];
	struct ctl_source s_rs, s_cm, s_sn;

	pthread_mutex_t memo_lock;
	struct memo *memo;
	size_t nmemo;

	pthread_mutex_t bundle_lock;

	pthread_mutex_t sel_lock;
	struct selmemo sel[32];

	/* applied counts without a nodeSelector, valid for (hash, SensorNode change count) */
	atomic_ulong sn_version;
	pthread_mutex_t applied_lock;
	char applied_hash[65];
	unsigned long applied_version;
	int applied_n, applied_m;
	bool applied_valid;
};

struct verdict {
	bool valid;
	int count;
	char msg[1024];
};

/* ---- small JSON accessors ---- */

static const char *meta_str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(json_object_get(o, "metadata"), k));

	return s ? s : "";
}

static int64_t generation(const json_t *o)
{
	return json_integer_value(json_object_get(json_object_get(o, "metadata"), "generation"));
}

static const char *spec_rules(const json_t *o)
{
	return json_string_value(json_object_get(json_object_get(o, "spec"), "rules"));
}

static int spec_order(const json_t *o)
{
	json_t *v = json_object_get(json_object_get(o, "spec"), "order");

	return json_is_integer(v) ? (int)json_integer_value(v) : DEFAULT_ORDER;
}

/* Bundle order comparison of two RuleSets: order, then name, then namespace. */
static int rs_cmp(const json_t *a, const json_t *b)
{
	int oa = spec_order(a), ob = spec_order(b), c;

	if (oa != ob)
		return oa < ob ? -1 : 1;
	c = strcmp(meta_str(a, "name"), meta_str(b, "name"));
	return c ? c : strcmp(meta_str(a, "namespace"), meta_str(b, "namespace"));
}

static void sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[64] = '\0';
}

/* ---- validation ---- */

void rsctl_format_errors(const struct rules_diags *d, const char *name, char *msg, size_t len)
{
	size_t n = rules_diags_count(d), shown = 0, total = 0, off = 0;
	bool any_own = false;

	msg[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const struct rules_diag *g = rules_diags_get(d, i);

		if (g->severity == RULES_SEV_ERROR && g->file && name && strcmp(g->file, name) == 0)
			any_own = true;
	}
	for (size_t i = 0; i < n; i++) {
		const struct rules_diag *g = rules_diags_get(d, i);
		int w;

		if (g->severity != RULES_SEV_ERROR)
			continue;
		if (any_own && !(g->file && strcmp(g->file, name) == 0))
			continue;
		total++;
		if (shown >= 3 || off >= len)
			continue;
		if (g->kind && g->name)
			w = snprintf(msg + off, len - off, "%s%d:%d: %s '%s': %s",
				     shown ? "; " : "", g->line, g->col, g->kind, g->name,
				     g->message);
		else
			w = snprintf(msg + off, len - off, "%s%d:%d: %s", shown ? "; " : "",
				     g->line, g->col, g->message);
		off += w > 0 ? (size_t)w : 0;
		shown++;
	}
	if (total > shown && off < len)
		snprintf(msg + off, len - off, " (+%zu more)", total - shown);
	if (!total)
		snprintf(msg, len, "rules did not load");
}

/* Compiles inputs; fills v for the input called `name` (the last one). */
static void compile(const struct rules_input *in, size_t n, const char *name, struct verdict *v)
{
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;
	int err = rules_load_buffers(in, n, &rs, &d);

	v->valid = err == 0 && rs;
	v->count = rs ? (int)rules_set_count(rs) : 0;
	v->msg[0] = '\0';
	if (!v->valid) {
		if (err == -ENOMEM && !d)
			snprintf(v->msg, sizeof(v->msg), "out of memory while compiling");
		else
			rsctl_format_errors(d, name, v->msg, sizeof(v->msg));
	}
	rules_set_free(rs);
	rules_diags_free(d);
}

/* Compiles text alone, memoised by its SHA-256. */
static void check_alone(struct rsctl *r, const char *text, struct verdict *v)
{
	char sha[65];
	struct rules_input in;

	sha256_hex(text, sha);
	pthread_mutex_lock(&r->memo_lock);
	for (size_t i = 0; i < r->nmemo; i++) {
		if (strcmp(r->memo[i].sha, sha) == 0) {
			v->valid = r->memo[i].valid;
			v->count = r->memo[i].count;
			snprintf(v->msg, sizeof(v->msg), "%s",
				 r->memo[i].msg ? r->memo[i].msg : "");
			pthread_mutex_unlock(&r->memo_lock);
			return;
		}
	}
	pthread_mutex_unlock(&r->memo_lock);
	in.name = "spec.rules";
	in.text = text;
	in.len = strlen(text);
	compile(&in, 1, in.name, v);
	pthread_mutex_lock(&r->memo_lock);
	if (r->nmemo >= MEMO_MAX) {
		for (size_t i = 0; i < r->nmemo; i++)
			free(r->memo[i].msg);
		r->nmemo = 0;
	}
	if (r->memo) {
		struct memo *mm = &r->memo[r->nmemo++];

		snprintf(mm->sha, sizeof(mm->sha), "%s", sha);
		mm->valid = v->valid;
		mm->count = v->count;
		mm->msg = v->msg[0] ? strdup(v->msg) : NULL;
	}
	pthread_mutex_unlock(&r->memo_lock);
}

/*
 * The verdict on obj given all RuleSets (a sorted cache snapshot, may include obj's older
 * version, which is skipped). Alone first; then on top of the earlier valid RuleSets.
 */
static void check(struct rsctl *r, const json_t *obj, json_t *all, struct verdict *v)
{
	const char *text = spec_rules(obj);
	struct rules_input *in;
	size_t n = 0, idx;
	json_t *o;
	int prefix_count = 0;

	if (!text || !*text) {
		v->valid = false;
		v->count = 0;
		snprintf(v->msg, sizeof(v->msg), "1:1: spec.rules is empty");
		return;
	}
	check_alone(r, text, v);
	if (v->valid || !json_array_size(all))
		return;
	in = calloc(json_array_size(all) + 1, sizeof(*in));
	if (!in)
		return;
	json_array_foreach(all, idx, o)
	{
		struct verdict pv;
		const char *t = spec_rules(o);

		if (strcmp(meta_str(o, "namespace"), meta_str(obj, "namespace")) == 0 &&
		    strcmp(meta_str(o, "name"), meta_str(obj, "name")) == 0)
			continue;
		if (rs_cmp(o, obj) >= 0 || !t || !*t)
			continue;
		check_alone(r, t, &pv);
		if (!pv.valid)
			continue;
		in[n].name = meta_str(o, "name");
		in[n].text = t;
		in[n].len = strlen(t);
		prefix_count += pv.count;
		n++;
	}
	if (n) {
		struct verdict all_v;

		in[n].name = "spec.rules";
		in[n].text = text;
		in[n].len = strlen(text);
		compile(in, n + 1, "spec.rules", &all_v);
		if (all_v.valid) {
			v->valid = true;
			v->count = all_v.count > prefix_count ? all_v.count - prefix_count : 0;
			v->msg[0] = '\0';
		}
		/* when still invalid keep the message from compiling alone? no: the combined one
		 * names this RuleSet's own errors with the context of what it builds on */
		else if (all_v.msg[0]) {
			snprintf(v->msg, sizeof(v->msg), "%s", all_v.msg);
		}
	}
	free(in);
}

static json_t *sorted_rulesets(struct rsctl *r)
{
	struct kube_cache *cache = ctl_cache(r->m, &r->s_rs);
	json_t *all = cache ? kube_cache_list(cache) : json_array();
	size_t n = json_array_size(all);

	/* insertion sort by bundle order; n is small (RuleSets, not nodes) */
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0; j--) {
			json_t *a = json_array_get(all, j - 1), *b = json_array_get(all, j);

			if (rs_cmp(a, b) <= 0)
				break;
			json_incref(a);
			json_array_set(all, j - 1, b);
			json_array_set_new(all, j, a);
		}
	}
	return all;
}

int rsctl_validate(void *ctx, const json_t *obj, char *msg, size_t msglen)
{
	struct rsctl *r = ctx;
	json_t *all = sorted_rulesets(r);
	struct verdict v;

	check(r, obj, all, &v);
	json_decref(all);
	if (v.valid)
		return 0;
	snprintf(msg, msglen, "%s", v.msg);
	return 1;
}

/* ---- the bundle ---- */

static json_t *bundle_cm(struct rsctl *r)
{
	struct kube_cache *cache = ctl_cache(r->m, &r->s_cm);

	return cache ? kube_cache_get_nn(cache, r->ns, BUNDLE_CONFIGMAP) : NULL;
}

static json_t *cm_sources(const json_t *cm)
{
	const char *s = json_string_value(
	    json_object_get(json_object_get(json_object_get(cm, "metadata"), "annotations"),
			    BUNDLE_SOURCES_ANNOTATION));
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;

	return json_is_object(j) ? j : (json_decref(j), json_object());
}

/* Checks that the whole bundle loads, in file order, as a sensor would load it. */
static int bundle_loads(const json_t *files, char *msg, size_t len)
{
	json_t *keys = bundle_sorted_keys(files), *k;
	size_t n = json_array_size(keys), i;
	struct rules_input *in = calloc(n ? n : 1, sizeof(*in));
	struct verdict v;

	if (!keys || !in) {
		json_decref(keys);
		free(in);
		return -ENOMEM;
	}
	json_array_foreach(keys, i, k)
	{
		json_t *t = json_object_get(files, json_string_value(k));

		in[i].name = json_string_value(k);
		in[i].text = json_string_value(t);
		in[i].len = json_string_length(t);
	}
	compile(in, n, NULL, &v);
	snprintf(msg, len, "%s", v.msg);
	json_decref(keys);
	free(in);
	return v.valid ? 0 : -EINVAL;
}

static struct ctl_result reconcile_bundle(struct rsctl *r)
{
	json_t *all, *cm, *prev_src, *files = NULL, *sources = NULL, *data = NULL, *body = NULL;
	struct bundle_entry *e;
	struct ctl_result res = CTL_RESULT_DONE;
	char hash[65], path[KUBE_PATH_MAX], msg[1024];
	struct kube_error err;
	size_t n, i;
	json_t *o;
	int rc;

	pthread_mutex_lock(&r->bundle_lock);
	all = sorted_rulesets(r);
	cm = bundle_cm(r);
	prev_src = cm_sources(cm);
	n = json_array_size(all);
	e = calloc(n ? n : 1, sizeof(*e));
	if (!e) {
		res = CTL_RESULT_RETRY;
		goto out;
	}
	json_array_foreach(all, i, o)
	{
		struct verdict v;

		check(r, o, all, &v);
		e[i].ns = meta_str(o, "namespace");
		e[i].name = meta_str(o, "name");
		e[i].order = spec_order(o);
		e[i].generation = generation(o);
		e[i].rules = spec_rules(o);
		e[i].valid = v.valid;
	}
	rc = bundle_assemble(e, n, json_object_get(cm, "data"), prev_src, &files, &sources);
	if (rc < 0) {
		vlog_error("ruleset", "msg=\"cannot assemble rules bundle\" err=%d%s", rc,
			   rc == -E2BIG ? " reason=\"bundle larger than one ConfigMap\"" : "");
		res = CTL_RESULT_AFTER(60000);
		goto out;
	}
	bundle_hash(files, hash);
	data = json_deep_copy(files);
	json_object_set_new(data, BUNDLE_HASH_KEY, json_string(hash));
	if (cm &&
	    json_equal(json_object_get(cm, "data") ? json_object_get(cm, "data") : json_object(),
		       data) &&
	    json_equal(prev_src, sources))
		goto out; /* up to date: no write */
	if (bundle_loads(files, msg, sizeof(msg))) {
		vlog_error("ruleset",
			   "msg=\"rules bundle does not load as a whole; keeping the "
			   "current one\" err=\"%s\"",
			   msg);
		res = CTL_RESULT_AFTER(60000);
		goto out;
	}
	{
		char *src_text = json_dumps(sources, JSON_COMPACT | JSON_SORT_KEYS);

		body = cm ? json_deep_copy(cm)
			  : json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}}", "apiVersion", "v1",
				      "kind", "ConfigMap", "metadata", "name", BUNDLE_CONFIGMAP,
				      "namespace", r->ns, "labels", "app.kubernetes.io/part-of",
				      "vigil", "app.kubernetes.io/component", "rules-bundle");
		if (!body || !src_text) {
			free(src_text);
			res = CTL_RESULT_RETRY;
			goto out;
		}
		{
			json_t *md = json_object_get(body, "metadata"), *ann;

			json_object_del(md, "managedFields");
			ann = json_object_get(md, "annotations");
			if (!json_is_object(ann)) {
				ann = json_object();
				json_object_set_new(md, "annotations", ann);
			}
			json_object_set_new(ann, BUNDLE_SOURCES_ANNOTATION, json_string(src_text));
			free(src_text);
		}
		json_object_set(body, "data", data);
	}
	if (cm) {
		kube_path(path, sizeof(path), &kube_res_configmaps, r->ns, BUNDLE_CONFIGMAP, NULL);
		rc = kube_update(r->client, path, body, NULL, &err);
		ctl_count_write(r->c, "PUT");
	} else {
		kube_path(path, sizeof(path), &kube_res_configmaps, r->ns, NULL, NULL);
		rc = kube_create(r->client, path, body, NULL, &err);
		ctl_count_write(r->c, "POST");
	}
	if (rc) {
		vlog_warn("ruleset",
			  "msg=\"cannot write rules bundle\" code=%d reason=%s err=\"%s\"",
			  err.code, err.reason, err.message);
		res = CTL_RESULT_RETRY;
		goto out;
	}
	vlog_info("ruleset", "msg=\"rules bundle written\" configmap=%s/%s files=%zu hash=%.12s",
		  r->ns, BUNDLE_CONFIGMAP, json_object_size(files), hash);
out:
	free(e);
	json_decref(all);
	json_decref(cm);
	json_decref(prev_src);
	json_decref(files);
	json_decref(sources);
	json_decref(data);
	json_decref(body);
	pthread_mutex_unlock(&r->bundle_lock);
	return res;
}

/* ---- one RuleSet ---- */

/* Node names matching a nodeSelector (new reference, an object used as a set), cached briefly.
 * NULL when the selector could not be evaluated. */
static json_t *selected_nodes(struct rsctl *r, const json_t *sel)
{
	char selector[1024], path[KUBE_PATH_MAX];
	struct kube_list_opts lo = {.label_selector = selector};
	const char *k;
	json_t *v, *list = NULL, *set = NULL, *item;
	size_t off = 0, i;
	time_t now = time(NULL);
	struct selmemo *slot = NULL;

	selector[0] = '\0';
	json_object_foreach((json_t *)sel, k, v) off += (size_t)snprintf(
	    selector + off, off < sizeof(selector) ? sizeof(selector) - off : 0, "%s%s=%s",
	    off ? "," : "", k, json_string_value(v) ? json_string_value(v) : "");
	pthread_mutex_lock(&r->sel_lock);
	for (i = 0; i < sizeof(r->sel) / sizeof(r->sel[0]); i++) {
		struct selmemo *s = &r->sel[i];

		if (s->selector && strcmp(s->selector, selector) == 0 &&
		    now - s->at < SELECTOR_TTL_S) {
			set = json_incref(s->names);
			break;
		}
		if (!slot || (s->at < slot->at))
			slot = s;
	}
	pthread_mutex_unlock(&r->sel_lock);
	if (set)
		return set;
	kube_path(path, sizeof(path), &kube_res_nodes, NULL, NULL, NULL);
	if (kube_list(r->client, path, &lo, &list, NULL))
		return NULL;
	set = json_object();
	json_array_foreach(json_object_get(list, "items"), i, item)
	{
		json_object_set_new(set, meta_str(item, "name"), json_true());
	}
	json_decref(list);
	pthread_mutex_lock(&r->sel_lock);
	free(slot->selector);
	json_decref(slot->names);
	slot->selector = strdup(selector);
	slot->names = json_incref(set);
	slot->at = now;
	pthread_mutex_unlock(&r->sel_lock);
	return set;
}

/* Counts sensor nodes targeted (*m) and reporting hash (*n). -errno when unknown. */
static int count_applied(struct rsctl *r, const json_t *obj, const char *hash, int *n, int *m)
{
	struct kube_cache *cache = ctl_cache(r->m, &r->s_sn);
	json_t *sel = json_object_get(json_object_get(obj, "spec"), "nodeSelector");
	json_t *set = NULL, *all, *sn;
	size_t i;

	unsigned long ver = atomic_load(&r->sn_version);
	bool memo_ok = !json_object_size(sel) && hash;

	*n = *m = 0;
	if (!cache)
		return -ENOENT;
	if (memo_ok) {
		pthread_mutex_lock(&r->applied_lock);
		if (r->applied_valid && r->applied_version == ver &&
		    strcmp(r->applied_hash, hash) == 0) {
			*n = r->applied_n;
			*m = r->applied_m;
			pthread_mutex_unlock(&r->applied_lock);
			return 0;
		}
		pthread_mutex_unlock(&r->applied_lock);
	}
	if (json_object_size(sel)) {
		set = selected_nodes(r, sel);
		if (!set)
			return -EIO;
	}
	all = kube_cache_list(cache);
	json_array_foreach(all, i, sn)
	{
		const char *h;

		if (set && !json_object_get(set, meta_str(sn, "name")))
			continue;
		(*m)++;
		h = json_string_value(json_object_get(json_object_get(sn, "status"), "rulesHash"));
		if (h && hash && strcmp(h, hash) == 0)
			(*n)++;
	}
	json_decref(all);
	json_decref(set);
	if (memo_ok) {
		pthread_mutex_lock(&r->applied_lock);
		snprintf(r->applied_hash, sizeof(r->applied_hash), "%s", hash);
		r->applied_version = ver;
		r->applied_n = *n;
		r->applied_m = *m;
		r->applied_valid = true;
		pthread_mutex_unlock(&r->applied_lock);
	}
	return 0;
}

static struct ctl_result reconcile_one(struct rsctl *r, const char *key)
{
	struct kube_cache *cache = ctl_cache(r->m, &r->s_rs);
	json_t *obj = cache ? kube_cache_get(cache, key) : NULL;
	json_t *all = NULL, *cm = NULL, *src = NULL, *st = NULL, *patch = NULL;
	struct ctl_result res = CTL_RESULT_DONE;
	const char *hash = NULL;
	char now[32], msg[1200], path[KUBE_PATH_MAX], id[512], applied[32];
	struct kube_error err;
	struct verdict v;
	int64_t gen, bundled_gen = -1;
	bool was_accepted, was_rejected;
	int n = 0, m = 0, rc;

	if (!obj)
		return CTL_RESULT_DONE; /* deleted: the bundle key drops it */
	gen = generation(obj);
	all = sorted_rulesets(r);
	check(r, obj, all, &v);
	cm = bundle_cm(r);
	src = cm_sources(cm);
	hash = json_string_value(json_object_get(json_object_get(cm, "data"), BUNDLE_HASH_KEY));
	snprintf(id, sizeof(id), "%s/%s", meta_str(obj, "namespace"), meta_str(obj, "name"));
	if (json_object_get(src, id))
		bundled_gen =
		    json_integer_value(json_object_get(json_object_get(src, id), "generation"));
	cond_time(time(NULL), now);
	st = cond_status_copy(obj);
	was_accepted = cond_is(st, "Accepted", "True");
	was_rejected = cond_is(st, "Accepted", "False");
	if (v.valid) {
		snprintf(msg, sizeof(msg), "%d rules compiled", v.count);
		cond_set(st, "Accepted", "True", "Valid", msg, gen, now);
		json_object_set_new(st, "ruleCount", json_integer(v.count));
	} else {
		cond_set(st, "Accepted", "False", "InvalidRules", v.msg, gen, now);
	}
	json_object_set_new(st, "observedGeneration", json_integer(gen));
	if (hash && bundled_gen >= 0) {
		json_object_set_new(st, "rulesHash", json_string(hash));
		if (count_applied(r, obj, hash, &n, &m) == 0) {
			snprintf(applied, sizeof(applied), "%d/%d", n, m);
			json_object_set_new(st, "appliedNodes", json_string(applied));
		} else {
			res = CTL_RESULT_AFTER(5000);
			goto out;
		}
		if (bundled_gen != gen && v.valid) {
			snprintf(msg, sizeof(msg), "generation %lld not yet in the bundle",
				 (long long)gen);
			cond_set(st, "Applied", "False", "BundlePending", msg, gen, now);
		} else if (bundled_gen != gen) {
			snprintf(msg, sizeof(msg),
				 "last good generation %lld is applied on %d/%d sensor nodes",
				 (long long)bundled_gen, n, m);
			cond_set(st, "Applied", "False", "LastGoodApplied", msg, gen, now);
		} else if (m == 0) {
			cond_set(st, "Applied", "Unknown", "NoSensorNodes",
				 "no sensor node targets this RuleSet", gen, now);
		} else {
			snprintf(msg, sizeof(msg), "%d/%d sensor nodes report bundle %.12s", n, m,
				 hash);
			cond_set(st, "Applied", n == m ? "True" : "False",
				 n == m ? "AllNodesApplied" : "Pending", msg, gen, now);
		}
	} else {
		json_object_set_new(st, "appliedNodes", json_string("0/0"));
		cond_set(st, "Applied", "False", v.valid ? "BundlePending" : "NotInBundle",
			 v.valid ? "not yet in the bundle" : "no valid version of these rules", gen,
			 now);
	}
	if (!cond_status_differs(obj, st))
		goto out;
	patch = json_pack("{s:O}", "status", st);
	kube_path(path, sizeof(path), &kube_res_rulesets, meta_str(obj, "namespace"),
		  meta_str(obj, "name"), "status");
	rc = kube_patch(r->client, path, KUBE_PATCH_MERGE, patch, NULL, &err);
	ctl_count_write(r->c, "PATCH");
	if (rc == -ENOENT)
		goto out;
	if (rc) {
		vlog_warn("ruleset", "key=%s msg=\"cannot write status\" code=%d err=\"%s\"", key,
			  err.code, err.message);
		res = CTL_RESULT_RETRY;
		goto out;
	}
	vlog_info("ruleset", "key=%s accepted=%s rules=%d applied=%d/%d", key,
		  v.valid ? "true" : "false", v.count, n, m);
	if (v.valid && !was_accepted)
		evrec_emit(r->events, obj, "Normal", "Accepted", "%d rules compiled", v.count);
	else if (!v.valid && !was_rejected)
		evrec_emit(r->events, obj, "Warning", "InvalidRules", "%s", v.msg);
out:
	if (res.outcome == CTL_DONE &&
	    json_object_size(json_object_get(json_object_get(obj, "spec"), "nodeSelector")))
		res = CTL_RESULT_AFTER(SELECTOR_TTL_S * 1000); /* node labels are not watched */
	json_decref(patch);
	json_decref(st);
	json_decref(src);
	json_decref(cm);
	json_decref(all);
	json_decref(obj);
	return res;
}

static struct ctl_result reconcile(void *ctx, const char *key)
{
	return reconcile_one(ctx, key);
}

static struct ctl_result reconcile_bundle_key(void *ctx, const char *key)
{
	return reconcile_bundle(ctx);
}

/* ---- event mapping ---- */

static void map_ruleset(void *ctx, struct ctl_controller *c, json_t *old, json_t *obj)
{
	struct rsctl *r = ctx;
	char key[512];

	if (ctl_key(obj ? obj : old, key, sizeof(key)) > 0 && obj)
		ctl_enqueue(r->c, key);
	if (!old || !obj || generation(old) != generation(obj))
		ctl_enqueue(r->cb, RSCTL_BUNDLE_KEY);
}

static void map_bundle(void *ctx, struct ctl_controller *c, json_t *old, json_t *obj)
{
	struct rsctl *r = ctx;
	const char *h1 =
	    json_string_value(json_object_get(json_object_get(old, "data"), BUNDLE_HASH_KEY));
	const char *h2 =
	    json_string_value(json_object_get(json_object_get(obj, "data"), BUNDLE_HASH_KEY));

	ctl_enqueue(r->cb, RSCTL_BUNDLE_KEY);
	if (!h1 || !h2 || strcmp(h1, h2) != 0 ||
	    !json_equal(json_object_get(json_object_get(old, "metadata"), "annotations"),
			json_object_get(json_object_get(obj, "metadata"), "annotations")))
		/* every RuleSet's rulesHash/Applied follows the bundle; a short delay folds a
		 * burst of bundle changes into one pass of status writes */
		ctl_enqueue_all_after(r->c, &r->s_rs, 500);
}

static void map_sensornode(void *ctx, struct ctl_controller *c, json_t *old, json_t *obj)
{
	struct rsctl *r = ctx;
	const char *h1 =
	    json_string_value(json_object_get(json_object_get(old, "status"), "rulesHash"));
	const char *h2 =
	    json_string_value(json_object_get(json_object_get(obj, "status"), "rulesHash"));

	if (old && obj && ((!h1 && !h2) || (h1 && h2 && strcmp(h1, h2) == 0)))
		return; /* a heartbeat: nothing the RuleSets report changed */
	atomic_fetch_add(&r->sn_version, 1);
	/* many sensors pick up a new bundle within seconds of each other, and nodes come and go in
	 * bursts: at most one pass of status writes per 5 s */
	ctl_enqueue_all_after(r->c, &r->s_rs, 5000);
}

int rsctl_register(const struct rsctl_opts *o, struct rsctl **out)
{
	struct rsctl *r;
	struct ctl_controller_opts co = {.name = "ruleset", .reconcile = reconcile};
	int err;

	if (!o || !o->manager || !o->client || !o->ns || !out)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->m = o->manager;
	r->client = o->client;
	r->events = o->events;
	r->ns = strdup(o->ns);
	r->watch_ns = o->watch_ns && *o->watch_ns ? strdup(o->watch_ns) : NULL;
	r->memo = calloc(MEMO_MAX, sizeof(*r->memo));
	pthread_mutex_init(&r->memo_lock, NULL);
	pthread_mutex_init(&r->bundle_lock, NULL);
	pthread_mutex_init(&r->sel_lock, NULL);
	pthread_mutex_init(&r->applied_lock, NULL);
	if (!r->ns || !r->memo) {
		rsctl_free(r);
		return -ENOMEM;
	}
	snprintf(r->cm_field, sizeof(r->cm_field), "metadata.name=%s", BUNDLE_CONFIGMAP);
	r->s_rs = (struct ctl_source){.res = &kube_res_rulesets, .ns = r->watch_ns};
	r->s_cm = (struct ctl_source){
	    .res = &kube_res_configmaps, .ns = r->ns, .field_selector = r->cm_field};
	r->s_sn =
	    (struct ctl_source){.res = &kube_res_sensornodes, .transform = ctl_trim_sensornode};
	co.ctx = r;
	co.workers = o->workers > 0 ? o->workers : 2;
	r->c = ctl_register(r->m, &co);
	r->cb = ctl_register(r->m, &(struct ctl_controller_opts){.name = "rulesbundle",
								 .reconcile = reconcile_bundle_key,
								 .ctx = r,
								 .workers = 1});
	if (!r->c || !r->cb) {
		rsctl_free(r);
		return -EINVAL;
	}
	err = ctl_watch(r->c, &r->s_rs, map_ruleset, r);
	if (!err)
		err = ctl_watch(r->cb, &r->s_cm, map_bundle, r);
	if (!err)
		err = ctl_watch(r->c, &r->s_sn, map_sensornode, r);
	if (err) {
		rsctl_free(r);
		return err;
	}
	/* build the bundle once at start even when nothing changes */
	ctl_enqueue(r->cb, RSCTL_BUNDLE_KEY);
	*out = r;
	return 0;
}

void rsctl_free(struct rsctl *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nmemo; i++)
		free(r->memo[i].msg);
	free(r->memo);
	for (size_t i = 0; i < sizeof(r->sel) / sizeof(r->sel[0]); i++) {
		free(r->sel[i].selector);
		json_decref(r->sel[i].names);
	}
	pthread_mutex_destroy(&r->memo_lock);
	pthread_mutex_destroy(&r->bundle_lock);
	pthread_mutex_destroy(&r->sel_lock);
	pthread_mutex_destroy(&r->applied_lock);
	free(r->ns);
	free(r->watch_ns);
	free(r);
}
