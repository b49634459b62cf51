//! Opaque page tokens (AIP-158): the natural key of the last record returned, base64-encoded, so
//! a listing resumes after it however the table changed in between.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Serialize, de::DeserializeOwned};

use crate::Error;

pub const DEFAULT_PAGE_SIZE: u64 = 100;
pub const MAX_PAGE_SIZE: u64 = 1_000;

/// The page size to use: the default for 0, at most [`MAX_PAGE_SIZE`]; negative is invalid.
pub fn page_size(requested: i32) -> Result<u64, Error> {
    match requested {
        n if n < 0 => Err(Error::invalid("page_size", "must not be negative")),
        0 => Ok(DEFAULT_PAGE_SIZE),
        n => Ok((n as u64).min(MAX_PAGE_SIZE)),
    }
}

pub fn encode<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).expect("keys serialise"))
}

/// The key a token was made from; `None` for an empty token (the first page).
pub fn decode<K: DeserializeOwned>(token: &str) -> Result<Option<K>, Error> {
    if token.is_empty() {
        return Ok(None);
    }
    let bad = || Error::invalid("page_token", "not a token this service issued");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map(Some).map_err(|_| bad())
}

/// A page of an ordered list computed in memory (a catalogue, a list of warnings): the token is the
/// position to resume from.
pub fn page_of<T, P>(
    items: &[T],
    page_size: i32,
    token: &str,
    to: impl Fn(&T) -> P,
) -> Result<(Vec<P>, String), Error> {
    let size = self::page_size(page_size)? as usize;
    let from = decode::<usize>(token)?.unwrap_or(0);
    let end = (from + size).min(items.len());
    let records = items
        .get(from..end)
        .unwrap_or_default()
        .iter()
        .map(to)
        .collect();
    let next = if end < items.len() {
        encode(&end)
    } else {
        String::new()
    };
    Ok((records, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let key = (
            "885".to_string(),
            "C1".to_string(),
            "2018-04-01".to_string(),
        );
        let t = encode(&key);
        assert_eq!(decode::<(String, String, String)>(&t).unwrap(), Some(key));
        assert_eq!(decode::<(String, String, String)>("").unwrap(), None);
        assert!(decode::<(String, String, String)>("!!!").is_err());
        assert!(decode::<(String, String, String)>(&encode(&42)).is_err());
        assert_eq!(page_size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(5000).unwrap(), MAX_PAGE_SIZE);
        assert!(page_size(-1).is_err());
    }

    #[test]
    fn pages_of_an_in_memory_list_cover_it_once() {
        let items: Vec<u32> = (0..7).collect();
        let (first, next) = page_of(&items, 3, "", |x| *x).unwrap();
        assert_eq!(first, [0, 1, 2]);
        let (second, next) = page_of(&items, 3, &next, |x| *x).unwrap();
        let (third, last) = page_of(&items, 3, &next, |x| *x).unwrap();
        assert_eq!((second, third), (vec![3, 4, 5], vec![6]));
        assert!(last.is_empty());
    }
}
