/* SPDX-License-Identifier: Apache-2.0 */
/* vigil-sensor: watches one node with an eBPF probe and Falco-compatible rules. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "lib/util/log.h"
#include "sensor/cli/rules_cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: vigil-sensor [options]\n"
		   "\n"
		   "Watches this node with a CO-RE eBPF probe and evaluates Falco-compatible rules,\n"
		   "writing JSON alerts.\n"
		   "\n"
		   "  --kubeconfig FILE   kubeconfig to use (default: $KUBECONFIG, then in-cluster)\n"
		   "  --version           print the version and exit\n"
		   "  -h, --help          this text\n"
		   "\n"
		   "Rules (no probe is loaded with these):\n"
		   "%s",
		sensor_rules_cli_usage());
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kubeconfig", required_argument, NULL, 'k' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	/* Rules front end (--validate, --dry-run, -L/--list, --replay): one dispatch, before the
	 * live sensor's own options are parsed. */
	if (sensor_rules_cli_wants(argc, argv))
		return sensor_rules_cli_main(argc, argv);

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'V':
			printf("%s\n", VIGIL_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'k':
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	vlog_error("main", "msg=\"sensor not implemented yet\"");
	return 1;
}
