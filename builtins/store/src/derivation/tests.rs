//! Tests for the derivation modules against `.drv` files written by CppNix 2.8.0.
//!
//! Provenance of every fixture: `nix-instantiate --store /tmp/ref/st3 drvs.nix -A <attr>`
//! with tests/fixtures/drvs.nix (and builder.sh = `echo hello > $out\n` beside it); the file is
//! `/tmp/ref/st3/<printed path>`, copied verbatim, and its name is the printed `.drv` path.

use std::collections::HashMap;

use super::*;
use crate::store_path::StorePath;

macro_rules! fixture {
    ($name:literal) => {
        (concat!("/nix/store/", $name), include_bytes!(concat!("../../tests/fixtures/", $name)).as_slice())
    };
}

const FIXTURES: &[(&str, &[u8])] = &[
    fixture!("p2qkh6lklg7zljx468xsl3gwif574nq4-dep.drv"),
    fixture!("jnl6hl7fx1rsz8ka2h6wdisdx0jjk611-top.drv"),
    fixture!("qbij1g67b4lyk9kz2ymcvi74cl7ln081-chain.drv"),
    fixture!("2wifw01m6daa8vca12jqxs7liqk8a8kg-escapes.drv"),
    fixture!("dmn545qq3n5vcddp7rqsrinh0sqlrk09-hello-2.12.tar.gz.drv"),
    fixture!("lp8ff2cl7vjj25pz1d7rnppgq3c5nj02-hello-2.12.tar.gz.drv"),
    fixture!("y6jsgj5qhd8c4p947q0vskl56zp2p67r-tool.drv"),
    fixture!("fg1sdp34lf592zmmy5dd54kj4g22qlkl-src-sha1.drv"),
    fixture!("4rm0c8ja6qj9r593hwlcj4nqvfkxgp5d-md5file.drv"),
    fixture!("f6fq4id328r9xdb0cag0cwdk4s4navxg-big.drv"),
    fixture!("94lgmmvyh0924icja4d317wdpac60l2z-use-fo.drv"),
];

fn parsed() -> HashMap<String, Derivation> {
    FIXTURES.iter().map(|(path, bytes)| (path.to_string(), Derivation::parse_aterm(bytes).unwrap())).collect()
}

/// The hash modulo of a fixture, recursively and memoised, the way an evaluator's cache would be.
fn hdm(path: &str, drvs: &HashMap<String, Derivation>, memo: &mut HashMap<String, Hash>) -> Hash {
    if let Some(h) = memo.get(path) {
        return *h;
    }
    let drv = &drvs[path];
    let mut inputs = HashMap::new();
    for input in drv.input_drvs.keys() {
        inputs.insert(input.clone(), hdm(input, drvs, memo));
    }
    let h = hash_derivation_modulo(drv, false, |p| inputs[p]);
    memo.insert(path.to_owned(), h);
    h
}

fn drv_name(drv: &Derivation) -> &str {
    &drv.env["name"]
}

#[test]
fn aterm_round_trips_byte_for_byte() {
    for (path, bytes) in FIXTURES {
        let drv = Derivation::parse_aterm(bytes).unwrap();
        assert_eq!(drv.to_aterm().as_bytes(), *bytes, "{path}");
    }
}

#[test]
fn drv_paths_are_text_paths_of_the_aterm() {
    for (path, bytes) in FIXTURES {
        let drv = Derivation::parse_aterm(bytes).unwrap();
        assert_eq!(drv.drv_path(drv_name(&drv)).unwrap().to_absolute(), *path);
    }
}

/// Every input-addressed fixture: wipe its output paths, refill them, and get Nix's `.drv` back.
/// Covers multiple outputs (top, escapes), a hash-modulo chain (chain → top → dep), and
/// fixed-output inputs whose hashes collide and merge (use-fo's two hello tarballs).
#[test]
fn filling_outputs_reproduces_nix() {
    let drvs = parsed();
    let mut memo = HashMap::new();
    let mut checked = 0;
    for (path, _) in FIXTURES {
        let drv = &drvs[*path];
        if drv.is_fixed_output() {
            continue;
        }
        let mut fresh = drv.clone();
        for (name, out) in fresh.outputs.iter_mut() {
            *out = DerivationOutput::default();
            fresh.env.remove(name);
        }
        let lookup: HashMap<String, Hash> =
            drv.input_drvs.keys().map(|p| (p.clone(), hdm(p, &drvs, &mut memo))).collect();
        fresh.fill_input_addressed_outputs(drv_name(drv), |p| lookup[p]).unwrap();
        assert_eq!(&fresh, drv, "{path}");
        checked += 1;
    }
    assert_eq!(checked, 5);
}

/// Every fixed-output fixture: the output tuple and env `out` follow from method + hash + name.
#[test]
fn fixed_outputs_reproduce_nix() {
    for (path, bytes) in FIXTURES {
        let drv = Derivation::parse_aterm(bytes).unwrap();
        if !drv.is_fixed_output() {
            continue;
        }
        let out = &drv.outputs["out"];
        let (method, algo) = match out.hash_algo.strip_prefix("r:") {
            Some(algo) => (FileIngestionMethod::Recursive, algo),
            None => (FileIngestionMethod::Flat, out.hash_algo.as_str()),
        };
        let hash = Hash::parse_non_sri_unprefixed(&out.hash, HashAlgo::parse(algo).unwrap()).unwrap();
        let mut fresh = drv.clone();
        fresh.env.remove("out");
        fresh.outputs.clear();
        let out_path = fresh.set_fixed_output(drv_name(&drv), method, &hash).unwrap();
        assert_eq!(out_path, out.path);
        assert_eq!(fresh, drv, "{path}");
    }
}

/// Provenance of the numbers: `sha256sum p2qkh…-dep.drv` (dep has no inputs, so its hash modulo
/// is the hash of its file), and `nix-instantiate --eval --readonly-mode drvs.nix -A useFo.outPath`.
#[test]
fn hash_modulo_details() {
    let drvs = parsed();
    let mut memo = HashMap::new();
    let dep = hdm("/nix/store/p2qkh6lklg7zljx468xsl3gwif574nq4-dep.drv", &drvs, &mut memo);
    assert_eq!(dep.to_base16(), "3d3a476d95e958c9d72c8e075141eb390c0c358a9a563142c54cb5b27ac8c041");
    // For a derivation with inputs, the hash modulo is *not* the hash of its file.
    let top_path = "/nix/store/jnl6hl7fx1rsz8ka2h6wdisdx0jjk611-top.drv";
    let top_file = Hash::digest(HashAlgo::Sha256, FIXTURES[1].1);
    assert_ne!(hdm(top_path, &drvs, &mut memo), top_file);
    // Two fetches differing only in URL have the same hash modulo, so they merge.
    let a = hdm("/nix/store/dmn545qq3n5vcddp7rqsrinh0sqlrk09-hello-2.12.tar.gz.drv", &drvs, &mut memo);
    let b = hdm("/nix/store/lp8ff2cl7vjj25pz1d7rnppgq3c5nj02-hello-2.12.tar.gz.drv", &drvs, &mut memo);
    assert_eq!(a, b);
    let use_fo = &drvs["/nix/store/94lgmmvyh0924icja4d317wdpac60l2z-use-fo.drv"];
    assert_eq!(use_fo.input_drvs.len(), 6);
    assert_eq!(use_fo.outputs["out"].path, "/nix/store/wdmv9x7b9hy99rhy7ih7z10bs8inwx7j-use-fo");
}

/// Builds `dep` and `top` from scratch, as derivationStrict would, and checks the bytes and paths
/// Nix wrote (fixtures p2qkh…-dep.drv and jnl6hl…-top.drv; drvs.nix attrs `dep` and `top`).
#[test]
fn derivation_strict_from_scratch() {
    let env = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let mut dep = Derivation {
        outputs: [("out".to_owned(), DerivationOutput::default())].into(),
        platform: "x86_64-linux".into(),
        builder: "/bin/sh".into(),
        args: vec!["-c".into(), "echo dep > $out".into()],
        env: env(&[("builder", "/bin/sh"), ("name", "dep"), ("system", "x86_64-linux")]),
        ..Derivation::default()
    };
    dep.fill_input_addressed_outputs("dep", |_| unreachable!()).unwrap();
    let dep_path = dep.drv_path("dep").unwrap().to_absolute();
    assert_eq!(dep_path, FIXTURES[0].0);
    assert_eq!(dep.to_aterm().as_bytes(), FIXTURES[0].1);
    let dep_hash = hash_derivation_modulo(&dep, false, |_| unreachable!());

    let src = "/nix/store/n2rh2scf9cala8nsn6rn19x0gahrbxha-builder.sh";
    let mut top = Derivation {
        outputs: ["out", "dev"].map(|o| (o.to_owned(), DerivationOutput::default())).into(),
        input_drvs: [(dep_path.clone(), ["out".to_owned()].into())].into(),
        input_srcs: [src.to_owned()].into(),
        platform: "x86_64-linux".into(),
        builder: "/bin/sh".into(),
        args: vec!["-e".into(), src.into()],
        env: env(&[
            ("builder", "/bin/sh"),
            ("dep", &dep.outputs["out"].path),
            ("flag", "1"),
            ("lst", "a 1 b\n\"q\""),
            ("name", "top"),
            ("nothing", ""),
            ("num", "42"),
            ("off", ""),
            ("outputs", "out dev"),
            ("system", "x86_64-linux"),
        ]),
    };
    top.fill_input_addressed_outputs("top", |p| {
        assert_eq!(p, dep_path);
        dep_hash
    })
    .unwrap();
    assert_eq!(top.drv_path("top").unwrap().to_absolute(), FIXTURES[1].0);
    assert_eq!(top.to_aterm().as_bytes(), FIXTURES[1].1);
    assert_eq!(top.env["dev"], "/nix/store/4qi74xsn2pg07v1857i6qr8cznl2h38h-top-dev");
}

/// Provenance: `Derive([],[],[],"x","/b",[],[])`-style inputs are our own; the error wording is
/// Nix's (`expected string '%s'`, `bad path '%s' in derivation`). None of these may panic.
#[test]
fn parse_errors() {
    let err = |s: &[u8]| Derivation::parse_aterm(s).unwrap_err().to_string();
    assert_eq!(err(b"Derive("), "expected string 'Derive(['");
    assert_eq!(err(b"Derive([],[],[\"rel\"],\"x\",\"/b\",[],[])"), "bad path 'rel' in derivation");
    assert_eq!(err(b"Derive([],[],[],\"x\",\"/b\",[],[]"), "expected string ')'");
    assert_eq!(err(b"Derive([],[],[],\"x\",\"/b\",[],[]) "), "unexpected data after the end of the derivation");
    assert_eq!(err(b"Derive([],[],[],\"x"), "expected string '\"'");
    assert_eq!(err(b"Derive([],[],[],\"\xff\",\"/b\",[],[])"), "derivation contains a string that is not valid UTF-8");
    for cut in 0..FIXTURES[1].1.len() {
        assert!(Derivation::parse_aterm(&FIXTURES[1].1[..cut]).is_err());
    }
    let ok = Derivation::parse_aterm(b"Derive([],[],[],\"x\",\"/b\",[\"a\\qb\"],[])").unwrap();
    assert_eq!(ok.args, ["aqb"]);
    // The fixtures' names are valid store paths too.
    for (path, _) in FIXTURES {
        assert!(StorePath::parse(path).unwrap().is_derivation());
    }
}

/// An invalid output name leaves the derivation as it was (its env and outputs are masked in
/// place while hashing, then put back).
#[test]
fn invalid_output_name_changes_nothing() {
    let original = Derivation {
        outputs: [("out", "/nix/store/x-a"), ("bad!", "")]
            .map(|(o, p)| (o.to_owned(), DerivationOutput { path: p.to_owned(), ..DerivationOutput::default() }))
            .into(),
        platform: "x86_64-linux".into(),
        builder: "/bin/sh".into(),
        env: [("bad!", "kept"), ("name", "a")].map(|(k, v)| (k.to_owned(), v.to_owned())).into(),
        ..Derivation::default()
    };
    let mut drv = original.clone();
    assert!(drv.fill_input_addressed_outputs("a", |_| unreachable!()).is_err());
    assert_eq!(drv, original);
}
