//! Any bytes as a request body to every method of the API, read as the auth layer reads it
//! before anything else sees the call: it names LAs and children or refuses the body, with a
//! bounded message, and never panics. Reading is deterministic, and a body whose gRPC frame is
//! made for it reads the same as the message inside.
#![no_main]

use std::sync::LazyLock;

use csc_runtime::auth::{Guard, Mode};
use libfuzzer_sys::fuzz_target;

static GUARD: LazyLock<Guard> = LazyLock::new(|| Guard::for_whole_api(Mode::Off));

fn framed(message: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(message.len() + 5);
    b.push(0);
    b.extend_from_slice(&(message.len() as u32).to_be_bytes());
    b.extend_from_slice(message);
    b
}

fuzz_target!(|data: &[u8]| {
    let framed = framed(data);
    for path in GUARD.paths() {
        // As it came (any framing, or none) and as one well-framed message.
        for body in [data, framed.as_slice()] {
            match GUARD.examine(path, body) {
                Ok(named) => {
                    assert_eq!(GUARD.examine(path, body).ok(), Some(named.clone()));
                    for la in &named.las {
                        assert!(!la.is_empty() && la.trim() == la, "{path}: LA {la:?}");
                    }
                }
                Err(s) => assert!(s.message().len() <= 1024, "{path}: {} bytes", s.message().len()),
            }
        }
    }
});
