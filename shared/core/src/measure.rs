//! The shape of a measure, as MEASURES.md "The report as data" defines it, independent of the wire
//! format: services compute these, the API carries them, the CLI and the aggregator render them.

use serde::{Deserialize, Deserializer, Serialize, Serializer, ser::SerializeMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Count,
    Ratio,
    /// `rate_per_10k` (serde's snake_case would write `rate_per10k`).
    #[serde(rename = "rate_per_10k")]
    RatePer10k,
    Gbp,
    GbpPerWeek,
}

impl Unit {
    /// As MEASURES.md writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "count",
            Unit::Ratio => "ratio",
            Unit::RatePer10k => "rate_per_10k",
            Unit::Gbp => "gbp",
            Unit::GbpPerWeek => "gbp_per_week",
        }
    }

    /// An amount of money: figures in pence, shown in pounds.
    pub fn is_money(self) -> bool {
        matches!(self, Unit::Gbp | Unit::GbpPerWeek)
    }
}

/// A number in a measure: whole for counts and money in pounds, one decimal for percentages and
/// rates. Kept apart so that JSON shows `1234`, not `1234.0`, for a count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i64),
    Dec(f64),
    /// Money, exactly, in pence. Shown in pounds: `1234` for £1,234.00, `1234.5` for £1,234.50.
    Pence(i64),
}

impl Num {
    /// The number as shown: pounds for money.
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Dec(f) => f,
            Num::Pence(p) => p as f64 / 100.0,
        }
    }
}

/// `n / d` rounded to a whole number, half away from zero, in exact integer arithmetic
/// (`d` > 0). Used for means of money: pence to the nearest pound is `div_round(pence, 100)`.
pub fn div_round(n: i128, d: i128) -> i128 {
    assert!(d > 0, "divisor must be positive");
    let q = (2 * n.abs() + d) / (2 * d);
    if n < 0 { -q } else { q }
}

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Num::Int(i) => s.serialize_i64(i),
            Num::Dec(f) => s.serialize_f64(f),
            Num::Pence(p) if p % 100 == 0 => s.serialize_i64(p / 100),
            Num::Pence(p) => s.serialize_f64(p as f64 / 100.0),
        }
    }
}

/// A number read back from JSON as it was written: a whole number as [`Num::Int`], any other as
/// [`Num::Dec`]. JSON writes money in pounds, so money comes back as pounds too: only the unit
/// says it is money, and the reader that knows the unit makes it pence again.
impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Num;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Num, E> {
                Ok(Num::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Num, E> {
                i64::try_from(v)
                    .map(Num::Int)
                    .map_err(|_| E::custom(format!("{v} is too large a count")))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Num, E> {
                Ok(Num::Dec(v))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// `100 × n / d` to one decimal place, half away from zero, computed exactly in integers;
/// `None` when `d` is 0 (rendered `z`).
pub fn percent_1dp(n: i64, d: i64) -> Option<f64> {
    if d == 0 {
        return None;
    }
    let negative = (n < 0) != (d < 0);
    let (n, d) = (i128::from(n).abs(), i128::from(d).abs());
    // tenths of a percent = round(1000 n / d), half up on magnitudes = half away from zero.
    let tenths = (2000 * n + d) / (2 * d);
    let v = tenths as f64 / 10.0;
    Some(if negative { -v } else { v })
}

/// One row of a breakdown: shaped like a measure, plus `percent` where it is a share of a total.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureRow {
    pub key: String,
    pub label: String,
    pub value: Option<Num>,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub percent: Option<f64>,
    /// Whether `percent` applies to this row (a share of the measure's total), even when it is
    /// `None` because the total is 0.
    pub is_share: bool,
}

impl MeasureRow {
    pub fn count(key: impl Into<String>, label: impl Into<String>, n: i64) -> Self {
        Self {
            key: key.into(),
            label: label.into(),
            value: Some(Num::Int(n)),
            numerator: None,
            denominator: None,
            percent: None,
            is_share: false,
        }
    }

    /// A count that is a share of `total`: value `n`, percent `100 × n / total`.
    pub fn share(key: impl Into<String>, label: impl Into<String>, n: i64, total: i64) -> Self {
        Self {
            percent: percent_1dp(n, total),
            is_share: true,
            ..Self::count(key, label, n)
        }
    }

    /// An amount of money.
    pub fn money(key: impl Into<String>, label: impl Into<String>, pence: i64) -> Self {
        Self {
            value: Some(Num::Pence(pence)),
            ..Self::count(key, label, 0)
        }
    }

    /// A mean amount (`value`, in pence) with the total (`numerator`, pence) and the number of
    /// items (`denominator`) it was computed from; no value when there are none.
    pub fn mean(
        key: impl Into<String>,
        label: impl Into<String>,
        mean_pence: Option<i64>,
        total_pence: i64,
        n: i64,
    ) -> Self {
        Self {
            value: mean_pence.map(Num::Pence),
            numerator: Some(total_pence),
            denominator: Some(n),
            ..Self::count(key, label, 0)
        }
    }

    pub fn ratio(key: impl Into<String>, label: impl Into<String>, n: i64, d: i64) -> Self {
        Self {
            key: key.into(),
            label: label.into(),
            value: percent_1dp(n, d).map(Num::Dec),
            numerator: Some(n),
            denominator: Some(d),
            percent: None,
            is_share: false,
        }
    }
}

/// One measure of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    pub id: String,
    pub label: String,
    pub unit: Unit,
    pub value: Option<Num>,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub rows: Vec<MeasureRow>,
}

impl Measure {
    pub fn count(id: impl Into<String>, label: impl Into<String>, n: i64) -> Self {
        Self {
            id: id.into(),
            label: label.into(),
            unit: Unit::Count,
            value: Some(Num::Int(n)),
            numerator: None,
            denominator: None,
            rows: Vec::new(),
        }
    }

    /// A mean amount of money (`value`, pence) with the total (`numerator`, pence) and the number
    /// of items (`denominator`) it was computed from, as [`MeasureRow::mean`].
    pub fn mean(
        id: impl Into<String>,
        label: impl Into<String>,
        unit: Unit,
        mean_pence: Option<i64>,
        total_pence: i64,
        n: i64,
    ) -> Self {
        Self {
            unit,
            value: mean_pence.map(Num::Pence),
            numerator: Some(total_pence),
            denominator: Some(n),
            ..Self::count(id, label, 0)
        }
    }

    /// An amount of money in `unit` (gbp or gbp_per_week).
    pub fn money(id: impl Into<String>, label: impl Into<String>, unit: Unit, pence: i64) -> Self {
        Self {
            unit,
            value: Some(Num::Pence(pence)),
            ..Self::count(id, label, 0)
        }
    }

    pub fn ratio(id: impl Into<String>, label: impl Into<String>, n: i64, d: i64) -> Self {
        Self {
            id: id.into(),
            label: label.into(),
            unit: Unit::Ratio,
            value: percent_1dp(n, d).map(Num::Dec),
            numerator: Some(n),
            denominator: Some(d),
            rows: Vec::new(),
        }
    }

    /// A breakdown with no single total value (each row stands alone).
    pub fn breakdown(
        id: impl Into<String>,
        label: impl Into<String>,
        unit: Unit,
        rows: Vec<MeasureRow>,
    ) -> Self {
        Self {
            id: id.into(),
            label: label.into(),
            unit,
            value: None,
            numerator: None,
            denominator: None,
            rows,
        }
    }

    pub fn with_rows(mut self, rows: Vec<MeasureRow>) -> Self {
        self.rows = rows;
        self
    }

    pub fn row(&self, key: &str) -> Option<&MeasureRow> {
        self.rows.iter().find(|r| r.key == key)
    }
}

/// A ratio's `value` is always present (null when the denominator is 0); a count's when set.
fn write_value<M: SerializeMap>(
    map: &mut M,
    value: Option<Num>,
    numerator: Option<i64>,
    denominator: Option<i64>,
) -> Result<(), M::Error> {
    if let (Some(n), Some(d)) = (numerator, denominator) {
        map.serialize_entry("numerator", &n)?;
        map.serialize_entry("denominator", &d)?;
        map.serialize_entry("value", &value)?;
    } else if value.is_some() {
        map.serialize_entry("value", &value)?;
    }
    Ok(())
}

impl Serialize for MeasureRow {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("key", &self.key)?;
        map.serialize_entry("label", &self.label)?;
        write_value(&mut map, self.value, self.numerator, self.denominator)?;
        if self.is_share {
            map.serialize_entry("percent", &self.percent)?;
        }
        map.end()
    }
}

impl Serialize for Measure {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("label", &self.label)?;
        map.serialize_entry("unit", &self.unit)?;
        write_value(&mut map, self.value, self.numerator, self.denominator)?;
        if !self.rows.is_empty() {
            map.serialize_entry("rows", &self.rows)?;
        }
        map.end()
    }
}

/// Reading computed measures by id, for tests: each helper panics with the id (and row key) when
/// the measure is missing or not of the shape asked for.
pub mod testing {
    use super::{Measure, MeasureRow, Num};

    pub fn measure<'a>(ms: &'a [Measure], id: &str) -> &'a Measure {
        ms.iter()
            .find(|m| m.id == id)
            .unwrap_or_else(|| panic!("no measure {id}"))
    }

    fn row<'a>(ms: &'a [Measure], id: &str, key: &str) -> &'a MeasureRow {
        measure(ms, id)
            .row(key)
            .unwrap_or_else(|| panic!("{id} has no row {key}"))
    }

    /// A count's value.
    pub fn count(ms: &[Measure], id: &str) -> i64 {
        match measure(ms, id).value {
            Some(Num::Int(n)) => n,
            v => panic!("{id}: {v:?} is not a count"),
        }
    }

    /// A ratio's (numerator, denominator).
    pub fn ratio(ms: &[Measure], id: &str) -> (i64, i64) {
        let m = measure(ms, id);
        match (m.numerator, m.denominator) {
            (Some(n), Some(d)) => (n, d),
            v => panic!("{id}: {v:?} is not a ratio"),
        }
    }

    /// A row's count.
    pub fn row_count(ms: &[Measure], id: &str, key: &str) -> i64 {
        match row(ms, id, key).value {
            Some(Num::Int(n)) => n,
            v => panic!("{id}/{key}: {v:?} is not a count"),
        }
    }

    /// A row's (numerator, denominator).
    pub fn row_ratio(ms: &[Measure], id: &str, key: &str) -> (i64, i64) {
        let r = row(ms, id, key);
        match (r.numerator, r.denominator) {
            (Some(n), Some(d)) => (n, d),
            v => panic!("{id}/{key}: {v:?} is not a ratio"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounds_half_away_from_zero_exactly() {
        assert_eq!(percent_1dp(203, 1234), Some(16.5)); // 16.45045...
        assert_eq!(percent_1dp(1, 8), Some(12.5)); // 12.5 exactly
        assert_eq!(percent_1dp(1, 16), Some(6.3)); // 6.25 → 6.3, not banker's 6.2
        assert_eq!(percent_1dp(1, 3), Some(33.3));
        assert_eq!(percent_1dp(2, 3), Some(66.7));
        assert_eq!(percent_1dp(0, 5), Some(0.0));
        assert_eq!(percent_1dp(5, 5), Some(100.0));
        assert_eq!(percent_1dp(-1, 16), Some(-6.3));
        assert_eq!(percent_1dp(3, 0), None);
    }

    #[test]
    fn units_are_spelt_as_the_contract_spells_them() {
        let spelt = |u: Unit| serde_json::to_value(u).unwrap();
        assert_eq!(spelt(Unit::Count), "count");
        assert_eq!(spelt(Unit::Ratio), "ratio");
        assert_eq!(spelt(Unit::RatePer10k), "rate_per_10k");
        assert_eq!(spelt(Unit::Gbp), "gbp");
        assert_eq!(spelt(Unit::GbpPerWeek), "gbp_per_week");
    }

    #[test]
    fn money_is_exact_and_shown_in_pounds() {
        assert_eq!(serde_json::to_string(&Num::Pence(123_400)).unwrap(), "1234");
        assert_eq!(
            serde_json::to_string(&Num::Pence(123_456)).unwrap(),
            "1234.56"
        );
        assert_eq!(serde_json::to_string(&Num::Pence(5)).unwrap(), "0.05");
        assert_eq!(div_round(150, 100), 2); // £1.50 → £2
        assert_eq!(div_round(149, 100), 1);
        assert_eq!(div_round(250, 100), 3); // half away from zero, not to even
        assert_eq!(div_round(-150, 100), -2);
        assert_eq!(div_round(301, 3), 100);
    }

    #[test]
    fn json_shape_matches_the_contract() {
        let m = Measure::ratio("frontdoor.rereferrals_12m", "Re-referrals", 203, 1234);
        let j = serde_json::to_value(&m).unwrap();
        assert_eq!(j["unit"], "ratio");
        assert_eq!(j["numerator"], 203);
        assert_eq!(j["value"], 16.5);
        let z = serde_json::to_value(Measure::ratio("x", "x", 0, 0)).unwrap();
        assert!(z["value"].is_null() && z.get("value").is_some());
        let c = Measure::count("frontdoor.referrals", "Referrals", 1234)
            .with_rows(vec![MeasureRow::share("police", "Police", 456, 1234)]);
        let j = serde_json::to_string(&c).unwrap();
        assert!(j.contains("\"value\":1234,"), "{j}");
        assert!(
            j.contains("\"percent\":37.0") || j.contains("\"percent\":37"),
            "{j}"
        );
        assert!(!j.contains("numerator"));
    }
}
