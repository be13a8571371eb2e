//! Tarball inputs and the git forges (`github`, `gitlab`, `sourcehut`) over HTTP(S).
//!
//! A download is unpacked, its single top-level entry is the tree (the
//! `owner-repo-<rev>/` directory of a forge archive is stripped this way), and
//! the tree is kept in a content-addressed cache, `<cache>/rnix/tarballs/<nix32
//! narHash>`, so a locked input is found again without the network. The top
//! directory's mtime is 2.8's `lastModified` for forges; it is restored after
//! the tree is moved into the cache. Forge API bases can be redirected for
//! tests and mirrors: `RNIX_GITHUB_API` (default `https://api.<host>`),
//! `RNIX_GITLAB_URL` (default `https://<host>`), `RNIX_SOURCEHUT_URL` (default
//! `https://<host>`). Downloads use `ureq` (rustls); the progress bar is drawn
//! only when stderr is a terminal. Gzip and plain tar archives are supported.

use std::fs::{self, File};
use std::io::{self, IsTerminal, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use nix_store_core::{FileIngestionMethod, Hash, Store};

use super::{FetchOptions, Tree};
use crate::attrs::{get_str, maybe_get_str};
use crate::error::{bail, Error, Result};
use crate::input::{parse_rev, Input};

pub(crate) fn fetch(input: &Input, store: &dyn Store, opts: &FetchOptions) -> Result<Tree> {
    let expected = input.get_nar_hash()?;
    let name = input.get_name().to_owned();
    if input.input_type() == "tarball" {
        let url = get_str(input.attrs(), "url")?;
        let (store_path, nar_hash, _) = download_tarball(url, &name, expected.as_ref(), &[], store, opts)?;
        return Ok(Tree { input: input.clone(), store_path, nar_hash, warnings: vec![], dirty_rev: None });
    }
    let forge = Forge::of(input)?;
    let mut locked = input.clone();
    let rev = match input.get_rev()? {
        Some(r) => r,
        None => forge.rev_from_ref(input.get_ref()?.unwrap_or("HEAD"))?,
    };
    locked.remove_attr("ref");
    locked.set_attr("rev", rev.as_str());
    let (url, headers) = forge.archive_url(&rev);
    let (store_path, nar_hash, last_modified) =
        download_tarball(&url, &name, expected.as_ref(), &headers, store, opts)?;
    locked.set_attr("lastModified", last_modified);
    Ok(Tree { input: locked, store_path, nar_hash, warnings: vec![], dirty_rev: None })
}

/// A git forge repository and where its API lives.
struct Forge {
    kind: String,
    owner: String,
    repo: String,
    base: String,
    token_header: Vec<(String, String)>,
}

impl Forge {
    fn of(input: &Input) -> Result<Forge> {
        let a = input.attrs();
        let kind = input.input_type().to_owned();
        let (default_host, env) = match kind.as_str() {
            "github" => ("github.com", "RNIX_GITHUB_API"),
            "gitlab" => ("gitlab.com", "RNIX_GITLAB_URL"),
            _ => ("git.sr.ht", "RNIX_SOURCEHUT_URL"),
        };
        let host = maybe_get_str(a, "host")?.unwrap_or(default_host);
        let base = match std::env::var(env) {
            Ok(b) if !b.is_empty() => b.trim_end_matches('/').to_owned(),
            _ if kind == "github" => format!("https://api.{host}"),
            _ => format!("https://{host}"),
        };
        let token_header = match (kind.as_str(), std::env::var("RNIX_GITHUB_TOKEN")) {
            ("github", Ok(t)) if !t.is_empty() => {
                vec![("Authorization".to_owned(), format!("token {t}"))]
            }
            _ => vec![],
        };
        Ok(Forge {
            kind,
            owner: get_str(a, "owner")?.to_owned(),
            repo: get_str(a, "repo")?.to_owned(),
            base,
            token_header,
        })
    }

    /// The commit a branch/tag (or `HEAD`) names, asked of the forge's API.
    fn rev_from_ref(&self, r: &str) -> Result<String> {
        let (o, p, b) = (&self.owner, &self.repo, &self.base);
        let rev = match self.kind.as_str() {
            "github" => {
                let url = format!("{b}/repos/{o}/{p}/commits/{r}");
                let json: serde_json::Value = parse_json(&url, &http_get_string(&url, &self.token_header)?)?;
                json.get("sha").and_then(|v| v.as_str()).map(str::to_owned)
            }
            "gitlab" => {
                let url = format!("{b}/api/v4/projects/{o}%2F{p}/repository/commits?ref_name={r}");
                let json: serde_json::Value = parse_json(&url, &http_get_string(&url, &[])?)?;
                json.get(0).and_then(|c| c.get("id")).and_then(|v| v.as_str()).map(str::to_owned)
            }
            _ => {
                let mut want = r.to_owned();
                if r == "HEAD" {
                    let head = http_get_string(&format!("{b}/{o}/{p}/HEAD"), &[])?;
                    match head.trim().strip_prefix("ref: ") {
                        Some(target) => want = target.to_owned(),
                        None => bail!("No ref found in HEAD of sourcehut repository '{o}/{p}'"),
                    }
                }
                let refs = http_get_string(&format!("{b}/{o}/{p}/info/refs"), &[])?;
                refs.lines().find_map(|l| {
                    let (id, name) = l.split_once('\t')?;
                    (name == want || name == format!("refs/heads/{want}") || name == format!("refs/tags/{want}"))
                        .then(|| id.to_owned())
                })
            }
        };
        match rev {
            Some(r) => parse_rev(&r),
            None => bail!("unable to resolve ref '{r}' of {} repository '{o}/{p}'", self.kind),
        }
    }

    fn archive_url(&self, rev: &str) -> (String, Vec<(String, String)>) {
        let (o, p, b) = (&self.owner, &self.repo, &self.base);
        match self.kind.as_str() {
            "github" => (format!("{b}/repos/{o}/{p}/tarball/{rev}"), self.token_header.clone()),
            "gitlab" => (format!("{b}/api/v4/projects/{o}%2F{p}/repository/archive.tar.gz?sha={rev}"), vec![]),
            _ => (format!("{b}/{o}/{p}/archive/{rev}.tar.gz"), vec![]),
        }
    }
}

fn parse_json(url: &str, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| Error::new(format!("cannot parse the answer of '{url}': {e}")))
}

fn http_get_string(url: &str, headers: &[(String, String)]) -> Result<String> {
    let mut body = vec![];
    open_url(url, headers)?
        .0
        .read_to_end(&mut body)
        .map_err(|e| Error::new(format!("unable to download '{url}': {e}")))?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// The whole body of an `http(s)://` or `file://` URL (`builtins.fetchurl`).
pub(crate) fn download_file(url: &str) -> Result<Vec<u8>> {
    let mut body = vec![];
    open_url(url, &[])?.0.read_to_end(&mut body).map_err(|e| Error::new(format!("unable to download '{url}': {e}")))?;
    Ok(body)
}

/// A reader for an `http(s)://` or `file://` URL and its length, if known.
fn open_url(url: &str, headers: &[(String, String)]) -> Result<(Box<dyn Read>, Option<u64>)> {
    if let Some(path) = url.strip_prefix("file://") {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let f = File::open(path).map_err(|e| Error::from(e).prefixed(&format!("unable to download '{url}': ")))?;
        let len = f.metadata().ok().map(|m| m.len());
        return Ok((Box::new(f), len));
    }
    let mut req = ureq::get(url).header("User-Agent", "rnix-eval");
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    match req.call() {
        Ok(resp) => {
            let len = resp.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
            Ok((Box::new(resp.into_body().into_reader()), len))
        }
        Err(ureq::Error::StatusCode(code)) => {
            bail!("unable to download '{url}': HTTP error {code}")
        }
        Err(e) => bail!("unable to download '{url}': {e}"),
    }
}

fn tmp_name(dir: &Path, what: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    dir.join(format!(".tmp-{}-{}-{what}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)))
}

fn remove_tree(p: &Path) {
    let _ = fs::remove_dir_all(p).or_else(|_| fs::remove_file(p));
}

/// Downloads, unpacks and adds a tarball; returns (store path, NAR hash, top-level mtime).
/// With `expected`, a cached tree of that hash is used without downloading.
fn download_tarball(
    url: &str,
    name: &str,
    expected: Option<&Hash>,
    headers: &[(String, String)],
    store: &dyn Store,
    opts: &FetchOptions,
) -> Result<(String, Hash, u64)> {
    let cache = opts.cache_root().join("tarballs");
    if let Some(h) = expected {
        let dir = cache.join(h.to_nix32());
        if let Ok(meta) = fs::symlink_metadata(&dir) {
            let (sp, got) = store.add_path(name, &dir, FileIngestionMethod::Recursive, &mut |_, _| true)?;
            if &got == h {
                return Ok((sp, got, meta.mtime().max(0) as u64));
            }
            remove_tree(&dir);
        }
    }
    fs::create_dir_all(&cache)
        .map_err(|e| Error::from(e).prefixed(&format!("creating directory '{}': ", cache.display())))?;
    let unpack_dir = tmp_name(&cache, "unpack");
    let result = (|| {
        let (reader, len) = open_url(url, headers)?;
        let show = opts.progress.unwrap_or_else(|| io::stderr().is_terminal());
        // Without an explicit choice, the process-wide policy (terminal, `--quiet`, `-v`).
        let activity = opts.progress.is_none().then(|| crate::progress::Activity::downloading(url, len));
        let reader: Box<dyn Read> = if let Some(a) = &activity {
            a.wrap_read(reader)
        } else if show {
            let bar = indicatif::ProgressBar::new(len.unwrap_or(0));
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("downloading '{msg}' {bytes}/{total_bytes} {bar:30}")
            {
                bar.set_style(style);
            }
            bar.set_message(url.to_owned());
            Box::new(bar.wrap_read(reader))
        } else {
            reader
        };
        unpack(reader, &unpack_dir).map_err(|e| Error::new(format!("unpacking '{url}': {e}")))?;
        let members: Vec<_> = fs::read_dir(&unpack_dir)?.collect::<io::Result<_>>()?;
        if members.len() != 1 {
            bail!("tarball '{url}' contains an unexpected number of top-level files");
        }
        let top = members[0].path();
        let mtime = fs::symlink_metadata(&top)?.mtime().max(0) as u64;
        let hash = nix_store_core::nar::nar_hash_path(&top, &mut |_, _| true)?;
        let dest = cache.join(hash.to_nix32());
        if fs::symlink_metadata(&dest).is_err() {
            fs::rename(&top, &dest)?;
            if let Ok(f) = File::open(&dest) {
                let _ = f.set_modified(UNIX_EPOCH + Duration::from_secs(mtime));
            }
        }
        let (sp, got) = store.add_path(name, &dest, FileIngestionMethod::Recursive, &mut |_, _| true)?;
        Ok((sp, got, mtime))
    })();
    remove_tree(&unpack_dir);
    result
}

/// Unpacks a tar stream, gzip-compressed or not (recognised by its magic bytes).
fn unpack(mut reader: Box<dyn Read>, dest: &Path) -> io::Result<()> {
    let mut magic = [0u8; 6];
    let mut n = 0;
    while n < magic.len() {
        match reader.read(&mut magic[n..])? {
            0 => break,
            k => n += k,
        }
    }
    let head = io::Cursor::new(magic[..n].to_vec());
    let stream: Box<dyn Read> = Box::new(head.chain(reader));
    let stream: Box<dyn Read> = match &magic[..n] {
        [0x1f, 0x8b, ..] => Box::new(flate2::read::MultiGzDecoder::new(stream)),
        [0xfd, b'7', b'z', b'X', b'Z', 0] => return Err(io::Error::other("xz-compressed tarballs are not supported")),
        [b'B', b'Z', b'h', ..] => return Err(io::Error::other("bzip2-compressed tarballs are not supported")),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => return Err(io::Error::other("zstd-compressed tarballs are not supported")),
        [b'P', b'K', 3, 4, ..] => return Err(io::Error::other("zip archives are not supported")),
        _ => stream,
    };
    fs::create_dir_all(dest)?;
    let mut archive = tar::Archive::new(stream);
    archive.set_preserve_mtime(true);
    archive.set_overwrite(true);
    // Directory mtimes change as their children are unpacked; the top-level ones matter
    // (`lastModified`), so their header times are restored at the end.
    let mut top_mtimes = vec![];
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let mut comps = path.components().filter(|c| !matches!(c, std::path::Component::CurDir));
        if let (Some(first), None) = (comps.next(), comps.next()) {
            if entry.header().entry_type().is_dir() {
                top_mtimes.push((dest.join(first), entry.header().mtime()?));
            }
        }
        entry.unpack_in(dest)?;
    }
    for (dir, mtime) in top_mtimes {
        if let Ok(f) = File::open(&dir) {
            let _ = f.set_modified(UNIX_EPOCH + Duration::from_secs(mtime));
        }
    }
    Ok(())
}
