//! Nix's base-32 encoding.
//!
//! Store-path hash parts and `nix-hash --base32` output use it. It is not RFC
//! 4648: the alphabet drops `e o u t`, and the bytes are read as one
//! little-endian integer whose *highest* 5-bit group is printed first. So the
//! last character holds the low bits of byte 0. A standard base-32 library
//! gives different strings.

/// The 32 digits, in value order.
pub const ALPHABET: &[u8; 32] = b"0123456789abcdfghijklmnpqrsvwxyz";

/// Number of characters needed for `byte_len` bytes: ⌊(8n − 1)/5⌋ + 1, or 0 for none.
pub fn encoded_len(byte_len: usize) -> usize {
    if byte_len == 0 {
        0
    } else {
        (byte_len * 8 - 1) / 5 + 1
    }
}

/// Number of bytes that `char_len` characters decode to, if any byte length
/// encodes to exactly that many characters.
pub fn decoded_len(char_len: usize) -> Option<usize> {
    let bytes = char_len * 5 / 8;
    (encoded_len(bytes) == char_len).then_some(bytes)
}

/// Encodes `bytes` the way Nix's `printHash32` does.
pub fn encode(bytes: &[u8]) -> String {
    let len = encoded_len(bytes.len());
    let mut out = String::with_capacity(len);
    for n in (0..len).rev() {
        let b = n * 5;
        let (i, j) = (b / 8, b % 8);
        let low = bytes[i] >> j;
        let high = match bytes.get(i + 1) {
            Some(next) if j > 0 => next << (8 - j),
            _ => 0,
        };
        out.push(ALPHABET[((low | high) & 0x1f) as usize] as char);
    }
    out
}

/// The value of one digit, or `None` if `c` is not in [`ALPHABET`].
fn digit_value(c: u8) -> Option<u8> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u8)
}

/// Decodes a string produced by [`encode`].
///
/// Fails (returning `None`) on a character outside the alphabet, on a length
/// that no byte string encodes to, or when the first digit carries bits past
/// the last byte. The caller words the error, as its context differs.
pub fn decode(s: &str) -> Option<Vec<u8>> {
    let byte_len = decoded_len(s.len())?;
    let mut out = vec![0u8; byte_len];
    for (n, &c) in s.as_bytes().iter().rev().enumerate() {
        let digit = digit_value(c)?;
        let b = n * 5;
        let (i, j) = (b / 8, b % 8);
        out[i] |= digit << j;
        let spill = if j == 0 { 0 } else { digit >> (8 - j) };
        if i + 1 < byte_len {
            out[i + 1] |= spill;
        } else if spill != 0 {
            return None;
        }
    }
    Some(out)
}

/// True if every character of `s` is a Nix base-32 digit.
pub fn is_valid_str(s: &str) -> bool {
    s.bytes().all(|c| digit_value(c).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Provenance: `nix --extra-experimental-features nix-command hash to-base32 --type sha1
    // 0100000000000000000000000000000000000000` and `... 0000000000000000000000000000000000000080`.
    #[test]
    fn bit_order_matches_nix() {
        let mut one = [0u8; 20];
        one[0] = 1;
        assert_eq!(encode(&one), "00000000000000000000000000000001");
        let mut top = [0u8; 20];
        top[19] = 0x80;
        assert_eq!(encode(&top), "h0000000000000000000000000000000");
        assert_eq!(decode(&encode(&one)).unwrap(), one);
        assert_eq!(decode(&encode(&top)).unwrap(), top);
    }

    // Provenance: `printf 'hello\n' > h.txt; nix-hash --flat --type sha256 h.txt` and
    // `nix-hash --flat --base32 --type sha256 h.txt`.
    #[test]
    fn sha256_of_hello() {
        let hex = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
        let bytes: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect();
        let s = "00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq";
        assert_eq!(encode(&bytes), s);
        assert_eq!(decode(s).unwrap(), bytes);
    }

    #[test]
    fn lengths() {
        assert_eq!(encoded_len(16), 26);
        assert_eq!(encoded_len(20), 32);
        assert_eq!(encoded_len(32), 52);
        assert_eq!(encoded_len(64), 103);
        assert_eq!(decoded_len(52), Some(32));
        assert_eq!(decoded_len(51), None);
        assert_eq!(encode(&[]), "");
    }

    // Provenance: `outputHash = "1ayh…3ay1eg"` (contains `e`) and `"zzyh…"` (overflows)
    // both give `invalid base-32 hash` in `nix-instantiate --eval`.
    #[test]
    fn rejects_bad_digits_and_overflow() {
        assert!(decode("1ayhp9v4m4rdhjmnl2bq3cibrbqqkgjbl3s7yk2nhlh8vj3ay1eg").is_none());
        assert!(decode("zzyhp9v4m4rdhjmnl2bq3cibrbqqkgjbl3s7yk2nhlh8vj3ay16g").is_none());
        assert!(decode("1ayhp9v4m4rdhjmnl2bq3cibrbqqkgjbl3s7yk2nhlh8vj3ay16g").is_some());
    }
}
