//! Field-level validation errors, collected at the API edge and returned to callers as gRPC
//! `INVALID_ARGUMENT` with one BadRequest field violation each.

use std::fmt;

use chrono::{NaiveDate, NaiveTime};

use crate::LaCode;

/// One problem with one field: `field` is a path such as `records[17].source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// Every problem found in a request; empty means valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(pub Vec<FieldViolation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `Ok(value)` when no violation was recorded.
    pub fn into_result<T>(self, value: T) -> Result<T, Self> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// The same violations, each field named under `prefix` (`start_date` under `records[3]` is
    /// `records[3].start_date`).
    pub fn under(mut self, prefix: &str) -> Self {
        for v in &mut self.0 {
            v.field = format!("{prefix}.{}", v.field);
        }
        self
    }

    pub fn extend(&mut self, other: Violations) {
        self.0.extend(other.0);
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", v.field, v.description)?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

/// Field-by-field validation of one record, collecting every problem under a path prefix such as
/// `records[3]`. The `api` layer feeds it raw strings and gets typed values or violations.
pub struct FieldCheck<'a> {
    prefix: &'a str,
    pub violations: Violations,
}

/// Longest identifier accepted (child ids, contact ids): longer is almost certainly not an id.
pub const MAX_ID_LEN: usize = 64;

/// What an identifier may be (child, contact, social worker, feedback response ids), as a regular
/// expression for the documentation: letters and digits (any script: a Windows-1252 export may
/// carry `Renée`), then also `_ . - /`, at most [`MAX_ID_LEN`] bytes. Wide enough for every CMS id
/// seen in statutory returns (`DfEX0000001`, `9212044`, `9212044.0` as Excel stores it,
/// `LA/123-4`), and nothing that a spreadsheet, a shell or a page would read as anything but text
/// (`=1+2`, `<b>`, quotes, spaces, control characters).
pub const ID_PATTERN: &str = r"^[\p{L}\p{N}][\p{L}\p{N}_.\-/]*$ (at most 64 bytes)";

/// Whether `s` matches [`ID_PATTERN`].
pub fn is_id(s: &str) -> bool {
    let mut chars = s.chars();
    !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && chars.next().is_some_and(char::is_alphanumeric)
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))
}

/// Dates outside this range are typing errors, not history.
const EARLIEST: (i32, u32, u32) = (1900, 1, 1);
const LATEST: (i32, u32, u32) = (2099, 12, 31);

impl<'a> FieldCheck<'a> {
    pub fn new(prefix: &'a str) -> Self {
        Self {
            prefix,
            violations: Violations::new(),
        }
    }

    fn path(&self, field: &str) -> String {
        if self.prefix.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.prefix)
        }
    }

    pub fn fail(&mut self, field: &str, why: impl Into<String>) {
        let p = self.path(field);
        self.violations.add(p, why);
    }

    pub fn la_code(&mut self, field: &str, v: &str) -> Option<LaCode> {
        LaCode::parse(v).map_err(|e| self.fail(field, e)).ok()
    }

    /// A required identifier ([`ID_PATTERN`]), trimmed.
    pub fn id(&mut self, field: &str, v: &str) -> Option<String> {
        self.optional_id(field, v, true).flatten()
    }

    /// An identifier ([`ID_PATTERN`]), trimmed: `Some(None)` when empty and not required, `None`
    /// when invalid (reported).
    pub fn optional_id(&mut self, field: &str, v: &str, required: bool) -> Option<Option<String>> {
        let t = v.trim();
        if t.is_empty() {
            if required {
                self.fail(field, "required");
                return None;
            }
            return Some(None);
        }
        if t.len() > MAX_ID_LEN {
            self.fail(
                field,
                format!(
                    "{} is longer than {MAX_ID_LEN} characters",
                    crate::text::quote(t)
                ),
            );
            return None;
        }
        if !is_id(t) {
            self.fail(
                field,
                format!(
                    "{} is not an identifier: letters, digits and _ . - / only, starting with a letter or digit",
                    crate::text::quote(t)
                ),
            );
            return None;
        }
        Some(Some(t.to_owned()))
    }

    /// An ISO 8601 date (`2018-04-01`), required.
    pub fn date(&mut self, field: &str, v: &str) -> Option<NaiveDate> {
        if v.trim().is_empty() {
            self.fail(field, "required");
            return None;
        }
        self.optional_date(field, v).flatten()
    }

    /// An ISO 8601 date or empty. `Some(None)` is "empty"; `None` is "invalid" (already reported).
    pub fn optional_date(&mut self, field: &str, v: &str) -> Option<Option<NaiveDate>> {
        let t = v.trim();
        if t.is_empty() {
            return Some(None);
        }
        let lo = NaiveDate::from_ymd_opt(EARLIEST.0, EARLIEST.1, EARLIEST.2).expect("valid");
        let hi = NaiveDate::from_ymd_opt(LATEST.0, LATEST.1, LATEST.2).expect("valid");
        match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            Ok(d) if t.len() == 10 && (lo..=hi).contains(&d) => Some(Some(d)),
            Ok(d) if t.len() == 10 => {
                self.fail(field, format!("date {d} is outside {lo}..{hi}"));
                None
            }
            _ => {
                self.fail(
                    field,
                    format!(
                        "malformed date {}: expected YYYY-MM-DD",
                        crate::text::quote(t)
                    ),
                );
                None
            }
        }
    }

    /// A time of day (`HH:MM` or `HH:MM:SS`) or empty. `Some(None)` is "empty"; `None` is
    /// "invalid" (already reported).
    pub fn optional_time(&mut self, field: &str, v: &str) -> Option<Option<NaiveTime>> {
        let t = v.trim();
        if t.is_empty() {
            return Some(None);
        }
        match crate::parse_time(t) {
            Some(time) => Some(Some(time)),
            None => {
                self.fail(
                    field,
                    format!(
                        "malformed time {}: expected HH:MM (24-hour)",
                        crate::text::quote(t)
                    ),
                );
                None
            }
        }
    }

    /// Free text: `None` when invalid (reported), `Some(None)` when empty and not required.
    pub fn text(
        &mut self,
        field: &str,
        v: &str,
        required: bool,
        max: usize,
    ) -> Option<Option<String>> {
        let t = v.trim();
        if t.is_empty() {
            if required {
                self.fail(field, "required");
                return None;
            }
            return Some(None);
        }
        if t.chars().count() > max {
            self.fail(field, format!("longer than {max} characters"));
            None
        } else if t.chars().any(char::is_control) {
            self.fail(field, "contains control characters");
            None
        } else {
            Some(Some(t.to_owned()))
        }
    }

    /// A code from a statutory list, optional: `Some(None)` when empty.
    pub fn code(
        &mut self,
        field: &str,
        v: &str,
        known: impl Fn(&str) -> bool,
        what: &str,
    ) -> Option<Option<String>> {
        let t = v.trim();
        if t.is_empty() {
            Some(None)
        } else if known(t) {
            Some(Some(t.to_owned()))
        } else {
            self.fail(field, format!("unknown {what} {}", crate::text::quote(t)));
            None
        }
    }

    /// A code from a statutory list, required.
    pub fn required_code(
        &mut self,
        field: &str,
        v: &str,
        known: impl Fn(&str) -> bool,
        what: &str,
    ) -> Option<String> {
        if v.trim().is_empty() {
            self.fail(field, "required");
            return None;
        }
        self.code(field, v, known, what).flatten()
    }

    /// `later` must not be before `earlier` (both already parsed).
    pub fn not_before(
        &mut self,
        field: &str,
        later: Option<NaiveDate>,
        earlier: Option<NaiveDate>,
        what: &str,
    ) {
        if let (Some(l), Some(e)) = (later, earlier)
            && l < e
        {
            self.fail(field, format!("{l} is before the {what} {e}"));
        }
    }

    pub fn done<T>(self, value: Option<T>) -> Result<T, Violations> {
        match value {
            Some(v) if self.violations.is_empty() => Ok(v),
            _ => Err(self.violations),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids of every shape seen in statutory returns pass; anything a spreadsheet, a page or a
    /// shell would read as more than text is refused, naming what was sent.
    #[test]
    fn identifiers_match_the_documented_pattern_at_its_edges() {
        let longest = format!("A{}", "9".repeat(MAX_ID_LEN - 1));
        for ok in [
            "C1",
            "DfEX0000001",
            "Renée",
            "Ä1",
            "9212044",
            "9212044.0",
            "LA/123-4",
            "a_b",
            "0",
            &longest,
        ] {
            assert!(is_id(ok), "{ok}");
            assert_eq!(FieldCheck::new("").id("child_id", ok).as_deref(), Some(ok));
        }
        let too_long = format!("{longest}9");
        for bad in [
            "=1+2",
            "+44",
            "-1",
            "@x",
            "_a",
            ".a",
            "/etc",
            "a b",
            "<b>",
            "C1;",
            "＝1",
            "a\tb",
            "'1",
            "\"C1\"",
            "a\u{200b}b",
            &too_long,
        ] {
            assert!(!is_id(bad), "{bad}");
            let mut c = FieldCheck::new("records[0]");
            assert_eq!(c.id("child_id", bad), None, "{bad}");
            let v = &c.violations.0[0];
            assert_eq!(v.field, "records[0].child_id");
            assert!(
                v.description.starts_with(&crate::text::quote(bad)),
                "{bad}: {}",
                v.description
            );
        }
        assert_eq!(
            FieldCheck::new("").id("child_id", "  C1 ").as_deref(),
            Some("C1")
        );
        assert_eq!(
            FieldCheck::new("").optional_id("child_id", " ", false),
            Some(None)
        );
        assert_eq!(FieldCheck::new("").optional_id("child_id", " ", true), None);
    }

    #[test]
    fn field_check_names_each_problem_under_its_prefix() {
        let mut c = FieldCheck::new("records[3]");
        assert!(c.la_code("la_code", "88").is_none());
        assert!(c.id("child_id", "  ").is_none());
        assert!(c.date("referral_date", "2018-02-30").is_none());
        assert!(c.date("referral_date", "01/04/2018").is_none());
        assert!(c.date("referral_date", "1899-12-31").is_none());
        assert!(c.text("name", &"x".repeat(101), true, 100).is_none());
        assert!(
            c.code("place", "Q9", |x| x == "K2", "903 placement type")
                .is_none()
        );
        assert_eq!(c.optional_date("x", ""), Some(None));
        assert_eq!(
            c.code("place", "", |x| x == "K2", "903 placement type"),
            Some(None)
        );
        assert_eq!(
            c.required_code("place", " K2 ", |x| x == "K2", "903 placement type"),
            Some("K2".to_owned())
        );
        assert!(
            c.required_code("place", "", |x| x == "K2", "903 placement type")
                .is_none()
        );
        let fields: Vec<_> = c.violations.0.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "records[3].la_code",
                "records[3].child_id",
                "records[3].referral_date",
                "records[3].referral_date",
                "records[3].referral_date",
                "records[3].name",
                "records[3].place",
                "records[3].place"
            ]
        );
        let mut ok = FieldCheck::new("");
        let d = ok.date("d", "2018-04-01");
        ok.not_before("e", NaiveDate::from_ymd_opt(2018, 3, 1), d, "start");
        assert_eq!(ok.violations.0[0].field, "e");
    }
}
