//! HTTPS for the local HTTP API. API Gateway answers only over TLS, so clients are written
//! for `https://`; devstack serves the same gateway router over TLS as well as plain HTTP.
//!
//! The certificate authority belongs to the checkout: created on the first start in
//! `target/devstack/tls/` and reused afterwards, so a user trusts it once (ten years, as
//! mkcert's). The server certificate, for `localhost`, `127.0.0.1` and `::1`, is issued by it and
//! replaced whenever it is missing, no longer verifies against the CA, or expires within
//! [`RENEW_BEFORE`]; the check is the one a client makes, through rustls' own verifier.
//!
//! Trusting a CA system-wide is a risk if its key leaks, so the CA carries X.509 name
//! constraints: it can vouch for those three names and nothing else (RFC 5280 §4.2.1.10;
//! rustls, OpenSSL and macOS enforce them). Its key is readable by the owner only.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Write},
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints,
};
use time::OffsetDateTime;
use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinSet,
};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        self, RootCertStore, ServerConfig,
        client::{WebPkiServerVerifier, danger::ServerCertVerifier},
        crypto::{CryptoProvider, ring},
        pki_types::{
            CertificateDer, PrivateKeyDer, ServerName, UnixTime,
            pem::{self, PemObject},
        },
    },
    server::TlsStream,
};

/// The CA's certificate: what users and clients trust.
pub const CA_FILE: &str = "ca.pem";
const CA_KEY_FILE: &str = "ca.key";
const SERVER_CERT_FILE: &str = "localhost.pem";
const SERVER_KEY_FILE: &str = "localhost.key";
/// Held while the files are read or written: several stacks (a `make run`, test processes)
/// may start at once and must end up with one CA.
const LOCK_FILE: &str = ".lock";

/// The names the API is reached by; devstack listens on 127.0.0.1, the others resolve to it or
/// are there for clients that prefer them.
pub const SERVER_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

const CA_VALIDITY: time::Duration = time::Duration::days(3650);
/// Under Apple's 825-day limit for TLS server certificates, which applies to user-trusted roots.
const SERVER_VALIDITY: time::Duration = time::Duration::days(365);
/// A server certificate closer than this to its end is replaced at start-up, so a stack that
/// runs for weeks never serves an expired one.
pub const RENEW_BEFORE: time::Duration = time::Duration::days(30);

/// A client that opens a connection and never finishes the handshake holds only its own task,
/// and only this long.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot use {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: not a usable PEM file")]
    Pem {
        path: PathBuf,
        #[source]
        source: pem::Error,
    },
    #[error("cannot create a certificate")]
    Certificate(#[from] rcgen::Error),
    #[error("the TLS configuration is not usable")]
    Rustls(#[from] rustls::Error),
    #[error("the issued server certificate does not verify against the local CA")]
    Unverified(#[source] rustls::Error),
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What the HTTPS listener serves with, and the CA file clients need.
#[derive(Debug, Clone)]
pub struct LocalTls {
    pub ca_file: PathBuf,
    pub config: Arc<ServerConfig>,
}

impl LocalTls {
    /// Reads the CA and the server certificate from `dir`, creating or renewing what is
    /// missing or due.
    pub fn load_or_create(dir: &Path) -> Result<Self, TlsError> {
        Self::load_or_create_at(dir, OffsetDateTime::now_utc())
    }

    fn load_or_create_at(dir: &Path, now: OffsetDateTime) -> Result<Self, TlsError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_error(dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = File::create(&lock_path).map_err(io_error(&lock_path))?;
        lock.lock().map_err(io_error(&lock_path))?;

        let ca = match LocalCa::load(dir)? {
            Some(ca) => ca,
            None => LocalCa::create(dir, now)?,
        };
        let renew_at = now + RENEW_BEFORE;
        let (chain, key) = match ServerIdentity::load(dir) {
            Some(server) if ca.vouches_for(&server.cert, renew_at).is_ok() => {
                (server.cert, server.key)
            }
            _ => {
                let server = ca.issue(dir, now)?;
                ca.vouches_for(&server.cert, renew_at)
                    .map_err(TlsError::Unverified)?;
                (server.cert, server.key)
            }
        };
        drop(lock);

        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![chain], key)?;
        // The gateway speaks HTTP/1.1 only (axum's `http1`); saying so keeps clients from
        // offering h2 in vain.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            ca_file: dir.join(CA_FILE),
            config: Arc::new(config),
        })
    }
}

/// ring, as for every other TLS connection of the workspace: aws-lc is a long C build.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

struct LocalCa {
    cert: CertificateDer<'static>,
    key: KeyPair,
}

impl LocalCa {
    fn load(dir: &Path) -> Result<Option<Self>, TlsError> {
        let (cert_path, key_path) = (dir.join(CA_FILE), dir.join(CA_KEY_FILE));
        if !cert_path.exists() || !key_path.exists() {
            return Ok(None);
        }
        let cert = CertificateDer::from_pem_file(&cert_path).map_err(|source| TlsError::Pem {
            path: cert_path.clone(),
            source,
        })?;
        let key_pem = fs::read_to_string(&key_path).map_err(io_error(&key_path))?;
        // A CA whose key cannot be read is replaced rather than fatal: it could never sign
        // again, and a fresh one costs the user one more trust step.
        Ok(KeyPair::from_pem(&key_pem)
            .ok()
            .map(|key| Self { cert, key }))
    }

    fn create(dir: &Path, now: OffsetDateTime) -> Result<Self, TlsError> {
        let key = KeyPair::generate()?;
        let mut params = ca_params(&key);
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + CA_VALIDITY;
        let cert = params.self_signed(&key)?;
        write_private(&dir.join(CA_KEY_FILE), &key.serialize_pem())?;
        write_public(&dir.join(CA_FILE), &cert.pem())?;
        Ok(Self {
            cert: cert.der().clone(),
            key,
        })
    }

    /// A new server certificate for [`SERVER_NAMES`], written to `dir`.
    fn issue(&self, dir: &Path, now: OffsetDateTime) -> Result<ServerIdentity, TlsError> {
        let names: Vec<String> = SERVER_NAMES.iter().map(|&name| name.to_owned()).collect();
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names)?;
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + SERVER_VALIDITY;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &self.issuer())?;
        write_private(&dir.join(SERVER_KEY_FILE), &key.serialize_pem())?;
        write_public(&dir.join(SERVER_CERT_FILE), &cert.pem())?;
        Ok(ServerIdentity {
            cert: cert.der().clone(),
            key: PrivateKeyDer::try_from(key.serialize_der())
                .map_err(|e| rustls::Error::General(e.to_owned()))?,
        })
    }

    /// The CA's subject and key identifier are functions of its key, so the issuer is rebuilt
    /// from the key alone, without parsing the stored certificate.
    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::new(ca_params(&self.key), &self.key)
    }

    /// Whether a client trusting only this CA accepts `cert` for every one of
    /// [`SERVER_NAMES`] at `at`.
    fn vouches_for(
        &self,
        cert: &CertificateDer<'_>,
        at: OffsetDateTime,
    ) -> Result<(), rustls::Error> {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.clone())?;
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| rustls::Error::General(e.to_string()))?;
        let at = UnixTime::since_unix_epoch(Duration::from_secs(
            u64::try_from(at.unix_timestamp()).unwrap_or_default(),
        ));
        for name in SERVER_NAMES {
            let name =
                ServerName::try_from(name).map_err(|e| rustls::Error::General(e.to_string()))?;
            verifier.verify_server_cert(cert, &[], &name, &[], at)?;
        }
        Ok(())
    }
}

/// The CA's certificate parameters, validity aside. The common name carries the start of the
/// key's identifier so two checkouts' CAs are told apart in a trust store.
fn ca_params(key: &KeyPair) -> CertificateParams {
    let mut params = CertificateParams::default();
    let key_id = params
        .key_identifier(key)
        .get(..4)
        .and_then(|start| <[u8; 4]>::try_from(start).ok())
        .map_or(0, u32::from_be_bytes);
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "serverless shop devstack");
    params.distinguished_name.push(
        DnType::CommonName,
        format!("devstack local CA {key_id:08x}"),
    );
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![
            GeneralSubtree::DnsName("localhost".to_owned()),
            GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                32,
            )),
            GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(
                IpAddr::V6(Ipv6Addr::LOCALHOST),
                128,
            )),
        ],
        excluded_subtrees: Vec::new(),
    });
    params
}

struct ServerIdentity {
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

impl ServerIdentity {
    /// The stored certificate and key; `None` when either is missing or unreadable, which
    /// only means a new one is issued.
    fn load(dir: &Path) -> Option<Self> {
        let cert = CertificateDer::from_pem_file(dir.join(SERVER_CERT_FILE)).ok()?;
        let key = PrivateKeyDer::from_pem_file(dir.join(SERVER_KEY_FILE)).ok()?;
        Some(Self { cert, key })
    }
}

fn write_private(path: &Path, contents: &str) -> Result<(), TlsError> {
    write_atomically(path, contents, 0o600)
}

fn write_public(path: &Path, contents: &str) -> Result<(), TlsError> {
    write_atomically(path, contents, 0o644)
}

/// Through a temporary file and a rename, so a reader never sees half a file.
fn write_atomically(path: &Path, contents: &str, mode: u32) -> Result<(), TlsError> {
    let temporary = path.with_extension("tmp");
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&temporary)
        .map_err(io_error(&temporary))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_error(&temporary))?;
    fs::rename(&temporary, path).map_err(io_error(path))
}

/// A TCP listener whose connections come out TLS-terminated. Handshakes run concurrently, each
/// in its own task under [`HANDSHAKE_TIMEOUT`], so one slow or broken client delays no other;
/// a failed handshake is dropped (the client has its alert).
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Option<(TlsStream<TcpStream>, SocketAddr)>>,
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener")
            .field("tcp", &self.tcp)
            .field("handshakes", &self.handshakes.len())
            .finish_non_exhaustive()
    }
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> Self {
        Self {
            tcp,
            acceptor: TlsAcceptor::from(config),
            handshakes: JoinSet::new(),
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let acceptor = self.acceptor.clone();
                        self.handshakes.spawn(async move {
                            let handshake = acceptor.accept(stream);
                            let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake)
                                .await
                                .ok()?
                                .ok()?;
                            Some((stream, peer))
                        });
                    }
                    // As axum's own listener: out of descriptors and the like pass; wait a
                    // little instead of spinning.
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                },
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Some(connection)) = done {
                        return connection;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            let dir = std::env::temp_dir().join(format!("devstack-tls-{}", uuid::Uuid::new_v4()));
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn read(dir: &Path, file: &str) -> Vec<u8> {
        fs::read(dir.join(file)).expect("the file exists")
    }

    fn stored_ca(dir: &Path) -> LocalCa {
        LocalCa::load(dir)
            .expect("the CA reads")
            .expect("the CA exists")
    }

    fn stored_server_cert(dir: &Path) -> CertificateDer<'static> {
        CertificateDer::from_pem_file(dir.join(SERVER_CERT_FILE)).expect("the certificate reads")
    }

    #[test]
    fn the_first_start_creates_a_ca_and_later_starts_reuse_it_and_its_server_certificate() {
        let dir = TempDir::new();
        let first = LocalTls::load_or_create(&dir.0).expect("created");
        let (ca, server) = (read(&dir.0, CA_FILE), read(&dir.0, SERVER_CERT_FILE));
        let second = LocalTls::load_or_create(&dir.0).expect("loaded");
        assert_eq!(first.ca_file, second.ca_file);
        assert_eq!(read(&dir.0, CA_FILE), ca);
        assert_eq!(read(&dir.0, SERVER_CERT_FILE), server);
        for private in [CA_KEY_FILE, SERVER_KEY_FILE] {
            let mode = fs::metadata(dir.0.join(private))
                .expect("the key exists")
                .permissions()
                .mode();
            assert_eq!(
                mode & 0o777,
                0o600,
                "{private} is readable by its owner only"
            );
        }
    }

    #[test]
    fn a_server_certificate_near_its_end_is_replaced_under_the_same_ca() {
        let dir = TempDir::new();
        let now = OffsetDateTime::now_utc();
        LocalTls::load_or_create_at(&dir.0, now).expect("created");
        let (ca, server) = (read(&dir.0, CA_FILE), read(&dir.0, SERVER_CERT_FILE));

        let still_fresh = now + SERVER_VALIDITY - RENEW_BEFORE - time::Duration::days(2);
        LocalTls::load_or_create_at(&dir.0, still_fresh).expect("loaded");
        assert_eq!(read(&dir.0, SERVER_CERT_FILE), server);

        let due = now + SERVER_VALIDITY - RENEW_BEFORE + time::Duration::days(1);
        LocalTls::load_or_create_at(&dir.0, due).expect("renewed");
        assert_eq!(read(&dir.0, CA_FILE), ca, "the trusted CA stays");
        assert_ne!(read(&dir.0, SERVER_CERT_FILE), server);
        stored_ca(&dir.0)
            .vouches_for(&stored_server_cert(&dir.0), due + RENEW_BEFORE)
            .expect("the new certificate verifies until after the next renewal point");
    }

    #[test]
    fn a_server_certificate_of_another_ca_is_replaced() {
        let dir = TempDir::new();
        LocalTls::load_or_create(&dir.0).expect("created");
        for file in [CA_FILE, CA_KEY_FILE] {
            fs::remove_file(dir.0.join(file)).expect("removed");
        }
        LocalTls::load_or_create(&dir.0).expect("a new CA");
        stored_ca(&dir.0)
            .vouches_for(&stored_server_cert(&dir.0), OffsetDateTime::now_utc())
            .expect("the server certificate was issued again, by the new CA");
    }

    #[test]
    fn the_ca_cannot_vouch_for_names_outside_this_machine() {
        let dir = TempDir::new();
        LocalTls::load_or_create(&dir.0).expect("created");
        let ca = stored_ca(&dir.0);
        let key = KeyPair::generate().expect("a key");
        let mut params = CertificateParams::new(vec!["example.com".to_owned()]).expect("params");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let foreign = params.signed_by(&key, &ca.issuer()).expect("signed");

        let mut roots = RootCertStore::empty();
        roots.add(ca.cert.clone()).expect("a root");
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .expect("a verifier");
        let name = ServerName::try_from("example.com").expect("a name");
        let refused = verifier
            .verify_server_cert(foreign.der(), &[], &name, &[], UnixTime::now())
            .expect_err("refused");
        assert!(
            format!("{refused:?}").contains("NameConstraintViolation"),
            "{refused:?}"
        );
    }

    async fn serve_hello(tls: &LocalTls) -> SocketAddr {
        let tcp = TcpListener::bind(("127.0.0.1", 0)).await.expect("a port");
        let address = tcp.local_addr().expect("an address");
        let listener = TlsListener::new(tcp, tls.config.clone());
        let router = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" }));
        tokio::spawn(async move { axum::serve(listener, router).await });
        address
    }

    fn trusting(ca_file: &Path, address: SocketAddr) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(&fs::read(ca_file).expect("the CA file"))
            .expect("a PEM certificate");
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            .resolve("localhost", address)
            .build()
            .expect("a client")
    }

    #[tokio::test]
    async fn a_client_trusting_the_ca_is_answered_over_tls_and_one_trusting_another_is_refused() {
        let dir = TempDir::new();
        let tls = LocalTls::load_or_create(&dir.0).expect("created");
        let address = serve_hello(&tls).await;
        let client = trusting(&tls.ca_file, address);
        for url in [
            format!("https://127.0.0.1:{}/hello", address.port()),
            format!("https://localhost:{}/hello", address.port()),
        ] {
            let response = client.get(&url).send().await.expect("answered");
            assert_eq!(response.status(), 200, "{url}");
            assert_eq!(response.text().await.expect("a body"), "hello");
        }

        // Another checkout's CA: the certificate is refused for its issuer, as by a client with
        // the OS's roots (not those: a user who trusted this CA system-wide has it there).
        let elsewhere = TempDir::new();
        let other = LocalTls::load_or_create(&elsewhere.0).expect("another CA");
        let refused = trusting(&other.ca_file, address)
            .get(format!("https://127.0.0.1:{}/hello", address.port()))
            .send()
            .await
            .expect_err("refused");
        let chain = crate::error_chain(&refused);
        assert!(chain.contains("UnknownIssuer"), "{chain}");
    }

    #[tokio::test]
    async fn a_client_stuck_in_its_handshake_delays_no_other() {
        let dir = TempDir::new();
        let tls = LocalTls::load_or_create(&dir.0).expect("created");
        let address = serve_hello(&tls).await;
        // Connected, but silent: its handshake waits for a ClientHello that never comes.
        let _silent = TcpStream::connect(address).await.expect("connected");
        let response = tokio::time::timeout(
            Duration::from_secs(5),
            trusting(&tls.ca_file, address)
                .get(format!("https://127.0.0.1:{}/hello", address.port()))
                .send(),
        )
        .await
        .expect("answered while the other handshake waits")
        .expect("answered");
        assert_eq!(response.status(), 200);
    }
}
