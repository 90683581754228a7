/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rules: the public API of Vigil's Falco rules engine (load, validate, list, evaluate, format).
 *
 *   struct rules_diags *d = NULL;
 *   struct rules_set *rs = NULL;
 *   int err = rules_load_files(paths, n, &rs, &d);   // rs == NULL when any error was found
 *   rules_diags_print(d, stderr);                    // FILE:LINE:COL: error|warning: message
 *   ...
 *   size_t hit[1];
 *   if (rules_set_eval(rs, &ev, false, hit, 1) > 0)
 *       rules_set_format_alert(rs, hit[0], &ev, hostname, &line);   // one JSON line, caller frees
 *   rules_set_free(rs); rules_diags_free(d);
 *
 * A loaded set is IMMUTABLE: evaluation and formatting only read it, so any number of threads may
 * use one set at once, and a sensor can publish a new set by swapping an atomic pointer (free the
 * old one once no thread can still hold it).
 *
 * Semantics follow Falco's rules language (docs/rules-language.md lists where Vigil chose).
 */
#ifndef VIGIL_LIB_RULES_RULES_H
#define VIGIL_LIB_RULES_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/rules/event.h"
#include "lib/rules/version.h"

struct rules_set;
struct rules_diags;

enum rules_severity {
	RULES_SEV_WARNING = 1,
	RULES_SEV_ERROR = 2,
};

/* Falco priorities, most severe first. */
enum rules_priority {
	RULES_PRIO_EMERGENCY = 0,
	RULES_PRIO_ALERT,
	RULES_PRIO_CRITICAL,
	RULES_PRIO_ERROR,
	RULES_PRIO_WARNING,
	RULES_PRIO_NOTICE,
	RULES_PRIO_INFORMATIONAL,
	RULES_PRIO_DEBUG,
};

/* One problem found while loading. All strings are owned by the diags list. line/col are 1-based
 * (0 when unknown). kind is "rule", "macro", "list", "required_engine_version", ... or NULL. */
struct rules_diag {
	const char *file;
	int line;
	int col;
	enum rules_severity severity;
	const char *kind;
	const char *name;
	const char *message;
};

/* One named text to load (e.g. a RuleSet's spec.rules); both strings borrowed for the call. */
struct rules_input {
	const char *name;
	const char *text;
	size_t len;
};

/* What a rule looks like from outside; every pointer is owned by the set. */
struct rules_info {
	const char *name;
	const char *desc;
	const char *condition; /* after appends, before macro expansion */
	const char *output;
	const char *source;
	enum rules_priority priority;
	bool enabled;
	const char *const *tags;
	size_t ntags;
};

/* Loads files in order (later files override earlier ones). *out gets a new set (caller frees with
 * rules_set_free) when there is no error, else NULL; *diags (may be NULL to not receive them) gets
 * a new list (caller frees) holding every error and warning. Returns 0, -EINVAL when the rules
 * have errors, -ENOENT/-EIO when a file can't be read (also reported in diags), -ENOMEM. */
int rules_load_files(const char *const *paths, size_t n, struct rules_set **out,
		     struct rules_diags **diags);

/* Like rules_load_files with texts in memory (names used in diagnostics). */
int rules_load_buffers(const struct rules_input *in, size_t n, struct rules_set **out,
		       struct rules_diags **diags);

/* Expands each path: a directory gives its *.yaml / *.yml files in name order, a file itself.
 * *out_paths is a new NULL-terminated array of new strings (free with rules_paths_free). */
int rules_paths_expand(const char *const *paths, size_t n, char ***out_paths, size_t *out_n);
void rules_paths_free(char **paths);

void rules_set_free(struct rules_set *rs);

/* Number of rules, enabled or not (rules skipped by skip-if-unknown-filter included). */
size_t rules_set_count(const struct rules_set *rs);

/* Number of enabled rules that evaluate. */
size_t rules_set_count_active(const struct rules_set *rs);

/* Stable hex sha256 (64 chars + NUL, owned by the set) of the inputs: for each input in order,
 * its name without any directory part, a NUL, its length as decimal, a NUL, and its bytes. */
const char *rules_set_hash(const struct rules_set *rs);

/* Fills *out for rule i (0 <= i < rules_set_count, in definition order). 0 or -ERANGE. */
int rules_set_rule_info(const struct rules_set *rs, size_t i, struct rules_info *out);

/* Index of the rule called name, or -1. */
long rules_set_find(const struct rules_set *rs, const char *name);

/* required_plugin_versions entry i (accepted and reported, not enforced): *name and *version
 * are owned by the set. 0 or -ERANGE. */
int rules_set_plugin(const struct rules_set *rs, size_t i, const char **name, const char **version);

/* Bytes held by the compiled set (arena, tables, texts). */
size_t rules_set_memory(const struct rules_set *rs);

/* Evaluates one event against the enabled rules indexed for its type, in definition order.
 * With all == false (Falco's default) it stops at the first match. Writes matching rule indices
 * into hits[0..max) and returns how many matched (at most max). Thread-safe; no allocation. */
size_t rules_set_eval(const struct rules_set *rs, const struct rules_event *ev, bool all,
		      size_t *hits, size_t max);

/* Formats rule i's output for ev (%field replaced, <NA> when absent) into *out: a new string,
 * caller frees. 0, -ERANGE or -ENOMEM. */
int rules_set_format_output(const struct rules_set *rs, size_t i, const struct rules_event *ev,
			    char **out);

/* Formats the one-line JSON alert (no trailing newline) for rule i and ev:
 * {"hostname":..,"output":..,"output_fields":{..},"priority":"CRITICAL","rule":..,"source":..,
 *  "tags":[..],"time":"2025-10-02T11:42:03.000000000Z"}. Keys sorted; time from ev->ts_ns.
 * hostname borrowed. *out is new (caller frees). 0, -ERANGE or -ENOMEM. */
int rules_set_format_alert(const struct rules_set *rs, size_t i, const struct rules_event *ev,
			   const char *hostname, char **out);

/* Priority name as Falco spells it ("Critical"), or as in alerts ("CRITICAL") when upper. */
const char *rules_priority_name(enum rules_priority p, bool upper);

/* Parses a priority (case-insensitive; "info" accepted). 0 or -EINVAL. */
int rules_priority_parse(const char *s, enum rules_priority *out);

/* Diagnostics. NULL lists count as empty. */
size_t rules_diags_count(const struct rules_diags *d);
size_t rules_diags_errors(const struct rules_diags *d);
size_t rules_diags_warnings(const struct rules_diags *d);
const struct rules_diag *rules_diags_get(const struct rules_diags *d, size_t i);
/* Writes each as "FILE:LINE:COL: error|warning: KIND 'NAME': MESSAGE\n". */
void rules_diags_print(const struct rules_diags *d, FILE *f);
void rules_diags_free(struct rules_diags *d);

#endif
