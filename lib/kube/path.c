/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kube/path.h"

const struct kube_resource kube_res_rulesets = {"vigil.dev", "v1alpha1", "rulesets", "RuleSet",
						true};
const struct kube_resource kube_res_sensorfleets = {"vigil.dev", "v1alpha1", "sensorfleets",
						    "SensorFleet", true};
const struct kube_resource kube_res_sensornodes = {"vigil.dev", "v1alpha1", "sensornodes",
						   "SensorNode", false};
const struct kube_resource kube_res_pods = {"", "v1", "pods", "Pod", true};
const struct kube_resource kube_res_nodes = {"", "v1", "nodes", "Node", false};
const struct kube_resource kube_res_configmaps = {"", "v1", "configmaps", "ConfigMap", true};
const struct kube_resource kube_res_events = {"", "v1", "events", "Event", true};
const struct kube_resource kube_res_leases = {"coordination.k8s.io", "v1", "leases", "Lease", true};
const struct kube_resource kube_res_daemonsets = {"apps", "v1", "daemonsets", "DaemonSet", true};
const struct kube_resource kube_res_validatingwebhooks = {"admissionregistration.k8s.io", "v1",
							  "validatingwebhookconfigurations",
							  "ValidatingWebhookConfiguration", false};

static bool url_unreserved(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

/* Appends s percent-encoded at buf+*pos; returns 0 or -ENAMETOOLONG. */
static int append_enc(char *buf, size_t len, size_t *pos, const char *s, bool encode)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (!encode || url_unreserved(ch)) {
			if (*pos + 1 >= len)
				return -ENAMETOOLONG;
			buf[(*pos)++] = (char)ch;
		} else {
			if (*pos + 3 >= len)
				return -ENAMETOOLONG;
			buf[(*pos)++] = '%';
			buf[(*pos)++] = hex[ch >> 4];
			buf[(*pos)++] = hex[ch & 15];
		}
	}
	buf[*pos] = '\0';
	return 0;
}

int kube_path_build(char *buf, size_t len, const char *group, const char *version, const char *ns,
		    const char *plural, const char *name, const char *sub)
{
	size_t pos = 0;
	int ret;

	if (!buf || !len || !version || !plural || !*plural)
		return -EINVAL;
	buf[0] = '\0';
	if (group && *group) {
		ret = append_enc(buf, len, &pos, "/apis/", false);
		ret = ret ?: append_enc(buf, len, &pos, group, false);
		ret = ret ?: append_enc(buf, len, &pos, "/", false);
	} else {
		ret = append_enc(buf, len, &pos, "/api/", false);
	}
	ret = ret ?: append_enc(buf, len, &pos, version, false);
	if (ns && *ns) {
		ret = ret ?: append_enc(buf, len, &pos, "/namespaces/", false);
		ret = ret ?: append_enc(buf, len, &pos, ns, true);
	}
	ret = ret ?: append_enc(buf, len, &pos, "/", false);
	ret = ret ?: append_enc(buf, len, &pos, plural, false);
	if (name && *name) {
		ret = ret ?: append_enc(buf, len, &pos, "/", false);
		ret = ret ?: append_enc(buf, len, &pos, name, true);
		if (sub && *sub) {
			ret = ret ?: append_enc(buf, len, &pos, "/", false);
			ret = ret ?: append_enc(buf, len, &pos, sub, false);
		}
	} else if (sub && *sub) {
		return -EINVAL;
	}
	if (ret)
		return ret;
	return (int)pos;
}

int kube_path(char *buf, size_t len, const struct kube_resource *res, const char *ns,
	      const char *name, const char *sub)
{
	if (!res)
		return -EINVAL;
	if (!res->namespaced)
		ns = NULL;
	else if (name && *name && !(ns && *ns))
		return -EINVAL;
	return kube_path_build(buf, len, res->group, res->version, ns, res->plural, name, sub);
}

char *kube_url_encode(const char *s)
{
	size_t len, pos = 0;
	char *out;

	if (!s)
		s = "";
	len = strlen(s) * 3 + 1;
	out = malloc(len);
	if (!out)
		return NULL;
	out[0] = '\0';
	append_enc(out, len, &pos, s, true);
	return out;
}
