/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rules_cli: the rules side of bin/vigil-sensor: --validate, -r/--dry-run, -L/--list [--json],
 * --replay.
 *
 *   vigil-sensor --validate FILE...            exit 0 when valid (warnings printed), 1 when not
 *   vigil-sensor -r FILE|DIR [-r ...] --dry-run load and compile, exit
 *   vigil-sensor -r FILE|DIR -L [--json]       list rules: name, priority, enabled, source
 *   vigil-sensor -r FILE|DIR --replay TRACE    print the JSON alerts the trace raises
 *                [--all-matches] [--hostname H]
 */
#ifndef VIGIL_SENSOR_CLI_RULES_CLI_H
#define VIGIL_SENSOR_CLI_RULES_CLI_H

#include <stdbool.h>

/* True when argv holds one of the options this front end handles (--validate, --dry-run, -L,
 * --list, --replay). main() calls it first and dispatches to sensor_rules_cli_main(). */
bool sensor_rules_cli_wants(int argc, char **argv);

/* Runs the rules front end; returns the process exit code (0 ok, 1 rules/trace errors, 2 usage). */
int sensor_rules_cli_main(int argc, char **argv);

/* Usage lines for the options above (for --help). */
const char *sensor_rules_cli_usage(void);

#endif
