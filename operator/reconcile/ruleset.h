/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile/ruleset: the RuleSet controller.
 *
 * Keys: "ns/name" (one RuleSet: status Accepted / ruleCount / rulesHash / Applied / appliedNodes /
 * observedGeneration) and RSCTL_BUNDLE_KEY (the rules bundle ConfigMap, see bundle.h).
 * Watches: RuleSets (own key; the bundle key when a spec/generation changes), the bundle
 * ConfigMap (bundle key; every RuleSet when the bundle hash changes), SensorNodes (every RuleSet
 * when a node appears, disappears or reports another rulesHash).
 *
 * Validity: a RuleSet compiles alone, or, when it builds on items of earlier RuleSets (overrides,
 * macros), together with the valid RuleSets before it in bundle order. Results are memoised by
 * the text's SHA-256, so an unchanged RuleSet is never recompiled.
 */
#ifndef VIGIL_OPERATOR_RECONCILE_RULESET_H
#define VIGIL_OPERATOR_RECONCILE_RULESET_H

#include <stddef.h>
#include <jansson.h>

#include "lib/kube/client.h"
#include "lib/rules/rules.h"
#include "operator/controller/controller.h"
#include "operator/events/events.h"

#define RSCTL_BUNDLE_KEY "@bundle"

struct rsctl;

struct rsctl_opts {
	struct ctl_manager *manager; /* borrowed */
	struct kube_client *client;  /* borrowed */
	struct evrec *events;	     /* borrowed, may be NULL */
	const char *ns;		     /* operator namespace, where the bundle lives (copied) */
	const char *watch_ns;	     /* only RuleSets of this namespace; NULL/"" = all (copied) */
	int workers;		     /* [2] */
};

/* Registers the controller and its watches with the manager (before ctl_manager_start).
 * *out is new (free with rsctl_free after the manager stopped). 0 or -errno. */
int rsctl_register(const struct rsctl_opts *o, struct rsctl **out);

void rsctl_free(struct rsctl *r);

/*
 * Validates a RuleSet object (borrowed) as the controller would, against the RuleSets now in the
 * cache: 0 valid, 1 invalid (msg filled: "LINE:COL: rule 'NAME': MESSAGE"), negative errno.
 * Thread-safe; this is the webhook's callback (ctx is the struct rsctl).
 */
int rsctl_validate(void *ctx, const json_t *ruleset, char *msg, size_t msglen);

/*
 * Formats the errors of diags that belong to input `name` (all errors when none do) as
 * "LINE:COL: KIND 'NAME': MESSAGE" joined by "; " (at most 3, then "(+N more)"). Pure.
 */
void rsctl_format_errors(const struct rules_diags *d, const char *name, char *msg, size_t len);

#endif
