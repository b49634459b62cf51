//! A report's figures as cells, and their suppression in published output (MEASURES.md
//! "Suppression"). A cell is a number, no value (`null` in JSON, `z` in tables) or suppressed
//! (`"c"`); which of these it is is a type, never a string to compare.

use csc_core::{measure::Num, suppression};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The marker of a suppressed figure, in JSON and in tables.
pub const SUPPRESSED: &str = "c";

/// One figure of a report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<T> {
    Number(T),
    /// There is no value (a ratio over 0, a mean of nothing): `null`, shown `z`.
    NoValue,
    /// Hidden in published output: `"c"`.
    Suppressed,
}

impl<T: Copy> Cell<T> {
    pub fn number(self) -> Option<T> {
        match self {
            Cell::Number(n) => Some(n),
            _ => None,
        }
    }

    pub fn is_suppressed(self) -> bool {
        matches!(self, Cell::Suppressed)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Cell<U> {
        match self {
            Cell::Number(n) => Cell::Number(f(n)),
            Cell::NoValue => Cell::NoValue,
            Cell::Suppressed => Cell::Suppressed,
        }
    }
}

impl Cell<Num> {
    /// The figure's number as a float (pounds for money), if it is a number: for charts and
    /// comparisons.
    pub fn as_f64(self) -> Option<f64> {
        self.number().map(Num::as_f64)
    }
}

/// A count (a numerator, a denominator) as a figure.
impl From<Cell<i64>> for Cell<Num> {
    fn from(c: Cell<i64>) -> Self {
        c.map(Num::Int)
    }
}

/// A percentage as a figure.
impl From<Cell<f64>> for Cell<Num> {
    fn from(c: Cell<f64>) -> Self {
        c.map(Num::Dec)
    }
}

impl<T> From<Option<T>> for Cell<T> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cell::NoValue, Cell::Number)
    }
}

impl<T: Serialize> Serialize for Cell<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Number(n) => n.serialize(s),
            Cell::NoValue => s.serialize_none(),
            Cell::Suppressed => s.serialize_str(SUPPRESSED),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Cell<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written<T> {
            Number(T),
            Text(String),
        }
        match Option::<Written<T>>::deserialize(d)? {
            None => Ok(Cell::NoValue),
            Some(Written::Number(n)) => Ok(Cell::Number(n)),
            Some(Written::Text(t)) if t == SUPPRESSED => Ok(Cell::Suppressed),
            Some(Written::Text(t)) => Err(serde::de::Error::custom(format!(
                "{t:?} is not a figure (a number, null, or \"{SUPPRESSED}\")"
            ))),
        }
    }
}

/// A cell written in JSON, `null` included: absent is `None`, `null` is `Some(NoValue)`.
fn written<'de, D, T>(d: D) -> Result<Option<Cell<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Cell::deserialize(d).map(Some)
}

/// The figures of a measure, a row, or a trend point. A count has a `value`; a ratio, a rate or a
/// mean of money has a `numerator` and a `denominator` too (the numbers it was computed from:
/// whole numbers, pence for a total of money); `percent` is a row's share of its measure's total.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cells {
    #[serde(deserialize_with = "written", skip_serializing_if = "Option::is_none")]
    pub numerator: Option<Cell<i64>>,
    #[serde(deserialize_with = "written", skip_serializing_if = "Option::is_none")]
    pub denominator: Option<Cell<i64>>,
    /// Money is held in pence ([`Num::Pence`]) and written in pounds.
    #[serde(deserialize_with = "written", skip_serializing_if = "Option::is_none")]
    pub value: Option<Cell<Num>>,
    #[serde(deserialize_with = "written", skip_serializing_if = "Option::is_none")]
    pub percent: Option<Cell<f64>>,
}

impl Cells {
    /// The value as a count, if it is one.
    pub fn count_value(&self) -> Option<i64> {
        match self.value?.number()? {
            Num::Int(n) => Some(n),
            _ => None,
        }
    }

    /// A ratio (or rate, or mean): it carries a numerator and a denominator.
    pub fn is_ratio(&self) -> bool {
        self.numerator.is_some() && self.denominator.is_some()
    }

    /// Money as JSON writes it (pounds) back in pence: `1234.5` is 123,450 pence. Exact for
    /// every amount the suite writes (whole pence, below 2^53).
    pub fn money_in_pence(&mut self) {
        if let Some(Cell::Number(n)) = &mut self.value {
            *n = match *n {
                Num::Int(pounds) => Num::Pence(pounds * 100),
                Num::Dec(pounds) => Num::Pence((pounds * 100.0).round() as i64),
                pence @ Num::Pence(_) => pence,
            };
        }
    }

    fn hide<T>(c: &mut Option<Cell<T>>) {
        if let Some(cell @ Cell::Number(_)) = c {
            *cell = Cell::Suppressed;
        }
    }

    pub(crate) fn hide_all(&mut self) {
        Self::hide(&mut self.value);
        Self::hide(&mut self.numerator);
        Self::hide(&mut self.denominator);
        Self::hide(&mut self.percent);
    }

    fn whole(c: Option<Cell<i64>>) -> Option<i64> {
        c?.number()
    }

    /// The count these cells show, for secondary suppression across a breakdown: a count row's
    /// value, or the number of items a mean of money was taken over. A ratio row is a ratio of
    /// its own, not a part of a total: `None`.
    fn count(&self, money: bool) -> Option<i64> {
        if self.is_ratio() {
            money.then(|| Self::whole(self.denominator)).flatten()
        } else if money {
            None
        } else {
            self.count_value()
        }
    }

    /// Primary suppression of one set of figures.
    fn suppress(&mut self, money: bool) {
        let small = |c: Option<Cell<i64>>| Self::whole(c).is_some_and(suppression::is_small);
        if money {
            // A mean over 1–5 items: the mean, the total and the number all go.
            if self.is_ratio() && small(self.denominator) {
                self.hide_all();
            }
        } else if self.is_ratio() {
            let (n, d) = (small(self.numerator), small(self.denominator));
            if n || d {
                Self::hide(&mut self.value);
                Self::hide(&mut self.percent);
            }
            if n {
                Self::hide(&mut self.numerator);
            }
            if d {
                Self::hide(&mut self.denominator);
            }
        } else if self.count_value().is_some_and(suppression::is_small) {
            self.hide_all();
        }
    }
}

/// Suppresses a measure's (or a snapshot's) figures and its breakdown: each set of cells on its
/// own, then one more row wherever a hidden row could be recovered from the total and the rest.
/// A row keyed `total` is the total, not a part.
pub fn suppress_body<'a>(
    money: bool,
    cells: &mut Cells,
    rows: impl IntoIterator<Item = (&'a str, &'a mut Cells)>,
) {
    cells.suppress(money);
    let rows: Vec<(&str, &mut Cells)> = rows.into_iter().collect();
    let counts: Vec<Option<i64>> = rows
        .iter()
        .map(|(key, c)| {
            if *key == "total" {
                None
            } else {
                c.count(money)
            }
        })
        .collect();
    let hide = suppression::suppressed_cells(&counts);
    for ((_, cells), hide) in rows.into_iter().zip(hide) {
        if hide {
            cells.hide_all();
        } else {
            cells.suppress(money);
        }
    }
}
