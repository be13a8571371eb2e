//! Tests for `hash.rs`. Every expected value was printed by CppNix 2.8.0.

use super::*;

/// Provenance: `printf 'hello\n' > h.txt`, then for each algo A:
/// `nix-hash --flat --type A h.txt`, `nix-hash --flat --base32 --type A h.txt`,
/// `nix --extra-experimental-features nix-command hash file --type A h.txt` (SRI) and `... --base64`.
const HELLO: &[(HashAlgo, &str, &str, &str)] = &[
    (
        HashAlgo::Md5,
        "b1946ac92492d2347c6235b4d2611184",
        "4425hx5d1mc9y39llj4k4nm55i",
        "sZRqySSS0jR8YjW00mERhA==",
    ),
    (
        HashAlgo::Sha1,
        "f572d396fae9206628714fb2ce00f72e94f2258f",
        "iwjz551fyw0cxcjgf4l6c879zabd6wpm",
        "9XLTlvrpIGYocU+yzgD3LpTyJY8=",
    ),
    (
        HashAlgo::Sha256,
        "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
        "00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq",
        "WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=",
    ),
    (
        HashAlgo::Sha512,
        "e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931f94aae41edda2c2b207a36e10f8bcb8d45223e54878f5b316e7ce3b6bc019629",
        "0lrc0dwnvipqviibf7qfm1y492qvjwb1zhkcyi05cndmva1mr5gjcgrnz1x36djmk0sfg8djd2n0qv68vib2jg590mwznar9jcjphp7",
        "58IrmUxZ2c8rSOVJseJGZmNgRZMNPafBrLKZ0cO3+TH5Sq5B7dosKyB6NuEPi8uNRSI+VIePWzFufOO2vAGWKQ==",
    ),
];

#[test]
fn digests_and_encodings_of_hello() {
    for &(algo, b16, b32, b64) in HELLO {
        let h = Hash::digest(algo, b"hello\n");
        assert_eq!(h.to_base16(), b16);
        assert_eq!(h.to_nix32(), b32);
        assert_eq!(h.to_string(HashFormat::Base64, false), b64);
        assert_eq!(h.to_sri(), format!("{algo}-{b64}"));
        assert_eq!(h.to_string(HashFormat::Nix32, true), format!("{algo}:{b32}"));
        // Every spelling parses back, with the algorithm given or implied.
        for body in [b16, b32, b64] {
            assert_eq!(Hash::parse_any(body, Some(algo)).unwrap(), h);
            assert_eq!(Hash::parse_non_sri_unprefixed(body, algo).unwrap(), h);
            let prefixed = format!("{algo}:{body}");
            assert_eq!(Hash::parse_any_prefixed(&prefixed).unwrap(), h);
            assert_eq!(Hash::parse_any(&prefixed, None).unwrap(), h);
        }
        assert_eq!(Hash::parse_sri(&h.to_sri()).unwrap(), h);
        assert_eq!(Hash::parse_any(&h.to_sri(), Some(algo)).unwrap(), h);
    }
}

/// Provenance: `nix --extra-experimental-features nix-command hash to-base32
/// 'sha1:0123456789abcdef0123456789abcdef01234567'`, `... to-sri ...`, `... to-base64 ...`,
/// and `hash to-base16 sha256-zwSv…0Ks=`.
#[test]
fn conversions() {
    let h = Hash::parse_any("sha1:0123456789abcdef0123456789abcdef01234567", None).unwrap();
    assert_eq!(h.to_nix32(), "cx2j60ggrnmqjrs54c0yzkdbi5kla8q1");
    assert_eq!(h.to_sri(), "sha1-ASNFZ4mrze8BI0VniavN7wEjRWc=");
    let h = Hash::parse_any("sha256-zwSvhtwIUmjF9EcPuuSbGK+8Iht4CWqrhC2TSna60Ks=", None).unwrap();
    assert_eq!(h.to_base16(), "cf04af86dc085268c5f4470fbae49b18afbc221b78096aab842d934a76bad0ab");
    assert_eq!(h.to_nix32(), "1ayhp9v4m4rdhjmnl2bq3cibrbqqkgjbl3s7yk2nhlh8vj3ay16g");
}

/// Provenance: each case is `nix-instantiate --eval --readonly-mode -E '(derivation { name = "x";
/// system = "x"; builder = "/b"; outputHash = H; outputHashAlgo = A; }).outPath'`; `Ok` cases
/// printed `/nix/store/hcanfchzckr62qy57c0w8lmrgayk3bvh-x` (= the hash cf04…d0ab), errors printed
/// the message shown.
#[test]
fn parse_any_like_output_hash() {
    let cf04 = "cf04af86dc085268c5f4470fbae49b18afbc221b78096aab842d934a76bad0ab";
    let sha = Some(HashAlgo::Sha256);
    let ok = |s: &str, a: Option<HashAlgo>| Hash::parse_any(s, a).unwrap().to_base16();
    assert_eq!(ok(&cf04.to_uppercase(), sha), cf04);
    assert_eq!(ok("sha256-zwSvhtwIUmjF9EcPuuSbGK+8Iht4CWqrhC2TSna60Ks", None), cf04);
    assert_eq!(ok("sha256:zwSvhtwIUmjF9EcPuuSbGK+8Iht4CWqrhC2TSna60Ks=", None), cf04);
    assert_eq!(ok("sha256-zwSvhtwIUmjF9EcPuuSbGK+8Iht4CWqrhC2TSna60Ks==", None), cf04);

    let err = |s: &str, a: Option<HashAlgo>| Hash::parse_any(s, a).unwrap_err().to_string();
    assert_eq!(err("abc", sha), "hash 'abc' has wrong length for hash type 'sha256'");
    assert_eq!(err("abc", None), "hash 'abc' does not include a type, nor is the type otherwise known from context");
    assert_eq!(err("sha1:abc", sha), "hash 'sha1:abc' should have type 'sha256'");
    assert_eq!(err("foo:abc", None), "unknown hash algorithm 'foo'");
    assert_eq!(err("sha256-abc", None), "invalid SRI hash 'abc'");
    assert_eq!(err("zwSvhtwIUmjF9EcPuuSbGK+8Iht4CWqrhC2TSna60Ks!", sha), "invalid character in Base64 string: ''");
    assert_eq!(
        err("1ayhp9v4m4rdhjmnl2bq3cibrbqqkgjbl3s7yk2nhlh8vj3ay1eg", sha),
        "invalid base-32 hash '1ayhp9v4m4rdhjmnl2bq3cibrbqqkgjbl3s7yk2nhlh8vj3ay1eg'"
    );
    assert_eq!(
        err("zzyhp9v4m4rdhjmnl2bq3cibrbqqkgjbl3s7yk2nhlh8vj3ay16g", sha),
        "invalid base-32 hash 'zzyhp9v4m4rdhjmnl2bq3cibrbqqkgjbl3s7yk2nhlh8vj3ay16g'"
    );
    let bad16 = "cf04af86dc085268c5f4470fbae49b18afbc221b78096aab842d934a76bad0aX";
    assert_eq!(err(bad16, sha), format!("invalid base-16 hash '{bad16}'"));
    assert_eq!(
        err("sha256-zwSvhtwIUmjF9EcPuuSbGK+8Iht4CWqrhC2TSna60K", None),
        "invalid SRI hash 'zwSvhtwIUmjF9EcPuuSbGK+8Iht4CWqrhC2TSna60K'"
    );
    assert_eq!(err("sha256:", None), "hash '' has wrong length for hash type 'sha256'");
}

/// Provenance: same command with `outputHash = ""`: with `outputHashAlgo = "sha256"` Nix warns
/// `found empty hash, assuming 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='`; with
/// `outputHashAlgo = ""` it fails with `empty hash requires explicit hash type`.
#[test]
fn empty_output_hash() {
    let h = Hash::parse_allow_empty("", Some(HashAlgo::Sha256)).unwrap();
    assert_eq!(h.to_sri(), "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assert_eq!(Hash::parse_allow_empty("", None).unwrap_err().to_string(), "empty hash requires explicit hash type");
}

/// Provenance: store-spec.md §2 worked example (sha256 of the `hello.txt` text fingerprint and its
/// 20-byte fold); the resulting path `qa1w9gdf…-hello.txt` is pinned against Nix in store_path.rs.
#[test]
fn compress_hash_folds() {
    let full = base16_decode("1815be57cf8db6d39c690b6869d4caaebdc483c28f6e42d18e0e066276405238").unwrap();
    assert_eq!(base16_encode(&compress_hash(&full, 20)), "977bfc864183b0b1ea29595069d4caaebdc483c2");
}

#[test]
fn from_bytes_checks_length() {
    assert!(Hash::from_bytes(HashAlgo::Sha1, &[0; 20]).is_ok());
    assert!(Hash::from_bytes(HashAlgo::Sha1, &[0; 32]).is_err());
}
