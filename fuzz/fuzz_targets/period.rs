//! Any text as a period ("2018-19-Q1", "2018-19"), an LA code or a date: parsing never panics,
//! and a period that parses prints back as what parses to it again.
#![no_main]

use csc_core::{LaCode, Period, parse_date, parse_time};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = text.parse::<Period>() {
        assert_eq!(p.id().parse::<Period>().ok(), Some(p), "{text:?}");
        let _ = (p.start(), p.end(), p.previous(), p.year_earlier());
    }
    let _ = LaCode::parse(text);
    let _ = parse_date(text);
    let _ = parse_time(text);
});
