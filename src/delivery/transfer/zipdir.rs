//! A deliberately small zip writer and a defensive zip reader, just enough for
//! magic-wormhole's "directory offer" (Python's `wormhole send DIR` sends a zip,
//! `wormhole receive` unpacks one and restores the Unix modes kept in the
//! entries' external attributes).
//!
//! The reader never trusts the archive: it reads the central directory only,
//! caps the entry count and the total size *before* inflating anything, bounds
//! every inflate by the declared size (so a lying header cannot blow up memory),
//! checks every CRC, and accepts only plain files with plain names (one path
//! component, printable ASCII, no `..`, no `/`, no `\`). Symlinks, devices,
//! encrypted entries, zip64 and multi-disk archives are refused.

use zeroize::Zeroizing;

/// Limits for [`read_zip`].
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Maximum number of file entries.
    pub max_entries: usize,
    /// Maximum sum of the uncompressed sizes of all entries.
    pub max_total: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 16,
            max_total: 1 << 20,
        }
    }
}

/// One entry to write with [`write_zip`]. `mode` is the full `st_mode`
/// (file type bits included, e.g. `0o100600`); `deflate` picks the method.
/// Names are written as given: the writer is also used by tests to build
/// hostile archives.
#[derive(Clone, Debug)]
pub struct ZipEntry<'a> {
    pub name: &'a str,
    pub data: &'a [u8],
    pub mode: u32,
    pub deflate: bool,
    /// Uncompressed size to put in the headers; `None` = the real one.
    /// Tests use it to write a lying header.
    pub declared_size: Option<u32>,
}

/// A file read from an archive.
#[derive(Debug)]
pub struct ZipFile {
    pub name: String,
    pub data: Zeroizing<Vec<u8>>,
    /// Permission bits only (`& 0o777`).
    pub mode: u32,
}

/// Why an archive was refused. Always a sentence that is safe to print
/// (any name from the archive is escaped and truncated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipRejected(pub String);

impl std::fmt::Display for ZipRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn reject<T>(msg: impl Into<String>) -> Result<T, ZipRejected> {
    Err(ZipRejected(msg.into()))
}

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

/// CRC-32 (IEEE, as zip uses it). Small table-less version: the payloads are tiny.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// DOS date and time of "now" (UTC), as zip headers want them.
fn dos_now() -> (u16, u16) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // civil_from_days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    let y = y.clamp(1980, 2107);
    let date = (((y - 1980) as u16) << 9) | ((m as u16) << 5) | d as u16;
    let time = (((rem / 3600) as u16) << 11)
        | ((((rem % 3600) / 60) as u16) << 5)
        | ((rem % 60) / 2) as u16;
    (time, date)
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

/// Writes a zip archive (no zip64; sizes must fit in u32, which our caps ensure).
/// Entries are "made by Unix" with `mode` in the external attributes, which is
/// what Python's `wormhole receive` reads to `chmod` the extracted files.
pub fn write_zip(entries: &[ZipEntry<'_>]) -> Zeroizing<Vec<u8>> {
    let (time, date) = dos_now();
    let mut out = Zeroizing::new(Vec::new());
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u32;
        let crc = crc32(e.data);
        let (method, body): (u16, Zeroizing<Vec<u8>>) = if e.deflate {
            (
                8,
                Zeroizing::new(miniz_oxide::deflate::compress_to_vec(e.data, 6)),
            )
        } else {
            (0, Zeroizing::new(e.data.to_vec()))
        };
        let usize_ = e.declared_size.unwrap_or(e.data.len() as u32);
        let name = e.name.as_bytes();
        // local header
        put32(&mut out, LOCAL_SIG);
        put16(&mut out, 20); // version needed
        put16(&mut out, 0x0800); // flags: UTF-8 names
        put16(&mut out, method);
        put16(&mut out, time);
        put16(&mut out, date);
        put32(&mut out, crc);
        put32(&mut out, body.len() as u32);
        put32(&mut out, usize_);
        put16(&mut out, name.len() as u16);
        put16(&mut out, 0);
        out.extend_from_slice(name);
        out.extend_from_slice(&body);
        // central directory record
        put32(&mut central, CENTRAL_SIG);
        put16(&mut central, (3 << 8) | 20); // made by: Unix, spec 2.0
        put16(&mut central, 20);
        put16(&mut central, 0x0800);
        put16(&mut central, method);
        put16(&mut central, time);
        put16(&mut central, date);
        put32(&mut central, crc);
        put32(&mut central, body.len() as u32);
        put32(&mut central, usize_);
        put16(&mut central, name.len() as u16);
        put16(&mut central, 0); // extra
        put16(&mut central, 0); // comment
        put16(&mut central, 0); // disk
        put16(&mut central, 0); // internal attrs
        put32(&mut central, e.mode << 16);
        put32(&mut central, offset);
        central.extend_from_slice(name);
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    put32(&mut out, EOCD_SIG);
    put16(&mut out, 0);
    put16(&mut out, 0);
    put16(&mut out, entries.len() as u16);
    put16(&mut out, entries.len() as u16);
    put32(&mut out, central.len() as u32);
    put32(&mut out, cd_offset);
    put16(&mut out, 0);
    out
}

/// Renders untrusted text so it is safe to show in a terminal: control and
/// formatting characters are escaped, and long strings are cut.
pub fn display_safe(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i >= 64 {
            out.push('…');
            break;
        }
        if c.is_ascii_graphic() || c == ' ' || (c.is_alphanumeric() && !c.is_control()) {
            out.push(c);
        } else {
            out.extend(c.escape_unicode());
        }
    }
    out
}

/// Checks that `name` is a plain file name we are willing to create: one path
/// component, printable ASCII (space allowed), not `.`/`..`, at most 255 bytes.
/// Returns the reason it is not.
pub fn check_plain_name(name: &str) -> Result<(), String> {
    let shown = display_safe(name);
    if name.is_empty() {
        return Err("an entry has an empty name".into());
    }
    if name.len() > 255 {
        return Err(format!("the name '{shown}' is too long"));
    }
    if name.starts_with('/') || name.starts_with('\\') || name.as_bytes().get(1) == Some(&b':') {
        return Err(format!("the entry '{shown}' has an absolute path"));
    }
    if name.contains('\\') {
        return Err(format!("the entry '{shown}' contains a backslash"));
    }
    if name == "." || name == ".." || name.split('/').any(|c| c == "..") {
        return Err(format!(
            "the entry '{shown}' would leave the target directory"
        ));
    }
    if name.contains('/') {
        return Err(format!(
            "the entry '{shown}' is in a subdirectory (only plain files are accepted)"
        ));
    }
    if !name.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(format!(
            "the name '{shown}' has characters that are not printable ASCII"
        ));
    }
    Ok(())
}

struct Reader<'a>(&'a [u8]);
impl Reader<'_> {
    fn u16(&self, at: usize) -> Result<u16, ZipRejected> {
        match self.0.get(at..at + 2) {
            Some(b) => Ok(u16::from_le_bytes([b[0], b[1]])),
            None => reject("the zip archive is truncated"),
        }
    }
    fn u32(&self, at: usize) -> Result<u32, ZipRejected> {
        match self.0.get(at..at + 4) {
            Some(b) => Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            None => reject("the zip archive is truncated"),
        }
    }
    fn bytes(&self, at: usize, len: usize) -> Result<&[u8], ZipRejected> {
        match at.checked_add(len).and_then(|end| self.0.get(at..end)) {
            Some(b) => Ok(b),
            None => reject("the zip archive is truncated or has an entry outside of it"),
        }
    }
}

struct CentralEntry {
    name: String,
    method: u16,
    crc: u32,
    csize: u64,
    usize_: u64,
    mode: u32,
    local_offset: usize,
}

/// Reads an archive under `limits`. Directory entries (names ending in `/`)
/// are checked and skipped; every other entry must be a regular file.
pub fn read_zip(zip: &[u8], limits: Limits) -> Result<Vec<ZipFile>, ZipRejected> {
    let r = Reader(zip);
    // End of central directory: last 22 bytes + a comment of up to 65535.
    if zip.len() < 22 {
        return reject("the data is not a zip archive");
    }
    let lowest = zip.len().saturating_sub(22 + 0xFFFF);
    let mut eocd = None;
    let mut i = zip.len() - 22;
    loop {
        if r.u32(i)? == EOCD_SIG {
            eocd = Some(i);
            break;
        }
        if i == lowest {
            break;
        }
        i -= 1;
    }
    let Some(e) = eocd else {
        return reject("the data is not a zip archive");
    };
    let (disk, cd_disk) = (r.u16(e + 4)?, r.u16(e + 6)?);
    let (n_here, n_total) = (r.u16(e + 8)?, r.u16(e + 10)?);
    let (cd_size, cd_offset) = (r.u32(e + 12)?, r.u32(e + 16)?);
    if n_total == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        return reject("zip64 archives are not accepted");
    }
    if disk != 0 || cd_disk != 0 || n_here != n_total {
        return reject("multi-part zip archives are not accepted");
    }
    // Count is checked before anything is parsed (directory entries included,
    // with a little slack for them).
    if n_total as usize > limits.max_entries * 2 {
        return reject(format!(
            "the archive has {n_total} entries, more than the {} allowed",
            limits.max_entries
        ));
    }
    let cd = r.bytes(cd_offset as usize, cd_size as usize)?;
    let c = Reader(cd);
    let mut pos = 0usize;
    let mut entries = Vec::new();
    let mut declared_total: u64 = 0;
    for _ in 0..n_total {
        if c.u32(pos)? != CENTRAL_SIG {
            return reject("the zip central directory is corrupt");
        }
        let made_by = c.u16(pos + 4)?;
        let flags = c.u16(pos + 8)?;
        let method = c.u16(pos + 10)?;
        let crc = c.u32(pos + 16)?;
        let csize = c.u32(pos + 20)?;
        let usize_ = c.u32(pos + 24)?;
        let name_len = c.u16(pos + 28)? as usize;
        let extra_len = c.u16(pos + 30)? as usize;
        let comment_len = c.u16(pos + 32)? as usize;
        let ext_attr = c.u32(pos + 38)?;
        let local_offset = c.u32(pos + 42)?;
        let raw_name = c.bytes(pos + 46, name_len)?;
        pos += 46 + name_len + extra_len + comment_len;

        let name = String::from_utf8_lossy(raw_name).into_owned();
        let shown = display_safe(&name);
        if std::str::from_utf8(raw_name).is_err() {
            return reject(format!("the entry '{shown}' has a name that is not UTF-8"));
        }
        if flags & 0x0001 != 0 {
            return reject(format!("the entry '{shown}' is encrypted"));
        }
        if csize == 0xFFFF_FFFF || usize_ == 0xFFFF_FFFF || local_offset == 0xFFFF_FFFF {
            return reject("zip64 archives are not accepted");
        }
        let unix = made_by >> 8 == 3;
        let st_mode = if unix { ext_attr >> 16 } else { 0 };
        let is_dir_name = name.ends_with('/');
        let ftype = st_mode & S_IFMT;
        if ftype == S_IFLNK {
            return reject(format!("the entry '{shown}' is a symbolic link"));
        }
        let dos_dir = !unix && ext_attr & 0x10 != 0;
        if is_dir_name || ftype == S_IFDIR || dos_dir {
            // Only a harmless, plain, empty directory entry (Python sends
            // those for empty folders): check its name, then skip it.
            let trimmed = name.strip_suffix('/').unwrap_or(&name);
            check_plain_name(trimmed).map_err(ZipRejected)?;
            if usize_ != 0 {
                return reject(format!("the directory entry '{shown}' has content"));
            }
            continue;
        }
        if ftype != 0 && ftype != S_IFREG {
            return reject(format!("the entry '{shown}' is not a regular file"));
        }
        check_plain_name(&name).map_err(ZipRejected)?;
        if method != 0 && method != 8 {
            return reject(format!(
                "the entry '{shown}' uses an unsupported compression method {method}"
            ));
        }
        if entries.len() >= limits.max_entries {
            return reject(format!(
                "the archive has more than the {} files allowed",
                limits.max_entries
            ));
        }
        declared_total += usize_ as u64;
        if declared_total > limits.max_total {
            return reject(format!(
                "the archive would unpack to more than {} bytes",
                limits.max_total
            ));
        }
        if method == 0 && csize != usize_ {
            return reject(format!("the stored entry '{shown}' has inconsistent sizes"));
        }
        let mode = if unix && st_mode != 0 {
            st_mode & 0o777
        } else {
            0o600
        };
        if entries.iter().any(|e: &CentralEntry| e.name == name) {
            return reject(format!("the entry '{shown}' appears twice"));
        }
        entries.push(CentralEntry {
            name,
            method,
            crc,
            csize: csize as u64,
            usize_: usize_ as u64,
            mode,
            local_offset: local_offset as usize,
        });
    }

    // All declared sizes are within the caps: now read the data, bounding each
    // inflate by the declared size so a lying header fails instead of growing.
    let mut files = Vec::with_capacity(entries.len());
    for e in entries {
        let shown = display_safe(&e.name);
        let lo = e.local_offset;
        if r.u32(lo)? != LOCAL_SIG {
            return reject(format!("the entry '{shown}' has no local header"));
        }
        let lname_len = r.u16(lo + 26)? as usize;
        let lextra_len = r.u16(lo + 28)? as usize;
        if r.bytes(lo + 30, lname_len)? != e.name.as_bytes() {
            return reject(format!("the entry '{shown}' has two different names"));
        }
        let data_at = lo + 30 + lname_len + lextra_len;
        let raw = r.bytes(data_at, e.csize as usize)?;
        let data = if e.method == 0 {
            Zeroizing::new(raw.to_vec())
        } else {
            match miniz_oxide::inflate::decompress_to_vec_with_limit(raw, e.usize_ as usize) {
                Ok(v) => Zeroizing::new(v),
                Err(err) if err.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                    // Drop the partial output through Zeroizing.
                    let _ = Zeroizing::new(err.output);
                    return reject(format!(
                        "the entry '{shown}' inflates to more than its declared {} bytes",
                        e.usize_
                    ));
                }
                Err(err) => {
                    let _ = Zeroizing::new(err.output);
                    return reject(format!("the entry '{shown}' is not valid deflate data"));
                }
            }
        };
        if data.len() as u64 != e.usize_ {
            return reject(format!("the entry '{shown}' is shorter than declared"));
        }
        if crc32(&data) != e.crc {
            return reject(format!("the entry '{shown}' fails its CRC check"));
        }
        files.push(ZipFile {
            name: e.name,
            data,
            mode: e.mode,
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(name: &'a str, data: &'a [u8], mode: u32, deflate: bool) -> ZipEntry<'a> {
        ZipEntry {
            name,
            data,
            mode,
            deflate,
            declared_size: None,
        }
    }

    #[test]
    fn crc_known_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn roundtrip_stored_and_deflated() {
        let z = write_zip(&[
            entry("key", b"secret", 0o100600, true),
            entry("key.pub", b"pub\n", 0o100644, false),
        ]);
        let files = read_zip(&z, Limits::default()).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(
            (files[0].name.as_str(), &files[0].data[..], files[0].mode),
            ("key", &b"secret"[..], 0o600)
        );
        assert_eq!(
            (files[1].name.as_str(), &files[1].data[..], files[1].mode),
            ("key.pub", &b"pub\n"[..], 0o644)
        );
    }

    #[test]
    fn python_zipstream_archive() {
        // Produced by zipstream-ng exactly as `wormhole send DIR` does: stored
        // entries with data descriptors (local sizes 0), made by Unix.
        let z = crate::hex::decode(concat!(
            "504b0304140008000000a810775d00000000000000000000000003000000",
            "6b6579736563726574504b0708e5e8a25c0600000006000000504b030414",
            "0008000000a810775d000000000000000000000000070000006b65792e70",
            "75627075620a504b070800355faf0400000004000000504b010214031400",
            "08000000a810775de5e8a25c060000000600000003000000000000000000",
            "00008081000000006b6579504b01021403140008000000a810775d00355f",
            "af0400000004000000070000000000000000000000a481370000006b6579",
            "2e707562504b0506000000000200020066000000700000000000",
        ))
        .unwrap();
        let files = read_zip(&z, Limits::default()).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].name, "key");
        assert_eq!(&files[0].data[..], b"secret");
        assert_eq!(files[0].mode, 0o600);
        assert_eq!(files[1].mode, 0o644);
    }

    #[test]
    fn hostile_archives() {
        let cases: Vec<(Vec<ZipEntry>, &str)> = vec![
            (
                vec![entry("../x", b"a", 0o100600, false)],
                "leave the target",
            ),
            (vec![entry("/etc/x", b"a", 0o100600, false)], "absolute"),
            (vec![entry("..\\x", b"a", 0o100600, false)], "backslash"),
            (vec![entry("a/b", b"a", 0o100600, false)], "subdirectory"),
            (
                vec![entry("l", b"/etc/passwd", 0o120777, false)],
                "symbolic link",
            ),
            (
                vec![entry("fifo", b"", 0o010644, false)],
                "not a regular file",
            ),
            (
                vec![entry("a\u{1b}[2J", b"a", 0o100600, false)],
                "printable",
            ),
            (
                vec![
                    entry("k", b"a", 0o100600, false),
                    entry("k", b"b", 0o100600, false),
                ],
                "twice",
            ),
        ];
        for (entries, want) in cases {
            let z = write_zip(&entries);
            let err = read_zip(&z, Limits::default()).unwrap_err();
            assert!(err.0.contains(want), "{:?}: {err}", entries[0].name);
            assert!(!err.0.contains('\u{1b}'));
        }
        let many: Vec<String> = (0..17).map(|i| format!("f{i}")).collect();
        let entries: Vec<ZipEntry> = many
            .iter()
            .map(|n| entry(n, b"x", 0o100600, false))
            .collect();
        assert!(read_zip(&write_zip(&entries), Limits::default())
            .unwrap_err()
            .0
            .contains("more than"));
    }

    #[test]
    fn zip_bombs() {
        let zeros = vec![0u8; 8 << 20];
        // Honest header: refused before inflating.
        let z = write_zip(&[entry("bomb", &zeros, 0o100600, true)]);
        assert!(z.len() < 64 * 1024);
        let err = read_zip(&z, Limits::default()).unwrap_err();
        assert!(err.0.contains("unpack to more than"), "{err}");
        // Lying header: refused while inflating, never more than the declared size.
        let z = write_zip(&[ZipEntry {
            declared_size: Some(1000),
            ..entry("bomb", &zeros, 0o100600, true)
        }]);
        let err = read_zip(&z, Limits::default()).unwrap_err();
        assert!(err.0.contains("inflates to more than"), "{err}");
    }

    #[test]
    fn garbage_is_rejected_not_panicking() {
        for len in [0usize, 10, 22, 100] {
            let _ = read_zip(&vec![0x50; len], Limits::default());
        }
        let z = write_zip(&[entry("key", b"secret", 0o100600, true)]);
        for cut in 0..z.len() {
            let _ = read_zip(&z[..cut], Limits::default());
        }
        let mut flipped = z.to_vec();
        for i in 0..flipped.len() {
            flipped[i] ^= 0xFF;
            let _ = read_zip(&flipped, Limits::default());
            flipped[i] ^= 0xFF;
        }
    }
}
