/* SPDX-License-Identifier: Apache-2.0 */
/* vigil-sensor: watches one node with an eBPF probe and Falco-compatible rules. */
#include <stdio.h>
#include <string.h>

#include "lib/util/log.h"
#include "sensor/cli/rules_cli.h"
#include "sensor/sensor.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigil-sensor [options]\n"
		"\n"
		"Watches this node with a CO-RE eBPF probe and evaluates Falco-compatible rules,\n"
		"writing JSON alerts.\n"
		"\n"
		"  --version           print the version and exit\n"
		"  -h, --help          this text\n"
		"\n"
		"Rules tools:\n%s\n",
		sensor_rules_cli_usage());
	/* ---- live sensor options (sensor engineer: sensor/sensor.c) ---- */
	sensor_usage(f);
}

int main(int argc, char **argv)
{
	struct sensor_opts o;
	int i, err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version")) {
			printf("%s\n", VIGIL_VERSION);
			return 0;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
	}
	/* ---- rules CLI modes (rules engineer: sensor/cli/), before live mode ---- */
	if (sensor_rules_cli_wants(argc, argv))
		return sensor_rules_cli_main(argc, argv);

	/* ---- live sensor (sensor engineer: sensor/sensor.c) ---- */
	sensor_opts_defaults(&o);
	err = sensor_parse_args(argc, argv, &o);
	if (err > 0)
		return 0;
	if (err < 0) {
		usage(stderr);
		return 2;
	}
	return sensor_run(&o);
}
