/* SPDX-License-Identifier: Apache-2.0 */
/*
 * webhook/certstore: one webhook certificate shared by every replica, kept in a Secret
 * (kubernetes.io/tls with ca.crt) in the operator's namespace. The first replica generates it
 * (certgen) and creates the Secret; the others, and later restarts, use what it holds, so the
 * caBundle never flaps between replicas.
 */
#ifndef VIGIL_OPERATOR_WEBHOOK_CERTSTORE_H
#define VIGIL_OPERATOR_WEBHOOK_CERTSTORE_H

#include "lib/kube/client.h"
#include "operator/webhook/certgen.h"

/*
 * Makes sure opts->dir holds ca.crt, tls.crt and tls.key matching the Secret ns/name, creating
 * both when the Secret is absent (an AlreadyExists race is resolved by reading the winner's).
 * Returns 0 or -errno (logged).
 */
int certstore_sync(struct kube_client *c, const char *ns, const char *name,
		   const struct certgen_opts *opts);

#endif
