"""The report's files as their readers open them, from one run of `csc demo` (a real process):
the JSON against the schema in docs/, the XLSX in a stock reader (openpyxl), the CSV in Python's
csv module, and the HTML in headless Chromium, whose screenshot must show the charts drawn."""

import csv
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT, csc_binary

PERIOD = "2025-26-Q3"
# The charts' colours (GSS palette): nothing else on the page is drawn in them.
CHART_BLUE = (0x12, 0x43, 0x6D)


@pytest.fixture(scope="module")
def demo():
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(
            [csc_binary(), "demo", "--out", tmp, "--scale", "20000", "--seed", "5", "--period", PERIOD],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert r.returncode == 0, r.stdout + r.stderr
        yield Path(tmp) / "report", r.stdout


def path(demo, ext, published=False):
    return demo[0] / f"report-885-{PERIOD}{'-published' if published else ''}.{ext}"


def report(demo):
    return json.loads(path(demo, "json").read_text())


def measure(doc, mid):
    return next(m for s in doc["sections"] for m in s["measures"] if m["id"] == mid)


def test_demo_prints_where_the_files_are_and_the_headlines(demo):
    out = demo[1]
    assert str(path(demo, "html")) in out
    assert "Headline figures" in out and "Children looked after" in out


def test_json_validates_against_the_schema_in_docs(demo):
    import jsonschema

    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    doc = report(demo)
    validator.validate(doc)
    assert [s["id"] for s in doc["sections"]] == [
        "frontdoor", "child_protection", "children_in_need", "missing", "exploitation", "looked_after", "costs",
    ]
    # The schema is not a rubber stamp: a unit outside the contract fails it.
    bad = json.loads(json.dumps(doc))
    bad["sections"][0]["measures"][0]["unit"] = "rate_per10k"
    assert not validator.is_valid(bad)


def test_xlsx_opens_in_a_stock_reader_with_a_sheet_per_section_and_numbers_as_numbers(demo):
    import openpyxl

    wb = openpyxl.load_workbook(path(demo, "xlsx"), read_only=True)
    doc = report(demo)
    assert wb.sheetnames == ["About"] + [s["title"] for s in doc["sections"]]
    rows = list(wb["Family Front Door"].iter_rows(values_only=True))
    header = next(r for r in rows if r and r[0] == "measure_id")
    line = next(r for r in rows if r and r[0] == "frontdoor.referrals")
    value = line[header.index("value")]
    assert isinstance(value, (int, float)) and not isinstance(value, bool)
    assert value == measure(doc, "frontdoor.referrals")["value"]


def test_csv_has_a_row_per_measure_and_breakdown_row(demo):
    doc = report(demo)
    with open(path(demo, "csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    police = next(r for r in rows if r["measure_id"] == "frontdoor.referrals_by_source" and r["row_key"] == "police")
    m = measure(doc, "frontdoor.referrals_by_source")
    assert int(police["value"]) == next(r for r in m["rows"] if r["key"] == "police")["value"]
    expected = sum(
        (1 if ("value" in m or "numerator" in m or not m.get("rows")) else 0) + len(m.get("rows", []))
        for s in doc["sections"]
        for m in s["measures"]
    )
    assert len(rows) == expected


def test_published_html_shows_no_count_of_one_to_five(demo):
    html = path(demo, "html", published=True).read_text()
    assert "Published figures" in html
    assert ">c<" in html


def chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is needed for the HTML report test (.ci/run installs Debian's chromium)")
        pytest.skip("no Chromium on this machine (CI installs it)")
    return exe


def screenshot(html_file, png):
    subprocess.run(
        [
            chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={png.parent / 'chromium-profile'}", "--hide-scrollbars",
            "--window-size=1200,12000", f"--screenshot={png}", html_file.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def pixels(png, colour):
    from PIL import Image

    counts = Image.open(png).convert("RGB").getcolors(maxcolors=1 << 24)
    return sum(n for n, c in counts if c == colour)


def test_html_is_self_contained_and_its_charts_draw_in_chromium(demo, tmp_path):
    html_file = path(demo, "html")
    html = html_file.read_text()
    # One file: no scripts, stylesheets or images fetched from anywhere.
    assert "<script" not in html and "<link" not in html and 'src="' not in html
    assert html.count('<svg class="chart"') >= 7
    assert "<caption>" in html and 'scope="col"' in html

    png = tmp_path / "report.png"
    screenshot(html_file, png)
    keep = ROOT / "target" / "report-screenshot.png"
    shutil.copy(png, keep)  # for a person to look at
    drawn = pixels(png, CHART_BLUE)

    # The same page without its charts draws none of the charts' colour: what was counted is them.
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r'<svg class="chart".*?</svg>', "", html, flags=re.S))
    png2 = tmp_path / "bare.png"
    screenshot(bare, png2)
    undrawn = pixels(png2, CHART_BLUE)
    assert undrawn == 0
    assert drawn > 20_000, f"only {drawn} chart pixels drawn"
