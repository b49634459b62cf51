"""The rendered Kubernetes manifests, run as local processes.

Each csc container of `kubectl kustomize deploy/overlays/...` becomes a `csc` process with the
container's own arguments and environment (ConfigMaps included). Only what a cluster provides is
stood in for, each in one place here:
- a Secret volume becomes a directory holding the files the test writes (the database URL);
- an emptyDir volume becomes an empty directory;
- a container port becomes a free local port, so that tests never collide with a suite already
  running; addresses naming a Service (`frontdoor:50051`, `otel-collector:4317`) become the
  local port of what that Service selects, or of a stand-in the test runs.
Nothing else is changed: a manifest whose probe asks another port or service than the binary
listens on, or whose environment the binary does not understand, fails here as it would in a
cluster.
"""

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import grpc
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import ROOT, csc_binary, free_port

CSC_IMAGE = "registry.example.council/csc"


def render(overlay):
    """The objects `kubectl kustomize deploy/overlays/<overlay>` renders."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is required to render deploy/ (kubectl kustomize)")
    out = subprocess.run(
        [kubectl, "kustomize", str(ROOT / "deploy" / "overlays" / overlay)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def pod_spec(obj):
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def health(addr, service, timeout=2):
    """The status a stock gRPC health client gets, or None when nothing answers."""
    with grpc.insecure_channel(addr) as ch:
        try:
            r = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
            return r.status
        except grpc.RpcError:
            return None


SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class Pod:
    """One Deployment's csc container running as a local process."""

    def __init__(self, name, container, proc, ports, log):
        self.name = name
        self.container = container
        self.proc = proc
        self.ports = ports  # containerPort -> local port
        self.log = log

    def addr(self, container_port):
        return f"127.0.0.1:{self.ports[container_port]}"

    def probe(self, kind):
        """(local address, gRPC service) of the container's `kind` probe (readinessProbe, ...)."""
        grpc_probe = self.container[kind]["grpc"]
        return self.addr(grpc_probe["port"]), grpc_probe.get("service", "")

    def wait_for(self, kind, status, timeout=30):
        addr, service = self.probe(kind)
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = health(addr, service)
            if last == status:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"{self.name}: {kind} ({service!r}) is {last}, not {status}; log:\n{self.output()}")

    def output(self):
        return Path(self.log).read_text()

    def stop(self, timeout=60):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Cluster:
    """The rendered objects of an overlay, and the local stand-ins of what a cluster provides."""

    def __init__(self, objects, workdir, secrets, stand_ins):
        self.objects = objects
        self.workdir = Path(workdir)
        self.secrets = secrets  # Secret name -> {key: content}
        self.pods = {}  # Deployment name -> Pod
        self.stand_ins = stand_ins  # Service name -> local address (e.g. the OTLP collector)
        self.ports = {}  # Deployment name -> {containerPort: local port}, fixed on first start

    def all(self, kind):
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind, name):
        found = [o for o in self.all(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
        return found[0]

    def csc_deployments(self):
        return [d for d in self.all("Deployment") if csc_container(d) is not None]

    def config_map(self, name):
        return self.one("ConfigMap", name).get("data", {})

    def services(self):
        """Service name:port -> local address, for every Service the manifests define."""
        hosts = {}
        for svc in self.all("Service"):
            name = svc["metadata"]["name"]
            for port in svc["spec"]["ports"]:
                key = f"{name}:{port['port']}"
                if name in self.stand_ins:
                    hosts[key] = self.stand_ins[name]
                    continue
                dep = self.selected_deployment(svc)
                if dep is None:
                    continue
                container = csc_container(dep)
                target = port.get("targetPort", port["port"])
                if isinstance(target, str):
                    target = next(p["containerPort"] for p in container["ports"] if p.get("name") == target)
                hosts[key] = f"127.0.0.1:{self.local_ports(dep)[target]}"
        return hosts

    def selected_deployment(self, svc):
        selector = svc["spec"].get("selector", {})
        for dep in self.csc_deployments():
            labels = dep["spec"]["template"]["metadata"]["labels"]
            if selector and all(labels.get(k) == v for k, v in selector.items()):
                return dep
        return None

    def local_ports(self, dep):
        name = dep["metadata"]["name"]
        if name not in self.ports:
            self.ports[name] = {p["containerPort"]: free_port() for p in csc_container(dep).get("ports", [])}
        return self.ports[name]

    def command(self, obj, container, ports=None):
        """(argv, env) of a csc container of `obj` (Deployment, Job, CronJob) as a local process."""
        assert is_csc(container), container["image"]
        assert "command" not in container, "the image's entrypoint is csc; manifests give args only"
        name = obj["metadata"]["name"]
        spec = pod_spec(obj)
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        paths = {}
        for mount in container.get("volumeMounts", []):
            vol = volumes[mount["name"]]
            local = self.workdir / name / mount["name"]
            local.mkdir(parents=True, exist_ok=True)
            if "secret" in vol:
                secret = vol["secret"]["secretName"]
                assert secret in self.secrets, f"{name} mounts Secret {secret}, which the test does not provide"
                for key, content in self.secrets[secret].items():
                    (local / key).write_text(content)
            else:
                assert "emptyDir" in vol or "persistentVolumeClaim" in vol, f"{name}: volume {vol}"
            paths[mount["mountPath"]] = str(local)

        listen = {}
        for container_port, local_port in (ports or {}).items():
            listen[f"0.0.0.0:{container_port}"] = f"127.0.0.1:{local_port}"
        hosts = self.services()

        def local(value):
            for mount_path in sorted(paths, key=len, reverse=True):
                if value == mount_path or value.startswith(mount_path + "/"):
                    value = paths[mount_path] + value[len(mount_path) :]
                    break
            for a, b in list(listen.items()) + list(hosts.items()):
                value = value.replace(a, b)
            return value

        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.workdir)}
        for source in container.get("envFrom", []):
            assert set(source) == {"configMapRef"}, source
            env.update(self.config_map(source["configMapRef"]["name"]))
        for var in container.get("env", []):
            assert "value" in var, f"{name}: env {var['name']} is not a literal value"
            env[var["name"]] = var["value"]
        env = {k: local(str(v)) for k, v in env.items()}
        argv = [csc_binary()] + [local(a) for a in container.get("args", [])]
        return argv, env

    def start(self, dep_name, fresh_ports=False):
        """Starts a Deployment's csc container; `fresh_ports` gives a second replica its own ports."""
        dep = self.one("Deployment", dep_name)
        container = csc_container(dep)
        ports = self.local_ports(dep)
        if fresh_ports:
            ports = {p: free_port() for p in ports}
        argv, env = self.command(dep, container, ports)
        log = self.workdir / f"{dep_name}-{len(self.pods)}.log"
        proc = subprocess.Popen(argv, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
        pod = Pod(dep_name, container, proc, ports, log)
        if not fresh_ports:
            self.pods[dep_name] = pod
        return pod

    def run_job(self, obj, timeout=120, expect=0, args=None, env=None):
        """Runs a Job's (or a CronJob's) container to completion, asserting its exit status is
        `expect`; returns its output. `args` replaces the container's arguments and `env` adds to
        its environment (the same pod, asked something else)."""
        [container] = pod_spec(obj)["containers"]
        argv, job_env = self.command(obj, container)
        if args is not None:
            argv = argv[:1] + list(args)
        job_env.update(env or {})
        r = subprocess.run(argv, env=job_env, capture_output=True, text=True, timeout=timeout)
        assert r.returncode == expect, f"{obj['kind']}/{obj['metadata']['name']} exited {r.returncode}, not {expect}: {r.stdout}\n{r.stderr}"
        return r.stdout + r.stderr

    def stop(self):
        for pod in self.pods.values():
            pod.stop()


def is_csc(container):
    """Whether a container runs the csc image (any tag or digest)."""
    return container["image"].split("@")[0].rsplit(":", 1)[0] == CSC_IMAGE


def csc_container(obj):
    return next((c for c in pod_spec(obj)["containers"] if is_csc(c)), None)


def metrics(addr, path):
    with urllib.request.urlopen(f"http://{addr}{path}", timeout=5) as r:
        return r.read().decode()


def postgres_databases(names):
    """Creates an empty database per name on the test PostgreSQL; returns name -> URL."""
    admin = os.environ.get("CSC_TEST_POSTGRES_URL")
    if not admin:
        pytest.fail("CSC_TEST_POSTGRES_URL is not set: scripts/test.sh starts PostgreSQL for this test")
    base, _, _ = admin.rpartition("/")
    urls = {}
    suffix = f"{os.getpid()}_{int(time.time())}"
    for name in names:
        db = f"deploy_{name}_{suffix}"
        subprocess.run(["psql", admin, "-q", "-c", f"CREATE DATABASE {db}"], check=True, capture_output=True)
        urls[name] = f"{base}/{db}"
    return urls


def drop_databases(urls):
    admin = os.environ["CSC_TEST_POSTGRES_URL"]
    for url in urls.values():
        db = url.rpartition("/")[2]
        subprocess.run(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"], capture_output=True)

