"""The aggregator's HTTP read API as a BI tool meets it, through a stock HTTP client (requests):
every format, the same document as the gRPC API, the auth matrix answered with RFC 9457 problem
bodies, and every report generated or fetched in the aggregator's audit log, refusals included."""

import contextlib
import csv
import io
import json
import sqlite3
import zipfile

import grpc
import pytest
import requests

import reflected
from bearer import Bearer
from conftest import free_port, serve
from test_auth import DOMAIN, ISSUER, LA, OTHER_LA, keygen, token as signed

PERIOD = "2025-26-Q3"
FORMATS = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


class Suite:
    pass


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    d = tmp_path_factory.mktemp("http")
    s = Suite()
    s.dir = d
    s.key, s.kid = keygen(d / "idp")
    s.other_key, _ = keygen(d / "elsewhere")
    auth = ["--auth-jwks-file", str(d / "idp" / "jwks.json"), "--auth-issuer", ISSUER]
    port = free_port()
    s.base = f"http://127.0.0.1:{port}"
    with contextlib.ExitStack() as stack:
        addrs = {x: stack.enter_context(contextlib.contextmanager(serve)(x, auth=auth, data_dir=d)) for x in DOMAIN}
        upstreams = [a for x in DOMAIN for a in (f"--{x}", addrs[x])]
        extra = upstreams + ["--http-listen", f"127.0.0.1:{port}"]
        s.grpc = stack.enter_context(contextlib.contextmanager(serve)("aggregator", extra, auth=auth, data_dir=d))
        yield s


def token(s, scopes=("report:read", "report:publish", "measures:read"), las=(LA,), **kw):
    return signed(s, list(scopes), las, **kw)


def get(s, path, tok=None, **params):
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    return requests.get(s.base + path, headers=headers, params=params, timeout=60)


def audit_rows(s, method):
    with contextlib.closing(sqlite3.connect(s.dir / "aggregator.db")) as db:
        return db.execute(
            "SELECT subject, la_codes, outcome FROM audit_event WHERE method = ? ORDER BY id",
            (f"/csc.reporting.v1.ReportingService/{method}",),
        ).fetchall()


def is_problem(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    p = r.json()
    assert p["status"] == status and p["title"] and p["detail"] and p["type"].startswith("https://")
    assert p["instance"] == requests.utils.urlparse(r.url).path
    assert r.headers["cache-control"] == "private, no-store"
    return p


def test_every_format_comes_back_with_its_type_and_is_what_it_says(suite):
    tok = token(suite, sub="bi-tool")
    for fmt, ctype in FORMATS.items():
        r = get(suite, f"/v1/las/{LA}/periods/{PERIOD}/report", tok, format=fmt)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == ctype
        assert r.headers["cache-control"] == "private, no-store"
        assert r.headers["x-report-id"]
        assert f'filename="report-{LA}-{PERIOD}.{fmt}"' in r.headers["content-disposition"]
        if fmt == "json":
            doc = r.json()
            assert doc["la_code"] == LA and doc["period"]["id"] == PERIOD
            assert doc["requested_by"] == "bi-tool", "the token's subject is who asked"
        elif fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(r.text)))
            assert rows and all(row["section_status"] == "no_data" for row in rows)
        elif fmt == "docx":
            assert "word/document.xml" in zipfile.ZipFile(io.BytesIO(r.content)).namelist()
            assert r.headers["content-disposition"].startswith("attachment")
        elif fmt == "xlsx":
            assert "Figures" in zipfile.ZipFile(io.BytesIO(r.content)).read("xl/workbook.xml").decode()
            assert r.headers["content-disposition"].startswith("attachment")
        elif fmt == "html":
            assert r.text.startswith("<!DOCTYPE html>")
            assert "default-src 'none'" in r.headers["content-security-policy"]
        else:
            assert r.text.startswith("# ")


def test_a_report_by_id_is_the_document_the_grpc_api_returns(suite):
    tok = token(suite)
    made = get(suite, f"/v1/las/{LA}/periods/{PERIOD}/report", tok, format="json")
    rid = made.headers["x-report-id"]
    r = get(suite, f"/v1/reports/{rid}", tok, format="csv")
    assert r.status_code == 200 and r.headers["x-report-id"] == rid
    with grpc.intercept_channel(grpc.insecure_channel(suite.grpc), Bearer(tok)) as ch:
        req, get_report = reflected.method(ch, "csc.reporting.v1.ReportingService", "GetReport")
        assert get_report(req(report_id=rid, format=5), timeout=30).content == r.content
    listed = get(suite, f"/v1/las/{LA}/reports", tok, period=PERIOD).json()["reports"]
    assert rid in [x["report_id"] for x in listed]
    assert next(x for x in listed if x["report_id"] == rid)["url"] == f"/v1/reports/{rid}"
    cov = get(suite, f"/v1/las/{LA}/coverage", tok)
    assert cov.status_code == 200
    assert [x["service"] for x in cov.json()["services"]] == ["frontdoor", "protection", "placements", "finance"]


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/las/{LA}/periods/{PERIOD}/report",
        "/v1/reports/00000000-0000-0000-0000-000000000000",
        f"/v1/las/{LA}/coverage",
        f"/v1/las/{LA}/reports",
    ],
)
def test_the_auth_matrix_is_the_grpc_methods(suite, path):
    # No token, a token that does not verify, an expired one: 401, with the scheme to use.
    for bad in (None, token(suite, key=suite.other_key), token(suite, exp=-3600)):
        p = is_problem(get(suite, path, bad), 401)
        assert p["grpc_code"] == "UNAUTHENTICATED"
    assert get(suite, path).headers["www-authenticate"].startswith("Bearer")
    # A token without the scopes: 403.
    p = is_problem(get(suite, path, token(suite, scopes=("frontdoor:read",))), 403)
    assert "scope" in p["detail"]
    # Another LA's token, for a route that names this LA: 403.
    if "/las/" in path:
        p = is_problem(get(suite, path, token(suite, las=(OTHER_LA,))), 403)
        assert OTHER_LA in p["detail"] or LA in p["detail"]


def test_bad_requests_name_the_field_and_unknown_ids_are_404(suite):
    tok = token(suite)
    p = is_problem(get(suite, f"/v1/las/{LA}/periods/{PERIOD}/report", tok, formt="xlsx"), 400)
    assert [e["field"] for e in p["errors"]] == ["formt"]
    p = is_problem(get(suite, f"/v1/las/{LA}/periods/{PERIOD}/report", tok, format="pdf"), 400)
    assert [e["field"] for e in p["errors"]] == ["format"]
    p = is_problem(get(suite, f"/v1/las/8851/periods/2025-26-Q5/report", token(suite, las=("*",))), 400)
    assert {e["field"] for e in p["errors"]} >= {"la_code"}
    is_problem(get(suite, "/v1/reports/no-such-report", tok), 404)
    is_problem(get(suite, "/v1/nothing-here", tok), 404)
    # A report with no data is never published: the precondition's violations are kept.
    p = is_problem(get(suite, f"/v1/las/{LA}/periods/{PERIOD}/report", tok, publish="true"), 400)
    assert p["grpc_code"] == "FAILED_PRECONDITION" and p["violations"]


def test_every_generation_and_fetch_is_audited_refusals_included(suite):
    before_gen, before_get = len(audit_rows(suite, "GenerateReport")), len(audit_rows(suite, "GetReport"))
    r = get(suite, f"/v1/las/{LA}/periods/{PERIOD}/report", token(suite, sub="audited-analyst"), format="json")
    rid = r.headers["x-report-id"]
    get(suite, f"/v1/reports/{rid}", token(suite, sub="audited-reader"))
    get(suite, f"/v1/las/{LA}/periods/{PERIOD}/report", token(suite, sub="audited-intruder", las=(OTHER_LA,)))
    gen = audit_rows(suite, "GenerateReport")[before_gen:]
    assert ("audited-analyst", LA, "OK") in gen
    assert ("audited-intruder", LA, "PermissionDenied") in gen
    assert ("audited-reader", LA, "OK") in audit_rows(suite, "GetReport")[before_get:]


def test_a_malformed_query_value_is_a_problem_naming_its_field(suite):
    r = requests.get(suite.base + f"/v1/las/{LA}/reports?period=%ZZ%", headers={"Authorization": f"Bearer {token(suite)}"}, timeout=30)
    p = is_problem(r, 400)
    assert [e["field"] for e in p["errors"]] == ["period"]


def test_a_group_report_by_url_shows_only_the_tokens_members(suite):
    """GenerateGroupReport over HTTP: the same guard (focus checked as an LA, members not granted
    `not_shared` and named in X-Not-Shared), the group's formats, bad parameters named."""
    path = f"/v1/groups/neighbours:{LA}/periods/{PERIOD}/report"
    tok = token(suite, sub="bi-group")
    r = get(suite, path, tok, format="json")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["group"] == f"neighbours:{LA}" and doc["focus"] == LA
    assert len(doc["members"]) == 11
    not_shared = [m["la_code"] for m in doc["members"] if m["standing"] == "not_shared"]
    assert len(not_shared) == 10 and r.headers["x-not-shared"].split(",") == not_shared
    assert r.headers["cache-control"] == "private, no-store"
    assert 'filename="group-report-neighbours_885-' in r.headers["content-disposition"]
    for fmt in ("csv", "xlsx", "html", "md"):
        r = get(suite, path, tok, format=fmt)
        assert r.status_code == 200 and r.headers["content-type"] == FORMATS[fmt], (fmt, r.text[:200])
    p = is_problem(get(suite, path, tok, format="docx"), 400)
    assert [e["field"] for e in p["errors"]] == ["format"]
    p = is_problem(get(suite, path, tok, focuss=LA), 400)
    assert [e["field"] for e in p["errors"]] == ["focuss"]
    # A focus the token does not grant: 403, like any LA.
    is_problem(get(suite, path, tok, focus=OTHER_LA), 403)
    is_problem(get(suite, f"/v1/groups/no-such-group/periods/{PERIOD}/report", tok), 404)
    is_problem(get(suite, path), 401)
