//! How each finance record maps to its table.

use csc_runtime::{Error, store::StoredRecord, store::stored_la as la};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition};

use super::entities::*;
use crate::domain::{
    Category, CategoryKey, CategoryMapping, CategoryMappingKey, Commitment, CommitmentKey,
};

impl StoredRecord for Category {
    type Entity = category::Entity;
    type Model = category::Model;
    type Active = category::ActiveModel;
    type Key = CategoryKey;

    fn la_column() -> category::Column {
        category::Column::LaCode
    }
    fn child_column() -> category::Column {
        category::Column::Key
    }
    fn key(&self) -> CategoryKey {
        Category::key(self)
    }
    fn key_filter(k: &CategoryKey) -> Condition {
        Condition::all()
            .add(category::Column::LaCode.eq(k.la_code.as_str()))
            .add(category::Column::Key.eq(k.key.as_str()))
    }
    fn after(k: &CategoryKey) -> Condition {
        Condition::all().add(category::Column::Key.gt(k.key.as_str()))
    }
    fn to_active(&self) -> category::ActiveModel {
        category::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            key: Set(self.key.clone()),
            name: Set(self.name.clone()),
            group_name: Set(self.group.clone()),
            parent_key: Set(self.parent_key.clone()),
        }
    }
    fn from_model(m: category::Model) -> Result<Self, Error> {
        Ok(Category {
            la_code: la(&m.la_code)?,
            built_in: crate::domain::catalogue::DEFAULT_CATEGORIES
                .iter()
                .any(|d| d.0 == m.key),
            key: m.key,
            name: m.name,
            group: m.group_name,
            parent_key: m.parent_key,
        })
    }
}

impl StoredRecord for CategoryMapping {
    type Entity = category_mapping::Entity;
    type Model = category_mapping::Model;
    type Active = category_mapping::ActiveModel;
    type Key = CategoryMappingKey;

    fn la_column() -> category_mapping::Column {
        category_mapping::Column::LaCode
    }
    fn child_column() -> category_mapping::Column {
        category_mapping::Column::Place
    }
    fn key(&self) -> CategoryMappingKey {
        CategoryMapping::key(self)
    }
    fn key_filter(k: &CategoryMappingKey) -> Condition {
        use category_mapping::Column::*;
        Condition::all()
            .add(LaCode.eq(k.la_code.as_str()))
            .add(Place.eq(k.place.as_str()))
            .add(PlaceProvider.eq(k.place_provider.as_str()))
    }
    fn after(k: &CategoryMappingKey) -> Condition {
        use category_mapping::Column::*;
        Condition::any().add(Place.gt(k.place.as_str())).add(
            Condition::all()
                .add(Place.eq(k.place.as_str()))
                .add(PlaceProvider.gt(k.place_provider.as_str())),
        )
    }
    fn to_active(&self) -> category_mapping::ActiveModel {
        category_mapping::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            place: Set(self.place.clone()),
            place_provider: Set(self.place_provider.clone()),
            category_key: Set(self.category_key.clone()),
        }
    }
    fn from_model(m: category_mapping::Model) -> Result<Self, Error> {
        Ok(CategoryMapping {
            la_code: la(&m.la_code)?,
            place: m.place,
            place_provider: m.place_provider,
            category_key: m.category_key,
            built_in: false,
        })
    }
}

impl StoredRecord for Commitment {
    type Entity = commitment::Entity;
    type Model = commitment::Model;
    type Active = commitment::ActiveModel;
    type Key = CommitmentKey;

    fn la_column() -> commitment::Column {
        commitment::Column::LaCode
    }
    fn child_column() -> commitment::Column {
        commitment::Column::ChildId
    }
    fn key(&self) -> CommitmentKey {
        Commitment::key(self)
    }
    fn key_filter(k: &CommitmentKey) -> Condition {
        use commitment::Column::*;
        Condition::all()
            .add(LaCode.eq(k.la_code.as_str()))
            .add(ChildId.eq(k.child_id.as_str()))
            .add(PlacementStart.eq(k.placement_start))
            .add(StartDate.eq(k.start_date))
    }
    fn after(k: &CommitmentKey) -> Condition {
        use commitment::Column::*;
        let child = k.child_id.as_str();
        Condition::any().add(ChildId.gt(child)).add(
            Condition::all().add(ChildId.eq(child)).add(
                Condition::any()
                    .add(PlacementStart.gt(k.placement_start))
                    .add(
                        Condition::all()
                            .add(PlacementStart.eq(k.placement_start))
                            .add(StartDate.gt(k.start_date)),
                    ),
            ),
        )
    }
    fn to_active(&self) -> commitment::ActiveModel {
        commitment::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            child_id: Set(self.child_id.clone()),
            placement_start: Set(self.placement_start),
            start_date: Set(self.start_date),
            end_date: Set(self.end_date),
            weekly_cost_pence: Set(self.weekly_cost_pence),
            category_key: Set(self.category_key.clone()),
            place: Set(self.place.clone()),
            place_provider: Set(self.place_provider.clone()),
            provider_name: Set(self.provider_name.clone()),
            provider_urn: Set(self.provider_urn.clone()),
        }
    }
    fn from_model(m: commitment::Model) -> Result<Self, Error> {
        Ok(Commitment {
            la_code: la(&m.la_code)?,
            child_id: m.child_id,
            placement_start: m.placement_start,
            start_date: m.start_date,
            end_date: m.end_date,
            weekly_cost_pence: m.weekly_cost_pence,
            category_key: m.category_key,
            place: m.place,
            place_provider: m.place_provider,
            provider_name: m.provider_name,
            provider_urn: m.provider_urn,
        })
    }
}
