//! `csc measures`: a service's measures for an LA and period, as JSON or a table.

use std::fmt::Write as _;

use csc_core::{Measure, MeasureRow, Unit, measure::Num, period::PeriodView};
use csc_proto::{
    common::ComputeMeasuresRequest, finance::finance_service_client::FinanceServiceClient,
    frontdoor::front_door_service_client::FrontDoorServiceClient,
    placements::placements_service_client::PlacementsServiceClient,
    protection::protection_service_client::ProtectionServiceClient,
};
use csc_runtime::convert::measure_from_proto;
use serde::Serialize;

use crate::serve::Service;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Json,
    Table,
}

/// `{ "la_code", "period": {id, start, end}, "measures": [...] }`, measures shaped as in
/// MEASURES.md "The report as data".
#[derive(Serialize)]
pub struct MeasuresDoc {
    pub la_code: String,
    pub period: PeriodView,
    pub measures: Vec<Measure>,
}

/// A service's measures for an LA and period, from its `ComputeMeasures`.
pub async fn fetch(
    service: Service,
    addr: &str,
    la: &str,
    period: &str,
) -> anyhow::Result<MeasuresDoc> {
    let channel = crate::client::channel(addr, service.name()).await?;
    let req = ComputeMeasuresRequest {
        la_code: la.to_owned(),
        period: period.to_owned(),
    };
    let resp = match service {
        Service::Frontdoor => {
            FrontDoorServiceClient::new(channel)
                .compute_measures(req)
                .await
        }
        Service::Protection => {
            ProtectionServiceClient::new(channel)
                .compute_measures(req)
                .await
        }
        Service::Placements => {
            PlacementsServiceClient::new(channel)
                .compute_measures(req)
                .await
        }
        Service::Finance => {
            FinanceServiceClient::new(channel)
                .compute_measures(req)
                .await
        }
        Service::Aggregator => anyhow::bail!(
            "the aggregator has no measures of its own: `csc report` composes the others'"
        ),
        Service::Intake => anyhow::bail!(
            "the intake has no measures of its own: it writes to the front door, child \
             protection and looked-after children services"
        ),
    }
    .map_err(crate::client::describe_status)?
    .into_inner();
    let p = resp.period.unwrap_or_default();
    Ok(MeasuresDoc {
        la_code: resp.la_code,
        period: PeriodView {
            id: p.id,
            start: p.start,
            end: p.end,
        },
        measures: resp.measures.iter().map(measure_from_proto).collect(),
    })
}

/// The front door's measures (the demo and tests).
pub async fn fetch_frontdoor(addr: &str, la: &str, period: &str) -> anyhow::Result<MeasuresDoc> {
    fetch(Service::Frontdoor, addr, la, period).await
}

pub async fn print(
    service: Service,
    addr: &str,
    la: &str,
    period: &str,
    format: Format,
) -> anyhow::Result<()> {
    let doc = fetch(service, addr, la, period).await?;
    match format {
        Format::Json => crate::out(&format!("{}\n", serde_json::to_string_pretty(&doc)?)),
        Format::Table => crate::out(&render_table(&doc)),
    }
    Ok(())
}

fn num(v: Option<Num>) -> String {
    match v {
        Some(Num::Int(i)) => i.to_string(),
        Some(Num::Dec(f)) => format!("{f:.1}"),
        Some(Num::Pence(p)) => pounds(p),
        None => "z".into(),
    }
}

/// `£1,234` for whole pounds, `£1,234.56` otherwise.
fn pounds(pence: i64) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    let (whole, part) = (pence.abs() / 100, pence.abs() % 100);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if part == 0 {
        format!("{sign}£{grouped}")
    } else {
        format!("{sign}£{grouped}.{part:02}")
    }
}

fn value_text(
    money: bool,
    value: Option<Num>,
    numerator: Option<i64>,
    denominator: Option<i64>,
    percent: Option<f64>,
) -> String {
    match (numerator, denominator) {
        // A mean amount of money: the mean, and how many it is over.
        (Some(_), Some(d)) if money => format!("{} (number {d})", num(value)),
        (Some(n), Some(d)) => format!("{n} / {d} = {}%", num(value)),
        _ => match percent {
            Some(p) => format!("{} ({p:.1}%)", num(value)),
            None => num(value),
        },
    }
}

fn row_line(out: &mut String, money: bool, r: &MeasureRow) {
    let _ = writeln!(
        out,
        "    {:<58} {}",
        r.label,
        value_text(money, r.value, r.numerator, r.denominator, r.percent)
    );
}

/// A plain-text table for people at a terminal.
pub fn render_table(doc: &MeasuresDoc) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "LA {}  period {} ({} to {})",
        doc.la_code, doc.period.id, doc.period.start, doc.period.end
    );
    for m in &doc.measures {
        let money = matches!(m.unit, Unit::Gbp | Unit::GbpPerWeek);
        // A breakdown without a total of its own shows only its rows.
        let total = if m.value.is_none() && m.numerator.is_none() && !m.rows.is_empty() {
            String::new()
        } else {
            value_text(money, m.value, m.numerator, m.denominator, None)
        };
        let _ = writeln!(out, "\n{:<62} {total}", m.label);
        let _ = writeln!(out, "  [{}]", m.id);
        // Long code lists (assessment factors) show only the codes that occur.
        let long = m.rows.len() > 12;
        for r in m
            .rows
            .iter()
            .filter(|r| !(long && r.value == Some(Num::Int(0))))
        {
            row_line(&mut out, money, r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_marks_an_empty_denominator_not_a_breakdown_without_a_total() {
        let doc = MeasuresDoc {
            la_code: "885".into(),
            period: PeriodView {
                id: "2018-19-Q1".into(),
                start: "2018-04-01".into(),
                end: "2018-06-30".into(),
            },
            measures: vec![
                Measure::ratio("a.ratio", "Empty ratio", 0, 0),
                Measure::breakdown(
                    "a.rows",
                    "Rows only",
                    Unit::Ratio,
                    vec![MeasureRow::ratio("x", "Row x", 1, 4)],
                ),
            ],
        };
        let text = render_table(&doc);
        let line = |label: &str| text.lines().find(|l| l.starts_with(label)).unwrap();
        assert!(line("Empty ratio").ends_with("0 / 0 = z%"), "{text}");
        assert_eq!(line("Rows only").trim_end(), "Rows only");
        assert!(text.contains("Row x") && text.contains("1 / 4 = 25.0%"));
    }
}
