//! The built-in catalogue of placement cost categories (those of the model report's "Type of
//! placement – Costs" table) and the built-in mapping from SSDA903 PLACE and PLACE_PROVIDER codes,
//! both overlaid per LA by the LA's own. Documented in docs/finance.md.

use csc_core::LaCode;

use super::records::{Category, CategoryMapping};

/// (key, name, group, parent key), in the report's order.
pub const DEFAULT_CATEGORIES: &[(&str, &str, &str, Option<&str>)] = &[
    (
        "agency_residential",
        "Agency residential",
        "residential",
        None,
    ),
    ("secure_units", "Secure units", "residential", None),
    (
        "in_house_residential",
        "In-house residential",
        "residential",
        None,
    ),
    ("ifa", "IFA", "fostering", None),
    (
        "in_house_fostering",
        "In-house fostering",
        "fostering",
        None,
    ),
    ("kinship_fostering", "Kinship fostering", "fostering", None),
    ("placement_plus", "Placement Plus", "fostering", None),
    (
        "external_supported_living",
        "External supported living",
        "supported",
        None,
    ),
    (
        "internal_supported_living",
        "Internal supported living",
        "supported",
        None,
    ),
    (
        "internal_supported_living_complex",
        "Internal supported living – complex",
        "supported",
        None,
    ),
    (
        "safe_base_supported_lodging",
        "Safe base / supported lodging",
        "supported",
        None,
    ),
    (
        "student_accommodation",
        "Student accommodation",
        "supported",
        None,
    ),
    ("staying_put", "Staying put", "other", None),
    ("short_breaks", "Short breaks", "other", None),
];

/// (PLACE, PLACE_PROVIDER or "" for any, category key). An exact provider wins over "".
/// Placements with no rule (placed for adoption, with parents, temporary moves, health
/// settings, other placements) must name their category.
pub const DEFAULT_MAPPINGS: &[(&str, &str, &str)] = &[
    ("K1", "", "secure_units"),
    ("R5", "", "secure_units"),
    ("K2", "", "agency_residential"),
    ("K2", "PR1", "in_house_residential"),
    ("R1", "", "agency_residential"),
    ("R1", "PR1", "in_house_residential"),
    ("S1", "", "agency_residential"),
    ("U1", "", "kinship_fostering"),
    ("U2", "", "kinship_fostering"),
    ("U3", "", "kinship_fostering"),
    ("U4", "", "ifa"),
    ("U4", "PR1", "in_house_fostering"),
    ("U5", "", "ifa"),
    ("U5", "PR1", "in_house_fostering"),
    ("U6", "", "ifa"),
    ("U6", "PR1", "in_house_fostering"),
    ("H5", "", "external_supported_living"),
    ("H5", "PR1", "internal_supported_living"),
    ("K3", "", "external_supported_living"),
    ("K3", "PR1", "internal_supported_living"),
    ("P2", "", "safe_base_supported_lodging"),
];

/// The LA's catalogue in report order: the built-in categories (as the LA has renamed or
/// regrouped them), then the LA's own by key, each followed by the categories under it.
pub fn effective_categories(la: LaCode, own: &[Category]) -> Vec<Category> {
    let built_in = DEFAULT_CATEGORIES
        .iter()
        .map(
            |&(key, name, group, parent)| match own.iter().find(|c| c.key == key) {
                Some(c) => Category {
                    built_in: true,
                    ..c.clone()
                },
                None => Category {
                    la_code: la,
                    key: key.into(),
                    name: name.into(),
                    group: group.into(),
                    parent_key: parent.map(str::to_owned),
                    built_in: true,
                },
            },
        );
    let mut extra: Vec<Category> = own
        .iter()
        .filter(|c| !DEFAULT_CATEGORIES.iter().any(|d| d.0 == c.key))
        .cloned()
        .collect();
    extra.sort_by(|a, b| a.key.cmp(&b.key));
    let all: Vec<Category> = built_in.chain(extra).collect();

    // A category whose parent is not in the catalogue reports as a root.
    let is_root = |c: &Category| {
        c.parent_key
            .as_deref()
            .is_none_or(|p| !all.iter().any(|o| o.key == p))
    };
    let mut out: Vec<Category> = Vec::with_capacity(all.len());
    for root in all.iter().filter(|c| is_root(c)) {
        out.push(root.clone());
        out.extend(
            all.iter()
                .filter(|c| !is_root(c) && c.parent_key.as_deref() == Some(root.key.as_str()))
                .cloned(),
        );
    }
    // Deeper nesting is refused at ingest; anything left still reports, at the end.
    for c in &all {
        if !out.iter().any(|o| o.key == c.key) {
            out.push(c.clone());
        }
    }
    out
}

/// The LA's mapping rules: built-in ones overlaid by the LA's own (same PLACE and provider).
pub fn effective_mappings(la: LaCode, own: &[CategoryMapping]) -> Vec<CategoryMapping> {
    let mut out: Vec<CategoryMapping> = DEFAULT_MAPPINGS
        .iter()
        .filter(|(p, pr, _)| !own.iter().any(|o| o.place == *p && o.place_provider == *pr))
        .map(|&(place, provider, key)| CategoryMapping {
            la_code: la,
            place: place.into(),
            place_provider: provider.into(),
            category_key: key.into(),
            built_in: true,
        })
        .collect();
    out.extend(own.iter().cloned().map(|m| CategoryMapping {
        built_in: false,
        ..m
    }));
    out.sort_by(|a, b| (&a.place, &a.place_provider).cmp(&(&b.place, &b.place_provider)));
    out
}

/// The category a placement of type `place` with provider `provider` costs under: the rule for
/// that exact provider, else the rule for any provider.
pub fn resolve_category<'a>(
    mappings: &'a [CategoryMapping],
    place: &str,
    provider: &str,
) -> Option<&'a str> {
    let find = |pr: &str| {
        mappings
            .iter()
            .find(|m| m.place == place && m.place_provider == pr)
    };
    find(provider)
        .or_else(|| find(""))
        .map(|m| m.category_key.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use csc_core::testing::la;

    #[test]
    fn built_in_mapping_follows_the_issue_examples() {
        let m = effective_mappings(la(), &[]);
        assert_eq!(
            resolve_category(&m, "K2", "PR4"),
            Some("agency_residential")
        );
        assert_eq!(
            resolve_category(&m, "R1", "PR5"),
            Some("agency_residential")
        );
        assert_eq!(resolve_category(&m, "U5", "PR4"), Some("ifa"));
        assert_eq!(
            resolve_category(&m, "U6", "PR1"),
            Some("in_house_fostering")
        );
        assert_eq!(resolve_category(&m, "U2", "PR1"), Some("kinship_fostering"));
        assert_eq!(resolve_category(&m, "P1", "PR0"), None);
        for (_, _, key) in DEFAULT_MAPPINGS {
            assert!(DEFAULT_CATEGORIES.iter().any(|c| c.0 == *key), "{key}");
        }
    }

    #[test]
    fn the_la_overrides_rules_and_adds_homes_under_their_parent() {
        let own_rule = CategoryMapping {
            la_code: la(),
            place: "U4".into(),
            place_provider: "PR4".into(),
            category_key: "placement_plus".into(),
            built_in: false,
        };
        let m = effective_mappings(la(), &[own_rule]);
        assert_eq!(resolve_category(&m, "U4", "PR4"), Some("placement_plus"));
        assert_eq!(resolve_category(&m, "U4", "PR5"), Some("ifa"));

        let home = |key: &str, name: &str| Category {
            la_code: la(),
            key: key.into(),
            name: name.into(),
            group: "residential".into(),
            parent_key: Some("in_house_residential".into()),
            built_in: false,
        };
        let renamed = Category {
            name: "Independent fostering agencies".into(),
            ..effective_categories(la(), &[])[3].clone()
        };
        let cats = effective_categories(
            la(),
            &[
                home("ebd_homes", "EBD Homes"),
                home("cwd_homes", "CWD Homes"),
                renamed,
            ],
        );
        let keys: Vec<&str> = cats.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            &keys[..6],
            [
                "agency_residential",
                "secure_units",
                "in_house_residential",
                "cwd_homes",
                "ebd_homes",
                "ifa"
            ]
        );
        assert_eq!(cats[5].name, "Independent fostering agencies");
        assert!(cats[5].built_in);
        assert_eq!(cats.len(), DEFAULT_CATEGORIES.len() + 2);
    }
}
