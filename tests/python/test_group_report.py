"""The group report as its readers open it: two generated West Midlands LAs imported into a suite
of real `csc serve` processes, the region's group report written by `csc report --group`, its
JSON read, and its HTML drawn in headless Chromium, whose screenshot must show the small
multiples: a dot per member held, the focus in its own colour."""

import contextlib
import json
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, csc_binary, serve
from test_report_files import CHART_BLUE, pixels, screenshot

PERIOD = "2025-26-Q3"
FOCUS_ORANGE = (0xF4, 0x6A, 0x25)
DOMAIN = ["frontdoor", "protection", "placements", "finance"]


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    d = tmp_path_factory.mktemp("group")
    gen = d / "generated"
    subprocess.run(
        [csc_binary(), "generate", "--la", "885,884", "--scale", "3000", "--years", "2", "--until", "2025-12-31", "--out", str(gen)],
        check=True, capture_output=True, timeout=300,
    )
    with contextlib.ExitStack() as stack:
        addrs = {s: stack.enter_context(contextlib.contextmanager(serve)(s, data_dir=d)) for s in DOMAIN}
        upstreams = [a for s in DOMAIN for a in (f"--{s}", addrs[s])]
        agg = stack.enter_context(contextlib.contextmanager(serve)("aggregator", upstreams, data_dir=d))
        flags = [a for s in DOMAIN for a in (f"--{s}", addrs[s])]
        for la in ("885", "884"):
            r = subprocess.run([csc_binary(), "import", "generated", str(gen / la), *flags], capture_output=True, text=True, timeout=600)
            assert r.returncode == 0, r.stdout + r.stderr
        yield d, agg


def group_report(region, ext, *extra):
    d, agg = region
    out = d / f"group.{ext}"
    r = subprocess.run(
        [csc_binary(), "report", "--group", "region:west-midlands", "--period", PERIOD, "--focus", "885", "--out", str(out), "--aggregator", agg, *extra],
        capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return out, r.stderr


def test_the_region_report_names_its_members_and_what_is_held(region):
    import jsonschema

    out, said = group_report(region, "json")
    doc = json.loads(out.read_text())
    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text())
    group_schema = {**schema, "$ref": "#/$defs/group_report"}
    for k in ("type", "required", "properties", "additionalProperties"):
        group_schema.pop(k, None)
    validator = jsonschema.Draft202012Validator(group_schema)
    validator.validate(doc)
    bad = json.loads(json.dumps(doc))
    bad["members"][0]["standing"] = "shared"
    assert not validator.is_valid(bad), "the schema is not a rubber stamp"
    standing = {m["la_code"]: m["standing"] for m in doc["members"]}
    assert len(standing) == 14
    assert standing["885"] == standing["884"] == "held"
    assert sum(1 for s in standing.values() if s == "not_held") == 12
    assert "no data held for" in said, "the members not held are said where the user looks"
    referrals = next(m for s in doc["sections"] for m in s["measures"] if m["id"] == "frontdoor.referrals")
    live = [f for f in referrals["figure"]["members"] if f["source"] == "live"]
    assert sorted(f["la_code"] for f in live) == ["884", "885"]
    assert referrals["figure"]["stats"]["n"] == 2


def test_the_html_draws_a_small_multiple_per_measure_in_chromium(region, tmp_path):
    html_file, _ = group_report(region, "html")
    html = html_file.read_text()
    assert "<script" not in html and "<link" not in html and 'src="' not in html
    assert html.count('<svg class="chart"') >= 20
    assert "<caption>" in html and 'scope="row"' in html

    png = tmp_path / "group.png"
    screenshot(html_file, png)
    shutil.copy(png, ROOT / "target" / "group-report-screenshot.png")  # for a person to look at
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r'<svg class="chart".*?</svg>', "", html, flags=re.S))
    png2 = tmp_path / "bare.png"
    screenshot(bare, png2)
    assert pixels(png2, FOCUS_ORANGE) == 0 and pixels(png2, CHART_BLUE) == 0
    # The focus's dots (orange) and the other member's (blue) are drawn in the first 12,000 px:
    # a few of the charts, each dot some 60-110 pixels.
    assert pixels(png, FOCUS_ORANGE) > 300, pixels(png, FOCUS_ORANGE)
    assert pixels(png, CHART_BLUE) > 300, pixels(png, CHART_BLUE)


def test_the_csv_and_workbook_open_in_stock_readers(region):
    import csv
    import openpyxl

    out, _ = group_report(region, "csv")
    rows = list(csv.DictReader(out.open()))
    assert {r["la_code"] for r in rows} >= {"885", "884", "860"}
    live = [r for r in rows if r["measure_id"] == "frontdoor.referrals" and r["source"] == "live"]
    assert len(live) == 2 and all(r["group_n"] == "2" for r in live)
    out, _ = group_report(region, "xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "About" and "Family Front Door" in wb.sheetnames
    ws = wb["Family Front Door"]
    header = [c.value for c in ws[1]]
    assert "Worcestershire" in header and "Median" in header


def test_a_single_la_report_compared_with_the_region(region):
    """`csc report --la 885 --compare-with region:west-midlands`: each figure carries the
    region's live median and 885's rank in it (of the 2 members held), valid against the
    report's schema; the headline page and the benchmark tables show them."""
    import jsonschema

    d, agg = region

    def compared(ext):
        out = d / f"compared.{ext}"
        r = subprocess.run(
            [csc_binary(), "report", "--la", "885", "--period", PERIOD, "--compare-with", "region:west-midlands",
             "--allow-partial", "--out", str(out), "--aggregator", agg],
            capture_output=True, text=True, timeout=300,
        )
        assert r.returncode == 0, r.stdout + r.stderr
        return out

    out = compared("json")
    doc = json.loads(out.read_text())
    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    referrals = next(m for s in doc["sections"] for m in s["measures"] if m["id"] == "frontdoor.referrals")
    g = referrals["group"]
    assert g["group"] == "region:west-midlands" and g["members"] == 14
    assert g["stats"]["n"] == 2 and g["focus"]["of"] == 2
    bad = json.loads(json.dumps(doc))
    next(m for s in bad["sections"] for m in s["measures"] if m["id"] == "frontdoor.referrals")["group"]["stats"] = "high"
    assert not jsonschema.Draft202012Validator(schema).is_valid(bad)

    md = compared("md")
    text = md.read_text()
    assert "In West Midlands" in text, "the headline page's group column"
    assert "Rank in West Midlands" in text, "the benchmark tables' group columns"
    assert re.search(r"rank [12] of 2, quartile [1-4] of 4", text)
