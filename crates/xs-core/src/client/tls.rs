//! The rustls client configuration of an `https://` store, from its [`Trust`].
//!
//! Built once per [`Client`](crate::client::Client) and shared by its
//! connections. Three ways to trust a server: the operating system's roots
//! (rustls-platform-verifier, as ureq does), the certificates of a PEM file,
//! or one pinned certificate fingerprint. A pin replaces the chain check
//! only: the handshake's signatures are still verified against the pinned
//! certificate's key, so a pin is as strong as the certificate it names.

use std::sync::Arc;

use rustls::{
    ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::WebPkiSupportedAlgorithms,
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject};
use rustls_platform_verifier::BuilderVerifierExt;

use crate::{
    client::remote::{Fingerprint, Trust},
    error::{Result, StoreError},
};

/// The client configuration that trusts what `trust` says.
///
/// # Errors
///
/// [`StoreError::InvalidRemote`] for a CA file that cannot be read or
/// holds no certificate; [`StoreError::Untrusted`] when the system's
/// roots cannot be loaded.
pub(crate) fn config(trust: &Trust, url: &str) -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let untrusted = |e: rustls::Error| StoreError::Untrusted { url: url.into(), reason: e.to_string() };
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(untrusted)?;
    let builder = match trust {
        Trust::System => builder.with_platform_verifier().map_err(untrusted)?,
        Trust::Ca(path) => builder.with_root_certificates(roots(path)?),
        Trust::Fingerprint(pin) => {
            let verifier = Pinned { pin: *pin, algorithms: provider.signature_verification_algorithms };
            builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier))
        }
    };
    Ok(Arc::new(builder.with_no_client_auth()))
}

/// The certificates of the PEM file at `path`, as roots.
fn roots(path: &std::path::Path) -> Result<RootCertStore> {
    let invalid = |reason: String| StoreError::InvalidRemote { given: path.display().to_string(), reason };
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| invalid(format!("cannot read the CA file: {e}")))?;
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(invalid("the CA file holds no usable certificate".into()));
    }
    Ok(roots)
}

/// Trusts exactly the certificate with fingerprint `pin`.
#[derive(Debug)]
struct Pinned {
    pin: Fingerprint,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let found = Fingerprint::of(end_entity);
        if found != self.pin {
            return Err(rustls::Error::General(format!(
                "the server's certificate has SHA-256 fingerprint {found}, not the pinned {}",
                self.pin
            )));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The provider every remote client uses (ring, as nu-command builds rustls).
#[cfg(test)]
fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_refuses_any_other_certificate() {
        let pin = Fingerprint::of(b"the right certificate");
        let verifier = Pinned { pin, algorithms: provider().signature_verification_algorithms };
        let name = ServerName::try_from("localhost").unwrap();
        let check = |der: &'static [u8]| {
            verifier.verify_server_cert(&CertificateDer::from(der), &[], &name, &[], UnixTime::now())
        };
        assert!(check(b"the right certificate").is_ok());
        let err = check(b"another certificate").unwrap_err().to_string();
        assert!(err.contains("not the pinned"), "{err}");
    }

    #[test]
    fn a_ca_file_must_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not pem").unwrap();
        assert!(matches!(config(&Trust::Ca(path), "https://h:1"), Err(StoreError::InvalidRemote { .. })));
        let missing = dir.path().join("missing.pem");
        assert!(matches!(config(&Trust::Ca(missing), "https://h:1"), Err(StoreError::InvalidRemote { .. })));
    }
}
