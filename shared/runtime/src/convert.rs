//! Measures between the domain shape (`csc_core::Measure`) and the wire (`csc.common.v1.Measure`).

use csc_core::measure::Num;
use csc_core::{Measure, MeasureRow, Unit};
use csc_proto::common as pb;

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
        value: wire_value(m.value),
        pence: pence(m.value),
        numerator: m.numerator,
        denominator: m.denominator,
        rows: m
            .rows
            .iter()
            .map(|r| pb::MeasureRow {
                key: r.key.clone(),
                label: r.label.clone(),
                value: wire_value(r.value),
                pence: pence(r.value),
                numerator: r.numerator,
                denominator: r.denominator,
                percent: r.percent,
                share: r.is_share,
            })
            .collect(),
    }
}

/// Money travels as exact pence, never as a floating-point `value`.
fn wire_value(v: Option<Num>) -> Option<f64> {
    match v {
        Some(Num::Pence(_)) | None => None,
        Some(n) => Some(n.as_f64()),
    }
}

fn pence(v: Option<Num>) -> Option<i64> {
    match v {
        Some(Num::Pence(p)) => Some(p),
        _ => None,
    }
}

/// A wire value back to the domain: money from its pence; a count is whole unless it is a
/// percentage or a rate.
fn num(value: Option<f64>, pence: Option<i64>, is_ratio: bool, unit: Unit) -> Option<Num> {
    if let Some(p) = pence {
        return Some(Num::Pence(p));
    }
    value.map(|v| {
        let whole = !is_ratio
            && matches!(unit, Unit::Count | Unit::Gbp | Unit::GbpPerWeek)
            && v.fract() == 0.0;
        if whole {
            Num::Int(v as i64)
        } else {
            Num::Dec(v)
        }
    })
}

pub fn measure_from_proto(m: &pb::Measure) -> Measure {
    let unit = unit_from_proto(m.unit);
    Measure {
        id: m.id.clone(),
        label: m.label.clone(),
        unit,
        value: num(m.value, m.pence, m.numerator.is_some(), unit),
        numerator: m.numerator,
        denominator: m.denominator,
        rows: m
            .rows
            .iter()
            .map(|r| MeasureRow {
                key: r.key.clone(),
                label: r.label.clone(),
                value: num(r.value, r.pence, r.numerator.is_some(), unit),
                numerator: r.numerator,
                denominator: r.denominator,
                percent: r.percent,
                is_share: r.share,
            })
            .collect(),
    }
}
