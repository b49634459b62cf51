//! Statutory code lists of the CIN census (DfE schemas 2017–2026) and the SSDA903 return. A code
//! valid in any year's list is accepted, so older returns import unchanged; the `*_in_year`
//! functions say whether it is in one return year's list, for the importers' plausibility warnings.
//!
//! A return year is its collection year as the files write it: 2024 is the 2023-24 return (the
//! CIN census `Year`, the schema `CIN_schema_2024.xsd`, the 903 return to 31 March 2024).

/// A return year as people write it: 2024 → "2023-24".
pub fn return_year_label(year: i32) -> String {
    format!("{}-{:02}", year - 1, year.rem_euclid(100))
}

/// The source groups of `frontdoor.referrals_by_source`, in the report's row order:
/// (row key, label, CIN census ReferralSource codes).
pub const REFERRAL_SOURCE_GROUPS: &[(&str, &str, &[&str])] = &[
    ("individual", "Individual", &["1A", "1B", "1C", "1D"]),
    ("schools", "Schools", &["2A"]),
    ("education_services", "Education services", &["2B"]),
    (
        "health_services",
        "Health services",
        &["3A", "3B", "3C", "3D", "3E", "3F"],
    ),
    ("housing", "Housing", &["4"]),
    ("la_services", "LA services", &["5A", "5B", "5C", "5D"]),
    ("police", "Police", &["6"]),
    ("other_legal_agency", "Other legal agency", &["7"]),
    ("other", "Other", &["8"]),
    ("anonymous", "Anonymous", &["9"]),
    ("unknown", "Unknown", &["10"]),
];

/// The index in [`REFERRAL_SOURCE_GROUPS`] of a ReferralSource code, or `None` for an unknown code.
pub fn referral_source_group(code: &str) -> Option<usize> {
    REFERRAL_SOURCE_GROUPS
        .iter()
        .position(|(_, _, codes)| codes.contains(&code))
}

/// Whether a ReferralSource code is in the `year` census's list: 5D (a referral from within the LA's
/// own children's social care) is in the schemas from 2023, not in 2022's.
pub fn referral_source_in_year(code: &str, year: i32) -> bool {
    referral_source_group(code).is_some() && (code != "5D" || year >= 2023)
}

/// CIN census AssessmentFactors codes with their short descriptions, in the schema's order.
pub const ASSESSMENT_FACTORS: &[(&str, &str)] = &[
    ("1A", "Alcohol misuse: child"),
    ("1B", "Alcohol misuse: parent/carer"),
    ("1C", "Alcohol misuse: other person in household"),
    ("2A", "Drug misuse: child"),
    ("2B", "Drug misuse: parent/carer"),
    ("2C", "Drug misuse: other person in household"),
    ("3A", "Domestic abuse: child subject"),
    ("3B", "Domestic abuse: parent/carer subject"),
    ("3C", "Domestic abuse: other person in household subject"),
    ("4A", "Mental health: child"),
    ("4B", "Mental health: parent/carer"),
    ("4C", "Mental health: other person in household"),
    ("5A", "Learning disability: child"),
    ("5B", "Learning disability: parent/carer"),
    ("5C", "Learning disability: other person in household"),
    ("6A", "Physical disability or illness: child"),
    ("6B", "Physical disability or illness: parent/carer"),
    (
        "6C",
        "Physical disability or illness: other person in household",
    ),
    ("7A", "Young carer"),
    ("8B", "Privately fostered: overseas, intends to return"),
    ("8C", "Privately fostered: overseas, intends to stay"),
    ("8D", "Privately fostered: UK, educational placement"),
    (
        "8E",
        "Privately fostered: UK, alternative family arrangement",
    ),
    ("8F", "Privately fostered: other"),
    ("9A", "Unaccompanied asylum-seeking child"),
    ("10A", "Going or being missing"),
    ("11A", "Child sexual exploitation"),
    ("12A", "Trafficking"),
    ("13A", "Gangs"),
    ("14A", "Socially unacceptable behaviour"),
    ("15A", "Self-harm"),
    ("16A", "Neglect"),
    ("17A", "Emotional abuse"),
    ("18A", "Physical abuse"),
    ("18B", "Physical abuse: child on child"),
    ("18C", "Physical abuse: adult on child"),
    ("19A", "Sexual abuse"),
    ("19B", "Sexual abuse: child on child"),
    ("19C", "Sexual abuse: adult on child"),
    ("20", "Other"),
    ("21", "No factors identified"),
    ("22A", "Female genital mutilation"),
    ("23A", "Abuse linked to faith or belief"),
    ("24A", "Child criminal exploitation"),
];

pub fn is_assessment_factor(code: &str) -> bool {
    ASSESSMENT_FACTORS.iter().any(|(c, _)| *c == code)
}

/// CIN census ReasonForClosure codes.
pub const CLOSURE_REASONS: &[(&str, &str)] = &[
    ("RC1", "Adopted"),
    ("RC2", "Died"),
    ("RC3", "Child arrangements order"),
    ("RC4", "Special guardianship order"),
    ("RC5", "Transferred to services of another local authority"),
    ("RC6", "Transferred to adult social care services"),
    (
        "RC7",
        "Services ceased for any other reason, including child no longer in need",
    ),
    ("RC8", "Case closed after assessment, no further action"),
    (
        "RC9",
        "Case closed after assessment, referred to early help",
    ),
];

pub fn is_closure_reason(code: &str) -> bool {
    CLOSURE_REASONS.iter().any(|(c, _)| *c == code)
}

/// Whether a ReasonForClosure code is in the `year` census's list: RC9 (closed after assessment,
/// referred to early help) is in the schemas from 2023, not in 2022's.
pub fn closure_reason_in_year(code: &str, year: i32) -> bool {
    is_closure_reason(code) && (code != "RC9" || year >= 2023)
}

/// RC8 and RC9: the case closed after assessment and the child was found not to be in need of
/// children's social care services (no further action, or early help).
pub fn closure_means_nfa(code: &str) -> bool {
    matches!(code, "RC8" | "RC9")
}

/// CIN census category of abuse codes.
pub const CATEGORIES_OF_ABUSE: &[(&str, &str)] = &[
    ("NEG", "Neglect"),
    ("PHY", "Physical abuse"),
    ("SAB", "Sexual abuse"),
    ("EMO", "Emotional abuse"),
    ("MUL", "Multiple/not recommended"),
];

/// CIN census yes/no values: `1`/`0` from 2023, `true`/`false` in earlier layouts.
pub fn parse_yes_no(text: &str) -> Option<bool> {
    match text.trim() {
        "1" | "true" | "True" | "TRUE" => Some(true),
        "0" | "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// SSDA903 placement types (PLACE), every code used in the returns 2017–2027: H5 and P2 until
/// 2024, K3 from 2024, Z1 until 2025 and Z11–Z14 after (see [`placement_type_in_year`]).
pub const PLACEMENT_TYPES: &[(&str, &str)] = &[
    (
        "A3",
        "Placed for adoption with consent, with current foster carer",
    ),
    (
        "A4",
        "Placed for adoption with consent, not with current foster carer",
    ),
    (
        "A5",
        "Placed for adoption with placement order, with current foster carer",
    ),
    (
        "A6",
        "Placed for adoption with placement order, not with current foster carer",
    ),
    (
        "H5",
        "Semi-independent living accommodation not subject to children's homes regulations",
    ),
    ("K1", "Secure children's home"),
    ("K2", "Children's home"),
    ("K3", "Supported accommodation"),
    (
        "P1",
        "Placed with own parent(s) or other person(s) with parental responsibility",
    ),
    (
        "P2",
        "Independent living, for example in a flat, lodgings, bedsit, B&B or with friends",
    ),
    ("P3", "Residential employment"),
    ("R1", "Residential care home"),
    (
        "R2",
        "NHS or health trust, or other establishment providing medical or nursing care",
    ),
    ("R3", "Family centre or mother and baby unit"),
    ("R5", "Young offender institution or prison"),
    (
        "S1",
        "All residential schools, except where dual-registered as a school and children's home",
    ),
    ("T0", "Temporary: all types of temporary move"),
    ("T1", "Temporary periods in hospital"),
    ("T2", "Temporary absences of the child on holiday"),
    (
        "T3",
        "Temporary accommodation whilst normal foster carer is on holiday",
    ),
    ("T4", "Temporary accommodation of seven days or less"),
    (
        "U1",
        "Foster placement with relative or friend, long term fostering",
    ),
    (
        "U2",
        "Foster placement with relative or friend who is also an approved adopter",
    ),
    (
        "U3",
        "Foster placement with relative or friend, not long term or FFA",
    ),
    (
        "U4",
        "Foster placement with other foster carer, long term fostering",
    ),
    (
        "U5",
        "Foster placement with other foster carer who is also an approved adopter",
    ),
    (
        "U6",
        "Foster placement with other foster carer, not long term or FFA",
    ),
    ("Z1", "Other placements"),
    ("Z11", "Other placements (code Z11, from 2025-26)"),
    ("Z12", "Other placements (code Z12, from 2025-26)"),
    ("Z13", "Other placements (code Z13, from 2025-26)"),
    ("Z14", "Other placements (code Z14, from 2025-26)"),
];

pub fn is_placement_type(code: &str) -> bool {
    PLACEMENT_TYPES.iter().any(|(c, _)| *c == code)
}

/// Whether a PLACE code is in the `year` return's list: H5 and P2 until 2023-24 (the year K3,
/// supported accommodation, arrived), Z1 until 2024-25 and Z11–Z14 from 2025-26.
pub fn placement_type_in_year(place: &str, year: i32) -> bool {
    is_placement_type(place)
        && match place {
            "H5" | "P2" => year <= 2024,
            "K3" => year >= 2024,
            "Z1" => year <= 2025,
            "Z11" | "Z12" | "Z13" | "Z14" => year >= 2026,
            _ => true,
        }
}

/// SSDA903 placement providers (PLACE_PROVIDER).
pub const PLACEMENT_PROVIDERS: &[(&str, &str)] = &[
    (
        "PR0",
        "Parent(s) or other person(s) with parental responsibility",
    ),
    ("PR1", "Own provision (by the LA)"),
    ("PR2", "Other LA provision"),
    (
        "PR3",
        "Other public provision (for example a primary care trust)",
    ),
    ("PR4", "Private provision"),
    ("PR5", "Voluntary/third sector provision"),
];

pub fn is_placement_provider(code: &str) -> bool {
    PLACEMENT_PROVIDERS.iter().any(|(c, _)| *c == code)
}

/// SSDA903 reasons for a new episode (RNE).
pub const REASONS_NEW_EPISODE: &[(&str, &str)] = &[
    ("S", "Started to be looked after"),
    ("L", "Change of legal status only"),
    ("P", "Change of placement and carer(s) only"),
    (
        "T",
        "Change of legal status and placement and carer(s) at the same time",
    ),
    ("U", "Change of legal status and placement, same carer(s)"),
    ("B", "Change of placement, same carer(s)"),
];

pub fn is_reason_new_episode(code: &str) -> bool {
    REASONS_NEW_EPISODE.iter().any(|(c, _)| *c == code)
}

/// SSDA903 legal statuses (LS). V3 and V4 are short breaks.
pub const LEGAL_STATUSES: &[(&str, &str)] = &[
    ("C1", "Interim care order"),
    ("C2", "Full care order"),
    ("D1", "Freeing order granted"),
    ("E1", "Placement order granted"),
    (
        "J1",
        "Remanded to local authority accommodation or youth detention accommodation",
    ),
    (
        "J2",
        "Placed in local authority accommodation under the Police and Criminal Evidence Act 1984",
    ),
    (
        "J3",
        "Sentenced to a youth rehabilitation order with residence or intensive fostering requirement",
    ),
    (
        "L1",
        "Under police protection and in local authority accommodation",
    ),
    ("L2", "Emergency protection order"),
    (
        "L3",
        "Under child assessment order and in local authority accommodation",
    ),
    ("V2", "Single period of accommodation under section 20"),
    (
        "V3",
        "Accommodated under an agreed series of short-term breaks, individual episodes",
    ),
    (
        "V4",
        "Accommodated under an agreed series of short-term breaks, multiple occasions",
    ),
];

pub fn is_legal_status(code: &str) -> bool {
    LEGAL_STATUSES.iter().any(|(c, _)| *c == code)
}

/// Short breaks (legal status V3 or V4): left out of every looked-after measure.
pub fn is_short_break(legal_status: &str) -> bool {
    matches!(legal_status, "V3" | "V4")
}

/// SSDA903 reason episode ceased (REC): `X1` (the episode ceased and a new one began) or an `E`
/// code (ceased to be looked after: E11–E17, E2, E3, E41, E45–E48, E4A, E4B, E5–E9, and earlier
/// years' E1, E4, E10). Checked by shape, so that every year's list is accepted.
pub fn is_reason_episode_ceased(code: &str) -> bool {
    if code == "X1" {
        return true;
    }
    let Some(rest) = code.strip_prefix('E') else {
        return false;
    };
    let digits = rest.trim_end_matches(['A', 'B']);
    (1..=2).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && rest.len() - digits.len() <= 1
}

/// SSDA903 reasons for a change of placement (REASON_PLACE_CHANGE), 2016 onwards.
pub const REASONS_PLACE_CHANGE: &[(&str, &str)] = &[
    ("ALLEG", "Allegation (s47)"),
    ("APPRR", "Approval removed"),
    ("CARPL", "Change to/Implementation of care plan"),
    ("CHILD", "Child requests placement end"),
    ("CLOSE", "Resignation/closure of provision"),
    (
        "CREQB",
        "Carer(s) requests placement end due to child's behaviour",
    ),
    (
        "CREQO",
        "Carer(s) requests placement end other than due to child's behaviour",
    ),
    ("CUSTOD", "Custody arrangement"),
    ("LAREQ", "Responsible/area authority requests placement end"),
    ("OTHER", "Other"),
    ("PLACE", "Change in the status of placement only"),
    ("STAND", "Standards of care concern"),
];

pub fn reason_place_change_label(code: &str) -> Option<&'static str> {
    REASONS_PLACE_CHANGE
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
}

/// Temporary placements (T0–T4): they neither start nor count as placements.
pub fn is_temporary_placement(place: &str) -> bool {
    matches!(place, "T0" | "T1" | "T2" | "T3" | "T4")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn episode_codes() {
        for ok in ["X1", "E11", "E2", "E4A", "E4B", "E45", "E1", "E10"] {
            assert!(is_reason_episode_ceased(ok), "{ok}");
        }
        for bad in ["X2", "E", "E4C", "E123", "EAB", "e11", ""] {
            assert!(!is_reason_episode_ceased(bad), "{bad}");
        }
        assert!(is_reason_new_episode("B") && !is_reason_new_episode("X"));
        assert!(is_short_break("V4") && !is_short_break("V2") && is_legal_status("V3"));
        assert!(is_temporary_placement("T4") && !is_temporary_placement("U4"));
        assert_eq!(
            reason_place_change_label("CREQB"),
            Some("Carer(s) requests placement end due to child's behaviour")
        );
    }

    #[test]
    fn every_referral_source_has_one_group() {
        let all: Vec<&str> = REFERRAL_SOURCE_GROUPS
            .iter()
            .flat_map(|g| g.2.iter().copied())
            .collect();
        assert_eq!(all.len(), 22, "the 22 ReferralSource codes of the schema");
        assert_eq!(referral_source_group("6"), Some(6));
        assert_eq!(referral_source_group("5D"), Some(5));
        assert_eq!(referral_source_group("3Z"), None);
        assert_eq!(referral_source_group("1"), None);
    }

    #[test]
    fn factor_and_closure_lists() {
        assert!(
            is_assessment_factor("24A")
                && is_assessment_factor("21")
                && is_assessment_factor("18B")
        );
        assert!(!is_assessment_factor("RB") && !is_assessment_factor("8A"));
        assert!(closure_means_nfa("RC8") && closure_means_nfa("RC9") && !closure_means_nfa("RC7"));
        assert_eq!(parse_yes_no("true"), Some(true));
        assert_eq!(parse_yes_no("0"), Some(false));
        assert_eq!(parse_yes_no("Y"), None);
    }

    #[test]
    fn placement_codes_cover_every_year() {
        for code in ["H5", "P2", "K3", "Z1", "Z11", "Z14", "A3", "A5", "T0", "U6"] {
            assert!(is_placement_type(code), "{code}");
        }
        assert!(!is_placement_type("K4") && !is_placement_type("u4"));
        assert!(
            is_placement_provider("PR0")
                && is_placement_provider("PR5")
                && !is_placement_provider("PR6")
        );
    }
}
