/* SPDX-License-Identifier: Apache-2.0 */
#include "operator/webhook/webhook.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kube/path.h"
#include "lib/util/log.h"
#include "operator/webhook/admission.h"
#include "operator/webhook/certgen.h"

struct webhook {
	struct httpd *h;
	char *ca_pem;
	webhook_validate_fn validate;
	void *ctx;
	struct metrics *metrics;
};

int webhook_review(const char *body, size_t len, webhook_validate_fn fn, void *ctx, json_t **out,
		   bool *allowed)
{
	struct admission_req req;
	json_t *review = NULL;
	char msg[2048];
	int rc;

	*out = NULL;
	*allowed = true;
	rc = admission_decode(body, len, &review, &req, msg, sizeof(msg));
	if (rc) {
		vlog_warn("webhook", "msg=\"bad admission review\" err=\"%s\"", msg);
		return rc;
	}
	if (strcmp(req.kind, "RuleSet") != 0 || !req.object ||
	    (strcmp(req.operation, "CREATE") != 0 && strcmp(req.operation, "UPDATE") != 0)) {
		*out = admission_response(req.uid, true, 0, NULL, NULL);
		goto out;
	}
	msg[0] = '\0';
	rc = fn(ctx, req.object, msg, sizeof(msg));
	if (rc == 0) {
		*out = admission_response(req.uid, true, 0, NULL, NULL);
	} else if (rc > 0) {
		char full[2560];

		snprintf(full, sizeof(full), "RuleSet %s/%s: spec.rules: %s", req.ns, req.name,
			 msg);
		*allowed = false;
		*out = admission_response(req.uid, false, 422, "Invalid", full);
		vlog_info("webhook", "msg=\"refused ruleset\" ns=%s name=%s op=%s", req.ns,
			  req.name, req.operation);
	} else {
		/* our failure, not the user's: let the controller judge it later */
		*out = admission_response(req.uid, true, 0, NULL, "vigil: validation unavailable");
	}
out:
	json_decref(review);
	return *out ? 0 : -ENOMEM;
}

static int handle(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	struct webhook *w = arg;
	json_t *out = NULL;
	bool allowed;
	char *text;

	if (webhook_review(req->body, req->body_len, w->validate, w->ctx, &out, &allowed)) {
		httpd_resp_set(resp, 400, "text/plain", "expected an AdmissionReview v1\n", 31);
		return 0;
	}
	if (w->metrics)
		metrics_counter_add(w->metrics, "vigil_webhook_requests_total",
				    allowed ? "result=\"allowed\"" : "result=\"denied\"", 1);
	text = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	if (!text)
		return -ENOMEM;
	httpd_resp_take(resp, 200, "application/json", text, strlen(text));
	return 0;
}

static int healthz(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	return httpd_resp_set(resp, 200, "text/plain", "ok\n", 3);
}

int webhook_start(const struct webhook_opts *o, struct webhook **out)
{
	struct webhook *w;
	struct httpd_opts ho = {0};
	char cert[4096], key[4096];
	int err;

	if (!o || !o->validate || !o->addr)
		return -EINVAL;
	ho.addr = o->addr;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->validate = o->validate;
	w->ctx = o->ctx;
	w->metrics = o->metrics;
	if (o->cert_file) {
		ho.cert_file = o->cert_file;
		ho.key_file = o->key_file;
		err = certgen_read_file(o->ca_file ? o->ca_file : o->cert_file, &w->ca_pem, NULL);
		if (err) {
			vlog_error("webhook", "msg=\"cannot read CA bundle\" file=%s",
				   o->ca_file ? o->ca_file : o->cert_file);
			goto fail;
		}
	} else {
		char svc[256], svc_ns[256], svc_full[300];
		const char *dns[3] = {svc, svc_ns, svc_full};
		const char *ips[1] = {"127.0.0.1"};
		struct certgen_opts co = {.dir = o->cert_dir,
					  .common_name = svc,
					  .dns_names = dns,
					  .ndns = 3,
					  .ips = ips,
					  .nips = 1};
		const char *name = o->service_name ? o->service_name : "vigil-webhook";
		const char *ns = o->service_ns ? o->service_ns : "vigil-system";

		snprintf(svc, sizeof(svc), "%s.%s.svc", name, ns);
		snprintf(svc_ns, sizeof(svc_ns), "%s.%s", name, ns);
		snprintf(svc_full, sizeof(svc_full), "%s.%s.svc.cluster.local", name, ns);
		err = certgen_write(&co, &w->ca_pem);
		if (err)
			goto fail;
		snprintf(cert, sizeof(cert), "%s/tls.crt", o->cert_dir);
		snprintf(key, sizeof(key), "%s/tls.key", o->cert_dir);
		ho.cert_file = cert;
		ho.key_file = key;
		vlog_info("webhook", "msg=\"generated serving certificate\" dir=%s cn=%s",
			  o->cert_dir, svc);
	}
	err = httpd_new(&ho, &w->h);
	if (!err)
		err = httpd_route(w->h, "POST", WEBHOOK_PATH, handle, w);
	if (!err)
		err = httpd_route(w->h, "GET", "/healthz", healthz, w);
	if (!err)
		err = httpd_start(w->h);
	if (err)
		goto fail;
	*out = w;
	return 0;
fail:
	webhook_free(w);
	return err;
}

const char *webhook_ca_pem(const struct webhook *w)
{
	return w ? w->ca_pem : NULL;
}

int webhook_port(const struct webhook *w)
{
	return w ? httpd_port(w->h) : 0;
}

void webhook_free(struct webhook *w)
{
	if (!w)
		return;
	httpd_free(w->h);
	free(w->ca_pem);
	free(w);
}

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (out)
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

json_t *webhook_config_build(const char *ca_pem, const char *url, const char *svc_ns,
			     const char *svc_name)
{
	char *ca = b64(ca_pem ? ca_pem : "");
	json_t *cc, *cfg;

	if (!ca)
		return NULL;
	if (url) {
		char full[1024];

		snprintf(full, sizeof(full), "%s%s", url, WEBHOOK_PATH);
		cc = json_pack("{s:s, s:s}", "url", full, "caBundle", ca);
	} else {
		cc = json_pack("{s:{s:s, s:s, s:s, s:i}, s:s}", "service", "namespace", svc_ns,
			       "name", svc_name, "path", WEBHOOK_PATH, "port", 443, "caBundle", ca);
	}
	free(ca);
	cfg = json_pack(
	    "{s:s, s:s, s:{s:s, s:{s:s}}, s:[{s:s, s:o, s:[{s:[s], s:[s], s:[s], s:[s, s], s:s}],"
	    " s:s, s:s, s:s, s:i, s:[s]}]}",
	    "apiVersion", "admissionregistration.k8s.io/v1", "kind",
	    "ValidatingWebhookConfiguration", "metadata", "name", WEBHOOK_CONFIG_NAME, "labels",
	    "app.kubernetes.io/managed-by", "vigil-operator", "webhooks", "name",
	    "rulesets.vigil.dev", "clientConfig", cc, "rules", "apiGroups", "vigil.dev",
	    "apiVersions", "v1alpha1", "resources", "rulesets", "operations", "CREATE", "UPDATE",
	    "scope", "Namespaced", "failurePolicy", "Ignore", "sideEffects", "None", "matchPolicy",
	    "Equivalent", "timeoutSeconds", 5, "admissionReviewVersions", "v1");
	return cfg;
}

/* True when every field we set in want is equal in have (the server adds defaults we ignore). */
static bool covers(json_t *have, json_t *want)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(want)) {
		if (!json_is_object(have))
			return false;
		json_object_foreach(want, k,
				    v) if (!covers(json_object_get(have, k), v)) return false;
		return true;
	}
	if (json_is_array(want)) {
		if (!json_is_array(have) || json_array_size(have) != json_array_size(want))
			return false;
		json_array_foreach(want, i,
				   v) if (!covers(json_array_get(have, i), v)) return false;
		return true;
	}
	return json_equal(have, want);
}

int webhook_config_ensure(struct kube_client *c, json_t *desired, bool *changed)
{
	char path[KUBE_PATH_MAX];
	struct kube_error err;
	json_t *cur = NULL, *body = NULL;
	int rc;

	if (changed)
		*changed = false;
	kube_path(path, sizeof(path), &kube_res_validatingwebhooks, NULL, WEBHOOK_CONFIG_NAME,
		  NULL);
	rc = kube_get(c, path, &cur, &err);
	if (rc == -ENOENT) {
		kube_path(path, sizeof(path), &kube_res_validatingwebhooks, NULL, NULL, NULL);
		rc = kube_create(c, path, desired, NULL, &err);
		if (rc == 0) {
			vlog_info("webhook", "msg=\"created webhook configuration\" name=%s",
				  WEBHOOK_CONFIG_NAME);
			if (changed)
				*changed = true;
		}
		goto out;
	}
	if (rc)
		goto out;
	if (covers(json_object_get(cur, "webhooks"), json_object_get(desired, "webhooks")))
		goto out;
	body = json_deep_copy(cur);
	json_object_set(body, "webhooks", json_object_get(desired, "webhooks"));
	rc = kube_update(c, path, body, NULL, &err);
	if (rc == 0) {
		vlog_info("webhook", "msg=\"updated webhook configuration\" name=%s",
			  WEBHOOK_CONFIG_NAME);
		if (changed)
			*changed = true;
	}
out:
	if (rc)
		vlog_warn("webhook",
			  "msg=\"cannot ensure webhook configuration\" code=%d err=\"%s\"",
			  err.code, err.message);
	json_decref(cur);
	json_decref(body);
	return rc;
}
