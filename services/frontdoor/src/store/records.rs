//! How each record kind maps to its table: key and value columns, and model ↔ domain conversion.

use csc_core::LaCode;
use csc_runtime::Error;
use csc_runtime::store::{
    KeepStored, StoredRecord, after_date_child as child_date_after, child_date_filter,
    stored_la as la,
};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition};

use super::entities::*;
use crate::domain::{
    Agency, Assessment, AssessmentOutcome, ChildDateKey, Contact, ContactKey, EarlyHelpAssessment,
    Icpc, Referral, Section47Enquiry, StrategyDiscussion,
};

fn join(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    items
        .into_iter()
        .map(|s| s.as_ref().to_owned())
        .collect::<Vec<_>>()
        .join(",")
}

fn split(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').filter(|x| !x.is_empty())
}

fn agencies(s: &str) -> Result<Vec<Agency>, Error> {
    split(s)
        .map(|k| Agency::from_key(k).ok_or_else(|| Error::Internal(format!("stored agency {k:?}"))))
        .collect()
}

impl StoredRecord for Contact {
    type Entity = contact::Entity;
    type Model = contact::Model;
    type Active = contact::ActiveModel;
    type Key = ContactKey;

    fn la_column() -> contact::Column {
        contact::Column::LaCode
    }
    fn child_column() -> contact::Column {
        contact::Column::ChildId
    }
    fn key(&self) -> ContactKey {
        Contact::key(self)
    }
    fn key_filter(k: &ContactKey) -> Condition {
        Condition::all()
            .add(contact::Column::LaCode.eq(k.la_code.as_str()))
            .add(contact::Column::ContactId.eq(k.contact_id.as_str()))
    }
    fn after(k: &ContactKey) -> Condition {
        Condition::all().add(contact::Column::ContactId.gt(k.contact_id.as_str()))
    }
    fn to_active(&self) -> contact::ActiveModel {
        contact::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            contact_id: Set(self.contact_id.clone()),
            child_id: Set(self.child_id.clone()),
            contact_date: Set(self.contact_date),
            source: Set(self.source.clone()),
            became_referral: Set(self.became_referral),
        }
    }
    fn from_model(m: contact::Model) -> Result<Self, Error> {
        Ok(Contact {
            la_code: la(&m.la_code)?,
            contact_id: m.contact_id,
            child_id: m.child_id,
            contact_date: m.contact_date,
            source: m.source,
            became_referral: m.became_referral,
        })
    }
}

impl StoredRecord for Referral {
    type Entity = referral::Entity;
    type Model = referral::Model;
    type Active = referral::ActiveModel;
    type Key = ChildDateKey;

    fn la_column() -> referral::Column {
        referral::Column::LaCode
    }
    fn child_column() -> referral::Column {
        referral::Column::ChildId
    }
    fn key(&self) -> ChildDateKey {
        Referral::key(self)
    }
    fn key_filter(k: &ChildDateKey) -> Condition {
        use referral::Column::*;
        child_date_filter(LaCode, ChildId, ReferralDate, k)
    }
    fn after(k: &ChildDateKey) -> Condition {
        child_date_after(referral::Column::ChildId, referral::Column::ReferralDate, k)
    }
    fn to_active(&self) -> referral::ActiveModel {
        referral::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            child_id: Set(self.child_id.clone()),
            referral_date: Set(self.referral_date),
            source: Set(self.source.clone()),
            nfa: Set(self.nfa),
        }
    }
    fn from_model(m: referral::Model) -> Result<Self, Error> {
        Ok(Referral {
            la_code: la(&m.la_code)?,
            child_id: m.child_id,
            referral_date: m.referral_date,
            source: m.source,
            nfa: m.nfa,
        })
    }
}

fn outcome_key(o: AssessmentOutcome) -> &'static str {
    match o {
        AssessmentOutcome::Unspecified => "",
        AssessmentOutcome::Nfa => "nfa",
        AssessmentOutcome::FurtherAction => "further_action",
    }
}

impl StoredRecord for Assessment {
    type Entity = assessment::Entity;
    type Model = assessment::Model;
    type Active = assessment::ActiveModel;
    type Key = ChildDateKey;

    fn la_column() -> assessment::Column {
        assessment::Column::LaCode
    }
    fn child_column() -> assessment::Column {
        assessment::Column::ChildId
    }
    fn key(&self) -> ChildDateKey {
        Assessment::key(self)
    }
    fn key_filter(k: &ChildDateKey) -> Condition {
        use assessment::Column::*;
        child_date_filter(LaCode, ChildId, StartDate, k)
    }
    fn after(k: &ChildDateKey) -> Condition {
        child_date_after(
            assessment::Column::ChildId,
            assessment::Column::StartDate,
            k,
        )
    }
    fn to_active(&self) -> assessment::ActiveModel {
        assessment::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            child_id: Set(self.child_id.clone()),
            start_date: Set(self.start_date),
            referral_date: Set(self.referral_date),
            authorisation_date: Set(self.authorisation_date),
            factors: Set(join(&self.factors)),
            outcome: Set(outcome_key(self.outcome).to_owned()),
            closure_reason: Set(self.closure_reason.clone()),
        }
    }
    fn from_model(m: assessment::Model) -> Result<Self, Error> {
        let outcome = match m.outcome.as_str() {
            "" => AssessmentOutcome::Unspecified,
            "nfa" => AssessmentOutcome::Nfa,
            "further_action" => AssessmentOutcome::FurtherAction,
            other => {
                return Err(Error::Internal(format!(
                    "stored assessment outcome {other:?}"
                )));
            }
        };
        Ok(Assessment {
            la_code: la(&m.la_code)?,
            child_id: m.child_id,
            start_date: m.start_date,
            referral_date: m.referral_date,
            authorisation_date: m.authorisation_date,
            factors: split(&m.factors).map(str::to_owned).collect(),
            outcome,
            closure_reason: m.closure_reason,
        })
    }
}

impl StoredRecord for Section47Enquiry {
    type Entity = section47_enquiry::Entity;
    type Model = section47_enquiry::Model;
    type Active = section47_enquiry::ActiveModel;
    type Key = ChildDateKey;

    fn la_column() -> section47_enquiry::Column {
        section47_enquiry::Column::LaCode
    }
    fn child_column() -> section47_enquiry::Column {
        section47_enquiry::Column::ChildId
    }
    fn key(&self) -> ChildDateKey {
        Section47Enquiry::key(self)
    }
    fn key_filter(k: &ChildDateKey) -> Condition {
        use section47_enquiry::Column::*;
        child_date_filter(LaCode, ChildId, StartDate, k)
    }
    fn after(k: &ChildDateKey) -> Condition {
        child_date_after(
            section47_enquiry::Column::ChildId,
            section47_enquiry::Column::StartDate,
            k,
        )
    }
    fn to_active(&self) -> section47_enquiry::ActiveModel {
        section47_enquiry::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            child_id: Set(self.child_id.clone()),
            start_date: Set(self.start_date),
            referral_date: Set(self.referral_date),
            icpc_target_date: Set(self.icpc_target_date),
            icpc_date: Set(self.icpc_date),
            icpc_not_required: Set(self.icpc_not_required),
        }
    }
    fn from_model(m: section47_enquiry::Model) -> Result<Self, Error> {
        Ok(Section47Enquiry {
            la_code: la(&m.la_code)?,
            child_id: m.child_id,
            start_date: m.start_date,
            referral_date: m.referral_date,
            icpc_target_date: m.icpc_target_date,
            icpc_date: m.icpc_date,
            icpc_not_required: m.icpc_not_required,
        })
    }
}

impl StoredRecord for StrategyDiscussion {
    type Entity = strategy_discussion::Entity;
    type Model = strategy_discussion::Model;
    type Active = strategy_discussion::ActiveModel;
    type Key = ChildDateKey;

    fn la_column() -> strategy_discussion::Column {
        strategy_discussion::Column::LaCode
    }
    fn child_column() -> strategy_discussion::Column {
        strategy_discussion::Column::ChildId
    }
    fn key(&self) -> ChildDateKey {
        StrategyDiscussion::key(self)
    }
    fn key_filter(k: &ChildDateKey) -> Condition {
        use strategy_discussion::Column::*;
        child_date_filter(LaCode, ChildId, DiscussionDate, k)
    }
    fn after(k: &ChildDateKey) -> Condition {
        child_date_after(
            strategy_discussion::Column::ChildId,
            strategy_discussion::Column::DiscussionDate,
            k,
        )
    }
    fn to_active(&self) -> strategy_discussion::ActiveModel {
        strategy_discussion::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            child_id: Set(self.child_id.clone()),
            discussion_date: Set(self.discussion_date),
            invited: Set(join(self.invited.iter().map(|a| a.key()))),
            attended: Set(join(self.attended.iter().map(|a| a.key()))),
        }
    }
    fn from_model(m: strategy_discussion::Model) -> Result<Self, Error> {
        Ok(StrategyDiscussion {
            la_code: la(&m.la_code)?,
            child_id: m.child_id,
            discussion_date: m.discussion_date,
            invited: agencies(&m.invited)?,
            attended: agencies(&m.attended)?,
        })
    }
}

impl StoredRecord for Icpc {
    type Entity = icpc::Entity;
    type Model = icpc::Model;
    type Active = icpc::ActiveModel;
    type Key = ChildDateKey;

    fn la_column() -> icpc::Column {
        icpc::Column::LaCode
    }
    fn child_column() -> icpc::Column {
        icpc::Column::ChildId
    }
    fn key(&self) -> ChildDateKey {
        Icpc::key(self)
    }
    fn key_filter(k: &ChildDateKey) -> Condition {
        use icpc::Column::*;
        child_date_filter(LaCode, ChildId, IcpcDate, k)
    }
    fn after(k: &ChildDateKey) -> Condition {
        child_date_after(icpc::Column::ChildId, icpc::Column::IcpcDate, k)
    }
    fn to_active(&self) -> icpc::ActiveModel {
        icpc::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            child_id: Set(self.child_id.clone()),
            icpc_date: Set(self.icpc_date),
            s47_start_date: Set(self.s47_start_date),
        }
    }
    fn from_model(m: icpc::Model) -> Result<Self, Error> {
        Ok(Icpc {
            la_code: la(&m.la_code)?,
            child_id: m.child_id,
            icpc_date: m.icpc_date,
            s47_start_date: m.s47_start_date,
        })
    }
}

/// An assessment from a source that holds less than the CIN census (Annex A) keeps the stored
/// factors, outcome, closure reason and authorisation where it has none, and the stored referral
/// date always: the census links an assessment to its referral; Annex A's link is inferred.
impl KeepStored for Assessment {
    fn la_child(&self) -> (LaCode, &str) {
        (self.la_code, &self.child_id)
    }
    fn keep_stored(&mut self, stored: &Self) {
        self.referral_date = stored.referral_date;
        self.authorisation_date = self.authorisation_date.or(stored.authorisation_date);
        if self.factors.is_empty() {
            self.factors = stored.factors.clone();
        }
        if self.outcome == AssessmentOutcome::Unspecified {
            self.outcome = stored.outcome;
        }
        if self.closure_reason.is_none() {
            self.closure_reason = stored.closure_reason.clone();
        }
    }
}

/// A section 47 enquiry keeps the stored ICPC target and ICPC dates where it has none, "ICPC not
/// required" once stored, and the stored referral date where one is held (as an assessment does:
/// the census links the two; Annex A's link is inferred).
impl KeepStored for Section47Enquiry {
    fn la_child(&self) -> (LaCode, &str) {
        (self.la_code, &self.child_id)
    }
    fn keep_stored(&mut self, stored: &Self) {
        self.referral_date = stored.referral_date.or(self.referral_date);
        self.icpc_target_date = self.icpc_target_date.or(stored.icpc_target_date);
        self.icpc_date = self.icpc_date.or(stored.icpc_date);
        self.icpc_not_required |= stored.icpc_not_required;
    }
}

impl StoredRecord for EarlyHelpAssessment {
    type Entity = early_help_assessment::Entity;
    type Model = early_help_assessment::Model;
    type Active = early_help_assessment::ActiveModel;
    type Key = ChildDateKey;

    fn la_column() -> early_help_assessment::Column {
        early_help_assessment::Column::LaCode
    }
    fn child_column() -> early_help_assessment::Column {
        early_help_assessment::Column::ChildId
    }
    fn key(&self) -> ChildDateKey {
        EarlyHelpAssessment::key(self)
    }
    fn key_filter(k: &ChildDateKey) -> Condition {
        use early_help_assessment::Column::*;
        child_date_filter(LaCode, ChildId, StartDate, k)
    }
    fn after(k: &ChildDateKey) -> Condition {
        child_date_after(
            early_help_assessment::Column::ChildId,
            early_help_assessment::Column::StartDate,
            k,
        )
    }
    fn to_active(&self) -> early_help_assessment::ActiveModel {
        early_help_assessment::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            child_id: Set(self.child_id.clone()),
            start_date: Set(self.start_date),
            completion_date: Set(self.completion_date),
            organisation: Set(self.organisation.clone()),
        }
    }
    fn from_model(m: early_help_assessment::Model) -> Result<Self, Error> {
        Ok(EarlyHelpAssessment {
            la_code: la(&m.la_code)?,
            child_id: m.child_id,
            start_date: m.start_date,
            completion_date: m.completion_date,
            organisation: m.organisation,
        })
    }
}
