//! The front door and children in need, referral by referral: contacts, referrals, assessments,
//! strategy discussions and section 47 enquiries, CIN and CP plans; written as the contacts and
//! strategy CSV files and one CIN census per year.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use chrono::{Duration, NaiveDate};
use std::fmt::Write as _;

use csc_core::{Period, workdays::is_working_day};

use super::calibration::{ASSESSMENT_DAYS, CATEGORIES, FACTORS, SOURCES};
use super::draws::{Draw, add_working_days, next_working_day, opt};
use super::{Children, CinChild, CinEpisode, Config, CpPlan, Ids, Span, Writer};

/// Every referral of the LA from the warm-up to `until`, with what followed it; writes the
/// contacts, the strategy discussions and the CIN censuses. The children, and the contacts (for
/// Annex A's List 1).
pub(super) fn front_door(
    g: &mut Draw,
    ids: &mut Ids,
    span: &Span,
    cfg: &Config,
    w: &mut Writer,
) -> anyhow::Result<(Children, Vec<Vec<String>>)> {
    let Span {
        scale,
        until,
        first_fy,
        start,
        warm,
    } = *span;
    let referral_rate = 4_700.0 * scale / 252.0; // per working day
    let mut r = Referrals::default();
    let mut day = warm;
    while day <= until {
        if is_working_day(day) {
            r.referred_today.clear();
            for _ in 0..g.poisson(referral_rate) {
                r.referral(g, ids, day, until);
            }
        }
        day += Duration::days(1);
    }
    // Contacts that did not become referrals: about one and a half for every referral.
    let n_ref = r.contacts.len();
    for _ in 0..(n_ref as f64 * 1.5) as usize {
        let d = warm + Duration::days(g.range(0, (until - warm).num_days()));
        let group = g_sources(g);
        let source = *g.pick(group);
        let id = ids.next('K');
        push_contact(&mut r.contacts, &mut r.contact_n, &id, d, source, false);
    }
    let first_day = start.to_string();
    r.contacts.retain(|c| c[2] >= first_day);
    r.contacts
        .sort_by(|a, b| (&a[2], &a[1], &a[0]).cmp(&(&b[2], &b[1], &b[0])));
    link_contacts(&mut r.contacts, &r.children);
    let annex_contacts = r.contacts.clone();
    w.csv(
        "contacts.csv",
        "contacts",
        &[
            "contact_id",
            "child_id",
            "contact_date",
            "source",
            "became_referral",
        ],
        r.contacts,
    )?;
    r.strategy.retain(|s| s[1] >= first_day);
    w.csv(
        "strategy.csv",
        "strategy discussions",
        &["child_id", "discussion_date", "invited", "attended"],
        r.strategy,
    )?;
    write_cin(w, cfg, &r.children, start, first_fy)?;
    Ok((r.children, annex_contacts))
}

/// The front door's records as they are drawn, referral by referral.
#[derive(Default)]
struct Referrals {
    children: Children,
    /// Children referred in the last 12 months, oldest first, for re-referrals.
    recent: VecDeque<(NaiveDate, String)>,
    /// CP plans that ended, with their child, for repeat plans.
    ended_cp: Vec<(NaiveDate, String)>,
    /// Each child's latest CP plan and its end (none while open).
    open_cp: HashMap<String, Option<NaiveDate>>,
    contacts: Vec<Vec<String>>,
    contact_n: u64,
    strategy: Vec<Vec<String>>,
    /// The (child, day) of every strategy discussion: one a day per child.
    strategy_held: HashSet<(String, NaiveDate)>,
    /// Children referred today: a referral is keyed by child and date.
    referred_today: HashSet<String>,
}

impl Referrals {
    /// One referral on `day`, and what followed it: an assessment, a section 47 enquiry after a
    /// strategy discussion, a CP plan, a CIN plan, or no further action.
    fn referral(&mut self, g: &mut Draw, ids: &mut Ids, day: NaiveDate, until: NaiveDate) {
        // ~20% of referrals are of a child referred in the last 12 months.
        while self
            .recent
            .front()
            .is_some_and(|(d, _)| *d < csc_core::sub_months(day, 12))
        {
            self.recent.pop_front();
        }
        // Never the same child twice in a day: a referral is keyed by child and date.
        let again = (g.p(0.2) && !self.recent.is_empty())
            .then(|| g.range(0, self.recent.len() as i64 - 1) as usize)
            .filter(|&i| self.recent[i].0 < day)
            .map(|i| self.recent[i].1.clone())
            .filter(|c| !self.referred_today.contains(c));
        let child_id = again.unwrap_or_else(|| ids.next('C'));
        self.referred_today.insert(child_id.clone());
        self.recent.push_back((day, child_id.clone()));
        let group = g_sources(g);
        let source = *g.pick(group);
        let child = self
            .children
            .entry(child_id.clone())
            .or_insert_with(|| CinChild {
                dob: None,
                sex: 0,
                episodes: Vec::new(),
            });
        if child.dob.is_none() {
            let age_days = g.range(0, 17 * 365 + 300);
            child.dob = Some(day - Duration::days(age_days));
            child.sex = if g.p(0.5) { 1 } else { 2 };
        }
        push_contact(
            &mut self.contacts,
            &mut self.contact_n,
            &child_id,
            day,
            source,
            true,
        );
        let mut ep = CinEpisode {
            referral: day,
            source,
            nfa: false,
            closure: None,
            assessment: None,
            cin_plan: None,
            s47: None,
            cp: None,
        };
        if g.p(0.065) {
            ep.nfa = true;
            ep.closure = Some((day, "RC8"));
            child.episodes.push(ep);
            return;
        }
        // An assessment is keyed by child and start: not the day another of theirs started.
        let mut a_start = next_working_day(day + Duration::days(g.range(0, 2)));
        while child
            .episodes
            .iter()
            .any(|e| e.assessment.as_ref().is_some_and(|a| a.0 == a_start))
        {
            a_start = next_working_day(a_start + Duration::days(1));
        }
        let (lo, hi) = *g.weighted(ASSESSMENT_DAYS);
        let a_auth = add_working_days(a_start, g.range(lo, hi));
        let factors: Vec<&'static str> = FACTORS
            .iter()
            .filter(|(p, _)| g.p(*p))
            .map(|(_, f)| *f)
            .collect();
        let auth = (a_auth <= until).then_some(a_auth);
        ep.assessment = Some((a_start.min(until), auth, factors));
        let Some(auth) = auth else {
            child.episodes.push(ep);
            return;
        };
        if g.p(0.40) {
            // Child not in need: no further action.
            ep.closure = Some((auth, if g.p(0.8) { "RC8" } else { "RC9" }));
            if g.p(0.27) {
                let before = day - Duration::days(g.range(20, 330));
                push_contact(
                    &mut self.contacts,
                    &mut self.contact_n,
                    &child_id,
                    before,
                    source,
                    false,
                );
            }
            child.episodes.push(ep);
            return;
        }
        let on_cp = self
            .open_cp
            .get(&child_id)
            .is_some_and(|e| e.is_none_or(|e| e >= day));
        let s47_follows = !on_cp && g.p(0.42);
        if !on_cp && !s47_follows && g.p(0.25) {
            // A strategy discussion that decided no section 47 enquiry was needed: about one
            // discussion in four leads to none (so the two counts differ, as in any LA).
            let held = next_working_day(day + Duration::days(g.range(0, 3)));
            if held <= until {
                strategy_discussion(
                    &mut self.strategy,
                    &mut self.strategy_held,
                    g,
                    &child_id,
                    held,
                );
            }
        }
        if s47_follows {
            // Section 47 enquiry, after a strategy discussion.
            let mut s47 = next_working_day(day + Duration::days(g.range(0, 5)));
            while child
                .episodes
                .iter()
                .any(|e| e.s47.is_some_and(|x| x.0 == s47))
            {
                s47 = next_working_day(s47 + Duration::days(1));
            }
            if s47 > until {
                child.episodes.push(ep);
                return;
            }
            // The discussion that decided on it: on a working day from the referral to the
            // enquiry's start.
            let gap = (s47 - day).num_days().max(0);
            let held = next_working_day(day + Duration::days(g.range(0, gap))).min(s47);
            strategy_discussion(
                &mut self.strategy,
                &mut self.strategy_held,
                g,
                &child_id,
                held,
            );
            if g.p(0.66) {
                let wd = if g.p(0.8) {
                    g.range(5, 15)
                } else {
                    g.range(16, 30)
                };
                let icpc = add_working_days(s47, wd);
                if icpc <= until {
                    ep.s47 = Some((s47, Some(icpc)));
                    let repeat = g.p(0.22);
                    let mut previous = 0;
                    let mut cp_child = child_id.clone();
                    if repeat
                        && let Some(i) = (!self.ended_cp.is_empty())
                            .then(|| g.range(0, self.ended_cp.len() as i64 - 1) as usize)
                        && self.ended_cp[i].0 < icpc
                        && !self
                            .open_cp
                            .get(&self.ended_cp[i].1)
                            .is_some_and(|e| e.is_none_or(|e| e >= icpc))
                        && !self.referred_today.contains(&self.ended_cp[i].1)
                    {
                        cp_child = self.ended_cp[i].1.clone();
                        previous = 1;
                    }
                    let plan = cp_plan(g, icpc, previous, until);
                    let end = plan.end;
                    if let Some(e) = end {
                        self.ended_cp.push((e, cp_child.clone()));
                    }
                    self.open_cp.insert(cp_child.clone(), end);
                    if cp_child == child_id {
                        ep.cp = Some(plan);
                    } else {
                        // A repeat plan for a child known before: the episode is theirs, and
                        // so is today's referral (not another of theirs today).
                        self.referred_today.insert(cp_child.clone());
                        let other = self
                            .children
                            .get_mut(&cp_child)
                            .expect("a child with an ended plan is known");
                        let mut ep2 = ep;
                        ep2.cp = Some(plan);
                        if let Some(a) = &mut ep2.assessment {
                            while other
                                .episodes
                                .iter()
                                .any(|e| e.assessment.as_ref().is_some_and(|x| x.0 == a.0))
                            {
                                a.0 = next_working_day(a.0 + Duration::days(1));
                            }
                        }
                        other.episodes.push(ep2);
                        return;
                    }
                    child.episodes.push(ep);
                    return;
                }
            }
            ep.s47 = Some((s47, None));
        }
        if g.p(0.62) {
            let mut s = auth + Duration::days(g.range(0, 10));
            while child
                .episodes
                .iter()
                .any(|e| e.cin_plan.is_some_and(|p| p.0 == s))
            {
                s += Duration::days(1);
            }
            if s <= until {
                let e = s + Duration::days(g.exp_days(190.0, 30));
                ep.cin_plan = Some((s, (e <= until).then_some(e)));
                if e <= until {
                    ep.closure = Some((e, "RC1"));
                }
            }
        } else {
            let c = auth + Duration::days(g.range(0, 60));
            if c <= until {
                ep.closure = Some((c, "RC7"));
            }
        }
        child.episodes.push(ep);
    }
}

/// A strategy discussion about `child` held on `day` (or, if the child already has one that day,
/// on the next free working day), with the agencies invited and attending.
fn strategy_discussion(
    strategy: &mut Vec<Vec<String>>,
    held: &mut HashSet<(String, NaiveDate)>,
    g: &mut Draw,
    child: &str,
    mut day: NaiveDate,
) {
    while !held.insert((child.to_owned(), day)) {
        day = next_working_day(day + Duration::days(1));
    }
    let (inv, att) = strategy_agencies(g);
    strategy.push(vec![
        child.to_owned(),
        day.to_string(),
        inv.join(";"),
        att.join(";"),
    ]);
}

/// The agencies invited to a strategy discussion, and those of them that attended.
fn strategy_agencies(g: &mut Draw) -> (Vec<&'static str>, Vec<&'static str>) {
    const INVITED: [(&str, f64); 4] = [
        ("police", 0.98),
        ("health", 0.9),
        ("education", 0.7),
        ("other", 0.3),
    ];
    const ATTEND: [(&str, f64); 4] = [
        ("police", 0.62),
        ("health", 0.66),
        ("education", 0.55),
        ("other", 0.5),
    ];
    let inv: Vec<&str> = INVITED
        .iter()
        .filter(|(_, p)| g.p(*p))
        .map(|(a, _)| *a)
        .collect();
    let att: Vec<&str> = inv
        .iter()
        .filter(|a| {
            ATTEND
                .iter()
                .find(|(x, _)| x == *a)
                .is_some_and(|(_, p)| g.p(*p))
        })
        .copied()
        .collect();
    (inv, att)
}

/// A CP plan starting at the ICPC: its categories, length and review conferences (held every 6
/// months after the first, at about 3 months), as far as `until`.
fn cp_plan(g: &mut Draw, icpc: NaiveDate, previous: u32, until: NaiveDate) -> CpPlan {
    let cat = *g.weighted(CATEGORIES);
    let latest = if g.p(0.1) {
        *g.weighted(CATEGORIES)
    } else {
        cat
    };
    let first_review = icpc + Duration::days(g.range(80, 95));
    let length = if g.p(0.17) {
        (first_review - icpc).num_days()
    } else {
        g.exp_days(300.0, 120).min(1_100)
    };
    let end = icpc + Duration::days(length);
    let mut reviews = Vec::new();
    let mut r = first_review;
    while r <= end && r <= until {
        reviews.push(r);
        r += Duration::days(g.range(170, 190));
    }
    CpPlan {
        start: icpc,
        end: (end <= until).then_some(end),
        initial: cat,
        latest,
        previous,
        reviews,
    }
}

/// A contact row, numbered in the order drawn.
fn push_contact(
    rows: &mut Vec<Vec<String>>,
    n: &mut u64,
    child: &str,
    date: NaiveDate,
    source: &str,
    referral: bool,
) {
    *n += 1;
    rows.push(vec![
        format!("K{n:08}"),
        child.to_owned(),
        date.to_string(),
        source.to_owned(),
        if referral { "Y" } else { "N" }.to_owned(),
    ]);
}

fn g_sources(g: &mut Draw) -> &'static [&'static str] {
    let group: &&'static [&'static str] = g.weighted(SOURCES);
    group
}

/// Gives each contact the id an Annex A import gives it (`import::annex_a::ContactIds`, in file
/// order) and says it became a referral by the rule that import applies
/// (`import::annex_a::became_referral`), so that the contacts file and the Annex A's List 1 are
/// the same records.
fn link_contacts(contacts: &mut [Vec<String>], children: &BTreeMap<String, CinChild>) {
    use crate::import::annex_a::{ContactIds, became_referral};
    let mut ids = ContactIds::default();
    for c in contacts.iter_mut() {
        let d: NaiveDate = c[2].parse().expect("written as a date");
        c[0] = ids.next(&c[1], d);
        let referred = children
            .get(&c[1])
            .is_some_and(|ch| became_referral(d, ch.episodes.iter().map(|e| e.referral)));
        c[4] = if referred { "Y" } else { "N" }.to_owned();
    }
}

fn write_cin(
    w: &mut Writer,
    cfg: &Config,
    children: &BTreeMap<String, CinChild>,
    start: NaiveDate,
    first_fy: i32,
) -> anyhow::Result<()> {
    let last_fy = Period::quarter_containing(cfg.until).financial_year();
    std::fs::create_dir_all(w.dir.join("cin"))?;
    for fy in first_fy..=last_fy {
        let year = Period::year(fy);
        let census_year = fy + 1;
        // Made after the year ends, as a census is; the year holding --until is an in-year
        // extract, made the day after it, so it says it holds nothing later (docs/coverage.md).
        let made = NaiveDate::from_ymd_opt(census_year, 5, 1)
            .expect("valid date")
            .min(cfg.until + chrono::Days::new(1));
        let mut xml = String::with_capacity(1 << 20);
        let _ = write!(
            xml,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Message>\n<Header>\n<CollectionDetails><Collection>CIN</Collection><Year>{census_year}</Year><ReferenceDate>{census_year}-03-31</ReferenceDate></CollectionDetails>\n<Source><SourceLevel>L</SourceLevel><LEA>{}</LEA><SoftwareCode>csc generate</SoftwareCode><Release>synthetic</Release><SerialNo>1</SerialNo><DateTime>{made}T09:00:00</DateTime></Source>\n</Header>\n<Children>\n",
            cfg.la
        );
        let mut n = 0usize;
        for (id, child) in children {
            // An episode goes in the census of its referral's year, or of the files' first year
            // when it was still open when the files begin.
            let eps: Vec<&CinEpisode> = child
                .episodes
                .iter()
                .filter(|e| {
                    year.contains(e.referral)
                        || (fy == first_fy
                            && e.referral < start
                            && e.open_until().is_none_or(|u| u >= start))
                })
                .collect();
            if eps.is_empty() {
                continue;
            }
            n += eps.len();
            let _ = writeln!(
                xml,
                "<Child><ChildIdentifiers><LAchildID>{id}</LAchildID><UPNunknown>UN1</UPNunknown><PersonBirthDate>{}</PersonBirthDate><Sex>{}</Sex></ChildIdentifiers><ChildCharacteristics><Ethnicity>WBRI</Ethnicity><Disabilities><Disability>NONE</Disability></Disabilities></ChildCharacteristics>",
                opt(child.dob),
                if child.sex == 1 { "M" } else { "F" }
            );
            for e in eps {
                let _ = write!(
                    xml,
                    "<CINdetails><CINreferralDate>{}</CINreferralDate><ReferralSource>{}</ReferralSource><PrimaryNeedCode>N1</PrimaryNeedCode>",
                    e.referral, e.source
                );
                if let Some((d, r)) = e.closure {
                    let _ = write!(
                        xml,
                        "<CINclosureDate>{d}</CINclosureDate><ReasonForClosure>{r}</ReasonForClosure>"
                    );
                }
                if let Some((_, Some(icpc))) = e.s47 {
                    let _ = write!(xml, "<DateOfInitialCPC>{icpc}</DateOfInitialCPC>");
                }
                if let Some((s, a, f)) = &e.assessment {
                    let _ = write!(
                        xml,
                        "<Assessments><AssessmentActualStartDate>{s}</AssessmentActualStartDate>"
                    );
                    if let Some(a) = a {
                        let _ = write!(
                            xml,
                            "<AssessmentAuthorisationDate>{a}</AssessmentAuthorisationDate>"
                        );
                    }
                    xml.push_str("<FactorsIdentifiedAtAssessment>");
                    for f in f {
                        let _ = write!(xml, "<AssessmentFactors>{f}</AssessmentFactors>");
                    }
                    xml.push_str("</FactorsIdentifiedAtAssessment></Assessments>");
                }
                if let Some((s, e)) = e.cin_plan {
                    let _ = write!(
                        xml,
                        "<CINPlanDates><CINPlanStartDate>{s}</CINPlanStartDate>"
                    );
                    if let Some(e) = e {
                        let _ = write!(xml, "<CINPlanEndDate>{e}</CINPlanEndDate>");
                    }
                    xml.push_str("</CINPlanDates>");
                }
                if let Some((s, icpc)) = e.s47 {
                    let target = add_working_days(s, 15);
                    let _ = write!(
                        xml,
                        "<Section47><S47ActualStartDate>{s}</S47ActualStartDate><InitialCPCtarget>{target}</InitialCPCtarget>"
                    );
                    match icpc {
                        Some(d) => {
                            let _ = write!(
                                xml,
                                "<DateOfInitialCPC>{d}</DateOfInitialCPC><ICPCnotRequired>0</ICPCnotRequired>"
                            );
                        }
                        None => xml.push_str("<ICPCnotRequired>1</ICPCnotRequired>"),
                    }
                    xml.push_str("</Section47>");
                }
                if let Some(cp) = &e.cp {
                    let _ = write!(
                        xml,
                        "<ChildProtectionPlans><CPPstartDate>{}</CPPstartDate>",
                        cp.start
                    );
                    if let Some(end) = cp.end {
                        let _ = write!(xml, "<CPPendDate>{end}</CPPendDate>");
                    }
                    let _ = write!(
                        xml,
                        "<InitialCategoryOfAbuse>{}</InitialCategoryOfAbuse><LatestCategoryOfAbuse>{}</LatestCategoryOfAbuse><NumberOfPreviousCPP>{}</NumberOfPreviousCPP><Reviews>",
                        cp.initial, cp.latest, cp.previous
                    );
                    for r in &cp.reviews {
                        let _ = write!(xml, "<CPPreviewDate>{r}</CPPreviewDate>");
                    }
                    xml.push_str("</Reviews></ChildProtectionPlans>");
                }
                let _ = writeln!(
                    xml,
                    "<ReferralNFA>{}</ReferralNFA></CINdetails>",
                    u8::from(e.nfa)
                );
            }
            xml.push_str("</Child>\n");
        }
        xml.push_str("</Children>\n</Message>\n");
        // A census is of a year that has ended; the year still running is an in-year extract
        // (the census's shape, as an LA's system makes one for COLLECT), named for what it is.
        let name = if cfg.until < year.end() {
            format!("cin/CIN_inyear_extract_{census_year}_to_{}.xml", cfg.until)
        } else {
            format!("cin/CIN_Census_{census_year}.xml")
        };
        std::fs::write(w.dir.join(name), xml)?;
        *w.counts.entry("CIN census episodes").or_default() += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_given_a_repeat_plan_is_not_referred_again_that_day() {
        // One child, referred before, whose plan ended: a re-referral today and a repeat plan
        // today are both drawn for them, and a referral is keyed by child and date, so only one
        // may be theirs (`--scale england` wrote two referrals of one child on one day, a repeat
        // plan's and then a re-referral's, which the import refused). 50 days with their draws.
        let day = NaiveDate::from_ymd_opt(2026, 1, 6).unwrap();
        let until = NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
        let known = "885C9999999".to_owned();
        for seed in 0..50 {
            let mut g = Draw::for_la(seed, "885");
            let mut ids = Ids {
                la: "885".into(),
                next: 0,
            };
            let mut r = Referrals::default();
            r.children.insert(known.clone(), CinChild::default());
            r.recent
                .push_back((day - Duration::days(200), known.clone()));
            r.ended_cp.push((day - Duration::days(100), known.clone()));
            r.open_cp
                .insert(known.clone(), Some(day - Duration::days(100)));
            for _ in 0..60 {
                r.referral(&mut g, &mut ids, day, until);
            }
            let mut seen = HashSet::new();
            for (child, c) in &r.children {
                for e in &c.episodes {
                    assert!(
                        seen.insert((child.clone(), e.referral)),
                        "seed {seed}: {child} referred twice on {}",
                        e.referral
                    );
                }
            }
        }
    }
}
