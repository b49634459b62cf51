//! The readers on files as councils' systems write them (docs/formats.md, "Files" and "Dates"),
//! without a service: each rule of issue "Real council files" on a crafted file. The same rules
//! end to end, through the services, are in tests/tests/real_files.rs.

use super::{
    ImportSummary,
    cin::{self, Item},
    input, local, ssda903,
};

fn contacts(
    data: &[u8],
    report: &mut ImportSummary,
) -> anyhow::Result<Vec<csc_proto::frontdoor::Contact>> {
    local::read_format(&local::CONTACTS, "c.csv", data, Some("885"), report)
        .map(|v| v.into_iter().map(|(c, _)| c).collect())
}

const HEADER: &str = "contact_id,child_id,contact_date,source,became_referral\n";

#[test]
fn date_times_keep_their_date_and_a_time_of_day_is_warned_about() {
    let data = format!(
        "{HEADER}K1,C1,2025-05-01 00:00:00.000,6,N\nK2,C2,01/05/2025 00:00,6,N\nK3,C3,2025-05-02T14:30:00,6,N\n"
    );
    let mut r = ImportSummary::default();
    let c = contacts(data.as_bytes(), &mut r).unwrap();
    let dates: Vec<&str> = c.iter().map(|c| c.contact_date.as_str()).collect();
    assert_eq!(dates, ["2025-05-01", "2025-05-01", "2025-05-02"]);
    assert!(r.rejected.is_empty());
    // The afternoon time is a warning on its row; midnights are said once, as a note.
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert_eq!(r.warnings[0].source, "c.csv line 4 column contact_date");
    assert!(r.warnings[0].reason.contains("the date 2025-05-02 is kept"));
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("2 date(s) written as a date-time at midnight")),
        "{:?}",
        r.notes
    );
}

#[test]
fn two_digit_years_are_expanded_and_said_once_and_refusals_quote_the_raw_text() {
    let data = format!("{HEADER}K1,C1,08/05/17,6,N\nK2,C2,31/12/99,6,N\nK3,C3,08/05/0017,6,N\n");
    let mut r = ImportSummary::default();
    let c = contacts(data.as_bytes(), &mut r).unwrap();
    let dates: Vec<&str> = c.iter().map(|c| c.contact_date.as_str()).collect();
    assert_eq!(dates, ["2017-05-08", "1999-12-31"]);
    let said: Vec<_> = r
        .warnings
        .iter()
        .filter(|w| w.reason.contains("two-digit year"))
        .collect();
    assert_eq!(said.len(), 1);
    assert!(
        said[0].reason.starts_with("2 date(s)"),
        "{}",
        said[0].reason
    );
    // Never a reformatted 0017-05-08: the file's own text.
    assert!(
        r.rejected[0]
            .reason
            .contains("\"08/05/0017\" is not a date"),
        "{:?}",
        r.rejected
    );
}

#[test]
fn windows_1252_is_read_and_named_once_with_its_first_line() {
    let mut data = HEADER.as_bytes().to_vec();
    data.extend_from_slice(
        b"K1,C1,2025-05-01,6,N\nK2,Zo\xeb,2025-05-01,6,N\nK3,\x93C3\x94,2025-05-01,6,N\n",
    );
    let mut r = ImportSummary::default();
    let c = contacts(&data, &mut r).unwrap();
    assert_eq!(c[1].child_id, "Zoë");
    assert_eq!(c[2].child_id, "\u{201c}C3\u{201d}");
    assert_eq!(r.warnings.len(), 1);
    assert!(
        r.warnings[0]
            .reason
            .contains("not valid UTF-8 (first at line 3)"),
        "{:?}",
        r.warnings
    );
}

#[test]
fn semicolon_and_tab_delimited_files_are_read() {
    for sep in [";", "\t"] {
        let data = format!(
            "{}K1{sep}C1{sep}2025-05-01{sep}6{sep}N\n",
            HEADER.trim_end().replace(',', sep) + "\n"
        );
        let mut r = ImportSummary::default();
        let c = contacts(data.as_bytes(), &mut r).unwrap();
        assert_eq!(c.len(), 1, "{sep:?}: {:?}", r.rejected);
        assert_eq!(c[0].source, "6");
    }
}

#[test]
fn workbooks_and_xml_given_as_csv_are_named() {
    let mut r = ImportSummary::default();
    let xlsx = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00[Content_Types].xml xl/workbook.xml";
    let e = contacts(xlsx, &mut r).unwrap_err().to_string();
    assert!(e.contains("this is an Excel workbook (.xlsx)"), "{e}");
    let e = contacts(b"<?xml version=\"1.0\"?><Message/>", &mut r)
        .unwrap_err()
        .to_string();
    assert!(e.contains("this is an XML file"), "{e}");
}

#[test]
fn a_line_over_the_limit_and_a_file_cut_in_a_quote_are_refused_whole() {
    let mut r = ImportSummary::default();
    let mut data = HEADER.as_bytes().to_vec();
    data.extend_from_slice(b"K1,C1,2025-05-01,6,N\nK2,");
    data.extend(std::iter::repeat_n(b'x', input::MAX_LINE_BYTES + 1));
    let e = contacts(&data, &mut r).unwrap_err().to_string();
    assert!(e.contains("line 3 is longer than"), "{e}");
    let cut = format!("{HEADER}K1,C1,2025-05-01,6,N\nK2,\"C2,2025-05-01,6,N\n");
    let e = contacts(cut.as_bytes(), &mut r).unwrap_err().to_string();
    assert!(
        e.contains("ends inside a quoted field opened on line 3"),
        "{e}"
    );
    assert!(r.tallies.is_empty(), "no row was counted as read");
}

#[test]
fn columns_missing_unknown_and_optional_are_listed_once() {
    let mut r = ImportSummary::default();
    let data = b"CHILD,DECOM,RNE,LS,PLACE,PLACE_PROVIDER,NOTES,MORE\n1,2018-04-01,S,C2,U1,PR1,a,b\n2,2018-04-01,S,C2,U1,PR1,c,d\n";
    let e = local::read_format(&ssda903::EPISODES, "e.csv", data, Some("885"), &mut r)
        .unwrap_err()
        .to_string();
    assert!(e.contains("lacks required column(s) DEC, REC"), "{e}");
    let data = b"CHILD,DECOM,RNE,LS,PLACE,PLACE_PROVIDER,DEC,REC,NOTES\n1,2018-04-01,S,C2,U1,PR1,,,a\n2,2018-04-01,S,C2,U1,PR1,,,c\n";
    let mut r = ImportSummary::default();
    let rows = local::read_format(&ssda903::EPISODES, "e.csv", data, Some("885"), &mut r).unwrap();
    assert_eq!(rows.len(), 2);
    let unknown: Vec<_> = r.notes.iter().filter(|n| n.contains("NOTES")).collect();
    assert_eq!(unknown.len(), 1, "{:?}", r.notes);
    assert!(
        r.notes.iter().any(|n| n.contains(
            "optional column(s) CIN, REASON_PLACE_CHANGE, HOME_POST, PL_POST, URN not in file"
        )),
        "{:?}",
        r.notes
    );
    // A header without DOB is still a header, and refused for it.
    let e = local::read_format(
        &ssda903::HEADER,
        "h.csv",
        b"CHILD,SEX,ETHNIC\n1,1,WBRI\n",
        Some("885"),
        &mut ImportSummary::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("lacks required column(s) DOB"), "{e}");
    assert_eq!(
        ssda903::recognise(&["child".into(), "sex".into(), "ethnic".into()]),
        Some(ssda903::Table::Header)
    );
    assert_eq!(
        ssda903::recognise(&["child".into(), "decom".into(), "ls".into()]),
        Some(ssda903::Table::Episodes)
    );
}

#[test]
fn the_2025_26_deprivation_of_liberty_table_is_recognised_and_skipped() {
    let cols: Vec<String> = ["CHILD", "DOB", "DOL_START", "DOL_END"]
        .iter()
        .map(|c| c.to_ascii_lowercase())
        .collect();
    assert!(matches!(
        ssda903::recognise(&cols),
        Some(ssda903::Table::Unused(n)) if n.contains("deprivation of liberty")
    ));
}

#[test]
fn placement_codes_outside_their_years_are_known() {
    use csc_core::codes::placement_type_in_year as in_year;
    assert!(in_year("H5", 2024));
    assert!(!in_year("H5", 2025));
    assert!(in_year("K3", 2024));
    assert!(!in_year("K3", 2023));
    assert!(!in_year("Z11", 2025));
    assert!(in_year("Z11", 2026));
    assert!(in_year("U1", 2017));
    assert!(!in_year("Q9", 2024), "not a placement code in any year");
}

#[test]
fn the_import_report_csv_neutralises_formula_leading_values() {
    let mut r = ImportSummary::default();
    r.reject(
        "contacts",
        "=1+2",
        "c.csv line 2 column child_id",
        "\"@SUM(A1)\" is not a date",
    );
    r.warn("contacts", "+44 7700 900123", "-x", "fine");
    r.warn("dates", "-", "c.csv", "-3");
    r.refuse_file("=cmd|' /C calc'!A0.csv", "not a CSV file");
    let mut out = Vec::new();
    r.write_csv_to(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let mut numbers = 0;
    for row in rows.records() {
        for cell in row.unwrap().iter() {
            if cell.parse::<f64>().is_ok() {
                numbers += 1;
                continue;
            }
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} in {text}"
            );
        }
    }
    assert!(text.contains("'+44 7700"));
    assert_eq!(numbers, 1, "-3 stays a number: {text}");
    for row in csv::Reader::from_reader(text.as_bytes()).records() {
        for cell in row.unwrap().iter() {
            assert_ne!(cell, "-");
        }
    }
    assert!(text.contains("'=1+2"));
    assert!(text.contains("'=cmd|"));
}

#[test]
fn the_verdict_is_the_first_line_and_says_refusals_in_words() {
    let mut r = ImportSummary::default();
    r.tallies.entry("contacts").or_default().received = 4000;
    r.tallies.get_mut("contacts").unwrap().accepted = 4000;
    assert!(r.is_clean());
    assert!(
        r.render()
            .starts_with("Imported: all 4,000 record(s) accepted or unchanged.")
    );
    for _ in 0..1234 {
        r.reject("contacts", "C1", "x", "y");
    }
    r.refuse_file("e.csv", "lacks DEC");
    assert!(!r.is_clean());
    let first = r.render().lines().next().unwrap().to_owned();
    assert_eq!(
        first,
        "Imported with refusals: 1,234 record(s) of 5,234 refused and 1 file(s) or table(s) refused whole; see the lists below (or --report FILE.csv)."
    );
}

fn read_cin(xml: &[u8]) -> anyhow::Result<usize> {
    let mut n = 0;
    cin::read_records_from(xml, "c.xml", "Children", "Child", |item, _| {
        if let Item::Child(..) = item {
            n += 1;
        }
        Ok(())
    })?;
    Ok(n)
}

#[test]
fn xml_nested_deeper_than_the_limit_is_refused_without_overflowing() {
    let depth = 150_000;
    let mut xml = Vec::with_capacity(depth * 7);
    for _ in 0..depth {
        xml.extend_from_slice(b"<a>");
    }
    for _ in 0..depth {
        xml.extend_from_slice(b"</a>");
    }
    let e = read_cin(&xml).unwrap_err().to_string();
    assert!(e.contains("nest deeper than 256"), "{e}");
}

#[test]
fn xml_cut_short_or_empty_is_refused() {
    let whole = b"<Message><Children><Child><ChildIdentifiers><LAchildID>C1</LAchildID></ChildIdentifiers></Child></Children></Message>";
    assert_eq!(read_cin(whole).unwrap(), 1);
    let cut = &whole[..whole.len() - "</Children></Message>".len()];
    let e = read_cin(cut).unwrap_err().to_string();
    assert!(e.contains("the file ends before </Message>"), "{e}");
    let e = read_cin(&whole[..40]).unwrap_err().to_string();
    assert!(e.contains("nothing was imported"), "{e}");
    assert!(
        read_cin(b"")
            .unwrap_err()
            .to_string()
            .contains("no XML element")
    );
}

#[test]
fn xml_text_over_the_limit_is_refused() {
    let mut xml = b"<Message><Children><Child><X>".to_vec();
    xml.extend(std::iter::repeat_n(b'y', input::MAX_XML_RUN_BYTES + 5));
    xml.extend_from_slice(b"</X></Child></Children></Message>");
    let e = read_cin(&xml).unwrap_err().to_string();
    assert!(
        e.contains("without a tag") || e.contains("longer than"),
        "{e}"
    );
}

#[test]
fn cin_date_times_at_midnight_are_read_with_one_warning_per_file() {
    let xml = br#"<Message><Children><Child><ChildIdentifiers><LAchildID>C1</LAchildID></ChildIdentifiers>
        <CINdetails><CINreferralDate>2023-04-03T00:00:00</CINreferralDate><ReferralSource>6</ReferralSource><ReferralNFA>0</ReferralNFA>
        <Assessments><AssessmentActualStartDate>2023-04-04T00:00:00</AssessmentActualStartDate></Assessments>
        <Section47><S47ActualStartDate>2023-03-01</S47ActualStartDate></Section47>
        </CINdetails></Child></Children></Message>"#;
    let mut nodes = Vec::new();
    cin::read_records_from(&xml[..], "c.xml", "Children", "Child", |item, _| {
        if let Item::Child(i, n) = item {
            nodes.push((i, n));
        }
        Ok(())
    })
    .unwrap();
    let mut r = ImportSummary::default();
    let recs = cin::child_records("885", None, 1, &nodes[0].1, &mut r);
    assert_eq!(recs.referrals[0].0.referral_date, "2023-04-03");
    assert_eq!(recs.assessments[0].0.start_date, "2023-04-04");
    r.finish_dates("c.xml", true);
    let midnight: Vec<_> = r
        .warnings
        .iter()
        .filter(|w| w.reason.contains("date-time at midnight"))
        .collect();
    assert_eq!(midnight.len(), 1, "{:?}", r.warnings);
    assert!(midnight[0].reason.starts_with("2 date(s)"));
    // Plausibility: the enquiry starts before the referral: a warning, the record is kept.
    assert_eq!(recs.s47s.len(), 1);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.kind == "plausibility" && w.reason.contains("before the episode's referral")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn a_census_whose_reference_date_is_not_31_march_of_its_year_is_warned_about() {
    let mut r = ImportSummary::default();
    let h = |year: &str, date: &str| cin::Header {
        lea: Some("885".into()),
        year: Some(year.into()),
        reference_date: Some(date.into()),
        made: None,
    };
    cin::check_header("c.xml", &h("2024", "2024-03-31"), &mut r);
    assert!(r.warnings.is_empty());
    cin::check_header("c.xml", &h("2024", "2024-03-30"), &mut r);
    cin::check_header("c.xml", &h("2024", "2023-03-31"), &mut r);
    let reasons: Vec<&str> = r.warnings.iter().map(|w| w.reason.as_str()).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].contains("is not 31 March"));
    assert!(reasons[1].contains("not in the census Year 2024"));
}

/// The enumeration `type_name` of a CIN census schema, read from the DfE's XSD.
fn xsd_codes(year: i32, type_name: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../../../shared/spec/cin-census-xsd/CIN_schema_{year}.xsd"
    ));
    let xsd = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let start = xsd
        .find(&format!("<xs:simpleType name=\"{type_name}\""))
        .unwrap_or_else(|| panic!("{type_name} in {}", path.display()));
    let body = &xsd[start..start + xsd[start..].find("</xs:simpleType>").unwrap()];
    body.split("<xs:enumeration value=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect()
}

#[test]
fn cin_code_lists_by_year_are_the_schemas_lists() {
    use csc_core::codes;
    for year in 2022..=2026 {
        let sources = xsd_codes(year, "referralsourcetype");
        let reasons = xsd_codes(year, "reasonforclosuretype");
        assert!(sources.len() >= 21 && reasons.len() >= 8, "{year}");
        for (_, _, group) in codes::REFERRAL_SOURCE_GROUPS {
            for code in group.iter() {
                assert_eq!(
                    codes::referral_source_in_year(code, year),
                    sources.iter().any(|s| s == code),
                    "ReferralSource {code} in {year}"
                );
            }
        }
        for code in &sources {
            assert!(
                codes::referral_source_group(code).is_some(),
                "{code} {year}"
            );
        }
        for (code, _) in codes::CLOSURE_REASONS {
            assert_eq!(
                codes::closure_reason_in_year(code, year),
                reasons.iter().any(|s| s == code),
                "ReasonForClosure {code} in {year}"
            );
        }
        for code in xsd_codes(year, "assessmentfactorstype") {
            assert!(codes::is_assessment_factor(&code), "{code} {year}");
        }
    }
}

#[test]
fn a_cin_code_outside_its_census_year_is_warned_about_and_kept() {
    let xml = br#"<Message><Children><Child><ChildIdentifiers><LAchildID>C1</LAchildID></ChildIdentifiers>
        <CINdetails><CINreferralDate>2021-06-03</CINreferralDate><ReferralSource>5D</ReferralSource><ReferralNFA>0</ReferralNFA>
        <Assessments><AssessmentActualStartDate>2021-06-04</AssessmentActualStartDate></Assessments>
        <ReasonForClosure>RC9</ReasonForClosure><CINclosureDate>2021-07-01</CINclosureDate>
        </CINdetails></Child></Children></Message>"#;
    let mut nodes = Vec::new();
    cin::read_records_from(&xml[..], "c.xml", "Children", "Child", |item, _| {
        if let Item::Child(i, n) = item {
            nodes.push((i, n));
        }
        Ok(())
    })
    .unwrap();
    let warned = |year: Option<i32>| {
        let mut r = ImportSummary::default();
        let recs = cin::child_records("885", year, 1, &nodes[0].1, &mut r);
        assert_eq!(recs.referrals.len(), 1, "the record is kept");
        assert_eq!(recs.referrals[0].0.source, "5D");
        assert_eq!(recs.assessments.len(), 1);
        r.warnings
            .into_iter()
            .filter(|w| w.kind == "plausibility")
            .map(|w| (w.source, w.reason))
            .collect::<Vec<_>>()
    };
    let w = warned(Some(2022));
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].0.ends_with("CINdetails[1]/ReferralSource"), "{w:?}");
    assert_eq!(
        w[0].1,
        "ReferralSource 5D is not in the 2021-22 census's code list"
    );
    assert!(w[1].0.ends_with("CINdetails[1]/ReasonForClosure"), "{w:?}");
    assert!(warned(Some(2023)).is_empty());
    assert!(warned(None).is_empty(), "no year, no list to hold it to");
}

/// The import's cheap first pass (`cin::scan`) refuses exactly what the full reading refuses and
/// finds the same header: on the edges the fuzzer found and the ones it could (the fuzz entry
/// point asserts the agreement and panics otherwise).
#[test]
fn the_first_pass_agrees_with_the_full_reading() {
    let long = "x".repeat(super::input::MAX_XML_RUN_BYTES / 2 + 10);
    let cases: Vec<Vec<u8>> = vec![
        // An undecodable byte before the root: outside every element, read by neither.
        b"\xbd<Message><Header><Source><LEA>201</LEA></Source></Header></Message>".to_vec(),
        // An undecodable byte inside an element: refused by both, at the same byte.
        b"<Message><Header><Source><LEA>2\xbd1</LEA></Source></Header></Message>".to_vec(),
        // The LEA written with a character reference; the first of two Sources.
        b"<Message><Header><Source><LEA>8&#56;5</LEA></Source><Source><LEA>201</LEA></Source></Header></Message>".to_vec(),
        // A Header inside a Header: the inner one closes first.
        b"<Message><Header><Header><Source><LEA>301</LEA></Source></Header><Source><LEA>201</LEA></Source></Header></Message>".to_vec(),
        // Text split by a comment, together over the limit.
        format!("<Message><Header><Source><LEA>{long}<!-- -->{long}</LEA></Source></Header></Message>").into_bytes(),
        // Cut short; no element at all.
        b"<Message><Header><Source><LEA>201</LEA>".to_vec(),
        b"   ".to_vec(),
    ];
    for data in cases {
        super::fuzz::cin_xml(&data);
    }
    let header = |data: &[u8]| cin::scan(data, "c.xml").unwrap().unwrap();
    assert_eq!(
        header(b"<Message><Header><Source><LEA>8&#56;5</LEA></Source></Header></Message>")
            .lea
            .as_deref(),
        Some("885")
    );
}
