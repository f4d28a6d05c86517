//! The canonical encoding of an event and its SHA-256.
//!
//! The hashed text is RFC 8785 (JCS) JSON of an object holding every field of
//! the event except `hash` and `sig`, keys in sorted order, no whitespace:
//!
//! ```text
//! {"action":S,"actor":S,"delta":[[S,N],...],"model":S,"multiple":N,
//!  "nonce":S,"payload":S,"prev":S,"roles":[S,...],"root":S,"seq":N,
//!  "signer":S,"stream":S,"ts":N,"v":2}
//! ```
//!
//! An event of a net with keyed places may also carry `"args":[[S,S],...]`
//! (after `actor`) and `"keys":[[S,S,N],...]` (after `delta`); each is
//! written only when it is not empty, so events without them hash as they
//! always have.
//!
//! (one line, no spaces). `S` is a JSON string escaped as `JSON.stringify`
//! does (only `"`, `\` and control characters are escaped; `\b \t \n \f \r`
//! short forms, other controls as `\u00xx` lowercase), `N` an integer in
//! decimal without sign, exponent or leading zeros. The payload is hashed as a
//! string holding its JSON text, exactly as stored. The hash is the lowercase
//! hex SHA-256 of the UTF-8 bytes. docs/chain-format.md has test vectors.
//!
//! The encoder writes into a caller-owned buffer so that verification can hash
//! millions of events without allocating.

use sha2::{Digest, Sha256};

use super::{ChainError, Event};
use crate::model::MAX_TOKENS;

/// Appends the canonical encoding of `event` (every field but `hash` and
/// `sig`) to `out`.
pub fn encode(event: &Event, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"action\":");
    string(&event.action, out);
    out.extend_from_slice(b",\"actor\":");
    string(&event.actor, out);
    if !event.args.is_empty() {
        out.extend_from_slice(b",\"args\":[");
        for (i, (name, value)) in event.args.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'[');
            string(name, out);
            out.push(b',');
            string(value, out);
            out.push(b']');
        }
        out.push(b']');
    }
    out.extend_from_slice(b",\"delta\":[");
    for (i, (place, n)) in event.delta.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        string(place, out);
        out.push(b',');
        number(*n, out);
        out.push(b']');
    }
    out.push(b']');
    if !event.keys.is_empty() {
        out.extend_from_slice(b",\"keys\":[");
        for (i, (place, key, n)) in event.keys.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'[');
            string(place, out);
            out.push(b',');
            string(key, out);
            out.push(b',');
            number(*n, out);
            out.push(b']');
        }
        out.push(b']');
    }
    out.extend_from_slice(b",\"model\":");
    string(&event.model, out);
    out.extend_from_slice(b",\"multiple\":");
    number(event.multiple, out);
    out.extend_from_slice(b",\"nonce\":");
    string(&event.nonce, out);
    out.extend_from_slice(b",\"payload\":");
    string(&event.payload, out);
    out.extend_from_slice(b",\"prev\":");
    string(&event.prev, out);
    out.extend_from_slice(b",\"roles\":");
    strings(&event.roles, out);
    out.extend_from_slice(b",\"root\":");
    string(&event.root, out);
    out.extend_from_slice(b",\"seq\":");
    number(event.seq, out);
    out.extend_from_slice(b",\"signer\":");
    string(&event.signer, out);
    out.extend_from_slice(b",\"stream\":");
    string(&event.stream, out);
    out.extend_from_slice(b",\"ts\":");
    number(event.ts, out);
    out.extend_from_slice(b",\"v\":");
    number(u64::from(event.v), out);
    out.push(b'}');
}

/// The canonical encoding as a string (for documentation and tests).
pub fn canonical_text(event: &Event) -> String {
    let mut out = Vec::new();
    encode(event, &mut out);
    // `encode` writes only UTF-8 (ASCII syntax around valid &str contents).
    String::from_utf8(out).unwrap_or_default()
}

/// SHA-256 of the canonical encoding, using `buf` as scratch space.
pub fn digest_with(event: &Event, buf: &mut Vec<u8>) -> [u8; 32] {
    buf.clear();
    encode(event, buf);
    Sha256::digest(&buf[..]).into()
}

/// The event's hash as lowercase hex.
pub fn event_hash(event: &Event) -> String {
    hex::encode(digest_with(event, &mut Vec::with_capacity(256)))
}

/// `[S,...]`: a JSON array of strings.
pub(crate) fn strings(items: &[String], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(item, out);
    }
    out.push(b']');
}

/// `[N,...]`: a JSON array of integers.
pub(crate) fn numbers(items: &[u64], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, &n) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        number(n, out);
    }
    out.push(b']');
}

pub(crate) fn number(mut n: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

pub(crate) fn string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The seq after `seq`: checked, and at most 2^53 - 1 so it stays exact in JSON.
pub(crate) fn next_seq(seq: u64) -> Result<u64, ChainError> {
    seq.checked_add(1)
        .filter(|&s| s <= MAX_TOKENS)
        .ok_or_else(|| ChainError::InvalidInput {
            field: "seq".into(),
            message: "stream is full (2^53-1 events)".into(),
        })
}

/// Sets `event.hash` from its other fields (`buf` is reused between events).
pub(crate) fn seal(event: &mut Event, buf: &mut Vec<u8>) {
    event.hash = hex::encode(digest_with(event, buf));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_like_serde_json_and_json_stringify() {
        for s in [
            "plain",
            "q\"b\\s",
            "\u{0}\u{1}\u{8}\u{c}\u{1f}\n\r\t",
            "é✓😀",
            "\u{7f}</script>",
        ] {
            let mut out = Vec::new();
            string(s, &mut out);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }

    #[test]
    fn numbers_are_plain_decimal() {
        for n in [0u64, 7, 10, 1234567890, u64::MAX] {
            let mut out = Vec::new();
            number(n, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }

    /// Property: the hashed text is exactly what an independent RFC 8785
    /// implementation writes for the event's fields (all but `hash`), over
    /// strings mixing escapes, U+E000..U+FFFF and characters above U+FFFF,
    /// and integers up to 2^53 - 1.
    mod jcs {
        use proptest::prelude::*;

        use super::super::Event;
        use super::canonical_text;
        use crate::model::MAX_TOKENS;

        fn text() -> impl Strategy<Value = String> {
            let ch = prop_oneof![
                proptest::char::range('a', 'c'),
                Just('"'),
                Just('\\'),
                proptest::char::range('\u{0}', '\u{1f}'),
                Just('\u{7f}'),
                proptest::char::range('\u{E000}', '\u{FFFF}'),
                proptest::char::range('\u{10000}', '\u{10FFFF}'),
            ];
            proptest::collection::vec(ch, 0..6).prop_map(String::from_iter)
        }

        fn int() -> impl Strategy<Value = u64> {
            prop_oneof![0..=10u64, 0..=MAX_TOKENS, Just(MAX_TOKENS)]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]
            #[test]
            fn hashed_text_is_rfc_8785(
                strings in proptest::collection::vec(text(), 10),
                roles in proptest::collection::vec(text(), 0..3),
                ints in proptest::collection::vec(int(), 3),
                delta in proptest::collection::vec((text(), int()), 0..4),
                keys in proptest::collection::vec((text(), text(), int()), 0..3),
            ) {
                let event = Event {
                    v: 2,
                    stream: strings[0].clone(),
                    seq: ints[0],
                    model: strings[1].clone(),
                    action: strings[2].clone(),
                    multiple: ints[1],
                    actor: strings[3].clone(),
                    args: keys.iter().map(|(a, b, _)| (a.clone(), b.clone())).collect(),
                    roles,
                    payload: strings[4].clone(),
                    ts: ints[2],
                    nonce: strings[6].clone(),
                    prev: strings[5].clone(),
                    delta,
                    keys,
                    root: strings[7].clone(),
                    signer: strings[8].clone(),
                    hash: String::new(),
                    sig: strings[9].clone(),
                };
                let mut value = serde_json::to_value(&event).unwrap();
                value.as_object_mut().unwrap().remove("hash");
                value.as_object_mut().unwrap().remove("sig");
                let theirs = serde_json_canonicalizer::to_string(&value).unwrap();
                prop_assert_eq!(canonical_text(&event), theirs);
            }
        }
    }
}
