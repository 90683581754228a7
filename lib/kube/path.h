/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube/path: resource descriptors and REST paths.
 *
 *   char p[KUBE_PATH_MAX];
 *   kube_path(p, sizeof(p), &kube_res_rulesets, "vigil-system", "default", "status");
 *   -> /apis/vigil.dev/v1alpha1/namespaces/vigil-system/rulesets/default/status
 *   kube_path(p, sizeof(p), &kube_res_pods, NULL, NULL, NULL) -> /api/v1/pods (all namespaces)
 */
#ifndef VIGIL_LIB_KUBE_PATH_H
#define VIGIL_LIB_KUBE_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define KUBE_PATH_MAX 1024

/* A resource type. All strings static. group "" is the core group (/api/v1). */
struct kube_resource {
	const char *group;
	const char *version;
	const char *plural;
	const char *kind;
	bool namespaced;
};

/* The resources Vigil uses (static, never freed). */
extern const struct kube_resource kube_res_rulesets;	 /* vigil.dev/v1alpha1, namespaced */
extern const struct kube_resource kube_res_sensorfleets; /* vigil.dev/v1alpha1, namespaced */
extern const struct kube_resource kube_res_sensornodes;	 /* vigil.dev/v1alpha1, cluster */
extern const struct kube_resource kube_res_pods;
extern const struct kube_resource kube_res_nodes;
extern const struct kube_resource kube_res_configmaps;
extern const struct kube_resource kube_res_events;
extern const struct kube_resource kube_res_leases;	       /* coordination.k8s.io/v1 */
extern const struct kube_resource kube_res_daemonsets;	       /* apps/v1 */
extern const struct kube_resource kube_res_validatingwebhooks; /* admissionregistration.k8s.io/v1 */

/*
 * Writes the path of a collection (name NULL) or object into buf (len bytes, NUL-terminated).
 * ns: NULL/"" means all namespaces (collections) and is ignored for cluster-scoped resources.
 * sub: subresource ("status") or NULL. Name and namespace are percent-encoded.
 * Returns the length, or -ENAMETOOLONG / -EINVAL (object of a namespaced kind without ns).
 */
int kube_path(char *buf, size_t len, const struct kube_resource *res, const char *ns,
	      const char *name, const char *sub);

/*
 * Same from raw parts (group "" -> /api/<version>), for kinds without a descriptor.
 */
int kube_path_build(char *buf, size_t len, const char *group, const char *version, const char *ns,
		    const char *plural, const char *name, const char *sub);

/* Percent-encodes s for a URL query value (selectors, continue tokens). New string, caller
 * frees; NULL on ENOMEM. */
char *kube_url_encode(const char *s);

#endif
