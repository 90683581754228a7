/* SPDX-License-Identifier: Apache-2.0 */
/*
 * webhook: the validating admission webhook for RuleSets, served over HTTPS (lib/httpd), and the
 * ValidatingWebhookConfiguration that points the API server at it (caBundle kept current).
 *
 *   POST /validate-rulesets   AdmissionReview v1 in, AdmissionReview v1 out
 *
 * The webhook only answers; what is valid is decided by the callback (the RuleSet controller
 * compiles spec.rules with lib/rules, the same engine the sensors run).
 */
#ifndef VIGIL_OPERATOR_WEBHOOK_WEBHOOK_H
#define VIGIL_OPERATOR_WEBHOOK_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "lib/httpd/httpd.h"
#include "lib/kube/client.h"
#include "operator/metrics/metrics.h"

#define WEBHOOK_PATH "/validate-rulesets"
#define WEBHOOK_CONFIG_NAME "vigil-rulesets"

/* Validates a RuleSet object (borrowed). Returns 0 when valid, 1 when invalid (msg, msglen
 * bytes, says why: rule and line:column), negative errno on an internal failure. */
typedef int (*webhook_validate_fn)(void *ctx, const json_t *ruleset, char *msg, size_t msglen);

/* Answers one AdmissionReview body: *out is the response review (new reference). Pure apart from
 * calling fn; exposed for tests. Returns 0 or -EPROTO (then *out is NULL). */
int webhook_review(const char *body, size_t len, webhook_validate_fn fn, void *ctx, json_t **out,
		   bool *allowed);

struct webhook;

struct webhook_opts {
	const char *addr;      /* "127.0.0.1:9443" */
	const char *cert_file; /* PEM; NULL -> generate into cert_dir */
	const char *key_file;
	const char *ca_file;	  /* caBundle source when cert_file is given; NULL -> cert_file */
	const char *cert_dir;	  /* where generated certificates go */
	const char *service_ns;	  /* for the generated certificate's names */
	const char *service_name; /* "vigil-webhook" */
	webhook_validate_fn validate;
	void *ctx;
	struct metrics *metrics; /* optional, borrowed */
};

/* Starts the HTTPS server (certificate generated when absent). *out new. 0 or -errno. */
int webhook_start(const struct webhook_opts *opts, struct webhook **out);

/* The CA bundle PEM the API server must trust (borrowed, valid while w lives). */
const char *webhook_ca_pem(const struct webhook *w);

/* The bound port. */
int webhook_port(const struct webhook *w);

/* Stops and frees. NULL allowed. */
void webhook_free(struct webhook *w);

/*
 * Builds the ValidatingWebhookConfiguration (new reference). With url (e.g.
 * "https://127.0.0.1:9443") the clientConfig is {url: url + WEBHOOK_PATH}; otherwise it names the
 * Service svc_ns/svc_name on port 443. failurePolicy Ignore (see docs/webhook.md).
 */
json_t *webhook_config_build(const char *ca_pem, const char *url, const char *svc_ns,
			     const char *svc_name);

/*
 * Creates the configuration, or updates it when its webhooks differ from desired (borrowed).
 * *changed (may be NULL) says whether a write happened. 0 or -errno (logged).
 */
int webhook_config_ensure(struct kube_client *c, json_t *desired, bool *changed);

#endif
