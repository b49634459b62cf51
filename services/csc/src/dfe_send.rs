//! `csc send dfe-api`: what the suite holds for an LA, posted to the DfE CSC API as the DfE's
//! clients post it (docs/formats.md, "Sending to the DfE"):
//!
//! - only the children whose record changed since the last acknowledged send (`--full`: every
//!   child), and `{la_child_id, purge: true}` for a child acknowledged before and no longer held;
//! - batches of at most 100, each written to the state folder's `pending/` before it is sent, so
//!   a send stopped anywhere (a crash, a kill, a network gone) resumes with the same command:
//!   the batches not yet acknowledged are sent, and none acknowledged is sent twice;
//! - OAuth2 client credentials (token endpoint, client id, secret from a file, scope), the
//!   `SupplierKey` header;
//! - the DfE's retry policy: 401, 403 and 429 (and a receiver or network failing) tried again up
//!   to 3 times, waiting 5 s, 10 s, 20 s (at most 30 s; 120 s for 403), or as `Retry-After` says;
//!   400 and 413 never: a 400 naming records leaves those out, lists them, and sends the rest;
//! - each child's receipt kept in the state folder with the batch it went in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::import::ImportSummary;

#[derive(clap::Args, Clone)]
pub struct SendArgs {
    /// DfE three-digit LA code (the path's la_code).
    #[arg(long, env = "CSC_LA")]
    pub la: String,
    /// The DfE receiver's base URL: the path `/children_social_care_data/{la}/children` is added.
    #[arg(long, env = "CSC_DFE_ENDPOINT")]
    pub endpoint: String,
    /// Folder keeping what was acknowledged (state.json) and the batches not yet (pending/).
    #[arg(long, env = "CSC_DFE_STATE_DIR")]
    pub state: PathBuf,
    /// Send every child held, not only those changed since the last acknowledged send.
    #[arg(long)]
    pub full: bool,
    /// OAuth2 token endpoint (the DfE portal's Entra ID `.../oauth2/v2.0/token`).
    #[arg(long, env = "CSC_DFE_TOKEN_URL")]
    pub token_url: String,
    /// OAuth2 client id.
    #[arg(long, env = "CSC_DFE_CLIENT_ID")]
    pub client_id: String,
    /// File holding the OAuth2 client secret (a mounted Secret).
    #[arg(long, env = "CSC_DFE_CLIENT_SECRET_FILE")]
    pub client_secret_file: PathBuf,
    /// OAuth2 scope the token is asked for.
    #[arg(long, env = "CSC_DFE_SCOPE")]
    pub scope: String,
    /// File holding the portal's subscription key, sent as the `SupplierKey` header.
    #[arg(long, env = "CSC_DFE_SUPPLIER_KEY_FILE")]
    pub supplier_key_file: PathBuf,
    /// The first wait before trying a request again, in seconds (then doubled, at most 30).
    #[arg(long, default_value_t = 5.0)]
    pub retry_base_secs: f64,
    /// Each request's timeout, in seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout_secs: u64,
    #[command(flatten)]
    pub addrs: crate::DomainAddrs,
}

/// What the state folder keeps: each child's last acknowledged record (by hash) and receipt.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub la: String,
    pub children: BTreeMap<String, Acked>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Acked {
    pub hash: String,
    pub receipt: String,
    pub batch: String,
    pub at: String,
}

/// A batch written before it is sent.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    batch: String,
    records: Vec<Value>,
}

fn hash(record: &Value) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(record.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn child_of(r: &Value) -> String {
    r["la_child_id"].as_str().unwrap_or_default().to_owned()
}

fn is_purge(r: &Value) -> bool {
    r.get("purge").and_then(Value::as_bool) == Some(true)
}

/// Writes `bytes` to `path` whole or not at all (a temporary file renamed over it).
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

impl State {
    pub fn load(dir: &Path, la: &str) -> anyhow::Result<State> {
        let path = dir.join("state.json");
        if !path.exists() {
            return Ok(State {
                la: la.to_owned(),
                children: BTreeMap::new(),
            });
        }
        let s: State = serde_json::from_slice(&std::fs::read(&path)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        anyhow::ensure!(
            s.la == la,
            "{} is the state of LA {}'s sends, not {la}'s: give each LA its own --state",
            path.display(),
            s.la
        );
        Ok(s)
    }

    fn save(&self, dir: &Path) -> anyhow::Result<()> {
        write_atomic(&dir.join("state.json"), &serde_json::to_vec_pretty(self)?)
    }

    /// Whether every record of a batch is already acknowledged as it is (sent, then the send
    /// stopped before its pending file went).
    fn acknowledges(&self, records: &[Value]) -> bool {
        records.iter().all(|r| {
            let child = child_of(r);
            if is_purge(r) {
                !self.children.contains_key(&child)
            } else {
                self.children.get(&child).map(|a| a.hash.as_str()) == Some(hash(r).as_str())
            }
        })
    }
}

/// The records to send: each held child whose record differs from the one acknowledged (all of
/// them with `full`), and a purge for each child acknowledged and no longer held.
pub fn changes(state: &State, held: &[Value], full: bool) -> Vec<Value> {
    let mut out: Vec<Value> = held
        .iter()
        .filter(|r| {
            full || state.children.get(&child_of(r)).map(|a| a.hash.as_str())
                != Some(hash(r).as_str())
        })
        .cloned()
        .collect();
    let now: std::collections::BTreeSet<String> = held.iter().map(child_of).collect();
    for gone in state.children.keys().filter(|c| !now.contains(*c)) {
        out.push(serde_json::json!({"la_child_id": gone, "purge": true}));
    }
    out
}

/// The receipts of a 200: a JSON list of strings, else whitespace-separated tokens ending
/// `.json` (both seen from the DfE's receiver).
pub fn receipts(body: &str) -> Vec<String> {
    if let Ok(list) = serde_json::from_str::<Vec<String>>(body) {
        return list;
    }
    body.split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']' || c == '"')
        .filter(|t| t.ends_with(".json"))
        .map(str::to_owned)
        .collect()
}

/// The record indices a 400's body names (`[3]`), in order, without repeats.
pub fn indices(body: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        if let Some(close) = rest.find(']')
            && let Ok(n) = rest[..close].trim().parse::<usize>()
            && !out.contains(&n)
        {
            out.push(n);
        }
    }
    out
}

/// How long to wait before try `attempt` (1-based) after `status`, as the DfE's clients do.
pub fn backoff(base: f64, attempt: u32, status: u16, retry_after: Option<&str>) -> Duration {
    if let Some(secs) = retry_after.and_then(|v| v.trim().parse::<f64>().ok())
        && secs >= 0.0
    {
        return Duration::from_secs_f64(secs.min(300.0));
    }
    let cap = if status == 403 { 120.0 } else { 30.0 };
    Duration::from_secs_f64((base * 2f64.powi(attempt as i32 - 1)).min(cap))
}

struct Token {
    value: String,
    until: Instant,
}

struct Sender<'a> {
    args: &'a SendArgs,
    http: reqwest::Client,
    secret: String,
    supplier_key: String,
    token: Option<Token>,
    url: String,
}

/// The 3 tries again of the DfE's clients.
const RETRIES: u32 = 3;

enum Answer {
    Acked(Vec<String>),
    /// A 400 naming these records (indices into the batch), with the body.
    Refused(Vec<usize>, String),
}

impl Sender<'_> {
    async fn token(&mut self) -> anyhow::Result<String> {
        if let Some(t) = &self.token
            && t.until > Instant::now()
        {
            return Ok(t.value.clone());
        }
        let resp = self
            .http
            .post(&self.args.token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.args.client_id.as_str()),
                ("client_secret", self.secret.as_str()),
                ("scope", self.args.scope.as_str()),
            ])
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("the token endpoint {}: {e}", self.args.token_url))?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(
            status.is_success(),
            "the token endpoint {} answered {status}: {}",
            self.args.token_url,
            body.get("error_description")
                .or(body.get("error"))
                .and_then(Value::as_str)
                .unwrap_or("(no description)")
        );
        let value = body["access_token"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("the token endpoint's answer holds no access_token"))?
            .to_owned();
        let life = body["expires_in"].as_u64().unwrap_or(300);
        self.token = Some(Token {
            value: value.clone(),
            // A minute's margin, so a token never expires on its way.
            until: Instant::now() + Duration::from_secs(life.saturating_sub(60).max(1)),
        });
        Ok(value)
    }

    /// One batch, tried again as the policy says.
    async fn post(&mut self, records: &[Value]) -> anyhow::Result<Answer> {
        let body = serde_json::to_vec(records)?;
        let mut attempt = 0;
        loop {
            let token = self.token().await?;
            let sent = self
                .http
                .post(&self.url)
                .bearer_auth(&token)
                .header("SupplierKey", &self.supplier_key)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            let (status, retry_after, text) = match sent {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let retry_after = r
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    (status, retry_after, r.text().await.unwrap_or_default())
                }
                Err(e) => (0, None, e.to_string()),
            };
            match status {
                200 => {
                    let got = receipts(&text);
                    anyhow::ensure!(
                        got.len() == records.len(),
                        "the DfE answered 200 with {} receipt(s) for {} record(s): the batch is \
                         not taken as acknowledged (it stays pending; send again)",
                        got.len(),
                        records.len()
                    );
                    return Ok(Answer::Acked(got));
                }
                400 => return Ok(Answer::Refused(indices(&text), text)),
                413 => anyhow::bail!(
                    "the DfE answered 413 (too many records) to a batch of {}: never retried",
                    records.len()
                ),
                _ if attempt < RETRIES => {
                    attempt += 1;
                    if status == 401 {
                        self.token = None;
                    }
                    let wait = backoff(
                        self.args.retry_base_secs,
                        attempt,
                        status,
                        retry_after.as_deref(),
                    );
                    tracing::warn!(
                        status,
                        attempt,
                        ?wait,
                        "the DfE refused a batch for now; trying again"
                    );
                    tokio::time::sleep(wait).await;
                }
                0 => anyhow::bail!("the DfE could not be reached after {RETRIES} tries: {text}"),
                _ => anyhow::bail!(
                    "the DfE answered {status} after {RETRIES} tries: {}",
                    text.chars().take(300).collect::<String>()
                ),
            }
        }
    }
}

/// `csc send dfe-api`.
pub async fn run(args: SendArgs) -> anyhow::Result<()> {
    let la = csc_core::LaCode::parse(&args.la)
        .map_err(|e| anyhow::anyhow!("--la: {e}"))?
        .to_string();
    let read = |p: &Path, what: &str| -> anyhow::Result<String> {
        Ok(std::fs::read_to_string(p)
            .map_err(|e| anyhow::anyhow!("{what} {}: {e}", p.display()))?
            .trim()
            .to_owned())
    };
    let mut sender = Sender {
        args: &args,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(args.timeout_secs))
            .https_only(
                !args.endpoint.starts_with("http://127.0.0.1")
                    && !args.endpoint.starts_with("http://localhost"),
            )
            .build()?,
        secret: read(&args.client_secret_file, "--client-secret-file")?,
        supplier_key: read(&args.supplier_key_file, "--supplier-key-file")?,
        token: None,
        url: format!(
            "{}/children_social_care_data/{la}/children",
            args.endpoint.trim_end_matches('/')
        ),
    };
    let pending_dir = args.state.join("pending");
    std::fs::create_dir_all(&pending_dir)?;
    let mut state = State::load(&args.state, &la)?;
    let mut report = ImportSummary::default();

    // Batches a stopped send left come first; new ones only when none is left.
    let mut pending = crate::dfe_api::json_files(&pending_dir)?;
    let resumed = !pending.is_empty();
    if resumed {
        report.notes.push(format!(
            "resuming: {} batch(es) of an earlier send not yet acknowledged are sent first; run \
             again to send what changed since",
            pending.len()
        ));
    } else {
        let held = crate::dfe_export::fetch(&args.addrs.all(), &la).await?;
        let mut valid = Vec::new();
        for (i, r) in crate::dfe_export::records(&held).into_iter().enumerate() {
            if csc_intake::schema::valid_version(&r) == Some(csc_intake::schema::CURRENT) {
                valid.push(r);
            } else {
                let problems = csc_intake::schema::problems(i, &r)
                    .into_iter()
                    .map(|p| (format!("child {}: {}", child_of(&r), p.field), p.message));
                report.reject_record("dfe api children", &child_of(&r), problems);
            }
        }
        let to_send = changes(&state, &valid, args.full);
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
        for (n, chunk) in to_send.chunks(csc_intake::schema::MAX_RECORDS).enumerate() {
            let batch = format!("{stamp}-{:04}", n + 1);
            let path = pending_dir.join(format!("{batch}.json"));
            write_atomic(
                &path,
                &serde_json::to_vec(&Pending {
                    batch,
                    records: chunk.to_vec(),
                })?,
            )?;
            pending.push(path);
        }
        if to_send.is_empty() {
            report
                .notes
                .push("nothing changed since the last acknowledged send".into());
        }
    }

    for path in pending {
        let mut p: Pending = serde_json::from_slice(&std::fs::read(&path)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        if state.acknowledges(&p.records) {
            // Acknowledged just before an earlier send stopped: never sent twice.
            std::fs::remove_file(&path)?;
            continue;
        }
        while !p.records.is_empty() {
            match sender.post(&p.records).await? {
                Answer::Acked(got) => {
                    let at = chrono::Utc::now().to_rfc3339();
                    for (r, receipt) in p.records.iter().zip(got) {
                        let t = report.tallies.entry("dfe api children").or_default();
                        t.received += 1;
                        t.accepted += 1;
                        if is_purge(r) {
                            state.children.remove(&child_of(r));
                        } else {
                            state.children.insert(
                                child_of(r),
                                Acked {
                                    hash: hash(r),
                                    receipt,
                                    batch: p.batch.clone(),
                                    at: at.clone(),
                                },
                            );
                        }
                    }
                    // The state first: a stop between the two leaves a batch the next run
                    // sees as acknowledged.
                    state.save(&args.state)?;
                    std::fs::remove_file(&path)?;
                    break;
                }
                Answer::Refused(named, body) => {
                    let named: Vec<usize> =
                        named.into_iter().filter(|i| *i < p.records.len()).collect();
                    if named.is_empty() {
                        for r in &p.records {
                            report.reject(
                                "dfe api children",
                                &child_of(r),
                                format!("batch {}", p.batch),
                                format!(
                                    "the DfE refused the batch (400) naming no record: {}",
                                    body.chars().take(300).collect::<String>()
                                ),
                            );
                        }
                        std::fs::remove_file(&path)?;
                        break;
                    }
                    for i in &named {
                        let r = &p.records[*i];
                        report.reject(
                            "dfe api children",
                            &child_of(r),
                            format!("batch {} record [{i}]", p.batch),
                            format!(
                                "the DfE refused it (400): {}",
                                body.chars().take(300).collect::<String>()
                            ),
                        );
                    }
                    // The rest were valid but refused with the batch: sent again without them.
                    p.records = p
                        .records
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| !named.contains(i))
                        .map(|(_, r)| r)
                        .collect();
                    if p.records.is_empty() {
                        std::fs::remove_file(&path)?;
                    } else {
                        write_atomic(&path, &serde_json::to_vec(&p)?)?;
                    }
                }
            }
        }
    }
    let acked = report
        .tallies
        .get("dfe api children")
        .map_or(0, |t| t.accepted);
    crate::out(&format!(
        "Sent to the DfE at {}: {acked} record(s) acknowledged; receipts in {}\n",
        sender.url,
        args.state.join("state.json").display()
    ));
    crate::import::finish(report, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_changed_children_are_sent_and_a_child_gone_is_purged() {
        let a = json!({"la_child_id": "A", "child_details": {"sex": "F"}});
        let b = json!({"la_child_id": "B"});
        let mut state = State::default();
        state.children.insert(
            "A".into(),
            Acked {
                hash: hash(&a),
                receipt: "r".into(),
                batch: "1".into(),
                at: String::new(),
            },
        );
        state.children.insert(
            "C".into(),
            Acked {
                hash: "x".into(),
                receipt: "r".into(),
                batch: "1".into(),
                at: String::new(),
            },
        );
        let out = changes(&state, &[a.clone(), b.clone()], false);
        assert_eq!(out, [b.clone(), json!({"la_child_id": "C", "purge": true})]);
        assert_eq!(changes(&state, &[a.clone(), b], true).len(), 3);
        assert!(state.acknowledges(&[a]));
    }

    #[test]
    fn receipts_and_indices_are_read_as_the_dfe_writes_them() {
        assert_eq!(receipts(r#"["a.json","b.json"]"#), ["a.json", "b.json"]);
        assert_eq!(
            receipts("2026-01-01_10:00:00.00_x.json 2026-01-01_10:00:00.00_y.json\n"),
            [
                "2026-01-01_10:00:00.00_x.json",
                "2026-01-01_10:00:00.00_y.json"
            ]
        );
        assert_eq!(
            indices("errors at [3].child_details and [0] and [3]"),
            [3, 0]
        );
        assert!(indices("[x] no index").is_empty());
    }

    #[test]
    fn backoff_doubles_to_its_cap_and_honours_retry_after() {
        assert_eq!(backoff(5.0, 1, 429, None), Duration::from_secs(5));
        assert_eq!(backoff(5.0, 3, 429, None), Duration::from_secs(20));
        assert_eq!(backoff(5.0, 4, 401, None), Duration::from_secs(30));
        assert_eq!(backoff(5.0, 6, 403, None), Duration::from_secs(120));
        assert_eq!(backoff(5.0, 1, 429, Some("2")), Duration::from_secs(2));
    }
}
