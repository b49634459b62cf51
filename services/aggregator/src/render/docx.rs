//! The report as a Word document, for committee papers: the headline page, then each section as
//! the HTML has it (heading, standing, commentary, notes, the headline table, the charts as
//! pictures, each breakdown's table), with the protective marking in the header and footer —
//! OFFICIAL-SENSITIVE for an internal report (real small numbers about children), OFFICIAL for a
//! published one. Written with docx-rs; the charts are the HTML's own SVGs rendered to PNG with
//! resvg, their text in a font compiled in (assets/README.md), so they read the same anywhere.

use anyhow::Context as _;
use docx_rs::{
    AlignmentType, BreakType, Docx, Footer, Header, PageMargin, Paragraph, Pic, Run, Shading,
    Style, StyleType, Table, TableCell, TableRow, WidthType,
};
use resvg::{tiny_skia, usvg};

use super::{charts, headline, tabular};
use crate::domain::{direction::Judgement, headline::headlines, report::Report};

/// The font the charts' text is drawn in.
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans-subset.ttf");
const FONT_FAMILY: &str = "DejaVu Sans";

/// A4, in twentieths of a point, with 2 cm margins: the text is 9,638 twips (6.7 in) wide.
const PAGE_W: u32 = 11_906;
const PAGE_H: u32 = 16_838;
const MARGIN: i32 = 1_134;
const TEXT_W: usize = 9_638;
/// The widest a chart is shown, in pixels at 96 per inch (the text's width).
const MAX_CHART_PX: f32 = 640.0;

const BLUE: &str = "1D70B8";
const GREY: &str = "505A5F";
const GREEN: &str = "00703C";
const RED: &str = "D4351C";

/// The protective marking of a report: what the Government Security Classifications call an
/// internal report about identifiable small numbers of children, and a published one.
pub fn marking(published: bool) -> &'static str {
    if published {
        "OFFICIAL"
    } else {
        "OFFICIAL-SENSITIVE"
    }
}

/// Text as Word can hold it: XML 1.0 allows no control character but tab and line breaks.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\t' | '\n'))
        .collect()
}

/// A run of text, its line breaks kept as breaks.
fn run(text: &str) -> Run {
    let text = clean(text);
    let mut r = Run::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            r = r.add_break(BreakType::TextWrapping);
        }
        r = r.add_text(line);
    }
    r
}

fn para(text: &str) -> Paragraph {
    Paragraph::new().add_run(run(text))
}

fn styled(style: &str, text: &str) -> Paragraph {
    para(text).style(style)
}

fn note(text: &str) -> Paragraph {
    Paragraph::new().add_run(run(text).italic().color(GREY).size(18))
}

/// Commentary as paragraphs (separated by a blank line), each line kept.
fn commentary(c: &str) -> Vec<Paragraph> {
    c.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| para(p.trim()))
        .collect()
}

/// A table with a shaded, bold header row that is never split from the next, the first column
/// (the rows' names) and any text column left-aligned, numbers right. Column widths in
/// proportion to `weights` (one per column), else the first a third and the rest shared.
fn table(
    headers: &[String],
    rows: &[Vec<String>],
    weights: &[usize],
    cell_colour: impl Fn(usize, usize) -> Option<&'static str>,
) -> Table {
    let n = headers.len().max(1);
    let grid: Vec<usize> = if weights.len() == n {
        let total: usize = weights.iter().sum::<usize>().max(1);
        weights.iter().map(|w| TEXT_W * w / total).collect()
    } else {
        let first = if n == 1 { TEXT_W } else { TEXT_W / 3 };
        let rest = if n > 1 { (TEXT_W - first) / (n - 1) } else { 0 };
        (0..n).map(|i| if i == 0 { first } else { rest }).collect()
    };
    let cell = |text: &str, i: usize, header: bool, colour: Option<&str>| {
        let mut r = run(text).size(18);
        if header {
            r = r.bold();
        }
        if let Some(c) = colour {
            r = r.color(c).bold();
        }
        let align = if i == 0 || header || headers.get(i).is_some_and(|h| h == "Commentary") {
            AlignmentType::Left
        } else {
            AlignmentType::Right
        };
        let mut c = TableCell::new()
            .add_paragraph(Paragraph::new().add_run(r).align(align))
            .width(grid[i.min(n - 1)], WidthType::Dxa);
        if header {
            c = c.shading(Shading::new().fill("F3F2F1"));
        }
        c
    };
    let mut out = vec![
        TableRow::new(
            headers
                .iter()
                .enumerate()
                .map(|(i, h)| cell(h, i, true, None))
                .collect(),
        )
        .cant_split(),
    ];
    for (r, row) in rows.iter().enumerate() {
        out.push(TableRow::new(
            row.iter()
                .enumerate()
                .map(|(i, t)| cell(t, i, false, cell_colour(r, i)))
                .collect(),
        ));
    }
    Table::new(out).set_grid(grid).width(TEXT_W, WidthType::Dxa)
}

/// An SVG chart as a PNG at twice its size, with the size to show it at (pixels at 96 per inch,
/// at most the text's width).
fn png(svg: &str) -> anyhow::Result<(Vec<u8>, u32, u32)> {
    // The font is parsed once per process, not once per chart.
    static FONTS: std::sync::OnceLock<std::sync::Arc<usvg::fontdb::Database>> =
        std::sync::OnceLock::new();
    let fontdb = FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_font_data(FONT.to_vec());
            std::sync::Arc::new(db)
        })
        .clone();
    let opt = usvg::Options {
        font_family: FONT_FAMILY.into(),
        fontdb,
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &opt).context("reading a chart's SVG")?;
    let size = tree.size();
    let scale = 2.0;
    let (w, h) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    let mut pixmap =
        tiny_skia::Pixmap::new(w.max(1), h.max(1)).context("a chart too large to draw")?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    let bytes = pixmap.encode_png().context("encoding a chart as PNG")?;
    let shrink = (MAX_CHART_PX / size.width()).min(1.0);
    Ok((
        bytes,
        (size.width() * shrink).round() as u32,
        (size.height() * shrink).round() as u32,
    ))
}

/// A picture of `w` × `h` pixels (96 per inch) from a PNG drawn at any resolution.
fn picture(png: Vec<u8>, w: u32, h: u32) -> Pic {
    const EMU_PER_PX: u32 = 9_525;
    Pic::new_with_dimensions(png, w, h).size(w * EMU_PER_PX, h * EMU_PER_PX)
}

fn colour(j: Option<Judgement>) -> Option<&'static str> {
    match j {
        Some(Judgement::Better) => Some(GREEN),
        Some(Judgement::Worse) => Some(RED),
        _ => None,
    }
}

pub fn docx(report: &Report) -> anyhow::Result<Vec<u8>> {
    let title = report.title();
    let mark = marking(report.published);
    let marking_para = |extra: &str| {
        Paragraph::new()
            .add_run(Run::new().add_text(mark).bold().size(20))
            .add_run(Run::new().add_text(clean(extra)).size(16).color(GREY))
            .align(AlignmentType::Center)
    };
    let mut doc = Docx::new()
        .page_size(PAGE_W, PAGE_H)
        .page_margin(
            PageMargin::new()
                .top(MARGIN)
                .bottom(MARGIN)
                .left(MARGIN)
                .right(MARGIN),
        )
        .add_style(
            Style::new("Title", StyleType::Paragraph)
                .name("Title")
                .size(40)
                .bold(),
        )
        .add_style(
            Style::new("Heading1", StyleType::Paragraph)
                .name("Heading 1")
                .size(30)
                .bold()
                .color(BLUE)
                .outline_lvl(0),
        )
        .add_style(
            Style::new("Heading2", StyleType::Paragraph)
                .name("Heading 2")
                .size(24)
                .bold()
                .outline_lvl(1),
        )
        .add_style(
            Style::new("Caption", StyleType::Paragraph)
                .name("Caption")
                .size(18)
                .italic()
                .color(GREY),
        )
        .header(Header::new().add_paragraph(marking_para("")))
        .footer(Footer::new().add_paragraph(marking_para(&format!(
            "  ·  {title} ({} to {})",
            report.period.start, report.period.end
        ))));

    doc = doc.add_paragraph(styled("Title", &title));
    doc = doc.add_paragraph(note(&format!(
        "LA {} · {} to {} · generated {} · report {} · requested by {}",
        report.la_code,
        report.period.start,
        report.period.end,
        report.generated_at,
        report.report_id,
        report.requested_by
    )));
    doc = doc.add_paragraph(para(&super::marks_key(report)));

    // The headline page.
    doc = doc.add_paragraph(styled("Heading1", "Headline figures"));
    if let Some(c) = headline::opening(report) {
        for p in commentary(c) {
            doc = doc.add_paragraph(p);
        }
    }
    let hs = headlines(report);
    if hs.is_empty() {
        doc = doc.add_paragraph(para(
            "None of the headline figures could be composed: see the sections below.",
        ));
    } else {
        let rows: Vec<Vec<String>> = hs.iter().map(|h| headline::row(h, &hs)).collect();
        let judged: Vec<[Option<Judgement>; 3]> = hs
            .iter()
            .map(|h| {
                [
                    h.travel.map(|t| t.1),
                    h.england.map(|p| p.judgement),
                    h.statistical_neighbours.map(|p| p.judgement),
                ]
            })
            .collect();
        // Measure, three periods, travel, two positions (and commentary): the words get room.
        let with = headline::with_commentary(&hs);
        let group = headline::group_title(&hs).is_some();
        let weights: &[usize] = match (group, with) {
            (false, true) => &[20, 11, 8, 8, 10, 13, 13, 17],
            (false, false) => &[24, 13, 10, 10, 12, 15, 16],
            (true, true) => &[17, 10, 7, 7, 9, 12, 12, 12, 14],
            (true, false) => &[20, 11, 9, 9, 11, 13, 13, 14],
        };
        doc = doc.add_table(table(
            &headline::headers(report, &hs),
            &rows,
            weights,
            |r, i| match i {
                4..=6 => colour(judged[r][i - 4]),
                _ => None,
            },
        ));
        doc = doc.add_paragraph(note(headline::KEY));
    }

    doc = doc.add_paragraph(styled("Heading1", "The data this report rests on"));
    for line in super::front_matter(report) {
        doc = doc.add_paragraph(para(&format!("• {line}")));
    }

    for s in &report.sections {
        doc = doc.add_paragraph(
            styled("Heading1", &format!("Analysis - {}", s.title)).page_break_before(true),
        );
        if let Some(t) = super::standing_text(s.status) {
            doc = doc.add_paragraph(Paragraph::new().add_run(run(t).bold().color(RED)));
        }
        if let Some(c) = &s.commentary {
            for p in commentary(c) {
                doc = doc.add_paragraph(p);
            }
        }
        for n in &s.notes {
            doc = doc.add_paragraph(note(n));
        }
        if let Some(d) = super::data_text(s) {
            doc = doc.add_paragraph(note(&d));
        }
        let heads = super::summary_measures(s);
        if !heads.is_empty() {
            let (h, r) = tabular::summary(report, &heads);
            doc = doc.add_paragraph(styled(
                "Caption",
                &format!("{}: headline measures", s.title),
            ));
            doc = doc.add_table(table(&h, &r, &[], |_, _| None));
            for n in super::summary_notes(&heads) {
                doc = doc.add_paragraph(note(n));
            }
            if let Some((h, r)) = tabular::neighbours_table(&heads) {
                doc = doc.add_paragraph(styled(
                    "Caption",
                    &format!("{}: statistical neighbours' published figures", s.title),
                ));
                doc = doc.add_table(table(&h, &r, &[], |_, _| None));
            }
        }
        for c in charts::charts(report, s) {
            let (png, w, h) = png(&c.svg.into_string())?;
            doc = doc
                .add_paragraph(Paragraph::new().add_run(Run::new().add_image(picture(png, w, h))))
                .add_paragraph(styled("Caption", c.caption));
        }
        for m in s.measures.iter().filter(|m| !m.rows.is_empty()) {
            for p in tabular::parts(m) {
                let (mut h, r) = tabular::breakdown(m, &p.rows);
                h[0] = String::new();
                doc = doc.add_paragraph(styled("Heading2", &p.title));
                doc = doc.add_table(table(&h, &r, &[], |_, _| None));
                if let Some(n) = &p.note {
                    doc = doc.add_paragraph(note(n));
                }
            }
        }
    }

    let mut out = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut out)
        .context("writing the Word document")?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chart text is drawn with the compiled-in font: a chart with labels has dark pixels
    /// where its text is, and the same chart without its text has none there.
    #[test]
    fn charts_render_to_png_with_their_text() {
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40" viewBox="0 0 200 40"><text x="4" y="28" font-size="24">Referrals 1,234</text></svg>"##;
        let (bytes, w, h) = png(svg).unwrap();
        assert_eq!((w, h), (200, 40));
        assert!(bytes.starts_with(&[137, 80, 78, 71]), "a PNG");
        let drawn = tiny_skia::Pixmap::decode_png(&bytes).unwrap();
        let dark = drawn.pixels().iter().filter(|p| p.red() < 128).count();
        assert!(dark > 200, "the text is drawn: {dark} dark pixels");
        let blank = svg.replace("Referrals 1,234", "");
        let (bytes, ..) = png(&blank).unwrap();
        let none = tiny_skia::Pixmap::decode_png(&bytes).unwrap();
        assert_eq!(none.pixels().iter().filter(|p| p.red() < 128).count(), 0);
    }

    /// The marking follows publication: OFFICIAL-SENSITIVE inside, OFFICIAL once published, in
    /// both the header and the footer.
    #[test]
    fn the_protective_marking_follows_publication() {
        use std::io::Read;
        let mut report: Report = serde_json::from_value(serde_json::json!({
            "la_code": "885",
            "period": { "id": "2018-19-Q1", "start": "2018-04-01", "end": "2018-06-30" },
            "generated_at": "", "published": false, "sections": []
        }))
        .unwrap();
        let part = |report: &Report, name: &str| {
            let bytes = docx(report).unwrap();
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
            let mut s = String::new();
            zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
            s
        };
        for name in ["word/header1.xml", "word/footer1.xml"] {
            assert!(
                part(&report, name).contains(">OFFICIAL-SENSITIVE<"),
                "{name}"
            );
        }
        report.publish();
        for name in ["word/header1.xml", "word/footer1.xml"] {
            let xml = part(&report, name);
            assert!(
                xml.contains(">OFFICIAL<") && !xml.contains("SENSITIVE"),
                "{name}"
            );
        }
    }

    #[test]
    fn text_word_cannot_hold_is_dropped_and_line_breaks_kept() {
        assert_eq!(clean("a\u{0}b\u{b}c\td\ne"), "abc\td\ne");
    }
}
