//! What an importer checks about a file before it reads a record from it: what kind of file it
//! is (a workbook or an archive is named, not read as text), its encoding (UTF-8 first, UTF-16
//! with a byte-order mark, else Windows-1252, said once), that it is whole (a CSV file does not end
//! inside a quoted field; an XML file closes its root element) and that nothing in it is larger
//! than the limits below. A file that fails any check is refused whole, before a single record is
//! sent (docs/formats.md).

use std::io::{BufRead, Read};

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// The longest physical line, or quoted field, a CSV file may hold: 1 MiB (a real row is a few
/// hundred bytes).
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// The deepest element nesting an XML file may hold (a CIN census nests 7 deep).
pub const MAX_XML_DEPTH: usize = 256;
/// The largest run of text or markup an XML file may hold between two `<`/`>` (an element's
/// text, or one tag): 1 MiB.
pub const MAX_XML_RUN_BYTES: usize = 1 << 20;

/// A file's text encoding, as the importer decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// UTF-8, with or without a byte-order mark.
    Utf8,
    /// UTF-16 (little- or big-endian), named by its byte-order mark.
    Utf16(&'static Encoding),
    /// Not valid UTF-8: read as Windows-1252, the encoding of English Windows exports.
    Windows1252 { first_line: u64 },
}

impl Charset {
    pub fn encoding(self) -> &'static Encoding {
        match self {
            Charset::Utf8 => UTF_8,
            Charset::Utf16(e) => e,
            Charset::Windows1252 { .. } => WINDOWS_1252,
        }
    }

    /// The warning to give for this encoding, if any.
    pub fn warning(self, file: &str) -> Option<String> {
        match self {
            Charset::Windows1252 { first_line } => Some(format!(
                "{file} is not valid UTF-8 (first at line {first_line}): read as Windows-1252; save it as UTF-8 to be sure of names with accents"
            )),
            _ => None,
        }
    }
}

/// The first bytes of a file that is not text, named for the person who gave it.
pub fn not_text(file: &str, head: &[u8], expected: &str) -> Option<String> {
    let kind = if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        if contains(head, b"xl/") || contains(head, b"[Content_Types].xml") {
            "an Excel workbook (.xlsx)"
        } else if contains(head, b"word/") {
            "a Word document (.docx)"
        } else {
            "a zip archive"
        }
    } else if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        "an Excel 97-2003 workbook (.xls) or another Office file"
    } else if head.starts_with(&[0x1F, 0x8B]) {
        "a gzip archive"
    } else if head.starts_with(b"%PDF") {
        "a PDF document"
    } else {
        return None;
    };
    let advice = if kind.contains("Excel") {
        "save each sheet as CSV UTF-8 (File > Save As) and import those (an Ofsted Annex A workbook is read as it is: `csc import annex-a FILE --la CODE`)"
    } else {
        "extract the files and import those"
    };
    Some(format!("{file}: this is {kind}, not {expected}: {advice}"))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Where a UTF-8 check stands after some bytes: the line it is on, and a sequence cut by the
/// end of a chunk.
#[derive(Debug, Default)]
pub struct Utf8Scan {
    line: u64,
    carry: Vec<u8>,
    first_bad_line: Option<u64>,
}

impl Utf8Scan {
    pub fn new() -> Self {
        Self {
            line: 1,
            ..Default::default()
        }
    }

    /// Checks the next chunk of the file.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.first_bad_line.is_some() {
            return;
        }
        // Only a sequence cut by the last chunk's end is copied, to be finished by this one.
        let joined;
        let data: &[u8] = if self.carry.is_empty() {
            chunk
        } else {
            joined = [std::mem::take(&mut self.carry).as_slice(), chunk].concat();
            &joined
        };
        match std::str::from_utf8(data) {
            Ok(_) => self.line += count_lines(data),
            Err(e) => {
                let (good, after) = data.split_at(e.valid_up_to());
                self.line += count_lines(good);
                match e.error_len() {
                    // A sequence cut by the chunk's end: finish it with the next chunk.
                    None => self.carry = after.to_vec(),
                    Some(_) => self.first_bad_line = Some(self.line),
                }
            }
        }
    }

    /// The encoding the bytes seen so far call for.
    pub fn finish(self) -> Charset {
        match self.first_bad_line {
            Some(first_line) => Charset::Windows1252 { first_line },
            // A multi-byte sequence cut off by the end of the file is not UTF-8 either.
            None if !self.carry.is_empty() => Charset::Windows1252 {
                first_line: self.line,
            },
            None => Charset::Utf8,
        }
    }
}

fn count_lines(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| c == b'\n').count() as u64
}

/// Decodes a whole file's bytes to text as [`Charset`] says: UTF-8 (BOM dropped) without a copy,
/// UTF-16 by its BOM, else Windows-1252.
pub fn decode(mut bytes: Vec<u8>) -> (String, Charset) {
    match Encoding::for_bom(&bytes) {
        Some((enc, len)) if enc != UTF_8 => {
            let (text, _) = enc.decode_without_bom_handling(&bytes[len..]);
            return (text.into_owned(), Charset::Utf16(enc));
        }
        Some((_, len)) => {
            bytes.drain(..len);
        }
        None => {}
    }
    match String::from_utf8(bytes) {
        Ok(s) => (s, Charset::Utf8),
        Err(e) => {
            let bytes = e.into_bytes();
            let mut scan = Utf8Scan::new();
            scan.feed(&bytes);
            let charset = scan.finish();
            let (text, _) = WINDOWS_1252.decode_without_bom_handling(&bytes);
            (text.into_owned(), charset)
        }
    }
}

/// What a CSV file's structure check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvShape {
    pub delimiter: u8,
}

/// The delimiter of a CSV file, from its header line: the commonest of `,`, `;` and tab outside
/// quotes (a comma when the header has none of them: a one-column file).
pub fn sniff_delimiter(header_line: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &b in header_line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
            c.1 += 1;
        }
    }
    counts
        .iter()
        .max_by_key(|(d, n)| (*n, *d == b','))
        .filter(|(_, n)| *n > 0)
        .map_or(b',', |(d, _)| *d)
}

/// Checks a CSV file's structure in one streaming pass, with bounded memory: no physical line and
/// no quoted field longer than [`MAX_LINE_BYTES`], and no end of file inside a quoted field (a file
/// cut short). The bytes are the file's own (UTF-8 or Windows-1252: both keep ASCII), or its text
/// re-encoded as UTF-8. Errors name the file and the physical line.
pub fn check_csv(file: &str, input: impl Read) -> anyhow::Result<CsvShape> {
    let mut input = std::io::BufReader::with_capacity(64 * 1024, input);
    // The header line, up to the limit, for the delimiter.
    let mut header = Vec::new();
    (&mut input)
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_until(b'\n', &mut header)?;
    if header.len() > MAX_LINE_BYTES {
        anyhow::bail!(
            "{file}: line 1 is longer than {} bytes: not a CSV file this importer reads (the limit is in docs/formats.md)",
            MAX_LINE_BYTES
        );
    }
    let delimiter = sniff_delimiter(&header);
    let mut state = CsvState {
        delimiter,
        at_field_start: true,
        quoted: false,
        quote_pending: false,
        line: 1,
        line_bytes: 0,
        field_bytes: 0,
        quoted_since: 0,
    };
    state.feed(file, &header)?;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len();
        state.feed(file, buf)?;
        input.consume(n);
    }
    if state.quoted && !state.quote_pending {
        anyhow::bail!(
            "{file}: the file ends inside a quoted field opened on line {}: it was cut short; nothing was imported",
            state.quoted_since
        );
    }
    Ok(CsvShape { delimiter })
}

struct CsvState {
    delimiter: u8,
    at_field_start: bool,
    quoted: bool,
    /// In a quoted field, a `"` was just seen: it either closes the field or escapes another.
    quote_pending: bool,
    line: u64,
    line_bytes: usize,
    field_bytes: usize,
    quoted_since: u64,
}

impl CsvState {
    fn feed(&mut self, file: &str, bytes: &[u8]) -> anyhow::Result<()> {
        for &b in bytes {
            if self.quoted {
                if self.quote_pending {
                    self.quote_pending = false;
                    if b != b'"' {
                        // The quote closed the field; this byte is read as unquoted.
                        self.quoted = false;
                        self.unquoted(file, b)?;
                        continue;
                    }
                } else if b == b'"' {
                    self.quote_pending = true;
                }
                if b == b'\n' {
                    self.line += 1;
                }
                self.field_bytes += 1;
                if self.field_bytes > MAX_LINE_BYTES {
                    anyhow::bail!(
                        "{file}: the quoted field opened on line {} is longer than {} bytes (unbalanced quotes?): nothing was imported",
                        self.quoted_since,
                        MAX_LINE_BYTES
                    );
                }
            } else {
                self.unquoted(file, b)?;
            }
        }
        Ok(())
    }

    fn unquoted(&mut self, file: &str, b: u8) -> anyhow::Result<()> {
        if b == b'\n' {
            self.line += 1;
            self.line_bytes = 0;
            self.at_field_start = true;
            return Ok(());
        }
        self.line_bytes += 1;
        if self.line_bytes > MAX_LINE_BYTES {
            anyhow::bail!(
                "{file}: line {} is longer than {} bytes: not a CSV file this importer reads (the limit is in docs/formats.md); nothing was imported",
                self.line,
                MAX_LINE_BYTES
            );
        }
        if b == b'"' && self.at_field_start {
            self.quoted = true;
            self.field_bytes = 0;
            self.quoted_since = self.line;
            self.at_field_start = false;
        } else {
            self.at_field_start = b == self.delimiter || b == b'\r';
        }
        Ok(())
    }
}

/// A reader that refuses any run of more than [`MAX_XML_RUN_BYTES`] between two `<` or `>`: the
/// XML parser buffers one event at a time, and this bounds what one event can hold.
pub struct BoundedRuns<R> {
    inner: R,
    run: usize,
}

impl<R> BoundedRuns<R> {
    pub fn new(inner: R) -> Self {
        Self { inner, run: 0 }
    }
}

impl<R: Read> Read for BoundedRuns<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'<' || b == b'>' {
                self.run = 0;
            } else {
                self.run += 1;
                if self.run > MAX_XML_RUN_BYTES {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "more than {MAX_XML_RUN_BYTES} bytes of text or markup without a tag (the limit is in docs/formats.md)"
                        ),
                    ));
                }
            }
        }
        Ok(n)
    }
}

/// A file's bytes as UTF-8 text for the XML parser: as they are for UTF-8, transcoded as they are
/// read otherwise.
pub fn utf8_reader<R: Read + 'static>(inner: R, charset: Charset) -> Box<dyn Read> {
    match charset {
        Charset::Utf8 => Box::new(inner),
        other => Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(other.encoding()))
                .bom_override(true)
                .build(inner),
        ),
    }
}

/// The encoding of a file read from the start: a BOM decides; otherwise one streaming UTF-8
/// check over the whole file.
pub fn detect_charset(mut input: impl Read) -> std::io::Result<Charset> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut scan = Utf8Scan::new();
    let mut first = true;
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let mut chunk = &buf[..n];
        if first {
            first = false;
            if let Some((enc, len)) = Encoding::for_bom(chunk) {
                if enc != UTF_8 {
                    return Ok(Charset::Utf16(enc));
                }
                chunk = &chunk[len..];
            }
        }
        scan.feed(chunk);
    }
    Ok(scan.finish())
}

/// Text quoted from a file into a message: the first 64 characters, and how long it was when
/// there is more (a refusal never repeats a megabyte of input).
pub use csc_core::text::quote;

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::UTF_16LE;

    #[test]
    fn workbooks_and_archives_are_named() {
        let xlsx = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml";
        let m = not_text("f.csv", xlsx, "a CSV file").unwrap();
        assert!(m.contains("this is an Excel workbook (.xlsx)"), "{m}");
        assert!(
            not_text(
                "f.csv",
                &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0],
                "x"
            )
            .unwrap()
            .contains(".xls")
        );
        assert!(
            not_text("f.csv", b"PK\x03\x04abc", "x")
                .unwrap()
                .contains("zip")
        );
        assert_eq!(not_text("f.csv", b"CHILD,SEX\n", "x"), None);
    }

    #[test]
    fn utf8_first_then_windows_1252_with_the_first_line() {
        let (s, c) = decode("\u{feff}a,b\nÉ,c\n".as_bytes().to_vec());
        assert_eq!((s.as_str(), c), ("a,b\nÉ,c\n", Charset::Utf8));
        // 0xE9 is é in Windows-1252, and not UTF-8.
        let (s, c) = decode(b"a,b\nx,y\nJos\xe9,z\n".to_vec());
        assert_eq!(s, "a,b\nx,y\nJosé,z\n");
        assert_eq!(c, Charset::Windows1252 { first_line: 3 });
        // A chunked scan finds the same line, even with a sequence cut between chunks.
        let mut scan = Utf8Scan::new();
        let text = "a\nb\u{e9}\n".as_bytes();
        scan.feed(&text[..4]);
        scan.feed(&text[4..]);
        assert_eq!(scan.finish(), Charset::Utf8);
        let mut scan = Utf8Scan::new();
        scan.feed(b"a\n");
        scan.feed(b"b\n\x93quoted\x94\n");
        assert_eq!(scan.finish(), Charset::Windows1252 { first_line: 3 });
    }

    #[test]
    fn utf16_with_a_bom_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "CHILD\tSEX\r\n1\t2\r\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let (s, c) = decode(bytes.clone());
        assert_eq!(s, "CHILD\tSEX\r\n1\t2\r\n");
        assert_eq!(c, Charset::Utf16(UTF_16LE));
        assert_eq!(
            detect_charset(&bytes[..]).unwrap(),
            Charset::Utf16(UTF_16LE)
        );
    }

    #[test]
    fn delimiters_are_sniffed_from_the_header() {
        assert_eq!(sniff_delimiter(b"CHILD,SEX,DOB\n"), b',');
        assert_eq!(sniff_delimiter(b"CHILD;SEX;DOB\r\n"), b';');
        assert_eq!(sniff_delimiter(b"CHILD\tSEX\tDOB\n"), b'\t');
        assert_eq!(sniff_delimiter(b"\"A;B\",C\n"), b',');
        assert_eq!(sniff_delimiter(b"CHILD\n"), b',');
    }

    #[test]
    fn a_csv_cut_inside_a_quoted_field_is_refused() {
        let ok = b"a,b\n1,\"two\nlines\"\n3,\"say \"\"hi\"\"\"\n4,5'10\"\n";
        assert_eq!(check_csv("f.csv", &ok[..]).unwrap().delimiter, b',');
        let cut = b"a,b\n1,2\n3,\"unfinished\n";
        let e = check_csv("f.csv", &cut[..]).unwrap_err().to_string();
        assert!(
            e.contains("ends inside a quoted field opened on line 3"),
            "{e}"
        );
    }

    #[test]
    fn a_line_longer_than_the_limit_is_refused_without_reading_the_rest() {
        let mut long = b"a,b\n1,".to_vec();
        long.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 10));
        let e = check_csv("f.csv", &long[..]).unwrap_err().to_string();
        assert!(e.contains("line 2 is longer than"), "{e}");
        let one_line = vec![b'x'; MAX_LINE_BYTES + 10];
        let e = check_csv("f.csv", &one_line[..]).unwrap_err().to_string();
        assert!(e.contains("line 1 is longer than"), "{e}");
    }

    #[test]
    fn long_runs_without_a_tag_are_refused() {
        let mut xml = b"<a>".to_vec();
        xml.extend(std::iter::repeat_n(b'x', MAX_XML_RUN_BYTES + 1));
        let mut r = BoundedRuns::new(&xml[..]);
        let mut sink = Vec::new();
        assert!(r.read_to_end(&mut sink).is_err());
    }

    #[test]
    fn quotes_are_capped() {
        assert_eq!(quote("abc"), "\"abc\"");
        let long = "y".repeat(1000);
        let q = quote(&long);
        assert!(q.ends_with("… (1000 bytes)") && q.len() < 90, "{q}");
    }
}
