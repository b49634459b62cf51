"""The reporting service (aggregator) as a stock gRPC client sees it, with every domain service
down: the report still comes out, each section marked unavailable; reports are kept and can be
fetched again; commentary and reference tables through the API; bad requests name the field."""

import json

import grpc
import pytest

import reflected

from test_stock_client import bad_request

SERVICE = "csc.reporting.v1.ReportingService"


def method(channel, name):
    return reflected.method(channel, SERVICE, name)


def test_a_report_with_every_service_down_comes_out_marked_unavailable_and_is_kept(aggregator):
    with grpc.insecure_channel(aggregator) as ch:
        req, generate = method(ch, "GenerateReport")
        doc = generate(req(la_code="885", period="2018-19-Q1", format=1, requested_by="pytest"), timeout=60)
        assert doc.content_type == "application/json"
        report = json.loads(doc.content)
        assert report["la_code"] == "885" and report["period"]["end"] == "2018-06-30"
        assert [s["status"] for s in report["sections"]] == ["unavailable"] * 7
        assert all(s["measures"] == [] for s in report["sections"])
        assert [s.status for s in doc.sections] == ["unavailable"] * 7

        req, get = method(ch, "GetReport")
        html = get(req(report_id=doc.report_id, format=2), timeout=10)
        assert html.content_type.startswith("text/html")
        assert b"This section is unavailable" in html.content

        req, list_reports = method(ch, "ListReports")
        listed = list_reports(req(la_code="885"), timeout=10)
        assert [(r.report_id, r.requested_by) for r in listed.reports] == [(doc.report_id, "pytest")]


def test_commentary_is_kept_per_section_and_printed_with_it(aggregator):
    with grpc.insecure_channel(aggregator) as ch:
        req, set_commentary = method(ch, "SetCommentary")
        c = set_commentary(req(la_code="885", period="2018-19-Q1", section="missing", text="Three officers started.", author="analyst"), timeout=10)
        assert c.updated_at
        req, generate = method(ch, "GenerateReport")
        doc = generate(req(la_code="885", period="2018-19-Q1", format=3), timeout=60)
        assert b"Three officers started." in doc.content  # Markdown
        req, list_commentary = method(ch, "ListCommentary")
        assert [x.section for x in list_commentary(req(la_code="885", period="2018-19-Q1"), timeout=10).commentary] == ["missing"]


def test_commentary_targets_the_headline_page_and_its_figures_and_nothing_else(aggregator):
    with grpc.insecure_channel(aggregator) as ch:
        req, set_commentary = method(ch, "SetCommentary")
        for target in ("headline", "protection.cp_repeat_ever"):
            set_commentary(req(la_code="885", period="2018-19-Q2", section=target, text=f"On {target}.", author="analyst"), timeout=10)
        # A measure that is not on the headline page has no line there to hold commentary.
        with pytest.raises(grpc.RpcError) as e:
            set_commentary(req(la_code="885", period="2018-19-Q2", section="placements.placement_type_mix", text="x"), timeout=10)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        [v] = bad_request(e.value).field_violations
        assert v.field == "section" and "headline" in v.description
        req, generate = method(ch, "GenerateReport")
        doc = json.loads(generate(req(la_code="885", period="2018-19-Q2", format=1), timeout=60).content)
        assert doc["commentary"] == {"headline": "On headline.", "protection.cp_repeat_ever": "On protection.cp_repeat_ever."}


def test_bad_requests_name_the_field(aggregator):
    with grpc.insecure_channel(aggregator) as ch:
        req, generate = method(ch, "GenerateReport")
        with pytest.raises(grpc.RpcError) as e:
            generate(req(la_code="8851", period="2018-19-Q5"), timeout=10)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert [v.field for v in bad_request(e.value).field_violations] == ["la_code", "period"]
        req, set_population = method(ch, "SetPopulation")
        with pytest.raises(grpc.RpcError) as e:
            set_population(req(la_code="885", year=1800, population=-5), timeout=10)
        assert [v.field for v in bad_request(e.value).field_violations] == ["year", "population"]


def test_reference_tables_are_listed_with_their_release(aggregator):
    with grpc.insecure_channel(aggregator) as ch:
        req, list_tables = method(ch, "ListReferenceTables")
        tables = {t.table: t for t in list_tables(req(), timeout=10).tables}
        assert tables["ons_population"].latest_year == 2024
        assert tables["statistical_neighbours"].rows > 140
        assert all(t.loaded_at for t in tables.values())
