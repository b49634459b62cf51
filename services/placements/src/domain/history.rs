//! A child's care history derived from their episodes exactly as MEASURES.md defines it: periods
//! of care (chains of episodes linked by REC = X1) and placements within them. Inconsistencies in
//! the episodes are reported as warnings with the child and dates, and the history is still built
//! from every episode: nothing is dropped silently.

use chrono::NaiveDate;
use csc_core::codes::is_temporary_placement;

use super::records::Episode;

/// A period of care: a chain of one child's episodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodOfCare<'a> {
    pub start: NaiveDate,
    /// The DEC of its last episode; `None` while looked after.
    pub end: Option<NaiveDate>,
    pub episodes: Vec<&'a Episode>,
    pub placements: Vec<Placement<'a>>,
}

impl PeriodOfCare<'_> {
    /// Looked after at the end of `d`.
    pub fn open_at(&self, d: NaiveDate) -> bool {
        self.start <= d && self.end.is_none_or(|e| e > d)
    }

    /// The placement in progress at the end of `d` (a temporary episode continues it).
    pub fn placement_at(&self, d: NaiveDate) -> Option<&Placement<'_>> {
        self.placements
            .iter()
            .find(|p| p.start <= d && p.end.is_none_or(|e| e > d))
    }

    /// Started as MEASURES.md says a period of care starts: at an episode with RNE S (not at the
    /// earliest episode held of a child looked after before the data begin, nor after a gap).
    pub fn started(&self) -> bool {
        self.episodes.first().is_some_and(|e| e.rne == "S")
    }

    /// The day it ended, if it ended as MEASURES.md says a period of care ends: at an episode
    /// whose REC is not X1 (an episode that ended X1 with nothing after it is a gap in the data,
    /// not a child leaving care).
    pub fn ceased(&self) -> Option<NaiveDate> {
        let last = self.episodes.last()?;
        self.end.filter(|_| last.rec.as_deref() != Some("X1"))
    }

    /// The episode open at the end of `d`.
    pub fn episode_at(&self, d: NaiveDate) -> Option<&Episode> {
        self.episodes.iter().copied().find(|e| e.open_at(d))
    }
}

/// A placement: from the episode that starts it up to, not including, the day the next placement
/// started or the period of care ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement<'a> {
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    /// The episode that started it (its PLACE is the placement's type).
    pub first: &'a Episode,
    /// The episode whose DEC is the day it ended.
    pub last: &'a Episode,
    /// The next placement of the same period of care started the day this one ended.
    pub ended_with_move: bool,
}

impl Placement<'_> {
    /// Overlapping `[from, to]`: started on or before `to` and not ended by `from` (ended after
    /// it, or still open).
    pub fn overlaps(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.start <= to && self.end.is_none_or(|e| e > from)
    }

    /// REASON_PLACE_CHANGE of its last episode, `None` when blank.
    pub fn end_reason(&self) -> Option<&str> {
        self.last.reason_place_change.as_deref()
    }
}

/// Something inconsistent in a child's episodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub child_id: String,
    pub date: NaiveDate,
    /// `starts_mid_period` (the earliest episode held is not RNE S: the child was looked after
    /// before the returns imported), `no_start` (a period of care after an ending does not start
    /// with RNE S), `gap` (an episode ended X1 and the next starts later, or nothing follows),
    /// `overlap`, `open_overlap` (an episode starts while an earlier one is open), `s_continues`
    /// (RNE S on an episode that continues a chain).
    pub kind: &'static str,
    pub message: String,
}

/// One child's history.
#[derive(Debug, Clone, Default)]
pub struct History<'a> {
    pub periods: Vec<PeriodOfCare<'a>>,
    pub warnings: Vec<Warning>,
}

impl History<'_> {
    /// The period of care open at the end of `d`.
    pub fn period_at(&self, d: NaiveDate) -> Option<&PeriodOfCare<'_>> {
        self.periods.iter().find(|p| p.open_at(d))
    }

    pub fn placements(&self) -> impl Iterator<Item = &Placement<'_>> {
        self.periods.iter().flat_map(|p| p.placements.iter())
    }
}

fn starts_placement(e: &Episode, in_progress: bool) -> bool {
    if is_temporary_placement(&e.place) {
        return false;
    }
    if !in_progress {
        return true;
    }
    match e.rne.as_str() {
        // Placed for adoption with the current foster carer: the same placement continues.
        "T" | "U" if matches!(e.place.as_str(), "A3" | "A5") => false,
        "S" | "P" | "B" | "T" | "U" => true,
        _ => false,
    }
}

/// Derives one child's history from their episodes (any order; short breaks, V3 and V4, are
/// left out here).
pub fn derive<'a>(episodes: &[&'a Episode]) -> History<'a> {
    let mut eps: Vec<&Episode> = episodes
        .iter()
        .copied()
        .filter(|e| !e.is_short_break())
        .collect();
    eps.sort_by_key(|e| e.decom);
    let mut h = History::default();
    let mut chains: Vec<Vec<&Episode>> = Vec::new();
    let warn = |h: &mut History<'_>, e: &Episode, kind: &'static str, message: String| {
        h.warnings.push(Warning {
            child_id: e.child_id.clone(),
            date: e.decom,
            kind,
            message,
        })
    };
    for e in eps {
        let continues = chains
            .last()
            .and_then(|c| c.last())
            .is_some_and(|prev| prev.rec.as_deref() == Some("X1") && prev.dec == Some(e.decom));
        if continues {
            if e.rne == "S" {
                warn(
                    &mut h,
                    e,
                    "s_continues",
                    format!(
                        "episode starting {} has RNE S but continues the period of care (the episode before ended X1 that day); taken as a continuation",
                        e.decom
                    ),
                );
            }
            chains.last_mut().expect("a chain").push(e);
            continue;
        }
        if let Some(prev) = chains.last().and_then(|c| c.last()) {
            match prev.dec {
                None => warn(
                    &mut h,
                    e,
                    "open_overlap",
                    format!(
                        "episode starting {} begins while the episode starting {} has not ended (no DEC); both are kept as recorded, so the earlier one stays open",
                        e.decom, prev.decom
                    ),
                ),
                Some(d) if d > e.decom => warn(
                    &mut h,
                    e,
                    "overlap",
                    format!(
                        "episode starting {} overlaps the episode {} to {}",
                        e.decom, prev.decom, d
                    ),
                ),
                Some(d) if prev.rec.as_deref() == Some("X1") => warn(
                    &mut h,
                    e,
                    "gap",
                    format!(
                        "the episode starting {} ended {d} with REC X1 but the next episode starts {}; the period of care is taken to end {d}",
                        prev.decom, e.decom
                    ),
                ),
                Some(_) => {}
            }
        }
        if e.rne != "S" {
            if chains.is_empty() {
                warn(
                    &mut h,
                    e,
                    "starts_mid_period",
                    format!(
                        "the earliest episode held starts {} with RNE {:?}, not S: the child was looked after before the returns imported, and the period of care is taken to start then",
                        e.decom, e.rne
                    ),
                );
            } else {
                warn(
                    &mut h,
                    e,
                    "no_start",
                    format!(
                        "episode starting {} begins a period of care but its RNE is {:?}, not S",
                        e.decom, e.rne
                    ),
                );
            }
        }
        chains.push(vec![e]);
    }
    // A last episode ended X1 with nothing after it.
    if let Some(last) = chains.last().and_then(|c| c.last())
        && last.rec.as_deref() == Some("X1")
        && let Some(d) = last.dec
    {
        h.warnings.push(Warning {
            child_id: last.child_id.clone(),
            date: d,
            kind: "gap",
            message: format!(
                "the episode starting {} ended {d} with REC X1 but no episode starts that day; the period of care is taken to end {d}",
                last.decom
            ),
        });
    }

    for chain in chains {
        let last = chain.last().expect("chains are not empty");
        // An open episode followed by another period (warned above) stays open, as recorded:
        // MEASURES.md's stocks count what has not ended.
        let end = last.dec;
        let start = chain[0].decom;
        let mut placements: Vec<Placement<'_>> = Vec::new();
        for (j, e) in chain.iter().enumerate() {
            if starts_placement(e, !placements.is_empty()) {
                if let Some(prev) = placements.last_mut() {
                    prev.end = Some(e.decom);
                    prev.last = chain[j - 1];
                    prev.ended_with_move = true;
                }
                placements.push(Placement {
                    start: e.decom,
                    end: None,
                    first: e,
                    last: e,
                    ended_with_move: false,
                });
            } else if let Some(p) = placements.last_mut() {
                p.last = e;
            }
        }
        if let Some(p) = placements.last_mut() {
            p.end = end;
            p.last = last;
        }
        h.periods.push(PeriodOfCare {
            start,
            end,
            episodes: chain,
            placements,
        });
    }
    h
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use csc_core::LaCode;

    pub use csc_core::testing::d;

    /// An episode: (DECOM, RNE, PLACE, DEC, REC, reason).
    pub fn ep(
        decom: NaiveDate,
        rne: &str,
        place: &str,
        dec: Option<NaiveDate>,
        rec: &str,
        reason: &str,
    ) -> Episode {
        Episode {
            la_code: LaCode::parse("885").unwrap(),
            child_id: "C1".into(),
            decom,
            rne: rne.into(),
            legal_status: "C2".into(),
            cin: Some("N1".into()),
            place: place.into(),
            place_provider: Some("PR1".into()),
            dec,
            rec: (!rec.is_empty()).then(|| rec.to_owned()),
            reason_place_change: (!reason.is_empty()).then(|| reason.to_owned()),
            home_post: None,
            pl_post: None,
            urn: None,
        }
    }

    #[test]
    fn a_chain_of_x1_episodes_is_one_period_with_placements_by_rne() {
        let eps = [
            ep(d(2017, 1, 1), "S", "U4", Some(d(2017, 3, 1)), "X1", "CARPL"),
            ep(d(2017, 3, 1), "L", "U4", Some(d(2017, 6, 1)), "X1", "CREQB"),
            ep(d(2017, 6, 1), "P", "K2", Some(d(2018, 1, 1)), "E13", ""),
        ];
        let refs: Vec<&Episode> = eps.iter().collect();
        let h = derive(&refs);
        assert!(h.warnings.is_empty(), "{:?}", h.warnings);
        assert_eq!(h.periods.len(), 1);
        let p = &h.periods[0];
        assert_eq!((p.start, p.end), (d(2017, 1, 1), Some(d(2018, 1, 1))));
        assert_eq!(p.placements.len(), 2, "L continues the placement");
        let first = &p.placements[0];
        assert_eq!(
            (first.start, first.end),
            (d(2017, 1, 1), Some(d(2017, 6, 1)))
        );
        assert!(first.ended_with_move);
        assert_eq!(
            first.end_reason(),
            Some("CREQB"),
            "the reason of the episode whose DEC is the day it ended"
        );
        assert!(!p.placements[1].ended_with_move);
        assert_eq!(p.placements[1].end, Some(d(2018, 1, 1)));
    }

    #[test]
    fn a_temporary_holiday_placement_neither_starts_nor_counts() {
        // U4 with a carer, a fortnight's holiday (T2), back to the same carer.
        let eps = [
            ep(d(2017, 1, 1), "S", "U4", Some(d(2017, 8, 1)), "X1", ""),
            ep(
                d(2017, 8, 1),
                "P",
                "T2",
                Some(d(2017, 8, 15)),
                "X1",
                "OTHER",
            ),
            ep(d(2017, 8, 15), "P", "U4", None, "", ""),
        ];
        let refs: Vec<&Episode> = eps.iter().collect();
        let h = derive(&refs);
        let p = &h.periods[0];
        assert_eq!(p.placements.len(), 2);
        // The first placement continued through the holiday: it ends when the return starts.
        assert_eq!(p.placements[0].start, d(2017, 1, 1));
        assert_eq!(p.placements[0].end, Some(d(2017, 8, 15)));
        assert_eq!(p.placements[0].end_reason(), Some("OTHER"));
        assert_eq!(p.placement_at(d(2017, 8, 10)).unwrap().start, d(2017, 1, 1));
        assert!(p.placements.iter().all(|pl| pl.first.place != "T2"));
    }

    #[test]
    fn adoption_placement_with_the_current_foster_carer_continues_the_placement() {
        let eps = [
            ep(d(2016, 1, 1), "S", "U5", Some(d(2017, 5, 1)), "X1", "PLACE"),
            ep(d(2017, 5, 1), "T", "A5", Some(d(2017, 9, 1)), "X1", ""),
            ep(d(2017, 9, 1), "U", "A3", Some(d(2018, 2, 1)), "E11", ""),
        ];
        let refs: Vec<&Episode> = eps.iter().collect();
        let h = derive(&refs);
        let p = &h.periods[0];
        assert_eq!(p.placements.len(), 1);
        assert_eq!(p.placements[0].end, Some(d(2018, 2, 1)));
        // A5 with RNE P (a new carer) would start one.
        let mut other = eps.clone();
        other[1].rne = "P".into();
        let refs: Vec<&Episode> = other.iter().collect();
        assert_eq!(derive(&refs).periods[0].placements.len(), 2);
    }

    #[test]
    fn short_breaks_are_left_out() {
        let mut sb = ep(d(2017, 2, 1), "S", "R1", Some(d(2017, 2, 3)), "E8", "");
        sb.legal_status = "V3".into();
        let eps = [sb, ep(d(2017, 5, 1), "S", "U4", None, "", "")];
        let refs: Vec<&Episode> = eps.iter().collect();
        let h = derive(&refs);
        assert_eq!(h.periods.len(), 1);
        assert_eq!(h.periods[0].start, d(2017, 5, 1));
        assert!(h.warnings.is_empty());
    }

    #[test]
    fn inconsistent_histories_are_warned_about_and_kept() {
        let eps = [
            // Ends X1 but the next episode starts later: a gap.
            ep(d(2017, 1, 1), "S", "U4", Some(d(2017, 3, 1)), "X1", ""),
            // Starts a period with RNE P after the gap.
            ep(d(2017, 3, 10), "P", "U4", Some(d(2017, 6, 1)), "E4A", ""),
            // After a non-X1 end, a new episode with RNE T (no S).
            ep(d(2017, 9, 1), "T", "K2", None, "", ""),
        ];
        let refs: Vec<&Episode> = eps.iter().collect();
        let h = derive(&refs);
        assert_eq!(h.periods.len(), 3, "every episode is kept");
        let messages: Vec<&str> = h.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(h.warnings.len(), 3, "{messages:#?}");
        assert!(messages[0].contains("REC X1 but the next episode starts 2017-03-10"));
        assert!(messages[1].contains("not S"));
        let kinds: Vec<&str> = h.warnings.iter().map(|w| w.kind).collect();
        assert_eq!(kinds, ["gap", "no_start", "no_start"]);
        assert!(messages[2].contains("\"T\", not S"));
        assert_eq!(h.warnings[2].date, d(2017, 9, 1));
        assert_eq!(h.periods[0].end, Some(d(2017, 3, 1)));
    }

    #[test]
    fn an_open_episode_followed_by_another_stays_open_as_recorded() {
        let eps = [
            ep(d(2017, 1, 1), "S", "U4", None, "", ""),
            ep(d(2017, 6, 1), "S", "K2", Some(d(2017, 9, 1)), "E13", ""),
        ];
        let refs: Vec<&Episode> = eps.iter().collect();
        let h = derive(&refs);
        assert_eq!(h.periods.len(), 2);
        assert_eq!(h.periods[0].end, None);
        assert_eq!(h.warnings[0].kind, "open_overlap");
        assert!(h.period_at(d(2018, 3, 31)).is_some(), "still looked after");
    }
}
