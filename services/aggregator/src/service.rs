//! The reporting service itself, behind its gRPC adapter (`crate::api`): composing, keeping and
//! reading reports, commentary, population overrides and the reference tables. It speaks the
//! domain's types and the suite's error kinds; the wire is the adapter's.

use std::{collections::HashMap, sync::Arc};

use csc_core::Period;
use csc_runtime::error::{Error, Result};
use futures::StreamExt as _;
use sea_orm::DatabaseConnection;
use tokio::sync::RwLock;

use crate::{
    domain::{
        compose::{self, ComposeInput},
        group::{self, GroupDef, GroupInput, GroupKind, GroupReport, MemberReport},
        reference::{Area, PopulationSource, PopulationUsed, Reference, TABLES},
        report::{Report, Section},
    },
    store::{self, entities},
    upstream::Upstreams,
};

pub struct Reporting {
    db: DatabaseConnection,
    upstreams: Upstreams,
    /// Parsed at the first readiness check that reaches the database ([`Self::load_reference`]).
    reference: RwLock<Option<Arc<Reference>>>,
}

impl Reporting {
    /// The service over a database it has not touched yet: nothing is read until
    /// [`Self::load_reference`].
    pub fn new(db: DatabaseConnection, upstreams: Upstreams) -> Self {
        Reporting {
            db,
            upstreams,
            reference: RwLock::new(None),
        }
    }

    /// Loads the reference tables (the shipped release at first start) and parses them, unless
    /// already done: the service's readiness check, once its migrations are applied.
    pub async fn load_reference(&self) -> anyhow::Result<()> {
        if self.reference.read().await.is_some() {
            return Ok(());
        }
        let texts = store::ensure_reference(&self.db).await?;
        let reference = Reference::build(&texts)?;
        *self.reference.write().await = Some(Arc::new(reference));
        Ok(())
    }

    async fn reference(&self) -> Result<Arc<Reference>> {
        self.reference.read().await.clone().ok_or_else(|| {
            Error::NotReady(
                "the aggregator is still loading its reference tables; retry in a moment".into(),
            )
        })
    }

    /// The population a period's rates use: an operator's override, else the ONS estimate for
    /// mid-(Y − 1) of the financial year ending 31 March Y, else the latest earlier estimate.
    pub async fn population(&self, la: &str, period: &Period) -> Result<Option<PopulationUsed>> {
        let year = period.financial_year();
        if let Some(p) = store::population_override(&self.db, la, year).await? {
            return Ok(Some(PopulationUsed {
                year,
                population: p,
                source: PopulationSource::Override,
            }));
        }
        Ok(self
            .reference()
            .await?
            .ons_population(&Area::La(la.to_owned()), year))
    }

    /// Composes the LA's report for the period from the services' figures now, as kept reports
    /// and group reports alike show it: the period, the previous one, the earlier comparison and
    /// the 8-period series, each service asked once for all of them; unsuppressed, and not kept.
    pub async fn compose_report(
        &self,
        la: &str,
        period: &Period,
        requested_by: &str,
    ) -> Result<Report> {
        let periods = compose::trend_periods(period);
        let fetched = self.upstreams.fetch_all(la, &periods).await;
        let mut populations = Vec::with_capacity(periods.len());
        for p in &periods {
            populations.push(self.population(la, p).await?);
        }
        let commentary: HashMap<String, String> = store::commentary_for(&self.db, la, &period.id())
            .await?
            .into_iter()
            .map(|c| (c.section, c.body))
            .collect();
        let reference = self.reference().await?;
        Ok(compose::compose(ComposeInput {
            la_code: la.to_owned(),
            period: *period,
            periods,
            measures: fetched.measures,
            unavailable: fetched.unavailable,
            held: fetched.held,
            populations,
            reference: &reference,
            commentary,
            generated_at: store::now(),
            report_id: uuid::Uuid::new_v4().to_string(),
            requested_by: requested_by.to_owned(),
        }))
    }

    /// Composes, keeps and returns the report; compared with the benchmarking group `group`,
    /// live, when one is named (each member the caller may see composed as in the group report).
    pub async fn generate(
        &self,
        la: &str,
        period: &Period,
        publish: bool,
        allow_partial: bool,
        requested_by: &str,
        group: Option<&str>,
    ) -> Result<Report, GenerateError> {
        let mut report = self.compose_report(la, period, requested_by).await?;
        if let Some(name) = group {
            let def = self.group(name).await?.def;
            let focus = def.members.iter().any(|m| m == la).then(|| la.to_owned());
            let g = self
                .compose_group(def, period, focus, publish, requested_by, Some(&report))
                .await?;
            group::attach(&mut report, &g);
        }
        if publish {
            let blocking = report.blocking_publication(allow_partial);
            if !blocking.is_empty() {
                return Err(GenerateError::NotPublishable {
                    sections: blocking.into_iter().cloned().collect(),
                    allow_partial,
                });
            }
            report.publish();
        }
        let document = serde_json::to_string(&report)
            .map_err(|e| Error::Internal(format!("serialising the report: {e}")))?;
        store::save_report(
            &self.db,
            entities::report::Model {
                id: report.report_id.clone(),
                la_code: la.to_owned(),
                period_id: period.id(),
                generated_at: report.generated_at.clone(),
                requested_by: requested_by.to_owned(),
                published: report.published,
                document,
            },
        )
        .await?;
        tracing::info!(la, period = %period, report_id = %report.report_id, publish, requested_by, "report generated");
        Ok(report)
    }
}

/// Why a report was not generated.
#[derive(Debug)]
pub enum GenerateError {
    Failed(Error),
    /// Publication asked for, and these sections are not complete enough to publish.
    NotPublishable {
        sections: Vec<Section>,
        allow_partial: bool,
    },
}

impl From<Error> for GenerateError {
    fn from(e: Error) -> Self {
        GenerateError::Failed(e)
    }
}

/// A reference table as loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct TableInfo {
    pub table: &'static str,
    pub description: &'static str,
    pub source: String,
    pub loaded_at: String,
    pub rows: usize,
    pub latest_year: Option<i32>,
}

/// A kept report, without its document.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptReport {
    pub report_id: String,
    pub period_id: String,
    pub generated_at: String,
    pub requested_by: String,
    pub published: bool,
}

impl Reporting {
    /// A kept report.
    pub async fn report(&self, id: &str) -> Result<Report> {
        let model = store::get_report(&self.db, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no report {id:?}")))?;
        serde_json::from_str(&model.document)
            .map_err(|e| Error::Internal(format!("report {} cannot be read: {e}", model.id)))
    }

    /// The LA's kept reports (of one period, if given), newest first, from `offset`.
    pub async fn reports(
        &self,
        la: &str,
        period: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<KeptReport>> {
        Ok(store::list_reports(&self.db, la, period, offset, limit)
            .await?
            .into_iter()
            .map(
                |(report_id, period_id, generated_at, requested_by, published)| KeptReport {
                    report_id,
                    period_id,
                    generated_at,
                    requested_by,
                    published,
                },
            )
            .collect())
    }

    /// What each domain service holds for the LA, asked of all four at once, in section order;
    /// a service that did not answer with why.
    pub async fn coverage(
        &self,
        la: &str,
    ) -> Vec<(
        crate::Upstream,
        std::result::Result<csc_proto::common::Coverage, String>,
    )> {
        futures::future::join_all(
            crate::Upstream::ALL
                .iter()
                .map(|&s| async move { (s, self.upstreams.coverage_as_sent(s, la).await) }),
        )
        .await
    }

    /// Sets a section's commentary; returns it as kept (with its time).
    pub async fn set_commentary(
        &self,
        la: &str,
        period: &Period,
        section: &str,
        text: &str,
        author: &str,
    ) -> Result<entities::commentary::Model> {
        let model = entities::commentary::Model {
            la_code: la.to_owned(),
            period_id: period.id(),
            section: section.to_owned(),
            body: text.to_owned(),
            author: author.to_owned(),
            updated_at: store::now(),
        };
        store::set_commentary(&self.db, model.clone()).await?;
        Ok(model)
    }

    pub async fn commentary(
        &self,
        la: &str,
        period: &Period,
    ) -> Result<Vec<entities::commentary::Model>> {
        store::commentary_for(&self.db, la, &period.id()).await
    }

    /// Sets (or, with 0, removes) the operator's population for an LA and a mid-year.
    pub async fn set_population(&self, la: &str, year: i32, population: i64) -> Result<()> {
        store::set_population(&self.db, la, year, population).await?;
        tracing::info!(la, year, population, "population override set");
        Ok(())
    }

    /// Keeps a new release of a reference table and uses it from the next report on.
    pub async fn load_reference_table(
        &self,
        table: &str,
        source: &str,
        text: &str,
    ) -> Result<TableInfo> {
        Reference::check_table(table, text)
            .map_err(|e| Error::invalid("content", e.to_string()))?;
        let source = if source.trim().is_empty() {
            "operator upload"
        } else {
            source
        };
        store::put_reference(&self.db, table, source, text).await?;
        // Re-read every table, so the report uses the new release from the next call on.
        let texts = store::ensure_reference(&self.db).await?;
        let rebuilt = Reference::build(&texts).map_err(|e| Error::Internal(e.to_string()))?;
        *self.reference.write().await = Some(Arc::new(rebuilt));
        tracing::info!(table, source, "reference table loaded");
        self.reference_tables()
            .await?
            .into_iter()
            .find(|t| t.table == table)
            .ok_or_else(|| Error::Internal("the table just loaded is missing".into()))
    }

    /// Every reference table, as loaded.
    pub async fn reference_tables(&self) -> Result<Vec<TableInfo>> {
        let sources = store::reference_sources(&self.db).await?;
        let reference = self.reference().await?;
        Ok(TABLES
            .iter()
            .map(|t| {
                let (source, loaded_at) = sources
                    .iter()
                    .find(|(n, _, _)| n == t.name)
                    .map(|(_, s, l)| (s.clone(), l.clone()))
                    .unwrap_or_default();
                TableInfo {
                    table: t.name,
                    description: t.description,
                    source,
                    loaded_at,
                    rows: reference.rows(t.name),
                    latest_year: reference.latest_year(t.name),
                }
            })
            .collect())
    }
}

/// How many members of a group report are composed at once. Each member's report is itself some
/// 20 concurrent calls to the four services; four members at a time keep a 2-core machine's
/// services busy without queueing a whole region's calls behind each other's deadlines.
pub const MEMBER_FAN_OUT: usize = 4;

/// A custom group as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptGroup {
    pub def: GroupDef,
    pub updated_by: String,
    pub updated_at: String,
}

impl Reporting {
    /// The group `name`: a built-in one, else a custom one; NOT_FOUND naming what there is.
    pub async fn group(&self, name: &str) -> Result<KeptGroup> {
        let reference = self.reference().await?;
        if let Some(def) = group::builtin(&reference, name).map_err(Error::NotFound)? {
            return Ok(KeptGroup {
                def,
                updated_by: String::new(),
                updated_at: String::new(),
            });
        }
        let model = store::get_group(&self.db, name).await?.ok_or_else(|| {
            Error::NotFound(format!(
                "no group {}: a custom group (csc group list), region:NAME or neighbours:LA",
                csc_core::text::quote(name)
            ))
        })?;
        Ok(kept_group(model))
    }

    /// Every custom group, then the nine regions.
    pub async fn groups(&self) -> Result<Vec<KeptGroup>> {
        let reference = self.reference().await?;
        let mut out: Vec<KeptGroup> = store::list_groups(&self.db)
            .await?
            .into_iter()
            .map(kept_group)
            .collect();
        for (_, region) in reference.regions() {
            let name = format!("region:{}", group::slug(&region));
            if let Ok(Some(def)) = group::builtin(&reference, &name) {
                out.push(KeptGroup {
                    def,
                    updated_by: String::new(),
                    updated_at: String::new(),
                });
            }
        }
        Ok(out)
    }

    /// Creates or replaces a custom group (no members: removes it); the members checked by the
    /// caller.
    pub async fn set_group(
        &self,
        name: &str,
        title: &str,
        members: &[String],
        by: &str,
    ) -> Result<KeptGroup> {
        let model = entities::report_group::Model {
            name: name.to_owned(),
            title: title.to_owned(),
            members: members.join(","),
            updated_by: by.to_owned(),
            updated_at: store::now(),
        };
        store::set_group(&self.db, model.clone()).await?;
        tracing::info!(group = name, members = members.len(), by, "group set");
        Ok(kept_group(model))
    }

    /// The names the reference tables give LAs, for groups' members.
    pub async fn la_name(&self, la: &str) -> Option<String> {
        let r = self.reference().await.ok()?;
        r.la_name(la).map(str::to_owned)
    }

    /// The group report: each member the caller's token grants composed as its own single-LA
    /// report (at most [`MEMBER_FAN_OUT`] at once), suppressed when published, then compared.
    pub async fn generate_group(
        &self,
        name: &str,
        period: &Period,
        focus: Option<&str>,
        publish: bool,
        requested_by: &str,
    ) -> Result<GroupReport> {
        let group = self.group(name).await?.def;
        let focus = focus.map(str::to_owned).or_else(|| group.focus.clone());
        if let Some(f) = &focus
            && !group.members.contains(f)
        {
            return Err(Error::invalid(
                "la_code",
                format!("the focus LA {f} is not a member of {}", group.name),
            ));
        }
        self.compose_group(group, period, focus, publish, requested_by, None)
            .await
    }

    /// Composes the group report: each member the caller's token grants composed as its own
    /// single-LA report (at most [`MEMBER_FAN_OUT`] at once; the focus's `focus_report` when
    /// already composed), suppressed when published, then compared.
    async fn compose_group(
        &self,
        group: GroupDef,
        period: &Period,
        focus: Option<String>,
        publish: bool,
        requested_by: &str,
        focus_report: Option<&Report>,
    ) -> Result<GroupReport> {
        let claims = csc_runtime::auth::caller().and_then(|c| c.claims);
        let shared = |la: &str| claims.as_ref().is_none_or(|c| c.may_touch(la));
        let started = std::time::Instant::now();
        let asked: Vec<(String, bool)> = group
            .members
            .iter()
            .map(|la| (la.clone(), shared(la)))
            .collect();
        let members: Vec<Result<MemberReport>> = futures::stream::iter(asked)
            .map(|(la, shared)| async move {
                if !shared {
                    return Ok(MemberReport::NotShared);
                }
                let mut r = match focus_report.filter(|r| r.la_code == la) {
                    Some(r) => r.clone(),
                    None => self.compose_report(&la, period, requested_by).await?,
                };
                if publish {
                    r.publish();
                }
                Ok(MemberReport::Report(Box::new(r)))
            })
            .buffered(MEMBER_FAN_OUT)
            .collect()
            .await;
        let members = members.into_iter().collect::<Result<Vec<_>>>()?;
        let composed = started.elapsed();
        let reference = self.reference().await?;
        let report = group::compose_group(GroupInput {
            group,
            period: *period,
            focus,
            members,
            reference: &reference,
            published: publish,
            generated_at: store::now(),
            requested_by: requested_by.to_owned(),
        });
        tracing::info!(
            group = %report.group,
            period = %period,
            members = report.members.len(),
            compose_members_ms = composed.as_millis() as u64,
            compare_ms = (started.elapsed() - composed).as_millis() as u64,
            publish,
            requested_by,
            "group report generated"
        );
        Ok(report)
    }
}

fn kept_group(m: entities::report_group::Model) -> KeptGroup {
    KeptGroup {
        def: GroupDef {
            name: m.name,
            title: m.title,
            kind: GroupKind::Custom,
            members: m
                .members
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            focus: None,
        },
        updated_by: m.updated_by,
        updated_at: m.updated_at,
    }
}
