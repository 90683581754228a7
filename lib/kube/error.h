/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube/error: what went wrong with a Kubernetes request, for the caller to inspect.
 *
 * Every kube_* call that can fail takes an optional `struct kube_error *err` (NULL allowed) that
 * it fills on failure (and zeroes on success). `code` is the HTTP status (0 when no response
 * arrived); `reason`/`message` come from the returned Status object when the server sent one
 * (reason e.g. "NotFound", "Conflict", "AlreadyExists", "Expired", "Gone", "Invalid"), otherwise
 * from the transport or config error ("reason" then is "Transport", "Timeout", "Config", ...).
 * The functions themselves return 0 or a negative errno that summarises the failure:
 *   404 -ENOENT, 409 -EEXIST (AlreadyExists) or -EBUSY (Conflict), 410 -ESTALE, 422/400 -EINVAL,
 *   401/403 -EACCES, 429 -EAGAIN, 5xx -EIO, timeout -ETIMEDOUT, no connection -ECONNREFUSED,
 *   bad JSON -EPROTO, out of memory -ENOMEM.
 */
#ifndef VIGIL_LIB_KUBE_ERROR_H
#define VIGIL_LIB_KUBE_ERROR_H

#include <stdbool.h>

struct kube_error {
	int code;	   /* HTTP status; 0 when there was no HTTP response */
	char reason[64];   /* Status.reason, or a transport/config category */
	char message[512]; /* Status.message or a human-readable description */
};

/* Zeroes err (NULL allowed). */
void kube_error_clear(struct kube_error *err);

/* printf-style setter used by the kube modules (NULL err allowed); returns `ret` for chaining. */
int kube_error_set(struct kube_error *err, int ret, int code, const char *reason, const char *fmt,
		   ...) __attribute__((format(printf, 5, 6)));

/* Maps an HTTP status and Status.reason to the negative errno described above. */
int kube_error_errno(int code, const char *reason);

/* Convenience tests on a filled error (NULL -> false). */
bool kube_error_is_not_found(const struct kube_error *err);	 /* 404 */
bool kube_error_is_conflict(const struct kube_error *err);	 /* 409 reason Conflict */
bool kube_error_is_already_exists(const struct kube_error *err); /* 409 reason AlreadyExists */
bool kube_error_is_gone(const struct kube_error *err);		 /* 410 Gone / Expired */

#endif
