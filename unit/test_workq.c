/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for operator/queue/workq: de-dup, processing set, delays, backoff growth, rate limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "operator/queue/workq.h"

static uint64_t fake_now;

static uint64_t fake_clock(void *ctx)
{
	return fake_now;
}

static struct workq *new_q(void)
{
	struct workq_opts o = {
	    .base_ms = 5, .max_ms = 1000, .qps = 10, .burst = 100, .now_ms = fake_clock};

	fake_now = 1000000;
	return workq_new(&o);
}

static char *get_now(struct workq *q)
{
	char *k = NULL;

	assert_int_equal(workq_get(q, &k, 0), 0);
	return k;
}

static void test_dedup(void **state)
{
	struct workq *q = new_q();
	char *k;

	workq_add(q, "ns/a");
	workq_add(q, "ns/b");
	workq_add(q, "ns/a");
	workq_add(q, "ns/a");
	assert_int_equal(workq_len(q), 2);
	assert_int_equal(workq_adds(q), 2);
	k = get_now(q);
	assert_string_equal(k, "ns/a"); /* FIFO order of first add */
	workq_done(q, k);
	free(k);
	k = get_now(q);
	assert_string_equal(k, "ns/b");
	workq_done(q, k);
	free(k);
	assert_int_equal(workq_get(q, &k, 0), -ETIMEDOUT);
	assert_null(k);
	workq_free(q);
}

static void test_processing_not_twice(void **state)
{
	struct workq *q = new_q();
	char *k, *k2 = NULL;

	workq_add(q, "ns/a");
	k = get_now(q);
	/* added again while a worker holds it: not handed out to a second worker */
	workq_add(q, "ns/a");
	workq_add(q, "ns/a");
	assert_int_equal(workq_len(q), 0);
	assert_int_equal(workq_get(q, &k2, 20), -ETIMEDOUT);
	/* done re-queues it exactly once */
	workq_done(q, k);
	assert_int_equal(workq_len(q), 1);
	free(k);
	k = get_now(q);
	assert_string_equal(k, "ns/a");
	workq_done(q, k);
	free(k);
	assert_int_equal(workq_len(q), 0);
	workq_free(q);
}

static void test_add_after(void **state)
{
	struct workq *q = new_q();
	char *k = NULL;

	workq_add_after(q, "ns/a", 500);
	workq_add_after(q, "ns/a", 900); /* later due time does not push it back */
	assert_int_equal(workq_delayed_len(q), 1);
	assert_int_equal(workq_get(q, &k, 0), -ETIMEDOUT);
	fake_now += 499;
	assert_int_equal(workq_get(q, &k, 0), -ETIMEDOUT);
	fake_now += 1;
	k = get_now(q);
	assert_string_equal(k, "ns/a");
	assert_int_equal(workq_delayed_len(q), 0);
	workq_done(q, k);
	free(k);
	/* a plain add of a delayed key makes it ready at once */
	workq_add_after(q, "ns/b", 10000);
	workq_add(q, "ns/b");
	k = get_now(q);
	assert_string_equal(k, "ns/b");
	workq_done(q, k);
	free(k);
	assert_int_equal(workq_delayed_len(q), 0);
	workq_free(q);
}

static void test_backoff_growth(void **state)
{
	struct workq *q = new_q();
	uint64_t want[] = {5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000};

	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *k;

		assert_int_equal(workq_add_rate_limited(q, "ns/a"), want[i]);
		assert_int_equal(workq_failures(q, "ns/a"), i + 1);
		fake_now += want[i];
		k = get_now(q);
		assert_string_equal(k, "ns/a");
		workq_done(q, k);
		free(k);
	}
	assert_int_equal(workq_retries(q), 10);
	/* forget resets the per-key backoff; other keys have their own */
	workq_forget(q, "ns/a");
	assert_int_equal(workq_failures(q, "ns/a"), 0);
	assert_int_equal(workq_add_rate_limited(q, "ns/a"), 5);
	assert_int_equal(workq_add_rate_limited(q, "ns/b"), 5);
	assert_int_equal(workq_backoff_ms(5, 300000, 40), 300000);
	workq_free(q);
}

static void test_bucket(void **state)
{
	struct workq_bucket b;

	workq_bucket_init(&b, 10, 3, 0);
	/* burst of 3 free, then one token per 100 ms */
	assert_int_equal(workq_bucket_reserve(&b, 0), 0);
	assert_int_equal(workq_bucket_reserve(&b, 0), 0);
	assert_int_equal(workq_bucket_reserve(&b, 0), 0);
	assert_int_equal(workq_bucket_reserve(&b, 0), 100);
	assert_int_equal(workq_bucket_reserve(&b, 0), 200);
	/* time refills: 500 ms later the debt of 2 is paid and 3 are back (capped at burst) */
	assert_int_equal(workq_bucket_reserve(&b, 500), 0);
	assert_int_equal(workq_bucket_reserve(&b, 500), 0);
	assert_int_equal(workq_bucket_reserve(&b, 500), 0);
	assert_int_equal(workq_bucket_reserve(&b, 500), 100);
}

static void test_global_rate_limit(void **state)
{
	struct workq_opts o = {
	    .base_ms = 1, .max_ms = 1000, .qps = 10, .burst = 2, .now_ms = fake_clock};
	struct workq *q;

	fake_now = 0;
	q = workq_new(&o);
	/* many keys failing at once: the bucket, not the tiny per-key backoff, spaces them */
	assert_int_equal(workq_add_rate_limited(q, "a"), 1);
	assert_int_equal(workq_add_rate_limited(q, "b"), 1);
	assert_int_equal(workq_add_rate_limited(q, "c"), 100);
	assert_int_equal(workq_add_rate_limited(q, "d"), 200);
	workq_free(q);
}

static void test_shutdown(void **state)
{
	struct workq *q = new_q();
	char *k = NULL;

	workq_shutdown(q);
	workq_add(q, "x");
	assert_int_equal(workq_get(q, &k, -1), -ESHUTDOWN);
	assert_int_equal(workq_len(q), 0);
	workq_free(q);
	workq_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dedup),     cmocka_unit_test(test_processing_not_twice),
	    cmocka_unit_test(test_add_after), cmocka_unit_test(test_backoff_growth),
	    cmocka_unit_test(test_bucket),    cmocka_unit_test(test_global_rate_limit),
	    cmocka_unit_test(test_shutdown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
