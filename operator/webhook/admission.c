/* SPDX-License-Identifier: Apache-2.0 */
#include "operator/webhook/admission.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void copy_str(char *dst, size_t len, const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	snprintf(dst, len, "%s", s ? s : "");
}

int admission_decode(const char *body, size_t len, json_t **review, struct admission_req *req,
		     char *msg, size_t msglen)
{
	json_error_t jerr;
	json_t *root, *r;
	const char *api, *kind;

	*review = NULL;
	memset(req, 0, sizeof(*req));
	root = json_loadb(body, len, 0, &jerr);
	if (!root) {
		snprintf(msg, msglen, "body is not JSON: %s (line %d)", jerr.text, jerr.line);
		return -EPROTO;
	}
	api = json_string_value(json_object_get(root, "apiVersion"));
	kind = json_string_value(json_object_get(root, "kind"));
	r = json_object_get(root, "request");
	if (!api || strcmp(api, "admission.k8s.io/v1") != 0 || !kind ||
	    strcmp(kind, "AdmissionReview") != 0) {
		snprintf(msg, msglen, "expected an admission.k8s.io/v1 AdmissionReview");
		goto bad;
	}
	if (!json_is_object(r) || !json_string_value(json_object_get(r, "uid"))) {
		snprintf(msg, msglen, "AdmissionReview has no request.uid");
		goto bad;
	}
	copy_str(req->uid, sizeof(req->uid), r, "uid");
	copy_str(req->operation, sizeof(req->operation), r, "operation");
	copy_str(req->group, sizeof(req->group), json_object_get(r, "kind"), "group");
	copy_str(req->kind, sizeof(req->kind), json_object_get(r, "kind"), "kind");
	copy_str(req->ns, sizeof(req->ns), r, "namespace");
	copy_str(req->name, sizeof(req->name), r, "name");
	req->object = json_object_get(r, "object");
	req->old_object = json_object_get(r, "oldObject");
	if (json_is_null(req->object))
		req->object = NULL;
	if (json_is_null(req->old_object))
		req->old_object = NULL;
	if (!req->name[0] && req->object)
		copy_str(req->name, sizeof(req->name), json_object_get(req->object, "metadata"),
			 "name");
	*review = root;
	return 0;
bad:
	json_decref(root);
	return -EPROTO;
}

json_t *admission_response(const char *uid, bool allowed, int code, const char *reason,
			   const char *message)
{
	json_t *resp = json_pack("{s:s, s:b}", "uid", uid ? uid : "", "allowed", allowed);
	json_t *st;

	if (!resp)
		return NULL;
	if (!allowed || message) {
		st = json_pack("{s:i}", "code", code ? code : (allowed ? 200 : 403));
		if (reason)
			json_object_set_new(st, "reason", json_string(reason));
		if (message)
			json_object_set_new(st, "message", json_string(message));
		json_object_set_new(resp, "status", st);
	}
	return json_pack("{s:s, s:s, s:o}", "apiVersion", "admission.k8s.io/v1", "kind",
			 "AdmissionReview", "response", resp);
}
