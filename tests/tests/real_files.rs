//! Files as councils and regional pipelines really write them (issue "Real council files"):
//! two-digit years, pooled multi-year multi-LA 903 tables, files cut short, tables missing
//! required columns, other encodings and delimiters, and other projects' public fixtures. Each
//! is imported through the services and compared with the same data in clean form, or counted
//! row by row in the store.

use std::path::Path;

use csc::import::{ImportSummary, import_cin, import_contacts, ssda903};
use csc_core::measure::testing::count;
use csc_e2e::{CinSuite, backends, sample};
use csc_proto::common as cpb;

fn tally(r: &ImportSummary, kind: &str) -> (u64, u64, u64, u64) {
    let t = r.tallies.get(kind).copied().unwrap_or_default();
    (t.received, t.accepted, t.unchanged, t.rejected)
}

/// The looked-after children service and child protection, on one backend.
struct Suite903 {
    suite: csc_e2e::Suite,
}

impl Suite903 {
    async fn start(b: &csc_e2e::Backend) -> Self {
        Self {
            suite: csc_e2e::Suite::start(b).await,
        }
    }

    async fn clients(&self) -> ssda903::Clients903 {
        ssda903::Clients903::connect(&self.suite.addrs)
            .await
            .unwrap()
    }

    async fn stop(self) {
        self.suite.stop().await;
    }
}

/// Every placements measure of `la` for each quarter and year of 2017-18 to 2021-22, as
/// (period, measure id, value) triples, for comparing two imports figure by figure.
async fn placements_figures(
    c: &mut csc::client::PlacementsClient,
    la: &str,
) -> Vec<(String, String, Option<f64>)> {
    let mut out = Vec::new();
    for y in 2017..=2021 {
        let year = format!("{y}-{:02}", (y + 1) % 100);
        let periods = [
            year.clone(),
            format!("{year}-Q1"),
            format!("{year}-Q2"),
            format!("{year}-Q3"),
            format!("{year}-Q4"),
        ];
        for period in periods {
            let measures = c
                .compute_measures(cpb::ComputeMeasuresRequest {
                    la_code: la.into(),
                    period: period.clone(),
                })
                .await
                .unwrap()
                .into_inner()
                .measures;
            out.extend(csc_e2e::figures(&period, &measures));
        }
    }
    out
}

const SERIES: [&str; 5] = ["2017", "2018", "2019", "2020", "2021"];
const POOLED_TABLES: [&str; 3] = ["header.csv", "episodes.csv", "reviews.csv"];

/// The yearly 903 folders pooled as a regional pipeline writes them: one file per table, every
/// year's rows with YEAR and LA columns, for two LAs (one named by name, one by code), newest
/// year first in the file so that only the YEAR column can put them in order.
fn write_pooled(dir: &Path) {
    for table in POOLED_TABLES {
        let mut out = String::new();
        for y in SERIES.iter().rev() {
            let text =
                std::fs::read_to_string(sample(&format!("ssda903-series/{y}/{table}"))).unwrap();
            let mut lines = text.lines();
            let header = lines.next().unwrap().trim_start_matches('\u{feff}');
            if out.is_empty() {
                out.push_str(&format!("{header},LA,YEAR\n"));
            }
            for l in lines.filter(|l| !l.is_empty()) {
                out.push_str(&format!("{l},Worcestershire,{y}\n"));
                out.push_str(&format!("{l},886,{y}\n"));
            }
        }
        std::fs::write(dir.join(table), out).unwrap();
    }
}

#[tokio::test]
async fn a_pooled_903_with_year_and_la_columns_equals_the_yearly_folders_imported_in_turn() {
    for b in backends().await {
        let s = Suite903::start(&b).await;
        let mut c = s.clients().await;
        // The yearly folders in turn, oldest first, into 887.
        let mut yearly = ImportSummary::default();
        for y in SERIES {
            let dir = tempfile::tempdir().unwrap();
            for table in POOLED_TABLES {
                std::fs::copy(
                    sample(&format!("ssda903-series/{y}/{table}")),
                    dir.path().join(table),
                )
                .unwrap();
            }
            ssda903::import(&mut c, dir.path(), Some("887"), y.parse().ok(), &mut yearly)
                .await
                .unwrap();
        }
        // The same rows pooled, with no --la: each LA under its own code.
        let pooled = tempfile::tempdir().unwrap();
        write_pooled(pooled.path());
        let mut report = ImportSummary::default();
        let las = ssda903::import(&mut c, pooled.path(), None, None, &mut report)
            .await
            .unwrap();
        assert_eq!(
            las.into_iter().collect::<Vec<_>>(),
            ["885", "886"],
            "{}",
            b.name
        );
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.contains("years 2017, 2018, 2019, 2020, 2021 imported oldest first")),
            "{:?}",
            report.notes
        );
        // Twice the rows of the yearly imports, refused alike (the same duplicate reviews).
        let (y_received, _, _, y_rejected) = tally(&yearly, "episodes");
        let (p_received, _, _, p_rejected) = tally(&report, "episodes");
        assert_eq!((p_received, p_rejected), (2 * y_received, 2 * y_rejected));
        assert_eq!(
            tally(&report, "CLA reviews").3,
            2 * tally(&yearly, "CLA reviews").3
        );

        let want = placements_figures(&mut c.placements, "887").await;
        assert!(want.iter().any(|(_, _, v)| v.is_some_and(|v| v > 0.0)));
        for la in ["885", "886"] {
            let got = placements_figures(&mut c.placements, la).await;
            assert_eq!(got, want, "{}: LA {la} against the yearly imports", b.name);
        }

        // --la only chooses: the pooled file again with --la 886 leaves the other LA's rows out,
        // saying so, and replays 886's years to the same figures (a replay of a multi-year
        // history rewrites restated episodes on the way, as the yearly folders would); an LA the
        // file does not hold refuses it.
        let mut again = ImportSummary::default();
        ssda903::import(&mut c, pooled.path(), Some("886"), None, &mut again)
            .await
            .unwrap();
        assert_eq!(tally(&again, "episodes").0, y_received);
        assert!(
            again.notes.iter().any(|n| n.contains("885 (")),
            "{:?}",
            again.notes
        );
        assert_eq!(placements_figures(&mut c.placements, "886").await, want);
        let mut none = ImportSummary::default();
        ssda903::import(&mut c, pooled.path(), Some("888"), None, &mut none)
            .await
            .unwrap();
        assert_eq!(none.refused_files.len(), 3, "{:?}", none.refused_files);
        assert!(
            none.refused_files[0]
                .1
                .contains("--la 888 names none of them")
        );
        s.stop().await;
    }
}

/// `dd/mm/yyyy` → `dd/mm/yy` in every cell that is such a date.
fn two_digit_years(text: &str) -> String {
    text.lines()
        .map(|l| {
            l.split(',')
                .map(|cell| {
                    let b = cell.as_bytes();
                    if cell.len() == 10 && b[2] == b'/' && b[5] == b'/' {
                        format!("{}{}", &cell[..6], &cell[8..])
                    } else {
                        cell.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn two_digit_years_give_the_same_figures_as_four_and_are_said_once_per_file() {
    for b in backends().await {
        let s = Suite903::start(&b).await;
        let mut c = s.clients().await;
        let short = tempfile::tempdir().unwrap();
        for table in POOLED_TABLES {
            let text =
                std::fs::read_to_string(sample(&format!("ssda903-series/2017/{table}"))).unwrap();
            std::fs::write(short.path().join(table), two_digit_years(&text)).unwrap();
        }
        let mut four = ImportSummary::default();
        ssda903::import(
            &mut c,
            &sample("ssda903-series/2017"),
            Some("885"),
            Some(2017),
            &mut four,
        )
        .await
        .unwrap();
        let mut two = ImportSummary::default();
        ssda903::import(&mut c, short.path(), Some("886"), Some(2017), &mut two)
            .await
            .unwrap();
        assert_eq!(
            tally(&two, "episodes"),
            tally(&four, "episodes"),
            "{}",
            b.name
        );
        assert_eq!(
            placements_figures(&mut c.placements, "886").await,
            placements_figures(&mut c.placements, "885").await
        );
        // One warning per file, with the count and the pivot.
        let said: Vec<_> = two
            .warnings
            .iter()
            .filter(|w| w.reason.contains("two-digit year"))
            .collect();
        assert_eq!(said.len(), POOLED_TABLES.len(), "{said:?}");
        assert!(said.iter().all(|w| w.reason.contains("00-69 = 2000-2069")));
        assert!(!four.warnings.iter().any(|w| w.reason.contains("two-digit")));
        s.stop().await;
    }
}

async fn referrals_held(c: &mut csc::import::CinClients, la: &str) -> usize {
    c.frontdoor
        .list_referrals(cpb::ListRequest {
            la_code: la.into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .records
        .len()
}

#[tokio::test]
async fn files_cut_short_or_missing_required_columns_land_nothing() {
    for b in backends().await {
        let s = CinSuite::start(&b).await;
        let mut c = s.clients().await;
        let dir = tempfile::tempdir().unwrap();

        // A census cut off mid-element, and one cut before its closing root element.
        let whole = std::fs::read_to_string(sample("cin/fake_CIN_data.xml")).unwrap();
        let cut_mid = dir.path().join("cut_mid.xml");
        std::fs::write(&cut_mid, &whole[..whole.len() * 3 / 5]).unwrap();
        let cut_end = dir.path().join("cut_end.xml");
        let end = whole.rfind("</Message>").unwrap();
        std::fs::write(&cut_end, &whole[..end]).unwrap();
        for f in [&cut_mid, &cut_end] {
            let mut r = ImportSummary::default();
            import_cin(&mut c, f, None, &mut r).await.unwrap();
            assert_eq!(
                r.refused_files.len(),
                1,
                "{}: {:?}",
                b.name,
                r.refused_files
            );
            assert!(
                r.refused_files[0].1.contains("nothing was imported"),
                "{:?}",
                r.refused_files
            );
            assert!(r.tallies.is_empty(), "nothing was sent: {:?}", r.tallies);
            assert!(!r.is_clean());
        }
        let mut r = ImportSummary::default();
        import_cin(&mut c, &cut_end, None, &mut r).await.unwrap();
        assert!(
            r.refused_files[0].1.contains("ends before </Message>"),
            "{:?}",
            r.refused_files
        );
        assert_eq!(referrals_held(&mut c, "885").await, 0);
        // The whole file lands.
        let mut r = ImportSummary::default();
        import_cin(
            &mut c,
            &sample("cin/fake_CIN_data.xml"),
            Some("885"),
            &mut r,
        )
        .await
        .unwrap();
        assert!(r.refused_files.is_empty());
        assert!(referrals_held(&mut c, "885").await > 0);

        // A contacts CSV whose last line is cut inside a quoted field.
        let contacts = dir.path().join("contacts.csv");
        std::fs::write(
            &contacts,
            "contact_id,child_id,contact_date,source,became_referral\n\
             K1,C1,2018-04-01,6,N\nK2,C2,2018-04-02,\"6,N\n",
        )
        .unwrap();
        let mut r = ImportSummary::default();
        import_contacts(&mut c.frontdoor, &contacts, Some("885"), &mut r)
            .await
            .unwrap();
        assert!(
            r.refused_files[0]
                .1
                .contains("ends inside a quoted field opened on line 3"),
            "{:?}",
            r.refused_files
        );
        assert!(r.tallies.is_empty());
        let held = c
            .frontdoor
            .list_contacts(cpb::ListRequest {
                la_code: "885".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(held.records.len(), 0);
        s.stop().await;
    }
}

#[tokio::test]
async fn a_903_episodes_table_without_dec_or_rec_is_refused_and_the_other_tables_land() {
    for b in backends().await {
        let s = Suite903::start(&b).await;
        let mut c = s.clients().await;
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            sample("ssda903-series/2017/header.csv"),
            dir.path().join("header.csv"),
        )
        .unwrap();
        // Episodes with the DEC and REC columns taken out.
        let text = std::fs::read_to_string(sample("ssda903-series/2017/episodes.csv")).unwrap();
        let cut: String = text
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                [&f[..7], &f[9..]].concat().join(",")
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(dir.path().join("episodes.csv"), cut).unwrap();
        let mut r = ImportSummary::default();
        ssda903::import(&mut c, dir.path(), Some("885"), Some(2017), &mut r)
            .await
            .unwrap();
        assert_eq!(
            r.refused_files.len(),
            1,
            "{}: {:?}",
            b.name,
            r.refused_files
        );
        assert!(
            r.refused_files[0]
                .1
                .contains("lacks required column(s) DEC, REC"),
            "{:?}",
            r.refused_files
        );
        assert!(!r.tallies.contains_key("episodes"), "no episode was sent");
        assert!(tally(&r, "children").1 > 0, "the header landed");
        let ms = c
            .placements
            .compute_measures(cpb::ComputeMeasuresRequest {
                la_code: "885".into(),
                period: "2017-18".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .measures;
        let ms: Vec<_> = ms
            .into_iter()
            .map(|m| csc_runtime::convert::measure_from_proto(&m))
            .collect();
        assert_eq!(count(&ms, "placements.cla_at_end"), 0);
        s.stop().await;
    }
}

#[tokio::test]
async fn windows_1252_semicolons_and_utf16_files_land_with_physical_line_numbers() {
    for b in backends().await {
        let s = CinSuite::start(&b).await;
        let mut c = s.clients().await;
        let dir = tempfile::tempdir().unwrap();
        // Semicolons, Windows-1252 (0xE9 = é in a child id on line 3), a bad date on line 4.
        let cp1252 = dir.path().join("contacts-1252.csv");
        let mut bytes =
            b"contact_id;child_id;contact_date;source;became_referral\r\nK1;C1;01/04/18;6;N\r\n"
                .to_vec();
        bytes.extend_from_slice(b"K2;Ren\xe9e;2018-04-02 00:00:00;6;N\r\nK3;C3;2018-02-30;6;N\r\n");
        std::fs::write(&cp1252, bytes).unwrap();
        let mut r = ImportSummary::default();
        import_contacts(&mut c.frontdoor, &cp1252, Some("885"), &mut r)
            .await
            .unwrap();
        assert_eq!(
            tally(&r, "contacts"),
            (3, 2, 0, 1),
            "{}: {:?}",
            b.name,
            r.rejected
        );
        csc_e2e::assert_row_refused(&r, 4, "contact_date", "\"2018-02-30\" is not a date");
        assert!(
            r.warnings
                .iter()
                .any(|w| w.reason.contains("not valid UTF-8 (first at line 3)")),
            "{:?}",
            r.warnings
        );
        let held = c
            .frontdoor
            .list_contacts(cpb::ListRequest {
                la_code: "885".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let ids: Vec<&str> = held.records.iter().map(|c| c.child_id.as_str()).collect();
        assert!(ids.contains(&"Renée"), "{ids:?}");
        let k1 = held.records.iter().find(|c| c.contact_id == "K1").unwrap();
        assert_eq!(k1.contact_date, "2018-04-01");

        // UTF-16 LE with a BOM, tab-separated, as Excel's "Unicode text" saves.
        let utf16 = dir.path().join("contacts-utf16.txt");
        let text = "contact_id\tchild_id\tcontact_date\tsource\tbecame_referral\r\nK9\tC9\t05/04/2018\t6\tY\r\n";
        let mut bytes = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        std::fs::write(&utf16, bytes).unwrap();
        let mut r = ImportSummary::default();
        import_contacts(&mut c.frontdoor, &utf16, Some("885"), &mut r)
            .await
            .unwrap();
        assert_eq!(tally(&r, "contacts"), (1, 1, 0, 0), "{:?}", r.refused_files);
        s.stop().await;
    }
}

/// Other projects' published fixtures (tests/fixtures/public/README.md says where each is from
/// and under what licence).
fn public(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/public")
        .join(rel)
}

#[tokio::test]
async fn liia_tools_pooled_fixtures_land_every_valid_row_and_name_the_rest() {
    for b in backends().await {
        let s = Suite903::start(&b).await;
        let mut c = s.clients().await;
        // A pooled episodes table: LA names, YEAR, episodes restated across years.
        let mut r = ImportSummary::default();
        let las = ssda903::import(
            &mut c,
            &public("liia-tools/SSDA903_episodes_for_testing_fixes_INPUT.csv"),
            None,
            None,
            &mut r,
        )
        .await
        .unwrap();
        assert_eq!(
            las.into_iter().collect::<Vec<_>>(),
            ["301", "316", "319"],
            "{}: Barking and Dagenham, Newham, Sutton",
            b.name
        );
        let (received, accepted, _, rejected) = tally(&r, "episodes");
        assert_eq!(received, 21, "{:?}", r.rejected);
        assert_eq!(accepted + rejected, received);
        // Every refusal names its line and why.
        assert!(r.rejected.iter().all(|p| p.source.contains(".csv line ")));

        // A raw 2020 extract: dd/mm/yyyy, an extra TEST_COLUMN, a *DUMMY* RNE, a blank LS.
        let dir = tempfile::tempdir().unwrap();
        for f in ["SSDA903_2020_header.csv", "SSDA903_2020_episodes.csv"] {
            std::fs::copy(public(&format!("liia-tools/{f}")), dir.path().join(f)).unwrap();
        }
        let mut r = ImportSummary::default();
        ssda903::import(&mut c, dir.path(), Some("885"), Some(2020), &mut r)
            .await
            .unwrap();
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("TEST_COLUMN not used by this importer")),
            "{:?}",
            r.notes
        );
        let (received, accepted, _, rejected) = tally(&r, "episodes");
        assert_eq!((received, accepted + rejected), (5, 5));
        assert!(
            r.rejected
                .iter()
                .any(|p| p.source.contains("line 6") && p.reason.contains("DUMMY")),
            "{:?}",
            r.rejected
        );
        // The header repeats child 689661 with other content: refused, naming the line.
        assert!(
            r.rejected
                .iter()
                .any(|p| p.kind == "children" && p.reason.contains("same key as")),
            "{:?}",
            r.rejected
        );
        s.stop().await;
    }
}
