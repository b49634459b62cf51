"""Load and fault: concurrent writers, the server killed with SIGKILL mid-load and restarted, on
SQLite and PostgreSQL. Afterwards, read from the database itself:

- every batch acknowledged OK is there, record for record (nothing acknowledged is lost);
- every batch sent, acknowledged or not, is there whole or not at all (none half-present),
  though on SQLite batches that arrive together are committed together (group commit,
  docs/performance.md): a kill between two group commits loses only unacknowledged batches;
- every request-log entry (a committed batch) has its audit row, with the batch's children;
- every audit row of a successful write has its batch in the request log (no row without data).

The audit row is written in the same transaction as the records (docs/security.md), which is
what makes the two invariants hold whatever moment the process dies at.
"""

import os
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import csc_binary, free_port
from reflected import method

SERVICE = "csc.frontdoor.v1.FrontDoorService"
WRITERS = 8
BATCH = 200
KILLS = 2


class Database:
    """A fresh database of one backend, queried directly with its own client."""

    def __init__(self, backend, tmp):
        self.backend = backend
        if backend == "sqlite":
            self.path = Path(tmp) / "frontdoor.db"
            self.url = f"sqlite://{self.path}"
            return
        admin = os.environ.get("CSC_TEST_POSTGRES_URL")
        if not admin:
            pytest.fail("CSC_TEST_POSTGRES_URL is not set: scripts/test.sh starts PostgreSQL for this test")
        name = "csc_fault_" + uuid.uuid4().hex
        subprocess.run(["psql", admin, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
        self.admin, self.name = admin, name
        self.url = admin.rsplit("/", 1)[0] + "/" + name

    def rows(self, sql):
        if self.backend == "sqlite":
            with sqlite3.connect(self.path) as c:
                return [tuple(str(v) for v in r) for r in c.execute(sql)]
        out = subprocess.run(["psql", self.url, "-At", "-F", "\t", "-c", sql], check=True, capture_output=True, text=True)
        return [tuple(line.split("\t")) for line in out.stdout.splitlines() if line]

    def drop(self):
        if self.backend == "postgres":
            subprocess.run(["psql", self.admin, "-q", "-c", f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"], capture_output=True)


class Server:
    def __init__(self, db, tmp):
        self.db, self.tmp = db, tmp
        self.addr = f"127.0.0.1:{free_port()}"
        self.metrics_addr = f"127.0.0.1:{free_port()}"
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        log = open(Path(self.tmp) / f"serve-{self.starts}.log", "w")
        self.proc = subprocess.Popen(
            [
                csc_binary(), "serve", "frontdoor", "--listen", self.addr, "--database-url", self.db.url,
                "--insecure-no-auth", "--metrics-listen", self.metrics_addr,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        channel = grpc.insecure_channel(self.addr)
        stub = health_pb2_grpc.HealthStub(channel)
        deadline = time.time() + 60
        while True:
            try:
                if stub.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=1).status == health_pb2.HealthCheckResponse.SERVING:
                    break
            except grpc.RpcError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                pytest.fail("csc serve frontdoor did not start: " + (Path(self.tmp) / f"serve-{self.starts}.log").read_text())
            time.sleep(0.05)
        channel.close()

    def groups(self):
        """(group commits, batches in them) since this start, from the server's metrics."""
        text = urllib.request.urlopen(f"http://{self.metrics_addr}/metrics", timeout=10).read().decode()
        figures = {}
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name in ("csc_write_group_size_count", "csc_write_group_size_sum"):
                figures[name] = float(value)
        return figures.get("csc_write_group_size_count", 0), figures.get("csc_write_group_size_sum", 0)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self):
        self.proc.terminate()
        assert self.proc.wait(timeout=30) == 0, "csc serve exited badly after SIGTERM"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_kill9_under_concurrent_writes_loses_nothing_acknowledged_and_leaves_no_write_unaudited(backend):
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(backend, tmp)
        server = Server(db, tmp)
        try:
            server.start()
            channel = grpc.insecure_channel(server.addr)
            req_cls, upsert = method(channel, SERVICE, "BatchUpsertContacts")
            acknowledged = {}  # request_id -> contact ids
            sent = {}  # every batch sent, acknowledged or not
            lock = threading.Lock()
            stop = threading.Event()
            errors = []

            def writer(w):
                n = 0
                while not stop.is_set():
                    n += 1
                    rid = f"w{w}-b{n}"
                    ids = [f"W{w}B{n}K{i}" for i in range(BATCH)]
                    with lock:
                        sent[rid] = ids
                    req = req_cls(request_id=rid)
                    for k in ids:
                        c = req.records.add()
                        c.la_code, c.contact_id, c.child_id = "885", k, "C" + k
                        c.contact_date, c.source = "2025-06-01", "6"
                    try:
                        upsert(req, timeout=20, wait_for_ready=True)
                    except grpc.RpcError as e:
                        # The server died under this call: nothing was promised. Any other code
                        # (INTERNAL, INVALID_ARGUMENT) is a failure of the test.
                        if e.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED):
                            errors.append(f"{rid}: {e.code()}: {e.details()}")
                        continue
                    with lock:
                        acknowledged[rid] = ids

            threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
            for t in threads:
                t.start()
            grouped = 0  # batches committed in a group of more than one, as far as seen
            for _ in range(KILLS):
                time.sleep(1.5)
                commits, batches = server.groups()
                grouped += batches - commits
                server.kill9()
                server.start()
            time.sleep(1.0)
            stop.set()
            for t in threads:
                t.join(timeout=60)
            channel.close()
            server.stop()
            assert not errors, errors[:5]
            assert len(acknowledged) >= WRITERS, f"too little load to test anything: {len(acknowledged)} batches"

            held = {r[0] for r in db.rows("SELECT contact_id FROM contact WHERE la_code = '885'")}
            lost = [(rid, k) for rid, ids in acknowledged.items() for k in ids if k not in held]
            assert not lost, f"{len(lost)} acknowledged contacts missing, e.g. {lost[:3]}"
            part = {rid: sum(k in held for k in ids) for rid, ids in sent.items()}
            half = {rid: n for rid, n in part.items() if 0 < n < BATCH}
            assert not half, f"batches half-present (records held of {BATCH}): {list(half.items())[:5]}"
            if backend == "sqlite":
                # Eight writers at once: the writes that queue while one commits are committed
                # together, so the kills above fell between (or into) group commits.
                assert grouped > 0, "no group commit of more than one batch was seen: the test tested nothing"

            unaudited = db.rows(
                "SELECT r.request_id FROM request_log r WHERE NOT EXISTS (SELECT 1 FROM audit_event a "
                "WHERE a.request_id = r.request_id AND a.outcome = 'OK')"
            )
            assert not unaudited, f"committed batches without an audit row: {unaudited[:5]}"
            without_data = db.rows(
                "SELECT a.request_id FROM audit_event a WHERE a.outcome = 'OK' "
                f"AND a.method = '/{SERVICE}/BatchUpsertContacts' "
                "AND NOT EXISTS (SELECT 1 FROM request_log r WHERE r.request_id = a.request_id)"
            )
            assert not without_data, f"audit rows of writes that did not commit: {without_data[:5]}"
            short = db.rows(
                "SELECT a.request_id, COUNT(c.child_id) FROM audit_event a "
                "LEFT JOIN audit_child c ON c.event_id = a.id "
                f"WHERE a.method = '/{SERVICE}/BatchUpsertContacts' AND a.outcome = 'OK' "
                f"GROUP BY a.id, a.request_id HAVING COUNT(c.child_id) <> {BATCH}"
            )
            assert not short, f"audit rows not naming every child of their batch: {short[:5]}"
            committed = {r[0] for r in db.rows("SELECT request_id FROM request_log")}
            assert set(acknowledged) <= committed
        finally:
            if server.proc and server.proc.poll() is None:
                server.proc.kill()
            db.drop()
