/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sensor: the live sensor. Wires probe -> decode -> rules -> outputs, with health, hot reload and
 * the SensorNode reporter around it. sensor_main parses the live-mode options (see --help).
 */
#ifndef VIGIL_SENSOR_SENSOR_H
#define VIGIL_SENSOR_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SENSOR_MAX_RULES_PATHS 64

struct sensor_opts {
	const char *rules_paths[SENSOR_MAX_RULES_PATHS]; /* -r, borrowed */
	size_t nrules;
	const char *btf_path;	    /* --btf */
	int buffer_preset;	    /* --buffer-preset 1..10 [4] */
	const char *health_addr;    /* --health-addr [127.0.0.1:8765]; "" or "off" disables */
	const char *output;	    /* --output [json] */
	const char *record;	    /* --record FILE */
	const char *node_name;	    /* --node-name / $NODE_NAME */
	const char *kubeconfig;	    /* --kubeconfig */
	const char *driver_version; /* --driver-version / $VIGIL_DRIVER_VERSION [VERSION] */
	int heartbeat_s;	    /* --heartbeat [10] */
	const char *hostname;	    /* --hostname [gethostname] */
	const char *pod_metadata;   /* --pod-metadata FILE */
	const char *pod_name;	    /* $POD_NAME */
	int events_window_s;	    /* --events-window [10] */
	int reload_debounce_ms;	    /* --reload-debounce-ms [500] */
	bool test_verifier_reject;  /* $VIGIL_TEST_VERIFIER_REJECT=1 (tests only) */
};

/* Fills defaults (from the environment where documented). */
void sensor_opts_defaults(struct sensor_opts *o);

/* Prints the live-mode options. */
void sensor_usage(FILE *f);

/* Parses live-mode options from argv (getopt_long, from optind 1). Returns 0, 1 when --help was
 * printed, or -EINVAL (message printed). */
int sensor_parse_args(int argc, char **argv, struct sensor_opts *o);

/* Runs until SIGINT/SIGTERM. Returns the exit code (0). A probe that fails to load does not stop
 * it: health says why. */
int sensor_run(const struct sensor_opts *o);

#endif
