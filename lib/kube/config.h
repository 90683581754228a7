/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube/config: where the API server is and how to authenticate.
 *
 * Two sources: a kubeconfig file (YAML, parsed with libyaml: the current context, or a named one;
 * its cluster's server, CA as data or file, insecure-skip-tls-verify; its user's client certificate
 * and key as data or files, token or tokenFile) and the in-cluster service account
 * (/var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace} and
 * KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT).
 * Base64 "-data" fields are decoded into memory (PEM); the client hands them to libcurl as blobs,
 * so no temporary files are written. Relative file paths in a kubeconfig are resolved against the
 * kubeconfig's directory.
 */
#ifndef VIGIL_LIB_KUBE_CONFIG_H
#define VIGIL_LIB_KUBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/kube/error.h"

/* Plain data; every string is owned by the struct (NULL when absent). Free with kube_config_free.
 */
struct kube_config {
	char *server;  /* "https://host:port" without a trailing slash */
	char *ns;      /* namespace of the context / service account; "default" when unset */
	char *source;  /* the kubeconfig path, or "in-cluster", for messages */
	char *context; /* context name used (NULL in-cluster) */
	char *ca_file; /* CA bundle path, or NULL */
	char *ca_pem;  /* CA bundle PEM bytes (from certificate-authority-data), or NULL */
	size_t ca_pem_len;
	char *cert_file; /* client certificate path, or NULL */
	char *cert_pem;	 /* client certificate PEM bytes, or NULL */
	size_t cert_pem_len;
	char *key_file; /* client key path, or NULL */
	char *key_pem;	/* client key PEM bytes, or NULL */
	size_t key_pem_len;
	char *token;	  /* bearer token, or NULL */
	char *token_file; /* bearer token file (re-read by the client every minute), or NULL */
	bool insecure;	  /* insecure-skip-tls-verify: do not verify the server certificate */
};

/*
 * Loads a kubeconfig. path: borrowed; NULL means $KUBECONFIG (first entry if a list), else
 * ~/.kube/config. context: borrowed; NULL means current-context. On success *out is new (caller
 * frees with kube_config_free). On failure returns -ENOENT (file or context/cluster/user missing),
 * -EINVAL (malformed) or -ENOMEM, and err->message names the file and the context.
 */
int kube_config_load(const char *path, const char *context, struct kube_config **out,
		     struct kube_error *err);

/*
 * Loads the in-cluster service-account configuration. sa_dir: borrowed; NULL means
 * /var/run/secrets/kubernetes.io/serviceaccount (tests pass their own). Needs
 * KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT. *out is new (caller frees).
 * Returns -ENOENT when not running in a cluster.
 */
int kube_config_in_cluster(const char *sa_dir, struct kube_config **out, struct kube_error *err);

/*
 * The usual choice for programs: an explicit path (--kubeconfig) if given, else $KUBECONFIG if
 * set, else in-cluster if KUBERNETES_SERVICE_HOST is set, else ~/.kube/config. *out is new.
 */
int kube_config_auto(const char *path, struct kube_config **out, struct kube_error *err);

/* The namespace (borrowed from cfg, never NULL; "default" when cfg is NULL). */
const char *kube_config_namespace(const struct kube_config *cfg);

/* Deep copy; returns new or NULL on ENOMEM. */
struct kube_config *kube_config_dup(const struct kube_config *cfg);

/* Frees cfg and its strings; NULL allowed. */
void kube_config_free(struct kube_config *cfg);

#endif
