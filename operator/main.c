/* SPDX-License-Identifier: Apache-2.0 */
/* vigil-operator: watches RuleSet, SensorFleet and SensorNode and keeps every node covered. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "lib/util/log.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: vigil-operator [options]\n"
		   "\n"
		   "Keeps a fleet of vigil-sensor pods watching every node through rule changes and\n"
		   "driver upgrades (custom resources RuleSet, SensorFleet, SensorNode; vigil.dev/v1alpha1).\n"
		   "\n"
		   "  --kubeconfig FILE   kubeconfig to use (default: $KUBECONFIG, then in-cluster)\n"
		   "  --version           print the version and exit\n"
		   "  -h, --help          this text\n");
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
	vlog_error("main", "msg=\"operator not implemented yet\"");
	return 1;
}
