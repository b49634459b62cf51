//! Any bytes as the import reader's input: it reports, it never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = csc::import::fuzz::cin_xml(data);
});
