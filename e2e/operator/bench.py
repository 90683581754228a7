#!/usr/bin/env python3
"""Operator benchmark against the local cluster (make bench-operator).

Creates 1,000 SensorNodes (with a realistic status) and 100 RuleSets, starts vigil-operator, and
prints: RSS and CPU while it caches them, then the latency from a RuleSet change (PATCH sent) to
the bundle ConfigMap carrying it (seen on a watch), p50/p99 over --changes changes.
Everything it creates is deleted at the end. Numbers are printed, nothing is asserted.
"""
import argparse
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STATE = os.path.join(ROOT, ".cache", "cluster")
PKI = os.path.join(STATE, "pki")
NS = "vigil-bench-operator"
LABEL = "vigil.dev/bench"


def ctx():
    c = ssl.create_default_context(cafile=os.path.join(PKI, "ca.crt"))
    c.load_cert_chain(os.path.join(PKI, "admin.crt"), os.path.join(PKI, "admin.key"))
    return c


class Api:
    def __init__(self, port):
        self.port = port
        self.ssl = ctx()
        self.conn = None

    def req(self, method, path, body=None, ctype="application/json"):
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ssl,
                                                            timeout=30)
                data = json.dumps(body).encode() if body is not None else None
                self.conn.request(method, path, body=data, headers={"Content-Type": ctype})
                r = self.conn.getresponse()
                out = r.read()
                return r.status, (json.loads(out) if out else None)
            except (http.client.HTTPException, OSError):
                self.conn = None
                if attempt == 2:
                    raise
        return 0, None


def status_for(i, rules_hash):
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    conds = [{"type": t, "status": "True", "reason": "Loaded", "message": "ok",
              "lastTransitionTime": now} for t in ("ProbeLoaded", "RulesLoaded", "EventsFlowing",
                                                  "Ready")]
    return {"driverVersion": "0.1.0", "image": "vigil/sensor:0.1.0", "podName": "vigil-sensor-%05d" % i,
            "kernelRelease": "6.1.0-bench", "btfPresent": True,
            "capabilities": ["CAP_BPF", "CAP_PERFMON", "CAP_SYS_RESOURCE"],
            "rulesHash": rules_hash, "ruleCount": 100, "eventsPerSecond": 1200,
            "eventsTotal": 123456789, "drops": 0, "bufSizePreset": 4, "heartbeatSeconds": 10,
            "lastHeartbeatTime": now, "conditions": conds}


def rules_text(i, extra=""):
    return ("- macro: bench_macro_%d\n  condition: proc.name = bench%d\n"
            "- rule: Bench rule %d\n  desc: benchmark rule %d\n"
            "  condition: evt.type = execve and bench_macro_%d\n"
            "  output: \"bench %%proc.name %%proc.cmdline\"\n  priority: NOTICE\n%s") % (
                i, i, i, i, i, extra)


def proc_stats(pid):
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return rss, ticks / os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def metrics(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


class BundleWatch(threading.Thread):
    """Watches the bundle ConfigMap; records when each marker first appears."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.seen = {}
        self.want = None
        self.cv = threading.Condition()
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                c = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx(), timeout=60)
                c.request("GET", "/api/v1/namespaces/%s/configmaps?watch=1&fieldSelector="
                          "metadata.name%%3Dvigil-rules" % NS)
                r = c.getresponse()
                buf = b""
                while not self.stop:
                    chunk = r.read1(65536) if hasattr(r, "read1") else r.read(1)
                    if not chunk:
                        break
                    buf += chunk
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        t = time.monotonic()
                        ev = json.loads(line)
                        data = json.dumps(ev.get("object", {}).get("data", {}))
                        with self.cv:
                            if self.want and self.want in data and self.want not in self.seen:
                                self.seen[self.want] = t
                                self.cv.notify_all()
            except Exception:
                time.sleep(0.2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--operator", default=os.path.join(ROOT, "bin", "vigil-operator"))
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--rulesets", type=int, default=100)
    ap.add_argument("--changes", type=int, default=100)
    a = ap.parse_args()
    port = int(os.environ.get("VIGIL_APISERVER_PORT", "26443"))
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        ok = os.path.exists(os.path.join(PKI, "admin.crt"))
    except OSError:
        ok = False
    if not ok:
        print("bench-operator: local cluster not running (make cluster-up): skipped")
        return 0
    api = Api(port)
    tmp = tempfile.mkdtemp(prefix="vigil-bench-op.")
    op = None
    try:
        deadline = time.monotonic() + 120
        while api.req("GET", "/api/v1/namespaces/" + NS)[0] == 200:  # an earlier run's, going
            if time.monotonic() > deadline:
                print("bench-operator: namespace %s still terminating: skipped" % NS)
                return 0
            time.sleep(0.5)
        while True:  # and an earlier run's SensorNodes
            code, lst = api.req("GET", "/apis/vigil.dev/v1alpha1/sensornodes?labelSelector=%s%%3D1"
                                "&limit=1" % LABEL)
            if code != 200 or not lst.get("items"):
                break
            if time.monotonic() > deadline:
                print("bench-operator: SensorNodes of an earlier run still present: skipped")
                return 0
            api.req("DELETE", "/apis/vigil.dev/v1alpha1/sensornodes?labelSelector=%s%%3D1" % LABEL)
            time.sleep(1)
        code, _ = api.req("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                          "metadata": {"name": NS}})
        if code != 201:
            print("cannot create namespace %s: HTTP %d" % (NS, code))
            return 1
        t0 = time.monotonic()
        for i in range(a.nodes):
            name = "bench-node-%05d" % i
            api.req("POST", "/apis/vigil.dev/v1alpha1/sensornodes", {
                "apiVersion": "vigil.dev/v1alpha1", "kind": "SensorNode",
                "metadata": {"name": name, "labels": {LABEL: "1"}}, "spec": {"nodeName": name}})
            api.req("PATCH", "/apis/vigil.dev/v1alpha1/sensornodes/%s/status" % name,
                    {"status": status_for(i, "0" * 64)}, "application/merge-patch+json")
        for i in range(a.rulesets):
            api.req("POST", "/apis/vigil.dev/v1alpha1/namespaces/%s/rulesets" % NS, {
                "apiVersion": "vigil.dev/v1alpha1", "kind": "RuleSet",
                "metadata": {"name": "bench-%03d" % i, "labels": {LABEL: "1"}},
                "spec": {"order": i, "rules": rules_text(i)}})
        print("setup: %d SensorNodes (with status) and %d RuleSets in %.1fs" % (
            a.nodes, a.rulesets, time.monotonic() - t0))

        mport = free_port()
        log = open(os.path.join(tmp, "operator.log"), "w")
        op = subprocess.Popen([a.operator, "--kubeconfig", os.path.join(STATE, "kubeconfig"),
                               "--namespace", NS, "--watch-namespace", NS, "--metrics-addr", "127.0.0.1:%d" % mport,
                               "--no-webhook"] + os.environ.get("VIGIL_BENCH_OPERATOR_ARGS", "").split(),
                              stdout=log, stderr=subprocess.STDOUT)
        t0 = time.monotonic()
        cpu0 = 0.0
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", mport, timeout=2)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if op.poll() is not None or time.monotonic() - t0 > 120:
                print("operator did not become ready; log in", tmp)
                return 1
            time.sleep(0.05)
        ready = time.monotonic() - t0
        # settle: every RuleSet reconciled, bundle written
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            m = metrics(mport)
            if (m.get('vigil_workqueue_depth{controller="ruleset"}', 1) == 0 and
                    m.get('vigil_reconcile_total{controller="ruleset",result="done"}', 0) >= a.rulesets):
                break
            time.sleep(0.2)
        settle = time.monotonic() - t0
        rss, cpu = proc_stats(op.pid)
        print("startup: caches synced and ready in %.2fs; first full reconcile done in %.2fs" % (
            ready, settle))
        print("after caching %d SensorNodes + %d RuleSets: RSS %.1f MB, CPU %.2fs" % (
            a.nodes, a.rulesets, rss / 1024, cpu - cpu0))
        time.sleep(5)
        rss2, cpu2 = proc_stats(op.pid)
        print("idle 5s later: RSS %.1f MB, CPU %.3fs over 5s (%.1f%%)" % (
            rss2 / 1024, cpu2 - cpu, (cpu2 - cpu) / 5 * 100))

        # heartbeat churn: every SensorNode reports once (status update, same rulesHash)
        t0 = time.monotonic()
        c0 = proc_stats(op.pid)[1]
        for i in range(a.nodes):
            api.req("PATCH", "/apis/vigil.dev/v1alpha1/sensornodes/bench-node-%05d/status" % i,
                    {"status": {"eventsTotal": 123456789 + i, "lastHeartbeatTime":
                                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}},
                    "application/merge-patch+json")
        time.sleep(1)
        rss3, c1 = proc_stats(op.pid)
        w = metrics(mport)
        print("1000 SensorNode heartbeats in %.1fs: operator CPU %.3fs, RSS %.1f MB, writes %d" % (
            time.monotonic() - t0, c1 - c0, rss3 / 1024,
            sum(v for k, v in w.items() if k.startswith("vigil_api_writes_total"))))

        watch = BundleWatch(port)
        watch.start()
        time.sleep(1)
        lat = []
        for n in range(a.changes):
            i = n % a.rulesets
            marker = "bench_change_%d_%d" % (n, int(time.time() * 1000))
            with watch.cv:
                watch.want = marker
            t1 = time.monotonic()
            api.req("PATCH", "/apis/vigil.dev/v1alpha1/namespaces/%s/rulesets/bench-%03d" % (NS, i),
                    {"spec": {"rules": rules_text(i, "- macro: %s\n  condition: proc.name = x\n" %
                                                  marker)}}, "application/merge-patch+json")
            with watch.cv:
                watch.cv.wait_for(lambda: marker in watch.seen, timeout=10)
                t2 = watch.seen.get(marker)
            if t2 is None:
                print("change %d: bundle not updated within 10s" % n)
                continue
            lat.append((t2 - t1) * 1000)
        watch.stop = True
        lat.sort()
        if lat:
            p = lambda q: lat[min(len(lat) - 1, int(round(q * (len(lat) - 1))))]
            print("RuleSet change -> bundle ConfigMap updated (watch-observed), %d changes: "
                  "p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (len(lat), p(0.5), p(0.99), lat[-1]))
        rss4, cpu4 = proc_stats(op.pid)
        print("end: RSS %.1f MB, total CPU %.2fs" % (rss4 / 1024, cpu4))
        return 0
    finally:
        if op and op.poll() is None:
            op.send_signal(signal.SIGTERM)
            try:
                op.wait(10)
            except subprocess.TimeoutExpired:
                op.kill()
        try:
            api.req("DELETE", "/apis/vigil.dev/v1alpha1/sensornodes?labelSelector=%s%%3D1" % LABEL)
            api.req("DELETE", "/api/v1/namespaces/%s" % NS)
            print("cleaned up (operator log: %s)" % os.path.join(tmp, "operator.log"))
        except (OSError, http.client.HTTPException) as e:
            print("cleanup failed (%s): delete SensorNodes -l %s=1 and namespace %s by hand" % (
                e, LABEL, NS))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, http.client.HTTPException) as e:
        # the shared local cluster was too slow or went away: report, do not fail `make bench`
        print("bench-operator: cluster request failed (%s): no numbers this time" % e)
        sys.exit(0)
