/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for lib/httpd: routing, methods, bodies, 404/405, over real sockets with libcurl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/httpd/httpd.h"

struct buf {
	char data[4096];
	size_t len;
};

static size_t sink(char *p, size_t sz, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t len = sz * n;

	if (b->len + len >= sizeof(b->data))
		len = sizeof(b->data) - b->len - 1;
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return sz * n;
}

static long request(int port, const char *method, const char *path, const char *body,
		    struct buf *out)
{
	CURL *c = curl_easy_init();
	char url[256];
	long code = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	memset(out, 0, sizeof(*out));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	return code;
}

static int hello(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	char text[256];
	int n = snprintf(text, sizeof(text), "%s q=%s", (const char *)arg, req->query);

	return httpd_resp_set(resp, 200, "text/plain", text, (size_t)n);
}

static int echo(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	char *copy = malloc(req->body_len + strlen(req->content_type) + 32);
	int n = sprintf(copy, "%zu:%s|%s", req->body_len, req->content_type, req->body);

	httpd_resp_take(resp, 201, "application/json", copy, (size_t)n);
	return 0;
}

static int failing(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	return -EIO;
}

static void test_routes(void **state)
{
	struct httpd_opts o = {.addr = "127.0.0.1:0"};
	struct httpd *h = NULL;
	struct buf b;
	int port;

	assert_int_equal(httpd_new(&o, &h), 0);
	assert_int_equal(httpd_route(h, "GET", "/healthz", hello, "ok"), 0);
	assert_int_equal(httpd_route(h, "POST", "/echo", echo, NULL), 0);
	assert_int_equal(httpd_route(h, "GET", "/fail", failing, NULL), 0);
	assert_int_equal(httpd_start(h), 0);
	port = httpd_port(h);
	assert_true(port > 0);

	assert_int_equal(request(port, "GET", "/healthz?x=1", NULL, &b), 200);
	assert_string_equal(b.data, "ok q=x=1");
	assert_int_equal(request(port, "POST", "/echo", "{\"a\":1}", &b), 201);
	assert_string_equal(b.data, "7:application/x-www-form-urlencoded|{\"a\":1}");
	assert_int_equal(request(port, "GET", "/nope", NULL, &b), 404);
	assert_int_equal(request(port, "DELETE", "/healthz", NULL, &b), 405);
	assert_int_equal(request(port, "GET", "/fail", NULL, &b), 500);
	/* routes cannot be added once serving */
	assert_int_equal(httpd_route(h, "GET", "/late", hello, "x"), -EINVAL);
	httpd_stop(h);
	httpd_stop(h);
	assert_int_equal(request(port, "GET", "/healthz", NULL, &b), 0);
	httpd_free(h);
}

static void test_large_body(void **state)
{
	struct httpd_opts o = {.addr = "127.0.0.1:0"};
	struct httpd *h = NULL;
	struct buf b;
	size_t n = 300000;
	char *big = malloc(n + 1);

	memset(big, 'a', n);
	big[n] = '\0';
	assert_int_equal(httpd_new(&o, &h), 0);
	assert_int_equal(httpd_route(h, "POST", "/echo", echo, NULL), 0);
	assert_int_equal(httpd_start(h), 0);
	assert_int_equal(request(httpd_port(h), "POST", "/echo", big, &b), 201);
	assert_memory_equal(b.data, "300000:", 7);
	httpd_free(h);
	free(big);
}

static void test_bad_opts(void **state)
{
	struct httpd_opts o = {.addr = "nonsense"};
	struct httpd *h = NULL;

	assert_int_equal(httpd_new(&o, &h), -EINVAL);
	o.addr = "127.0.0.1:99999";
	assert_int_equal(httpd_new(&o, &h), -EINVAL);
	o.addr = "127.0.0.1:0";
	o.cert_file = "/nonexistent.pem";
	o.key_file = "/nonexistent.key";
	assert_int_equal(httpd_new(&o, &h), -EINVAL);
	httpd_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_routes),
	    cmocka_unit_test(test_large_body),
	    cmocka_unit_test(test_bad_opts),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
