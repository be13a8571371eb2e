//! What a fetched input exposes to Nix code: `outPath`, `narHash`, `rev`, …
//!
//! This is 2.8's `emitTreeAttrs` as plain data, so the evaluator can wrap it in
//! Nix values without knowing fetcher rules. Which attributes appear is decided
//! by the locked input alone: `submodules` only for git, `rev`/`shortRev` and
//! `revCount` only when the lock has them (a dirty tree, a `path:` or a tarball
//! has none), `lastModified`/`lastModifiedDate` only when the lock records a
//! time (tarballs do not in 2.8). `dirtyRev`/`dirtyShortRev` do not exist in
//! 2.8; they are produced only on request ([`SourceInfoOptions::dirty_rev`]).

use crate::error::Result;
use crate::input::Input;

/// One attribute value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceValue {
    /// A string; for `outPath` it carries the store path as context.
    Str(String),
    /// An integer.
    Int(u64),
    /// A Boolean.
    Bool(bool),
}

/// How to build the attribute set.
#[derive(Clone, Debug, Default)]
pub struct SourceInfoOptions {
    /// `builtins.fetchGit` compatibility: no rev → all-zero `rev`, `revCount = 0`.
    pub empty_rev_fallback: bool,
    /// Hide `rev`/`shortRev`/`revCount` (root flake whose lock changed but was not written).
    pub force_dirty: bool,
    /// Newer-Nix extension: the dirty tree's HEAD commit (`dirtyRev = "<rev>-dirty"`).
    pub dirty_rev: Option<String>,
}

/// The attributes of a fetched tree, sorted by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceInfo {
    /// `(name, value)` pairs in name order.
    pub attrs: Vec<(String, SourceValue)>,
}

impl SourceInfo {
    /// The attributes for a locked input whose tree is at `out_path`.
    pub fn new(locked: &Input, out_path: &str, opts: &SourceInfoOptions) -> Result<SourceInfo> {
        let mut a: Vec<(String, SourceValue)> = vec![];
        let mut put = |k: &str, v: SourceValue| a.push((k.to_owned(), v));
        put("outPath", SourceValue::Str(out_path.to_owned()));
        if let Some(h) = locked.get_nar_hash()? {
            put("narHash", SourceValue::Str(h.to_sri()));
        }
        if locked.input_type() == "git" {
            let sub = crate::attrs::maybe_get_bool(locked.attrs(), "submodules")?.unwrap_or(false);
            put("submodules", SourceValue::Bool(sub));
        }
        if !opts.force_dirty {
            match locked.get_rev()? {
                Some(rev) => {
                    put("shortRev", SourceValue::Str(rev[..7].to_owned()));
                    put("rev", SourceValue::Str(rev));
                }
                None if opts.empty_rev_fallback => {
                    put("rev", SourceValue::Str("0".repeat(40)));
                    put("shortRev", SourceValue::Str("0".repeat(7)));
                }
                None => {}
            }
            match locked.get_rev_count()? {
                Some(n) => put("revCount", SourceValue::Int(n)),
                None if opts.empty_rev_fallback => put("revCount", SourceValue::Int(0)),
                None => {}
            }
        }
        if let Some(t) = locked.get_last_modified()? {
            put("lastModified", SourceValue::Int(t));
            put("lastModifiedDate", SourceValue::Str(last_modified_date(t)));
        }
        if let Some(rev) = &opts.dirty_rev {
            put("dirtyRev", SourceValue::Str(format!("{rev}-dirty")));
            put("dirtyShortRev", SourceValue::Str(format!("{}-dirty", &rev[..rev.len().min(7)])));
        }
        a.sort_by(|x, y| x.0.cmp(&y.0));
        Ok(SourceInfo { attrs: a })
    }

    /// One attribute by name.
    pub fn get(&self, name: &str) -> Option<&SourceValue> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// UTC `%Y%m%d%H%M%S` of a Unix time (`lastModifiedDate`).
pub fn last_modified_date(t: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(t);
    format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")
}

/// UTC `%Y-%m-%d` of a Unix time (lock-file diffs).
pub fn format_date(t: u64) -> String {
    let (y, mo, d, ..) = civil(t);
    format!("{y:04}-{mo:02}-{d:02}")
}

/// Unix seconds → (year, month, day, hour, minute, second), proleptic Gregorian, UTC.
fn civil(t: u64) -> (i64, u32, u32, u64, u64, u64) {
    let days = (t / 86400) as i64;
    let rem = t % 86400;
    // Howard Hinnant's days-from-civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::Attrs;

    #[test]
    fn dates() {
        assert_eq!(last_modified_date(0), "19700101000000");
        assert_eq!(last_modified_date(1704067200), "20240101000000");
        assert_eq!(last_modified_date(1609459200), "20210101000000");
        assert_eq!(last_modified_date(951_868_799), "20000229235959");
        assert_eq!(format_date(1704067200), "2024-01-01");
    }

    #[test]
    fn attribute_sets_per_type() {
        let mut a = Attrs::new();
        a.insert("type".into(), "git".into());
        a.insert("url".into(), "file:///tmp/fx/fleet".into());
        a.insert("narHash".into(), "sha256-vrjy18kOQPQTP1pk6JCVkFn839G0WTQn/Y9Ik3PWEaU=".into());
        a.insert("lastModified".into(), 1704067200u64.into());
        let dirty = Input::from_attrs(a.clone()).unwrap();
        let si = SourceInfo::new(&dirty, "/nix/store/x-source", &Default::default()).unwrap();
        let names: Vec<&str> = si.attrs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["lastModified", "lastModifiedDate", "narHash", "outPath", "submodules"]);
        a.insert("rev".into(), "2f06ee725da0b7e9086c053f36d1ca914c1d4654".into());
        a.insert("revCount".into(), 1u64.into());
        a.insert("ref".into(), "main".into());
        let clean = Input::from_attrs(a).unwrap();
        let si = SourceInfo::new(&clean, "/nix/store/x-source", &Default::default()).unwrap();
        let names: Vec<&str> = si.attrs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["lastModified", "lastModifiedDate", "narHash", "outPath", "rev", "revCount", "shortRev", "submodules"]
        );
        assert_eq!(si.get("shortRev"), Some(&SourceValue::Str("2f06ee7".into())));
        let forced =
            SourceInfo::new(&clean, "/x", &SourceInfoOptions { force_dirty: true, ..Default::default() }).unwrap();
        assert!(forced.get("rev").is_none() && forced.get("revCount").is_none());
    }
}
