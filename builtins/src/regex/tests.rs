//! Tests for the regex engine. Every expectation in `CASES` was obtained
//! from the reference implementation, `nix-instantiate --eval --strict -E
//! 'builtins.match PAT STR'` / `'builtins.split PAT STR'` of Nix 2.8.0
//! (Debian bookworm, libstdc++ from GCC 12); errors are the first line of its
//! error output.

use super::*;

#[derive(Clone, Copy, Debug)]
enum Kind {
    M,
    S,
}
use Kind::{M, S};

/// (builtin, pattern, input, what nix-instantiate 2.8 printed)
const CASES: &[(Kind, &str, &str, &str)] = &[
    (M, "(a|ab)(c|bcd)(d*)", "abcd", "[ \"a\" \"bcd\" \"\" ]"),
    (M, "(a|ab)(c|bcd)(d*)", "abcdd", "[ \"a\" \"bcd\" \"d\" ]"),
    (M, "(.*)\\.(.*)", "foo.bar.baz", "[ \"foo.bar\" \"baz\" ]"),
    (M, ".*-([0-9].*)", "hello-world-1.2.3", "[ \"1.2.3\" ]"),
    (M, "[a-zA-Z_][a-zA-Z0-9_'-]*", "foo_bar'-1", "[ ]"),
    (M, "[a-zA-Z_][a-zA-Z0-9_'-]*", "1foo", "null"),
    (M, "(a*)*", "a", "[ \"\" ]"),
    (M, "(a*)*", "", "[ \"\" ]"),
    (M, "(a*)+", "aa", "[ \"\" ]"),
    (M, "(a|(b))*", "ba", "[ \"a\" \"b\" ]"),
    (M, "(a|b)*c", "abac", "[ \"a\" ]"),
    (M, "((a)|b)*", "ab", "[ \"b\" \"a\" ]"),
    (M, "a{2,3}", "aaaa", "null"),
    (M, "(a{2,3})*", "aaaaa", "[ \"aa\" ]"),
    (M, "(ab|a)(bc|c)?", "abc", "[ \"ab\" \"c\" ]"),
    (M, "(a|ab)(bc|c)", "abc", "[ \"a\" \"bc\" ]"),
    (M, "x*", "", "[ ]"),
    (M, "", "", "[ ]"),
    (M, "", "a", "null"),
    (M, "^abc$", "abc", "[ ]"),
    (M, "a^b", "ab", "null"),
    (M, "a$b", "ab", "null"),
    (M, "[[:alpha:]]+", "Hello", "[ ]"),
    (M, "[[:space:]]+", " \t\n", "[ ]"),
    (M, "[[:digit:][:upper:]]+", "A1B2", "[ ]"),
    (M, "[]a]+", "]a]", "[ ]"),
    (M, "[^]a]+", "bcd", "[ ]"),
    (M, "[a-]", "-", "[ ]"),
    (M, "[-a]", "-", "[ ]"),
    (M, "[.]", "x", "null"),
    (M, "[.]", ".", "[ ]"),
    (M, "\\.", ".", "[ ]"),
    (M, "\\\\", "\\", "[ ]"),
    (M, "\\(", "(", "[ ]"),
    (M, "a|b|c", "b", "[ ]"),
    (M, "(a)|(b)", "b", "[ null \"b\" ]"),
    (M, "(a)?", "", "[ null ]"),
    (M, "(a?)?", "", "[ \"\" ]"),
    (M, "()", "", "[ \"\" ]"),
    (M, "(|a)+", "a", "[ \"\" ]"),
    (M, ".", "é", "null"),
    (M, "..", "é", "[ ]"),
    (M, "[[:alpha:]]", "é", "null"),
    (M, "a{0}", "", "[ ]"),
    (M, "a{3}", "aaa", "[ ]"),
    (M, "(a+|b+)*", "aabba", "[ \"a\" ]"),
    (M, "(a|ab)*c", "ababc", "[ \"ab\" ]"),
    (M, "[a-c]{2,}", "abcab", "[ ]"),
    (M, "x(a|b)?y", "xy", "[ null ]"),
    (M, "(a*)(a*)", "aaa", "[ \"aaa\" \"\" ]"),
    (M, "(a*)(a+)", "aaa", "[ \"aa\" \"a\" ]"),
    (M, "(a|aa)*", "aaa", "[ \"a\" ]"),
    (M, "\\d", "d", "error: invalid regular expression '\\d'"),
    (M, "\\w+", "ab", "error: invalid regular expression '\\w+'"),
    (M, "\\s", " ", "error: invalid regular expression '\\s'"),
    (M, "(", "a", "error: invalid regular expression '('"),
    (M, ")", "a", "error: invalid regular expression ')'"),
    (M, "a{100000}", "a", "error: memory limit exceeded by regular expression 'a{100000}'"),
    (M, "[z-a]", "a", "error: invalid regular expression '[z-a]'"),
    (M, "[a-z-9]", "a", "error: invalid regular expression '[a-z-9]'"),
    (M, "*", "a", "error: invalid regular expression '*'"),
    (M, "a**", "aa", "[ ]"),
    (M, "[[:foo:]]", "a", "error: invalid regular expression '[[:foo:]]'"),
    (M, "a{2,1}", "aa", "error: invalid regular expression 'a{2,1}'"),
    (M, "\\]", "]", "error: invalid regular expression '\\]'"),
    (M, "\\}", "}", "error: invalid regular expression '\\}'"),
    (M, "[\\.]", "\\", "[ ]"),
    (
        M,
        "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)",
        "abcdefghij",
        "[ \"a\" \"b\" \"c\" \"d\" \"e\" \"f\" \"g\" \"h\" \"i\" \"j\" ]",
    ),
    (M, "[[=a=]]", "A", "[ ]"),
    (M, "[[.hyphen.]]", "-", "[ ]"),
    (M, "(^a|b)*", "ab", "[ \"b\" ]"),
    (M, "a{,2}", "a", "error: invalid regular expression 'a{,2}'"),
    (M, "a{1", "a", "error: invalid regular expression 'a{1'"),
    (M, "[a", "a", "error: invalid regular expression '[a'"),
    (M, "a\\", "a", "error: invalid regular expression 'a\\'"),
    (M, "a|*", "a", "error: invalid regular expression 'a|*'"),
    (M, "^*", "a", "error: invalid regular expression '^*'"),
    (M, "(a)(b)?", "a", "[ \"a\" null ]"),
    (M, "([a-z]+)([0-9]*)", "abc123", "[ \"abc\" \"123\" ]"),
    (M, "(.*)(\\.tar\\.gz|\\.zip)", "foo-1.0.tar.gz", "[ \"foo-1.0\" \".tar.gz\" ]"),
    (M, "([^/]*)/(.*)", "a/b/c", "[ \"a\" \"b/c\" ]"),
    (M, "(a|b)*(b|c)", "abbc", "[ \"b\" \"c\" ]"),
    (M, "(a?)*b", "aab", "[ \"\" ]"),
    (M, "[[:upper:][:digit:]_]+", "FOO_1", "[ ]"),
    (M, "}", "}", "[ ]"),
    (M, "]", "]", "[ ]"),
    (M, "a{1}{2}", "aa", "[ ]"),
    (S, "", "abc", "[ \"\" [ ] \"a\" [ ] \"b\" [ ] \"c\" [ ] \"\" ]"),
    (S, "a*", "baaac", "[ \"\" [ ] \"b\" [ ] \"\" [ ] \"c\" [ ] \"\" ]"),
    (S, "a*(ab)*", "aab", "[ \"\" [ null ] \"\" [ null ] \"b\" [ null ] \"\" ]"),
    (S, "(a)b", "abc", "[ \"\" [ \"a\" ] \"c\" ]"),
    (S, "([ac])", "abc", "[ \"\" [ \"a\" ] \"b\" [ \"c\" ] \"\" ]"),
    (S, "(a)|(c)", "abc", "[ \"\" [ \"a\" null ] \"b\" [ null \"c\" ] \"\" ]"),
    (S, "([[:upper:]]+)", " FOO ", "[ \" \" [ \"FOO\" ] \" \" ]"),
    (S, ",", "a,b,,c", "[ \"a\" [ ] \"b\" [ ] \"\" [ ] \"c\" ]"),
    (S, "x", "", "[ \"\" ]"),
    (S, "^a", "aaa", "[ \"\" [ ] \"aa\" ]"),
    (S, "a$", "aaa", "[ \"aa\" [ ] \"\" ]"),
    (S, "(a|ab)(c|bcd)(d*)", "xabcdy", "[ \"x\" [ \"a\" \"bcd\" \"\" ] \"y\" ]"),
    (S, "b*", "abc", "[ \"\" [ ] \"a\" [ ] \"\" [ ] \"c\" [ ] \"\" ]"),
    (S, "([0-9]+)|([a-z]+)", "ab12cd", "[ \"\" [ null \"ab\" ] \"\" [ \"12\" null ] \"\" [ null \"cd\" ] \"\" ]"),
    (S, "\\.", "1.2.3", "[ \"1\" [ ] \"2\" [ ] \"3\" ]"),
    (S, "$", "ab", "[ \"ab\" [ ] \"\" ]"),
    (S, "^", "ab", "[ \"\" [ ] \"ab\" ]"),
    (S, "(a|ab)+", "abab", "[ \"\" [ \"ab\" ] \"\" ]"),
    (S, "[^[:alnum:]+._?=-]+", "foo bar/baz", "[ \"foo\" [ ] \"bar\" [ ] \"baz\" ]"),
    (S, "(x*)", "ab", "[ \"\" [ \"\" ] \"a\" [ \"\" ] \"b\" [ \"\" ] \"\" ]"),
    (S, "(a*)*", "aab", "[ \"\" [ \"\" ] \"\" [ \"\" ] \"b\" [ \"\" ] \"\" ]"),
    (S, "a|ab", "abab", "[ \"\" [ ] \"\" [ ] \"\" ]"),
    (S, "(a)(b)?", "aab", "[ \"\" [ \"a\" null ] \"\" [ \"a\" \"b\" ] \"\" ]"),
    (S, "[[:space:]]+", "a b\tc", "[ \"a\" [ ] \"b\" [ ] \"c\" ]"),
];

/// Renders a byte string the way `nix-instantiate --eval` prints it.
fn nix_str(s: &[u8]) -> String {
    let mut out = String::from("\"");
    let text = String::from_utf8_lossy(s);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn nix_list(items: Vec<String>) -> String {
    if items.is_empty() {
        "[ ]".to_string()
    } else {
        format!("[ {} ]", items.join(" "))
    }
}

fn render_groups(s: &[u8], groups: &[Option<(usize, usize)>]) -> String {
    nix_list(
        groups
            .iter()
            .map(|g| match g {
                None => "null".to_string(),
                Some((a, b)) => nix_str(&s[*a..*b]),
            })
            .collect(),
    )
}

/// Evaluates one case like the builtin would and renders the result.
fn eval(kind: Kind, pat: &str, input: &str) -> String {
    let re = match Regex::new(pat.as_bytes()) {
        Ok(re) => re,
        Err(e) => return format!("error: {}", e),
    };
    let s = input.as_bytes();
    match kind {
        M => match re.match_full(s) {
            None => "null".to_string(),
            Some(g) => {
                assert_eq!(g.len(), re.group_count());
                render_groups(s, &g)
            }
        },
        S => {
            let mut items = Vec::new();
            for item in re.split(s) {
                items.push(match item {
                    SplitItem::Text(t) => nix_str(t),
                    SplitItem::Groups(gs) => nix_list(
                        gs.iter()
                            .map(|g| match g {
                                None => "null".to_string(),
                                Some(t) => nix_str(t),
                            })
                            .collect(),
                    ),
                });
            }
            nix_list(items)
        }
    }
}

#[test]
fn oracle_table() {
    assert!(CASES.len() >= 60);
    let mut failures = Vec::new();
    for &(kind, pat, input, expected) in CASES {
        let got = eval(kind, pat, input);
        if got != expected {
            failures.push(format!("{:?} {:?} {:?}: expected {} got {}", kind, pat, input, expected, got));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn oracle_table_with_memo() {
    // The same expectations must hold when the memo is used from the start.
    set_memo_always(true);
    let mut failures = Vec::new();
    for &(kind, pat, input, expected) in CASES {
        let got = eval(kind, pat, input);
        if got != expected {
            failures.push(format!("{:?} {:?} {:?}: expected {} got {}", kind, pat, input, expected, got));
        }
    }
    set_memo_always(false);
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn search_api() {
    let re = Regex::new(b"(a|ab)(c|bcd)(d*)").unwrap();
    assert_eq!(re.group_count(), 3);
    let s = b"xxabcdy";
    assert_eq!(re.search(s, 0), Some(vec![Some((2, 6)), Some((2, 3)), Some((3, 6)), Some((6, 6))]));
    assert_eq!(re.search(s, 3), None);
    // `^` only matches at the very beginning of the input.
    let re = Regex::new(b"^a").unwrap();
    assert_eq!(re.search(b"aa", 0), Some(vec![Some((0, 1))]));
    assert_eq!(re.search(b"aa", 1), None);
    // `$` matches at the end of the whole input.
    let re = Regex::new(b"a$").unwrap();
    assert_eq!(re.search(b"aba", 1), Some(vec![Some((2, 3))]));
    assert_eq!(re.search(b"aba", 4), None);
    // Unmatched groups are None.
    let re = Regex::new(b"(a)|(b)").unwrap();
    assert_eq!(re.search(b"b", 0), Some(vec![Some((0, 1)), None, Some((0, 1))]));
}

#[test]
fn error_messages() {
    let e = Regex::new(b"(").unwrap_err();
    assert_eq!(e.to_string(), "invalid regular expression '('");
    assert!(!e.is_space());
    let e = Regex::new(b"a{100000}").unwrap_err();
    assert_eq!(e.to_string(), "memory limit exceeded by regular expression 'a{100000}'");
    assert!(e.is_space());
    assert!(Regex::new(b"a\0").is_err());
}

#[test]
fn long_inputs_do_not_overflow() {
    let big = vec![b'x'; 1 << 20];
    let re = Regex::new(b".*").unwrap();
    assert_eq!(re.match_full(&big), Some(vec![]));
    let re = Regex::new(b"(.*)").unwrap();
    assert_eq!(re.match_full(&big), Some(vec![Some((0, big.len()))]));
    let re = Regex::new(b"(x|y)*").unwrap();
    assert_eq!(re.match_full(&big), Some(vec![Some((big.len() - 1, big.len()))]));
    let re = Regex::new(b"(.*)y").unwrap();
    assert_eq!(re.match_full(&big), None);
    let re = Regex::new(b"x*y").unwrap();
    assert!(re.split_matches(&big).is_empty());
    let mut dotted = big.clone();
    for i in (0..dotted.len()).step_by(1000) {
        dotted[i] = b'.';
    }
    let re = Regex::new(b"(.*)\\.(.*)").unwrap();
    let m = re.match_full(&dotted).unwrap();
    assert_eq!(m[0], Some((0, 1048000)));
    let re = Regex::new(b"\\.").unwrap();
    assert_eq!(re.split_matches(&dotted).len(), 1049);
}

#[test]
fn pathological_patterns_finish() {
    // Exponential for a plain backtracker (and for libstdc++ itself).
    let s = vec![b'a'; 200];
    for pat in [&b"(a*)*b"[..], b"(a|a)*b", b"(a|aa)*b", b"((a*)*|b)*c", b"(a?){30}a{30}b", b"(.*)*x"] {
        let re = Regex::new(pat).unwrap();
        assert_eq!(re.match_full(&s), None, "{}", String::from_utf8_lossy(pat));
        assert!(re.split_matches(&s).iter().all(|m| m[0].is_some()));
    }
}

/// Tiny deterministic PRNG (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_patterns_never_panic() {
    let alphabet: &[u8] = b"ab.()[]^$*+?{}|\\-,:=019";
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let len = rng.below(12);
        let pat: Vec<u8> = (0..len)
            .map(|_| if rng.below(8) == 0 { rng.below(256) as u8 } else { alphabet[rng.below(alphabet.len())] })
            .collect();
        if let Ok(re) = Regex::new(&pat) {
            let ilen = rng.below(10);
            let input: Vec<u8> = (0..ilen).map(|_| b"ab-]\0\xff"[rng.below(6)]).collect();
            let _ = re.match_full(&input);
            let _ = re.split_matches(&input);
            let _ = re.search(&input, ilen);
            let _ = re.search(&input, ilen + 1);
        }
    }
}

#[test]
fn deep_nesting_does_not_overflow() {
    let pat = [vec![b'('; 20_000], vec![b'a'], vec![b')'; 20_000]].concat();
    let re = Regex::new(&pat).unwrap();
    assert_eq!(re.group_count(), 20_000);
    assert_eq!(re.match_full(b"a").map(|g| g.len()), Some(20_000));
    // Too many states for libstdc++'s limit.
    let pat = [vec![b'('; 60_000], vec![b')'; 60_000]].concat();
    assert!(Regex::new(&pat).unwrap_err().is_space());
}
