//! Proto ↔ domain for every finance record kind ([`WireRecord`]): validation happens here,
//! once, each problem named by its field within the record. Money is whole pence.

use csc_core::{FieldCheck, LaCode, Violations, codes};
use csc_proto::finance as pb;
use csc_runtime::Error;
use csc_runtime::rpc::WireRecord;

use crate::domain::{
    Category, CategoryKey, CategoryMapping, CategoryMappingKey, Commitment, CommitmentKey, GROUPS,
    MAX_WEEKLY_PENCE,
};

// ---- field checks ------------------------------------------------------------------------------

/// A category key: lower-case letters, digits and underscores. `Some(None)` when empty and not
/// required; `None` when invalid (reported).
fn category_key_field(
    c: &mut FieldCheck<'_>,
    field: &str,
    v: &str,
    required: bool,
) -> Option<Option<String>> {
    let t = v.trim();
    if t.is_empty() {
        if required {
            c.fail(field, "required");
            return None;
        }
        return Some(None);
    }
    if t.len() > 64
        || !t
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        c.fail(field, format!("{t:?} is not a category key (lower-case letters, digits and _, e.g. \"agency_residential\")"));
        return None;
    }
    Some(Some(t.to_owned()))
}

// ---- shared by the conversions ---------------------------------------------------------------

pub(super) fn la_only(v: &str) -> Result<LaCode, Error> {
    LaCode::parse(v).map_err(|e| Error::invalid("la_code", e))
}

// ---- the record kinds ------------------------------------------------------------------------

impl WireRecord for Category {
    type Proto = pb::Category;
    type ProtoKey = pb::CategoryKey;
    type Batch = pb::BatchUpsertCategoriesRequest;
    type List = pb::ListCategoriesResponse;
    const BATCH_UPSERT: &str = "BatchUpsertCategories";

    fn from_proto(p: &pb::Category) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let key = category_key_field(&mut c, "key", &p.key, true);
        let name = c.text("name", &p.name, true, 100);
        let group = p.group.trim().to_owned();
        if !GROUPS.contains(&group.as_str()) {
            c.fail(
                "group",
                format!("{group:?} is not one of {}", GROUPS.join(", ")),
            );
        }
        let parent_key = category_key_field(&mut c, "parent_key", &p.parent_key, false);
        if let (Some(Some(k)), Some(Some(parent))) = (&key, &parent_key)
            && k == parent
        {
            c.fail("parent_key", "a category cannot be its own parent");
        }
        let r = (|| {
            Some(Category {
                la_code: la_code?,
                key: key??,
                name: name??,
                group,
                parent_key: parent_key?,
                built_in: false,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::Category {
        pb::Category {
            la_code: self.la_code.to_string(),
            key: self.key.clone(),
            name: self.name.clone(),
            group: self.group.clone(),
            parent_key: self.parent_key.clone().unwrap_or_default(),
            built_in: self.built_in,
        }
    }

    fn key_from_proto(p: &pb::CategoryKey) -> Result<Self::Key, Error> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let key = category_key_field(&mut c, "key", &p.key, true);
        Ok(c.done((|| {
            Some(CategoryKey {
                la_code: la_code?,
                key: key??,
            })
        })())?)
    }
}

impl WireRecord for CategoryMapping {
    type Proto = pb::CategoryMapping;
    type ProtoKey = pb::CategoryMappingKey;
    type Batch = pb::BatchUpsertCategoryMappingsRequest;
    type List = pb::ListCategoryMappingsResponse;
    const BATCH_UPSERT: &str = "BatchUpsertCategoryMappings";

    fn from_proto(p: &pb::CategoryMapping) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let place = c.required_code(
            "place",
            &p.place,
            codes::is_placement_type,
            "903 placement type (PLACE)",
        );
        let provider = c.code(
            "place_provider",
            &p.place_provider,
            codes::is_placement_provider,
            "903 placement provider (PR0-PR5)",
        );
        let category_key = category_key_field(&mut c, "category_key", &p.category_key, true);
        let r = (|| {
            Some(CategoryMapping {
                la_code: la_code?,
                place: place?,
                place_provider: provider?.unwrap_or_default(),
                category_key: category_key??,
                built_in: false,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::CategoryMapping {
        pb::CategoryMapping {
            la_code: self.la_code.to_string(),
            place: self.place.clone(),
            place_provider: self.place_provider.clone(),
            category_key: self.category_key.clone(),
            built_in: self.built_in,
        }
    }

    fn key_from_proto(p: &pb::CategoryMappingKey) -> Result<Self::Key, Error> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let place = c.text("place", &p.place, true, 4);
        Ok(c.done((|| {
            Some(CategoryMappingKey {
                la_code: la_code?,
                place: place??,
                place_provider: p.place_provider.trim().to_owned(),
            })
        })())?)
    }
}

impl WireRecord for Commitment {
    type Proto = pb::Commitment;
    type ProtoKey = pb::CommitmentKey;
    type Batch = pb::BatchUpsertCommitmentsRequest;
    type List = pb::ListCommitmentsResponse;
    const BATCH_UPSERT: &str = "BatchUpsertCommitments";

    fn from_proto(p: &pb::Commitment) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let placement_start = c.date("placement_start", &p.placement_start).map(Some);
        let start_date = c.date("start_date", &p.start_date).map(Some);
        let end_date = c.optional_date("end_date", &p.end_date);
        if let (Some(Some(ps)), Some(Some(s))) = (placement_start, start_date)
            && s < ps
        {
            c.fail(
                "start_date",
                format!("{s} is before the placement started ({ps})"),
            );
        }
        if let (Some(Some(s)), Some(Some(e))) = (start_date, end_date)
            && e < s
        {
            c.fail("end_date", format!("{e} is before the start date {s}"));
        }
        if p.weekly_cost_pence < 0 {
            c.fail(
                "weekly_cost_pence",
                format!("{} is negative", p.weekly_cost_pence),
            );
        } else if p.weekly_cost_pence > MAX_WEEKLY_PENCE {
            c.fail(
                "weekly_cost_pence",
                format!(
                    "{} pence (£{}) a week is more than any placement costs (at most £{})",
                    p.weekly_cost_pence,
                    p.weekly_cost_pence / 100,
                    MAX_WEEKLY_PENCE / 100
                ),
            );
        }
        let category_key = category_key_field(&mut c, "category_key", &p.category_key, false);
        let place = c.code(
            "place",
            &p.place,
            codes::is_placement_type,
            "903 placement type (PLACE)",
        );
        let place_provider = c.code(
            "place_provider",
            &p.place_provider,
            codes::is_placement_provider,
            "903 placement provider (PR0-PR5)",
        );
        if p.category_key.trim().is_empty() && p.place.trim().is_empty() {
            c.fail("category_key", "required: give category_key, or place (and place_provider) to map it through the catalogue");
        }
        let provider_name = c.text("provider_name", &p.provider_name, false, 200);
        let provider_urn = c.text("provider_urn", &p.provider_urn, false, 20);
        let r = (|| {
            Some(Commitment {
                la_code: la_code?,
                child_id: child_id?,
                placement_start: placement_start??,
                start_date: start_date??,
                end_date: end_date?,
                weekly_cost_pence: p.weekly_cost_pence,
                category_key: category_key?.unwrap_or_default(),
                place: place?,
                place_provider: place_provider?,
                provider_name: provider_name?,
                provider_urn: provider_urn?,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::Commitment {
        pb::Commitment {
            la_code: self.la_code.to_string(),
            child_id: self.child_id.clone(),
            placement_start: self.placement_start.to_string(),
            start_date: self.start_date.to_string(),
            end_date: self.end_date.map(|d| d.to_string()).unwrap_or_default(),
            weekly_cost_pence: self.weekly_cost_pence,
            category_key: self.category_key.clone(),
            place: self.place.clone().unwrap_or_default(),
            place_provider: self.place_provider.clone().unwrap_or_default(),
            provider_name: self.provider_name.clone().unwrap_or_default(),
            provider_urn: self.provider_urn.clone().unwrap_or_default(),
        }
    }

    fn key_from_proto(p: &pb::CommitmentKey) -> Result<Self::Key, Error> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let placement_start = c.date("placement_start", &p.placement_start).map(Some);
        let start_date = c.date("start_date", &p.start_date).map(Some);
        Ok(c.done((|| {
            Some(CommitmentKey {
                la_code: la_code?,
                child_id: child_id?,
                placement_start: placement_start??,
                start_date: start_date??,
            })
        })())?)
    }
}
