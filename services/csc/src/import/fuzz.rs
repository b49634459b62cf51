//! Entry points for the fuzz targets (`fuzz/`): each import format's reader, from bytes, as far
//! as the batch that would be sent, with no file and no service. Whatever the bytes, a reader
//! returns (an error, or records and reported problems); it never panics.

use csc_core::LaCode;

use super::{
    Report,
    cin::{self, Item},
    local, ssda903,
};

/// A CIN census XML file: the header's LEA, and every `<Child>` as its records.
pub fn cin_xml(data: &[u8]) -> Report {
    let mut report = Report::default();
    let _ = cin::read_records_from(data, "fuzz.xml", "Children", "Child", |item, _| {
        match item {
            Item::Header(h) => {
                let _ = h.lea.as_deref().map(LaCode::parse);
            }
            Item::Child(i, node) => {
                let _ = cin::child_records("885", i, &node, &mut report);
            }
            Item::Stray { .. } => {}
        }
        Ok(())
    });
    report
}

/// An SSDA903 XML export: every `<CHILD>` as its header, episodes, reviews and missing episodes.
pub fn ssda903_xml(data: &[u8]) -> Report {
    let mut report = Report::default();
    let mut children = Vec::new();
    let _ = cin::read_records_from(data, "fuzz.xml", "EXPSSDA903", "CHILD", |item, _| {
        if let Item::Child(i, node) = item {
            children.push((i, node));
        }
        Ok(())
    });
    for (i, node) in children {
        let _ = ssda903::xml_child("885", i, &node, &mut report);
    }
    report
}

/// An SSDA903 CSV table, read as each table the importer knows (and recognised by its header).
pub fn ssda903_csv(data: &[u8]) -> Report {
    let mut report = Report::default();
    if let Ok(columns) = local::header_row("fuzz.csv", data) {
        let lower: Vec<String> = columns.iter().map(|c| c.to_ascii_lowercase()).collect();
        let _ = ssda903::recognise(&lower);
    }
    for la in [Some("885"), None] {
        let _ = local::read_format(&ssda903::HEADER, "fuzz.csv", data, la, &mut report);
        let _ = local::read_format(&ssda903::EPISODES, "fuzz.csv", data, la, &mut report);
        let _ = local::read_format(&ssda903::SW_EPISODES, "fuzz.csv", data, la, &mut report);
        let _ = local::read_format(&ssda903::REVIEWS, "fuzz.csv", data, la, &mut report);
    }
    report
}

/// A local CSV file (docs/formats.md), read as each of the five layouts.
pub fn local_csv(data: &[u8]) -> Report {
    let mut report = Report::default();
    for la in [Some("885"), None] {
        let _ = local::read_format(&local::CONTACTS, "fuzz.csv", data, la, &mut report);
        let _ = local::read_format(&local::STRATEGY, "fuzz.csv", data, la, &mut report);
        let _ = local::read_format(&local::COSTS, "fuzz.csv", data, la, &mut report);
        let _ = local::read_format(&local::MISSING, "fuzz.csv", data, la, &mut report);
        let _ = local::read_format(&local::FEEDBACK, "fuzz.csv", data, la, &mut report);
    }
    report
}
