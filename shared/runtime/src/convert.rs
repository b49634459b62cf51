//! Measures and periods between the domain shape (`csc_core::Measure`, `csc_core::Period`) and the
//! wire (`csc.common.v1`).

use csc_core::measure::Num;
use csc_core::{Measure, MeasureRow, Period, Unit};
use csc_proto::common as pb;

/// A period as the wire writes it: its id and both ends.
pub fn period_to_proto(p: &Period) -> pb::Period {
    pb::Period {
        id: p.id(),
        start: p.start().to_string(),
        end: p.end().to_string(),
    }
}

fn unit_to_proto(u: Unit) -> pb::Unit {
    match u {
        Unit::Count => pb::Unit::Count,
        Unit::Ratio => pb::Unit::Ratio,
        Unit::RatePer10k => pb::Unit::RatePer10k,
        Unit::Gbp => pb::Unit::Gbp,
        Unit::GbpPerWeek => pb::Unit::GbpPerWeek,
    }
}

fn unit_from_proto(u: i32) -> Unit {
    match pb::Unit::try_from(u).unwrap_or(pb::Unit::Unspecified) {
        pb::Unit::Ratio => Unit::Ratio,
        pb::Unit::RatePer10k => Unit::RatePer10k,
        pb::Unit::Gbp => Unit::Gbp,
        pb::Unit::GbpPerWeek => Unit::GbpPerWeek,
        pb::Unit::Count | pb::Unit::Unspecified => Unit::Count,
    }
}

pub fn measure_to_proto(m: &Measure) -> pb::Measure {
    pb::Measure {
        id: m.id.clone(),
        label: m.label.clone(),
        unit: unit_to_proto(m.unit) as i32,
        figure: m.value.map(|v| match v {
            Num::Int(n) => pb::measure::Figure::Count(n),
            Num::Dec(x) => pb::measure::Figure::Value(x),
            Num::Pence(p) => pb::measure::Figure::Pence(p),
        }),
        numerator: m.numerator,
        denominator: m.denominator,
        rows: m
            .rows
            .iter()
            .map(|r| pb::MeasureRow {
                key: r.key.clone(),
                label: r.label.clone(),
                figure: r.value.map(|v| match v {
                    Num::Int(n) => pb::measure_row::Figure::Count(n),
                    Num::Dec(x) => pb::measure_row::Figure::Value(x),
                    Num::Pence(p) => pb::measure_row::Figure::Pence(p),
                }),
                numerator: r.numerator,
                denominator: r.denominator,
                percent: r.percent,
                share: r.is_share,
            })
            .collect(),
    }
}

/// The wire's measure in the domain's shape: each figure as the type it was sent as.
pub fn measure_from_proto(m: &pb::Measure) -> Measure {
    Measure {
        id: m.id.clone(),
        label: m.label.clone(),
        unit: unit_from_proto(m.unit),
        value: m.figure.map(|f| match f {
            pb::measure::Figure::Count(n) => Num::Int(n),
            pb::measure::Figure::Value(x) => Num::Dec(x),
            pb::measure::Figure::Pence(p) => Num::Pence(p),
        }),
        numerator: m.numerator,
        denominator: m.denominator,
        rows: m
            .rows
            .iter()
            .map(|r| MeasureRow {
                key: r.key.clone(),
                label: r.label.clone(),
                value: r.figure.map(|f| match f {
                    pb::measure_row::Figure::Count(n) => Num::Int(n),
                    pb::measure_row::Figure::Value(x) => Num::Dec(x),
                    pb::measure_row::Figure::Pence(p) => Num::Pence(p),
                }),
                numerator: r.numerator,
                denominator: r.denominator,
                percent: r.percent,
                is_share: r.share,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_comes_back_as_the_type_it_was_sent_as() {
        let m = Measure {
            rows: vec![
                MeasureRow::share("a", "A", 3, 4),
                MeasureRow::ratio("b", "B", 1, 0),
                MeasureRow::money("c", "C", 123_456),
                MeasureRow::mean("d", "D", None, 0, 0),
                // A decimal that happens to be whole stays a decimal (nothing is guessed from
                // the number), and a whole number is a count whatever the unit.
                MeasureRow {
                    value: Some(Num::Dec(12.0)),
                    ..MeasureRow::count("e", "E", 0)
                },
            ],
            ..Measure::mean("m", "M", Unit::GbpPerWeek, Some(78_950), 157_900, 2)
        };
        let back = measure_from_proto(&measure_to_proto(&m));
        assert_eq!(back, m);
        assert_eq!(back.rows[4].value, Some(Num::Dec(12.0)));
        let rate = Measure {
            unit: Unit::RatePer10k,
            ..Measure::count("r", "R", 54)
        };
        assert_eq!(measure_from_proto(&measure_to_proto(&rate)), rate);
        let wire = measure_to_proto(&m);
        assert_eq!(wire.figure, Some(pb::measure::Figure::Pence(78_950)));
        assert_eq!(
            wire.rows[2].figure,
            Some(pb::measure_row::Figure::Pence(123_456))
        );
        assert_eq!(wire.rows[3].figure, None, "a mean of nothing has no figure");
    }
}
