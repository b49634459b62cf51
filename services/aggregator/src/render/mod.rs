//! The report rendered for people and other systems: JSON (the contract of MEASURES.md), HTML
//! (one self-contained file with charts), Markdown, XLSX (a sheet per section) and CSV (one row
//! per measure or breakdown row). Every renderer reads the same [`Report`], so what each shows
//! cannot drift apart, and a kept report renders again exactly as it was.

mod charts;
mod docx;
pub mod group;
pub mod headline;
mod html;
mod svg;
mod tabular;
mod xlsx;

use csc_core::{Unit, measure::Num};

use crate::domain::{
    cells::{Cell, SUPPRESSED},
    report::{Report, ReportMeasure, Section},
    sections::SectionStatus,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Html,
    Markdown,
    Xlsx,
    Csv,
    Docx,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Html => "text/html; charset=utf-8",
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Html => "html",
            Format::Markdown => "md",
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
            Format::Docx => "docx",
        }
    }

    pub const ALL: [Format; 6] = [
        Format::Html,
        Format::Markdown,
        Format::Json,
        Format::Xlsx,
        Format::Csv,
        Format::Docx,
    ];
}

/// What a reader must know first about a section that is not `ok` (its notes say why).
pub(crate) fn standing_text(status: SectionStatus) -> Option<&'static str> {
    match status {
        SectionStatus::Ok => None,
        SectionStatus::Partial => Some(
            "Partial data: what is held does not cover the whole period or a look-back its measures need; the notes say what is short, and the figures count only what is held.",
        ),
        SectionStatus::NoData => Some(
            "No data: nothing is held for this period, so no figures are shown (none is zero).",
        ),
        SectionStatus::Unavailable => Some(
            "This section is unavailable: its service could not be reached when the report was generated.",
        ),
    }
}

/// What a section's figures rest on, in one line: the span of the data held and the records and
/// imports behind it.
pub(crate) fn data_text(s: &crate::domain::report::Section) -> Option<String> {
    let d = s.data.as_ref()?;
    let span = match (d.from, d.to) {
        (Some(f), Some(t)) => format!("data held from {f} to {t}"),
        _ => "no data held".to_owned(),
    };
    let records: Vec<String> = d
        .records
        .iter()
        .map(|(k, n)| format!("{} {}", number(*n as f64), k.replace('_', " ")))
        .collect();
    let last = d.imports.first().map(|i| {
        format!(
            "; last import {} ({}), {} import(s) in all",
            i.imported_at,
            i.file,
            d.imports.len()
        )
    });
    let refused = if d.refused > 0 {
        format!("; {} record(s) refused at import", number(d.refused as f64))
    } else {
        String::new()
    };
    Some(format!(
        "Rests on: {span} ({} service: {}){}{refused}.",
        d.service,
        records.join(", "),
        last.unwrap_or_else(|| "; no imports recorded".into())
    ))
}

/// The report's front matter: what it rests on, one line per domain service, in section order —
/// the span of the data held, the imports (the latest named) and the records they refused, or why
/// there is nothing to say.
pub(crate) fn front_matter(report: &Report) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for s in &report.sections {
        let service = match &s.data {
            Some(d) => d.service.as_str(),
            None => service_of_section(&s.id),
        };
        if seen.contains(&service) {
            continue;
        }
        seen.push(service);
        let line = match &s.data {
            None if s.status == SectionStatus::Unavailable => {
                "not reached when the report was generated".into()
            }
            None => "did not say what data it holds".into(),
            Some(d) => {
                let held: i64 = d.records.values().sum();
                let span = match (d.from, d.to) {
                    _ if held == 0 => "no records held".to_owned(),
                    (Some(f), Some(t)) => format!("data from {f} to {t}"),
                    _ => format!(
                        "{} records, none of this report's kinds",
                        number(held as f64)
                    ),
                };
                let imports = match d.imports.first() {
                    Some(last) => format!(
                        "; {} import(s), the latest {} ({})",
                        d.imports.len(),
                        last.imported_at,
                        last.file
                    ),
                    None => "; no imports recorded".to_owned(),
                };
                let refused = if d.refused > 0 {
                    format!("; {} record(s) refused at import", number(d.refused as f64))
                } else {
                    String::new()
                };
                format!("{span}{imports}{refused}")
            }
        };
        out.push(format!("{service}: {line}"));
    }
    out
}

/// The domain service a section's figures come from.
fn service_of_section(id: &str) -> &'static str {
    crate::domain::sections::SECTIONS
        .iter()
        .find(|d| d.id == id)
        .map_or("", |d| d.service.name())
}

thread_local! {
    /// How a figure with no value reads in the rendering under way: [`render`] sets it for the
    /// length of one (synchronous) rendering, so the many table helpers need not carry it.
    static NO_VALUE: std::cell::Cell<&'static str> = const { std::cell::Cell::new("z") };
}

/// How a figure with no value (nothing to divide by) reads in `format`. An internal report for
/// people (HTML, Markdown, Word) shows a dash: an average over no placements is not £0, and `z`
/// means nothing to a head of service. Published output keeps the DfE's `z` ("not applicable"),
/// as the machine formats (CSV, XLSX, JSON's `null`) do everywhere: MEASURES.md's convention.
pub fn no_value_marker(published: bool, format: Format) -> &'static str {
    match format {
        Format::Html | Format::Markdown | Format::Docx if !published => NO_VALUE_DASH,
        _ => "z",
    }
}

/// The internal reading formats' mark of a figure with no value.
pub const NO_VALUE_DASH: &str = "–";

/// The key to the marks of a reading format's figures, as its front matter prints it.
pub(crate) fn marks_key(report: &Report) -> String {
    if report.published {
        "Published figures: counts of 1 to 5, and figures computed from them, are shown as c; \
         z: not applicable (nothing to divide by), as in the DfE's tables."
            .into()
    } else {
        format!(
            "Internal: real numbers, not for publication. {NO_VALUE_DASH}: no value, nothing to \
             divide by (a category with no placements has no average cost; it is not £0)."
        )
    }
}

/// The report in `format`.
pub fn render(report: &Report, format: Format) -> anyhow::Result<Vec<u8>> {
    let before = NO_VALUE.replace(no_value_marker(report.published, format));
    let out = render_as(report, format);
    NO_VALUE.set(before);
    out
}

fn render_as(report: &Report, format: Format) -> anyhow::Result<Vec<u8>> {
    Ok(match format {
        Format::Json => {
            let mut v = serde_json::to_vec_pretty(report)?;
            v.push(b'\n');
            v
        }
        Format::Html => html::render(report).into_bytes(),
        Format::Markdown => tabular::markdown(report).into_bytes(),
        Format::Csv => tabular::csv(report)?,
        Format::Xlsx => xlsx::xlsx(report)?,
        Format::Docx => docx::docx(report)?,
    })
}

pub use csc_core::text::number;

/// Any of a report's figures (a count, a percentage, money in pence) as a renderer reads it.
pub type Figure = Option<Cell<Num>>;

/// A figure of any kind as a [`Figure`].
pub fn fig<T>(c: Option<Cell<T>>) -> Figure
where
    Cell<Num>: From<Cell<T>>,
{
    c.map(Cell::from)
}

/// A figure's number, for charts: pounds for money.
pub(crate) fn num(c: Figure) -> Option<f64> {
    c?.as_f64()
}

/// Money as a council prints it, exactly from its pence: `3,418`, `17,188.20`.
pub fn pounds(c: Figure) -> String {
    match c {
        Some(Cell::Number(Num::Pence(p))) => csc_core::text::pounds(p),
        other => cell(other),
    }
}

/// One figure as text: a number, no value (`z`, or `–` in an internal report for people:
/// [`no_value_marker`]), `c` (suppressed), or empty (not there).
pub fn cell(c: Figure) -> String {
    match c {
        None => String::new(),
        Some(Cell::NoValue) => NO_VALUE.get().into(),
        Some(Cell::Suppressed) => SUPPRESSED.into(),
        Some(Cell::Number(n)) => number(n.as_f64()),
    }
}

/// A figure with its unit: `£3,418`, `16.5%` (a percentage always to 1 dp: `21.0%`), `1,234`.
pub(crate) fn shown(c: Figure, unit: Unit, percent: bool) -> String {
    match c {
        Some(Cell::Number(_)) if unit.is_money() => format!("£{}", pounds(c)),
        Some(Cell::Number(n)) if percent => format!("{}%", csc_core::text::fixed(n.as_f64(), 1)),
        _ => cell(c),
    }
}

/// A number in a measure's unit and places: a published benchmark beside its figure (a
/// neighbours' median of 19.75% beside 19.9% reads 19.8%), or the figure itself.
pub(crate) fn benchmark_text(m: &ReportMeasure, v: f64) -> String {
    let n = match m.decimals() {
        Some(dp) => csc_core::text::fixed(v, dp),
        None => number(v),
    };
    match m.unit {
        Unit::Ratio => format!("{n}%"),
        u if u.is_money() => format!("£{n}"),
        _ => n,
    }
}

/// A measure's figure (its own or another period's) with its unit and places: `£3,418`,
/// `21.0%`, `44.0` (a CP rate), `64` (a looked-after rate), `1,234`.
pub(crate) fn value_text(m: &ReportMeasure, c: Figure) -> String {
    match c {
        Some(Cell::Number(n)) if m.decimals().is_some() && !m.unit.is_money() => {
            benchmark_text(m, n.as_f64())
        }
        _ => shown(c, m.unit, m.unit == Unit::Ratio),
    }
}

/// The headline of a measure's figures: `16.5% (203 of 1,234)`, `42.7 (500 of 117,000)`,
/// `£789 (number: 232)`, `1,234`.
pub(crate) fn headline(m: &ReportMeasure) -> String {
    let c = &m.cells;
    let v = value_text(m, c.value);
    if m.unit.is_money() {
        return match c.denominator {
            Some(_) => format!("{v} (number: {})", cell(fig(c.denominator))),
            None => v,
        };
    }
    if m.unit == Unit::RatePer10k || c.is_ratio() {
        format!(
            "{v} ({} of {})",
            cell(fig(c.numerator)),
            cell(fig(c.denominator))
        )
    } else {
        v
    }
}

/// Whether a measure has one headline figure (rather than only a breakdown).
pub(crate) fn has_headline(m: &ReportMeasure) -> bool {
    m.cells.value.is_some() || m.cells.is_ratio()
}

/// Breakdowns whose total is, by definition, another measure of the same section: their line
/// in a section's headline table would repeat it, so the table shows it once (the breakdown's
/// own table follows).
const REPEATS: [(&str, &str); 4] = [
    ("frontdoor.referrals_by_source", "frontdoor.referrals"),
    (
        "frontdoor.assessment_duration_bands",
        "frontdoor.assessments_completed",
    ),
    (
        "placements.social_workers_per_child",
        "placements.cla_at_end",
    ),
    ("placements.placement_type_mix", "placements.cla_at_end"),
];

/// The measures of a section's headline table: those with a headline figure that is not
/// another's over again.
pub(crate) fn summary_measures(s: &Section) -> Vec<&ReportMeasure> {
    s.measures
        .iter()
        .filter(|m| has_headline(m))
        .filter(|m| {
            !REPEATS
                .iter()
                .any(|(id, same)| m.id == *id && s.measures.iter().any(|x| x.id == *same))
        })
        .collect()
}

/// What a reader of a section's headline table must know to read two lines that look alike.
pub(crate) fn summary_notes(heads: &[&ReportMeasure]) -> Vec<&'static str> {
    let has = |id: &str| heads.iter().any(|m| m.id == id);
    let mut out = Vec::new();
    if has("protection.cp_open_at_end") && has("protection.cp_children_at_end") {
        out.push(
            "Plans open counts plans and children on a plan counts children: the two differ \
             only when a child has more than one plan open.",
        );
    }
    out
}

pub(crate) fn is_suppressed(c: Figure) -> bool {
    c.is_some_and(Cell::is_suppressed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Markdown renders user text as text: no tag, script, link or image survives from
    /// commentary, notes, labels or category names.
    #[test]
    fn markdown_neutralises_hostile_text() {
        let report: Report = serde_json::from_value(serde_json::json!({
            "la_code": "885",
            "period": { "id": "2026-27-Q2", "start": "2026-07-01", "end": "2026-09-30" },
            "generated_at": "", "published": false, "report_id": "", "requested_by": "",
            "sections": [{
                "id": "costs", "title": "Placement Costs", "status": "ok",
                "commentary": "<script>alert(1)</script>\n\n[click](javascript:alert(2))",
                "notes": ["![x](http://evil.example/x.png) from file <b>f.csv</b>"],
                "measures": [{
                    "id": "finance.weekly_cost_by_category", "label": "<img src=x onerror=alert(3)>",
                    "unit": "count",
                    "rows": [{ "key": "k", "label": "[a](javascript:alert(4)) | cell", "value": 3 }]
                }]
            }]
        }))
        .unwrap();
        let md = String::from_utf8(render(&report, Format::Markdown).unwrap()).unwrap();
        for bad in ["<script", "<img", "<b>"] {
            assert!(!md.contains(bad), "{bad} in:\n{md}");
        }
        // Every `](` a link or an image would need has its bracket escaped.
        for (at, _) in md.match_indices("](") {
            assert_eq!(&md[at - 1..at], "\\", "an unescaped link at {at}:\n{md}");
        }
        assert!(md.contains("\\!\\[x\\]("), "{md}");
        assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{md}");
        assert!(md.contains("\\[a\\](javascript:alert(4)) \\| cell"), "{md}");
    }

    /// Hostile text, one kind per field: formulas, markup breaking out of an attribute, script,
    /// Markdown links and images, and characters that mean something to each format.
    const HOSTILE: [&str; 8] = [
        "=cmd|' /C calc'!A0",
        "\"><img src=x onerror=alert(1)>",
        "<script>alert(2)</script>",
        "[click](javascript:alert(3))",
        "+SUM(1)*2",
        "@evil & ![x](http://evil.example/x.png)",
        "-2+3 | `code` *em* # h\u{1}\u{b}",
        "\t=HYPERLINK(\"http://evil\")",
    ];

    /// A report whose every free-text field holds hostile text.
    fn hostile_report() -> Report {
        let h = |i: usize| HOSTILE[i % HOSTILE.len()];
        serde_json::from_value(serde_json::json!({
            "la_code": "885", "la_name": h(0),
            "period": { "id": "2026-27-Q2", "start": "2026-07-01", "end": "2026-09-30" },
            "generated_at": "2026-10-01T00:00:00Z", "published": false,
            "report_id": "r1", "requested_by": h(1),
            "commentary": { "headline": format!("{}\n\n{}", h(2), h(3)) },
            "sections": [{
                "id": "costs", "title": h(2), "status": "partial",
                "data": {
                    "service": "finance", "from": "2026-07-01", "to": "2026-09-30",
                    "records": { "commitments": 3 },
                    "imports": [{ "source": "costs", "file": h(3), "imported_at": "2026-10-01T00:00:00Z",
                                  "accepted": 3, "refused": 1 }],
                    "refused": 1
                },
                "commentary": format!("{}\n\n{}", h(4), h(5)),
                "notes": [h(6), h(7)],
                "measures": [{
                    "id": "finance.weekly_cost_by_category", "label": h(1), "unit": "count",
                    "value": 3,
                    "rows": [
                        { "key": "a", "label": h(0), "value": 1 },
                        { "key": "b", "label": h(2), "value": 2 },
                        { "key": "c", "label": h(3), "value": -3 }
                    ]
                }]
            }]
        }))
        .unwrap()
    }

    /// The tag names the HTML report is made of: anything else came from text.
    const TAGS: &[&str] = &[
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "h1",
        "h2",
        "h3",
        "p",
        "code",
        "strong",
        "section",
        "ul",
        "li",
        "nav",
        "ol",
        "a",
        "main",
        "div",
        "br",
        "table",
        "caption",
        "thead",
        "tr",
        "th",
        "tbody",
        "td",
        "details",
        "summary",
        "figure",
        "figcaption",
        "svg",
        "desc",
        "text",
        "rect",
        "line",
        "polyline",
        "circle",
    ];

    fn xml_text(s: &str) -> String {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    }

    /// Each string cell of a workbook: its text and whether it carries Excel's quote prefix.
    fn xlsx_strings(bytes: &[u8]) -> Vec<(String, bool)> {
        use std::io::Read;
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut read = |name: &str| {
            let mut s = String::new();
            zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
            s
        };
        let shared: Vec<String> = read("xl/sharedStrings.xml")
            .split("<si>")
            .skip(1)
            .map(|si| {
                let t = &si[si.find("<t").unwrap()..];
                let t = &t[t.find('>').unwrap() + 1..t.find("</t>").unwrap()];
                xml_text(t)
            })
            .collect();
        let styles = read("xl/styles.xml");
        let xfs = &styles[styles.find("<cellXfs").unwrap()..styles.find("</cellXfs>").unwrap()];
        let quoted: Vec<bool> = xfs
            .split("<xf ")
            .skip(1)
            .map(|x| x.split('>').next().unwrap().contains("quotePrefix=\"1\""))
            .collect();
        let names: Vec<String> = zip
            .file_names()
            .filter_map(Result::ok)
            .filter(|n| n.starts_with("xl/worksheets/sheet"))
            .map(|n| n.into_owned())
            .collect();
        let mut out = Vec::new();
        for n in names {
            let mut sheet = String::new();
            zip.by_name(&n).unwrap().read_to_string(&mut sheet).unwrap();
            for c in sheet.split("<c ").skip(1) {
                let head = c.split('>').next().unwrap();
                if !head.contains("t=\"s\"") {
                    continue;
                }
                let style = head
                    .split("s=\"")
                    .nth(1)
                    .map(|x| x.split('"').next().unwrap().parse::<usize>().unwrap())
                    .unwrap_or(0);
                let v = &c[c.find("<v>").unwrap() + 3..c.find("</v>").unwrap()];
                out.push((shared[v.parse::<usize>().unwrap()].clone(), quoted[style]));
            }
        }
        out
    }

    /// Every free-text field holding hostile text, rendered in every format: no markup from
    /// text in HTML or Markdown, no link or image in Markdown, no cell a spreadsheet would run as
    /// a formula in CSV or XLSX, and the JSON carries the text exactly.
    #[test]
    fn every_format_neutralises_hostile_text_in_every_free_text_field() {
        let report = hostile_report();
        let out = |f| render(&report, f).unwrap();

        let html = String::from_utf8(out(Format::Html)).unwrap();
        for (at, _) in html.match_indices('<') {
            let name: String = html[at + 1..]
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
                .collect();
            assert!(
                name == "!DOCTYPE" || TAGS.contains(&name.as_str()),
                "<{name} from text in the HTML: …{}…",
                &html[at.saturating_sub(40)..(at + 60).min(html.len())]
            );
        }
        for (at, _) in html.match_indices("href=\"") {
            assert_eq!(&html[at + 6..at + 7], "#", "a link out of the page at {at}");
        }
        assert!(html.contains("&lt;script&gt;alert(2)&lt;/script&gt;"));
        assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));

        let md = String::from_utf8(out(Format::Markdown)).unwrap();
        assert!(!md.contains('<'), "markup in the Markdown:\n{md}");
        for (at, _) in md.match_indices("](") {
            assert_eq!(&md[at - 1..at], "\\", "an unescaped link at {at}:\n{md}");
        }
        assert!(md.contains("&lt;script&gt;"), "{md}");

        let csv = out(Format::Csv);
        let mut cells = 0;
        for rec in csv::Reader::from_reader(csv.as_slice()).records() {
            for c in rec.unwrap().iter() {
                cells += 1;
                assert!(
                    !csc_core::text::spreadsheet_risky(c),
                    "a formula in the CSV: {c:?}"
                );
            }
        }
        assert!(cells > 20);
        let csv_text = String::from_utf8(csv).unwrap();
        assert!(csv_text.contains("'=cmd|"), "{csv_text}");

        let strings = xlsx_strings(&out(Format::Xlsx));
        let risky: Vec<_> = strings
            .iter()
            .filter(|(t, _)| csc_core::text::spreadsheet_risky(t))
            .collect();
        assert!(risky.len() >= 4, "{strings:?}");
        for (t, quoted) in risky {
            assert!(
                quoted,
                "a formula-like cell without the quote prefix: {t:?}"
            );
        }
        assert!(
            strings
                .iter()
                .all(|(t, q)| *q || !csc_core::text::spreadsheet_risky(t)),
            "{strings:?}"
        );

        // Word: text is XML-escaped text, never markup, and control characters XML forbids are
        // dropped (the document opens).
        let docx = out(Format::Docx);
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
        let mut body = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut body)
            .unwrap();
        assert!(!body.contains("<script") && !body.contains("<img"));
        assert!(body.contains("&lt;script&gt;alert(2)&lt;/script&gt;"));
        assert!(
            !body
                .chars()
                .any(|c| c.is_control() && !"\t\n\r".contains(c))
        );

        let json: Report = serde_json::from_slice(&out(Format::Json)).unwrap();
        assert_eq!(
            json, report,
            "JSON carries text exactly; its readers escape it"
        );
    }

    /// An internal report for people shows a dash where there is nothing to divide by; the
    /// published one, and the machine formats, keep the DfE's z.
    #[test]
    fn no_value_is_a_dash_for_people_inside_and_z_when_published_or_for_machines() {
        let mut report = hostile_report();
        report.sections[0].measures[0].rows[0].cells.value = Some(Cell::NoValue);
        let md = String::from_utf8(render(&report, Format::Markdown).unwrap()).unwrap();
        assert!(md.contains("| – |") || md.contains("| – "), "{md}");
        let csv = String::from_utf8(render(&report, Format::Csv).unwrap()).unwrap();
        assert!(csv.contains(",z,"), "{csv}");
        report.publish();
        let md = String::from_utf8(render(&report, Format::Markdown).unwrap()).unwrap();
        assert!(!md.contains("| – |"), "{md}");
        // The marker does not outlive the rendering.
        assert_eq!(cell(Some(Cell::NoValue)), "z");
    }

    #[test]
    fn numbers_read_as_a_council_report_prints_them() {
        assert_eq!(number(1690.0), "1,690");
        assert_eq!(number(1234567.0), "1,234,567");
        assert_eq!(number(16.5), "16.5");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(-1234.0), "-1,234");
        assert_eq!(number(12345.67), "12,345.67");
        assert_eq!(cell(Some(Cell::NoValue)), "z");
        assert_eq!(cell(Some(Cell::Suppressed)), "c");
        assert_eq!(
            shown(
                Some(Cell::Number(Num::Pence(341_800))),
                Unit::GbpPerWeek,
                false
            ),
            "£3,418"
        );
        assert_eq!(
            shown(Some(Cell::Number(Num::Dec(16.5))), Unit::Ratio, true),
            "16.5%"
        );
        assert_eq!(
            pounds(Some(Cell::Number(Num::Pence(1_718_820)))),
            "17,188.20"
        );
        assert_eq!(pounds(Some(Cell::Number(Num::Pence(341_800)))), "3,418");
        assert_eq!(pounds(Some(Cell::NoValue)), "z");
    }
}
