//! The TLS client configuration, made here rather than by reqwest for one reason: its session
//! store is asked for a ticket as the ClientHello is built, which is the moment the TCP
//! connection is up and the handshake begins, and so where `phases.rs` splits the connect from
//! the handshake. It is otherwise what reqwest would build: TLS 1.2 and 1.3, ALPN for HTTP/2 and
//! HTTP/1.1, SNI, sessions resumed, and trust in exactly the roots given (none checked with
//! `--insecure`).

use std::sync::Arc;

use anyhow::{Context, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::Tls13ClientSessionValue;
use rustls::client::{
    ClientSessionMemoryCache, ClientSessionStore, Resumption, Tls12ClientSessionValue,
};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, NamedGroup, SignatureScheme};

use super::phases;

/// Sessions kept for resumption, as many as rustls keeps by default.
const SESSIONS: usize = 256;

/// The client configuration trusting `roots` (or, `insecure`, any certificate at all), to be
/// given to each client through [`for_client`].
pub(crate) fn config(
    roots: &[CertificateDer<'static>],
    insecure: bool,
) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .context("cannot set up TLS")?;
    let mut config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate))
            .with_no_client_auth()
    } else {
        let mut store = rustls::RootCertStore::empty();
        store.add_parsable_certificates(roots.iter().cloned());
        builder.with_root_certificates(store).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// `config` with a session store of its own, as reqwest gave each client: a connection
/// resumes only a session of its own client.
pub(crate) fn for_client(config: &rustls::ClientConfig) -> rustls::ClientConfig {
    let mut config = config.clone();
    let sessions = ClientSessionMemoryCache::new(SESSIONS);
    config.resumption = Resumption::store(Arc::new(MarkedSessions(sessions)));
    config
}

/// rustls's in-memory session store, marking the handshake's start when the ClientHello
/// being built asks it for a session (it always does, resumable or not).
#[derive(Debug)]
struct MarkedSessions(ClientSessionMemoryCache);

impl ClientSessionStore for MarkedSessions {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.0.set_kx_hint(server_name, group);
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        phases::handshake_begins();
        self.0.kx_hint(server_name)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.0.set_tls12_session(server_name, value);
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        phases::handshake_begins();
        self.0.tls12_session(server_name)
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.0.remove_tls12_session(server_name);
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        self.0.insert_tls13_ticket(server_name, value);
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        phases::handshake_begins();
        self.0.take_tls13_ticket(server_name)
    }
}

/// `--insecure`: any certificate for any name, as curl's `-k`, and the handshake's
/// signatures unchecked too, so that the old devices `-k` is for (1024-bit RSA keys, SHA-1)
/// still answer.
#[derive(Debug)]
struct AnyCertificate;

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    /// Every scheme there is, so no server is refused for the one it signs with.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        use SignatureScheme::*;
        vec![
            RSA_PKCS1_SHA1,
            ECDSA_SHA1_Legacy,
            RSA_PKCS1_SHA256,
            ECDSA_NISTP256_SHA256,
            RSA_PKCS1_SHA384,
            ECDSA_NISTP384_SHA384,
            RSA_PKCS1_SHA512,
            ECDSA_NISTP521_SHA512,
            RSA_PSS_SHA256,
            RSA_PSS_SHA384,
            RSA_PSS_SHA512,
            ED25519,
            ED448,
        ]
    }
}
