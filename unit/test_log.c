/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/util/log.h"

static void test_parse_level(void **state)
{
	enum vlog_level l = VLOG_INFO;

	assert_int_equal(vlog_parse_level("debug", &l), 0);
	assert_int_equal(l, VLOG_DEBUG);
	assert_int_equal(vlog_parse_level("error", &l), 0);
	assert_int_equal(l, VLOG_ERROR);
	assert_int_equal(vlog_parse_level("loud", &l), -EINVAL);
	assert_int_equal(vlog_parse_level(NULL, &l), -EINVAL);
	assert_int_equal(l, VLOG_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_level),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
