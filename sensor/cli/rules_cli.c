/* SPDX-License-Identifier: Apache-2.0 */
/* rules_cli: validate, list, dry-run and replay for bin/vigil-sensor. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/rules/rules.h"
#include "lib/rules/trace.h"
#include "lib/util/log.h"
#include "sensor/cli/rules_cli.h"

enum { OPT_VALIDATE = 0x100, OPT_DRY_RUN, OPT_JSON, OPT_REPLAY, OPT_ALL, OPT_HOSTNAME };

const char *sensor_rules_cli_usage(void)
{
	return "  --validate FILE...  check rules files; FILE:LINE:COL: error|warning: message\n"
	       "  -r FILE|DIR         rules to load (repeatable; a directory: its .yaml/.yml in\n"
	       "                      name order)\n"
	       "  --dry-run           load and compile the -r rules, then exit\n"
	       "  -L, --list          list the -r rules (name, priority, enabled, source)\n"
	       "  --json              with -L: one JSON document\n"
	       "  --replay TRACE      evaluate a recorded trace (JSON lines, "
	       "docs/trace-format.md)\n"
	       "                      against the -r rules and print the JSON alerts\n"
	       "  --all-matches       with --replay: alert for every matching rule, not the first\n"
	       "  --hostname NAME     with --replay: hostname in alerts (default: this host)\n";
}

bool sensor_rules_cli_wants(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--validate") || !strcmp(a, "--dry-run") || !strcmp(a, "-L") ||
		    !strcmp(a, "--list") || !strcmp(a, "--replay") || !strncmp(a, "--replay=", 9))
			return true;
	}
	return false;
}

static int load(char **paths, size_t n, struct rules_set **rs, bool quiet_ok)
{
	struct rules_diags *d = NULL;
	char **files = NULL;
	size_t nfiles = 0;
	int err;

	err = rules_paths_expand((const char *const *)paths, n, &files, &nfiles);
	if (err) {
		fprintf(stderr, "vigil-sensor: can't read the rules paths: %s\n", strerror(-err));
		return err;
	}
	if (nfiles == 0) {
		fprintf(stderr, "vigil-sensor: no rules files found\n");
		rules_paths_free(files);
		return -ENOENT;
	}
	err = rules_load_files((const char *const *)files, nfiles, rs, &d);
	rules_diags_print(d, stderr);
	if (!quiet_ok || err)
		fprintf(stderr, "%zu file(s): %zu error(s), %zu warning(s)\n", nfiles,
			rules_diags_errors(d), rules_diags_warnings(d));
	rules_diags_free(d);
	rules_paths_free(files);
	return err;
}

static int list_rules(const struct rules_set *rs, bool json)
{
	if (json) {
		json_t *root = json_object(), *arr = json_array();
		char *text;

		for (size_t i = 0; i < rules_set_count(rs); i++) {
			struct rules_info ri;
			json_t *tags = json_array();

			rules_set_rule_info(rs, i, &ri);
			for (size_t k = 0; k < ri.ntags; k++)
				json_array_append_new(tags, json_string(ri.tags[k]));
			json_array_append_new(
			    arr, json_pack("{s:s,s:s,s:b,s:s,s:o}", "name", ri.name, "priority",
					   rules_priority_name(ri.priority, false), "enabled",
					   ri.enabled, "source", ri.source, "tags", tags));
		}
		json_object_set_new(root, "rules", arr);
		{
			json_t *pl = json_array();
			const char *pn, *pv;

			for (size_t i = 0; rules_set_plugin(rs, i, &pn, &pv) == 0; i++)
				json_array_append_new(
				    pl, json_pack("{s:s,s:s}", "name", pn, "version", pv));
			json_object_set_new(root, "required_plugin_versions", pl);
		}
		json_object_set_new(root, "hash", json_string(rules_set_hash(rs)));
		json_object_set_new(root, "engine_version", json_string(RULES_ENGINE_VERSION));
		text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(root);
		if (!text)
			return 1;
		printf("%s\n", text);
		free(text);
		return 0;
	}
	printf("%-60s %-13s %-8s %s\n", "RULE", "PRIORITY", "ENABLED", "SOURCE");
	for (size_t i = 0; i < rules_set_count(rs); i++) {
		struct rules_info ri;

		rules_set_rule_info(rs, i, &ri);
		printf("%-60s %-13s %-8s %s\n", ri.name, rules_priority_name(ri.priority, false),
		       ri.enabled ? "true" : "false", ri.source);
	}
	return 0;
}

static int replay(const struct rules_set *rs, const char *path, bool all, const char *hostname)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	struct rules_trace_reader *r;
	struct rules_event *ev;
	unsigned long events = 0, alerts = 0, bad = 0;
	char host[256];
	int rc = 0;

	if (!f) {
		fprintf(stderr, "vigil-sensor: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!hostname) {
		if (gethostname(host, sizeof(host)))
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		hostname = host;
	}
	r = rules_trace_reader_new(f, path);
	ev = malloc(sizeof(*ev));
	if (!r || !ev) {
		rc = 1;
		goto out;
	}
	for (;;) {
		size_t hits[64];
		size_t n;
		int err = rules_trace_next(r, ev);

		if (err == 0)
			break;
		if (err == -EINVAL) {
			fprintf(stderr, "%s\n", rules_trace_reader_error(r));
			bad++;
			continue;
		}
		if (err < 0) {
			fprintf(stderr, "%s\n", rules_trace_reader_error(r));
			rc = 1;
			break;
		}
		events++;
		n = rules_set_eval(rs, ev, all, hits, 64);
		for (size_t i = 0; i < n; i++) {
			char *line = NULL;

			if (rules_set_format_alert(rs, hits[i], ev, hostname, &line) == 0) {
				printf("%s\n", line);
				alerts++;
			}
			free(line);
		}
	}
	fflush(stdout);
	fprintf(stderr, "replay: %lu event(s), %lu alert(s), %lu bad line(s)\n", events, alerts,
		bad);
	if (bad)
		rc = 1;
out:
	free(ev);
	rules_trace_reader_free(r);
	if (f != stdin)
		fclose(f);
	return rc;
}

int sensor_rules_cli_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"validate", no_argument, NULL, OPT_VALIDATE},
	    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
	    {"list", no_argument, NULL, 'L'},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"replay", required_argument, NULL, OPT_REPLAY},
	    {"all-matches", no_argument, NULL, OPT_ALL},
	    {"hostname", required_argument, NULL, OPT_HOSTNAME},
	    {"rules", required_argument, NULL, 'r'},
	    {0},
	};
	char **paths = calloc((size_t)argc + 1, sizeof(*paths));
	bool validate = false, dry = false, list = false, json = false, all = false;
	const char *trace = NULL, *hostname = NULL;
	struct rules_set *rs = NULL;
	size_t npaths = 0;
	int c, rc = 2;

	if (!paths)
		return 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:L", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			paths[npaths++] = optarg;
			break;
		case OPT_VALIDATE:
			validate = true;
			break;
		case OPT_DRY_RUN:
			dry = true;
			break;
		case 'L':
			list = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_REPLAY:
			trace = optarg;
			break;
		case OPT_ALL:
			all = true;
			break;
		case OPT_HOSTNAME:
			hostname = optarg;
			break;
		default:
			fprintf(stderr, "usage: vigil-sensor [options]\n%s",
				sensor_rules_cli_usage());
			goto out;
		}
	}
	if (validate) {
		/* --validate FILE...: the files are the remaining arguments (and any -r) */
		for (int i = optind; i < argc; i++)
			paths[npaths++] = argv[i];
		if (!npaths) {
			fprintf(stderr, "vigil-sensor: --validate needs at least one file\n");
			goto out;
		}
		rc = load(paths, npaths, &rs, false) ? 1 : 0;
		if (!rc) {
			const char *pn, *pv;

			printf("valid: %zu rule(s), hash %s\n", rules_set_count(rs),
			       rules_set_hash(rs));
			for (size_t i = 0; rules_set_plugin(rs, i, &pn, &pv) == 0; i++)
				printf("requires plugin %s >= %s (not enforced)\n", pn, pv);
		}
		goto out;
	}
	if (optind < argc) {
		fprintf(stderr, "vigil-sensor: unexpected argument '%s'\n", argv[optind]);
		goto out;
	}
	if (!npaths) {
		fprintf(stderr, "vigil-sensor: -r FILE|DIR is required\n");
		goto out;
	}
	if (load(paths, npaths, &rs, true)) {
		rc = 1;
		goto out;
	}
	rc = 0;
	if (dry)
		fprintf(stderr, "dry run: %zu rule(s), %zu active, hash %s\n", rules_set_count(rs),
			rules_set_count_active(rs), rules_set_hash(rs));
	if (list)
		rc = list_rules(rs, json);
	if (trace && !rc)
		rc = replay(rs, trace, all, hostname);
out:
	rules_set_free(rs);
	free(paths);
	return rc;
}
