//! Local CSV files for what no statutory return carries: contacts, strategy discussions with the
//! agencies invited and attending, missing episodes with return interviews (and the 903 Missing
//! table), service-user feedback, and placement costs. Columns are documented in docs/formats.md:
//! a header row, columns in any order and any case, dates as ISO (2018-04-01) or day first
//! (01/04/2018).

use std::{collections::HashMap, path::Path};

use csc_core::{LaCode, parse_date};
use csc_proto::{frontdoor as pb, protection as ppb};

use super::{FrontDoorClient, Origin, Report, Uploader};

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

/// A CSV file's header row as written, a UTF-8 BOM and surrounding spaces trimmed.
pub(super) fn header_row(file: &str, data: impl std::io::Read) -> anyhow::Result<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(data);
    let headers = reader
        .headers()
        .map_err(|e| anyhow::anyhow!("{file}: reading the header row: {e}"))?;
    Ok(headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect())
}

/// Reads a CSV file's header row. `aliases` maps another layout's column names to the documented
/// ones (`mis_start` → `start_date` for the 903 Missing table), used where the documented name is
/// absent.
fn header_columns(
    file: &str,
    data: &[u8],
    required: &[&str],
    aliases: &[(&str, &str)],
) -> anyhow::Result<Columns> {
    let written = header_row(file, data)?;
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
            "{file}: the header row lacks column(s) {}; see docs/formats.md",
            missing.join(", ")
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

/// One row, with what went wrong in it so far.
pub struct Row<'a> {
    record: &'a csv::StringRecord,
    columns: &'a Columns,
    location: String,
    problems: Vec<(String, String)>,
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

    pub(super) fn date(&mut self, column: &str, required: bool) -> String {
        let v = self.get(column).to_owned();
        if v.is_empty() {
            if required {
                self.fail(column, "required");
            }
            return String::new();
        }
        match parse_date(&v) {
            Some(d) => d.to_string(),
            None => {
                self.fail(
                    column,
                    format!("{v:?} is not a date (YYYY-MM-DD or DD/MM/YYYY)"),
                );
                String::new()
            }
        }
    }

    pub(super) fn la(&mut self, flag: Option<&str>) -> String {
        let v = self.get("la_code").to_owned();
        match (v.is_empty(), flag) {
            (true, Some(f)) => f.to_owned(),
            (true, None) => {
                self.fail("la_code", "missing: give a la_code column or --la");
                String::new()
            }
            (false, Some(f)) if f != v => {
                self.fail("la_code", format!("{v:?} differs from --la {f}"));
                String::new()
            }
            (false, _) => v,
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
                    format!("{other:?} is not Y/N, yes/no, 1/0 or true/false"),
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
                    format!("{text:?} is not one of {}", names.join(", ")),
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
                            "unknown agency {part:?}: expected police, health, education or other"
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
                .map(|(f, c)| {
                    let written = self.columns.written(c);
                    (f.to_string(), format!("{} column {written}", self.location))
                })
                .collect(),
        }
    }

    /// Reports the row as one refused record if anything in it was wrong; true if so.
    fn report_problems(&self, kind: &'static str, child_id: &str, report: &mut Report) -> bool {
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
/// and how one row becomes a record. Parsing is kept apart from sending, so that it can be
/// fuzzed and tested without a service.
pub struct Format<P> {
    pub required: &'static [&'static str],
    pub aliases: &'static [(&'static str, &'static str)],
    pub row: fn(&mut Row<'_>, Option<&str>) -> (P, Origin),
}

/// Reads every row of `data` (a CSV file named `file` in messages) with `format`: the records
/// the rows make, and each unreadable row or field reported. Fails only on a header row that
/// lacks a required column. `la` is the `--la` flag.
pub fn read_format<P: super::Upload>(
    format: &Format<P>,
    file: &str,
    data: &[u8],
    la: Option<&str>,
    report: &mut Report,
) -> anyhow::Result<Vec<(P, Origin)>> {
    check_la_flag(la)?;
    let columns = header_columns(file, data, format.required, format.aliases)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(data);
    let mut lines = LineCounter {
        data,
        byte: 0,
        line: 1,
    };
    let mut out = Vec::new();
    let mut rows = 0usize;
    for result in reader.records() {
        rows += 1;
        let record = match result {
            Ok(r) => r,
            Err(e) => {
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
        let line = record
            .position()
            .map(|p| lines.line_at(p.byte() as usize))
            .unwrap_or(0);
        let mut row = Row {
            record: &record,
            columns: &columns,
            location: format!("{file} line {line}"),
            problems: vec![],
        };
        let (p, origin) = (format.row)(&mut row, la);
        // A row the importer itself cannot read is reported here and not sent.
        if !row.report_problems(P::KIND, &origin.child_id, report) {
            out.push((p, origin));
        }
    }
    report.notes.push(format!("{file}: {rows} rows read"));
    Ok(out)
}

/// Reads the file at `path` with `format` and sends its records in batches; every record the
/// importer or the service refuses is reported, and the rest land.
pub(super) async fn import_format<P: super::Upload>(
    client: &mut P::Client,
    format: &Format<P>,
    path: &Path,
    la: Option<&str>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let file = path.display().to_string();
    let data = std::fs::read(path).map_err(|e| anyhow::anyhow!("reading {file}: {e}"))?;
    let records = read_format(format, &file, &data, la, report)?;
    drop(data);
    // Drawn on a terminal only; hidden when the output is a file or a pipe.
    let bar = indicatif::ProgressBar::new(records.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} {eta}")
            .expect("valid template"),
    );
    bar.set_message(file);
    let mut up = Uploader::<P>::default();
    for (i, (p, origin)) in records.into_iter().enumerate() {
        up.push(client, report, p, origin).await?;
        if i % 1024 == 0 {
            bar.set_position(i as u64);
        }
    }
    up.flush(client, report).await?;
    bar.finish_and_clear();
    Ok(())
}

pub async fn import_contacts(
    client: &mut FrontDoorClient,
    path: &Path,
    la: Option<&str>,
    report: &mut Report,
) -> anyhow::Result<()> {
    import_format(client, &CONTACTS, path, la, report).await
}

pub async fn import_strategy(
    client: &mut FrontDoorClient,
    path: &Path,
    la: Option<&str>,
    report: &mut Report,
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
    client: &mut super::FinanceClient,
    path: &Path,
    la: Option<&str>,
    report: &mut Report,
) -> anyhow::Result<()> {
    import_format(client, &COSTS, path, la, report).await
}

pub async fn import_missing(
    client: &mut super::ProtectionClient,
    path: &Path,
    la: Option<&str>,
    report: &mut Report,
) -> anyhow::Result<()> {
    import_format(client, &MISSING, path, la, report).await
}

pub async fn import_feedback(
    client: &mut super::ProtectionClient,
    path: &Path,
    la: Option<&str>,
    report: &mut Report,
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
        let mut report = Report::default();
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
            &mut Report::default(),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("lacks column(s) contact_date, became_referral"),
            "{e}"
        );
    }

    #[test]
    fn the_903_missing_table_is_read_through_its_own_column_names() {
        let data = b"CHILD,MISSING,MIS_START,MIS_END\n1001,M,2025-06-01,2025-06-02\n";
        let mut report = Report::default();
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
