/* SPDX-License-Identifier: Apache-2.0 */
/* vigil-operator: watches RuleSet, SensorFleet and SensorNode and keeps every node covered. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/httpd/httpd.h"
#include "lib/kube/client.h"
#include "lib/kube/config.h"
#include "lib/util/log.h"
#include "operator/controller/controller.h"
#include "operator/events/events.h"
#include "operator/leader/leader.h"
#include "operator/metrics/metrics.h"
#include "operator/reconcile/ruleset.h"
#include "operator/reconcile/sensorfleet.h"
#include "operator/webhook/certstore.h"
#include "operator/webhook/webhook.h"

#define SA_NAMESPACE_FILE "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

struct options {
	const char *kubeconfig;
	char ns[64];
	const char *watch_ns;
	const char *metrics_addr;
	const char *webhook_addr;
	const char *webhook_cert, *webhook_key, *webhook_ca;
	char webhook_cert_dir[256];
	const char *webhook_secret;
	const char *webhook_url_base;
	const char *webhook_service;
	bool no_webhook;
	bool leader_elect;
	const char *lease_name;
	char identity[128];
	int workers;
	int sync_timeout_s;
};

static atomic_bool stop_requested;
static atomic_bool lost_lease;

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: vigil-operator [options]\n"
	    "\n"
	    "Keeps a fleet of vigil-sensor pods watching every node through rule changes and\n"
	    "driver upgrades (custom resources RuleSet, SensorFleet, SensorNode; "
	    "vigil.dev/v1alpha1).\n"
	    "\n"
	    "  --kubeconfig FILE        kubeconfig (default: $KUBECONFIG, in-cluster, "
	    "~/.kube/config)\n"
	    "  --namespace NS           operator namespace: rules bundle, lease, webhook secret\n"
	    "                           (default: the service account's, else vigil-system)\n"
	    "  --watch-namespace NS     only reconcile RuleSets in NS (default: all namespaces)\n"
	    "  --metrics-addr ADDR      /healthz, /readyz, /metrics (default 127.0.0.1:8080)\n"
	    "  --webhook-addr ADDR      HTTPS admission webhook (default 127.0.0.1:9443)\n"
	    "  --webhook-cert FILE      serving certificate (PEM); with --webhook-key\n"
	    "  --webhook-key FILE       its private key\n"
	    "  --webhook-ca FILE        CA bundle for caBundle (default: the certificate)\n"
	    "  --webhook-cert-dir DIR   where generated certificates go\n"
	    "                           (default /tmp/vigil-operator-<identity>)\n"
	    "  --webhook-secret NAME    Secret sharing the generated certificate between replicas\n"
	    "                           (default vigil-webhook-tls; \"\" generates locally only)\n"
	    "  --webhook-url-base URL   API server calls URL/validate-rulesets (local clusters,\n"
	    "                           e.g. https://127.0.0.1:9443); default: the Service\n"
	    "  --webhook-service NAME   Service in front of the webhook (default vigil-webhook)\n"
	    "  --no-webhook             neither serve the webhook nor manage its configuration\n"
	    "  --leader-elect           run only while holding the Lease (for several replicas)\n"
	    "  --lease-name NAME        Lease name (default vigil-operator)\n"
	    "  --identity ID            this replica in the Lease (default hostname_pid)\n"
	    "  --workers N              RuleSet workers (default 2)\n"
	    "  --sync-timeout S         give up when caches do not sync in S seconds (default "
	    "120)\n"
	    "  --log-level LEVEL        debug, info, warn, error (default info)\n"
	    "  --version                print the version and exit\n"
	    "  -h, --help               this text\n");
}

static void default_namespace(char *ns, size_t len)
{
	FILE *f = fopen(SA_NAMESPACE_FILE, "r");

	snprintf(ns, len, "vigil-system");
	if (f) {
		if (fgets(ns, (int)len, f))
			ns[strcspn(ns, "\r\n")] = '\0';
		fclose(f);
		if (!ns[0])
			snprintf(ns, len, "vigil-system");
	}
}

static int parse(int argc, char **argv, struct options *o)
{
	enum {
		O_KUBECONFIG = 256,
		O_NS,
		O_METRICS,
		O_WH_ADDR,
		O_WH_CERT,
		O_WH_KEY,
		O_WH_CA,
		O_WH_DIR,
		O_WH_SECRET,
		O_WH_URL,
		O_WH_SVC,
		O_NO_WH,
		O_LEADER,
		O_LEASE,
		O_ID,
		O_WORKERS,
		O_SYNC,
		O_LOG,
		O_VERSION,
		O_WATCH_NS
	};
	static const struct option opts[] = {
	    {"kubeconfig", required_argument, NULL, O_KUBECONFIG},
	    {"namespace", required_argument, NULL, O_NS},
	    {"watch-namespace", required_argument, NULL, O_WATCH_NS},
	    {"metrics-addr", required_argument, NULL, O_METRICS},
	    {"webhook-addr", required_argument, NULL, O_WH_ADDR},
	    {"webhook-cert", required_argument, NULL, O_WH_CERT},
	    {"webhook-key", required_argument, NULL, O_WH_KEY},
	    {"webhook-ca", required_argument, NULL, O_WH_CA},
	    {"webhook-cert-dir", required_argument, NULL, O_WH_DIR},
	    {"webhook-secret", required_argument, NULL, O_WH_SECRET},
	    {"webhook-url-base", required_argument, NULL, O_WH_URL},
	    {"webhook-service", required_argument, NULL, O_WH_SVC},
	    {"no-webhook", no_argument, NULL, O_NO_WH},
	    {"leader-elect", no_argument, NULL, O_LEADER},
	    {"lease-name", required_argument, NULL, O_LEASE},
	    {"identity", required_argument, NULL, O_ID},
	    {"workers", required_argument, NULL, O_WORKERS},
	    {"sync-timeout", required_argument, NULL, O_SYNC},
	    {"log-level", required_argument, NULL, O_LOG},
	    {"version", no_argument, NULL, O_VERSION},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	enum vlog_level lvl;
	char host[64] = "vigil-operator";
	int c;

	memset(o, 0, sizeof(*o));
	default_namespace(o->ns, sizeof(o->ns));
	o->metrics_addr = "127.0.0.1:8080";
	o->webhook_addr = "127.0.0.1:9443";
	o->webhook_secret = "vigil-webhook-tls";
	o->webhook_service = "vigil-webhook";
	o->lease_name = "vigil-operator";
	o->workers = 2;
	o->sync_timeout_s = 120;
	gethostname(host, sizeof(host) - 1);
	snprintf(o->identity, sizeof(o->identity), "%s_%d", host, (int)getpid());
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_KUBECONFIG:
			o->kubeconfig = optarg;
			break;
		case O_NS:
			snprintf(o->ns, sizeof(o->ns), "%s", optarg);
			break;
		case O_WATCH_NS:
			o->watch_ns = optarg;
			break;
		case O_METRICS:
			o->metrics_addr = optarg;
			break;
		case O_WH_ADDR:
			o->webhook_addr = optarg;
			break;
		case O_WH_CERT:
			o->webhook_cert = optarg;
			break;
		case O_WH_KEY:
			o->webhook_key = optarg;
			break;
		case O_WH_CA:
			o->webhook_ca = optarg;
			break;
		case O_WH_DIR:
			snprintf(o->webhook_cert_dir, sizeof(o->webhook_cert_dir), "%s", optarg);
			break;
		case O_WH_SECRET:
			o->webhook_secret = optarg;
			break;
		case O_WH_URL:
			o->webhook_url_base = optarg;
			break;
		case O_WH_SVC:
			o->webhook_service = optarg;
			break;
		case O_NO_WH:
			o->no_webhook = true;
			break;
		case O_LEADER:
			o->leader_elect = true;
			break;
		case O_LEASE:
			o->lease_name = optarg;
			break;
		case O_ID:
			snprintf(o->identity, sizeof(o->identity), "%s", optarg);
			break;
		case O_WORKERS:
			o->workers = atoi(optarg);
			break;
		case O_SYNC:
			o->sync_timeout_s = atoi(optarg);
			break;
		case O_LOG:
			if (vlog_parse_level(optarg, &lvl)) {
				fprintf(stderr, "vigil-operator: bad --log-level '%s'\n", optarg);
				return 2;
			}
			vlog_set_level(lvl);
			break;
		case O_VERSION:
			printf("%s\n", VIGIL_VERSION);
			return 1;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || (!o->webhook_cert != !o->webhook_key)) {
		usage(stderr);
		return 2;
	}
	if (!o->webhook_cert_dir[0])
		snprintf(o->webhook_cert_dir, sizeof(o->webhook_cert_dir), "/tmp/vigil-operator-%s",
			 o->identity);
	return 0;
}

struct app {
	struct options *o;
	struct ctl_manager *m;
	struct webhook *wh;
	atomic_bool webhook_ready;
};

static int healthz(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	return httpd_resp_set(resp, 200, "text/plain", "ok\n", 3);
}

static int readyz(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	struct app *a = arg;

	if (!ctl_manager_synced(a->m))
		return httpd_resp_set(resp, 503, "text/plain", "caches not synced\n", 18);
	if (!a->o->no_webhook && !atomic_load(&a->webhook_ready))
		return httpd_resp_set(resp, 503, "text/plain", "webhook not serving\n", 20);
	return httpd_resp_set(resp, 200, "text/plain", "ok\n", 3);
}

static void on_signal(int sig)
{
	atomic_store(&stop_requested, true);
}

static void on_started(void *ctx)
{
	ctl_manager_set_leading(ctx, true);
}

static void on_stopped(void *ctx)
{
	/* stop acting at once; main exits so a fresh start re-joins the election */
	ctl_manager_set_leading(ctx, false);
	atomic_store(&lost_lease, true);
}

static int start_webhook(struct app *a, struct kube_client *client, struct metrics *mx,
			 struct rsctl *rs)
{
	struct options *o = a->o;
	struct webhook_opts wo = {.addr = o->webhook_addr,
				  .service_ns = o->ns,
				  .service_name = o->webhook_service,
				  .validate = rsctl_validate,
				  .ctx = rs,
				  .metrics = mx,
				  .cert_dir = o->webhook_cert_dir};
	char cert[300], key[300], ca[300];
	int err;

	if (o->webhook_cert) {
		wo.cert_file = o->webhook_cert;
		wo.key_file = o->webhook_key;
		wo.ca_file = o->webhook_ca;
	} else if (o->webhook_secret && o->webhook_secret[0]) {
		char svc[160], svc_ns[160], svc_full[200];
		const char *dns[3] = {svc_ns, svc_full, "localhost"};
		const char *ips[1] = {"127.0.0.1"};
		struct certgen_opts co = {.dir = o->webhook_cert_dir,
					  .common_name = svc,
					  .dns_names = dns,
					  .ndns = 3,
					  .ips = ips,
					  .nips = 1};

		snprintf(svc, sizeof(svc), "%s.%s.svc", o->webhook_service, o->ns);
		snprintf(svc_ns, sizeof(svc_ns), "%s.%s", o->webhook_service, o->ns);
		snprintf(svc_full, sizeof(svc_full), "%s.%s.svc.cluster.local", o->webhook_service,
			 o->ns);
		err = certstore_sync(client, o->ns, o->webhook_secret, &co);
		if (err)
			return err;
		snprintf(cert, sizeof(cert), "%s/tls.crt", o->webhook_cert_dir);
		snprintf(key, sizeof(key), "%s/tls.key", o->webhook_cert_dir);
		snprintf(ca, sizeof(ca), "%s/ca.crt", o->webhook_cert_dir);
		wo.cert_file = cert;
		wo.key_file = key;
		wo.ca_file = ca;
	}
	err = webhook_start(&wo, &a->wh);
	if (err)
		return err;
	atomic_store(&a->webhook_ready, true);
	vlog_info("main", "msg=\"webhook serving\" addr=%s path=%s", o->webhook_addr, WEBHOOK_PATH);
	return 0;
}

static void ensure_webhook_config(struct app *a, struct kube_client *client)
{
	json_t *cfg = webhook_config_build(webhook_ca_pem(a->wh), a->o->webhook_url_base, a->o->ns,
					   a->o->webhook_service);
	bool changed = false;

	if (cfg)
		webhook_config_ensure(client, cfg, &changed);
	json_decref(cfg);
}

int main(int argc, char **argv)
{
	struct options o;
	struct app a = {.o = &o};
	struct kube_config *cfg = NULL;
	struct kube_client *client = NULL;
	struct kube_error kerr;
	struct metrics *mx = NULL;
	struct evrec *ev = NULL;
	struct rsctl *rs = NULL;
	struct sfctl *sf = NULL;
	struct httpd *http = NULL;
	struct leader *le = NULL;
	struct httpd_opts ho = {0};
	struct sigaction sa = {.sa_handler = on_signal};
	int rc, ret = 1;
	time_t last_ensure = 0, last_trim = time(NULL);

	rc = parse(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	/* a few threads, small objects: one malloc arena per thread only wastes memory */
	mallopt(M_ARENA_MAX, 2);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = kube_config_auto(o.kubeconfig, &cfg, &kerr);
	if (rc) {
		vlog_error("main", "msg=\"no cluster configuration\" err=\"%s\"", kerr.message);
		return 1;
	}
	rc = kube_client_new(cfg, NULL, &client);
	if (rc) {
		vlog_error("main", "msg=\"cannot create API client\" err=%d", rc);
		return 1;
	}
	vlog_info("main", "msg=starting version=%s namespace=%s identity=%s server=%s",
		  VIGIL_VERSION, o.ns, o.identity, kube_client_config(client)->server);
	mx = metrics_new();
	a.m = ctl_manager_new(&(struct ctl_manager_opts){.client = client, .metrics = mx});
	ev = evrec_new(client, "vigil-operator", o.identity);
	if (!mx || !a.m || !ev)
		goto out;
	metrics_describe(mx, "vigil_webhook_requests_total", "counter",
			 "Admission reviews answered, by result.");
	rc = rsctl_register(&(struct rsctl_opts){.manager = a.m,
						 .client = client,
						 .events = ev,
						 .ns = o.ns,
						 .watch_ns = o.watch_ns,
						 .workers = o.workers},
			    &rs);
	if (rc)
		goto out;
	rc = sfctl_register(&(struct sfctl_opts){.manager = a.m,
						 .client = client,
						 .events = ev,
						 .metrics = mx,
						 .ns = o.ns},
			    &sf);
	if (rc)
		goto out;

	ho.addr = o.metrics_addr;
	if (httpd_new(&ho, &http) || httpd_route(http, "GET", "/healthz", healthz, &a) ||
	    httpd_route(http, "GET", "/readyz", readyz, &a) ||
	    httpd_route(http, "GET", "/metrics", metrics_http_handler, mx) || httpd_start(http))
		goto out;
	if (!o.no_webhook && start_webhook(&a, client, mx, rs))
		goto out;

	rc = ctl_manager_start(a.m, o.sync_timeout_s * 1000);
	if (rc)
		goto out;
	malloc_trim(0); /* hand back what the initial lists needed transiently */
	if (o.leader_elect) {
		struct leader_opts lo = {.client = client,
					 .ns = o.ns,
					 .name = o.lease_name,
					 .identity = o.identity,
					 .on_started = on_started,
					 .on_stopped = on_stopped,
					 .ctx = a.m};

		if (leader_start(&lo, &le))
			goto out;
	} else {
		ctl_manager_set_leading(a.m, true);
	}
	while (!atomic_load(&stop_requested)) {
		struct timespec ts = {0, 100 * 1000000};

		if (atomic_load(&lost_lease)) {
			vlog_error("main", "msg=\"leader lease lost; exiting\"");
			ctl_manager_stop(a.m);
			ret = 1;
			goto out_nolease;
		}
		if (!o.no_webhook && ctl_manager_leading(a.m) && time(NULL) - last_ensure >= 30) {
			ensure_webhook_config(&a, client);
			last_ensure = time(NULL);
		}
		if (time(NULL) - last_trim >= 60) {
			malloc_trim(0);
			last_trim = time(NULL);
		}
		nanosleep(&ts, NULL);
	}
	vlog_info("main", "msg=\"shutting down\"");
	ret = 0;
out:
	ctl_manager_set_leading(a.m, false);
	ctl_manager_stop(a.m);
	leader_free(le); /* releases the lease when we held it */
	le = NULL;
out_nolease:
	if (le) {
		/* lost: do not release what another replica now holds; just stop the thread */
		leader_free(le);
	}
	webhook_free(a.wh);
	httpd_free(http);
	ctl_manager_free(a.m);
	sfctl_free(sf);
	rsctl_free(rs);
	evrec_free(ev);
	metrics_free(mx);
	kube_client_free(client);
	return ret;
}
