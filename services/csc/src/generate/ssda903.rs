//! Children looked after: periods of care with their placements and social workers, written as
//! an SSDA903 return (header, episodes and social worker tables).

use chrono::{Duration, NaiveDate};
use csc_core::Period;

use super::calibration::{MOVE_REASONS, PLACEMENTS_16_PLUS, PLACEMENTS_UNDER_16};
use super::draws::{Draw, dmy};
use super::{CareChild, Episode903, Ids, Span, Writer};

/// Every period of care open on or after the files' start.
pub(super) fn looked_after(g: &mut Draw, ids: &mut Ids, span: &Span) -> Vec<CareChild> {
    let Span {
        scale,
        until,
        first_fy,
        start,
        ..
    } = *span;
    let care_start = Period::year(first_fy - 9).start();
    let mut care: Vec<CareChild> = Vec::new();
    let mut worker_n = (60.0 * scale).max(8.0) as i64;
    let starts_per_day = 330.0 * scale / 365.0;
    let mut d = care_start;
    while d <= until {
        for _ in 0..g.poisson(starts_per_day) {
            if let Some(c) = care_period(g, ids.next('L'), d, until, &mut worker_n) {
                care.push(c);
            }
        }
        d += Duration::days(1);
    }
    // Only what a return covering the files' years holds: periods open on or after the start.
    care.retain(|c| c.end.is_none_or(|e| e >= start));
    care
}

/// One period of care starting on `start`: its episodes and social workers, or `None` when the
/// child would be 18 before it starts.
fn care_period(
    g: &mut Draw,
    id: String,
    start: NaiveDate,
    until: NaiveDate,
    worker_n: &mut i64,
) -> Option<CareChild> {
    let age = *g.weighted(&[
        (20.0, (0, 0)),
        (15.0, (1, 4)),
        (20.0, (5, 9)),
        (35.0, (10, 15)),
        (10.0, (16, 17)),
    ]);
    let years = g.range(age.0, age.1);
    let dob = start - Duration::days(years * 365 + g.range(0, 364));
    let eighteen = csc_core::add_months(dob, 18 * 12);
    if eighteen <= start {
        return None;
    }
    let len = match *g.weighted(&[(42.0, 0u8), (20.0, 1), (38.0, 2)]) {
        0 => g.range(10, 364),
        1 => g.range(365, 729),
        _ => g.range(730, 3650),
    };
    let mut end = start + Duration::days(len);
    let rec;
    if end >= eighteen {
        end = eighteen;
        rec = "E8";
    } else if years < 5 && len > 300 {
        rec = *g.pick(&["E11", "E11", "E12", "E41"]);
    } else {
        rec = *g.weighted(&[
            (55.0, "E4A"),
            (15.0, "E12"),
            (12.0, "E8"),
            (10.0, "E41"),
            (8.0, "E13"),
        ]);
    }
    let end = (end <= until).then_some(end);
    let unstable = g.p(0.08);
    let ls_first = *g.weighted(&[(45.0, "C1"), (30.0, "V2"), (25.0, "C2")]);
    let cin = *g.weighted(&[
        (62.0, "N1"),
        (10.0, "N4"),
        (9.0, "N5"),
        (8.0, "N6"),
        (6.0, "N2"),
        (5.0, "N8"),
    ]);
    let last_day = end.unwrap_or(until);
    let mut episodes: Vec<Episode903> = Vec::new();
    let mut d = start;
    let mut ls = ls_first;
    let mut first = true;
    while d < last_day || (first && d == last_day) {
        let age_now = (d - dob).num_days() / 365;
        let (place, provider) = if age_now >= 16 {
            *g.weighted(PLACEMENTS_16_PLUS)
        } else if unstable && !first && g.p(0.35) {
            ("K2", if g.p(0.7) { "PR4" } else { "PR1" })
        } else {
            *g.weighted(PLACEMENTS_UNDER_16)
        };
        let place = if place == "SUPPORTED" {
            if d >= NaiveDate::from_ymd_opt(2024, 4, 1).expect("valid") {
                "K3"
            } else {
                "H5"
            }
        } else {
            place
        };
        let stay = if unstable {
            g.exp_days(90.0, 7)
        } else {
            g.exp_days(700.0, 30)
        };
        let p_end = (d + Duration::days(stay)).min(last_day);
        // A change of legal status alone, inside the placement: a new episode, not a new placement.
        let mut segments = vec![(d, ls)];
        if ls == "C1" {
            let change = d + Duration::days(g.range(60, 200));
            if change < p_end {
                segments.push((change, "C2"));
            }
        }
        for (i, (s, l)) in segments.iter().enumerate() {
            let seg_end = segments.get(i + 1).map(|x| x.0).unwrap_or(p_end);
            let rne = if i > 0 {
                "L"
            } else if first {
                "S"
            } else {
                "P"
            };
            episodes.push(Episode903 {
                decom: *s,
                rne,
                ls: l,
                cin,
                place: place.to_owned(),
                provider,
                dec: Some(seg_end),
                rec: Some("X1"),
                reason: None,
            });
            ls = l;
        }
        if p_end < last_day {
            let last = episodes.last_mut().expect("an episode");
            last.reason = Some(*g.weighted(MOVE_REASONS));
        }
        first = false;
        d = p_end;
        if p_end >= last_day {
            break;
        }
    }
    let last = episodes.last_mut()?;
    match end {
        Some(e) => {
            last.dec = Some(e);
            last.rec = Some(rec);
        }
        None => {
            last.dec = None;
            last.rec = None;
        }
    }
    // Social workers: a change every 9 months or so; a new worker's allocation starts the day
    // the previous one's ends.
    let mut workers = Vec::new();
    let mut s = start;
    loop {
        *worker_n += 1;
        let sw = format!("SW{:05}", g.range(1, (*worker_n).min(400)));
        let e = s + Duration::days(g.exp_days(270.0, 21));
        if e >= last_day {
            workers.push((sw, s, end, "OTHERS"));
            break;
        }
        workers.push((
            sw,
            s,
            Some(e),
            *g.pick(&["LEFTROLE", "MANAGE", "ORGRESTRUC", "OTHERS"]),
        ));
        s = e;
    }
    Some(CareChild {
        id,
        dob,
        sex: if g.p(0.55) { 1 } else { 2 },
        start,
        end,
        episodes,
        workers,
    })
}

pub(super) fn write_903(w: &mut Writer, care: &[CareChild]) -> anyhow::Result<()> {
    let header = care
        .iter()
        .map(|c| {
            vec![
                c.id.clone(),
                c.sex.to_string(),
                dmy(c.dob),
                "WBRI".into(),
                String::new(),
            ]
        })
        .collect();
    w.csv(
        "ssda903/header.csv",
        "903 children",
        &["CHILD", "SEX", "DOB", "ETHNIC", "UPN"],
        header,
    )?;
    let mut eps = Vec::new();
    for c in care {
        for e in &c.episodes {
            eps.push(vec![
                c.id.clone(),
                dmy(e.decom),
                e.rne.into(),
                e.ls.into(),
                e.cin.into(),
                e.place.clone(),
                e.provider.into(),
                e.dec.map(dmy).unwrap_or_default(),
                e.rec.unwrap_or_default().into(),
                e.reason.unwrap_or_default().into(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
    }
    w.csv(
        "ssda903/episodes.csv",
        "903 episodes",
        &[
            "CHILD",
            "DECOM",
            "RNE",
            "LS",
            "CIN",
            "PLACE",
            "PLACE_PROVIDER",
            "DEC",
            "REC",
            "REASON_PLACE_CHANGE",
            "HOME_POST",
            "PL_POST",
            "URN",
        ],
        eps,
    )?;
    let mut sw = Vec::new();
    for c in care {
        for (id, s, e, reason) in &c.workers {
            sw.push(vec![
                c.id.clone(),
                dmy(c.dob),
                id.clone(),
                dmy(*s),
                e.map(dmy).unwrap_or_default(),
                if e.is_some() {
                    reason.to_string()
                } else {
                    String::new()
                },
            ]);
        }
    }
    w.csv(
        "ssda903/sw_episodes.csv",
        "903 social worker episodes",
        &["CHILD", "DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"],
        sw,
    )
}
