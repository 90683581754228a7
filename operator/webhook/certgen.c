/* SPDX-License-Identifier: Apache-2.0 */
#include "operator/webhook/certgen.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util/log.h"

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -EINVAL;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -EINVAL;
}

static X509 *new_cert(EVP_PKEY *key, const char *cn, int days)
{
	X509 *c = X509_new();
	unsigned char serial[16];
	BIGNUM *bn;

	if (!c)
		return NULL;
	X509_set_version(c, 2);
	RAND_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(c), -3600);
	X509_gmtime_adj(X509_getm_notAfter(c), (long)days * 86400);
	X509_set_pubkey(c, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	return c;
}

static int write_pem(const char *dir, const char *name, X509 *cert, EVP_PKEY *key)
{
	char path[4096];
	FILE *f;
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, key ? 0600 : 0644);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -errno;
	}
	ok = cert ? PEM_write_X509(f, cert)
		  : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0 || !ok)
		return -EIO;
	return 0;
}

static char *cert_pem(X509 *cert)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (!b)
		return NULL;
	if (PEM_write_bio_X509(b, cert)) {
		n = BIO_get_mem_data(b, &data);
		out = malloc((size_t)n + 1);
		if (out) {
			memcpy(out, data, (size_t)n);
			out[n] = '\0';
		}
	}
	BIO_free(b);
	return out;
}

int certgen_write(const struct certgen_opts *o, char **ca_pem)
{
	EVP_PKEY *ca_key = NULL, *key = NULL;
	X509 *ca = NULL, *leaf = NULL;
	char *san = NULL;
	size_t sanlen = 0;
	FILE *sf = NULL;
	int days, err = -EIO;

	if (!o || !o->dir || !o->common_name)
		return -EINVAL;
	days = o->days > 0 ? o->days : 365;
	if (mkdir(o->dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	ca_key = EVP_EC_gen("P-256");
	key = EVP_EC_gen("P-256");
	if (!ca_key || !key)
		goto out;
	/* the CA */
	ca = new_cert(ca_key, "vigil-webhook-ca", days);
	if (!ca)
		goto out;
	X509_set_issuer_name(ca, X509_get_subject_name(ca));
	if (add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE") ||
	    add_ext(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature") ||
	    add_ext(ca, ca, NID_subject_key_identifier, "hash") ||
	    !X509_sign(ca, ca_key, EVP_sha256()))
		goto out;
	/* the serving certificate */
	leaf = new_cert(key, o->common_name, days);
	if (!leaf)
		goto out;
	X509_set_issuer_name(leaf, X509_get_subject_name(ca));
	sf = open_memstream(&san, &sanlen);
	if (!sf)
		goto out;
	fprintf(sf, "DNS:%s", o->common_name);
	for (size_t i = 0; i < o->ndns; i++)
		fprintf(sf, ",DNS:%s", o->dns_names[i]);
	for (size_t i = 0; i < o->nips; i++)
		fprintf(sf, ",IP:%s", o->ips[i]);
	fclose(sf);
	if (add_ext(leaf, ca, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(leaf, ca, NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
	    add_ext(leaf, ca, NID_ext_key_usage, "serverAuth") ||
	    add_ext(leaf, ca, NID_authority_key_identifier, "keyid:always") ||
	    add_ext(leaf, ca, NID_subject_alt_name, san) || !X509_sign(leaf, ca_key, EVP_sha256()))
		goto out;
	err = write_pem(o->dir, "ca.crt", ca, NULL);
	if (!err)
		err = write_pem(o->dir, "tls.crt", leaf, NULL);
	if (!err)
		err = write_pem(o->dir, "tls.key", NULL, key);
	if (!err && ca_pem) {
		*ca_pem = cert_pem(ca);
		if (!*ca_pem)
			err = -ENOMEM;
	}
out:
	if (err) {
		char buf[256];

		ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
		vlog_error("certgen", "msg=\"cannot create webhook certificate\" dir=%s err=\"%s\"",
			   o->dir, buf);
		ERR_clear_error();
	}
	free(san);
	X509_free(leaf);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	return err;
}

int certgen_read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (!f)
		return -errno;
	for (;;) {
		size_t r;

		if (cap - n < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
			cap += 65536;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}
