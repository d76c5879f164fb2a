//! End to end: the load generator against the in-process no-op server.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use livetemplate_bench::client::{click_message, Session};
use livetemplate_bench::modes::clicks::{self, ClicksConfig, Limit};
use livetemplate_bench::modes::connect::{self, ConnectConfig};
use livetemplate_bench::modes::idle::{self, IdleConfig};
use livetemplate_bench::noop_server::{self, CLICK_REPLY, FIRST_FRAME};
use livetemplate_bench::target::Target;
use livetemplate_bench::BenchError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TIMEOUT: Duration = Duration::from_secs(20);

async fn noop_target() -> (Target, tokio::task::JoinHandle<()>) {
    let (addr, handle) = noop_server::start(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        noop_server::DEFAULT_READ_BUFFER,
    )
    .await
    .expect("bind the no-op server");
    let target =
        Target::parse(&format!("http://127.0.0.1:{}/counter", addr.port())).expect("target");
    (target, handle)
}

fn clicks_config(clickers: usize, total: u64) -> ClicksConfig {
    ClicksConfig {
        clickers,
        limit: Limit::Clicks {
            total,
            max_time: Duration::from_secs(120),
        },
        warmup: Duration::ZERO,
        action: "increment".into(),
        timeout: TIMEOUT,
        connect_concurrency: 8,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicks_idle_and_connect_against_the_noop_server() {
    let (target, server) = noop_target().await;

    for (clickers, total) in [(1usize, 300u64), (10, 305)] {
        let r = clicks::run(&target, &clicks_config(clickers, total))
            .await
            .expect("clicks run");
        assert_eq!(r.clickers, clickers);
        assert_eq!(r.clicks, total, "every requested click is measured");
        assert_eq!(r.rtt.count, total);
        assert_eq!(r.warmup_clicks, 0);
        assert!(!r.capped);
        assert_eq!(r.skipped_frames, 0);
        assert!(
            r.rtt.min_us <= r.rtt.p50_us
                && r.rtt.p50_us <= r.rtt.p99_us
                && r.rtt.p99_us <= r.rtt.max_us
        );
        assert_eq!(r.ping.count, clickers as u64, "one ping per clicker");
        // Bytes per update are exact for the fixed frames.
        let up = click_message("increment").len() as u64;
        assert_eq!(
            (r.up_bytes.count, r.up_bytes.min, r.up_bytes.max),
            (total, up, up)
        );
        let down = CLICK_REPLY.len() as u64;
        assert_eq!(
            (r.down_bytes.count, r.down_bytes.min, r.down_bytes.max),
            (total, down, down)
        );
        assert_eq!(r.up_wire_bytes_mean, (up + 6) as f64);
        assert_eq!(r.down_wire_bytes_mean, (down + 2) as f64);
    }

    // A timed run with a warm-up: bounded, and warm-up clicks are kept apart.
    let mut timed = clicks_config(2, 0);
    timed.limit = Limit::Duration(Duration::from_millis(300));
    timed.warmup = Duration::from_millis(100);
    let r = clicks::run(&target, &timed)
        .await
        .expect("timed clicks run");
    assert_eq!(r.rtt.count, r.clicks);
    assert_eq!(r.up_bytes.count, r.clicks);
    assert!((r.elapsed_s - 0.3).abs() < 1e-9);

    let own_pid = std::process::id();
    let r = idle::run(
        &target,
        &IdleConfig {
            connections: 50,
            concurrency: 8,
            warmup_connections: 2,
            settle: Duration::from_millis(10),
            timeout: TIMEOUT,
            server_pid: Some(own_pid),
        },
    )
    .await
    .expect("idle run");
    assert_eq!(r.connections, 50);
    assert_eq!(r.connect.count, 50);
    assert_eq!(r.first_frame_bytes.count, 50);
    assert_eq!(r.first_frame_bytes.min, FIRST_FRAME.len() as u64);
    assert!(r.rss_before.is_some() && r.rss_after.is_some() && r.rss_per_connection.is_some());

    let r = connect::run(
        &target,
        &ConnectConfig {
            count: 20,
            warmup: 2,
            timeout: TIMEOUT,
        },
    )
    .await
    .expect("connect run");
    assert_eq!(
        (r.count, r.total.count, r.get.count, r.upgrade.count),
        (20, 20, 20, 20)
    );
    assert!(r.get.max_us <= r.total.max_us);

    server.abort();
}

/// A server that answers every request with a fixed raw HTTP response.
async fn fixed_http_server(response: &'static str) -> Target {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(response.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    Target::parse(&format!("http://127.0.0.1:{port}/")).expect("target")
}

#[tokio::test]
async fn misbehaving_servers_give_clear_errors() {
    // Cookie set, but the upgrade answers 404.
    let t = fixed_http_server(
        "HTTP/1.1 404 Not Found\r\nSet-Cookie: livetemplate-id=x; Path=/\r\nContent-Length: 4\r\n\r\nnope",
    )
    .await;
    match Session::open(&t, TIMEOUT).await {
        Err(BenchError::UpgradeRefused { status: 404, .. }) | Err(BenchError::BadHttp(_)) => {}
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("a 404 server must not yield a session"),
    }

    // 200 without the session cookie.
    let t = fixed_http_server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
    match Session::open(&t, TIMEOUT).await {
        Err(BenchError::NoCookie(name)) => assert_eq!(name, "livetemplate-id"),
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("no cookie must not yield a session"),
    }

    // Not HTTP at all.
    let t = fixed_http_server("garbage\r\n\r\n").await;
    assert!(matches!(
        Session::open(&t, TIMEOUT).await,
        Err(BenchError::BadHttp(_))
    ));

    // Nothing listening.
    let closed = {
        let l = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        l.local_addr().expect("addr").port()
    };
    let t = Target::parse(&format!("http://127.0.0.1:{closed}/")).expect("target");
    assert!(matches!(
        Session::open(&t, TIMEOUT).await,
        Err(BenchError::Io { .. })
    ));
}

#[tokio::test]
async fn wrong_action_in_reply_is_reported() {
    let (target, server) = noop_target().await;
    let mut cfg = clicks_config(1, 5);
    cfg.action = "decrement".into(); // the no-op server always answers for "increment"
    match clicks::run(&target, &cfg).await {
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains("unexpected frame") && msg.contains("increment"),
                "{msg}"
            );
        }
        Ok(_) => panic!("a reply for another action must fail the run"),
    }
    server.abort();
}
