//! TLS for `https://` listeners (rustls with the ring provider, the one
//! `ureq` already builds): a certificate the user gives as PEM files, or
//! one generated for the store.
//!
//! A generated certificate ([`Tls::SelfSigned`]) is written once into
//! `<store>/tls/` (the key mode 0600) and reused by every later owner, so
//! its fingerprint stays what clients pinned. It names `localhost`, the
//! loopback addresses and the listeners' hosts; a client that reaches it
//! by another name trusts it by [`fingerprint`] (the SHA-256 of the
//! certificate, as `openssl x509 -fingerprint -sha256` prints it), which
//! every owner logs when it starts listening.

use std::{
    fs,
    io::Write,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    path::{Path, PathBuf},
    sync::Arc,
};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio_rustls::TlsAcceptor;

use crate::error::{Result, StoreError};

/// The folder of a generated certificate, inside the store directory.
pub const TLS_DIR: &str = "tls";
/// The generated certificate's file in [`TLS_DIR`].
pub const CERT_FILE: &str = "cert.pem";
/// The generated key's file in [`TLS_DIR`] (mode 0600).
pub const KEY_FILE: &str = "key.pem";

/// Where an `https://` listener's certificate comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tls {
    /// A certificate chain (leaf first) and its private key, PEM files
    /// (`--cert`, `--key`).
    Pem {
        /// The certificate chain.
        cert: PathBuf,
        /// The private key (PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
    /// A certificate generated into `<store>/tls/` on first use and
    /// reused after (`--self-signed`).
    SelfSigned,
}

/// What serves TLS: the acceptor and the certificate's fingerprint.
#[derive(Clone)]
pub(crate) struct Served {
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) fingerprint: String,
}

/// Loads (or generates) the certificate `tls` names.
///
/// # Errors
///
/// [`StoreError::Tls`] naming the file that cannot be read or used.
pub(crate) fn serve(tls: &Tls, store: &Path, hosts: &[&str]) -> Result<Served> {
    let (certs, key) = match tls {
        Tls::Pem { cert, key } => (certificates(cert)?, private_key(key)?),
        Tls::SelfSigned => self_signed(store, hosts)?,
    };
    let first = certs.first().ok_or_else(|| failed("the certificate file holds no certificate"))?;
    let fingerprint = fingerprint(first);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| failed(&e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| failed(&format!("the certificate and key do not go together: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Served { acceptor: TlsAcceptor::from(Arc::new(config)), fingerprint })
}

/// The SHA-256 fingerprint of a DER certificate: uppercase hex pairs
/// joined by colons, as `openssl x509 -fingerprint -sha256` prints it.
///
/// ```
/// let fingerprint = xs_core::server::tls::fingerprint(b"not really a certificate");
/// assert_eq!(fingerprint.len(), 32 * 3 - 1);
/// ```
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let unreadable =
        |e: &dyn std::fmt::Display| failed(&format!("cannot read certificates from {}: {e}", path.display()));
    CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(&e))?
        .collect::<Result<_, _>>()
        .map_err(|e| unreadable(&e))
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| failed(&format!("cannot read a private key from {}: {e}", path.display())))
}

/// The store's generated certificate and key, made on first use.
fn self_signed(store: &Path, hosts: &[&str]) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let dir = store.join(TLS_DIR);
    let (cert, key) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
    if !(cert.exists() && key.exists()) {
        generate(&dir, hosts)?;
    }
    Ok((certificates(&cert)?, private_key(&key)?))
}

/// Generates a certificate for `localhost`, the loopback addresses and
/// `hosts` into `dir`: the key first, so a certificate is never there
/// without its key.
fn generate(dir: &Path, hosts: &[&str]) -> Result<()> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
    let wildcard = |h: &str| h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_unspecified());
    names.extend(hosts.iter().filter(|h| !wildcard(h)).map(|h| h.to_string()));
    names.dedup();
    let generated = rcgen::generate_simple_self_signed(names.clone())
        .map_err(|e| failed(&format!("cannot generate a certificate: {e}")))?;
    write_new(&dir.join(KEY_FILE), generated.signing_key.serialize_pem().as_bytes())?;
    write_new(&dir.join(CERT_FILE), generated.cert.pem().as_bytes())?;
    tracing::info!(dir = %dir.display(), names = ?names, fingerprint = fingerprint(generated.cert.der()), "generated a self-signed certificate");
    Ok(())
}

/// Writes `bytes` to `path` (mode 0600) through a temporary file.
fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let temp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut file = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&temp, path)?;
    Ok(())
}

fn failed(reason: &str) -> StoreError {
    StoreError::Tls { reason: reason.to_string() }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn self_signed_is_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = serve(&Tls::SelfSigned, dir.path(), &["0.0.0.0", "example.test"]).unwrap();
        let key = fs::metadata(dir.path().join(TLS_DIR).join(KEY_FILE)).unwrap();
        assert_eq!(key.permissions().mode() & 0o777, 0o600);
        let again = serve(&Tls::SelfSigned, dir.path(), &[]).unwrap();
        assert_eq!(first.fingerprint, again.fingerprint);
        assert_eq!(first.fingerprint.split(':').count(), 32);
    }

    #[test]
    fn pem_files_that_do_not_hold_a_pair_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        serve(&Tls::SelfSigned, dir.path(), &[]).unwrap();
        let generated = dir.path().join(TLS_DIR);
        let cert = generated.join(CERT_FILE);
        let swapped = Tls::Pem { cert: generated.join(KEY_FILE), key: cert.clone() };
        assert!(matches!(serve(&swapped, dir.path(), &[]), Err(StoreError::Tls { .. })));
        let missing = Tls::Pem { cert, key: dir.path().join("nope.pem") };
        let message = serve(&missing, dir.path(), &[]).err().unwrap().to_string();
        assert!(message.contains("nope.pem"), "{message}");
    }
}
