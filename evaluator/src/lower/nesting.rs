//! The reference's nesting limit: its LALR parser stack overflows ("memory exhausted") at about
//! 5000 nested brackets. Checked on the raw text before either front end runs, so that both
//! agree and rowan never sees quadratic input.

/// Maximum bracket nesting the reference's parser accepts.
const MAX_NESTING: usize = 4998;

/// The offset where bracket nesting (`( [ { ${`) first exceeds [`MAX_NESTING`], skipping
/// strings and comments.
pub(super) fn too_deep(b: &[u8]) -> Option<u32> {
    // Cheap bound first (this loop vectorizes): so deep a nesting needs that many brackets.
    if b.len() <= MAX_NESTING || b.iter().filter(|&&c| matches!(c, b'(' | b'[' | b'{')).count() <= MAX_NESTING {
        return None;
    }
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'\'' if b.get(i + 1) == Some(&b'\'') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'\'' && b[i + 1] == b'\'' && b.get(i + 2) != Some(&b'\'')) {
                    i += 1;
                }
                i += 1;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i as u32);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}
