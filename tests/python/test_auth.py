"""Authentication, authorisation and audit as a stock Python gRPC client meets them.

Every method of every service, found through server reflection, is called with each kind of bad
token and must be refused (UNAUTHENTICATED for a token that does not verify, PERMISSION_DENIED for
one that does but does not grant the call) with no response message; with the right token it must
get past the checks. Tokens are signed here with PyJWT using a key `csc token keygen` made; the
servers verify them against its JWKS, as production verifies the council identity provider's.
"""

import base64
import collections
import contextlib
import json
import sqlite3
import subprocess
import time
import uuid

import grpc
import jwt
import pytest
from google.protobuf import descriptor_pool, message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from bearer import Bearer
from conftest import GRPC_NAMES, csc_binary, serve

ISSUER = "https://idp.council.example"
LA, OTHER_LA = "885", "886"
DOMAIN = ["frontdoor", "protection", "placements", "finance"]
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED


def keygen(out):
    subprocess.run([csc_binary(), "token", "keygen", "--out", str(out)], check=True, capture_output=True)
    kid = json.loads((out / "jwks.json").read_text())["keys"][0]["kid"]
    return (out / "signing-key.pem").read_text(), kid


def scope_table():
    """method path -> (scopes it needs, child-level), as `csc token scopes` prints the table."""
    out = subprocess.run([csc_binary(), "token", "scopes"], check=True, capture_output=True, text=True).stdout
    rows = [line.split("\t") for line in out.splitlines()[1:] if line]
    return {m: (s.split(), child == "true") for m, s, child in rows}


Suite = collections.namedtuple("Suite", "addrs dir key kid other_key table scopes")


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    d = tmp_path_factory.mktemp("auth")
    key, kid = keygen(d / "idp")
    other_key, _ = keygen(d / "elsewhere")
    auth = ["--auth-jwks-file", str(d / "idp" / "jwks.json"), "--auth-issuer", ISSUER]
    table = scope_table()
    scopes = sorted({s for needs, _ in table.values() for s in needs})
    with contextlib.ExitStack() as stack:
        addrs = {}
        for s in DOMAIN:
            addrs[s] = stack.enter_context(contextlib.contextmanager(serve)(s, auth=auth, data_dir=d))
        upstreams = [arg for s in DOMAIN for arg in (f"--{s}", addrs[s])]
        addrs["aggregator"] = stack.enter_context(contextlib.contextmanager(serve)("aggregator", upstreams, auth=auth, data_dir=d))
        addrs["intake"] = stack.enter_context(contextlib.contextmanager(serve)("intake", upstreams, auth=auth, data_dir=d))
        yield Suite(addrs, d, key, kid, other_key, table, scopes)


def token(s, scopes, las=(LA,), *, exp=600, nbf=None, aud="csc", key=None, sub="pytest", regional=False):
    now = int(time.time())
    claims = {"sub": sub, "iss": ISSUER, "aud": aud, "iat": now, "exp": now + exp, "scope": " ".join(scopes), "la": list(las)}
    if nbf is not None:
        claims["nbf"] = now + nbf
    if regional:
        claims["regional"] = True
    return jwt.encode(claims, key or s.key, algorithm="ES256", headers={"kid": s.kid})


def unsigned(s):
    """A token that says `alg: none`, granting everything, with no signature."""
    b64 = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()
    now = int(time.time())
    claims = {"sub": "mallory", "iss": ISSUER, "aud": "csc", "exp": now + 600, "scope": " ".join(s.scopes), "la": ["*"]}
    return b64({"alg": "none", "typ": "JWT"}) + "." + b64(claims) + "."


def channel(addr, tok=None):
    ch = grpc.insecure_channel(addr)
    return grpc.intercept_channel(ch, Bearer(tok)) if tok else ch


Method = collections.namedtuple("Method", "addr path input output scopes child_level names_la")


def repeated(field):
    return field.is_repeated if hasattr(field, "is_repeated") else field.label == field.LABEL_REPEATED


def fill(msg, la):
    """A request naming `la` wherever the message has an LA, one record in a batch."""
    for f in msg.DESCRIPTOR.fields:
        if f.type == f.TYPE_STRING and not repeated(f):
            value = {"la_code": la, "child_id": "C1", "period": "2018-19", "request_id": str(uuid.uuid4())}.get(f.name)
            if value is not None:
                setattr(msg, f.name, value)
        elif f.type == f.TYPE_STRING and f.name == "periods":
            getattr(msg, f.name).append("2018-19")
        elif f.type == f.TYPE_MESSAGE and repeated(f) and f.name == "records":
            fill(getattr(msg, f.name).add(), la)
    return msg


def names_la(desc):
    return any(f.name == "la_code" for f in desc.fields) or any(
        f.name == "records" and any(g.name == "la_code" for g in f.message_type.fields) for f in desc.fields if f.message_type
    )


@pytest.fixture(scope="module")
def methods(suite):
    """Every method every server offers, as its own reflection describes it (with a good token)."""
    good = token(suite, suite.scopes, las=("*",))
    found = []
    for service, addr in suite.addrs.items():
        pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel(addr, good)))
        svc = pool.FindServiceByName(GRPC_NAMES[service])
        for m in svc.methods:
            path = f"/{svc.full_name}/{m.name}"
            assert path in suite.table, f"{path} is served but has no row in `csc token scopes`"
            needs, child = suite.table[path]
            found.append(
                Method(addr, path, message_factory.GetMessageClass(m.input_type), message_factory.GetMessageClass(m.output_type), needs, child, names_la(m.input_type))
            )
    assert len(found) == len([p for p in suite.table if not p.startswith("/grpc.")])
    return found


def call(m, tok, la=LA, request=None):
    """(code, response): the response is None whenever the call failed."""
    rpc = channel(m.addr).unary_unary(m.path, request_serializer=lambda x: x.SerializeToString(), response_deserializer=m.output.FromString)
    metadata = [("authorization", f"Bearer {tok}")] if tok else None
    try:
        return grpc.StatusCode.OK, rpc(request or fill(m.input(), la), metadata=metadata, timeout=30)
    except grpc.RpcError as e:
        return e.code(), None


# Each bad token, what it must get, and which methods it applies to.
CASES = {
    "no token": (lambda s, m: None, UNAUTHENTICATED, lambda m: True),
    "expired": (lambda s, m: token(s, s.scopes, exp=-3600), UNAUTHENTICATED, lambda m: True),
    "not yet valid": (lambda s, m: token(s, s.scopes, nbf=3600), UNAUTHENTICATED, lambda m: True),
    "wrong signature": (lambda s, m: token(s, s.scopes, key=s.other_key), UNAUTHENTICATED, lambda m: True),
    "wrong audience": (lambda s, m: token(s, s.scopes, aud="another-system"), UNAUTHENTICATED, lambda m: True),
    "alg none": (lambda s, m: unsigned(s), UNAUTHENTICATED, lambda m: True),
    "missing scope": (lambda s, m: token(s, [x for x in s.scopes if x not in m.scopes]), PERMISSION_DENIED, lambda m: True),
    "another LA": (lambda s, m: token(s, s.scopes, las=(OTHER_LA,)), PERMISSION_DENIED, lambda m: m.names_la),
    # A regional caller reads measures and reports only: no child-level method, and no method
    # that writes or deletes records (DeleteContact and DeleteFeedback included).
    "regional caller": (lambda s, m: token(s, s.scopes, regional=True), PERMISSION_DENIED, lambda m: m.child_level or writes(m)),
}


def writes(m):
    name = m.path.rsplit("/", 1)[1]
    return name.startswith(("BatchUpsert", "Delete")) or name == "RecordImport"


def test_every_delete_of_a_childs_record_is_child_level(methods):
    """`csc token scopes` marks a Delete child-level when its key names a child's record, though
    the key itself (a contact's id, a feedback response's) holds no child_id."""
    by_path = {m.path: m for m in methods}
    for path in (
        "/csc.frontdoor.v1.FrontDoorService/DeleteContact",
        "/csc.protection.v1.ProtectionService/DeleteFeedback",
        "/csc.frontdoor.v1.FrontDoorService/DeleteReferral",
    ):
        assert by_path[path].child_level, path
    assert not by_path["/csc.finance.v1.FinanceService/DeleteCategory"].child_level


@pytest.mark.parametrize("case", list(CASES))
def test_every_method_refuses_a_bad_token_with_no_data(suite, methods, case):
    make, expected, applies = CASES[case]
    wrong = []
    applied = 0
    for m in methods:
        if not applies(m):
            continue
        applied += 1
        code, response = call(m, make(suite, m))
        if code != expected or response is not None:
            wrong.append(f"{m.path}: {code} (expected {expected})")
    assert applied > 0
    assert not wrong, f"{case}: " + "; ".join(wrong)


def test_every_method_admits_the_right_token(suite, methods):
    wrong = []
    for m in methods:
        code, response = call(m, token(suite, m.scopes))
        if code in (UNAUTHENTICATED, PERMISSION_DENIED, grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL):
            wrong.append(f"{m.path}: {code}")
        # Reads that need no stored record succeed outright.
        name = m.path.rsplit("/", 1)[1]
        if (name.startswith("List") or name in ("ComputeMeasures", "ComputeMeasureSeries", "GenerateReport", "GetPopulation")) and code != grpc.StatusCode.OK:
            wrong.append(f"{m.path}: {code}, expected OK")
    assert not wrong, "; ".join(wrong)


def test_health_needs_no_token_and_reflection_needs_one(suite):
    for service, addr in suite.addrs.items():
        health = health_pb2_grpc.HealthStub(channel(addr))
        resp = health.Check(health_pb2.HealthCheckRequest(service=GRPC_NAMES[service]), timeout=5)
        assert resp.status == health_pb2.HealthCheckResponse.SERVING
        pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel(addr)))
        with pytest.raises(Exception):
            pool.FindServiceByName(GRPC_NAMES[service])


def by_path(methods, path):
    return next(m for m in methods if m.path == path)


def test_a_report_is_composed_with_the_callers_own_token_and_kept_for_its_la_only(suite, methods):
    gen = by_path(methods, "/csc.reporting.v1.ReportingService/GenerateReport")
    code, doc = call(gen, token(suite, ["report:publish", "measures:read"], sub="cronjob"))
    assert code == grpc.StatusCode.OK
    # Each service answered the aggregator's relayed calls: no section is unavailable; each says
    # it holds nothing yet for the LA (no_data).
    assert doc.sections and all(s.status == "no_data" for s in doc.sections), [(s.id, s.status) for s in doc.sections]
    assert doc.requested_by == "cronjob", "the token's subject is who asked"

    get = by_path(methods, "/csc.reporting.v1.ReportingService/GetReport")
    req = get.input(report_id=doc.report_id)
    code, got = call(get, token(suite, ["report:read"], las=(LA,)), request=req)
    assert code == grpc.StatusCode.OK and got.la_code == LA
    code, got = call(get, token(suite, ["report:read"], las=(OTHER_LA,)), request=req)
    assert (code, got) == (PERMISSION_DENIED, None), "a report fetched by id is still LA-bound"
    code, got = call(gen, token(suite, ["report:publish", "measures:read"], regional=True))
    assert code == grpc.StatusCode.OK, "a regional caller may have its LAs' reports"


def audit(suite, child, la):
    out = subprocess.run(
        [csc_binary(), "audit", "--la", la, "--child", child, "--service", "frontdoor", "--database-url", f"sqlite://{suite.dir}/frontdoor.db", "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def test_a_reader_of_885_gets_only_885s_records_and_the_audit_log_shows_the_read(suite, methods):
    upsert = by_path(methods, "/csc.frontdoor.v1.FrontDoorService/BatchUpsertReferrals")
    batch = upsert.input(request_id=str(uuid.uuid4()))
    for la, child in [(LA, "R885A"), (LA, "R885B"), (OTHER_LA, "R886A")]:
        batch.records.add(la_code=la, child_id=child, referral_date="2018-05-01", source="1A")
    writer = token(suite, ["frontdoor:write"], las=(LA, OTHER_LA), sub="importer")
    code, resp = call(upsert, writer, request=batch)
    assert code == grpc.StatusCode.OK and resp.written == 3

    reader = token(suite, ["frontdoor:read"], las=(LA,), sub="reader-885")
    lst = by_path(methods, "/csc.frontdoor.v1.FrontDoorService/ListReferrals")
    code, page = call(lst, reader, request=lst.input(la_code=LA, page_size=1000))
    assert code == grpc.StatusCode.OK
    assert {r.child_id for r in page.records} >= {"R885A", "R885B"}
    assert {r.la_code for r in page.records} == {LA}
    code, page = call(lst, reader, request=lst.input(la_code=OTHER_LA))
    assert (code, page) == (PERMISSION_DENIED, None)
    get = by_path(methods, "/csc.frontdoor.v1.FrontDoorService/GetReferral")
    code, rec = call(get, reader, request=get.input(la_code=OTHER_LA, child_id="R886A", referral_date="2018-05-01"))
    assert (code, rec) == (PERMISSION_DENIED, None)

    trail = audit(suite, "R885A", LA)
    assert any(e["subject"] == "importer" and e["method"].endswith("/BatchUpsertReferrals") and e["outcome"] == "OK" for e in trail), trail
    reads = [e for e in trail if e["subject"] == "reader-885" and e["method"].endswith("/ListReferrals")]
    assert reads and reads[-1]["outcome"] == "OK" and reads[-1]["la_codes"] == LA, trail
    attempt = audit(suite, "R886A", OTHER_LA)
    assert any(e["subject"] == "reader-885" and e["method"].endswith("/GetReferral") and e["outcome"] == "PermissionDenied" for e in attempt), attempt


def test_a_refusal_does_not_echo_a_megabyte_of_input(suite, methods):
    """A 1 MB la_code is refused with a message that quotes 64 characters and its length: the
    client sees PERMISSION_DENIED, not a trailer too large to read."""
    m = by_path(methods, "/csc.frontdoor.v1.FrontDoorService/ComputeMeasures")
    huge = "9" * (1 << 20)
    rpc = channel(m.addr).unary_unary(m.path, request_serializer=lambda x: x.SerializeToString(), response_deserializer=m.output.FromString)
    req = m.input(la_code=huge, period="2018-19")
    with pytest.raises(grpc.RpcError) as e:
        rpc(req, metadata=[("authorization", f"Bearer {token(suite, m.scopes)}")], timeout=30)
    assert e.value.code() == PERMISSION_DENIED, e.value
    assert len(e.value.details()) < 512 and "(1048576 bytes)" in e.value.details(), e.value.details()[:200]


def grpc_code_name(code):
    """A gRPC code as the audit log spells it (`NotFound`, `PermissionDenied`, `OK`)."""
    return "OK" if code == grpc.StatusCode.OK else "".join(w.capitalize() for w in code.name.split("_"))


def test_every_delete_admitted_or_refused_leaves_its_audit_row(suite, methods):
    """Each Delete of every service, by a caller it admits and by a regional caller it refuses,
    is in that service's audit log with who, what and the outcome."""
    deletes = [m for m in methods if m.path.rsplit("/", 1)[1].startswith("Delete")]
    assert len(deletes) >= 17, [m.path for m in deletes]
    service_of = {addr: service for service, addr in suite.addrs.items()}
    missing = []
    for m in deletes:
        sub = "deleter-" + uuid.uuid4().hex[:8]
        code, _ = call(m, token(suite, m.scopes, sub=sub))
        assert code not in (UNAUTHENTICATED, PERMISSION_DENIED), (m.path, code)
        refused, _ = call(m, token(suite, m.scopes, sub=sub + "-regional", regional=True))
        assert refused == PERMISSION_DENIED, (m.path, refused)
        with sqlite3.connect(f"{suite.dir}/{service_of[m.addr]}.db") as db:
            rows = set(db.execute("SELECT subject, outcome FROM audit_event WHERE method = ? AND subject LIKE ?", (m.path, sub + "%")))
        expected = {(sub, grpc_code_name(code)), (sub + "-regional", "PermissionDenied")}
        if rows != expected:
            missing.append(f"{m.path}: {sorted(rows)} (expected {sorted(expected)})")
    assert not missing, "; ".join(missing)


def test_the_aggregators_own_writes_are_audited(suite, methods):
    """Who changed a benchmarking group, a commentary, a population or a reference table, and
    with what outcome, is in the aggregator's audit log, as every write is."""
    writes = ["SetGroup", "SetCommentary", "SetPopulation", "LoadReferenceTable"]
    missing = []
    for name in writes:
        (m,) = [m for m in methods if m.path == f"/csc.reporting.v1.ReportingService/{name}"]
        sub = "writer-" + uuid.uuid4().hex[:8]
        code, _ = call(m, token(suite, m.scopes, sub=sub))
        assert code not in (UNAUTHENTICATED, PERMISSION_DENIED), (m.path, code)
        with contextlib.closing(sqlite3.connect(suite.dir / "aggregator.db")) as db:
            rows = set(db.execute("SELECT subject, outcome FROM audit_event WHERE method = ?", (m.path,)))
        if (sub, grpc_code_name(code)) not in rows:
            missing.append(f"{m.path}: {sorted(rows)}")
    assert not missing, "; ".join(missing)


def test_a_refused_cli_call_says_which_token_source_it_tried_and_what_to_do(suite, tmp_path):
    """`csc` run without a usable token names the source it tried (CSC_TOKEN, CSC_TOKEN_FILE,
    the data directory's development key) and how to fix it, once."""
    import os

    argv = [csc_binary(), "report", "list", "--la", LA, "--aggregator", suite.addrs["aggregator"]]
    base = {k: v for k, v in os.environ.items() if k not in ("CSC_TOKEN", "CSC_TOKEN_FILE")}
    cases = [
        ({"CSC_DATA_DIR": str(tmp_path / "empty")}, ["No token was sent", "CSC_DATA_DIR", "CSC_TOKEN"]),
        ({"CSC_TOKEN": "not-a-jwt"}, ["The token sent was CSC_TOKEN's", "csc token issue"]),
        ({"CSC_TOKEN_FILE": str(tmp_path / "missing")}, ["CSC_TOKEN_FILE", str(tmp_path / "missing")]),
    ]
    for env, expected in cases:
        r = subprocess.run(argv, env={**base, **env}, capture_output=True, text=True, timeout=60)
        assert r.returncode == 1, r.stderr
        assert "Unauthenticated" in r.stderr, r.stderr
        for e in expected:
            assert e in r.stderr, (e, r.stderr)
        assert r.stderr.count("Unauthenticated") == 1, r.stderr


def test_a_group_report_shows_a_regional_caller_only_its_members(suite, methods):
    """A regional token for 3 of a 14-member group: 11 members `not_shared` (their services never
    asked), the 3 composed and named as `la_code` in the answer, which the audit log records."""
    set_group = by_path(methods, "/csc.reporting.v1.ReportingService/SetGroup")
    region = ["885", "884", "894", "893", "860", "861", "330", "331", "332", "333", "334", "335", "336", "937"]
    code, g = call(set_group, token(suite, ["report:write"]), request=set_group.input(name="wm-auth", members=region))
    assert code == grpc.StatusCode.OK and list(g.members) == region
    gen = by_path(methods, "/csc.reporting.v1.ReportingService/GenerateGroupReport")
    mine = ["885", "884", "894"]
    tok = token(suite, ["report:publish", "measures:read"], las=mine, sub="alliance", regional=True)
    code, doc = call(gen, tok, request=gen.input(group="wm-auth", period="2025-26-Q3", la_code="885", format=1))
    assert code == grpc.StatusCode.OK
    assert [m.la_code for m in doc.members] == mine
    assert list(doc.not_shared) == [la for la in region if la not in mine]
    assert len(doc.not_shared) == 11
    body = json.loads(doc.content)
    shared = {m["la_code"]: m["standing"] for m in body["members"]}
    assert [la for la, s in shared.items() if s == "not_shared"] == list(doc.not_shared)
    # Nothing of a member not shared: no figure, live or published, anywhere in the report.
    for s in body["sections"]:
        for m in s["measures"]:
            for f in m.get("figure", {}).get("members", []):
                if f["la_code"] in doc.not_shared:
                    assert f["source"] == "not_shared" and "value" not in f, (m["id"], f)
    # The focus must be granted: a focus outside the token is refused before anything is composed.
    code, _ = call(gen, tok, request=gen.input(group="wm-auth", period="2025-26-Q3", la_code="330"))
    assert code == PERMISSION_DENIED
    with contextlib.closing(sqlite3.connect(suite.dir / "aggregator.db")) as db:
        rows = db.execute(
            "SELECT la_codes, outcome FROM audit_event WHERE method = ? AND subject = 'alliance' ORDER BY id",
            ("/csc.reporting.v1.ReportingService/GenerateGroupReport",),
        ).fetchall()
    assert len(rows) == 2, rows
    assert sorted(rows[0][0].split(",")) == sorted(mine) and rows[0][1] == "OK"
    assert rows[1][1] == "PermissionDenied"
