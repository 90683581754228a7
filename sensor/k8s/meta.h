/* SPDX-License-Identifier: Apache-2.0 */
/*
 * k8s/meta: container id -> Kubernetes metadata (namespace, pod, image), for the k8s.* and
 * container.image.* fields. Filled from the pods on this node (lib/kube, fieldSelector
 * spec.nodeName=<node>, list + watch) and/or from an override file (--pod-metadata):
 *
 *   {"<64-hex container id>": {"namespace": "production", "pod": "payments-db-6f7c9d-mn4xp",
 *     "image": "harbor.golems.internal/golem-trust/payments-db:2.1.4", "container": "db"}}
 *
 * Thread-safe: lookups copy the entry out under a lock.
 */
#ifndef VIGIL_SENSOR_K8S_META_H
#define VIGIL_SENSOR_K8S_META_H

#include <jansson.h>
#include <stdbool.h>

struct kube_client;

struct k8s_pod_meta {
	char ns[64];
	char pod[254];
	char pod_uid[64];
	char container[254];
	char image[512];      /* as in the pod spec/status, e.g. "repo/name:tag" */
	char image_repo[512]; /* "repo/name" */
	char image_tag[128];  /* "tag" ("" when none) */
};

/* Splits an image reference into repository and tag (digest dropped):
 * "reg:5000/a/b:1.2@sha256:..." -> "reg:5000/a/b", "1.2". Outputs truncated to their sizes. */
void k8s_image_split(const char *image, char *repo, size_t repo_len, char *tag, size_t tag_len);

struct k8s_meta;

struct k8s_meta *k8s_meta_new(void);
/* Stops the refresher (if any) and frees. NULL is fine. */
void k8s_meta_free(struct k8s_meta *m);

/* Adds or replaces the override entries from a JSON file (format above). 0, -errno or -EINVAL. */
int k8s_meta_load_file(struct k8s_meta *m, const char *path);

/* Replaces the API-derived entries with those in a PodList (borrowed): each container status's
 * containerID ("containerd://<id>", "cri-o://<id>", "docker://<id>"). Returns entries added. */
int k8s_meta_set_pods(struct k8s_meta *m, json_t *podlist);

/* Copies the entry for cid (64 hex) into *out; overrides win over API entries. */
bool k8s_meta_lookup(struct k8s_meta *m, const char *cid, struct k8s_pod_meta *out);

/* Watches the pods on node (list + watch through c, borrowed, must outlive m) and keeps the
 * entries current as pods come and go, so a new container is known within a second. The watch
 * reconnects by itself; k8s_meta_free stops it. 0 or -errno. */
int k8s_meta_start(struct k8s_meta *m, struct kube_client *c, const char *node);

/* Number of entries (overrides + API). */
size_t k8s_meta_count(struct k8s_meta *m);

#endif
