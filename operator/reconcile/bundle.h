/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile/bundle: the rules bundle sensors mount, assembled from RuleSets (pure, no I/O).
 *
 * The bundle is ONE ConfigMap (`vigil-rules` in the operator's namespace), so a sensor never sees
 * a half-written bundle: an update of one object is atomic in the API, and the kubelet swaps the
 * mounted `..data` symlink in one step. Its data:
 *   NNNN-<namespace>-<name>.yaml   one file per RuleSet; NNNN is the load position, so the file
 *                                  name order IS the load order (spec.order, then name, then ns)
 *   bundle.sha256                  bundle_hash() of the .yaml files (see below)
 * and the annotation vigil.dev/bundle-sources: {"ns/name":{"key":..,"order":..,"generation":..}}
 * recording which generation of each RuleSet the bundle holds.
 *
 * Last good: a RuleSet whose current rules do not compile keeps the text it had in the previous
 * bundle (found through the sources annotation) at its previous order; one that never compiled is
 * left out. Deleted RuleSets drop out.
 */
#ifndef VIGIL_OPERATOR_RECONCILE_BUNDLE_H
#define VIGIL_OPERATOR_RECONCILE_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define BUNDLE_CONFIGMAP "vigil-rules"
#define BUNDLE_HASH_KEY "bundle.sha256"
#define BUNDLE_SOURCES_ANNOTATION "vigil.dev/bundle-sources"
/* Keep well under the 1 MiB object limit (etcd's request limit is ~1.5 MiB). */
#define BUNDLE_MAX_BYTES (900u * 1024u)

/* One RuleSet as the assembler sees it; strings borrowed. */
struct bundle_entry {
	const char *ns;
	const char *name;
	int order;
	int64_t generation;
	const char *rules; /* current spec.rules */
	bool valid;	   /* current rules compile */
};

/*
 * Assembles the files. e: n entries in any order. prev_data: the current ConfigMap's data (or
 * NULL); prev_sources: its parsed sources annotation (or NULL). On success *files is a new object
 * {key: text} (no hash key) and *sources a new object for the annotation. Returns the number of
 * files, -E2BIG when the texts exceed BUNDLE_MAX_BYTES, or -ENOMEM.
 */
int bundle_assemble(const struct bundle_entry *e, size_t n, const json_t *prev_data,
		    const json_t *prev_sources, json_t **files, json_t **sources);

/*
 * The bundle hash: lowercase hex SHA-256 (65 bytes with NUL into out) over the files in key
 * order, each as: key, NUL, length in decimal, NUL, bytes (the formula of rules_set_hash, with
 * each input named by its file name). files borrowed; non-string values are skipped.
 */
int bundle_hash(const json_t *files, char out[65]);

/* The keys of files (borrowed) sorted: a new array of strings (caller decrefs). */
json_t *bundle_sorted_keys(const json_t *files);

#endif
