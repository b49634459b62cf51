//! What an import did, for the person who ran it: counts per record kind, every refused record
//! and file with where it came from and why, and warnings; rendered as the summary, the full list
//! and a CSV, with the exit status that says whether everything landed.

use std::collections::BTreeMap;

use super::{dates::DateTally, input, record};

/// Where a record came from, to name it when it is refused: the child, the record's location
/// (an XML element path, or a file and line) and, per API field, the element or column it was read
/// from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub child_id: String,
    pub location: String,
    pub fields: Vec<(String, String)>,
    /// The return's collection year, where a pooled file's YEAR column gives it.
    pub year: Option<i32>,
    /// The sources in `fields` are columns of the row at `location` (a CSV file's), named
    /// "`location` column `name`" when asked for: a county's file has millions of them, and the
    /// full names are needed only for the few records refused.
    pub sources_are_columns: bool,
}

impl Origin {
    /// The element or column an API field path (`authorisation_date`, `factors[1]`) came from.
    pub(super) fn source_of(&self, field: &str) -> String {
        let bare = field.split('[').next().unwrap_or(field);
        self.fields
            .iter()
            .find(|(f, _)| f == field)
            .or_else(|| self.fields.iter().find(|(f, _)| f == bare))
            .map(|(_, s)| {
                if self.sources_are_columns {
                    format!("{} column {s}", self.location)
                } else {
                    s.clone()
                }
            })
            .unwrap_or_else(|| {
                if field.is_empty() {
                    self.location.clone()
                } else {
                    format!("{} ({field})", self.location)
                }
            })
    }
}

/// One refused record or one warning.
#[derive(Debug, Clone)]
pub struct Problem {
    pub kind: &'static str,
    pub child_id: String,
    pub source: String,
    pub reason: String,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub received: u64,
    pub accepted: u64,
    pub unchanged: u64,
    pub rejected: u64,
}

impl Tally {
    /// Adds another part's counts of the same kind.
    pub fn add(&mut self, other: Tally) {
        self.received += other.received;
        self.accepted += other.accepted;
        self.unchanged += other.unchanged;
        self.rejected += other.rejected;
    }
}

/// What an import did: counts per record kind, every rejection and warning, every file refused
/// whole.
#[derive(Debug, Default)]
pub struct ImportSummary {
    pub tallies: BTreeMap<&'static str, Tally>,
    pub rejected: Vec<Problem>,
    pub warnings: Vec<Problem>,
    pub notes: Vec<String>,
    /// Files or tables refused whole (not well-formed, too large, a workbook, missing columns),
    /// with why: none of their records was sent.
    pub refused_files: Vec<(String, String)>,
    /// What the dates of the file being read held besides plain dates (said by
    /// [`ImportSummary::finish_dates`]).
    pub dates: DateTally,
    /// The LAs of the records sent since the file began ([`ImportSummary::begin_file`]).
    pub las_sent: std::collections::BTreeSet<String>,
    /// The days the file being read covers, where it says (`record`).
    pub covers: record::FileCovers,
}

/// Exit status of an import that ran but did not land everything (README, "Exit status").
pub const EXIT_REFUSALS: u8 = 3;

/// An import that ran to its end with records or files refused: `csc` exits with
/// [`EXIT_REFUSALS`] after printing the summary.
pub(super) fn incomplete(summary: String) -> crate::Incomplete {
    crate::Incomplete {
        command: "import",
        exit: EXIT_REFUSALS,
        message: summary,
    }
}

/// 3685 → "3,685".
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl ImportSummary {
    /// Adds what another part of the same import did (files or services sent at the same time,
    /// each with its own summary): counts add up, and its refusals, warnings, notes and refused
    /// files follow this summary's.
    pub fn absorb(&mut self, other: ImportSummary) {
        let ImportSummary {
            tallies,
            rejected,
            warnings,
            notes,
            refused_files,
            dates: _,
            las_sent,
            covers: _,
        } = other;
        for (kind, t) in tallies {
            self.tallies.entry(kind).or_default().add(t);
        }
        self.rejected.extend(rejected);
        self.warnings.extend(warnings);
        self.notes.extend(notes);
        self.refused_files.extend(refused_files);
        self.las_sent.extend(las_sent);
    }

    /// One refused record, with every problem found in it: the record counts once.
    pub fn reject_record(
        &mut self,
        kind: &'static str,
        child_id: &str,
        problems: impl IntoIterator<Item = (String, String)>,
    ) {
        let t = self.tallies.entry(kind).or_default();
        t.received += 1;
        t.rejected += 1;
        let child_id = if child_id.is_empty() {
            "(none)"
        } else {
            child_id
        };
        for (source, reason) in problems {
            self.rejected.push(Problem {
                kind,
                child_id: child_id.to_owned(),
                source,
                reason,
            });
        }
    }

    /// One refused record with one problem.
    pub fn reject(
        &mut self,
        kind: &'static str,
        child_id: &str,
        source: impl Into<String>,
        reason: impl Into<String>,
    ) {
        self.reject_record(kind, child_id, [(source.into(), reason.into())]);
    }

    /// A file or table refused whole: nothing in it was sent.
    pub fn refuse_file(&mut self, file: impl Into<String>, reason: impl Into<String>) {
        self.refused_files.push((file.into(), reason.into()));
    }

    /// Text found between XML elements (a stray word, perhaps a shifted value): ignored, said so.
    pub fn warn_stray(&mut self, kind: &'static str, child_id: &str, path: &str, text: &str) {
        let child_id = if child_id.is_empty() {
            "(none)"
        } else {
            child_id
        };
        self.warn(
            kind,
            child_id,
            path,
            format!(
                "stray text {} outside any element value; ignored",
                input::quote(text)
            ),
        );
    }

    pub fn warn(
        &mut self,
        kind: &'static str,
        child_id: &str,
        source: impl Into<String>,
        reason: impl Into<String>,
    ) {
        self.warnings.push(Problem {
            kind,
            child_id: child_id.to_owned(),
            source: source.into(),
            reason: reason.into(),
        });
    }

    /// Says, once for `file`, what its dates held besides plain dates: two-digit years (a
    /// warning, with the pivot), and date-times at midnight (a warning in XML, where the schema
    /// asks for dates; a note in CSV, where databases write them).
    pub fn finish_dates(&mut self, file: &str, midnight_is_warning: bool) {
        let t = std::mem::take(&mut self.dates);
        if let Some((at, raw)) = t.first_two_digit {
            self.warn(
                "dates",
                "-",
                file,
                format!(
                    "{} date(s) written with a two-digit year were read with the pivot 00-69 = 2000-2069, 70-99 = 1970-1999 (first: {at}, {})",
                    t.two_digit,
                    input::quote(&raw)
                ),
            );
        }
        if let Some((at, raw)) = t.first_midnight {
            let text = format!(
                "{} date(s) written as a date-time at midnight were read as the date (first: {at}, {})",
                t.midnight,
                input::quote(&raw)
            );
            if midnight_is_warning {
                self.warn("dates", "-", file, text);
            } else {
                self.notes.push(format!("{file}: {text}"));
            }
        }
    }

    /// Records refused, one count per record (a record with three problems counts once).
    pub fn refused_records(&self) -> u64 {
        self.tallies.values().map(|t| t.rejected).sum()
    }

    /// Everything was accepted or already held: no record and no file refused.
    pub fn is_clean(&self) -> bool {
        self.refused_records() == 0 && self.refused_files.is_empty()
    }

    /// The verdict in words: the summary's first line.
    pub fn headline(&self) -> String {
        let records: u64 = self.tallies.values().map(|t| t.received).sum();
        let warnings = match self.warnings.len() {
            0 => String::new(),
            n => format!(", {} warning(s)", thousands(n as u64)),
        };
        if self.is_clean() {
            return format!(
                "Imported: all {} record(s) accepted or unchanged{warnings}.",
                thousands(records)
            );
        }
        let mut parts = Vec::new();
        let refused = self.refused_records();
        if refused > 0 {
            parts.push(format!(
                "{} record(s) of {} refused",
                thousands(refused),
                thousands(records)
            ));
        }
        if !self.refused_files.is_empty() {
            parts.push(format!(
                "{} file(s) or table(s) refused whole",
                self.refused_files.len()
            ));
        }
        format!(
            "Imported with refusals: {}{warnings}; see the lists below (or --report FILE.csv).",
            parts.join(" and ")
        )
    }

    /// The verdict, the notes, the counts, and how many records were refused and warned about
    /// (without listing them: `render` does, and `--report FILE.csv` writes them).
    pub fn render_summary(&self) -> String {
        use std::fmt::Write as _;
        let mut out = self.render_counts();
        let _ = writeln!(
            out,
            "{} refused records and {} warnings (csc import … --report FILE.csv lists them)",
            self.rejected.len(),
            self.warnings.len()
        );
        out
    }

    fn render_counts(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.headline());
        for (file, why) in &self.refused_files {
            let _ = writeln!(out, "REFUSED {file}: {why}");
        }
        for n in &self.notes {
            let _ = writeln!(out, "{n}");
        }
        let _ = writeln!(
            out,
            "\n{:<24} {:>9} {:>9} {:>9} {:>9}",
            "records", "received", "accepted", "unchanged", "rejected"
        );
        for (kind, t) in &self.tallies {
            let _ = writeln!(
                out,
                "{kind:<24} {:>9} {:>9} {:>9} {:>9}",
                t.received, t.accepted, t.unchanged, t.rejected
            );
        }
        let _ = writeln!(
            out,
            "(accepted: new or changed records written; unchanged: already held exactly so)"
        );
        out
    }

    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut out = self.render_counts();
        if !self.rejected.is_empty() {
            let _ = writeln!(out, "\nRejected ({}):", self.rejected.len());
            for p in &self.rejected {
                let _ = writeln!(
                    out,
                    "  {} child {}: {}: {}",
                    p.kind, p.child_id, p.source, p.reason
                );
            }
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(out, "\nWarnings ({}):", self.warnings.len());
            for p in &self.warnings {
                let _ = writeln!(
                    out,
                    "  {} child {}: {}: {}",
                    p.kind, p.child_id, p.source, p.reason
                );
            }
        }
        out
    }

    /// Every refused file, refused record and warning, one a row. Every cell is made safe to open
    /// in a spreadsheet (`csc_core::text::csv_cell`): ids and values come from the files imported.
    pub fn write_csv(&self, path: &std::path::Path) -> anyhow::Result<()> {
        self.write_csv_to(
            std::fs::File::create(path)
                .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?,
        )
    }

    pub fn write_csv_to(&self, out: impl std::io::Write) -> anyhow::Result<()> {
        use csc_core::text::csv_cell;
        let mut w = csv::Writer::from_writer(out);
        w.write_record(["severity", "record", "child_id", "source", "reason"])?;
        for (file, why) in &self.refused_files {
            w.write_record(["refused file", "", "", &csv_cell(file), &csv_cell(why)])?;
        }
        for (sev, list) in [("rejected", &self.rejected), ("warning", &self.warnings)] {
            for p in list {
                // "-" stands for no child in the summary; the sheet leaves the cell empty.
                let child = if p.child_id == "-" { "" } else { &p.child_id };
                w.write_record([
                    sev,
                    p.kind,
                    &csv_cell(child),
                    &csv_cell(&p.source),
                    &csv_cell(&p.reason),
                ])?;
            }
        }
        w.flush()?;
        Ok(())
    }
}
