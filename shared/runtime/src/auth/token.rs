//! Bearer tokens: verifying them against a JWKS file (reloaded when it changes), making signing
//! keys, and issuing tokens with a key an operator holds.
//!
//! Verification pins the algorithms to RS256 and ES256, takes the key from the JWKS by `kid` (or
//! every key of the token's algorithm when it names none), and requires `exp`, `iss`, `aud` and
//! `sub`, with `nbf` checked when present and a small leeway for clock skew. A token whose header
//! says `alg: none`, or any other algorithm, is refused before any key is looked at.

use std::{
    path::{Path, PathBuf},
    sync::RwLock,
    time::{Duration, Instant, SystemTime},
};

use base64::Engine as _;
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation,
    errors::ErrorKind,
    jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm},
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The only algorithms a token may be signed with.
pub const ALGORITHMS: [Algorithm; 2] = [Algorithm::RS256, Algorithm::ES256];

/// Seconds of clock skew allowed on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 30;

/// How often the JWKS file is looked at for a change.
const RELOAD_EVERY: Duration = Duration::from_secs(5);

/// The issuer of tokens signed with the development key.
pub const DEV_ISSUER: &str = "csc-dev";

/// The audience every service of the suite expects unless configured otherwise.
pub const DEFAULT_AUDIENCE: &str = "csc";

/// What a verified token says about its holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Who: a person's or a system's name, recorded in the audit log.
    pub sub: String,
    pub iss: String,
    /// One audience or several (RFC 7519); checked by the verifier.
    pub aud: serde_json::Value,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// The scopes granted: a space-separated string (OAuth 2.0), or a list.
    #[serde(
        default,
        serialize_with = "space_separated",
        deserialize_with = "one_or_many_words"
    )]
    pub scope: Vec<String>,
    /// The LAs (DfE three-digit codes) whose records and measures the holder may touch; `*` is
    /// every LA. A single string or a list.
    #[serde(default, deserialize_with = "one_or_many")]
    pub la: Vec<String>,
    /// A regional caller (a regional improvement alliance, say) may read its LAs' measures and
    /// reports, never a child-level record, whatever its scopes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub regional: bool,
}

impl Claims {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.iter().any(|s| s == scope)
    }

    /// Whether the holder may touch LA `code`.
    pub fn may_touch(&self, code: &str) -> bool {
        self.la.iter().any(|l| l == "*" || l == code)
    }
}

fn space_separated<S: Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.join(" "))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

fn one_or_many_words<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => s.split_whitespace().map(str::to_owned).collect(),
        OneOrMany::Many(v) => v,
    })
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// Why a token was refused: said to the caller (UNAUTHENTICATED) and logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// One verification key of the JWKS.
struct Key {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

struct Loaded {
    keys: Vec<Key>,
    /// The file's modification time and length when read: a change to either reloads it.
    stamp: Option<(SystemTime, u64)>,
    checked: Instant,
}

/// Verifies bearer tokens against the public keys of a JWKS file, for one issuer and audience.
pub struct Verifier {
    path: PathBuf,
    issuer: String,
    audience: String,
    loaded: RwLock<Loaded>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("path", &self.path)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// The keys of a JWKS document that this suite can verify with (RSA for RS256, P-256 for
/// ES256); keys for other algorithms or for encryption are skipped.
fn parse_jwks(text: &str) -> anyhow::Result<Vec<Key>> {
    let set: JwkSet = serde_json::from_str(text)?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        if matches!(
            jwk.common.public_key_use,
            Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
        ) {
            continue;
        }
        let alg = match (&jwk.algorithm, jwk.common.key_algorithm) {
            (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
            (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
                if ec.curve == EllipticCurve::P256 =>
            {
                Algorithm::ES256
            }
            _ => continue,
        };
        keys.push(Key {
            kid: jwk.common.key_id.clone(),
            alg,
            key: DecodingKey::from_jwk(jwk)?,
        });
    }
    Ok(keys)
}

impl Verifier {
    /// Reads the JWKS at `path`; an unreadable file or one without a usable key is an error, so
    /// that a misconfigured server fails at start rather than refusing every call.
    pub fn from_file(path: &Path, issuer: &str, audience: &str) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading the JWKS {}: {e}", path.display()))?;
        let keys =
            parse_jwks(&text).map_err(|e| anyhow::anyhow!("the JWKS {}: {e}", path.display()))?;
        anyhow::ensure!(
            !keys.is_empty(),
            "the JWKS {} holds no RS256 or ES256 signing key",
            path.display()
        );
        Ok(Verifier {
            path: path.to_owned(),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            loaded: RwLock::new(Loaded {
                keys,
                stamp: stamp(path),
                checked: Instant::now(),
            }),
        })
    }

    /// Rereads the file when it changed (a rotated Kubernetes Secret, an edited file), at most
    /// every few seconds. A file that no longer parses keeps the keys already loaded.
    fn reload_if_changed(&self) {
        {
            let l = self.loaded.read().expect("jwks lock");
            if l.checked.elapsed() < RELOAD_EVERY {
                return;
            }
        }
        let mut l = self.loaded.write().expect("jwks lock");
        if l.checked.elapsed() < RELOAD_EVERY {
            return;
        }
        l.checked = Instant::now();
        let now = stamp(&self.path);
        if now == l.stamp {
            return;
        }
        match std::fs::read_to_string(&self.path)
            .map_err(anyhow::Error::from)
            .and_then(|t| parse_jwks(&t))
        {
            Ok(keys) if !keys.is_empty() => {
                tracing::info!(path = %self.path.display(), keys = keys.len(), "JWKS reloaded");
                l.keys = keys;
                l.stamp = now;
            }
            Ok(_) => {
                tracing::error!(path = %self.path.display(), "the changed JWKS holds no usable key; keeping the keys loaded before")
            }
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "the changed JWKS does not parse; keeping the keys loaded before")
            }
        }
    }

    /// The claims of a valid token, or why it is refused.
    pub fn verify(&self, token: &str) -> Result<Claims, Refused> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
            ErrorKind::InvalidAlgorithmName => {
                Refused("the token's algorithm is not accepted (RS256 or ES256 only)".into())
            }
            _ => Refused("the bearer token is not a well-formed JWT".into()),
        })?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(Refused(format!(
                "the token's algorithm {:?} is not accepted (RS256 or ES256 only)",
                header.alg
            )));
        }
        self.reload_if_changed();
        let loaded = self.loaded.read().expect("jwks lock");
        let candidates: Vec<&Key> = loaded
            .keys
            .iter()
            .filter(|k| k.alg == header.alg)
            .filter(|k| header.kid.is_none() || k.kid == header.kid)
            .collect();
        if candidates.is_empty() {
            return Err(Refused(match &header.kid {
                Some(kid) => format!("no {:?} key with kid {kid:?} in the JWKS", header.alg),
                None => format!("no {:?} key in the JWKS", header.alg),
            }));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let mut last = Refused("the token's signature does not verify".into());
        for k in candidates {
            match jsonwebtoken::decode::<Claims>(token, &k.key, &validation) {
                Ok(data) => return Ok(data.claims),
                Err(e) => {
                    last = Refused(match e.kind() {
                        ErrorKind::ExpiredSignature => "the token has expired".into(),
                        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
                        ErrorKind::InvalidAudience => {
                            format!(
                                "the token is not for this audience (expected {:?})",
                                self.audience
                            )
                        }
                        ErrorKind::InvalidIssuer => {
                            format!(
                                "the token is not from the expected issuer {:?}",
                                self.issuer
                            )
                        }
                        ErrorKind::MissingRequiredClaim(c) => {
                            format!("the token has no {c:?} claim")
                        }
                        ErrorKind::InvalidSignature => {
                            "the token's signature does not verify".into()
                        }
                        _ => format!("the token is not valid: {e}"),
                    });
                    // A wrong signature may be another key's: try the next one. Anything else
                    // is about the claims, which every key would find the same.
                    if !matches!(e.kind(), ErrorKind::InvalidSignature) {
                        break;
                    }
                }
            }
        }
        Err(last)
    }
}

/// A signing key and its public half as a JWK.
#[derive(Debug, Clone)]
pub struct KeyPair {
    /// PKCS#8 PEM of the private key.
    pub private_pem: String,
    /// The public key as a JWK (ES256, P-256), with its `kid`.
    pub jwk: serde_json::Value,
    pub kid: String,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Makes a new ES256 (ECDSA P-256) signing key. Its `kid` is taken from a digest of the public
/// key, so a rotated key never reuses an old key's id.
pub fn generate_es256() -> anyhow::Result<KeyPair> {
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| anyhow::anyhow!("generating a P-256 key failed"))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| anyhow::anyhow!("reading back the generated key failed"))?;
    // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
    let point = pair.public_key().as_ref();
    anyhow::ensure!(
        point.len() == 65 && point[0] == 4,
        "unexpected public key encoding"
    );
    let digest = ring::digest::digest(&ring::digest::SHA256, point);
    // Hex, not base64url: a kid beginning with '-' (one key in 64) was read as an option by
    // `csc token issue --kid …`, and by any other command line an operator passes it to.
    let kid: String = digest.as_ref()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let jwk = serde_json::json!({
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(&point[1..33]),
        "y": b64url(&point[33..65]),
        "use": "sig",
        "alg": "ES256",
        "kid": kid,
    });
    let private_pem = pem_encode("PRIVATE KEY", pkcs8.as_ref());
    Ok(KeyPair {
        private_pem,
        jwk,
        kid,
    })
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A JWKS document holding `keys`.
pub fn jwks(keys: &[serde_json::Value]) -> String {
    serde_json::to_string_pretty(&serde_json::json!({ "keys": keys })).expect("json")
}

/// Signs `claims` with a PEM private key (EC P-256 → ES256, RSA → RS256), naming `kid`.
pub fn issue(private_pem: &str, kid: Option<&str>, claims: &Claims) -> anyhow::Result<String> {
    let (alg, key) = match EncodingKey::from_ec_pem(private_pem.as_bytes()) {
        Ok(k) => (Algorithm::ES256, k),
        Err(_) => (
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(private_pem.as_bytes()).map_err(|e| {
                anyhow::anyhow!("the key is neither an EC P-256 nor an RSA private key in PEM: {e}")
            })?,
        ),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    Ok(jsonwebtoken::encode(&header, claims, &key)?)
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The development key pair kept in a data directory: `dev-signing-key.pem` (readable by its
/// owner only) and `dev-jwks.json`.
#[derive(Debug, Clone)]
pub struct DevKey {
    pub key_file: PathBuf,
    pub jwks_file: PathBuf,
}

impl DevKey {
    pub fn in_dir(dir: &Path) -> Self {
        DevKey {
            key_file: dir.join("dev-signing-key.pem"),
            jwks_file: dir.join("dev-jwks.json"),
        }
    }

    pub fn exists(&self) -> bool {
        self.key_file.exists() && self.jwks_file.exists()
    }

    /// Makes the key pair unless it exists already.
    pub fn ensure(&self) -> anyhow::Result<()> {
        if self.exists() {
            return Ok(());
        }
        if let Some(dir) = self.key_file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let pair = generate_es256()?;
        write_private(&self.key_file, &pair.private_pem)?;
        std::fs::write(&self.jwks_file, jwks(&[pair.jwk]))?;
        tracing::info!(key = %self.key_file.display(), "generated a development signing key");
        Ok(())
    }

    /// A token signed with the development key: every scope, every LA, for `ttl`.
    pub fn token(&self, sub: &str, ttl: Duration) -> anyhow::Result<String> {
        let pem = std::fs::read_to_string(&self.key_file)?;
        let kid = first_kid(&std::fs::read_to_string(&self.jwks_file)?);
        let now = now();
        let claims = Claims {
            sub: sub.to_owned(),
            iss: DEV_ISSUER.to_owned(),
            aud: DEFAULT_AUDIENCE.into(),
            exp: now + ttl.as_secs(),
            nbf: Some(now),
            iat: Some(now),
            scope: super::scopes::ALL.iter().map(|s| s.to_string()).collect(),
            la: vec!["*".into()],
            regional: false,
        };
        issue(&pem, kid.as_deref(), &claims)
    }
}

/// The `kid` of a JWKS document's first key.
pub fn first_kid(jwks_text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(jwks_text).ok()?;
    v["keys"][0]["kid"].as_str().map(str::to_owned)
}

/// Writes a private key readable by its owner only.
pub fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| anyhow::anyhow!("creating {}: {e}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp_in: i64) -> Claims {
        let now = now() as i64;
        Claims {
            sub: "analyst".into(),
            iss: "https://idp.example".into(),
            aud: "csc".into(),
            exp: (now + exp_in) as u64,
            nbf: None,
            iat: None,
            scope: vec!["frontdoor:read".into()],
            la: vec!["885".into()],
            regional: false,
        }
    }

    fn setup() -> (tempfile::TempDir, KeyPair, Verifier) {
        let dir = tempfile::tempdir().unwrap();
        let pair = generate_es256().unwrap();
        let path = dir.path().join("jwks.json");
        std::fs::write(&path, jwks(std::slice::from_ref(&pair.jwk))).unwrap();
        let v = Verifier::from_file(&path, "https://idp.example", "csc").unwrap();
        (dir, pair, v)
    }

    /// A kid is passed on command lines (`csc token issue --kid …`): it must never look like an
    /// option, as a base64url one beginning with '-' did for one key in 64.
    #[test]
    fn generated_kids_are_hex_and_never_begin_with_a_dash() {
        for _ in 0..200 {
            let kid = generate_es256().unwrap().kid;
            assert_eq!(kid.len(), 24);
            assert!(kid.bytes().all(|b| b.is_ascii_hexdigit()), "{kid}");
        }
    }

    #[test]
    fn a_token_signed_by_a_jwks_key_verifies_with_its_claims() {
        let (_d, pair, v) = setup();
        let c = claims(600);
        let t = issue(&pair.private_pem, Some(&pair.kid), &c).unwrap();
        assert_eq!(v.verify(&t).unwrap(), c);
        // Without a kid every key of the algorithm is tried.
        let t = issue(&pair.private_pem, None, &c).unwrap();
        assert_eq!(v.verify(&t).unwrap().sub, "analyst");
    }

    #[test]
    fn expired_early_wrong_audience_issuer_or_key_are_refused() {
        let (_d, pair, v) = setup();
        let t = |c: &Claims| issue(&pair.private_pem, Some(&pair.kid), c).unwrap();
        let e = v
            .verify(&t(&claims(-(LEEWAY_SECS as i64) - 5)))
            .unwrap_err();
        assert!(e.0.contains("expired"), "{e}");
        let mut c = claims(600);
        c.nbf = Some(now() + 600);
        assert!(v.verify(&t(&c)).unwrap_err().0.contains("not valid yet"));
        let mut c = claims(600);
        c.aud = "another-system".into();
        assert!(v.verify(&t(&c)).unwrap_err().0.contains("audience"));
        let mut c = claims(600);
        c.iss = "https://elsewhere".into();
        assert!(v.verify(&t(&c)).unwrap_err().0.contains("issuer"));
        let other = generate_es256().unwrap();
        let forged = issue(&other.private_pem, Some(&pair.kid), &claims(600)).unwrap();
        assert!(v.verify(&forged).unwrap_err().0.contains("signature"));
        let unknown = issue(&other.private_pem, Some(&other.kid), &claims(600)).unwrap();
        assert!(v.verify(&unknown).unwrap_err().0.contains("kid"));
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused_before_any_key() {
        let (_d, pair, v) = setup();
        let good = issue(&pair.private_pem, Some(&pair.kid), &claims(600)).unwrap();
        let body = good.split('.').nth(1).unwrap();
        for alg in ["none", "HS256", "ES384"] {
            let header = b64url(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes());
            for sig in ["", "c2ln"] {
                let token = format!("{header}.{body}.{sig}");
                assert!(
                    v.verify(&token).is_err(),
                    "{alg} with signature {sig:?} refused"
                );
            }
        }
        assert!(v.verify("not a token").is_err());
    }

    #[test]
    fn a_rotated_jwks_file_is_picked_up_and_a_broken_one_ignored() {
        let (dir, pair, v) = setup();
        let path = dir.path().join("jwks.json");
        let next = generate_es256().unwrap();
        let by_next = issue(&next.private_pem, Some(&next.kid), &claims(600)).unwrap();
        assert!(v.verify(&by_next).is_err());
        // Both keys during the overlap, as docs/security.md's rotation says.
        std::fs::write(&path, jwks(&[pair.jwk.clone(), next.jwk.clone()])).unwrap();
        v.loaded.write().unwrap().checked -= RELOAD_EVERY;
        v.loaded.write().unwrap().stamp = None;
        assert!(
            v.verify(&by_next).is_ok(),
            "the new key is used after a reload"
        );
        std::fs::write(&path, "{ not json").unwrap();
        v.loaded.write().unwrap().checked -= RELOAD_EVERY;
        v.loaded.write().unwrap().stamp = None;
        assert!(v.verify(&by_next).is_ok(), "a broken file keeps the keys");
    }

    #[test]
    fn scope_and_la_claims_read_as_string_or_list() {
        let c: Claims = serde_json::from_value(serde_json::json!({
            "sub": "s", "iss": "i", "aud": ["csc", "x"], "exp": 1,
            "scope": "frontdoor:read report:read", "la": "885"
        }))
        .unwrap();
        assert_eq!(c.scope, ["frontdoor:read", "report:read"]);
        assert_eq!(c.la, ["885"]);
        assert!(c.may_touch("885") && !c.may_touch("886"));
        let c: Claims = serde_json::from_value(serde_json::json!({
            "sub": "s", "iss": "i", "aud": "csc", "exp": 1,
            "scope": ["admin"], "la": ["*"]
        }))
        .unwrap();
        assert!(c.has_scope("admin") && c.may_touch("201"));
    }
}
