//! A moto server for the tests of one process.

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    process::{Child, ChildStdin},
    sync::{Mutex, OnceLock},
    time::{Duration, Instant},
};

use aws_config::{Region, SdkConfig};

/// Set to use an emulator that is already running instead of starting one.
pub const ENDPOINT_ENV: &str = "SHOP_TEST_AWS_ENDPOINT";
pub const REGION: &str = "us-east-1";
const STARTUP_TIMEOUT: Duration = Duration::from_mins(1);

/// A running moto server (or one given by [`ENDPOINT_ENV`]).
#[derive(Debug)]
pub struct Moto {
    endpoint: String,
    process: Option<Mutex<Watchdog>>,
}

/// moto runs under devstack's watchdog shell, which kills it once its stdin closes. Dropping
/// [`Moto`] closes it; so does the end of the test process, however it ends, so no emulator
/// outlives its tests.
#[derive(Debug)]
struct Watchdog {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

impl Moto {
    /// The emulator shared by every test in this process, started on first use.
    pub fn shared() -> &'static Moto {
        static SHARED: OnceLock<Moto> = OnceLock::new();
        SHARED.get_or_init(Moto::start)
    }

    /// Starts a moto server of its own (or uses the configured endpoint).
    pub fn start() -> Moto {
        if let Ok(endpoint) = std::env::var(ENDPOINT_ENV) {
            return Moto {
                endpoint,
                process: None,
            };
        }
        Self::start_with_env(&[])
    }

    /// Starts a moto server of its own with these environment variables (settings of the
    /// launcher a test changes), whatever [`ENDPOINT_ENV`] says.
    pub fn start_with_env(variables: &[(&str, &str)]) -> Moto {
        let port = free_port();
        let mut child = devstack::emulator::moto_command(&crate::workspace_root(), port)
            .unwrap_or_else(|error| panic!("{error} (or set {ENDPOINT_ENV} to a running emulator)"))
            .envs(variables.iter().copied())
            .spawn()
            .expect("start moto_server");
        let stdin = child.stdin.take();
        let moto = Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            process: Some(Mutex::new(Watchdog { child, stdin })),
        };
        wait_until_listening(port);
        moto
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// SDK configuration for this emulator with dummy credentials. Build it (and clients from
    /// it) inside each test: SDK clients belong to the Tokio runtime that created them.
    pub async fn sdk_config(&self) -> SdkConfig {
        shop_aws::loader()
            .region(Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .test_credentials()
            .load()
            .await
    }

    /// Stops a process this value started (a no-op for a given endpoint).
    pub fn stop(&mut self) {
        if let Some(process) = self.process.take() {
            drop(process);
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

fn wait_until_listening(port: u16) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let started = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            started.elapsed() < STARTUP_TIMEOUT,
            "moto_server did not listen on {addr} within {STARTUP_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
