//! JSON string literals, written once for every JSON the workspace prints by hand.
//!
//! The reference has two writers whose escapes differ in two characters, and each output
//! must match its own: CppNix 2.8's `libutil/json.cc` (structured-attrs `__json` in `.drv`
//! files, and our `--error-format json`) escapes `" \ \n \r \t` and writes every other
//! control character as `\u00xx`; nlohmann::json (`builtins.toJSON` in Nix 2.36, lock files
//! and registries) also writes `\b` and `\f`. Everything else, UTF-8 included, is written
//! raw, so these work on bytes: a Nix string need not be valid UTF-8.

/// Which writer's escapes to produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonEscapes {
    /// CppNix 2.8's `libutil/json.cc`: `\b` and `\f` as `\u0008` and `\u000c`.
    Libutil,
    /// nlohmann::json: `\b` and `\f` written short.
    Nlohmann,
}

/// Appends `s` as a quoted JSON string literal with the escapes of `style`.
pub fn write_json_string(out: &mut Vec<u8>, s: &[u8], style: JsonEscapes) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 if style == JsonEscapes::Nlohmann => out.extend_from_slice(b"\\b"),
            0x0c if style == JsonEscapes::Nlohmann => out.extend_from_slice(b"\\f"),
            c if c < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 0xf)]);
            }
            c => out.push(c),
        }
    }
    out.push(b'"');
}

/// [`write_json_string`] into text: `s` is valid UTF-8, and escaping only replaces ASCII
/// bytes, so the result is too.
pub fn push_json_str(out: &mut String, s: &str, style: JsonEscapes) {
    let mut bytes = std::mem::take(out).into_bytes();
    write_json_string(&mut bytes, s.as_bytes(), style);
    *out = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(s: &[u8]) -> (String, String) {
        let mut a = Vec::new();
        let mut b = Vec::new();
        write_json_string(&mut a, s, JsonEscapes::Libutil);
        write_json_string(&mut b, s, JsonEscapes::Nlohmann);
        (String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap())
    }

    #[test]
    fn escapes_as_each_reference_writer() {
        let (l, n) = both(b"a\"b\\c\nd\re\tf\x08g\x0ch\x01i\x1fj\x7f\xc3\xa9");
        assert_eq!(l, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0008g\\u000ch\\u0001i\\u001fj\x7f\u{e9}\"");
        assert_eq!(n, "\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001i\\u001fj\x7f\u{e9}\"");
    }

    #[test]
    fn text_form_appends() {
        let mut s = String::from("x=");
        push_json_str(&mut s, "é\u{1}", JsonEscapes::Libutil);
        assert_eq!(s, "x=\"é\\u0001\"");
    }
}
