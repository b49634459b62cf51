//! Calibration: the model report's tables, which the draws follow.

/// Referral sources as the model report's 2017/18 table (%), with the codes of each group.
pub(super) const SOURCES: &[(f64, &[&str])] = &[
    (7.0, &["1A", "1B", "1C", "1D"]),
    (18.0, &["2A"]),
    (1.0, &["2B"]),
    (13.0, &["3A", "3B", "3C", "3D", "3E", "3F"]),
    (1.4, &["4"]),
    (9.0, &["5A", "5B", "5C", "5D"]),
    (37.0, &["6"]),
    (4.3, &["7"]),
    (4.6, &["8"]),
    (3.4, &["9"]),
    (0.1, &["10"]),
];

/// End reasons of placement moves, as the model report's table (%).
pub(super) const MOVE_REASONS: &[(f64, &str)] = &[
    (37.0, "CREQB"),
    (28.0, "CARPL"),
    (11.0, "CHILD"),
    (8.0, "CREQO"),
    (6.0, "LAREQ"),
    (3.0, "STAND"),
    (2.0, "ALLEG"),
    (1.5, "CLOSE"),
    (2.5, "OTHER"),
    (1.0, "PLACE"),
];

pub(super) const CATEGORIES: &[(f64, &str)] = &[
    (50.0, "NEG"),
    (35.0, "EMO"),
    (7.0, "PHY"),
    (4.0, "SAB"),
    (4.0, "MUL"),
];

/// Factors identified at assessment: the common ones, and the exploitation ones the CSE section
/// reads (11A, 24A, 10A, 13A, 12A), with the chance of each.
pub(super) const FACTORS: &[(f64, &str)] = &[
    (0.30, "3A"),
    (0.35, "3B"),
    (0.30, "4B"),
    (0.12, "2B"),
    (0.10, "1B"),
    (0.08, "4A"),
    (0.06, "5A"),
    (0.05, "6B"),
    (0.06, "18B"),
    (0.06, "21"),
    (0.03, "11A"),
    (0.02, "24A"),
    (0.03, "10A"),
    (0.01, "13A"),
    (0.005, "12A"),
];

/// Assessment length in working days: (weight %, (lowest, highest)); 87% within 45.
pub(super) const ASSESSMENT_DAYS: &[(f64, (i64, i64))] = &[
    (1.0, (0, 0)),
    (20.0, (1, 10)),
    (25.0, (11, 20)),
    (20.0, (21, 30)),
    (14.0, (31, 40)),
    (7.0, (41, 45)),
    (5.0, (46, 50)),
    (5.0, (51, 60)),
    (3.0, (61, 90)),
];

/// First placements of children under 16, as the model report's costs table: (weight, (PLACE,
/// PLACE_PROVIDER)).
pub(super) const PLACEMENTS_UNDER_16: &[(f64, (&str, &str))] = &[
    (232.0, ("U4", "PR4")),
    (60.0, ("U5", "PR4")),
    (188.0, ("U4", "PR1")),
    (40.0, ("U6", "PR1")),
    (162.0, ("U1", "PR1")),
    (40.0, ("U3", "PR1")),
    (76.0, ("K2", "PR4")),
    (28.0, ("K2", "PR1")),
    (2.0, ("K1", "PR4")),
    (25.0, ("P1", "PR0")),
];

pub(super) const PLACEMENTS_16_PLUS: &[(f64, (&str, &str))] = &[
    (30.0, ("U4", "PR4")),
    (20.0, ("U4", "PR1")),
    (15.0, ("U1", "PR1")),
    (25.0, ("K2", "PR4")),
    (23.0, ("SUPPORTED", "PR4")),
    (21.0, ("SUPPORTED", "PR1")),
    (15.0, ("P2", "PR4")),
];

/// Weekly cost in pounds by placement, as the model report: (mean, spread).
pub(super) fn weekly_cost(place: &str, provider: &str) -> Option<(f64, f64)> {
    Some(match (place, provider) {
        ("K2", "PR1") => (2_600.0, 250.0),
        ("K2", _) => (3_418.0, 650.0),
        ("K1", _) => (5_900.0, 600.0),
        ("U4" | "U5" | "U6", "PR1") => (477.0, 70.0),
        ("U4" | "U5" | "U6", _) => (789.0, 110.0),
        ("U1" | "U2" | "U3", _) => (379.0, 60.0),
        ("H5" | "K3", "PR1") => (148.0, 40.0),
        ("H5" | "K3", _) => (839.0, 180.0),
        ("P2", _) => (333.0, 50.0),
        _ => return None,
    })
}

pub(super) const FEEDBACK: &[(&str, &str, f64)] = &[
    ("parent_concern_explained", "parent", 0.85),
    ("parent_plan_positive_difference", "parent", 0.45),
    ("professional_child_voice_understood", "professional", 0.85),
    (
        "professional_conference_child_focused",
        "professional",
        0.78,
    ),
    ("professional_plan_reflects_needs", "professional", 0.80),
];

// ---------------------------------------------------------------------------------------------
// Drawing.
