//! Payload hashes: exactly one sha256 digest, in one normal form.
//!
//! A frame's hash names its payload in the CAS, so every hash that enters
//! the store, from Rust, the socket, a dump or a script, is checked here
//! before anything is touched: `sha256-` then the 44-character standard
//! base64 of a 32-byte digest, nothing else. ssri alone accepts much more
//! (several hashes in one string, other algorithms, digests that are not
//! base64, which later panic when turned to hex), and a hash the CAS cannot
//! use would make its frame unreadable, or let a sweep delete content that
//! an acknowledged frame references.
//!
//! The hash type is ssri's [`Integrity`], re-exported here so an embedder
//! can name it without depending on ssri.

use base64::{Engine, prelude::BASE64_STANDARD};
use serde::{Deserialize, Deserializer};
pub use ssri::Integrity;
use ssri::{Algorithm, Hash};

use crate::error::{Result, StoreError};

const PREFIX: &str = "sha256-";
/// The length of a sha256 digest in standard base64, padding included.
const DIGEST_LEN: usize = 44;
/// How much of a rejected value an error message repeats.
const SHOWN: usize = 80;

/// Parses `text` (surrounding whitespace ignored) as one sha256 SRI hash.
///
/// # Errors
///
/// [`StoreError::InvalidHash`] naming the value and what is wrong with it.
///
/// # Examples
///
/// ```
/// let hash = xs_core::hash::parse(" sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= ")?;
/// assert_eq!(hash.to_string(), "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
/// assert!(xs_core::hash::parse("sha256-!!!").is_err());
/// # Ok::<(), xs_core::StoreError>(())
/// ```
pub fn parse(text: &str) -> Result<Integrity> {
    let digest = text.trim().strip_prefix(PREFIX).ok_or_else(|| invalid(text, "it does not start with sha256-"))?;
    check_digest(digest).map_err(|reason| invalid(text, reason))?;
    Ok(Integrity { hashes: vec![Hash { algorithm: Algorithm::Sha256, digest: digest.to_string() }] })
}

/// Checks that `hash` (built in Rust or parsed by ssri) is one sha256
/// digest in normal form.
///
/// # Errors
///
/// [`StoreError::InvalidHash`] naming the value and what is wrong with it.
pub fn check(hash: &Integrity) -> Result<()> {
    let reason = match hash.hashes.as_slice() {
        [] => "it holds no digest",
        [one] if one.algorithm != Algorithm::Sha256 => "its algorithm is not sha256",
        [one] => match check_digest(&one.digest) {
            Ok(()) => return Ok(()),
            Err(reason) => reason,
        },
        _ => "it holds several digests",
    };
    Err(invalid(&hash.to_string(), reason))
}

/// Deserializes an optional hash with [`parse`] (serde's `deserialize_with`).
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Integrity>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) => parse(&text).map(Some).map_err(serde::de::Error::custom),
    }
}

fn check_digest(digest: &str) -> Result<(), &'static str> {
    if digest.len() != DIGEST_LEN {
        return Err("its digest is not 44 base64 characters (32 bytes)");
    }
    match BASE64_STANDARD.decode(digest) {
        Ok(bytes) if bytes.len() == 32 => Ok(()),
        _ => Err("its digest is not the base64 of 32 bytes"),
    }
}

fn invalid(text: &str, reason: &'static str) -> StoreError {
    let shown = match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    };
    StoreError::InvalidHash { hash: shown, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    #[test]
    fn accepts_one_sha256_digest() {
        assert_eq!(parse(GOOD).unwrap().to_string(), GOOD);
        assert!(check(&GOOD.parse().unwrap()).is_ok());
    }

    #[test]
    fn refuses_everything_else() {
        let sha1 = "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=";
        let six = [GOOD; 6].join(" ");
        let mixed = format!("{GOOD} {sha1}");
        let long = format!("{GOOD}{}", "A".repeat(300));
        let cases = [
            "",
            "sha256-!!!",
            "sha256-",
            sha1,
            &six,
            &mixed,
            &long,
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=-x",
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=?opt",
            "sha512-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=",
        ];
        for case in cases {
            assert!(matches!(parse(case), Err(StoreError::InvalidHash { .. })), "{case:?} was accepted");
            // ssri reads `<good>-x` as the good hash: the normal form, not a risk.
            if let Ok(ssri) = case.parse::<Integrity>()
                && ssri.to_string() != GOOD
            {
                assert!(check(&ssri).is_err(), "{case:?} passed the check after ssri parsed it");
            }
        }
    }

    #[test]
    fn an_error_names_the_value_but_not_all_of_a_huge_one() {
        let message = parse("sha256-!!!").unwrap_err().to_string();
        assert!(message.contains("sha256-!!!"), "{message}");
        let huge = parse(&"x".repeat(100_000)).unwrap_err().to_string();
        assert!(huge.len() < 400, "{huge}");
    }
}
