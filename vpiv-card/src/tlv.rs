//! BER-TLV as PIV uses it (NIST SP 800-73-4 part 2, §3.2; ISO 7816-4 §5.2): the card reads
//! one-byte tags with short, `81 nn` or `82 nnnn` lengths, and writes any tag with the shortest
//! length form. Parsing never panics and never reads past its input.

/// One TLV with a one-byte tag at the start of `b`: `(tag, value, rest)`. `None` when the length
/// form is not one of the three above or the value is cut short.
pub fn parse(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (len, rest) = match rest.split_first()? {
        (&l, r) if l < 0x80 => (usize::from(l), r),
        (0x81, r) => (usize::from(*r.first()?), r.get(1..)?),
        (0x82, r) => (
            usize::from(u16::from_be_bytes([*r.first()?, *r.get(1)?])),
            r.get(2..)?,
        ),
        _ => return None,
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// Every TLV in `b`, in order; `None` unless they cover `b` exactly.
pub fn parse_all(mut b: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (t, v, rest) = parse(b)?;
        out.push((t, v));
        b = rest;
    }
    Some(out)
}

/// The value of the first item tagged `tag`.
pub fn find<'a>(items: &[(u8, &'a [u8])], tag: u8) -> Option<&'a [u8]> {
    items.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v)
}

/// Appends `tag ‖ length ‖ value` to `out`; `tag` is written as given (one byte, or `7F 49`).
pub fn push(out: &mut Vec<u8>, tag: &[u8], value: &[u8]) {
    out.extend_from_slice(tag);
    let n = value.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let be = n.to_be_bytes();
        let skip = be.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (be.len() - skip) as u8);
        out.extend_from_slice(&be[skip..]);
    }
    out.extend_from_slice(value);
}

/// `tag ‖ length ‖ value` as a new buffer.
pub fn encode(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(tag.len() + 4 + value.len());
    push(&mut out, tag, value);
    out
}
