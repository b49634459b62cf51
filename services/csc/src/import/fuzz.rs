//! Entry points for the fuzz targets (`fuzz/`): each import format's reader, from bytes, as far
//! as the batch that would be sent, with no file and no service. Whatever the bytes, a reader
//! returns (an error, or records and reported problems); it never panics. Each returns how many
//! children or records it made, and what it reported.

use csc_core::LaCode;

use super::{
    ImportSummary,
    cin::{self, Item},
    local, ssda903,
};

/// A CIN census XML file: the header's LEA, and every `<Child>` as its records. The import's
/// cheap first pass ([`cin::scan`]) must refuse exactly the files the full reading refuses, with
/// the same message, and find the same header: a file it passed must never fail half-sent.
pub fn cin_xml(data: &[u8]) -> (usize, ImportSummary) {
    let mut report = ImportSummary::default();
    let mut made = 0;
    let scanned = cin::scan(data, "fuzz.xml");
    let mut first_header = None;
    let full = cin::read_records_from(data, "fuzz.xml", "Children", "Child", |item, _| {
        match item {
            Item::Header(h) => {
                let _ = h.lea.as_deref().map(LaCode::parse);
                if first_header.is_none() {
                    first_header = Some(format!("{h:?}"));
                }
            }
            Item::Child(i, node) => {
                let _ = cin::child_records("885", Some(2022), i, &node, &mut report);
                made += 1;
            }
            Item::Stray { .. } => {}
        }
        Ok(())
    });
    match (&scanned, &full) {
        (Ok(h), Ok(())) => assert_eq!(
            h.as_ref().map(|h| format!("{h:?}")),
            first_header,
            "the first pass finds the header the full reading finds"
        ),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "the same refusal"),
        (a, b) => panic!("first pass {a:?} but full reading {b:?}"),
    }
    (made, report)
}

/// An SSDA903 XML export: every `<CHILD>` as its header, episodes, reviews and missing episodes.
pub fn ssda903_xml(data: &[u8]) -> (usize, ImportSummary) {
    let mut report = ImportSummary::default();
    let mut children = Vec::new();
    let _ = cin::read_records_from(data, "fuzz.xml", "EXPSSDA903", "CHILD", |item, _| {
        if let Item::Child(i, node) = item {
            children.push((i, node));
        }
        Ok(())
    });
    let made = children.len();
    for (i, node) in children {
        let _ = ssda903::xml_child("885", i, &node, &mut report);
    }
    (made, report)
}

/// An SSDA903 CSV table, read as each table the importer knows (and recognised by its header):
/// header, episodes, social worker episodes, reviews, missing.
pub fn ssda903_csv(data: &[u8]) -> (usize, ImportSummary) {
    let mut report = ImportSummary::default();
    let delimiter =
        super::input::sniff_delimiter(data.split(|b| *b == b'\n').next().unwrap_or(data));
    if let Ok(columns) = local::header_row("fuzz.csv", data, delimiter) {
        let lower: Vec<String> = columns.iter().map(|c| c.to_ascii_lowercase()).collect();
        let _ = ssda903::recognise(&lower);
    }
    let mut made = 0;
    for la in [Some("885"), None] {
        made += read_count(&ssda903::HEADER, data, la, &mut report);
        made += read_count(&ssda903::EPISODES, data, la, &mut report);
        made += read_count(&ssda903::SW_EPISODES, data, la, &mut report);
        made += read_count(&ssda903::REVIEWS, data, la, &mut report);
        // The 903 Missing table is read by the local missing-episode layout, under its names.
        made += read_count(&local::MISSING, data, la, &mut report);
    }
    (made, report)
}

/// A local CSV file (docs/formats.md), read as each of the five layouts.
pub fn local_csv(data: &[u8]) -> (usize, ImportSummary) {
    let mut report = ImportSummary::default();
    let mut made = 0;
    for la in [Some("885"), None] {
        made += read_count(&local::CONTACTS, data, la, &mut report);
        made += read_count(&local::STRATEGY, data, la, &mut report);
        made += read_count(&local::COSTS, data, la, &mut report);
        made += read_count(&local::MISSING, data, la, &mut report);
        made += read_count(&local::FEEDBACK, data, la, &mut report);
    }
    (made, report)
}

fn read_count<P: super::Upload>(
    format: &local::Format<P>,
    data: &[u8],
    la: Option<&str>,
    report: &mut ImportSummary,
) -> usize {
    local::read_format(format, "fuzz.csv", data, la, report).map_or(0, |r| r.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every seed of every fuzz target reaches the mapping code: the fuzzers start from inputs
    /// that make records, and the entry points stay wired to the importers' own readers.
    #[test]
    fn every_seed_makes_children_or_records() {
        let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
        type Read = fn(&[u8]) -> (usize, ImportSummary);
        let targets: [(&str, Read); 4] = [
            ("cin_xml", cin_xml),
            ("ssda903_xml", ssda903_xml),
            ("ssda903_csv", ssda903_csv),
            ("local_csv", local_csv),
        ];
        for (target, read) in targets {
            let mut files = 0;
            for entry in std::fs::read_dir(seeds.join(target)).unwrap() {
                let path = entry.unwrap().path();
                let (made, _) = read(&std::fs::read(&path).unwrap());
                assert!(made > 0, "{} made nothing", path.display());
                files += 1;
            }
            assert!(files > 0, "{target} has seeds");
        }
    }
}
