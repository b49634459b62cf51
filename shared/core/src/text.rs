//! Text the suite writes for other programs to open, and numbers as people read them.

use std::borrow::Cow;

/// Input quoted back in a message (an error, a log field): its first 64 characters, and how long
/// it was when there is more, so that no refusal repeats a megabyte of what it refused.
pub fn quote(text: &str) -> String {
    const KEEP: usize = 64;
    if text.len() <= KEEP || text.chars().count() <= KEEP {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(KEEP).collect();
        format!("{head:?}… ({} bytes)", text.len())
    }
}

/// The longest cell the suite writes to a CSV file (Excel's own cell limit is 32,767 characters).
pub const MAX_CSV_CELL_CHARS: usize = 32_000;

/// A cell safe to open in a spreadsheet (OWASP's CSV-injection rule): text beginning with `=`,
/// `+`, `-`, `@`, a tab or a carriage return is prefixed with `'`, so that Excel, LibreOffice and
/// Google Sheets show it as text instead of running it as a formula; numbers (`-3`, `12.5`) stay
/// numbers. Cells longer than [`MAX_CSV_CELL_CHARS`] are cut, saying how long they were.
/// Every CSV file the suite writes goes through this.
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    let cut = cut_cell(text);
    if spreadsheet_risky(text) {
        Cow::Owned(format!("'{cut}"))
    } else {
        cut
    }
}

/// A cell's text cut to [`MAX_CSV_CELL_CHARS`], saying how long it was (CSV and XLSX alike).
pub fn cut_cell(text: &str) -> Cow<'_, str> {
    if text.len() > MAX_CSV_CELL_CHARS && text.chars().count() > MAX_CSV_CELL_CHARS {
        let head: String = text.chars().take(MAX_CSV_CELL_CHARS).collect();
        Cow::Owned(format!("{head}… (cut: {} bytes)", text.len()))
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether a spreadsheet could read `text` as a formula (OWASP's CSV-injection rule): it begins
/// with `=`, `+`, `-`, `@`, a tab or a carriage return and is not a plain number. CSV cells get a
/// `'` ([`csv_cell`]); XLSX cells get Excel's own quote prefix (the aggregator's `text_cell`).
pub fn spreadsheet_risky(text: &str) -> bool {
    matches!(
        text.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    ) && !is_plain_number(text)
}

/// Text from a user or a file (commentary, notes, labels, category and file names) as Markdown
/// that renders as that text: HTML's `&`, `<` and `>` as entities, so no tag or script survives a
/// Markdown-to-HTML viewer, and the characters that make links, images, code, emphasis, headings
/// or table cells escaped with a backslash. Line breaks are kept. Every Markdown file the suite
/// writes puts user text through this; HTML is written with maud, which escapes by construction.
pub fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '!' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `-12`, `+3`, `-0.5`: a number as a spreadsheet reads it, nothing else.
fn is_plain_number(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let mut parts = body.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// Whole numbers with thousands separators; decimals to one place (two where a second is there:
/// a figure is rounded where it is computed, not here).
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let s = format!("{}", v.abs() as i64);
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        if v < 0.0 { format!("-{out}") } else { out }
    } else {
        let s = format!("{v:.2}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let int = number(int.parse::<f64>().unwrap_or(0.0));
        if frac.is_empty() {
            int
        } else {
            format!("{int}.{frac}")
        }
    }
}

/// A number to a fixed number of decimal places (half away from zero), with thousands
/// separators: `fixed(21.0, 1)` is `21.0`, `fixed(19.75, 1)` is `19.8`, `fixed(56.5, 0)` is `57`.
/// One format per unit: a percentage beside another percentage has the same places.
pub fn fixed(v: f64, dp: usize) -> String {
    let scale = 10f64.powi(dp as i32);
    // Binary noise first (a median of 24.3 and 25.2 is 24.749999…, which a reader calls 24.75).
    let clean = (v.abs() * 1e9).round() / 1e9;
    let r = (clean * scale).round() / scale;
    let s = format!("{r:.dp$}");
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let int = number(int.parse::<f64>().unwrap_or(0.0));
    let sign = if v < 0.0 && r != 0.0 { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// An amount of money, exactly, from its pence, as a council prints it: whole pounds as `3,418`,
/// pounds and pence as `17,188.20`.
pub fn pounds(pence: i64) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    let (whole, part) = (pence.unsigned_abs() / 100, pence.unsigned_abs() % 100);
    let whole = number(whole as f64);
    if part == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{part:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_places_round_half_away_from_zero_with_separators() {
        assert_eq!(fixed(21.0, 1), "21.0");
        assert_eq!(fixed(19.75, 1), "19.8");
        assert_eq!(fixed((24.3 + 25.2) / 2.0, 1), "24.8");
        assert_eq!(fixed(56.5, 0), "57");
        assert_eq!(fixed(-2.25, 1), "-2.3");
        assert_eq!(fixed(-0.01, 1), "0.0");
        assert_eq!(fixed(12345.678, 1), "12,345.7");
        assert_eq!(fixed(0.0, 0), "0");
    }

    #[test]
    fn formula_leading_text_is_neutralised_and_numbers_stay_numbers() {
        assert_eq!(csv_cell("=1+2"), "'=1+2");
        assert_eq!(csv_cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(csv_cell("+44 7700"), "'+44 7700");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("\rx"), "'\rx");
        assert_eq!(csv_cell("-3"), "-3");
        assert_eq!(csv_cell("-12.5"), "-12.5");
        assert_eq!(csv_cell("+7"), "+7");
        assert_eq!(csv_cell("-"), "'-");
        assert_eq!(csv_cell("C1=2"), "C1=2");
        assert!(matches!(csv_cell("885C0001"), Cow::Borrowed(_)));
    }

    #[test]
    fn long_cells_are_cut_saying_so() {
        let long = "a".repeat(MAX_CSV_CELL_CHARS + 5);
        let c = csv_cell(&long);
        assert!(c.ends_with(&format!("… (cut: {} bytes)", long.len())));
        assert!(c.chars().count() < MAX_CSV_CELL_CHARS + 40);
    }

    #[test]
    fn quotes_are_bounded() {
        assert_eq!(quote("885"), "\"885\"");
        let long = "9".repeat(1 << 20);
        let q = quote(&long);
        assert!(q.len() < 100 && q.ends_with("… (1048576 bytes)"), "{q}");
    }

    #[test]
    fn numbers_and_money_read_as_a_council_report_prints_them() {
        assert_eq!(number(1690.0), "1,690");
        assert_eq!(number(-1234.0), "-1,234");
        assert_eq!(number(12345.67), "12,345.67");
        assert_eq!(pounds(1_718_820), "17,188.20");
        assert_eq!(pounds(341_800), "3,418");
        assert_eq!(pounds(5), "0.05");
        assert_eq!(pounds(-150), "-1.50");
    }
}
