/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for operator/webhook: AdmissionReview decode/encode, the review decision, generated
 * certificates served over HTTPS and verified against the CA bundle, the configuration body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "operator/webhook/admission.h"
#include "operator/webhook/certgen.h"
#include "operator/webhook/webhook.h"

static const char *review_json =
    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
    "\"uid\":\"705ab4f5-6393-11e8-b7cc-42010a800002\",\"kind\":{\"group\":\"vigil.dev\","
    "\"version\":\"v1alpha1\",\"kind\":\"RuleSet\"},\"operation\":\"CREATE\",\"namespace\":"
    "\"team-a\",\"name\":\"base\",\"object\":{\"apiVersion\":\"vigil.dev/v1alpha1\",\"kind\":"
    "\"RuleSet\",\"metadata\":{\"name\":\"base\",\"namespace\":\"team-a\"},\"spec\":{\"rules\":"
    "\"%s\"}},\"oldObject\":null}}";

static void test_decode(void **state)
{
	char body[2048], msg[256];
	struct admission_req req;
	json_t *review;

	snprintf(body, sizeof(body), review_json, "- rule: x");
	assert_int_equal(admission_decode(body, strlen(body), &review, &req, msg, sizeof(msg)), 0);
	assert_string_equal(req.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
	assert_string_equal(req.operation, "CREATE");
	assert_string_equal(req.kind, "RuleSet");
	assert_string_equal(req.group, "vigil.dev");
	assert_string_equal(req.ns, "team-a");
	assert_string_equal(req.name, "base");
	assert_non_null(req.object);
	assert_null(req.old_object);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(req.object, "spec"), "rules")),
	    "- rule: x");
	json_decref(review);

	assert_int_equal(admission_decode("{", 1, &review, &req, msg, sizeof(msg)), -EPROTO);
	assert_null(review);
	strcpy(body, "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\","
		     "\"request\":{\"uid\":\"1\"}}");
	assert_int_equal(admission_decode(body, strlen(body), &review, &req, msg, sizeof(msg)),
			 -EPROTO);
	strcpy(body, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}");
	assert_int_equal(admission_decode(body, strlen(body), &review, &req, msg, sizeof(msg)),
			 -EPROTO);
	assert_non_null(strstr(msg, "uid"));
}

static void test_encode(void **state)
{
	json_t *r = admission_response("u1", false, 422, "Invalid", "rule 'x' 3:7: unknown field");
	char *text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);

	assert_string_equal(text, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":"
				  "\"AdmissionReview\",\"response\":{\"allowed\":false,\"status\":{"
				  "\"code\":422,\"message\":\"rule 'x' 3:7: unknown field\","
				  "\"reason\":\"Invalid\"},\"uid\":\"u1\"}}");
	free(text);
	json_decref(r);
	r = admission_response("u2", true, 0, NULL, NULL);
	text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text,
			    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":"
			    "\"AdmissionReview\",\"response\":{\"allowed\":true,\"uid\":\"u2\"}}");
	free(text);
	json_decref(r);
}

/* Fake validator: rules containing "bad" are invalid. */
static int fake_validate(void *ctx, const json_t *rs, char *msg, size_t len)
{
	const char *rules =
	    json_string_value(json_object_get(json_object_get(rs, "spec"), "rules"));

	(*(int *)ctx)++;
	if (rules && strstr(rules, "bad")) {
		snprintf(msg, len, "rule 'r' 1:9: broken");
		return 1;
	}
	return 0;
}

static void test_review(void **state)
{
	char body[2048];
	json_t *out;
	bool allowed;
	int calls = 0;
	json_t *resp;

	snprintf(body, sizeof(body), review_json, "- rule: ok");
	assert_int_equal(webhook_review(body, strlen(body), fake_validate, &calls, &out, &allowed),
			 0);
	assert_true(allowed);
	assert_int_equal(calls, 1);
	json_decref(out);

	snprintf(body, sizeof(body), review_json, "- rule: bad");
	assert_int_equal(webhook_review(body, strlen(body), fake_validate, &calls, &out, &allowed),
			 0);
	assert_false(allowed);
	resp = json_object_get(out, "response");
	assert_string_equal(json_string_value(json_object_get(resp, "uid")),
			    "705ab4f5-6393-11e8-b7cc-42010a800002");
	assert_true(json_is_false(json_object_get(resp, "allowed")));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(resp, "status"), "message")),
	    "RuleSet team-a/base: spec.rules: rule 'r' 1:9: broken");
	json_decref(out);
	assert_int_equal(webhook_review("x", 1, fake_validate, &calls, &out, &allowed), -EPROTO);
}

struct sink {
	char data[8192];
	size_t len;
};

static size_t sink_fn(char *p, size_t sz, size_t n, void *arg)
{
	struct sink *b = arg;
	size_t len = sz * n;

	if (b->len + len >= sizeof(b->data))
		len = sizeof(b->data) - b->len - 1;
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return sz * n;
}

static void test_https_with_generated_cert(void **state)
{
	char dir[] = "/tmp/vigil-webhook-test-XXXXXX", url[128], ca[256], body[2048];
	struct webhook_opts o = {.addr = "127.0.0.1:0", .validate = fake_validate};
	struct webhook *w = NULL;
	struct sink s = {.len = 0};
	struct curl_slist *h = NULL;
	int calls = 0;
	long code = 0;
	CURL *c;

	assert_non_null(mkdtemp(dir));
	o.cert_dir = dir;
	o.ctx = &calls;
	assert_int_equal(webhook_start(&o, &w), 0);
	assert_non_null(strstr(webhook_ca_pem(w), "BEGIN CERTIFICATE"));
	snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", webhook_port(w), WEBHOOK_PATH);
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(body, sizeof(body), review_json, "- rule: bad");
	c = curl_easy_init();
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca); /* verifies chain and the 127.0.0.1 SAN */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_fn);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	assert_int_equal(code, 200);
	assert_non_null(strstr(s.data, "\"allowed\":false"));
	assert_int_equal(calls, 1);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	webhook_free(w);
	snprintf(body, sizeof(body), "rm -rf '%s'", dir);
	assert_int_equal(system(body), 0);
}

static void test_config_build(void **state)
{
	json_t *cfg = webhook_config_build("PEM", "https://127.0.0.1:9443", NULL, NULL);
	json_t *wh = json_array_get(json_object_get(cfg, "webhooks"), 0);
	json_t *cc = json_object_get(wh, "clientConfig");

	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(cfg, "metadata"), "name")),
	    "vigil-rulesets");
	assert_string_equal(json_string_value(json_object_get(cc, "url")),
			    "https://127.0.0.1:9443/validate-rulesets");
	assert_string_equal(json_string_value(json_object_get(cc, "caBundle")), "UEVN");
	assert_string_equal(json_string_value(json_object_get(wh, "failurePolicy")), "Ignore");
	assert_string_equal(json_string_value(json_object_get(wh, "sideEffects")), "None");
	json_decref(cfg);
	cfg = webhook_config_build("PEM", NULL, "vigil-system", "vigil-webhook");
	cc = json_object_get(json_array_get(json_object_get(cfg, "webhooks"), 0), "clientConfig");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(cc, "service"), "name")),
	    "vigil-webhook");
	assert_null(json_object_get(cc, "url"));
	json_decref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode),	 cmocka_unit_test(test_encode),
	    cmocka_unit_test(test_review),	 cmocka_unit_test(test_https_with_generated_cert),
	    cmocka_unit_test(test_config_build),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
