/* SPDX-License-Identifier: Apache-2.0 */
#include "operator/reconcile/fleet_render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "operator/rollout/rollout.h"

void fleet_render_name(const char *rev, char *buf, size_t len)
{
	snprintf(buf, len, "vigil-sensor-%s", rev ? rev : "");
}

static json_t *env_field(const char *name, const char *path)
{
	return json_pack("{s:s, s:{s:{s:s}}}", "name", name, "valueFrom", "fieldRef", "fieldPath",
			 path);
}

static json_t *host_volume(const char *name, const char *path)
{
	return json_pack("{s:s, s:{s:s}}", "name", name, "hostPath", "path", path);
}

static json_t *mount(const char *name, const char *path)
{
	return json_pack("{s:s, s:s, s:b}", "name", name, "mountPath", path, "readOnly", 1);
}

static uint64_t fnv64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

json_t *fleet_render_daemonset(const struct fleet_render_in *in)
{
	const json_t *meta = json_object_get(in->fleet, "metadata");
	const json_t *spec = json_object_get(in->fleet, "spec");
	const char *fname = json_string_value(json_object_get(meta, "name"));
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *uid = json_string_value(json_object_get(meta, "uid"));
	const char *pull = json_string_value(json_object_get(spec, "imagePullPolicy"));
	json_t *preset_j = json_object_get(spec, "bufSizePreset");
	json_t *hb_j = json_object_get(spec, "heartbeatSeconds");
	int preset = json_is_integer(preset_j) ? (int)json_integer_value(preset_j) : 4;
	int hb = json_is_integer(hb_j) ? (int)json_integer_value(hb_j) : 10;
	char name[96], node_key[64], a_preset[32], a_hb[32], a_health[48], hash[32];
	json_t *ds = NULL, *labels, *sel, *tmpl, *pod, *ctr, *ann;
	char *dump;

	if (!fname || !ns || !uid || !in->rev)
		return NULL;
	fleet_render_name(in->rev, name, sizeof(name));
	snprintf(node_key, sizeof(node_key), ROLLOUT_NODE_LABEL_PREFIX "%s", in->rev);
	snprintf(a_preset, sizeof(a_preset), "--buffer-preset=%d", preset);
	snprintf(a_hb, sizeof(a_hb), "--heartbeat=%d", hb);
	snprintf(a_health, sizeof(a_health), "--health-addr=$(POD_IP):%d", FLEET_HEALTH_PORT);

	labels = json_pack("{s:s, s:s, s:s, s:s}", "app.kubernetes.io/name", "vigil-sensor",
			   "app.kubernetes.io/managed-by", "vigil-operator", FLEET_LABEL, fname,
			   ROLLOUT_REVISION_LABEL, in->rev);
	sel = json_pack("{s:s, s:s}", FLEET_LABEL, fname, ROLLOUT_REVISION_LABEL, in->rev);
	ctr = json_pack("{s:s, s:s, s:s, s:[s, s, s, s], s:[o, o, o, {s:s, s:s}],"
			" s:{s:b, s:b, s:I, s:{s:[s], s:[s, s, s]}},"
			" s:[{s:s, s:i, s:s}],"
			" s:{s:{s:s, s:s}, s:i, s:i, s:i},"
			" s:{s:{s:s, s:s}, s:i, s:i, s:i},"
			" s:{s:{s:s, s:s}},"
			" s:[o, o, o, o]}",
			"name", "sensor", "image", in->image ? in->image : "", "imagePullPolicy",
			pull ? pull : "IfNotPresent", "args", "--rules=/etc/vigil/rules", a_preset,
			a_hb, a_health, "env", env_field("NODE_NAME", "spec.nodeName"),
			env_field("POD_NAME", "metadata.name"), env_field("POD_IP", "status.podIP"),
			"name", "VIGIL_DRIVER_VERSION", "value", in->version ? in->version : "",
			"securityContext", "allowPrivilegeEscalation", 0, "readOnlyRootFilesystem",
			1, "runAsUser", (json_int_t)0, "capabilities", "drop", "ALL", "add", "BPF",
			"PERFMON", "SYS_RESOURCE", "ports", "name", "health", "containerPort",
			FLEET_HEALTH_PORT, "protocol", "TCP", "readinessProbe", "httpGet", "path",
			"/readyz", "port", "health", "periodSeconds", 5, "failureThreshold", 2,
			"timeoutSeconds", 2, "livenessProbe", "httpGet", "path", "/healthz", "port",
			"health", "periodSeconds", 10, "failureThreshold", 3, "timeoutSeconds", 2,
			"resources", "requests", "cpu", "50m", "memory", "64Mi", "volumeMounts",
			mount("btf", "/sys/kernel/btf"), mount("tracing", "/sys/kernel/tracing"),
			mount("host-proc", "/host/proc"), mount("rules", "/etc/vigil/rules"));
	pod = json_pack(
	    "{s:s, s:b, s:i, s:o, s:{s:{s:{s:[{s:[{s:s, s:s}]}]}}},"
	    " s:[o, o, o, {s:s, s:{s:s}}]}",
	    "serviceAccountName", in->service_account ? in->service_account : FLEET_SERVICE_ACCOUNT,
	    "hostPID", 1, "terminationGracePeriodSeconds", 30, "containers", json_pack("[o]", ctr),
	    "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
	    "nodeSelectorTerms", "matchExpressions", "key", node_key, "operator", "Exists",
	    "volumes", host_volume("btf", "/sys/kernel/btf"),
	    host_volume("tracing", "/sys/kernel/tracing"), host_volume("host-proc", "/proc"),
	    "name", "rules", "configMap", "name",
	    in->rules_configmap ? in->rules_configmap : "vigil-rules");
	if (!labels || !sel || !pod)
		goto fail;
	if (json_is_object(json_object_get(spec, "nodeSelector")) &&
	    json_object_size(json_object_get(spec, "nodeSelector")))
		json_object_set_new(pod, "nodeSelector",
				    json_deep_copy(json_object_get(spec, "nodeSelector")));
	if (json_is_array(json_object_get(spec, "tolerations")))
		json_object_set_new(pod, "tolerations",
				    json_deep_copy(json_object_get(spec, "tolerations")));
	tmpl = json_pack("{s:{s:O}, s:o}", "metadata", "labels", labels, "spec", pod);
	pod = NULL;
	ann = json_pack("{s:s, s:s}", FLEET_ANN_VERSION, in->version ? in->version : "",
			FLEET_ANN_IMAGE, in->image ? in->image : "");
	/* OnDelete: a template change (buffer preset, heartbeat, tolerations) must never restart
	 * every sensor behind our back, blind; pods pick it up when the rollout replaces them. */
	ds = json_pack("{s:s, s:s, s:{s:s, s:s, s:O, s:o, s:[{s:s, s:s, s:s, s:s, s:b, s:b}]},"
		       " s:{s:{s:o}, s:{s:s}, s:o}}",
		       "apiVersion", "apps/v1", "kind", "DaemonSet", "metadata", "name", name,
		       "namespace", ns, "labels", labels, "annotations", ann, "ownerReferences",
		       "apiVersion", "vigil.dev/v1alpha1", "kind", "SensorFleet", "name", fname,
		       "uid", uid, "controller", 1, "blockOwnerDeletion", 1, "spec", "selector",
		       "matchLabels", sel, "updateStrategy", "type", "OnDelete", "template", tmpl);
	sel = NULL;
	if (!ds)
		goto fail;
	/* the hash covers everything rendered; compare it instead of the live object */
	dump = json_dumps(ds, JSON_SORT_KEYS | JSON_COMPACT);
	if (!dump)
		goto fail;
	snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)fnv64(dump));
	free(dump);
	json_object_set_new(json_object_get(json_object_get(ds, "metadata"), "annotations"),
			    FLEET_ANN_HASH, json_string(hash));
	json_decref(labels);
	return ds;
fail:
	json_decref(labels);
	json_decref(sel);
	json_decref(pod);
	json_decref(ds);
	return NULL;
}
