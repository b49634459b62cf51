//! Small inline SVG charts for the HTML report: drawn on the server, so the file is complete on
//! its own (no scripts, no fetches) and prints as it shows. Each chart has a title and a text
//! description for screen readers; the same figures are in a table beside it.

use maud::{Markup, html};

/// The Government Statistical Service's accessible chart palette: dark blue, orange, turquoise,
/// dark pink. The page's own furniture uses none of them.
pub(crate) const BLUE: &str = "#12436d";
const COLOURS: [&str; 5] = [BLUE, "#f46a25", "#28a197", "#801650", "#4c2c92"];

/// One bar: its label, its length (`None` when the figure is suppressed or missing), and the
/// text written at its end.
pub(crate) struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub text: String,
}

/// A coordinate as the charts write it.
fn c(v: f64) -> String {
    format!("{v:.1}")
}

/// The chart's frame: its title and description (for screen readers), then `body`. Every text
/// goes through maud, which escapes it: a label cannot become markup.
fn chart(w: u32, h: u32, title: &str, desc: &str, body: Markup) -> Markup {
    html! {
        svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {w} {h}"))
            width=(w) height=(h) role="img" aria-label=(title) {
            title { (title) }
            desc { (desc) }
            (body)
        }
    }
}

/// Every bar's label and figure, for screen readers.
fn describe(bars: &[Bar]) -> String {
    bars.iter()
        .map(|b| format!("{}: {}", b.label, b.text))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Horizontal bars, one per row: for long labels (sources of referral, end reasons, costs).
pub(crate) fn hbar(title: &str, bars: &[Bar]) -> Markup {
    let (label_w, bar_w, row_h, top) = (370.0, 290.0, 22.0, 8.0);
    let max = bars
        .iter()
        .filter_map(|b| b.value)
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let h = top * 2.0 + row_h * bars.len() as f64;
    let body = html! {
        @for (i, b) in bars.iter().enumerate() {
            @let y = top + row_h * i as f64;
            // Long labels are cut to fit; the table beside the chart and its description hold
            // them in full.
            @let label = if b.label.chars().count() > 58 {
                format!("{}…", b.label.chars().take(57).collect::<String>())
            } else {
                b.label.clone()
            };
            @let len = b.value.map(|v| (v / max * bar_w).max(0.0)).unwrap_or(0.0);
            text x=(label_w - 6.0) y=(y + 15.0) text-anchor="end" font-size="12" { (label) }
            // A bar of nothing is drawn as nothing (a zero-width rect is valid SVG, but no bar).
            @if c(len) != "0.0" { rect x=(label_w) y=(y + 3.0) width=(c(len)) height=(row_h - 6.0) fill=(BLUE) {} }
            text x=(c(label_w + len + 4.0)) y=(y + 15.0) font-size="12" { (b.text) }
        }
    };
    chart(760, h as u32, title, &describe(bars), body)
}

/// Vertical bars: for bands (number of social workers, duration of care).
pub(crate) fn vbar(title: &str, bars: &[Bar]) -> Markup {
    let (w, h, left, bottom, top) = (680.0, 240.0, 20.0, 36.0, 20.0);
    let max = bars
        .iter()
        .filter_map(|b| b.value)
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let slot = (w - 2.0 * left) / bars.len().max(1) as f64;
    let plot_h = h - bottom - top;
    let body = html! {
        @for (i, b) in bars.iter().enumerate() {
            @let x = left + slot * i as f64;
            @let bh = b.value.map(|v| v / max * plot_h).unwrap_or(0.0);
            @if c(bh) != "0.0" { rect x=(c(x + slot * 0.15)) y=(c(top + plot_h - bh)) width=(c(slot * 0.7)) height=(c(bh)) fill=(BLUE) {} }
            text x=(c(x + slot / 2.0)) y=(c(top + plot_h - bh - 4.0)) text-anchor="middle" font-size="12" { (b.text) }
            text x=(c(x + slot / 2.0)) y=(c(h - bottom + 16.0)) text-anchor="middle" font-size="12" { (b.label) }
        }
    };
    chart(w as u32, h as u32, title, &describe(bars), body)
}

/// Legend entries per row of a line chart (150 px each).
const LEGEND_PER_ROW: usize = 4;

/// One line of a line chart; a benchmark is drawn dashed.
pub(crate) struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
    pub dashed: bool,
}

/// Lines over periods (the last 8 quarters), with a legend.
pub(crate) fn line(title: &str, x: &[String], series: &[Series]) -> Markup {
    // The legend takes rows of 4 along the top.
    let legend_rows = series.len().div_ceil(LEGEND_PER_ROW).max(1);
    let top = 22.0 + 14.0 * legend_rows as f64;
    let (w, h, left, right, bottom) = (680.0, 244.0 + top, 56.0, 20.0, 40.0);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0f64, |a, &b| a.max(b));
    let ymax = if max <= 0.0 {
        1.0
    } else {
        nice_ceiling(max * 1.1)
    };
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let px = |i: usize| left + plot_w * (i as f64 + 0.5) / x.len().max(1) as f64;
    let py = |v: f64| top + plot_h - v / ymax * plot_h;
    let desc = series
        .iter()
        .map(|s| {
            let vals = s
                .values
                .iter()
                .zip(x)
                .map(|(v, p)| format!("{p} {}", v.map(super::number).unwrap_or_else(|| "-".into())))
                .collect::<Vec<_>>()
                .join(", ");
            format!("{}: {vals}", s.name)
        })
        .collect::<Vec<_>>()
        .join("; ");
    let body = html! {
        // Axes and gridlines at quarters of the range.
        @for k in 0..=4 {
            @let v = ymax * k as f64 / 4.0;
            @let y = py(v);
            line x1=(left) x2=(w - right) y1=(c(y)) y2=(c(y)) stroke="#b1b4b6" stroke-width="0.5" {}
            text x=(left - 4.0) y=(c(y + 4.0)) text-anchor="end" font-size="11" { (super::number((v * 10.0).round() / 10.0)) }
        }
        @for (i, p) in x.iter().enumerate() {
            text x=(c(px(i))) y=(h - bottom + 16.0) text-anchor="middle" font-size="11" { (p) }
        }
        @for (si, s) in series.iter().enumerate() {
            @let colour = COLOURS[si % COLOURS.len()];
            @let pts: Vec<(f64, f64)> = s.values.iter().enumerate()
                .filter_map(|(i, v)| v.map(|v| (px(i), py(v))))
                .collect();
            @if pts.len() > 1 {
                @let points = pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ");
                polyline fill="none" stroke=(colour) stroke-width="2.5"
                    stroke-dasharray=[s.dashed.then_some("6 4")] points=(points) {}
            }
            @if !s.dashed {
                @for (cx, cy) in &pts {
                    circle cx=(c(*cx)) cy=(c(*cy)) r="3.5" fill=(colour) {}
                }
            }
            // Legend along the top.
            @let lx = left + 150.0 * (si % LEGEND_PER_ROW) as f64;
            @let ly = 8.0 + 14.0 * (si / LEGEND_PER_ROW) as f64;
            rect x=(lx) y=(ly) width="14" height="4" fill=(colour) {}
            text x=(lx + 18.0) y=(ly + 6.0) font-size="12" { (s.name) }
        }
    };
    chart(w as u32, h as u32, title, &desc, body)
}

/// 1, 2 or 5 times a power of ten, at least `v`.
fn nice_ceiling(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * p >= v {
            return m * p;
        }
    }
    10.0 * p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_a_title_and_every_figure_described() {
        let bars = vec![
            Bar {
                label: "Police".into(),
                value: Some(37.0),
                text: "1,690 (37%)".into(),
            },
            Bar {
                label: "Schools & <b>".into(),
                value: None,
                text: "c".into(),
            },
        ];
        let s = hbar("Referrals by source", &bars).into_string();
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains("<title>Referrals by source</title>"));
        assert!(s.contains("Police: 1,690 (37%)"));
        assert!(s.contains("Schools &amp; &lt;b&gt;"), "labels are escaped");
        // A bar for the figure; none for the suppressed one, whose "c" is still written.
        assert_eq!(s.matches("<rect").count(), 1);
        assert!(s.contains(">c</text>"), "{s}");
        let l = line(
            "CP rate",
            &["Q1".into(), "Q2".into()],
            &[Series {
                name: "LA".into(),
                values: vec![Some(40.0), Some(44.5)],
                dashed: false,
            }],
        )
        .into_string();
        assert!(l.contains("<polyline"));
        assert_eq!(nice_ceiling(48.9), 50.0);
        assert_eq!(nice_ceiling(880.0), 1000.0);
    }
}
