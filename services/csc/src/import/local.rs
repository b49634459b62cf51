//! Local CSV files for what no statutory return carries: contacts, strategy discussions with the
//! agencies invited and attending, missing episodes with return interviews (and the 903 Missing
//! table), service-user feedback, and placement costs. Columns are documented in docs/formats.md:
//! a header row, columns in any order and any case, dates as ISO (2018-04-01) or day first
//! (01/04/2018).

use std::{collections::HashMap, path::Path, sync::Arc};

use csc_core::LaCode;
use csc_proto::{frontdoor as pb, protection as ppb};

use super::dates::{DateTally, is_not_midnight, read_date};
use super::input::{self, quote};
use super::{FrontDoorClient, ImportSummary, Origin, Uploader, upload};

/// A file's columns: name (lower case, BOM and spaces trimmed, or the documented name a known
/// alias stands for) → index, and each column's header as the file writes it (to name it in
/// errors).
struct Columns {
    index: HashMap<String, usize>,
    written: Vec<String>,
}

impl Columns {
    /// The column as the file's header writes it.
    fn written(&self, name: &str) -> String {
        self.index
            .get(name)
            .and_then(|&i| self.written.get(i))
            .cloned()
            .unwrap_or_else(|| name.to_owned())
    }
}

/// A CSV file's header row as written, a UTF-8 BOM and surrounding spaces trimmed; trailing
/// blank columns (spreadsheets' `,,,`) dropped.
pub(super) fn header_row(
    file: &str,
    data: impl std::io::Read,
    delimiter: u8,
) -> anyhow::Result<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_reader(data);
    let headers = reader
        .headers()
        .map_err(|e| anyhow::anyhow!("{file}: reading the header row: {e}"))?;
    let mut columns: Vec<String> = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect();
    while columns.last().is_some_and(String::is_empty) {
        columns.pop();
    }
    Ok(columns)
}

/// Reads a CSV file's header row. `aliases` maps another layout's column names to the documented
/// ones (`mis_start` → `start_date` for the 903 Missing table), used where the documented name is
/// absent.
fn header_columns(
    file: &str,
    data: &[u8],
    delimiter: u8,
    required: &[&str],
    aliases: &[(&str, &str)],
) -> anyhow::Result<Columns> {
    let written = header_row(file, data, delimiter)?;
    let mut columns: HashMap<String, usize> = written
        .iter()
        .enumerate()
        .map(|(i, h)| (h.to_ascii_lowercase(), i))
        .collect();
    for (other, ours) in aliases {
        if !columns.contains_key(*ours)
            && let Some(&i) = columns.get(*other)
        {
            columns.insert((*ours).to_owned(), i);
        }
    }
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| !columns.contains_key(*c))
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "the header row lacks required column(s) {}: the table is refused, nothing in it was sent (columns in docs/formats.md)",
            missing
                .iter()
                .map(|c| c.to_ascii_uppercase())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(Columns {
        index: columns,
        written,
    })
}

/// Line numbers from byte offsets, counted as the file is read (the csv crate's own line count
/// is one short on CRLF files, which is what spreadsheets save).
struct LineCounter<'a> {
    data: &'a [u8],
    byte: usize,
    line: u64,
}

impl LineCounter<'_> {
    fn line_at(&mut self, byte: usize) -> u64 {
        // On CRLF files a record's offset can point at the `\n` that ends the line before it.
        let mut byte = byte.min(self.data.len());
        while byte < self.data.len() && matches!(self.data[byte], b'\r' | b'\n') {
            byte += 1;
        }
        if byte >= self.byte {
            self.line += self.data[self.byte..byte]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.byte = byte;
        }
        self.line
    }
}

/// One row, with what went wrong in it so far, and what it warned about.
pub struct Row<'a> {
    record: &'a csv::StringRecord,
    columns: &'a Columns,
    location: String,
    problems: Vec<(String, String)>,
    warnings: Vec<(String, String)>,
    dates: &'a mut DateTally,
}

impl Row<'_> {
    pub(super) fn get(&self, column: &str) -> &str {
        self.columns
            .index
            .get(column)
            .and_then(|&i| self.record.get(i))
            .unwrap_or("")
    }

    pub(super) fn fail(&mut self, column: &str, why: impl Into<String>) {
        let written = self.columns.written(column);
        self.problems
            .push((format!("column {written}"), why.into()));
    }

    pub(super) fn has(&self, column: &str) -> bool {
        self.columns.index.contains_key(column)
    }

    /// A warning about this row: the record is still sent.
    pub(super) fn warn(&mut self, column: &str, why: impl Into<String>) {
        let written = self.columns.written(column);
        self.warnings
            .push((format!("column {written}"), why.into()));
    }

    /// A date in any of the forms real exports write (docs/formats.md), as ISO; a refusal quotes
    /// the text as the file has it.
    pub(super) fn date(&mut self, column: &str, required: bool) -> String {
        let v = self.get(column).to_owned();
        if v.is_empty() {
            if required {
                self.fail(column, "required");
            }
            return String::new();
        }
        match read_date(&v) {
            Some(d) => {
                let at = format!("{} column {}", self.location, self.columns.written(column));
                self.dates.note(&d, &at, &v);
                if is_not_midnight(&d) {
                    self.warn(
                        column,
                        format!(
                            "{} has a time of day on a date-only field: the date {} is kept, the time is not",
                            quote(&v),
                            d.date
                        ),
                    );
                }
                d.date.to_string()
            }
            None => {
                self.fail(
                    column,
                    format!(
                        "{} is not a date (YYYY-MM-DD, DD/MM/YYYY or DD/MM/YY, 1900-2099)",
                        quote(&v)
                    ),
                );
                String::new()
            }
        }
    }

    /// The row's LA: `read_format` has resolved it from the file's LA column or `--la`.
    pub(super) fn la(&mut self, la: Option<&str>) -> String {
        match la {
            Some(code) => code.to_owned(),
            None => {
                self.fail("la_code", "missing: give a la_code (or LA) column or --la");
                String::new()
            }
        }
    }

    pub(super) fn yes_no(&mut self, column: &str) -> bool {
        match self.get(column).to_ascii_lowercase().as_str() {
            "y" | "yes" | "1" | "true" => true,
            "n" | "no" | "0" | "false" | "" => false,
            other => {
                let other = other.to_owned();
                self.fail(
                    column,
                    format!("{} is not Y/N, yes/no, 1/0 or true/false", quote(&other)),
                );
                false
            }
        }
    }

    /// A value from a fixed list (case-insensitive): `choices` maps each accepted spelling to the
    /// API's enum value. Empty is 0 (unspecified), or "required" when `required`.
    pub(super) fn choice(&mut self, column: &str, choices: &[(&str, i32)], required: bool) -> i32 {
        let text = self.get(column).to_ascii_lowercase();
        if text.is_empty() {
            if required {
                self.fail(column, "required");
            }
            return 0;
        }
        match choices.iter().find(|(k, _)| *k == text) {
            Some((_, v)) => *v,
            None => {
                let mut names: Vec<&str> = choices.iter().map(|(k, _)| *k).collect();
                names.dedup();
                self.fail(
                    column,
                    format!("{} is not one of {}", quote(&text), names.join(", ")),
                );
                0
            }
        }
    }

    /// A time of day, passed on as written for the service to check (`HH:MM`).
    pub(super) fn time(&self, column: &str) -> String {
        self.get(column).to_owned()
    }

    fn agencies(&mut self, column: &str) -> Vec<i32> {
        let text = self.get(column).to_owned();
        let mut out = Vec::new();
        for part in text
            .split([';', '|', '/'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let a = match part.to_ascii_lowercase().as_str() {
                "police" => pb::Agency::Police,
                "health" => pb::Agency::Health,
                "education" => pb::Agency::Education,
                "other" => pb::Agency::Other,
                _ => {
                    self.fail(
                        column,
                        format!(
                            "unknown agency {}: expected police, health, education or other",
                            quote(part)
                        ),
                    );
                    continue;
                }
            };
            out.push(a as i32);
        }
        out
    }

    /// The origin of a record read from columns named as its API fields.
    fn origin_same(&self, child_id: &str, fields: &[&str]) -> Origin {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|f| (*f, *f)).collect();
        self.origin(child_id, &pairs)
    }

    /// The origin of a record read from this row: API fields map to the columns they came from.
    pub(super) fn origin(&self, child_id: &str, fields: &[(&str, &str)]) -> Origin {
        Origin {
            child_id: child_id.to_owned(),
            location: self.location.clone(),
            fields: fields
                .iter()
                .map(|(f, c)| (f.to_string(), self.columns.written(c)))
                .collect(),
            year: None,
            sources_are_columns: true,
        }
    }

    /// Reports the row's warnings, and the row as one refused record if anything in it was
    /// wrong; true if so.
    fn report_problems(
        &self,
        kind: &'static str,
        child_id: &str,
        report: &mut ImportSummary,
    ) -> bool {
        for (col, why) in &self.warnings {
            report.warn(
                kind,
                child_id,
                format!("{} {col}", self.location),
                why.clone(),
            );
        }
        if self.problems.is_empty() {
            return false;
        }
        let problems = self
            .problems
            .iter()
            .map(|(col, why)| (format!("{} {col}", self.location), why.clone()));
        report.reject_record(kind, child_id, problems);
        true
    }
}

pub(super) fn check_la_flag(la: Option<&str>) -> anyhow::Result<()> {
    if let Some(la) = la {
        LaCode::parse(la).map_err(|e| anyhow::anyhow!("--la: {e}"))?;
    }
    Ok(())
}

/// A CSV layout the importer reads: the columns it needs (with other layouts' names for them),
/// the columns it reads when present, the standard columns it knows and does not use, and how
/// one row becomes a record. Parsing is kept apart from sending, so that it can be fuzzed and
/// tested without a service.
pub struct Format<P> {
    pub required: &'static [&'static str],
    /// Read when present; when absent, listed in the summary as "not in file".
    pub optional: &'static [&'static str],
    /// Standard columns of the layout that no measure uses: neither read nor listed as unknown.
    pub ignored: &'static [&'static str],
    pub aliases: &'static [(&'static str, &'static str)],
    pub row: fn(&mut Row<'_>, Option<&str>) -> (P, Origin),
}

/// Columns any layout may carry when regional pipelines pool councils' files: the LA (a code or
/// a name) and the return's year.
const POOLED: &[&str] = &["la_code", "la", "year"];

/// A CSV file that passed its checks (not a workbook, whole, no line over the limit), as UTF-8
/// text with its delimiter.
pub struct CsvText {
    pub file: String,
    pub text: String,
    pub delimiter: u8,
}

impl CsvText {
    /// Checks a file's bytes and decodes them (docs/formats.md, "Files"): an error is the reason
    /// the file is refused whole. The encoding warning, if any, goes to `report`.
    pub fn prepare(file: &str, data: Vec<u8>, report: &mut ImportSummary) -> anyhow::Result<Self> {
        let head = &data[..data.len().min(4096)];
        if let Some(m) = input::not_text(file, head, "a CSV file") {
            anyhow::bail!(m);
        }
        Self::decode(file, data, None, report)
    }

    /// Decodes bytes already named as text; `shape` is the structure check when it was made on
    /// the bytes as they streamed from disk, else it is made here on the decoded text.
    fn decode(
        file: &str,
        data: Vec<u8>,
        shape: Option<input::CsvShape>,
        report: &mut ImportSummary,
    ) -> anyhow::Result<Self> {
        let head = &data[..data.len().min(4096)];
        let first = head
            .iter()
            .copied()
            .find(|b| !b.is_ascii_whitespace() && !matches!(b, 0xEF | 0xBB | 0xBF));
        if first == Some(b'<') {
            anyhow::bail!(
                "{file}: this is an XML file, not a CSV table (a CIN census is `csc import cin`; a 903 XML export is `csc import 903 FILE.xml`)"
            );
        }
        let (text, charset) = input::decode(data);
        if let Some(w) = charset.warning(file) {
            report.warn("file", "-", file, w);
        }
        let shape = match shape {
            Some(s) => s,
            None => input::check_csv(file, text.as_bytes())?,
        };
        if shape.delimiter != b',' {
            report.notes.push(format!(
                "{file}: columns separated by {}",
                if shape.delimiter == b'\t' {
                    "tabs"
                } else {
                    "semicolons"
                }
            ));
        }
        Ok(Self {
            file: file.to_owned(),
            text,
            delimiter: shape.delimiter,
        })
    }

    /// The header's column names, lower-cased.
    pub fn columns(&self) -> anyhow::Result<Vec<String>> {
        Ok(
            header_row(&self.file, self.text.as_bytes(), self.delimiter)?
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
        )
    }
}

/// Reads a CSV file for import: its structure is checked as it streams from disk (so an
/// oversized or cut file is refused before it is read whole), then it is read and decoded. The
/// outer error is a failure to read the file at all; the inner one, the reason it is refused.
pub fn read_csv_file(
    path: &Path,
    report: &mut ImportSummary,
) -> anyhow::Result<Result<CsvText, String>> {
    let file = path.display().to_string();
    let open = || std::fs::File::open(path).map_err(|e| anyhow::anyhow!("reading {file}: {e}"));
    let mut head = Vec::with_capacity(4096);
    std::io::Read::read_to_end(&mut std::io::Read::take(open()?, 4096), &mut head)?;
    if let Some(m) = input::not_text(&file, &head, "a CSV file") {
        return Ok(Err(m));
    }
    // UTF-16 is checked once decoded; every other encoding keeps ASCII's bytes, so the check
    // runs on the file as it streams and is not made again.
    let utf16 = encoding_rs::Encoding::for_bom(&head).is_some_and(|(e, _)| e != encoding_rs::UTF_8);
    let shape = if utf16 {
        None
    } else {
        match input::check_csv(&file, open()?) {
            Ok(shape) => Some(shape),
            Err(e) => return Ok(Err(format!("{e:#}"))),
        }
    };
    let data = std::fs::read(path).map_err(|e| anyhow::anyhow!("reading {file}: {e}"))?;
    Ok(CsvText::decode(&file, data, shape, report).map_err(|e| format!("{e:#}")))
}

/// Reads every row of `data` (a CSV file named `file` in messages) with `format`: the records
/// the rows make, and each unreadable row or field reported. An error is the reason the whole
/// file is refused (a workbook, cut short, a line over the limit, a required column missing, an
/// LA flag that names none of the file's LAs): nothing of it is to be sent. `la` is the `--la`
/// flag.
pub fn read_format<P: super::Upload>(
    format: &Format<P>,
    file: &str,
    data: &[u8],
    la: Option<&str>,
    report: &mut ImportSummary,
) -> anyhow::Result<Vec<(P, Origin)>> {
    let text = CsvText::prepare(file, data.to_vec(), report)?;
    read_text(format, &text, la, report)
}

/// As [`read_format`], from a file that passed its checks.
pub fn read_text<P: super::Upload>(
    format: &Format<P>,
    csv_text: &CsvText,
    la: Option<&str>,
    report: &mut ImportSummary,
) -> anyhow::Result<Vec<(P, Origin)>> {
    let mut out = Vec::new();
    read_rows(format, csv_text, la, report, |p, origin, _| {
        out.push((p, origin))
    })?;
    Ok(out)
}

/// As [`read_text`], giving each record to `each` as its row is read, with the byte of the text
/// its row ends at: the file's records are never all held at once. An error (the file refused
/// whole) comes before any record, or after rows none of which made one (all of them another
/// LA's than `la`).
pub fn read_rows<P: super::Upload>(
    format: &Format<P>,
    csv_text: &CsvText,
    la: Option<&str>,
    report: &mut ImportSummary,
    mut each: impl FnMut(P, Origin, usize),
) -> anyhow::Result<()> {
    check_la_flag(la)?;
    let file = csv_text.file.as_str();
    let data = csv_text.text.as_bytes();
    let columns = header_columns(
        file,
        data,
        csv_text.delimiter,
        format.required,
        format.aliases,
    )?;
    let known = |c: &str| {
        format.required.contains(&c)
            || format.optional.contains(&c)
            || format.ignored.contains(&c)
            || POOLED.contains(&c)
            || format.aliases.iter().any(|(a, o)| *a == c || *o == c)
    };
    let unknown: Vec<&str> = columns
        .written
        .iter()
        .filter(|w| !w.is_empty() && !known(&w.to_ascii_lowercase()))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        report.notes.push(format!(
            "{file}: column(s) {} not used by this importer; ignored",
            unknown.join(", ")
        ));
    }
    let absent: Vec<String> = format
        .optional
        .iter()
        .filter(|c| !columns.index.contains_key(**c))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !absent.is_empty() {
        report.notes.push(format!(
            "{file}: optional column(s) {} not in file",
            absent.join(", ")
        ));
    }
    let la_column = columns
        .index
        .get("la_code")
        .or_else(|| columns.index.get("la"))
        .copied();
    let year_column = columns.index.get("year").copied();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .delimiter(csv_text.delimiter)
        .trim(csv::Trim::All)
        .from_reader(data);
    let mut lines = LineCounter {
        data,
        byte: 0,
        line: 1,
    };
    let mut dates = DateTally::default();
    let mut rows = 0usize;
    // Rows for other LAs than --la: left out, and counted.
    let mut other_las: std::collections::BTreeMap<String, usize> = Default::default();
    for result in reader.records() {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                rows += 1;
                let line = e
                    .position()
                    .map(|p| lines.line_at(p.byte() as usize))
                    .unwrap_or(0);
                report.reject(
                    P::KIND,
                    "(unknown)",
                    format!("{file} line {line}"),
                    format!("unreadable row: {e}"),
                );
                continue;
            }
        };
        // Blank lines and spreadsheets' trailing `,,,` rows are not records.
        if record.iter().all(str::is_empty) {
            continue;
        }
        rows += 1;
        let line = record
            .position()
            .map(|p| lines.line_at(p.byte() as usize))
            .unwrap_or(0);
        let mut row = Row {
            record: &record,
            columns: &columns,
            location: format!("{file} line {line}"),
            problems: vec![],
            warnings: vec![],
            dates: &mut dates,
        };
        // The row's LA: its own column (a code or a name), else the flag.
        let written = la_column.and_then(|i| record.get(i)).unwrap_or("");
        let row_la = if written.is_empty() {
            la.map(str::to_owned)
        } else {
            match LaCode::from_code_or_name(written) {
                Some(code) => Some(code.to_string()),
                None => {
                    let column = if columns.index.contains_key("la_code") {
                        "la_code"
                    } else {
                        "la"
                    };
                    row.fail(
                        column,
                        format!(
                            "{} is neither a three-digit LA code nor an English LA's name",
                            quote(written)
                        ),
                    );
                    None
                }
            }
        };
        if let (Some(flag), Some(code)) = (la, row_la.as_deref())
            && flag != code
        {
            *other_las.entry(code.to_owned()).or_default() += 1;
            continue;
        }
        let year = match year_column.and_then(|i| record.get(i)).unwrap_or("") {
            "" => None,
            y => match y.parse::<i32>() {
                Ok(y) if (2000..=2099).contains(&y) => Some(y),
                _ => {
                    row.fail("year", format!("{} is not a collection year", quote(y)));
                    None
                }
            },
        };
        let (p, mut origin) = (format.row)(&mut row, row_la.as_deref());
        origin.year = year;
        // A row the importer itself cannot read is reported here and not sent.
        if !row.report_problems(P::KIND, &origin.child_id, report) {
            each(p, origin, lines.byte);
        }
    }
    if let Some(flag) = la
        && !other_las.is_empty()
    {
        let held: Vec<String> = other_las
            .iter()
            .map(|(code, n)| format!("{code} ({n} rows)"))
            .collect();
        if rows == other_las.values().sum::<usize>() {
            anyhow::bail!(
                "the file's LA column names {}; --la {flag} names none of them: nothing was sent",
                held.join(", ")
            );
        }
        report.notes.push(format!(
            "{file}: rows for other LAs left out (--la {flag} imports only its own): {}",
            held.join(", ")
        ));
    }
    report.dates = dates;
    report.finish_dates(file, false);
    report.notes.push(format!("{file}: {rows} rows read"));
    Ok(())
}

/// Reads the file at `path` with `format` and sends its records in batches; every record the
/// importer or the service refuses is reported, and the rest land. A file refused whole is
/// reported as such, and nothing of it is sent.
pub(super) async fn import_format<P: super::Upload>(
    client: &mut P::Client,
    format: &'static Format<P>,
    path: &Path,
    la: Option<&str>,
    report: &mut ImportSummary,
) -> anyhow::Result<()> {
    check_la_flag(la)?;
    let file = path.display().to_string();
    let text = match read_csv_file(path, report)? {
        Ok(t) => t,
        Err(why) => {
            report.refuse_file(file, why);
            return Ok(());
        }
    };
    stream_records(client, format, text, la, report).await
}

/// Records read from the reader's thread at a time, and chunks of them queued for sending.
pub(super) const CHUNK: usize = 1024;
pub(super) const CHUNKS_QUEUED: usize = 4;

/// Reads `text`'s rows on a thread of their own while the records they make are sent:
/// at most [`CHUNKS_QUEUED`] chunks of [`CHUNK`] records wait between the two, and the uploader's own
/// queue behind them, so the client's memory is the file's text and a few batches however
/// long the file is. What the reading found (rows refused, notes, warnings) comes first in the
/// summary, before what the service said, as when a file was read whole; a file refused whole
/// sends nothing.
async fn stream_records<P: super::Upload>(
    client: &mut P::Client,
    format: &'static Format<P>,
    text: CsvText,
    la: Option<&str>,
    report: &mut ImportSummary,
) -> anyhow::Result<()> {
    let reading = Reading::Said;
    stream_records_keeping(
        client,
        format,
        Arc::new(text),
        la,
        reading,
        report,
        |_, _, _| true,
    )
    .await
}

/// What becomes of what a pass over a file found while reading it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    /// Said in the summary (rows refused, notes, warnings, or the file refused whole).
    Said,
    /// Left unsaid: a later pass over a file whose first pass said it.
    Unsaid,
}

/// As [`stream_records`], sending only the records `keep` keeps; `keep` sees every record the
/// reading makes, in order, on the reading's thread, and may add warnings to the reading's
/// summary.
pub(super) async fn stream_records_keeping<P, K>(
    client: &mut P::Client,
    format: &'static Format<P>,
    text: Arc<CsvText>,
    la: Option<&str>,
    reading: Reading,
    report: &mut ImportSummary,
    mut keep: K,
) -> anyhow::Result<()>
where
    P: super::Upload,
    K: FnMut(&P, &Origin, &mut ImportSummary) -> bool + Send + 'static,
{
    let file = text.file.clone();
    let bar = progress_bar(
        text.text.len() as u64,
        "{msg} [{bar:40}] {percent}% {eta}",
        &file,
    );
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<(P, Origin)>>(CHUNKS_QUEUED);
    let la_owned = la.map(str::to_owned);
    let reading_bar = bar.clone();
    let mut reader = upload::AbortOnDrop(tokio::task::spawn_blocking(move || {
        let mut read = ImportSummary::default();
        let mut kept = ImportSummary::default();
        let mut chunk = Vec::with_capacity(CHUNK);
        let mut open = true;
        let result = read_rows(format, &text, la_owned.as_deref(), &mut read, |p, o, at| {
            if !open || !keep(&p, &o, &mut kept) {
                return;
            }
            chunk.push((p, o));
            if chunk.len() == CHUNK {
                reading_bar.set_position(at as u64);
                // A closed queue: the sending stopped on an error, which it reports.
                open = tx
                    .blocking_send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)))
                    .is_ok();
            }
        });
        if result.is_ok() && !chunk.is_empty() && open {
            let _ = tx.blocking_send(chunk);
        }
        read.absorb(kept);
        (result, read)
    }));
    let mut up = Uploader::<P>::default();
    let mut sent = ImportSummary::default();
    while let Some(chunk) = rx.recv().await {
        for (p, origin) in chunk {
            up.push(client, &mut sent, p, origin).await?;
        }
    }
    let (result, read) = (&mut reader.0).await?;
    if reading == Reading::Said {
        report.absorb(read);
        if let Err(e) = result {
            report.refuse_file(file, format!("{e:#}"));
        }
    }
    up.flush(client, &mut sent).await?;
    report.absorb(sent);
    progress_done(&bar);
    Ok(())
}

/// Sends records read from `file` in batches, with a progress bar on a terminal.
pub(super) async fn send_records<P: super::Upload>(
    client: &mut P::Client,
    file: &str,
    records: Vec<(P, Origin)>,
    report: &mut ImportSummary,
) -> anyhow::Result<()> {
    send_records_keeping(client, file, records, false, report).await
}

/// As [`send_records`]; with `keep_stored`, fields the records leave empty keep their stored
/// values (`Uploader::keep_stored`).
pub(super) async fn send_records_keeping<P: super::Upload>(
    client: &mut P::Client,
    file: &str,
    records: Vec<(P, Origin)>,
    keep_stored: bool,
    report: &mut ImportSummary,
) -> anyhow::Result<()> {
    let bar = progress_bar(
        records.len() as u64,
        "{msg} [{bar:40}] {pos}/{len} {eta}",
        file,
    );
    let mut up = if keep_stored {
        Uploader::<P>::keeping_stored()
    } else {
        Uploader::<P>::default()
    };
    for (i, (p, origin)) in records.into_iter().enumerate() {
        up.push(client, report, p, origin).await?;
        if i % 1024 == 0 {
            bar.set_position(i as u64);
        }
    }
    up.flush(client, report).await?;
    progress_done(&bar);
    Ok(())
}

/// The bars of the files being read or sent, drawn together: `csc import generated` sends some
/// files at the same time, each on its own line.
static BARS: std::sync::LazyLock<indicatif::MultiProgress> =
    std::sync::LazyLock::new(indicatif::MultiProgress::new);

/// A progress bar of `len` steps for `file`, drawn on a terminal only (hidden when the output is
/// a file or a pipe). [`progress_done`] takes it away.
pub(super) fn progress_bar(len: u64, template: &str, file: &str) -> indicatif::ProgressBar {
    let bar = BARS.add(indicatif::ProgressBar::new(len));
    bar.set_style(indicatif::ProgressStyle::with_template(template).expect("valid template"));
    bar.set_message(file.to_owned());
    bar
}

/// Clears a file's bar from the terminal.
pub(super) fn progress_done(bar: &indicatif::ProgressBar) {
    bar.finish_and_clear();
    BARS.remove(bar);
}

pub async fn import_contacts(
    client: &mut FrontDoorClient,
    path: &Path,
    la: Option<&str>,
    report: &mut ImportSummary,
) -> anyhow::Result<()> {
    import_format(client, &CONTACTS, path, la, report).await
}

pub async fn import_strategy(
    client: &mut FrontDoorClient,
    path: &Path,
    la: Option<&str>,
    report: &mut ImportSummary,
) -> anyhow::Result<()> {
    import_format(client, &STRATEGY, path, la, report).await
}

/// Whole pence: money never passes through a floating-point number.
fn pence(row: &mut Row<'_>, column: &str) -> i64 {
    let text = row.get(column).to_owned();
    if text.is_empty() {
        row.fail(column, "required");
        return 0;
    }
    match text.parse::<i64>() {
        Ok(p) => p,
        Err(_) => {
            let hint = if text.contains('.') {
                ": pence are a whole number (78950 for £789.50)"
            } else {
                ""
            };
            row.fail(
                column,
                format!("{text:?} is not a whole number of pence{hint}"),
            );
            0
        }
    }
}

pub async fn import_costs(
    client: &mut crate::client::FinanceClient,
    path: &Path,
    la: Option<&str>,
    report: &mut ImportSummary,
) -> anyhow::Result<()> {
    import_format(client, &COSTS, path, la, report).await
}

pub async fn import_missing(
    client: &mut crate::client::ProtectionClient,
    path: &Path,
    la: Option<&str>,
    report: &mut ImportSummary,
) -> anyhow::Result<()> {
    import_format(client, &MISSING, path, la, report).await
}

pub async fn import_feedback(
    client: &mut crate::client::ProtectionClient,
    path: &Path,
    la: Option<&str>,
    report: &mut ImportSummary,
) -> anyhow::Result<()> {
    import_format(client, &FEEDBACK, path, la, report).await
}

pub(super) const CONTACTS: Format<pb::Contact> = Format {
    required: &[
        "contact_id",
        "child_id",
        "contact_date",
        "source",
        "became_referral",
    ],
    optional: &[],
    ignored: &[],
    aliases: &[],
    row: contact_row,
};

fn contact_row(row: &mut Row<'_>, la: Option<&str>) -> (pb::Contact, Origin) {
    let la_code = row.la(la);
    let child_id = row.get("child_id").to_owned();
    let c = pb::Contact {
        la_code,
        contact_id: row.get("contact_id").to_owned(),
        child_id: child_id.clone(),
        contact_date: row.date("contact_date", true),
        source: row.get("source").to_owned(),
        became_referral: row.yes_no("became_referral"),
    };
    let origin = row.origin_same(
        &child_id,
        &[
            "la_code",
            "contact_id",
            "child_id",
            "contact_date",
            "source",
        ],
    );
    (c, origin)
}

pub(super) const STRATEGY: Format<pb::StrategyDiscussion> = Format {
    required: &["child_id", "discussion_date", "invited", "attended"],
    optional: &[],
    ignored: &[],
    aliases: &[],
    row: strategy_row,
};

fn strategy_row(row: &mut Row<'_>, la: Option<&str>) -> (pb::StrategyDiscussion, Origin) {
    let la_code = row.la(la);
    let child_id = row.get("child_id").to_owned();
    let s = pb::StrategyDiscussion {
        la_code,
        child_id: child_id.clone(),
        discussion_date: row.date("discussion_date", true),
        invited: row.agencies("invited"),
        attended: row.agencies("attended"),
    };
    let origin = row.origin_same(
        &child_id,
        &[
            "la_code",
            "child_id",
            "discussion_date",
            "invited",
            "attended",
        ],
    );
    (s, origin)
}

pub(super) const COSTS: Format<csc_proto::finance::Commitment> = Format {
    required: &[
        "child_id",
        "placement_start",
        "start_date",
        "weekly_cost_pence",
    ],
    optional: &[
        "end_date",
        "category_key",
        "place",
        "place_provider",
        "provider_name",
        "provider_urn",
    ],
    ignored: &[],
    aliases: &[],
    row: cost_row,
};

fn cost_row(row: &mut Row<'_>, la: Option<&str>) -> (csc_proto::finance::Commitment, Origin) {
    let la_code = row.la(la);
    let child_id = row.get("child_id").to_owned();
    let c = csc_proto::finance::Commitment {
        la_code,
        child_id: child_id.clone(),
        placement_start: row.date("placement_start", true),
        start_date: row.date("start_date", true),
        end_date: row.date("end_date", false),
        weekly_cost_pence: pence(row, "weekly_cost_pence"),
        category_key: row.get("category_key").to_owned(),
        place: row.get("place").to_ascii_uppercase(),
        place_provider: row.get("place_provider").to_ascii_uppercase(),
        provider_name: row.get("provider_name").to_owned(),
        provider_urn: row.get("provider_urn").to_owned(),
    };
    let origin = row.origin_same(
        &child_id,
        &[
            "la_code",
            "child_id",
            "placement_start",
            "start_date",
            "end_date",
            "weekly_cost_pence",
            "category_key",
            "place",
            "place_provider",
            "provider_name",
            "provider_urn",
        ],
    );
    (c, origin)
}

pub(super) const MISSING: Format<ppb::MissingEpisode> = Format {
    required: &["child_id", "kind", "start_date"],
    optional: &[
        "absent_from",
        "end_date",
        "start_time",
        "end_time",
        "interview_offered_date",
        "interview_outcome",
        "interview_completed_date",
        "interview_completed_time",
    ],
    // The 903 Missing table's own columns.
    ignored: &["dob"],
    aliases: &[
        ("child", "child_id"),
        ("missing", "kind"),
        ("mis_start", "start_date"),
        ("mis_end", "end_date"),
    ],
    row: missing_row,
};

fn missing_row(row: &mut Row<'_>, la: Option<&str>) -> (ppb::MissingEpisode, Origin) {
    use ppb::{AbsenceKind, AbsentFrom, InterviewOutcome};

    let absent_from = if row.has("absent_from") || !row.has("mis_start") {
        row.choice(
            "absent_from",
            &[
                ("home", AbsentFrom::Home as i32),
                ("care", AbsentFrom::Care as i32),
            ],
            true,
        )
    } else {
        AbsentFrom::Care as i32
    };
    let la_code = row.la(la);
    let child_id = row.get("child_id").to_owned();
    let e = ppb::MissingEpisode {
        la_code,
        child_id: child_id.clone(),
        start_date: row.date("start_date", true),
        kind: row.choice(
            "kind",
            &[
                ("m", AbsenceKind::Missing as i32),
                ("missing", AbsenceKind::Missing as i32),
                ("a", AbsenceKind::Away as i32),
                ("away", AbsenceKind::Away as i32),
            ],
            true,
        ),
        absent_from,
        start_time: row.time("start_time"),
        end_date: row.date("end_date", false),
        end_time: row.time("end_time"),
        interview_offered_date: row.date("interview_offered_date", false),
        interview_outcome: row.choice(
            "interview_outcome",
            &[
                ("accepted", InterviewOutcome::Accepted as i32),
                ("declined", InterviewOutcome::Declined as i32),
            ],
            false,
        ),
        interview_completed_date: row.date("interview_completed_date", false),
        interview_completed_time: row.time("interview_completed_time"),
    };
    let origin = row.origin_same(
        &child_id,
        &[
            "la_code",
            "child_id",
            "start_date",
            "kind",
            "absent_from",
            "start_time",
            "end_date",
            "end_time",
            "interview_offered_date",
            "interview_outcome",
            "interview_completed_date",
            "interview_completed_time",
        ],
    );
    (e, origin)
}

pub(super) const FEEDBACK: Format<ppb::FeedbackResponse> = Format {
    required: &[
        "response_id",
        "question",
        "respondent",
        "response_date",
        "rating",
    ],
    optional: &["child_id"],
    ignored: &[],
    aliases: &[],
    row: feedback_row,
};

fn feedback_row(row: &mut Row<'_>, la: Option<&str>) -> (ppb::FeedbackResponse, Origin) {
    use ppb::{Rating, Respondent};

    let la_code = row.la(la);
    let child_id = row.get("child_id").to_owned();
    let f = ppb::FeedbackResponse {
        la_code,
        response_id: row.get("response_id").to_owned(),
        question: row.get("question").to_owned(),
        respondent: row.choice(
            "respondent",
            &[
                ("parent", Respondent::Parent as i32),
                ("child", Respondent::Child as i32),
                ("professional", Respondent::Professional as i32),
            ],
            true,
        ),
        response_date: row.date("response_date", true),
        rating: row.choice(
            "rating",
            &[
                ("positive", Rating::Positive as i32),
                ("neutral", Rating::Neutral as i32),
                ("negative", Rating::Negative as i32),
            ],
            true,
        ),
        child_id: child_id.clone(),
    };
    let origin = row.origin_same(
        &child_id,
        &[
            "la_code",
            "response_id",
            "question",
            "respondent",
            "response_date",
            "rating",
            "child_id",
        ],
    );
    (f, origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_rows_become_records_and_bad_rows_are_reported_by_line_and_column() {
        // A spreadsheet's CRLF file, columns in another order and case, a BOM.
        let data = "\u{feff}Contact_ID,Source,child_id,contact_date,became_referral\r\n\
                    K1,6,C1,2025-05-01,yes\r\n\
                    K2,6,C2,31/02/2025,no\r\n\
                    K3,2A,C3,01/05/2025,no\r\n";
        let mut report = ImportSummary::default();
        let records = read_format(
            &CONTACTS,
            "c.csv",
            data.as_bytes(),
            Some("885"),
            &mut report,
        )
        .unwrap();
        let ids: Vec<&str> = records.iter().map(|(c, _)| c.contact_id.as_str()).collect();
        assert_eq!(ids, ["K1", "K3"]);
        assert_eq!(records[1].0.contact_date, "2025-05-01");
        assert_eq!(records[0].0.la_code, "885");
        assert_eq!(report.rejected.len(), 1);
        let p = &report.rejected[0];
        assert_eq!(
            (p.child_id.as_str(), p.source.as_str()),
            ("C2", "c.csv line 3 column contact_date")
        );
        assert!(
            p.reason.contains("\"31/02/2025\" is not a date"),
            "{}",
            p.reason
        );
    }

    #[test]
    fn a_header_without_a_required_column_refuses_the_file_naming_it() {
        let data = b"contact_id,child_id,source\nK1,C1,6\n";
        let e = read_format(
            &CONTACTS,
            "c.csv",
            data,
            Some("885"),
            &mut ImportSummary::default(),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("lacks required column(s) CONTACT_DATE, BECAME_REFERRAL"),
            "{e}"
        );
    }

    #[test]
    fn the_903_missing_table_is_read_through_its_own_column_names() {
        let data = b"CHILD,MISSING,MIS_START,MIS_END\n1001,M,2025-06-01,2025-06-02\n";
        let mut report = ImportSummary::default();
        let records = read_format(&MISSING, "missing.csv", data, Some("885"), &mut report).unwrap();
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        let (e, _) = &records[0];
        assert_eq!(
            (e.child_id.as_str(), e.end_date.as_str()),
            ("1001", "2025-06-02")
        );
        assert_eq!(e.absent_from, ppb::AbsentFrom::Care as i32);
    }
}
