//! The cache file on its own: answers round-trip, a corrupted row or file is never an
//! answer, two connections write one file at once.

use super::*;

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rnix-eval-cache-unit-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn answer(s: &str) -> Answer {
    Answer { output: s.as_bytes().to_vec(), paths: drv_paths_in(s.as_bytes()) }
}

#[test]
fn answers_round_trip() {
    let d = dir("roundtrip");
    let c = EvalCache::open_in(&d, "fp").unwrap();
    assert_eq!(c.get("k"), None);
    let a = answer("/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv\n");
    c.put("k", &a);
    assert_eq!(a.paths, ["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv"]);
    drop(c);
    let c = EvalCache::open_in(&d, "fp").unwrap();
    assert_eq!(c.get("k"), Some(a));
    assert_eq!(c.get("other"), None);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_corrupt_row_is_no_answer() {
    let d = dir("row");
    let c = EvalCache::open_in(&d, "fp").unwrap();
    c.put("k", &answer("right"));
    c.conn.execute("UPDATE answers SET output = ?1", params![b"wrong".to_vec()]).unwrap();
    assert_eq!(c.get("k"), None);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_corrupt_or_truncated_file_is_rebuilt() {
    let d = dir("file");
    let c = EvalCache::open_in(&d, "fp").unwrap();
    for i in 0..200 {
        c.put(&format!("k{i}"), &answer(&"x".repeat(1000)));
    }
    let file = c.file().to_owned();
    drop(c);
    let len = std::fs::metadata(&file).unwrap().len();
    for damage in 0..3 {
        match damage {
            0 => std::fs::write(&file, b"not a database at all").unwrap(),
            1 => {
                let bytes = std::fs::read(&file).unwrap_or_default();
                std::fs::write(&file, &bytes[..bytes.len().min(len as usize / 3)]).unwrap();
            }
            _ => {
                let mut bytes = std::fs::read(&file).unwrap_or_default();
                for b in bytes.iter_mut().skip(100).step_by(7) {
                    *b ^= 0x5a;
                }
                std::fs::write(&file, &bytes).unwrap();
            }
        }
        let c = EvalCache::open_in(&d, "fp").expect("rebuilt");
        for i in 0..200 {
            if let Some(a) = c.get(&format!("k{i}")) {
                assert_eq!(a, answer(&"x".repeat(1000)), "damage {damage}: a wrong answer");
            }
        }
        c.put("k0", &answer("fresh"));
        assert_eq!(c.get("k0"), Some(answer("fresh")));
        for i in 0..200 {
            c.put(&format!("k{i}"), &answer(&"x".repeat(1000)));
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn two_writers_at_once() {
    let d = dir("concurrent");
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let d = d.clone();
            std::thread::spawn(move || {
                let c = EvalCache::open_in(&d, "fp").unwrap();
                for i in 0..100 {
                    c.put(&format!("t{t}-{i}"), &answer(&format!("{t} {i}")));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let c = EvalCache::open_in(&d, "fp").unwrap();
    for t in 0..2 {
        for i in 0..100 {
            assert_eq!(c.get(&format!("t{t}-{i}")), Some(answer(&format!("{t} {i}"))));
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn drv_paths_are_found_in_text() {
    let t = b"{\"a\":\"/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv\",\"b\":\"/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-y\"}";
    assert_eq!(drv_paths_in(t), ["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv"]);
    assert!(drv_paths_in(b"/nix/store/x.drv/sub").is_empty());
}
