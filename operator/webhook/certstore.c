/* SPDX-License-Identifier: Apache-2.0 */
#include "operator/webhook/certstore.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/kube/path.h"
#include "lib/util/log.h"

static const char *const files[] = {"ca.crt", "tls.crt", "tls.key"};

static char *b64_encode(const char *s, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (out)
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static int write_decoded(const char *dir, const char *name, const char *b64)
{
	size_t n = strlen(b64), pad = 0;
	unsigned char *buf = malloc(n / 4 * 3 + 3);
	char path[4096];
	int len, fd, err = 0;

	if (!buf)
		return -ENOMEM;
	len = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)n);
	if (len < 0) {
		free(buf);
		return -EINVAL;
	}
	while (n && b64[n - 1] == '=') {
		pad++;
		n--;
	}
	len -= (int)pad;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, buf, (size_t)len) != len)
		err = -EIO;
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}

static int from_secret(const json_t *secret, const char *dir)
{
	json_t *data = json_object_get(secret, "data");

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	for (size_t i = 0; i < 3; i++) {
		const char *v = json_string_value(json_object_get(data, files[i]));
		int err;

		if (!v)
			return -ENOENT;
		err = write_decoded(dir, files[i], v);
		if (err)
			return err;
	}
	return 0;
}

int certstore_sync(struct kube_client *c, const char *ns, const char *name,
		   const struct certgen_opts *opts)
{
	char path[KUBE_PATH_MAX], file[4096];
	struct kube_error err;
	json_t *secret = NULL, *body = NULL, *data;
	int rc;

	kube_path_build(path, sizeof(path), "", "v1", ns, "secrets", name, NULL);
	rc = kube_get(c, path, &secret, &err);
	if (rc == 0) {
		rc = from_secret(secret, opts->dir);
		if (rc == 0)
			vlog_info("webhook",
				  "msg=\"using webhook certificate from secret\" secret=%s/%s", ns,
				  name);
		goto out;
	}
	if (rc != -ENOENT)
		goto fail;
	rc = certgen_write(opts, NULL);
	if (rc)
		goto out;
	data = json_object();
	for (size_t i = 0; i < 3; i++) {
		char *text = NULL, *enc;
		size_t len = 0;

		snprintf(file, sizeof(file), "%s/%s", opts->dir, files[i]);
		rc = certgen_read_file(file, &text, &len);
		if (rc) {
			json_decref(data);
			goto out;
		}
		enc = b64_encode(text, len);
		free(text);
		json_object_set_new(data, files[i], json_string(enc ? enc : ""));
		free(enc);
	}
	body = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:s, s:o}", "apiVersion", "v1", "kind",
			 "Secret", "metadata", "name", name, "namespace", ns, "labels",
			 "app.kubernetes.io/part-of", "vigil", "type", "kubernetes.io/tls", "data",
			 data);
	kube_path_build(path, sizeof(path), "", "v1", ns, "secrets", NULL, NULL);
	rc = kube_create(c, path, body, NULL, &err);
	if (rc == 0) {
		vlog_info("webhook", "msg=\"stored webhook certificate\" secret=%s/%s", ns, name);
		goto out;
	}
	if (kube_error_is_already_exists(&err)) {
		/* another replica won the race: use its certificate */
		kube_path_build(path, sizeof(path), "", "v1", ns, "secrets", name, NULL);
		rc = kube_get(c, path, &secret, &err);
		if (rc == 0)
			rc = from_secret(secret, opts->dir);
		if (rc == 0)
			goto out;
	}
fail:
	vlog_error("webhook",
		   "msg=\"cannot sync webhook certificate secret\" secret=%s/%s code=%d "
		   "err=\"%s\"",
		   ns, name, err.code, err.message);
out:
	json_decref(secret);
	json_decref(body);
	return rc;
}
