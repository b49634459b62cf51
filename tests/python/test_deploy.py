"""The prod overlay's manifests, run as local processes against a local PostgreSQL.

What the manifests say (arguments, environment, ports, probes, the migrate Jobs, the report
CronJob, the grace period) and what the binary does cannot drift apart: every readiness, startup
and liveness probe is asked of the process with a stock gRPC health client, SIGTERM is sent under
load, and the quarterly CronJob's report is traced through a stand-in OTLP collector.
"""

import json
import subprocess
import threading
import time
import uuid
from concurrent import futures

import grpc
import pytest
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

import reflected
from bearer import Bearer
from conftest import csc_binary
from manifests import NOT_SERVING, SERVING, Cluster, csc_container, drop_databases, health, metrics, pod_spec, postgres_databases, render

PROBES = ("startupProbe", "livenessProbe", "readinessProbe")


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """A stock OTLP/gRPC trace receiver that keeps every span it is sent."""

    def __init__(self):
        self.spans = []
        self.lock = threading.Lock()

    def Export(self, request, context):
        with self.lock:
            for rs in request.resource_spans:
                attrs = {a.key: a.value.string_value for a in rs.resource.attributes}
                for ss in rs.scope_spans:
                    for s in ss.spans:
                        self.spans.append(
                            {
                                "service": attrs.get("service.name"),
                                "name": s.name,
                                "trace": s.trace_id.hex(),
                                "id": s.span_id.hex(),
                                "parent": s.parent_span_id.hex(),
                            }
                        )
        return trace_service_pb2.ExportTraceServiceResponse()

    def snapshot(self):
        with self.lock:
            return list(self.spans)


@pytest.fixture(scope="module")
def collector():
    c = Collector()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(c, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield c, f"127.0.0.1:{port}"
    server.stop(None)


def issue(keys, issuer, la, *scopes, sub="pytest"):
    """A token signed with the test identity provider's key, as an operator issues one."""
    kid = json.loads((keys / "jwks.json").read_text())["keys"][0]["kid"]
    argv = [csc_binary(), "token", "issue", "--key", str(keys / "signing-key.pem"), f"--kid={kid}", "--issuer", issuer]
    argv += ["--sub", sub, "--scope", ",".join(scopes), "--la", la, "--ttl", "1h"]
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def prod(collector, tmp_path_factory):
    """Every csc Deployment of the prod overlay started as a process (migrations not yet run),
    with the Secrets an operator creates: each service's database URL, the identity provider's
    JWKS (a key `csc token keygen` made stands in for it) and the report CronJob's token."""
    objects = render("prod")
    workdir = tmp_path_factory.mktemp("prod")
    cluster = Cluster(objects, workdir, {}, {"otel-collector": collector[1]})
    names = [d["metadata"]["name"] for d in cluster.csc_deployments()]
    assert set(names) == {"frontdoor", "protection", "placements", "finance", "aggregator", "intake"}
    urls = postgres_databases(names)
    keys = workdir / "idp"
    subprocess.run([csc_binary(), "token", "keygen", "--out", str(keys)], check=True, capture_output=True)
    config = cluster.config_map("csc-config")
    cluster.issuer, cluster.la, cluster.keys = config["CSC_AUTH_ISSUER"], config["CSC_LA"], keys
    cluster.secrets["csc-auth-jwks"] = {"jwks.json": (keys / "jwks.json").read_text()}
    cluster.secrets["quarterly-report-token"] = {
        "token": issue(keys, cluster.issuer, cluster.la, "report:publish", "measures:read", sub="cronjob/quarterly-report")
    }
    cluster.secrets["intake-token"] = {
        "token": issue(keys, cluster.issuer, cluster.la, "frontdoor:write", "protection:write", "placements:write", sub="intake")
    }
    for name in names:
        volumes = pod_spec(cluster.one("Deployment", name))["volumes"]
        [secret] = [v["secret"]["secretName"] for v in volumes if "secret" in v and v["secret"]["secretName"].endswith("-database")]
        cluster.secrets[secret] = {"url": urls[name]}
    try:
        for name in names:
            cluster.start(name)
        yield cluster
    finally:
        cluster.stop()
        drop_databases(urls)


def migrate_jobs(cluster):
    """The migrate Job of each Deployment (by its app.kubernetes.io/name)."""
    jobs = {}
    for job in cluster.all("Job"):
        labels = job["metadata"]["labels"]
        if labels.get("app.kubernetes.io/component") == "migrate":
            jobs[labels["app.kubernetes.io/name"]] = job
    return jobs


def test_pods_are_live_at_once_and_ready_only_after_their_migrate_job(prod):
    jobs = migrate_jobs(prod)
    assert set(jobs) == set(prod.pods), "every server has its migrate Job"
    for name, pod in prod.pods.items():
        pod.wait_for("startupProbe", SERVING)
        pod.wait_for("livenessProbe", SERVING)
        # CSC_MIGRATIONS=check: the database is reachable but the schema is not there yet.
        time.sleep(0.5)
        addr, service = pod.probe("readinessProbe")
        assert health(addr, service) == NOT_SERVING, name
    for name, job in jobs.items():
        out = prod.run_job(job)
        assert "migrations applied" in out, out
    for name, pod in prod.pods.items():
        pod.wait_for("readinessProbe", SERVING, timeout=20)
        for kind in PROBES:
            addr, service = pod.probe(kind)
            assert health(addr, service) == SERVING, (name, kind, service)


def test_every_probe_names_the_port_and_service_the_binary_serves(prod):
    for name, pod in prod.pods.items():
        pod.wait_for("readinessProbe", SERVING)
        c = pod.container
        grpc_port = next(p["containerPort"] for p in c["ports"] if p["name"] == "grpc")
        listen = next(e["value"] for e in c["env"] if e["name"] == "CSC_LISTEN")
        assert listen.endswith(f":{grpc_port}"), (name, listen)
        for kind in PROBES:
            assert c[kind]["grpc"]["port"] == grpc_port, (name, kind)
        # Startup and liveness ask about the server; readiness about the named service.
        assert c["startupProbe"]["grpc"].get("service", "") == ""
        assert c["livenessProbe"]["grpc"].get("service", "") == ""
        reader = issue(prod.keys, prod.issuer, prod.la, "report:read")
        with grpc.insecure_channel(pod.addr(grpc_port)) as ch:
            served = set(ProtoReflectionDescriptorDatabase(grpc.intercept_channel(ch, Bearer(reader))).get_services())
        assert c["readinessProbe"]["grpc"]["service"] in served, (name, served)


def test_prod_runs_every_service_on_two_or_more_replicas_that_drain_one_at_a_time():
    cluster = Cluster(render("prod"), ".", {}, {})
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in cluster.all("HorizontalPodAutoscaler")}
    for dep in cluster.csc_deployments():
        name = dep["metadata"]["name"]
        if name == "intake":
            # The one exception: the intake applies one request at a time in its process, so it
            # runs one pod, replaced, never two at once (docs/deploy.md).
            assert name not in hpas
            assert dep["spec"].get("replicas", 1) == 1
            assert dep["spec"]["strategy"] == {"type": "Recreate"}
            continue
        assert "replicas" not in dep["spec"], f"{name}: the HPA owns the replica count"
        assert hpas[name]["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        assert hpas[name]["spec"]["minReplicas"] >= 2, name
        assert dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0, name
        labels = dep["spec"]["template"]["metadata"]["labels"]
        pdbs = [
            p
            for p in cluster.all("PodDisruptionBudget")
            if all(labels.get(k) == v for k, v in p["spec"]["selector"]["matchLabels"].items())
        ]
        assert len(pdbs) == 1 and pdbs[0]["spec"]["maxUnavailable"] == 1, name
        db_url = next(e["value"] for e in csc_container(dep)["env"] if e["name"] == "CSC_DATABASE_URL_FILE")
        assert db_url.startswith("/var/run/secrets/"), name
    assert cluster.config_map("csc-config")["CSC_MIGRATIONS"] == "check"



def test_the_http_read_api_has_its_port_service_and_network_policy():
    cluster = Cluster(render("prod"), ".", {}, {})
    c = csc_container(cluster.one("Deployment", "aggregator"))
    http = next(p["containerPort"] for p in c["ports"] if p["name"] == "http")
    assert next(e["value"] for e in c["env"] if e["name"] == "CSC_HTTP_LISTEN") == f"0.0.0.0:{http}"
    svc = cluster.one("Service", "aggregator-http")
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [(8080, "http")]
    assert cluster.selected_deployment(svc)["metadata"]["name"] == "aggregator"
    ingress = cluster.one("NetworkPolicy", "aggregator-ingress")["spec"]["ingress"]
    assert any({"protocol": "TCP", "port": http} in rule["ports"] for rule in ingress)
    # The intake serves the DfE's endpoint, behind its own Service and policy; no other service
    # serves HTTP.
    c = csc_container(cluster.one("Deployment", "intake"))
    http = next(p["containerPort"] for p in c["ports"] if p["name"] == "http")
    assert next(e["value"] for e in c["env"] if e["name"] == "CSC_HTTP_LISTEN") == f"0.0.0.0:{http}"
    assert cluster.selected_deployment(cluster.one("Service", "intake-http"))["metadata"]["name"] == "intake"
    ingress = cluster.one("NetworkPolicy", "intake-ingress")["spec"]["ingress"]
    assert all(peer["podSelector"]["matchLabels"] == {"csc.council.gov.uk/caller": "true"} for rule in ingress for peer in rule["from"])
    assert any({"protocol": "TCP", "port": http} in rule["ports"] for rule in ingress)
    for dep in cluster.csc_deployments():
        if dep["metadata"]["name"] not in ("aggregator", "intake"):
            assert "CSC_HTTP_LISTEN" not in [e["name"] for e in csc_container(dep)["env"]]


def test_metrics_are_served_where_the_scrape_annotations_say(prod):
    for name, pod in prod.pods.items():
        pod.wait_for("readinessProbe", SERVING)
        dep = prod.one("Deployment", name)
        ann = dep["spec"]["template"]["metadata"]["annotations"]
        assert ann["prometheus.io/scrape"] == "true"
        port = int(ann["prometheus.io/port"])
        text = metrics(pod.addr(port), ann["prometheus.io/path"])
        assert 'grpc_server_handled_total{grpc_service="grpc.health.v1.Health",grpc_method="Check",grpc_code="OK"}' in text, name
        assert "grpc_server_handling_seconds_bucket" in text, name


def test_the_quarterly_cronjob_report_is_one_trace_across_the_services(prod, collector):
    for job in migrate_jobs(prod).values():
        prod.run_job(job)
    for pod in prod.pods.values():
        pod.wait_for("readinessProbe", SERVING)
    cron = prod.one("CronJob", "quarterly-report")
    # The databases are empty: the report is written, every section says it has no data, and the
    # Job fails (exit 4) so that the quarter's run is seen to have failed.
    out = prod.run_job(cron, expect=4)
    assert "written to" in out, out
    assert "no data" in out, out

    spans_of = collector[0]
    deadline = time.time() + 30
    domain = {"csc-frontdoor", "csc-protection", "csc-placements", "csc-finance"}
    while True:
        spans = spans_of.snapshot()
        roots = [s for s in spans if s["name"] == "csc.reporting.v1.ReportingService/GenerateReport"]
        if roots:
            trace = [s for s in spans if s["trace"] == roots[0]["trace"]]
            if domain <= {s["service"] for s in trace if s["name"].endswith("/ComputeMeasureSeries")}:
                break
        if time.time() > deadline:
            pytest.fail(f"no complete report trace within 30 s; spans: {[(s['service'], s['name']) for s in spans][-40:]}")
        time.sleep(0.5)

    assert len(roots) == 1, "one report, one GenerateReport span"
    root = roots[0]
    assert root["service"] == "csc-aggregator"
    assert root["parent"] == "", "the report's span is its trace's root"
    by_id = {s["id"]: s for s in trace}
    served = [s for s in spans if s["service"] in domain and s["name"].endswith("/ComputeMeasureSeries")]
    for s in served:
        # Every measure call the services served is in the report's trace, under the
        # aggregator's client span for it.
        assert s["trace"] == root["trace"], s
        parent = by_id.get(s["parent"])
        assert parent is not None and parent["service"] == "csc-aggregator", s
        assert parent["name"].endswith("/ComputeMeasureSeries"), parent


def test_the_cronjob_succeeds_on_complete_data_and_fails_visibly_with_a_service_down(prod, tmp_path):
    for job in migrate_jobs(prod).values():
        prod.run_job(job)
    for pod in prod.pods.values():
        pod.wait_for("readinessProbe", SERVING)
    cron = prod.one("CronJob", "quarterly-report")
    la = prod.la
    scopes = tuple(f"{s}:{rw}" for s in ("frontdoor", "protection", "placements", "finance") for rw in ("read", "write")) + ("report:read",)
    token = tmp_path / "writer-token"
    token.write_text(issue(prod.keys, prod.issuer, la, *scopes, sub="pytest-import"))
    as_writer = {"CSC_TOKEN_FILE": str(token)}
    generated = tmp_path / "generated"
    # An LA's last four years to the end of the latest complete quarter, as the Job asks for.
    prod.run_job(cron, args=["generate", "--la", la, "--scale", "20000", "--out", str(generated)])
    prod.run_job(cron, args=["import", "generated", str(generated)], env=as_writer, timeout=600)

    report = tmp_path / "report.html"
    out = prod.run_job(cron, args=["report", "--period", "latest", "--out", str(report)])
    assert "written to" in out and "not ok" not in out, out
    assert "data-status" not in report.read_text(), "every section ok"

    # The scheduled report is kept, and a BI tool fetches it by URL from the HTTP Service, as it
    # was written.
    import requests

    http = prod.services()["aggregator-http:8080"]
    bi = {"Authorization": "Bearer " + issue(prod.keys, prod.issuer, la, "report:read", sub="pytest-bi")}
    listed = requests.get(f"http://{http}/v1/las/{la}/reports", headers=bi, timeout=30).json()["reports"]
    kept = next(r for r in listed if r["requested_by"] == "cronjob/quarterly-report")
    got = requests.get(f"http://{http}{kept['url']}", params={"format": "html"}, headers=bi, timeout=60)
    assert got.status_code == 200 and got.headers["x-report-id"] == kept["report_id"]
    assert got.text == report.read_text()

    finance = prod.pods["finance"]
    finance.stop()
    try:
        out = prod.run_job(cron, expect=4)
        assert "Placement Costs (unavailable)" in out, out
        # Publication is refused outright: nothing is kept as published.
        out = prod.run_job(cron, expect=4, args=["report", "--period", "latest", "--publish", "--allow-partial", "--out", str(report)])
        assert "cannot be published" in out and "sections/costs" in out, out
        listed = prod.run_job(cron, args=["report", "list", "--la", la, "--published"], env=as_writer)
        assert "0 report(s)" in listed, listed
    finally:
        prod.start("finance").wait_for("readinessProbe", SERVING)


def test_sigterm_under_load_finishes_in_flight_calls_and_turns_not_ready_first(prod):
    for job in migrate_jobs(prod).values():
        prod.run_job(job)
    dep = prod.one("Deployment", "frontdoor")
    spec = pod_spec(dep)
    config = prod.config_map("csc-config")
    drain = int(config["CSC_SHUTDOWN_DRAIN_SECS"])
    # Kubernetes sends SIGTERM after the preStop hook, within the same grace period.
    budget = spec["terminationGracePeriodSeconds"] - spec["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert drain > 0 and budget > drain

    pod = prod.start("frontdoor", fresh_ports=True)
    pod.wait_for("readinessProbe", SERVING)
    addr, ready_service = pod.probe("readinessProbe")

    calls = []  # (start, end, code)
    lock = threading.Lock()
    stop = threading.Event()

    writer = issue(prod.keys, prod.issuer, "885", "frontdoor:write", sub="load")

    def load(worker):
        with grpc.insecure_channel(addr) as plain:
            ch = grpc.intercept_channel(plain, Bearer(writer))
            req_cls, rpc = reflected.method(ch, "csc.frontdoor.v1.FrontDoorService", "BatchUpsertContacts")
            n = 0
            while not stop.is_set():
                n += 1
                records = [
                    {
                        "la_code": "885",
                        "contact_id": f"W{worker}-{n}-{i}",
                        "child_id": f"C{worker}{n}{i}",
                        "contact_date": "2025-05-01",
                        "source": "6",
                    }
                    for i in range(500)
                ]
                start = time.monotonic()
                try:
                    rpc(req_cls(request_id=str(uuid.uuid4()), records=records), timeout=30)
                    code = grpc.StatusCode.OK
                except grpc.RpcError as e:
                    code = e.code()
                with lock:
                    calls.append((start, time.monotonic(), code))
                if code != grpc.StatusCode.OK:
                    time.sleep(0.05)

    workers = [threading.Thread(target=load, args=(w,)) for w in range(6)]
    for w in workers:
        w.start()
    time.sleep(2)
    sigterm = time.monotonic()
    pod.proc.terminate()

    not_ready_at = None
    served_after_not_ready = False
    while pod.proc.poll() is None and time.monotonic() - sigterm < budget + 5:
        if not_ready_at is None and health(addr, ready_service, timeout=1) == NOT_SERVING:
            not_ready_at = time.monotonic()
            # The server itself still answers: readiness turned first, the listener is open.
            served_after_not_ready = health(addr, "", timeout=1) == SERVING
        time.sleep(0.05)
    try:
        exit_code = pod.proc.wait(timeout=max(1, budget + 5 - (time.monotonic() - sigterm)))
    finally:
        stop.set()
        for w in workers:
            w.join()
    exited = time.monotonic() - sigterm

    assert exit_code == 0, pod.output()
    assert exited <= budget, f"exited {exited:.1f} s after SIGTERM; the manifests allow {budget} s"
    assert not_ready_at is not None and not_ready_at - sigterm < 1.0, "readiness NOT_SERVING within 1 s"
    assert served_after_not_ready, "the server answered after readiness turned NOT_SERVING"

    in_flight = [c for c in calls if c[0] < sigterm < c[1]]
    assert in_flight, "some calls were in flight at SIGTERM"
    before = [c for c in calls if c[0] < sigterm]
    assert all(c[2] == grpc.StatusCode.OK for c in before), [c[2] for c in before if c[2] != grpc.StatusCode.OK]
    during_drain = [c for c in calls if sigterm < c[0] < sigterm + drain - 1]
    assert during_drain and all(c[2] == grpc.StatusCode.OK for c in during_drain), "calls during the drain succeed"
    refused = [c for c in calls if c[2] != grpc.StatusCode.OK]
    assert all(c[2] == grpc.StatusCode.UNAVAILABLE for c in refused), {c[2] for c in refused}
    assert all(c[0] > sigterm + drain - 1 for c in refused), "only calls after the listener closed are refused"
