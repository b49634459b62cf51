"""The DfE CSC API both ways, with stock tools and a stand-in DfE.

In: the intake's endpoint as a DfE client posts to it (requests): 200 with receipts, 400 naming
records, 401, 403, 413, and the audit entry naming the children.

Out: `csc send dfe-api` posting what the suite holds to a stand-in DfE receiver (http.server)
that validates every body against the DfE's openapi.json with jsonschema, checks the OAuth2
token and SupplierKey, answers 429 before its first 200, 400 with the index of a record it
refuses, and stalls so the sender can be killed mid-send; the send resumes without sending an
acknowledged batch twice, and a third send finds nothing changed."""

import contextlib
import copy
import json
import re
import signal
import sqlite3
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest
import requests

from conftest import ROOT, csc_binary, free_port, serve
from test_auth import ISSUER, LA, OTHER_LA, keygen, token

SPEC = ROOT.parent / "shared" / "spec" / "dfe-csc-api"
OPENAPI = json.loads((SPEC / "openapi.json").read_text())
RECORD_SCHEMA = OPENAPI["components"]["schemas"]["CSC"]["items"]
EXAMPLE = json.loads((SPEC / "examples" / "full_request_d2i_dfe_example.json").read_text())[0]
RECEIPT = re.compile(r"^\d{4}-\d{2}-\d{2}_\d{2}:\d{2}:\d{2}\.\d{2}_[0-9a-f-]{36}\.json$")
CHILDREN = 230


class Suite:
    pass


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    d = tmp_path_factory.mktemp("dfe")
    s = Suite()
    s.dir = d
    s.key, s.kid = keygen(d / "idp")
    auth = ["--auth-jwks-file", str(d / "idp" / "jwks.json"), "--auth-issuer", ISSUER]
    port = free_port()
    s.base = f"http://127.0.0.1:{port}"
    # The intake writes to the domain services with a token of its own.
    own = token(s, ["frontdoor:write", "protection:write", "placements:write"], sub="intake", exp=3600)
    with contextlib.ExitStack() as stack:
        s.addrs = {x: stack.enter_context(contextlib.contextmanager(serve)(x, auth=auth, data_dir=d)) for x in ["frontdoor", "protection", "placements"]}
        upstreams = [a for x in s.addrs for a in (f"--{x}", s.addrs[x])]
        s.intake = stack.enter_context(
            contextlib.contextmanager(serve)("intake", upstreams + ["--http-listen", f"127.0.0.1:{port}"], auth=auth, data_dir=d, env={"CSC_TOKEN": own})
        )
        yield s


def post(s, records, tok, la=LA):
    headers = {"Content-Type": "application/json"}
    if tok:
        headers["Authorization"] = f"Bearer {tok}"
    return requests.post(f"{s.base}/children_social_care_data/{la}/children", data=json.dumps(records), headers=headers, timeout=60)


def child(i):
    r = copy.deepcopy(EXAMPLE)
    r["la_child_id"] = f"P{i:05d}"
    r["mis_child_id"] = f"M-{i}"
    return r


def test_the_endpoint_answers_as_the_dfe(suite):
    sender = token(suite, ["intake:write"], sub="warehouse")
    r = post(suite, [EXAMPLE], sender)
    assert r.status_code == 200, r.text
    receipts = r.json()
    assert len(receipts) == 1 and RECEIPT.match(receipts[0]), receipts
    assert post(suite, [EXAMPLE], None).status_code == 401
    assert post(suite, [EXAMPLE], token(suite, ["frontdoor:write"])).status_code == 403
    assert post(suite, [EXAMPLE], sender, la=OTHER_LA).status_code == 403
    assert post(suite, [child(i) for i in range(101)], sender).status_code == 413
    bad = child(1)
    bad["child_details"]["shoe_size"] = 4
    r = post(suite, [child(0), bad], sender)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["indices"] == [1], body
    assert any(e["field"] == "[1].child_details" and "shoe_size" in e["message"] for e in body["errors"]), body
    # Every call is audited as a child-level write, naming its children, refusals too.
    with contextlib.closing(sqlite3.connect(suite.dir / "intake.db")) as db:
        rows = db.execute(
            "SELECT e.subject, e.outcome, c.child_id FROM audit_event e JOIN audit_child c ON c.event_id = e.id "
            "WHERE e.method = '/csc.intake.v1.IntakeService/SubmitChildren' ORDER BY e.id, c.child_id"
        ).fetchall()
    assert ("warehouse", "OK", "Child1234") in rows, rows
    assert ("warehouse", "PermissionDenied", "Child1234") in rows, rows
    assert ("warehouse", "InvalidArgument", "P00000") in rows, rows
    assert ("warehouse", "InvalidArgument", "P00001") in rows, rows


class Receiver:
    """A stand-in DfE: token endpoint and the children endpoint, validating every body."""

    def __init__(self):
        self.bodies = []  # every body posted, whatever the answer
        self.acknowledged = []  # la_child_ids of records answered 200, in order
        self.schema_failures = []
        self.refuse = set()
        self.throttle_first = True
        self.stall_after = None  # acknowledge this many batches, then hang
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.tokens_issued = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, code, body, headers=()):
                data = body.encode()
                self.send_response(code)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/token":
                    form = dict(x.split("=", 1) for x in data.decode().split("&"))
                    if form.get("grant_type") != "client_credentials" or form.get("client_secret") != "s3cret":
                        return self.answer(401, json.dumps({"error": "invalid_client"}))
                    receiver.tokens_issued += 1
                    return self.answer(200, json.dumps({"access_token": "dfe-token", "token_type": "Bearer", "expires_in": 3600}))
                if self.path != f"/children_social_care_data/{LA}/children":
                    return self.answer(404, "no such path")
                if self.headers.get("Authorization") != "Bearer dfe-token" or self.headers.get("SupplierKey") != "sk-1":
                    return self.answer(401, "unauthorised")
                records = json.loads(data)
                with receiver.lock:
                    receiver.bodies.append(records)
                    if receiver.throttle_first:
                        receiver.throttle_first = False
                        return self.answer(429, "slow down", [("Retry-After", "0")])
                if len(records) > 100:
                    return self.answer(413, "too many records")
                bad = []
                for i, r in enumerate(records):
                    errors = list(jsonschema.Draft4Validator(RECORD_SCHEMA, format_checker=jsonschema.FormatChecker()).iter_errors(r))
                    if errors:
                        receiver.schema_failures.append((r.get("la_child_id"), [e.message for e in errors]))
                        bad.append(i)
                    elif r["la_child_id"] in receiver.refuse:
                        bad.append(i)
                if bad:
                    return self.answer(400, "Payload malformed: " + ", ".join(f"[{i}] failed validation" for i in bad))
                with receiver.lock:
                    if receiver.stall_after is not None and receiver.stall_after <= 0:
                        receiver.stalled.set()
                        stall = True
                    else:
                        stall = False
                        if receiver.stall_after is not None:
                            receiver.stall_after -= 1
                if stall:
                    receiver.release.wait(120)
                    return self.answer(503, "gone")
                receiver.acknowledged.extend(r["la_child_id"] for r in records)
                stamp = time.strftime("%Y-%m-%d_%H:%M:%S.00")
                return self.answer(200, json.dumps([f"{stamp}_{i:08d}-0000-4000-8000-000000000000.json" for i in range(len(records))]))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def send_command(suite, receiver, state, *extra):
    (suite.dir / "secret").write_text("s3cret\n")
    (suite.dir / "supplier-key").write_text("sk-1\n")
    return [
        csc_binary(), "send", "dfe-api", "--la", LA, "--endpoint", receiver.base, "--state", str(state),
        "--token-url", receiver.base + "/token", "--client-id", "csc-suite", "--client-secret-file", str(suite.dir / "secret"),
        "--scope", "api://dfe/.default", "--supplier-key-file", str(suite.dir / "supplier-key"), "--retry-base-secs", "0.05",
        "--frontdoor", suite.addrs["frontdoor"], "--protection", suite.addrs["protection"], "--placements", suite.addrs["placements"],
        "--finance", "127.0.0.1:1", *extra,
    ]


def test_send_batches_retries_refuses_and_resumes_without_sending_twice(suite, tmp_path):
    sender = token(suite, ["intake:write"], sub="warehouse")
    for start in range(0, CHILDREN, 100):
        r = post(suite, [child(i) for i in range(start, min(start + 100, CHILDREN))], sender)
        assert r.status_code == 200, r.text
    receiver = Receiver()
    # In the third batch, which only the resumed send reaches.
    receiver.refuse = {"P00210"}
    receiver.stall_after = 1
    state = tmp_path / "state"
    env = {"CSC_TOKEN": token(suite, ["frontdoor:read", "protection:read", "placements:read"], sub="dfe-send", exp=3600), "PATH": "/usr/bin:/bin"}
    first = subprocess.Popen(send_command(suite, receiver, state), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert receiver.stalled.wait(60), "the first send never reached its second batch"
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    receiver.release.set()
    acked_before = list(receiver.acknowledged)
    assert len(acked_before) == 100, len(acked_before)  # one batch
    pending = list((state / "pending").glob("*.json"))
    assert pending, "the stopped send left no pending batch"

    receiver.stall_after = None
    second = subprocess.run(send_command(suite, receiver, state), env=env, capture_output=True, text=True, timeout=120)
    out = second.stdout + second.stderr
    assert second.returncode == 3, out  # one record refused: said, and the exit status says so
    assert "P00210" in out, out
    assert "resuming" in out, out
    assert not set(acked_before) & set(receiver.acknowledged[len(acked_before):])
    assert receiver.schema_failures == []
    # Every child but the refused one, each acknowledged once: the batch acknowledged before the
    # kill was not sent again.
    ids = receiver.acknowledged
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1][:5]
    held = {"Child1234"} | {f"P{i:05d}" for i in range(CHILDREN)}
    assert set(ids) == held - {"P00210"}
    assert all(len(b) <= 100 for b in receiver.bodies)
    st = json.loads((state / "state.json").read_text())
    assert set(st["children"]) == held - {"P00210"}
    assert all(c["receipt"].endswith(".json") for c in st["children"].values())
    assert not list((state / "pending").glob("*.json"))

    # Nothing changed since: the third send sends only the refused child again.
    receiver.refuse = set()
    posts = len(receiver.bodies)
    third = subprocess.run(send_command(suite, receiver, state), env=env, capture_output=True, text=True, timeout=120)
    assert third.returncode == 0, third.stdout + third.stderr
    assert [[r["la_child_id"] for r in b] for b in receiver.bodies[posts:]] == [["P00210"]]
    fourth = subprocess.run(send_command(suite, receiver, state), env=env, capture_output=True, text=True, timeout=120)
    assert fourth.returncode == 0 and "nothing changed" in fourth.stdout, fourth.stdout + fourth.stderr
    assert len(receiver.bodies) == posts + 1
    assert receiver.tokens_issued >= 1
