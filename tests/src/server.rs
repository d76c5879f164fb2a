//! [`TestServer`]: an app served on a loopback port from a dedicated thread and Tokio runtime.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::pin::Pin;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Any error a serve function may end with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a serve function returns: a future that serves the listener until it fails.
pub type ServeFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

type ServeFn = Arc<dyn Fn(TcpListener) -> ServeFuture + Send + Sync>;

/// How long [`TestServer::restart`] keeps trying to bind the old port again.
const REBIND_PATIENCE: Duration = Duration::from_secs(5);

/// Why a [`TestServer`] could not start, or how it ended.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Binding the listening socket failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// The underlying error.
        source: io::Error,
    },
    /// The server thread or its Tokio runtime could not be started.
    #[error("cannot start the server thread: {0}")]
    Spawn(io::Error),
    /// The serve function returned an error.
    #[error("the server failed: {0}")]
    Serve(String),
    /// The serve function returned `Ok` although it was not asked to stop.
    #[error("the server stopped on its own before it was asked to")]
    EndedEarly,
    /// The server thread panicked.
    #[error("the server thread panicked: {0}")]
    Panicked(String),
}

struct Running {
    stop: oneshot::Sender<()>,
    thread: JoinHandle<Result<(), ServerError>>,
}

/// An app served on `127.0.0.1` from its own thread and multi-threaded Tokio runtime.
///
/// The serve function receives a bound Tokio listener and serves it until its future is dropped.
/// [`stop`](Self::stop) drops that future and shuts the runtime down, which also drops every task
/// the server spawned, so open connections (WebSockets included) are closed as if the process had
/// exited. [`restart`](Self::restart) then serves a new listener on the same port by calling the
/// serve function again. Dropping a `TestServer` stops it.
///
/// # Examples
///
/// ```
/// use livetemplate_tests::TestServer;
///
/// let mut server = TestServer::start(|listener| {
///     Box::pin(async move {
///         loop {
///             let (socket, _) = listener.accept().await?;
///             drop(socket);
///         }
///     })
/// })
/// .unwrap();
/// assert!(server.url().starts_with("http://127.0.0.1:"));
/// server.stop().unwrap();
/// ```
pub struct TestServer {
    addr: SocketAddr,
    serve: ServeFn,
    running: Option<Running>,
}

impl TestServer {
    /// Serves on a free port of `127.0.0.1`.
    ///
    /// The socket is bound before this returns, so clients may connect at once.
    ///
    /// # Errors
    ///
    /// [`ServerError::Bind`] or [`ServerError::Spawn`].
    pub fn start<F>(serve: F) -> Result<Self, ServerError>
    where
        F: Fn(TcpListener) -> ServeFuture + Send + Sync + 'static,
    {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), serve)
    }

    /// Serves on `addr` (port 0 picks a free port).
    ///
    /// # Errors
    ///
    /// [`ServerError::Bind`] or [`ServerError::Spawn`].
    pub fn start_on<F>(addr: SocketAddr, serve: F) -> Result<Self, ServerError>
    where
        F: Fn(TcpListener) -> ServeFuture + Send + Sync + 'static,
    {
        let listener =
            StdListener::bind(addr).map_err(|source| ServerError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        let mut server = TestServer {
            addr,
            serve: Arc::new(serve),
            running: None,
        };
        server.launch(listener)?;
        Ok(server)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of the server's root page, e.g. `http://127.0.0.1:41234/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Whether the server is serving (started and not stopped).
    pub fn is_running(&self) -> bool {
        self.running
            .as_ref()
            .is_some_and(|running| !running.thread.is_finished())
    }

    /// Stops the server and closes all of its connections. Stopping a stopped server does nothing.
    ///
    /// # Errors
    ///
    /// How the server ended if it ended by itself: [`ServerError::Serve`],
    /// [`ServerError::EndedEarly`] or [`ServerError::Panicked`].
    pub fn stop(&mut self) -> Result<(), ServerError> {
        let Some(running) = self.running.take() else {
            return Ok(());
        };
        // The thread may already have ended; then the send fails and join reports why.
        let _ = running.stop.send(());
        match running.thread.join() {
            Ok(result) => result,
            Err(panic) => Err(ServerError::Panicked(panic_message(panic.as_ref()))),
        }
    }

    /// Stops the server, then serves again on the same port.
    ///
    /// # Errors
    ///
    /// What [`stop`](Self::stop) reports about the old server, or why the port could not be
    /// bound again within a few seconds.
    pub fn restart(&mut self) -> Result<(), ServerError> {
        self.stop()?;
        let deadline = Instant::now() + REBIND_PATIENCE;
        let listener = loop {
            match StdListener::bind(self.addr) {
                Ok(listener) => break listener,
                Err(err) if err.kind() == io::ErrorKind::AddrInUse && Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(20));
                }
                Err(source) => {
                    return Err(ServerError::Bind {
                        addr: self.addr,
                        source,
                    })
                }
            }
        };
        self.launch(listener)
    }

    fn launch(&mut self, listener: StdListener) -> Result<(), ServerError> {
        listener.set_nonblocking(true).map_err(ServerError::Spawn)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(format!("test-server-{}", self.addr.port()))
            .enable_all()
            .build()
            .map_err(ServerError::Spawn)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let serve = Arc::clone(&self.serve);
        let thread = thread::Builder::new()
            .name(format!("test-server-{}", self.addr.port()))
            .spawn(move || {
                let result = runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener)
                        .map_err(|err| ServerError::Serve(err.to_string()))?;
                    tokio::select! {
                        // Polled first, so an error that is already there is never lost to a stop.
                        biased;
                        served = serve(listener) => match served {
                            Ok(()) => Err(ServerError::EndedEarly),
                            Err(err) => Err(ServerError::Serve(err.to_string())),
                        },
                        _ = stopped => Ok(()),
                    }
                });
                // Drops every task the server spawned: their sockets close now.
                runtime.shutdown_timeout(Duration::from_secs(1));
                result
            })
            .map_err(ServerError::Spawn)?;
        self.running = Some(Running { stop, thread });
        Ok(())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Errors were the test's to ask for with `stop`; dropping must not panic.
        let _ = self.stop();
    }
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .field("running", &self.is_running())
            .finish()
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use tokio::io::AsyncWriteExt;

    /// Greets every connection with "hello <n>\n", where n counts the serve calls, and keeps it open.
    fn greeter() -> impl Fn(TcpListener) -> ServeFuture + Send + Sync + 'static {
        let generation = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        move |listener| {
            let n = generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            Box::pin(async move {
                loop {
                    let (mut socket, _) = listener.accept().await?;
                    tokio::spawn(async move {
                        let _ = socket.write_all(format!("hello {n}\n").as_bytes()).await;
                        // Hold the connection open until the runtime goes away.
                        std::future::pending::<()>().await;
                        drop(socket);
                    });
                }
            })
        }
    }

    fn greeting(stream: &mut TcpStream) -> String {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("set a read timeout");
        let mut buf = [0u8; 32];
        let n = stream.read(&mut buf).expect("read the greeting");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[test]
    fn serves_on_a_free_loopback_port() {
        let server = TestServer::start(greeter()).expect("start");
        assert!(server.addr().ip().is_loopback());
        assert_ne!(server.addr().port(), 0);
        assert_eq!(
            server.url(),
            format!("http://127.0.0.1:{}/", server.addr().port())
        );
        let mut stream = TcpStream::connect(server.addr()).expect("connect");
        assert_eq!(greeting(&mut stream), "hello 1\n");
        assert!(server.is_running());
    }

    #[test]
    fn stop_closes_open_connections_and_the_port() {
        let mut server = TestServer::start(greeter()).expect("start");
        let mut stream = TcpStream::connect(server.addr()).expect("connect");
        assert_eq!(greeting(&mut stream), "hello 1\n");
        server.stop().expect("stop");
        assert!(!server.is_running());
        let mut rest = Vec::new();
        // EOF (or a reset) instead of blocking: the connection task was dropped.
        let read = stream.read_to_end(&mut rest);
        assert!(
            read.map(|n| n == 0).unwrap_or(true),
            "connection still open"
        );
        assert!(
            TcpStream::connect(server.addr()).is_err(),
            "port still accepts"
        );
        server.stop().expect("a second stop is a no-op");
    }

    #[test]
    fn restart_serves_again_on_the_same_port() {
        let mut server = TestServer::start(greeter()).expect("start");
        let addr = server.addr();
        let mut old = TcpStream::connect(addr).expect("connect");
        assert_eq!(greeting(&mut old), "hello 1\n");
        server.restart().expect("restart");
        assert_eq!(server.addr(), addr);
        let mut new = TcpStream::connect(addr).expect("connect after restart");
        assert_eq!(greeting(&mut new), "hello 2\n");
        let _ = old.write_all(b"x");
        let mut rest = Vec::new();
        assert!(old.read_to_end(&mut rest).map(|n| n == 0).unwrap_or(true));
    }

    #[test]
    fn a_failing_server_reports_its_error() {
        let mut server = TestServer::start(|_listener| {
            Box::pin(async { Err::<(), BoxError>("no database".into()) })
        })
        .expect("start");
        let err = server.stop().expect_err("the serve error is reported");
        assert!(
            matches!(err, ServerError::Serve(ref m) if m == "no database"),
            "{err}"
        );
    }

    #[test]
    fn a_server_that_returns_is_reported() {
        let mut server = TestServer::start(|_listener| Box::pin(async { Ok(()) })).expect("start");
        assert!(matches!(server.stop(), Err(ServerError::EndedEarly)));
    }

    #[test]
    fn binding_a_taken_port_is_an_error() {
        let server = TestServer::start(greeter()).expect("start");
        let err = TestServer::start_on(server.addr(), greeter()).expect_err("port is taken");
        assert!(matches!(err, ServerError::Bind { .. }), "{err}");
        assert!(
            err.to_string().contains(&server.addr().to_string()),
            "{err}"
        );
    }
}
