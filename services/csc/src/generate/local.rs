//! The local files a council keeps beside its returns: missing and away episodes with return
//! interviews, service-user feedback and weekly placement costs (docs/formats.md).

use chrono::{Datelike, Duration, NaiveDate};

use super::calibration::{FEEDBACK, weekly_cost};
use super::draws::{Draw, opt};
use super::{CareChild, CinChild, Span, Writer};

/// Missing and away episodes, from home and from care, with their return interviews.
pub(super) fn missing(
    g: &mut Draw,
    w: &mut Writer,
    children: &std::collections::BTreeMap<String, CinChild>,
    care: &[CareChild],
    span: &Span,
) -> anyhow::Result<()> {
    let Span {
        scale,
        until,
        start,
        ..
    } = *span;
    let mut missing: Vec<Vec<String>> = Vec::new();
    let cin_ids: Vec<&String> = children.keys().collect();
    let mut d = start;
    while d <= until {
        for from_care in [false, true] {
            let (m_rate, a_rate) = if from_care { (3.0, 0.7) } else { (2.6, 0.8) };
            for kind in ["M", "A"] {
                let rate = if kind == "M" { m_rate } else { a_rate } * scale;
                // The smallest LAs (the Isles of Scilly) may have no child in care, or none
                // in need, to go missing.
                if (from_care && care.is_empty()) || (!from_care && cin_ids.is_empty()) {
                    continue;
                }
                for _ in 0..g.poisson(rate) {
                    let child = if from_care {
                        // A child in care that day.
                        let mut found = None;
                        for _ in 0..20 {
                            let c = g.pick(care);
                            if c.start <= d && c.end.is_none_or(|e| e > d) {
                                found = Some(c.id.clone());
                                break;
                            }
                        }
                        match found {
                            Some(c) => c,
                            None => continue,
                        }
                    } else {
                        (*g.pick(&cin_ids)).clone()
                    };
                    missing.push(missing_row(g, &child, kind, from_care, d, until));
                }
            }
        }
        d += Duration::days(1);
    }
    // One episode per child and start day.
    missing.sort_by(|a, b| (&a[0], &a[3]).cmp(&(&b[0], &b[3])));
    missing.dedup_by(|a, b| a[0] == b[0] && a[3] == b[3]);
    w.csv(
        "missing.csv",
        "missing and away episodes",
        &[
            "child_id",
            "kind",
            "absent_from",
            "start_date",
            "start_time",
            "end_date",
            "end_time",
            "interview_offered_date",
            "interview_outcome",
            "interview_completed_date",
            "interview_completed_time",
        ],
        missing,
    )?;

    Ok(())
}

/// Monthly answers to the five questions of service-user feedback.
pub(super) fn feedback(g: &mut Draw, w: &mut Writer, span: &Span) -> anyhow::Result<()> {
    let Span {
        scale,
        until,
        start,
        ..
    } = *span;
    let mut feedback = Vec::new();
    let per_month = (28.0 * scale.sqrt()).round().max(8.0) as i64;
    let mut m = start;
    let mut n = 0u64;
    while m <= until {
        for (q, who, base) in FEEDBACK {
            let p = (base + g.normal(0.0, 0.06)).clamp(0.05, 0.98);
            for _ in 0..g.range(per_month * 3 / 4, per_month * 5 / 4) {
                n += 1;
                let day = m + Duration::days(g.range(0, 27));
                let rating = if g.p(p) {
                    "positive"
                } else if g.p(0.3) {
                    "neutral"
                } else {
                    "negative"
                };
                feedback.push(vec![
                    format!("R{n:08}"),
                    q.to_string(),
                    who.to_string(),
                    day.min(until).to_string(),
                    rating.into(),
                    String::new(),
                ]);
            }
        }
        m = csc_core::add_months(m, 1);
    }
    w.csv(
        "feedback.csv",
        "feedback answers",
        &[
            "response_id",
            "question",
            "respondent",
            "response_date",
            "rating",
            "child_id",
        ],
        feedback,
    )?;

    Ok(())
}

fn missing_row(
    g: &mut Draw,
    child: &str,
    kind: &str,
    from_care: bool,
    d: NaiveDate,
    until: NaiveDate,
) -> Vec<String> {
    let start_time = format!("{:02}:{:02}", g.range(14, 23), g.range(0, 59));
    // Back the next day or later, so that the end time is after the start whatever the clock.
    let end = d + Duration::days(if g.p(0.6) { 1 } else { g.range(1, 4) });
    let (end_date, end_time) = if end <= until {
        (
            Some(end),
            format!("{:02}:{:02}", g.range(0, 23), g.range(0, 59)),
        )
    } else {
        (None, String::new())
    };
    let mut row = vec![
        child.to_owned(),
        kind.to_owned(),
        if from_care { "care" } else { "home" }.to_owned(),
        d.to_string(),
        start_time,
        opt(end_date),
        if end_date.is_some() {
            end_time.clone()
        } else {
            String::new()
        },
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ];
    if let Some(end) = end_date
        && kind == "M"
        && g.p(0.85)
    {
        let offered = end + Duration::days(g.range(0, 1));
        if offered <= until {
            row[7] = offered.to_string();
            if g.p(0.72) {
                row[8] = "accepted".into();
                let done = offered
                    + Duration::days(if g.p(0.65) {
                        g.range(0, 1)
                    } else {
                        g.range(2, 7)
                    });
                if done <= until && g.p(0.9) {
                    row[9] = done.to_string();
                    row[10] = format!("{:02}:{:02}", g.range(9, 18), g.range(0, 59));
                    if done == end && row[10] < end_time {
                        row[10] = end_time.clone();
                    }
                }
            } else {
                row[8] = "declined".into();
            }
        }
    }
    row
}

/// One commitment per costed placement overlapping the files' years, with an uplift each April.
pub(super) fn write_costs(
    w: &mut Writer,
    g: &mut Draw,
    care: &[CareChild],
    start: NaiveDate,
    until: NaiveDate,
) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for c in care {
        // Placements: runs of episodes from an episode whose RNE starts one.
        let mut i = 0;
        while i < c.episodes.len() {
            let first = &c.episodes[i];
            let mut j = i + 1;
            while j < c.episodes.len() && c.episodes[j].rne == "L" {
                j += 1;
            }
            let last = &c.episodes[j - 1];
            let p_start = first.decom;
            let p_end = last.dec;
            i = j;
            if p_end.is_some_and(|e| e < start) {
                continue;
            }
            let Some((mean, sd)) = weekly_cost(&first.place, first.provider) else {
                continue;
            };
            let mut pence = (g.normal(mean, sd).max(mean * 0.3) * 100.0).round() as i64;
            let mut s = p_start;
            loop {
                // The next 1 April after s, if the placement is still going then.
                let april = NaiveDate::from_ymd_opt(
                    if s.month() >= 4 {
                        s.year() + 1
                    } else {
                        s.year()
                    },
                    4,
                    1,
                )
                .expect("valid");
                let continues = april <= until && p_end.is_none_or(|e| e > april);
                let end = if continues { Some(april) } else { p_end };
                if end.is_none_or(|e| e >= start) {
                    rows.push(vec![
                        c.id.clone(),
                        p_start.to_string(),
                        s.to_string(),
                        opt(end),
                        pence.to_string(),
                        String::new(),
                        first.place.clone(),
                        first.provider.into(),
                    ]);
                }
                if !continues {
                    break;
                }
                s = april;
                pence = pence * 103 / 100;
            }
        }
    }
    w.csv(
        "costs.csv",
        "placement cost commitments",
        &[
            "child_id",
            "placement_start",
            "start_date",
            "end_date",
            "weekly_cost_pence",
            "category_key",
            "place",
            "place_provider",
        ],
        rows,
    )
}
