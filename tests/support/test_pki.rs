//! A throwaway PKI made at test time: a CA and a server certificate for `localhost` and
//! `127.0.0.1` signed by it, for wss tests. Nothing is read from or written to the system store.

#![allow(dead_code)]

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509Builder, X509Name, X509NameBuilder, X509NameRef, X509};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A CA and one server identity it signed.
pub struct TestPki {
    /// The CA certificate, PEM.
    pub ca_pem: Vec<u8>,
    /// The server certificate, PEM.
    pub cert_pem: Vec<u8>,
    /// The server key, PKCS#8 PEM.
    pub key_pem: Vec<u8>,
}

fn key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

fn name(cn: &str) -> X509Name {
    let mut b = X509NameBuilder::new().unwrap();
    b.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    b.build()
}

fn builder(subject: &X509NameRef, issuer: &X509NameRef, key: &PKey<Private>) -> X509Builder {
    static SERIAL: AtomicU32 = AtomicU32::new(1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    let serial = BigNum::from_u32(SERIAL.fetch_add(1, Ordering::Relaxed) + std::process::id())
        .and_then(|n| Asn1Integer::from_bn(&n))
        .unwrap();
    b.set_serial_number(&serial).unwrap();
    b.set_subject_name(subject).unwrap();
    b.set_issuer_name(issuer).unwrap();
    b.set_pubkey(key).unwrap();
    b.set_not_before(&Asn1Time::from_unix(now - 3600).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::from_unix(now + 2 * 86_400).unwrap())
        .unwrap();
    b
}

impl TestPki {
    /// A new CA named `ca_name` and a server certificate for localhost / 127.0.0.1.
    pub fn new(ca_name: &str) -> TestPki {
        let ca_key = key();
        let ca_subject = name(ca_name);
        let mut b = builder(&ca_subject, &ca_subject, &ca_key);
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
            .unwrap();
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()
                .unwrap(),
        )
        .unwrap();
        let ski = SubjectKeyIdentifier::new()
            .build(&b.x509v3_context(None, None))
            .unwrap();
        b.append_extension(ski).unwrap();
        b.sign(&ca_key, MessageDigest::sha256()).unwrap();
        let ca: X509 = b.build();

        let server_key = key();
        let mut b = builder(&name("localhost"), ca.subject_name(), &server_key);
        b.append_extension(BasicConstraints::new().build().unwrap())
            .unwrap();
        b.append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .build()
                .unwrap(),
        )
        .unwrap();
        b.append_extension(ExtendedKeyUsage::new().server_auth().build().unwrap())
            .unwrap();
        let san = SubjectAlternativeName::new()
            .dns("localhost")
            .ip("127.0.0.1")
            .build(&b.x509v3_context(Some(&ca), None))
            .unwrap();
        b.append_extension(san).unwrap();
        let aki = AuthorityKeyIdentifier::new()
            .keyid(true)
            .build(&b.x509v3_context(Some(&ca), None))
            .unwrap();
        b.append_extension(aki).unwrap();
        b.sign(&ca_key, MessageDigest::sha256()).unwrap();
        let cert = b.build();

        TestPki {
            ca_pem: ca.to_pem().unwrap(),
            cert_pem: cert.to_pem().unwrap(),
            key_pem: server_key.private_key_to_pem_pkcs8().unwrap(),
        }
    }

    /// The server side of TLS with this identity.
    pub fn acceptor(&self) -> native_tls::TlsAcceptor {
        let identity = native_tls::Identity::from_pkcs8(&self.cert_pem, &self.key_pem).unwrap();
        native_tls::TlsAcceptor::new(identity).unwrap()
    }

    /// Writes the CA certificate to a temporary file and returns its path.
    pub fn write_ca(&self, file_name: &str) -> PathBuf {
        let path = crate::support::temp_path(file_name);
        std::fs::write(&path, &self.ca_pem).unwrap();
        path
    }
}
