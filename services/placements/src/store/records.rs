//! How each record kind maps to its table: key and value columns, and model ↔ domain conversion.

use csc_core::LaCode;
use csc_runtime::Error;
use csc_runtime::store::{
    KeepStored, StoredRecord, after_child_date, child_date_filter, stored_la as la,
};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition};

use super::entities::*;
use crate::domain::{
    CareSummary, Child, ChildDateKey, ChildKey, ClaReview, Episode, Sex, SwAllocation,
    SwAllocationKey,
};

impl StoredRecord for Child {
    type Entity = child::Entity;
    type Model = child::Model;
    type Active = child::ActiveModel;
    type Key = ChildKey;

    fn la_column() -> child::Column {
        child::Column::LaCode
    }
    fn child_column() -> child::Column {
        child::Column::ChildId
    }
    fn key(&self) -> ChildKey {
        Child::key(self)
    }
    fn key_filter(k: &ChildKey) -> Condition {
        Condition::all()
            .add(child::Column::LaCode.eq(k.la_code.as_str()))
            .add(child::Column::ChildId.eq(k.child_id.as_str()))
    }
    fn after(k: &ChildKey) -> Condition {
        Condition::all().add(child::Column::ChildId.gt(k.child_id.as_str()))
    }
    fn to_active(&self) -> child::ActiveModel {
        child::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            child_id: Set(self.child_id.clone()),
            sex: Set(self.sex.key().to_owned()),
            date_of_birth: Set(self.date_of_birth),
            ethnicity: Set(self.ethnicity.clone()),
            upn: Set(self.upn.clone()),
        }
    }
    fn from_model(m: child::Model) -> Result<Self, Error> {
        Ok(Child {
            la_code: la(&m.la_code)?,
            sex: Sex::from_key(&m.sex)
                .ok_or_else(|| Error::Internal(format!("stored sex {:?}", m.sex)))?,
            child_id: m.child_id,
            date_of_birth: m.date_of_birth,
            ethnicity: m.ethnicity,
            upn: m.upn,
        })
    }
}

impl StoredRecord for Episode {
    type Entity = episode::Entity;
    type Model = episode::Model;
    type Active = episode::ActiveModel;
    type Key = ChildDateKey;

    fn la_column() -> episode::Column {
        episode::Column::LaCode
    }
    fn child_column() -> episode::Column {
        episode::Column::ChildId
    }
    fn key(&self) -> ChildDateKey {
        Episode::key(self)
    }
    fn key_filter(k: &ChildDateKey) -> Condition {
        use episode::Column::*;
        child_date_filter(LaCode, ChildId, Decom, k)
    }
    fn after(k: &ChildDateKey) -> Condition {
        after_child_date(episode::Column::ChildId, episode::Column::Decom, k)
    }
    fn to_active(&self) -> episode::ActiveModel {
        episode::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            child_id: Set(self.child_id.clone()),
            decom: Set(self.decom),
            rne: Set(self.rne.clone()),
            legal_status: Set(self.legal_status.clone()),
            cin: Set(self.cin.clone()),
            place: Set(self.place.clone()),
            place_provider: Set(self.place_provider.clone()),
            dec: Set(self.dec),
            rec: Set(self.rec.clone()),
            reason_place_change: Set(self.reason_place_change.clone()),
            home_post: Set(self.home_post.clone()),
            pl_post: Set(self.pl_post.clone()),
            urn: Set(self.urn.clone()),
        }
    }
    fn from_model(m: episode::Model) -> Result<Self, Error> {
        Ok(Episode {
            la_code: la(&m.la_code)?,
            child_id: m.child_id,
            decom: m.decom,
            rne: m.rne,
            legal_status: m.legal_status,
            cin: m.cin,
            place: m.place,
            place_provider: m.place_provider,
            dec: m.dec,
            rec: m.rec,
            reason_place_change: m.reason_place_change,
            home_post: m.home_post,
            pl_post: m.pl_post,
            urn: m.urn,
        })
    }
}

impl StoredRecord for SwAllocation {
    type Entity = sw_allocation::Entity;
    type Model = sw_allocation::Model;
    type Active = sw_allocation::ActiveModel;
    type Key = SwAllocationKey;

    fn la_column() -> sw_allocation::Column {
        sw_allocation::Column::LaCode
    }
    fn child_column() -> sw_allocation::Column {
        sw_allocation::Column::ChildId
    }
    fn key(&self) -> SwAllocationKey {
        SwAllocation::key(self)
    }
    fn key_filter(k: &SwAllocationKey) -> Condition {
        use sw_allocation::Column::*;
        Condition::all()
            .add(LaCode.eq(k.la_code.as_str()))
            .add(ChildId.eq(k.child_id.as_str()))
            .add(SwId.eq(k.sw_id.as_str()))
            .add(StartDate.eq(k.start_date))
    }
    fn after(k: &SwAllocationKey) -> Condition {
        use sw_allocation::Column::*;
        Condition::any()
            .add(ChildId.gt(k.child_id.as_str()))
            .add(
                Condition::all()
                    .add(ChildId.eq(k.child_id.as_str()))
                    .add(SwId.gt(k.sw_id.as_str())),
            )
            .add(
                Condition::all()
                    .add(ChildId.eq(k.child_id.as_str()))
                    .add(SwId.eq(k.sw_id.as_str()))
                    .add(StartDate.gt(k.start_date)),
            )
    }
    fn to_active(&self) -> sw_allocation::ActiveModel {
        sw_allocation::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            child_id: Set(self.child_id.clone()),
            sw_id: Set(self.sw_id.clone()),
            start_date: Set(self.start_date),
            end_date: Set(self.end_date),
            reason: Set(self.reason.clone()),
        }
    }
    fn from_model(m: sw_allocation::Model) -> Result<Self, Error> {
        Ok(SwAllocation {
            la_code: la(&m.la_code)?,
            child_id: m.child_id,
            sw_id: m.sw_id,
            start_date: m.start_date,
            end_date: m.end_date,
            reason: m.reason,
        })
    }
}

impl StoredRecord for ClaReview {
    type Entity = cla_review::Entity;
    type Model = cla_review::Model;
    type Active = cla_review::ActiveModel;
    type Key = ChildDateKey;

    fn la_column() -> cla_review::Column {
        cla_review::Column::LaCode
    }
    fn child_column() -> cla_review::Column {
        cla_review::Column::ChildId
    }
    fn key(&self) -> ChildDateKey {
        ClaReview::key(self)
    }
    fn key_filter(k: &ChildDateKey) -> Condition {
        use cla_review::Column::*;
        child_date_filter(LaCode, ChildId, ReviewDate, k)
    }
    fn after(k: &ChildDateKey) -> Condition {
        after_child_date(
            cla_review::Column::ChildId,
            cla_review::Column::ReviewDate,
            k,
        )
    }
    fn to_active(&self) -> cla_review::ActiveModel {
        cla_review::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            child_id: Set(self.child_id.clone()),
            review_date: Set(self.review_date),
            review_code: Set(self.review_code.clone()),
        }
    }
    fn from_model(m: cla_review::Model) -> Result<Self, Error> {
        Ok(ClaReview {
            la_code: la(&m.la_code)?,
            child_id: m.child_id,
            review_date: m.review_date,
            review_code: m.review_code,
        })
    }
}

/// A review from a source with its date only (Annex A List 8) keeps the stored review code.
/// An episode from a source that holds less than the 903 (the DfE CSC API payload) keeps the
/// stored legal status, category of need, placement, provider and the rest where it has none.
impl KeepStored for Episode {
    fn la_child(&self) -> (LaCode, &str) {
        (self.la_code, &self.child_id)
    }
    fn keep_stored(&mut self, stored: &Self) {
        fn keep(v: &mut String, s: &str) {
            if v.is_empty() {
                s.clone_into(v);
            }
        }
        fn keep_opt(v: &mut Option<String>, s: &Option<String>) {
            if v.is_none() {
                v.clone_from(s);
            }
        }
        keep(&mut self.rne, &stored.rne);
        keep(&mut self.legal_status, &stored.legal_status);
        keep(&mut self.place, &stored.place);
        keep_opt(&mut self.cin, &stored.cin);
        keep_opt(&mut self.place_provider, &stored.place_provider);
        self.dec = self.dec.or(stored.dec);
        keep_opt(&mut self.rec, &stored.rec);
        keep_opt(&mut self.reason_place_change, &stored.reason_place_change);
        keep_opt(&mut self.home_post, &stored.home_post);
        keep_opt(&mut self.pl_post, &stored.pl_post);
        keep_opt(&mut self.urn, &stored.urn);
    }
}

impl KeepStored for ClaReview {
    fn la_child(&self) -> (LaCode, &str) {
        (self.la_code, &self.child_id)
    }
    fn keep_stored(&mut self, stored: &Self) {
        if self.review_code.is_none() {
            self.review_code = stored.review_code.clone();
        }
    }
}

impl StoredRecord for CareSummary {
    type Entity = care_summary::Entity;
    type Model = care_summary::Model;
    type Active = care_summary::ActiveModel;
    type Key = ChildDateKey;

    fn la_column() -> care_summary::Column {
        care_summary::Column::LaCode
    }
    fn child_column() -> care_summary::Column {
        care_summary::Column::ChildId
    }
    fn key(&self) -> ChildDateKey {
        CareSummary::key(self)
    }
    fn key_filter(k: &ChildDateKey) -> Condition {
        use care_summary::Column::*;
        child_date_filter(LaCode, ChildId, CareStartDate, k)
    }
    fn after(k: &ChildDateKey) -> Condition {
        after_child_date(
            care_summary::Column::ChildId,
            care_summary::Column::CareStartDate,
            k,
        )
    }
    fn to_active(&self) -> care_summary::ActiveModel {
        care_summary::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            child_id: Set(self.child_id.clone()),
            care_start_date: Set(self.care_start_date),
            legal_status: Set(self.legal_status.clone()),
            legal_status_start_date: Set(self.legal_status_start_date),
            last_visit_date: Set(self.last_visit_date),
            ceased_date: Set(self.ceased_date),
            reason_ceased: Set(self.reason_ceased.clone()),
        }
    }
    fn from_model(m: care_summary::Model) -> Result<Self, Error> {
        Ok(CareSummary {
            la_code: la(&m.la_code)?,
            child_id: m.child_id,
            care_start_date: m.care_start_date,
            legal_status: m.legal_status,
            legal_status_start_date: m.legal_status_start_date,
            last_visit_date: m.last_visit_date,
            ceased_date: m.ceased_date,
            reason_ceased: m.reason_ceased,
        })
    }
}
