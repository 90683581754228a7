/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/kube/error.h"

void kube_error_clear(struct kube_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

int kube_error_set(struct kube_error *err, int ret, int code, const char *reason, const char *fmt,
		   ...)
{
	va_list ap;

	if (!err)
		return ret;
	err->code = code;
	snprintf(err->reason, sizeof(err->reason), "%s", reason ? reason : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return ret;
}

int kube_error_errno(int code, const char *reason)
{
	if (code >= 200 && code < 300)
		return 0;
	switch (code) {
	case 400:
	case 422:
		return -EINVAL;
	case 401:
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 409:
		return reason && !strcmp(reason, "AlreadyExists") ? -EEXIST : -EBUSY;
	case 410:
		return -ESTALE;
	case 429:
		return -EAGAIN;
	case 0:
		return -ECONNREFUSED;
	default:
		return code >= 500 ? -EIO : -EPROTO;
	}
}

bool kube_error_is_not_found(const struct kube_error *err)
{
	return err && err->code == 404;
}

bool kube_error_is_conflict(const struct kube_error *err)
{
	return err && err->code == 409 && strcmp(err->reason, "AlreadyExists") != 0;
}

bool kube_error_is_already_exists(const struct kube_error *err)
{
	return err && err->code == 409 && !strcmp(err->reason, "AlreadyExists");
}

bool kube_error_is_gone(const struct kube_error *err)
{
	return err && (err->code == 410 || !strcmp(err->reason, "Expired") ||
		       !strcmp(err->reason, "Gone"));
}
