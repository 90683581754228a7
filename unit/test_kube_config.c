/* SPDX-License-Identifier: Apache-2.0 */
/* kube/config, kube/path, kube/error and kube/cache. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/kube/cache.h"
#include "lib/kube/config.h"
#include "lib/kube/error.h"
#include "lib/kube/path.h"

static char tmpdir[256];

static void write_file(const char *name, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vigil-kubecfg-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* "-----BEGIN CERTIFICATE-----\nCA\n" and "CERT", "KEY" in base64. */
#define CA_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCg=="
#define CERT_B64 "Q0VSVA=="
#define KEY_B64 "S0VZ"

static const char kubeconfig[] = "apiVersion: v1\n"
				 "kind: Config\n"
				 "current-context: admin@local\n"
				 "clusters:\n"
				 "- name: local\n"
				 "  cluster:\n"
				 "    server: https://127.0.0.1:6443/\n"
				 "    certificate-authority-data: " CA_B64 "\n"
				 "- name: other\n"
				 "  cluster:\n"
				 "    server: https://10.0.0.1:443\n"
				 "    certificate-authority: certs/ca.pem\n"
				 "    insecure-skip-tls-verify: true\n"
				 "contexts:\n"
				 "- name: admin@local\n"
				 "  context:\n"
				 "    cluster: local\n"
				 "    user: admin\n"
				 "    namespace: vigil-system\n"
				 "- name: bot@other\n"
				 "  context: {cluster: other, user: bot}\n"
				 "- name: broken\n"
				 "  context: {cluster: nowhere, user: bot}\n"
				 "users:\n"
				 "- name: admin\n"
				 "  user:\n"
				 "    client-certificate-data: " CERT_B64 "\n"
				 "    client-key-data: " KEY_B64 "\n"
				 "- name: bot\n"
				 "  user:\n"
				 "    client-certificate: /abs/client.crt\n"
				 "    client-key: certs/client.key\n"
				 "    token: sekret-token\n"
				 "    tokenFile: tok\n";

static void test_kubeconfig_current_context_data(void **state)
{
	struct kube_config *cfg = NULL;
	struct kube_error err;
	char path[512];

	write_file("config", kubeconfig);
	snprintf(path, sizeof(path), "%s/config", tmpdir);
	assert_int_equal(kube_config_load(path, NULL, &cfg, &err), 0);
	assert_non_null(cfg);
	assert_string_equal(cfg->server, "https://127.0.0.1:6443");
	assert_string_equal(cfg->context, "admin@local");
	assert_string_equal(kube_config_namespace(cfg), "vigil-system");
	assert_int_equal(cfg->ca_pem_len, strlen("-----BEGIN CERTIFICATE-----\nCA\n"));
	assert_memory_equal(cfg->ca_pem, "-----BEGIN CERTIFICATE-----\nCA\n", cfg->ca_pem_len);
	assert_int_equal(cfg->cert_pem_len, 4);
	assert_string_equal(cfg->cert_pem, "CERT");
	assert_string_equal(cfg->key_pem, "KEY");
	assert_null(cfg->cert_file);
	assert_null(cfg->token);
	assert_false(cfg->insecure);
	assert_string_equal(cfg->source, path);
	kube_config_free(cfg);
}

static void test_kubeconfig_named_context_files_token(void **state)
{
	struct kube_config *cfg = NULL, *dup;
	struct kube_error err;
	char path[512], want[600];

	write_file("config", kubeconfig);
	snprintf(path, sizeof(path), "%s/config", tmpdir);
	assert_int_equal(kube_config_load(path, "bot@other", &cfg, &err), 0);
	assert_string_equal(cfg->server, "https://10.0.0.1:443");
	assert_string_equal(kube_config_namespace(cfg), "default");
	assert_true(cfg->insecure);
	snprintf(want, sizeof(want), "%s/certs/ca.pem", tmpdir);
	assert_string_equal(cfg->ca_file, want);
	assert_null(cfg->ca_pem);
	assert_string_equal(cfg->cert_file, "/abs/client.crt");
	snprintf(want, sizeof(want), "%s/certs/client.key", tmpdir);
	assert_string_equal(cfg->key_file, want);
	assert_string_equal(cfg->token, "sekret-token");
	snprintf(want, sizeof(want), "%s/tok", tmpdir);
	assert_string_equal(cfg->token_file, want);
	dup = kube_config_dup(cfg);
	assert_non_null(dup);
	assert_string_equal(dup->token, "sekret-token");
	assert_true(dup->insecure);
	kube_config_free(dup);
	kube_config_free(cfg);
}

static void test_kubeconfig_env(void **state)
{
	struct kube_config *cfg = NULL;
	struct kube_error err;
	char path[600];

	write_file("config", kubeconfig);
	snprintf(path, sizeof(path), "%s/config:/nonexistent", tmpdir);
	setenv("KUBECONFIG", path, 1);
	assert_int_equal(kube_config_auto(NULL, &cfg, &err), 0);
	unsetenv("KUBECONFIG");
	assert_string_equal(cfg->context, "admin@local");
	kube_config_free(cfg);
}

static void test_kubeconfig_errors(void **state)
{
	struct kube_config *cfg = NULL;
	struct kube_error err;
	char path[512];

	write_file("config", kubeconfig);
	snprintf(path, sizeof(path), "%s/config", tmpdir);

	assert_int_equal(kube_config_load(path, "nope", &cfg, &err), -ENOENT);
	assert_null(cfg);
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, "\"nope\""));
	assert_non_null(strstr(err.message, "not found"));

	assert_int_equal(kube_config_load(path, "broken", &cfg, &err), -ENOENT);
	assert_non_null(strstr(err.message, "\"nowhere\""));

	write_file("nocur", "apiVersion: v1\nclusters: []\n");
	snprintf(path, sizeof(path), "%s/nocur", tmpdir);
	assert_int_equal(kube_config_load(path, NULL, &cfg, &err), -ENOENT);
	assert_non_null(strstr(err.message, "current-context"));

	write_file("bad", "a: [1, 2\n");
	snprintf(path, sizeof(path), "%s/bad", tmpdir);
	assert_int_equal(kube_config_load(path, NULL, &cfg, &err), -EINVAL);
	assert_non_null(strstr(err.message, path));

	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	assert_int_equal(kube_config_load(path, NULL, &cfg, &err), -ENOENT);
	assert_non_null(strstr(err.message, path));
	assert_null(cfg);
}

static void test_in_cluster(void **state)
{
	struct kube_config *cfg = NULL;
	struct kube_error err;

	write_file("token", "tok123\n");
	write_file("namespace", "vigil-system\n");
	write_file("ca.crt", "PEM");
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(kube_config_in_cluster(tmpdir, &cfg, &err), -ENOENT);
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(kube_config_in_cluster(tmpdir, &cfg, &err), 0);
	assert_string_equal(cfg->server, "https://10.96.0.1:443");
	assert_string_equal(cfg->token, "tok123");
	assert_string_equal(kube_config_namespace(cfg), "vigil-system");
	assert_non_null(strstr(cfg->ca_file, "/ca.crt"));
	assert_non_null(strstr(cfg->token_file, "/token"));
	kube_config_free(cfg);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	assert_int_equal(kube_config_in_cluster(tmpdir, &cfg, &err), 0);
	assert_string_equal(cfg->server, "https://[fd00::1]:443");
	kube_config_free(cfg);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

static void test_paths(void **state)
{
	char p[KUBE_PATH_MAX], small[20];
	char *enc;

	assert_true(
	    kube_path(p, sizeof(p), &kube_res_rulesets, "vigil-system", "default", "status") > 0);
	assert_string_equal(p, "/apis/vigil.dev/v1alpha1/namespaces/vigil-system/rulesets/default/"
			       "status");
	assert_true(kube_path(p, sizeof(p), &kube_res_pods, NULL, NULL, NULL) > 0);
	assert_string_equal(p, "/api/v1/pods");
	assert_true(kube_path(p, sizeof(p), &kube_res_pods, "ns1", NULL, NULL) > 0);
	assert_string_equal(p, "/api/v1/namespaces/ns1/pods");
	/* cluster-scoped: the namespace is ignored */
	assert_true(kube_path(p, sizeof(p), &kube_res_sensornodes, "x", "node-1", NULL) > 0);
	assert_string_equal(p, "/apis/vigil.dev/v1alpha1/sensornodes/node-1");
	assert_true(
	    kube_path(p, sizeof(p), &kube_res_leases, "vigil-system", "vigil-operator", NULL) > 0);
	assert_string_equal(p, "/apis/coordination.k8s.io/v1/namespaces/vigil-system/leases/"
			       "vigil-operator");
	assert_true(kube_path(p, sizeof(p), &kube_res_validatingwebhooks, NULL, "vigil", NULL) > 0);
	assert_string_equal(p, "/apis/admissionregistration.k8s.io/v1/"
			       "validatingwebhookconfigurations/vigil");
	assert_true(kube_path_build(p, sizeof(p), "", "v1", "a", "configmaps", "b c", NULL) > 0);
	assert_string_equal(p, "/api/v1/namespaces/a/configmaps/b%20c");
	assert_int_equal(kube_path(p, sizeof(p), &kube_res_pods, NULL, "x", NULL), -EINVAL);
	assert_int_equal(kube_path(small, sizeof(small), &kube_res_rulesets, "ns", "n", NULL),
			 -ENAMETOOLONG);
	enc = kube_url_encode("app=vigil,tier!=x y/z");
	assert_string_equal(enc, "app%3Dvigil%2Ctier%21%3Dx%20y%2Fz");
	free(enc);
}

static void test_errors(void **state)
{
	struct kube_error e;

	assert_int_equal(kube_error_set(&e, -ENOENT, 404, "NotFound", "x %d", 1), -ENOENT);
	assert_true(kube_error_is_not_found(&e));
	assert_string_equal(e.message, "x 1");
	kube_error_set(&e, -EEXIST, 409, "AlreadyExists", "a");
	assert_true(kube_error_is_already_exists(&e));
	assert_false(kube_error_is_conflict(&e));
	kube_error_set(&e, -EBUSY, 409, "Conflict", "a");
	assert_true(kube_error_is_conflict(&e));
	kube_error_set(&e, -ESTALE, 410, "Expired", "a");
	assert_true(kube_error_is_gone(&e));
	assert_int_equal(kube_error_errno(409, "AlreadyExists"), -EEXIST);
	assert_int_equal(kube_error_errno(409, "Conflict"), -EBUSY);
	assert_int_equal(kube_error_errno(422, "Invalid"), -EINVAL);
	assert_int_equal(kube_error_errno(503, NULL), -EIO);
	assert_int_equal(kube_error_errno(429, NULL), -EAGAIN);
	assert_int_equal(kube_error_errno(201, NULL), 0);
	kube_error_clear(&e);
	assert_int_equal(e.code, 0);
	assert_false(kube_error_is_gone(NULL));
}

static json_t *mkobj(const char *ns, const char *name, const char *rv)
{
	json_t *md = json_pack("{s:s, s:s}", "name", name, "resourceVersion", rv);

	if (ns)
		json_object_set_new(md, "namespace", json_string(ns));
	return json_pack("{s:o}", "metadata", md);
}

static void test_cache(void **state)
{
	struct kube_cache *c = kube_cache_new();
	json_t *old = NULL, *got, *list, *keys;
	char key[64];

	assert_non_null(c);
	got = mkobj("ns", "a", "1");
	assert_int_equal(kube_cache_key(got, key, sizeof(key)), 4);
	assert_string_equal(key, "ns/a");
	json_decref(got);
	assert_int_equal(kube_cache_put(c, mkobj("ns", "b", "1"), &old), 0);
	assert_null(old);
	assert_int_equal(kube_cache_put(c, mkobj("ns", "a", "1"), NULL), 0);
	assert_int_equal(kube_cache_put(c, mkobj(NULL, "node-1", "1"), NULL), 0);
	assert_int_equal(kube_cache_put(c, mkobj("ns", "a", "2"), &old), 0);
	assert_non_null(old);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(old, "metadata"), "resourceVersion")),
	    "1");
	json_decref(old);
	assert_int_equal(kube_cache_len(c), 3);
	got = kube_cache_get_nn(c, "ns", "a");
	assert_non_null(got);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(got, "metadata"), "resourceVersion")),
	    "2");
	json_decref(got);
	got = kube_cache_get(c, "node-1");
	assert_non_null(got);
	json_decref(got);
	assert_null(kube_cache_get(c, "ns/zzz"));
	keys = kube_cache_keys(c);
	assert_int_equal(json_array_size(keys), 3);
	assert_string_equal(json_string_value(json_array_get(keys, 0)), "node-1");
	assert_string_equal(json_string_value(json_array_get(keys, 1)), "ns/a");
	assert_string_equal(json_string_value(json_array_get(keys, 2)), "ns/b");
	json_decref(keys);
	list = kube_cache_list(c);
	assert_int_equal(json_array_size(list), 3);
	json_decref(list);
	assert_int_equal(kube_cache_remove(c, "ns/a", &old), 0);
	assert_non_null(old);
	json_decref(old);
	assert_int_equal(kube_cache_remove(c, "ns/a", NULL), -ENOENT);
	assert_int_equal(kube_cache_put(c, json_object(), NULL), -EINVAL);
	assert_int_equal(kube_cache_len(c), 2);
	kube_cache_free(c);
	kube_cache_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kubeconfig_current_context_data),
	    cmocka_unit_test(test_kubeconfig_named_context_files_token),
	    cmocka_unit_test(test_kubeconfig_env),
	    cmocka_unit_test(test_kubeconfig_errors),
	    cmocka_unit_test(test_in_cluster),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_cache),
	};
	return cmocka_run_group_tests_name("kube_config", tests, setup, teardown);
}
