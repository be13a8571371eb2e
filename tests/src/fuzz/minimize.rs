//! Shrinking a crashing input to a small reproducer.
//!
//! Greedy chunk deletion (a simple delta debugging): first whole lines, then
//! bytes, halving the chunk size each pass; a deletion is kept when the
//! smaller input still reproduces the same finding (same signature, see
//! [`super::exec::ChildRun::signature`]). Each attempt is a child run, so
//! the search is bounded by a number of attempts and a deadline; the best
//! input found so far is returned either way.

use std::time::Instant;

/// Shrink `input` while `reproduces` holds; stops after `max_tries`
/// attempts or at `deadline`.
pub fn minimize(
    input: &[u8],
    max_tries: usize,
    deadline: Instant,
    mut reproduces: impl FnMut(&[u8]) -> bool,
) -> Vec<u8> {
    let mut best = input.to_vec();
    let mut tries = 0usize;
    let budget_left = |tries: &mut usize| {
        *tries += 1;
        *tries <= max_tries && Instant::now() < deadline
    };

    // Pass 1: lines.
    let mut lines = split_lines(&best);
    let mut chunk = lines.len() / 2;
    while chunk >= 1 && lines.len() > 1 {
        let mut i = 0;
        let mut progressed = false;
        while i < lines.len() {
            if !budget_left(&mut tries) {
                return best;
            }
            let end = (i + chunk).min(lines.len());
            let candidate: Vec<u8> = lines[..i].iter().chain(&lines[end..]).flatten().copied().collect();
            if !candidate.is_empty() && reproduces(&candidate) {
                lines.drain(i..end);
                best = candidate;
                progressed = true;
            } else {
                i += chunk;
            }
        }
        if !progressed {
            chunk /= 2;
        }
    }

    // Pass 2: bytes.
    let mut chunk = best.len() / 2;
    while chunk >= 1 {
        let mut i = 0;
        let mut progressed = false;
        while i < best.len() {
            if !budget_left(&mut tries) {
                return best;
            }
            let end = (i + chunk).min(best.len());
            let mut candidate = best[..i].to_vec();
            candidate.extend_from_slice(&best[end..]);
            if !candidate.is_empty() && reproduces(&candidate) {
                best = candidate;
                progressed = true;
            } else {
                i += chunk;
            }
        }
        if !progressed {
            chunk /= 2;
        }
    }
    best
}

fn split_lines(b: &[u8]) -> Vec<Vec<u8>> {
    b.split_inclusive(|&c| c == b'\n').map(<[u8]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn shrinks_to_the_culprit() {
        let input = b"let a = 1;\nb = 2;\n  boom  \nin a + b\n";
        let far = Instant::now() + Duration::from_secs(60);
        let out = minimize(input, 10_000, far, |c| c.windows(4).any(|w| w == b"boom"));
        assert_eq!(out, b"boom");
    }

    #[test]
    fn respects_the_try_budget() {
        let input = vec![b'x'; 1000];
        let far = Instant::now() + Duration::from_secs(60);
        let mut calls = 0;
        minimize(&input, 5, far, |_| {
            calls += 1;
            false
        });
        assert!(calls <= 5);
    }
}
