/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube/client: REST calls to the Kubernetes API server (libcurl + OpenSSL, JSON with jansson).
 *
 * Threading: one client may be used from many threads at once. Each request uses its own CURL
 * easy handle; connections, TLS sessions and DNS are shared through a locked CURLSH, so
 * keep-alive still works. curl_global_init runs once (pthread_once).
 *
 * Retries: GET/LIST/PUT/DELETE (idempotent) are retried on connection errors, 5xx and 429;
 * POST and PATCH only on 429 (the request was not processed). The wait is exponential
 * (base_ms doubling up to max_ms) with +-25% jitter, or Retry-After when the server gives one.
 *
 * Paths come from kube/path.h. Bodies: borrowed json_t (never modified). Results: *out, when
 * out is not NULL, is a new reference on success (caller json_decref's), NULL on failure.
 */
#ifndef VIGIL_LIB_KUBE_CLIENT_H
#define VIGIL_LIB_KUBE_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "lib/kube/config.h"
#include "lib/kube/error.h"
#include "lib/kube/path.h"

struct kube_client;

/* Optional tuning; zero fields take the defaults in brackets. */
struct kube_client_opts {
	int timeout_ms;		   /* whole request, not watches [30000] */
	int connect_timeout_ms;	   /* [5000] */
	int max_retries;	   /* retries after the first attempt [4]; -1 for none */
	int backoff_base_ms;	   /* first retry wait [200] */
	int backoff_max_ms;	   /* cap on one wait, Retry-After included [30000] */
	const char *user_agent;	   /* borrowed during _new [vigil/<version>] */
	const char *field_manager; /* for server-side apply [vigil] */
};

/*
 * Creates a client. cfg is TAKEN (freed by kube_client_free, also on failure). opts: borrowed,
 * NULL for defaults. *out is new (caller frees). Returns 0, -EINVAL, -ENOENT (unreadable CA /
 * cert files) or -ENOMEM.
 */
int kube_client_new(struct kube_config *cfg, const struct kube_client_opts *opts,
		    struct kube_client **out);

/* Frees the client; no request may be running. NULL allowed. */
void kube_client_free(struct kube_client *c);

/* The configuration (borrowed, valid while c lives). */
const struct kube_config *kube_client_config(const struct kube_client *c);

/* GET an object. */
int kube_get(struct kube_client *c, const char *path, json_t **out, struct kube_error *err);

/* Options of kube_list; zero/NULL fields mean "none". Strings borrowed, not yet encoded. */
struct kube_list_opts {
	const char *label_selector; /* e.g. "app=vigil,tier!=x" */
	const char *field_selector; /* e.g. "spec.nodeName=node-1" */
	int limit;		    /* page size; 0 -> 500 */
};

/*
 * LIST a collection, following `continue` until the end; *out is a new object
 * {"kind":"...List","apiVersion":..,"metadata":{"resourceVersion":<of the first page>},
 * "items":[all pages]}. A 410 in the middle of paging restarts the list once from the start.
 */
int kube_list(struct kube_client *c, const char *path, const struct kube_list_opts *opts,
	      json_t **out, struct kube_error *err);

/* POST body to a collection path. */
int kube_create(struct kube_client *c, const char *path, json_t *body, json_t **out,
		struct kube_error *err);

/* PUT body to an object path (or its /status: kube_path(..., "status")). 409 on stale
 * metadata.resourceVersion. */
int kube_update(struct kube_client *c, const char *path, json_t *body, json_t **out,
		struct kube_error *err);

enum kube_patch_type {
	KUBE_PATCH_MERGE,     /* application/merge-patch+json (body: partial object) */
	KUBE_PATCH_JSON,      /* application/json-patch+json (body: array of ops) */
	KUBE_PATCH_STRATEGIC, /* application/strategic-merge-patch+json (built-in kinds only) */
	KUBE_PATCH_APPLY,     /* application/apply-patch+yaml, fieldManager=<opts>, force=true */
};

/* PATCH an object (or /status). */
int kube_patch(struct kube_client *c, const char *path, enum kube_patch_type type, json_t *body,
	       json_t **out, struct kube_error *err);

#define KUBE_GRACE_NOW (-1)

/* Options of kube_delete; NULL strings are left out. Borrowed. */
struct kube_delete_opts {
	const char *propagation;      /* "Foreground", "Background" or "Orphan" */
	const char *precondition_uid; /* delete only this incarnation */
	const char *precondition_rv;  /* delete only at this resourceVersion */
	int grace_seconds; /* 0: server default; >0: that many seconds; KUBE_GRACE_NOW: 0 */
};

/* DELETE an object; opts may be NULL. *out (if asked) is what the server returned
 * (the object or a Status). 404 is reported as an error like any other. */
int kube_delete(struct kube_client *c, const char *path, const struct kube_delete_opts *opts,
		json_t **out, struct kube_error *err);

/*
 * Any request. method: "GET", "POST", ... ; content_type: NULL -> application/json;
 * body: borrowed or NULL. Retries as described at the top.
 */
int kube_request(struct kube_client *c, const char *method, const char *path,
		 const char *content_type, json_t *body, json_t **out, struct kube_error *err);

/*
 * Counters for /metrics. Calls fn once per (verb, HTTP code) seen so far; verb is
 * "GET", "LIST", "WATCH", "POST", "PUT", "PATCH" or "DELETE" (static string); code 0 is a
 * transport error. Runs under an internal lock: fn must not call back into the client.
 */
void kube_client_metrics_foreach(struct kube_client *c,
				 void (*fn)(void *ctx, const char *verb, int code, uint64_t n),
				 void *ctx);

/* Total retries made (all verbs). */
uint64_t kube_client_retries(struct kube_client *c);

#endif
