/* SPDX-License-Identifier: Apache-2.0 */
/* kube/config + kube/client over TLS: a kubeconfig with CA and client certificate as base64 data
 * (libcurl blobs) or as files, against lib/httpd serving HTTPS on 127.0.0.1. Certificates are
 * made with the openssl command; the tests are skipped when it is missing. lib/httpd does not
 * ask for client certificates, so the client pair is only checked to load (a bad one fails). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/httpd/httpd.h"
#include "lib/kube/client.h"

static char dir[256];
static struct httpd *srv;
static int have_certs;

static const char gen_script[] =
    "set -e; cd '%s'\n"
    "k='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'\n"
    "openssl req -x509 $k -keyout ca.key -out ca.crt -subj /CN=vigil-test-ca -days 2\n"
    "openssl req -x509 $k -keyout other.key -out other.crt -subj /CN=other-ca -days 2\n"
    "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext\n"
    "openssl req $k -keyout srv.key -out srv.csr -subj /CN=127.0.0.1\n"
    "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt "
    "-days 2 -extfile san.ext\n"
    "openssl req $k -keyout cli.key -out cli.csr -subj /CN=vigil-test-client\n"
    "openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out cli.crt "
    "-days 2\n"
    "b() { base64 -w0 \"$1\"; }\n"
    "cat > data.yaml <<EOF\n"
    "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
    "clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:PORT\n"
    "    certificate-authority-data: $(b ca.crt)\n"
    "contexts:\n- name: c\n  context: {cluster: k, user: u}\n"
    "users:\n- name: u\n  user:\n    client-certificate-data: $(b cli.crt)\n"
    "    client-key-data: $(b cli.key)\n"
    "EOF\n"
    "cat > files.yaml <<EOF\n"
    "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
    "clusters:\n- name: k\n  cluster: {server: 'https://127.0.0.1:PORT', "
    "certificate-authority: ca.crt}\n"
    "- name: wrong\n  cluster: {server: 'https://127.0.0.1:PORT', "
    "certificate-authority: other.crt}\n"
    "- name: insecure\n  cluster: {server: 'https://127.0.0.1:PORT', "
    "insecure-skip-tls-verify: true}\n"
    "contexts:\n- name: c\n  context: {cluster: k, user: u}\n"
    "- name: wrong\n  context: {cluster: wrong, user: u}\n"
    "- name: insecure\n  context: {cluster: insecure, user: t}\n"
    "users:\n- name: u\n  user: {client-certificate: cli.crt, client-key: cli.key}\n"
    "- name: t\n  user: {token: abc}\n"
    "EOF\n";

static int version_fn(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	static const char body[] = "{\"major\":\"1\",\"minor\":\"31\"}";

	return httpd_resp_set(resp, 200, "application/json", body, sizeof(body) - 1);
}

static int setup(void **state)
{
	char cmd[9000], crt[512], key[512];
	struct httpd_opts o = {.addr = "127.0.0.1:0"};

	snprintf(dir, sizeof(dir), "/tmp/vigil-kubetls-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	{
		char script[8192];

		snprintf(script, sizeof(script), gen_script, dir);
		snprintf(cmd, sizeof(cmd), "(%s) >%s/gen.log 2>&1", script, dir);
		have_certs = system(cmd) == 0;
	}
	if (!have_certs)
		return 0;
	snprintf(crt, sizeof(crt), "%s/srv.crt", dir);
	snprintf(key, sizeof(key), "%s/srv.key", dir);
	o.cert_file = crt;
	o.key_file = key;
	if (httpd_new(&o, &srv) || httpd_route(srv, "GET", "/version", version_fn, NULL) ||
	    httpd_start(srv))
		return -1;
	snprintf(cmd, sizeof(cmd), "sed -i 's/PORT/%d/' %s/data.yaml %s/files.yaml",
		 httpd_port(srv), dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	httpd_free(srv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* GET /version with the kubeconfig file/context given; returns kube_get's result. */
static int get_version(const char *file, const char *ctx, struct kube_error *err)
{
	struct kube_config *cfg = NULL;
	struct kube_client *c = NULL;
	json_t *out = NULL;
	char path[512];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	assert_int_equal(kube_config_load(path, ctx, &cfg, err), 0);
	assert_int_equal(kube_client_new(cfg, NULL, &c), 0);
	ret = kube_get(c, "/version", &out, err);
	if (!ret)
		assert_string_equal(json_string_value(json_object_get(out, "minor")), "31");
	json_decref(out);
	kube_client_free(c);
	return ret;
}

static void test_tls_data_blobs(void **state)
{
	struct kube_error err;

	if (!have_certs)
		skip();
	assert_int_equal(get_version("data.yaml", NULL, &err), 0);
}

static void test_tls_files(void **state)
{
	struct kube_error err;

	if (!have_certs)
		skip();
	assert_int_equal(get_version("files.yaml", "c", &err), 0);
}

static void test_tls_wrong_ca_refused(void **state)
{
	struct kube_error err;

	if (!have_certs)
		skip();
	assert_int_equal(get_version("files.yaml", "wrong", &err), -EPROTO);
	assert_string_equal(err.reason, "TLS");
	assert_int_equal(err.code, 0);
	print_message("wrong CA: %s\n", err.message);
}

static void test_tls_insecure(void **state)
{
	struct kube_error err;

	if (!have_certs)
		skip();
	assert_int_equal(get_version("files.yaml", "insecure", &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tls_data_blobs),
	    cmocka_unit_test(test_tls_files),
	    cmocka_unit_test(test_tls_wrong_ca_refused),
	    cmocka_unit_test(test_tls_insecure),
	};
	return cmocka_run_group_tests_name("kube_tls", tests, setup, teardown);
}
