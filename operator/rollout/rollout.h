/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rollout: the SensorFleet rollout as a pure state machine. No I/O, no clock reads: the caller
 * passes what it observed (nodes, sensor pods, SensorNode reports, existing revisions), the
 * persisted status and `now`; rollout_step() returns the actions to take and the new status.
 *
 * Model (docs/rollout.md has the full story):
 * - A revision is one (fleet, driverVersion, image), named by rollout_revision_id(). The operator
 * runs one DaemonSet per revision whose pods only run on nodes carrying the node label
 *   "vigil.dev/sensor-<rev>" (node affinity, operator Exists). The label's value is the unix time
 * in seconds the node was moved to that revision, so the wait is measured across operator restarts.
 * - Moving a node = adding the new revision's label (the new sensor starts beside the old one),
 * waiting until the node has detection on the new revision, then removing the old label
 * (make-before-break). Without make-before-break both changes go in one step and the coverage gap
 * is measured.
 * - A node has detection on revision R when a pod of R runs there (Running, not terminating) and a
 *   SensorNode report from that pod is fresh (heartbeat within 3 intervals) with ProbeLoaded,
 *   RulesLoaded and EventsFlowing true. A node is covered when it has detection on any revision.
 * - Everything needed to resume lives in the cluster (status + node labels). The tracker only keeps
 *   what makes numbers exact between steps (gap start times); a new tracker rebuilds from status.
 */
#ifndef VIGIL_OPERATOR_ROLLOUT_ROLLOUT_H
#define VIGIL_OPERATOR_ROLLOUT_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROLLOUT_NODE_LABEL_PREFIX "vigil.dev/sensor-"
#define ROLLOUT_REVISION_LABEL "vigil.dev/revision"
#define ROLLOUT_REV_LEN 16     /* buffer for a revision id (10 hex digits + NUL) */
#define ROLLOUT_VERSION_LEN 64 /* driverVersion is at most 63 characters */
#define ROLLOUT_NAME_LEN 254   /* node names are at most 253 characters */
#define ROLLOUT_REASON_LEN 64
#define ROLLOUT_MESSAGE_LEN 512
#define ROLLOUT_IMAGE_LEN 512
#define ROLLOUT_PROBLEMS_MAX 20 /* status.problemNodes maxItems */
#define ROLLOUT_HEARTBEAT_MISSES 3

struct rollout_kv {
	const char *key;
	const char *value;
};

struct rollout_policy {
	int max_parallel;		 /* nodes moved at the same time, >= 1 */
	bool make_before_break;		 /* new sensor detecting before the old one stops */
	int max_nodes_without_detection; /* roll back when more nodes than this are over budget */
	int gap_budget_seconds;		 /* how long a moved node may be without detection */
	const struct rollout_kv *canary; /* borrowed; nodes matching all of these go first */
	size_t n_canary;
	bool paused; /* start no further nodes */
};

/* Fills the CRD defaults: maxParallel 1, makeBeforeBreak true, maxNodesWithoutDetection 1,
 * gapBudgetSeconds 120, no canary, not paused. */
void rollout_policy_init(struct rollout_policy *p);

struct rollout_spec {
	const char *fleet;	    /* borrowed: "namespace/name", part of every revision id */
	const char *driver_version; /* borrowed */
	const char *image;	    /* borrowed */
	int heartbeat_seconds;	    /* used for reports that carry none; 0 = 10 */
	int64_t generation;
	struct rollout_policy policy;
};

struct rollout_node {
	const char *name;		 /* borrowed */
	const struct rollout_kv *labels; /* borrowed; all the node's labels */
	size_t n_labels;
	bool ready;    /* NodeReady condition is True */
	bool deleted;  /* deletionTimestamp set (a node absent from the list is gone too) */
	bool targeted; /* matches spec.nodeSelector; untargeted nodes lose their sensor labels */
};

enum rollout_pod_phase {
	ROLLOUT_POD_PENDING,
	ROLLOUT_POD_RUNNING,
	ROLLOUT_POD_SUCCEEDED,
	ROLLOUT_POD_FAILED,
	ROLLOUT_POD_UNKNOWN,
};

struct rollout_pod {
	const char *name; /* borrowed */
	const char *node; /* spec.nodeName, borrowed */
	const char *rev;  /* label vigil.dev/revision, borrowed */
	enum rollout_pod_phase phase;
	bool ready;
	bool terminating;    /* deletionTimestamp set */
	int64_t deletion_ms; /* deletionTimestamp (already includes the grace period) */
};

/* One sensor's view of a node, from SensorNode status. During a make-before-break overlap two
 * sensors write the same SensorNode; the caller passes the last report seen from each pod (pod name
 * set). */
struct rollout_report {
	const char *node;	    /* borrowed */
	const char *pod;	    /* status.podName; NULL/"" = match by driver_version */
	const char *driver_version; /* status.driverVersion */
	bool probe_loaded, rules_loaded, events_flowing;
	const char *reason;    /* reason of the first of the three that is not True, or NULL */
	int64_t heartbeat_ms;  /* status.lastHeartbeatTime */
	int heartbeat_seconds; /* status.heartbeatSeconds; 0 = spec's */
};

/* A revision that exists in the cluster (its DaemonSet), so its version is known. */
struct rollout_revision {
	const char *rev;     /* borrowed */
	const char *version; /* borrowed */
	const char *image;   /* borrowed */
};

enum rollout_result {
	ROLLOUT_NONE,
	ROLLOUT_IN_PROGRESS,
	ROLLOUT_ROLLING_BACK,
	ROLLOUT_SUCCEEDED,
	ROLLOUT_ROLLED_BACK,
	ROLLOUT_SUPERSEDED,
};

enum rollout_cond_type {
	ROLLOUT_COND_AVAILABLE,
	ROLLOUT_COND_PROGRESSING,
	ROLLOUT_COND_DEGRADED,
	ROLLOUT_COND_ROLLED_BACK,
	ROLLOUT_COND_COUNT,
};

enum rollout_cond_status { ROLLOUT_UNKNOWN, ROLLOUT_TRUE, ROLLOUT_FALSE };

struct rollout_cond {
	enum rollout_cond_status status;
	char reason[ROLLOUT_REASON_LEN];
	char message[ROLLOUT_MESSAGE_LEN];
	int64_t transition_ms; /* kept while status stays the same */
	int64_t observed_generation;
};

struct rollout_problem {
	char node[ROLLOUT_NAME_LEN];
	char reason[ROLLOUT_REASON_LEN];
	double gap_seconds; /* coverage gap (no sensor detecting) at the time of the step */
	int64_t since_ms;   /* when the problem began */
};

struct rollout_last {
	char from_version[ROLLOUT_VERSION_LEN];
	char to_version[ROLLOUT_VERSION_LEN];
	int64_t start_ms, completion_ms;
	double max_gap_seconds, total_gap_seconds;
	enum rollout_result result;
};

/* SensorFleet status as the machine sees it; the caller converts to and from JSON
 * (rollout_status_to_json / rollout_status_from_json in status_json.h). */
struct rollout_status {
	int64_t observed_generation;
	char current_version[ROLLOUT_VERSION_LEN]; /* every targeted node runs it; "" when mixed */
	char target_version[ROLLOUT_VERSION_LEN];
	char target_revision[ROLLOUT_REV_LEN];
	char last_good_version[ROLLOUT_VERSION_LEN];
	char last_good_image[ROLLOUT_IMAGE_LEN];
	char last_good_revision[ROLLOUT_REV_LEN];
	char rolled_back_version[ROLLOUT_VERSION_LEN];
	char rolled_back_revision[ROLLOUT_REV_LEN];
	int nodes_total, nodes_updated, nodes_with_detection, nodes_without_detection;
	struct rollout_problem problems[ROLLOUT_PROBLEMS_MAX];
	int n_problems;
	struct rollout_last last;
	struct rollout_cond conds[ROLLOUT_COND_COUNT];
};

enum rollout_action_kind {
	ROLLOUT_ACT_ENSURE_REVISION, /* create/update DaemonSet vigil-sensor-<rev> (version, image)
				      */
	ROLLOUT_ACT_DELETE_REVISION, /* delete DaemonSet vigil-sensor-<rev> (no node uses it) */
	ROLLOUT_ACT_LABEL_NODE,	  /* node: set vigil.dev/sensor-<rev>=<value> (start rev there) */
	ROLLOUT_ACT_UNLABEL_NODE, /* node: remove vigil.dev/sensor-<rev> (stop rev there) */
	ROLLOUT_ACT_DELETE_POD,	  /* force-delete pod `name` (stuck Terminating on a dead node) */
	ROLLOUT_ACT_EVENT,	  /* emit an Event on the SensorFleet */
	ROLLOUT_ACT_ROLLBACK,	  /* a rollback started: version -> rev's version (for metrics) */
};

struct rollout_action {
	enum rollout_action_kind kind;
	char rev[ROLLOUT_REV_LEN];	   /* revision (revision, label actions) */
	char name[ROLLOUT_NAME_LEN];	   /* node (label actions) or pod (DELETE_POD) */
	char value[24];			   /* label value (LABEL_NODE) */
	char version[ROLLOUT_VERSION_LEN]; /* ENSURE_REVISION; ROLLBACK: the version rolled back */
	char *image;			   /* ENSURE_REVISION, owned by the plan */
	bool warning;			   /* EVENT: Warning instead of Normal */
	char reason[ROLLOUT_REASON_LEN];   /* EVENT */
	char *message;			   /* EVENT, owned by the plan */
};

struct rollout_plan {
	struct rollout_action *actions; /* owned; in execution order */
	size_t n_actions, cap;
	struct rollout_status status; /* the new status */
	int64_t recheck_ms; /* latest time to step again without a new observation; 0 = none */
	int n_steps;	    /* nodes started on a revision by this step (metrics) */
};

/* Frees what the plan owns and zeroes it; safe on a zeroed plan and on NULL. */
void rollout_plan_release(struct rollout_plan *p);

/* Per-fleet memory between steps (gap start times, gaps already counted). Create one per fleet; a
 * new tracker (e.g. after an operator restart) rebuilds what it needs from the status passed in.
 * Returns NULL on ENOMEM. */
struct rollout_tracker *rollout_tracker_new(void);
void rollout_tracker_free(struct rollout_tracker *t);

/* Calls fn for every node the tracker knows: its coverage gap so far (0 when covered) and its total
 * gap in the current/last rollout, both in seconds (for per-node metrics). */
void rollout_tracker_foreach(const struct rollout_tracker *t, int64_t now_ms,
			     void (*fn)(const char *node, double gap_s, double rollout_gap_s,
					void *arg),
			     void *arg);

struct rollout_input {
	const struct rollout_spec *spec;   /* borrowed, required */
	const struct rollout_status *prev; /* persisted status, borrowed; NULL = none */
	const struct rollout_node *nodes;  /* borrowed */
	size_t n_nodes;
	const struct rollout_pod *pods; /* sensor pods (any revision), borrowed */
	size_t n_pods;
	const struct rollout_report *reports; /* borrowed */
	size_t n_reports;
	const struct rollout_revision *revisions; /* existing DaemonSets, borrowed */
	size_t n_revisions;
	int64_t now_ms;
};

/* One step: reads `in`, updates the tracker `t` (borrowed, required) and fills `out` (zeroed or
 * released by the caller first; caller releases it). Deterministic for equal inputs and tracker
 * state. Returns 0, -EINVAL (missing spec/tracker) or -ENOMEM. */
int rollout_step(struct rollout_tracker *t, const struct rollout_input *in,
		 struct rollout_plan *out);

/* Writes the revision id of (fleet, version, image) into out (ROLLOUT_REV_LEN bytes): 10 lowercase
 * hex digits of a 64-bit FNV-1a hash, stable across builds. fleet ("namespace/name", may be NULL)
 * is part of it so that two fleets never share a DaemonSet or a node label. */
void rollout_revision_id(const char *fleet, const char *version, const char *image,
			 char out[ROLLOUT_REV_LEN]);

/* Names for conditions, results and action kinds as written to the API ("Available", "InProgress").
 */
const char *rollout_cond_type_name(enum rollout_cond_type t);
const char *rollout_result_name(enum rollout_result r);
/* Parses a result name; unknown or NULL -> ROLLOUT_NONE. */
enum rollout_result rollout_result_parse(const char *s);
const char *rollout_action_kind_name(enum rollout_action_kind k);

#endif
