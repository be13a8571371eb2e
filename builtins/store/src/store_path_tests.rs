//! Tests for `store_path.rs`. Every expected path was printed by CppNix 2.8.0.

use super::*;

fn refs(paths: &[&str]) -> BTreeSet<String> {
    paths.iter().map(|s| s.to_string()).collect()
}

fn sha256(data: &[u8]) -> Hash {
    Hash::digest(HashAlgo::Sha256, data)
}

fn text_path(name: &str, contents: &str, references: &[&str]) -> String {
    make_text_path(name, &sha256(contents.as_bytes()), &refs(references)).unwrap().to_absolute()
}

/// Provenance: `nix-instantiate --eval --readonly-mode -E 'builtins.toFile "hello.txt" "hello\n"'`
/// and `… 'builtins.toFile "a.txt" "A"'`.
#[test]
fn to_file_paths() {
    assert_eq!(text_path("hello.txt", "hello\n", &[]), "/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt");
    assert_eq!(text_path("a.txt", "A", &[]), "/nix/store/l82nr4gna33sc2g8m4hkkr6r983dlbd6-a.txt");
}

/// Provenance: `paths.nix` in the crate notes: `let a = builtins.toFile "a.txt" "A"; in
/// builtins.toFile "b.sh" "cat ${a} ${fix + "/a.txt"}\n"` under `nix-instantiate --eval
/// --readonly-mode --strict`, where `fix/a.txt` holds `hello\n` and was copied to
/// `/nix/store/z3n6ml62lc6l9glpaz6fq7fvi2rks9vq-a.txt` (seen in the `--store` run).
#[test]
fn text_path_with_references() {
    let a = "/nix/store/l82nr4gna33sc2g8m4hkkr6r983dlbd6-a.txt";
    let src = "/nix/store/z3n6ml62lc6l9glpaz6fq7fvi2rks9vq-a.txt";
    let contents = format!("cat {a} {src}\n");
    assert_eq!(text_path("b.sh", &contents, &[src, a]), "/nix/store/gijjhv8pj6kzcbh97p4llfg2dysrynr4-b.sh");
}

/// Provenance: `nix-instantiate --eval --readonly-mode -E 'builtins.placeholder "out"'` (and
/// `"dev"`, `"foo-bar"`).
#[test]
fn placeholders() {
    assert_eq!(hash_placeholder("out"), "/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9");
    assert_eq!(hash_placeholder("dev"), "/02qcpld1y6xhs5gz9bchpxaw0xdhmsp5dv88lh25r2ss44kh8dxz");
    assert_eq!(hash_placeholder("foo-bar"), "/0km0vlhlhx3dpss5bhbvgqszkgpz9yq3k51f32jq3cbq48rhb4gk");
}

/// Provenance: the `.drv` fixtures in tests/fixtures, made by `nix-instantiate --store
/// /tmp/ref/st3 drvs.nix -A <attr>` (see tests/fixtures/README.md); each output path below is
/// the one Nix wrote into the `.drv`.
#[test]
fn fixed_output_paths() {
    let none = BTreeSet::new();
    let cases: &[(FileIngestionMethod, &str, &str, &str)] = &[
        (
            FileIngestionMethod::Flat,
            "sha256:cf04af86dc085268c5f4470fbae49b18afbc221b78096aab842d934a76bad0ab",
            "hello-2.12.tar.gz",
            "/nix/store/8nqv6kshb3vs5q5bs2k600xpj5bkavkc-hello-2.12.tar.gz",
        ),
        (
            FileIngestionMethod::Recursive,
            "sha256-QrTEnQTBM1Y/qV9odq8irZkQSD9uOMbs2Q5NgCvKCNQ=",
            "tool",
            "/nix/store/9ajnd06bmw9dikvv9mma3yv74iblsyhp-tool",
        ),
        (
            FileIngestionMethod::Recursive,
            "sha1:0123456789abcdef0123456789abcdef01234567",
            "src-sha1",
            "/nix/store/8fy9q60h1yn92kb96v22prkkp4rvngxk-src-sha1",
        ),
        (
            FileIngestionMethod::Flat,
            "md5:1B2M2Y8AsgTpgAmY7PhCfg==",
            "md5file",
            "/nix/store/mcb7irqqhf7ln8xrrb4yy4csl1chxgg3-md5file",
        ),
        (
            FileIngestionMethod::Flat,
            "sha512:5a473dbfcc77861a88e197d0ddff25c7934b4e1a2deb30e08965a130a4a88181e34fe3d01347a2189e3df7d20797be1d0b0bff44883e9ac164a18ec06befc101",
            "big",
            "/nix/store/2c7b2jbbjqi9wgpm3xas9cvib2a1mivh-big",
        ),
    ];
    for &(method, hash, name, expected) in cases {
        let hash = Hash::parse_any_prefixed(hash).unwrap();
        let path = make_fixed_output_path(method, &hash, name, &none).unwrap();
        assert_eq!(path.to_absolute(), expected, "{name}");
    }
    // Text "fixed output" is the toFile rule. Provenance: `builtins.toFile "hello.txt" "hello\n"`.
    let text = make_fixed_output_path(FileIngestionMethod::Text, &sha256(b"hello\n"), "hello.txt", &none);
    assert_eq!(text.unwrap().base_name(), "qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt");
    let flat_refs = make_fixed_output_path(
        FileIngestionMethod::Flat,
        &sha256(b""),
        "x",
        &refs(&["/nix/store/l82nr4gna33sc2g8m4hkkr6r983dlbd6-a.txt"]),
    );
    assert!(matches!(flat_refs, Err(StorePathError::FixedOutputWithReferences(_))));
}

/// Provenance: `nix-instantiate --eval --readonly-mode drvs.nix -A dep.outPath` and
/// `-A top.dev.outPath`; the masked hashes are the ones the derivation tests reproduce
/// (store-spec.md §4.1).
#[test]
fn output_paths() {
    let dep =
        Hash::parse_any("00b851513f5c58e264a751c12c2cda4ea5422f951c14c49330bab04fdd208106", Some(HashAlgo::Sha256))
            .unwrap();
    assert_eq!(
        make_output_path(&dep, "out", "dep").unwrap().to_absolute(),
        "/nix/store/z4asv3j07d89ywjf8fxkn7sg6mf5s9q5-dep"
    );
    let top =
        Hash::parse_any("d2dc713428bc27f816afa2108930846e550e2034c23c3a91e2c404722fd67c56", Some(HashAlgo::Sha256))
            .unwrap();
    assert_eq!(
        make_output_path(&top, "dev", "top").unwrap().to_absolute(),
        "/nix/store/4qi74xsn2pg07v1857i6qr8cznl2h38h-top-dev"
    );
}

/// Provenance: `nix-instantiate --eval --readonly-mode -E 'builtins.toFile NAME "x"'` for each
/// name below; accepted names printed the path, rejected ones the error.
#[test]
fn name_rules() {
    assert_eq!(text_path(".hidden", "x", &[]), "/nix/store/10d3jkw88mfhh2nhls90r05szdgxckyp-.hidden");
    // 2.8 allows every leading-dot name (2.19+ reject some or all of these).
    assert_eq!(text_path(".", "x", &[]), "/nix/store/1ka9gw6ddkrf0b8k65q7p46xbgb9wdr8-.");
    assert_eq!(text_path("..", "x", &[]), "/nix/store/hv29bhyiqgqrrvfwnrc9gg9g9cw83k4b-..");
    assert_eq!(text_path(".-x", "x", &[]), "/nix/store/h1gm37fzbbcqjq5lzy9nv2sxrfr2blwq-.-x");
    assert_eq!(text_path("a+-._?=Z9", "x", &[]), "/nix/store/vym7s2nlwrfc9jqc0w69ww9vbxv46jh4-a+-._?=Z9");
    let long211 = "a".repeat(211);
    assert_eq!(text_path(&long211, "x", &[]), format!("/nix/store/yx91frwj9qkga75f8habg8q40arnqila-{long211}"));
    let err = |name: &str| make_text_path(name, &sha256(b"x"), &BTreeSet::new()).unwrap_err().to_string();
    assert_eq!(err("a b"), "store path 'dm85kbl5cy82j2dzvy1874s14y3salv3-a b' contains illegal character ' '");
    assert_eq!(err(""), "store path '9r1mh2rc3s3i33vpdw86kqqyvy9i1y4w-' has an empty name");
    let long212 = "a".repeat(212);
    assert_eq!(
        err(&long212),
        format!("store path 'sk7z62nqxdj2sb8x397my8i4803lhvai-{long212}' has a name longer than 211 characters")
    );
    // Nix prints the first raw byte of `é` here; we print the character.
    assert_eq!(err("é"), "store path 'fcwpaxmwcvmm1sss1scshna3sn7asxa4-é' contains illegal character 'é'");
}

/// Provenance: `nix-instantiate --eval --readonly-mode --strict -E 'builtins.appendContext ""
/// { "<key>" = { path = true; }; }'` accepts `/nix/store//qa1w…-ab` and rejects the too-short,
/// `e`-containing, sub-path and space-containing keys; `builtins.storePath
/// "/nix/store/qa1w…gqywpxhello.txt"` is accepted as is (no `-` check).
#[test]
fn parsing() {
    let p = StorePath::parse("/nix/store//qa1w9gdfrba6jl2r57mb3c43863gqywp-ab").unwrap();
    assert_eq!(p.hash_part(), "qa1w9gdfrba6jl2r57mb3c43863gqywp");
    assert_eq!(p.name(), "ab");
    assert_eq!(p.to_string(), "/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-ab");
    let quirk = StorePath::parse("/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywpxhello.txt").unwrap();
    assert_eq!(quirk.name(), "hello.txt");

    let err = |s: &str| StorePath::parse(s).unwrap_err().to_string();
    assert_eq!(err("/nix/store/abc"), "'abc' is too short to be a valid store path");
    assert_eq!(
        err("/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x"),
        "store path 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x' contains illegal base-32 character 'e'"
    );
    assert_eq!(
        err("/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt/sub"),
        "path '/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt/sub' is not in the Nix store"
    );
    assert!(StorePath::parse("/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-a b").is_err());
    assert!(StorePath::parse("/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywpé").is_err());
    assert!(StorePath::parse("nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-a").is_err());
    assert!(StorePath::parse("/tmp/qa1w9gdfrba6jl2r57mb3c43863gqywp-a").is_err());

    let (sp, rest) = StorePath::parse_prefix("/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt/sub/x").unwrap();
    assert_eq!(sp.name(), "hello.txt");
    assert_eq!(rest, "/sub/x");
}
