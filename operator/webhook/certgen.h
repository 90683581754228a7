/* SPDX-License-Identifier: Apache-2.0 */
/*
 * webhook/certgen: a private CA and a serving certificate for the admission webhook, made with
 * OpenSSL at start-up when no certificate is given. Keys are ECDSA P-256.
 */
#ifndef VIGIL_OPERATOR_WEBHOOK_CERTGEN_H
#define VIGIL_OPERATOR_WEBHOOK_CERTGEN_H

#include <stddef.h>

struct certgen_opts {
	const char *dir;	      /* output folder (created, mode 0700); borrowed */
	const char *common_name;      /* leaf CN, e.g. "vigil-webhook.vigil-system.svc" */
	const char *const *dns_names; /* subjectAltName DNS entries */
	size_t ndns;
	const char *const *ips; /* subjectAltName IP entries ("127.0.0.1") */
	size_t nips;
	int days; /* validity [365] */
};

/*
 * Writes DIR/ca.crt, DIR/tls.crt (leaf) and DIR/tls.key (0600). On success *ca_pem (if not NULL)
 * is a new string holding the CA certificate PEM (caller frees), for the webhook caBundle.
 * Returns 0, -EINVAL, -EIO or -ENOMEM.
 */
int certgen_write(const struct certgen_opts *opts, char **ca_pem);

/* Reads a whole file into a new NUL-terminated string (caller frees). 0 or -errno. */
int certgen_read_file(const char *path, char **out, size_t *len);

#endif
