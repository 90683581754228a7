/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube/internal: pieces of the client shared with kube/watch. Not for use outside lib/kube.
 */
#ifndef VIGIL_LIB_KUBE_INTERNAL_H
#define VIGIL_LIB_KUBE_INTERNAL_H

#include <curl/curl.h>
#include <stdatomic.h>
#include <stddef.h>

#include "lib/kube/client.h"

/*
 * A new CURL easy handle for method + path (path may carry a query) with TLS, auth, user agent
 * and timeouts set up; no overall timeout when stream is true (watches). *hdrs receives the
 * header list to free with curl_slist_free_all after the transfer. NULL on ENOMEM.
 */
CURL *kube_client_easy(struct kube_client *c, const char *method, const char *path, int stream,
		       struct curl_slist **hdrs);

/* kube_list that gives up (-ECANCELED) soon after *cancel becomes non-zero. */
int kube_list_cancel(struct kube_client *c, const char *path, const struct kube_list_opts *opts,
		     json_t **out, struct kube_error *err, const atomic_int *cancel);

/* Appends "?k=v" or "&k=v" (v percent-encoded) to *url, a malloc'd string it reallocates.
 * v NULL or "" adds nothing. Returns 0 or -ENOMEM. */
int kube_url_add(char **url, const char *k, const char *v);

/* Counts one request in the metrics (verb static). */
void kube_client_count(struct kube_client *c, const char *verb, int code);

/* Fills err from an error response (a Status object or any text); returns the negative errno. */
int kube_status_parse(int code, const char *body, size_t len, struct kube_error *err);

/* Fills err from a curl failure; returns the negative errno. */
int kube_curl_error(CURLcode rc, const char *errbuf, struct kube_error *err);

/* Jittered exponential backoff: base * 2^attempt capped at max, times [1-j, 1+j]. */
long kube_backoff_ms(long base_ms, long max_ms, int attempt, double jitter);

/* Sleeps ms milliseconds. */
void kube_sleep_ms(long ms);

/* Monotonic milliseconds. */
long long kube_now_ms(void);

#endif
