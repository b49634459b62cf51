"""Starts `csc serve <service>` as a real process for stock-client tests."""

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]


def csc_binary() -> str:
    path = os.environ.get("CSC_BIN") or str(ROOT / "target" / "debug" / "csc")
    if not Path(path).exists():
        pytest.fail(f"csc binary not found at {path}: run `cargo build -p csc` first (or set CSC_BIN)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def frontdoor():
    """Address of a freshly started front door on its own SQLite file."""
    yield from serve("frontdoor")


@pytest.fixture(scope="module")
def finance():
    """Address of a freshly started finance service on its own SQLite file."""
    yield from serve("finance")


@pytest.fixture(scope="module")
def protection():
    """Address of a freshly started child protection service on its own SQLite file."""
    yield from serve("protection")


@pytest.fixture(scope="module")
def placements():
    """Address of a freshly started looked-after children service on its own SQLite file."""
    yield from serve("placements")


@pytest.fixture(scope="module")
def aggregator():
    """Address of a freshly started aggregator whose domain services are all down (nothing
    listens on port 1): every section of its reports comes out unavailable."""
    down = ["--frontdoor", "127.0.0.1:1", "--protection", "127.0.0.1:1", "--placements", "127.0.0.1:1", "--finance", "127.0.0.1:1"]
    yield from serve("aggregator", down)


# The gRPC service each `csc serve` reports ready once its database is migrated.
GRPC_NAMES = {
    "frontdoor": "csc.frontdoor.v1.FrontDoorService",
    "protection": "csc.protection.v1.ProtectionService",
    "placements": "csc.placements.v1.PlacementsService",
    "finance": "csc.finance.v1.FinanceService",
    "aggregator": "csc.reporting.v1.ReportingService",
    "intake": "csc.intake.v1.IntakeService",
}


def serve(service, extra=(), auth=None, data_dir=None, env=None):
    """Yields the address of `csc serve <service>` on a fresh SQLite file (`<service>.db` in
    `data_dir`, else in a temporary directory). `auth` is the server's authentication flags; these
    client tests are about the services' behaviour, so without it the server runs explicitly with
    authentication off (test_auth.py covers authentication)."""
    if data_dir is not None:
        yield from _serve(service, extra, auth, str(data_dir), env)
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield from _serve(service, extra, auth, tmp, env)


def _serve(service, extra, auth, tmp, env=None):
    auth_args = list(auth) if auth is not None else ["--insecure-no-auth"]
    addr = f"127.0.0.1:{free_port()}"
    log = open(Path(tmp) / f"{service}.log", "w")
    proc = subprocess.Popen(
        [csc_binary(), "serve", service, "--listen", addr, "--database-url", f"sqlite://{tmp}/{service}.db", *auth_args, *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    try:
        channel = grpc.insecure_channel(addr)
        stub = health_pb2_grpc.HealthStub(channel)
        deadline = time.time() + 30
        while True:
            try:
                ready = health_pb2.HealthCheckRequest(service=GRPC_NAMES[service])
                if stub.Check(ready, timeout=1).status == health_pb2.HealthCheckResponse.SERVING:
                    break
            except grpc.RpcError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail(f"csc serve {service} did not start: " + (Path(tmp) / f"{service}.log").read_text())
            time.sleep(0.1)
        channel.close()
        yield addr
    finally:
        proc.terminate()  # SIGTERM, as Kubernetes stops a pod
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"csc serve {service} did not stop within 30 s of SIGTERM")
        log.close()
        assert code == 0, "csc serve %s exited with %s after SIGTERM: %s" % (
            service,
            code,
            (Path(tmp) / f"{service}.log").read_text(),
        )
