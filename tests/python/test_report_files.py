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


def test_xlsx_is_a_workbook_an_analyst_can_pivot(demo):
    """Opened with openpyxl as an analyst's tools would: a tidy table of every figure with its
    filter and frozen header, number formats per unit (percentages as fractions, money in pounds),
    section sheets with the header first and panes frozen, and every 8-quarter series."""
    import openpyxl

    wb = openpyxl.load_workbook(path(demo, "xlsx"))
    doc = report(demo)
    titles = [s["title"] for s in doc["sections"]]
    assert wb.sheetnames == ["About", "Headline", "Figures", *titles, "Series"]

    figs = wb["Figures"]
    assert list(figs.tables) == ["Figures"] and figs.tables["Figures"].autoFilter is not None
    assert figs.freeze_panes == "A2"
    rows = list(figs.iter_rows(values_only=True))
    header, lines = rows[0], rows[1:]
    col = {h: i for i, h in enumerate(header)}
    assert figs.tables["Figures"].ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}{len(rows)}"
    with open(path(demo, "csv"), newline="") as f:
        assert len(lines) == len(list(csv.DictReader(f)))

    def line(mid, key=None):
        i = next(i for i, r in enumerate(lines) if r[col["measure_id"]] == mid and r[col["row_key"]] == key)
        return lines[i], figs.cell(row=i + 2, column=col["value"] + 1)

    r, c = line("frontdoor.referrals")
    assert c.value == measure(doc, "frontdoor.referrals")["value"] and c.number_format == "#,##0"
    assert r[col["la_code"]] == "885" and r[col["period"]] == PERIOD and r[col["direction"]] == "neither"
    m = measure(doc, "frontdoor.rereferrals_12m")
    r, c = line("frontdoor.rereferrals_12m")
    assert c.value == pytest.approx(m["value"] / 100) and c.number_format == "0.0%"
    assert (r[col["numerator"]], r[col["denominator"]]) == (m["numerator"], m["denominator"])
    assert r[col["england"]] == pytest.approx(m["benchmarks"]["england"] / 100)
    assert r[col["previous_value"]] == pytest.approx(m["previous"]["value"] / 100)
    m = measure(doc, "finance.unit_costs")
    r, c = line("finance.unit_costs", "total")
    total = next(x for x in m["rows"] if x["key"] == "total")
    assert c.value == total["value"] and c.number_format == "£#,##0"  # pounds, not pence
    assert r[col["numerator"]] == pytest.approx(total["numerator"] / 100)  # JSON: pence; workbook: pounds
    m = measure(doc, "finance.spend_in_period")
    r, c = line("finance.spend_in_period", "total")
    assert c.value == pytest.approx(next(x for x in m["rows"] if x["key"] == "total")["value"])
    assert c.number_format in ("£#,##0", "£#,##0.00")
    r, c = line("frontdoor.referrals_by_source", "police")
    share = figs.cell(row=lines.index(r) + 2, column=col["percent"] + 1)
    police = next(x for x in measure(doc, "frontdoor.referrals_by_source")["rows"] if x["key"] == "police")
    assert share.value == pytest.approx(police["percent"] / 100) and share.number_format == "0.0%"
    r, c = line("placements.cla_rate_per_10k")
    assert c.number_format == "0"
    # No text in a number column: z and c are blanks, said in value_status.
    for r in lines:
        assert r[col["value"]] is None or isinstance(r[col["value"]], (int, float))
        assert (r[col["value_status"]] in ("z", "c")) == (r[col["value"]] is None and r[col["value_status"]] is not None)

    fd = wb["Family Front Door"]
    assert fd["A1"].value == "Measure" and fd.freeze_panes == "C2" and len(fd.tables) == 1
    assert "Synthetic data" in fd["A1"].comment.text  # the section's commentary, as a note
    ref = next(row for row in fd.iter_rows(min_row=2) if row[0].value == measure(doc, "frontdoor.referrals")["label"] and row[1].value is None)
    assert ref[4].value == measure(doc, "frontdoor.referrals")["value"]
    assert fd.column_dimensions["A"].width >= 30

    series = list(wb["Series"].iter_rows(values_only=True))
    assert len(series) - 1 == sum(len(m.get("series", [])) for s in doc["sections"] for m in s["measures"])
    cp = [r for r in series if r[1] == "protection.cp_rate_per_10k"]
    assert [r[4] for r in cp] == [p["period"] for p in measure(doc, "protection.cp_rate_per_10k")["series"]]

    head = wb["Headline"]
    assert head["A1"].value == "Measure" and head["B1"].value == PERIOD and head.freeze_panes == "B2"
    assert any("▲" in (r[4] or "") or "▼" in (r[4] or "") for r in head.iter_rows(min_row=2, values_only=True))
    about = [v for row in wb["About"].iter_rows(values_only=True) for v in row if v]
    assert "Definitions (in full: docs/measures.md)" in about and "frontdoor.rereferrals_12m" in about


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


def program(names, needed_for, installed_as):
    """The first of `names` on PATH. Missing under CI is a failure (scripts/test.sh installs it);
    elsewhere the test is skipped, saying what to install."""
    exe = next(filter(None, map(shutil.which, names)), None)
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail(f"{names[0]} is needed for {needed_for} (scripts/test.sh installs Debian's {installed_as})")
        pytest.skip(f"no {names[0]} on this machine (CI installs {installed_as})")
    return exe


def soffice():
    return program(("soffice", "libreoffice"), "the Word report test", "libreoffice-writer-nogui")


def test_docx_has_the_headline_page_sections_tables_charts_and_marking_and_opens_in_libreoffice(demo, tmp_path):
    import docx

    d = docx.Document(path(demo, "docx"))
    doc = report(demo)
    headings = [p.text for p in d.paragraphs if p.style is not None and p.style.name == "Heading 1"]
    assert headings[:2] == ["Headline figures", "The data this report rests on"]
    assert headings[2:] == [f"Analysis - {s['title']}" for s in doc["sections"]]
    # The headline table first, with arrows and words; then a table per section's headline
    # measures and per breakdown, as the HTML has them.
    head = d.tables[0]
    assert [c.text for c in head.rows[0].cells][:2] == ["Measure", PERIOD]
    assert any(re.search(r"[▲▼▶] (up|down|no change)", c.text) for r in head.rows[1:] for c in r.cells)
    html = path(demo, "html").read_text()
    assert len(d.tables) == html.count("<table>")
    # Every chart of the HTML is a picture here.
    assert len(d.inline_shapes) == html.count('<svg class="chart"') >= 7
    for section in d.sections:
        assert section.header.paragraphs[0].text == "OFFICIAL-SENSITIVE"
        assert section.footer.paragraphs[0].text.startswith("OFFICIAL-SENSITIVE")
        assert PERIOD in section.footer.paragraphs[0].text
    # The commentary is there, as text.
    assert any("Synthetic data" in p.text for p in d.paragraphs)

    # LibreOffice opens it without repair and converts it to PDF.
    out = tmp_path / "pdf"
    r = subprocess.run(
        [soffice(), "--headless", "--norestore", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
         "--convert-to", "pdf", "--outdir", str(out), str(path(demo, "docx"))],
        capture_output=True, text=True, timeout=180,
    )
    pdf = out / f"report-885-{PERIOD}.pdf"
    assert r.returncode == 0 and pdf.exists(), r.stdout + r.stderr
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 50_000


def test_content_reads_as_the_model_report_has_it(demo):
    """The exploitation section leads with the model's five rows and folds the other factors
    away (none recorded in either period left out); feedback has its year-earlier column; a
    breakdown whose total repeats a headline is not a second headline line; an internal report
    for people shows a dash, not z, where there is nothing to divide by."""
    html = path(demo, "html").read_text()
    doc = report(demo)
    ex = html[html.index('<section id="exploitation"'):html.index("</section>", html.index('<section id="exploitation"'))]
    first = re.search(r"<table>.*?</table>", ex, flags=re.S).group(0)
    assert re.findall(r'<th scope="row">(.*?)</th>', first) == [
        "Child sexual exploitation", "Child criminal exploitation", "Going or being missing", "Gangs", "Trafficking",
    ]
    assert "<details><summary>Other factors identified at the end of assessment" in ex
    factors = measure(doc, "frontdoor.assessment_factors")
    earlier = {r["key"]: r["value"] for r in factors["year_earlier"]["rows"]}
    empty = [r for r in factors["rows"] if r["value"] == 0 and earlier.get(r["key"], 0) == 0 and r["key"] not in ("11A", "24A", "10A", "13A", "12A")]
    if empty:
        assert f"{len(empty)} other factor(s) were recorded at no assessment" in ex
        for r in empty:
            assert f'<th scope="row">{r["label"]}</th>' not in ex

    md = path(demo, "md").read_text()
    feedback = md[md.index("### Service-user feedback"):]
    line = next(l for l in feedback.splitlines() if l.startswith("| Parent:"))
    assert re.match(r".*\| [0-9.]+ \|$", line), line  # the same month a year earlier

    fd = md[md.index("## Analysis - Family Front Door"):md.index("## Analysis - Child Protection")]
    summary = fd[fd.index("| Measure |"):]
    summary = summary[: summary.index("\n\n")]
    assert "| Referrals |" in summary and "| Referrals by source |" not in summary

    assert "<td>z</td>" not in html and "| z |" not in md
    assert "–: no value, nothing to divide by" in html
    assert "z: not applicable" in path(demo, "html", published=True).read_text()


def test_published_html_shows_no_count_of_one_to_five(demo):
    html = path(demo, "html", published=True).read_text()
    assert "Published figures" in html
    assert ">c<" in html


def chromium():
    return program(("chromium", "chromium-browser", "google-chrome"), "the HTML report test", "chromium")


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


def test_headline_page_comes_first_with_arrows_words_colours_and_benchmarks(demo, tmp_path):
    """The headline page is the first section of the HTML and the Markdown: each figure with its
    arrow and the word for it, better/worse coloured only where the measure has a direction, and
    its position against England; a screenshot of it is kept for a person to look at."""
    html = path(demo, "html").read_text()
    doc = report(demo)
    head = html[html.index('<section class="headline"'):html.index("</section>", html.index('<section class="headline"'))]
    assert html.index('id="headline"') < html.index('class="data"') < html.index('id="frontdoor"')
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", head, flags=re.S)
    assert 10 <= len(rows) <= 15, len(rows)
    for r in rows:
        assert re.search(r"[▲▼▶] (up|down|no change)|no comparison", r), r
    # Colour follows the judgement and is never alone: every coloured cell says better or worse.
    for cls, word in (("better", "better"), ("worse", "worse")):
        for cell in re.findall(rf'<td class="{cls}">(.*?)</td>', head):
            assert word in cell, cell
    # A volume is never judged.
    referrals = next(r for r in rows if "Referrals<" in r)
    assert "better" not in referrals and "worse" not in referrals
    # Re-referrals: judged against England by its direction (lower is better).
    m = measure(doc, "frontdoor.rereferrals_12m")
    assert m["direction"] == "lower_is_better"
    rr = next(r for r in rows if "Re-referrals" in r)
    england = m["benchmarks"]["england"]
    expected = "below" if m["value"] < england else "above"
    assert f"{expected} ({england:.1f}%, {m['benchmarks']['year']}): {'better' if expected == 'below' else 'worse'}" in rr
    # The demo's headline commentary opens the page; its figure's own line is in its row.
    assert doc["commentary"]["headline"].split(".")[0] in head
    assert "A headline figure" in next(r for r in rows if "Repeat CP plans" in r)
    md = path(demo, "md").read_text()
    assert md.index("## Headline figures") < md.index("## Analysis - Family Front Door")

    png = tmp_path / "headline.png"
    subprocess.run(
        [
            chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium-profile'}", "--hide-scrollbars",
            "--window-size=1200,1400", f"--screenshot={png}", path(demo, "html").as_uri(),
        ],
        check=True, capture_output=True, timeout=120,
    )
    shutil.copy(png, ROOT / "target" / "headline-screenshot.png")  # for a person to look at
    from PIL import Image

    colours = dict((c, n) for n, c in Image.open(png).convert("RGB").getcolors(maxcolors=1 << 24))
    green, red = colours.get((0x00, 0x70, 0x3C), 0), colours.get((0xD4, 0x35, 0x1C), 0)
    assert green > 200 or red > 200, (green, red)


def test_a_report_on_nothing_held_has_no_figure_in_any_file(tmp_path):
    """An empty suite's report, as `csc report` writes each file: every section no_data, the JSON
    valid against the schema, and not one number in the workbook's section sheets or the CSV, so
    no zero stands in for data that is not there; `csc report` exits 4 without --allow-partial."""
    import openpyxl
    import jsonschema
    from conftest import free_port

    ports = {s: f"127.0.0.1:{free_port()}" for s in ("frontdoor", "protection", "placements", "finance", "aggregator", "intake")}
    addr_flags = [a for s, addr in ports.items() for a in (f"--{s}", addr)]
    env = dict(os.environ, CSC_DATA_DIR=str(tmp_path / "data"))
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([csc_binary(), "serve", "all", "--data-dir", str(tmp_path / "data"), *addr_flags], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        for _ in range(300):
            ok = subprocess.run([csc_binary(), "health", "--addr", ports["aggregator"]], capture_output=True, env=env)
            if ok.returncode == 0:
                break
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            subprocess.run(["sleep", "0.1"])

        def report(out, *extra):
            return subprocess.run(
                [csc_binary(), "report", "--la", "885", "--period", PERIOD, "--out", str(tmp_path / out), *extra, "--aggregator", ports["aggregator"]],
                capture_output=True, text=True, env=env, timeout=120,
            )

        # Asked at once: the aggregator may still be loading its reference tables (UNAVAILABLE,
        # with RetryInfo), which `csc report` waits out.
        r = report("r.json")
        assert r.returncode == 4, r.stdout + r.stderr
        assert "Family Front Door (no data)" in r.stderr
        for out in ("r.xlsx", "r.csv"):
            r = report(out, "--allow-partial")
            assert r.returncode == 0, r.stdout + r.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()

    doc = json.loads((tmp_path / "r.json").read_text())
    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)
    assert {s["status"] for s in doc["sections"]} == {"no_data"}
    assert all(s["data"]["records"] and not any(s["data"]["records"].values()) for s in doc["sections"])

    wb = openpyxl.load_workbook(tmp_path / "r.xlsx", read_only=True)
    for sheet in wb.sheetnames[1:]:
        cells = [v for row in wb[sheet].iter_rows(values_only=True) for v in row if v is not None]
        if sheet in [s["title"] for s in doc["sections"]]:
            assert any(str(v).startswith("No figures (no_data)") for v in cells), sheet
        numbers = [v for v in cells if isinstance(v, (int, float))]
        assert numbers == [], f"{sheet}: {numbers}"

    with open(tmp_path / "r.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(doc["sections"])
    for row in rows:
        assert row["section_status"] == "no_data" and row["measure_id"] == "" and row["value"] == ""
