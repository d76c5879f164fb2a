//! End to end: fan-out rounds against the in-process no-op server.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use livetemplate_bench::modes::fanout::{self, FanoutConfig};
use livetemplate_bench::noop_server;
use livetemplate_bench::target::Target;
use livetemplate_bench::BenchError;

const TIMEOUT: Duration = Duration::from_secs(20);

async fn noop_target() -> (Target, tokio::task::JoinHandle<()>) {
    let (addr, handle) = noop_server::start(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        noop_server::DEFAULT_READ_BUFFER,
    )
    .await
    .expect("bind the no-op server");
    let target = Target::parse(&format!("http://127.0.0.1:{}/chat", addr.port())).expect("target");
    (target, handle)
}

fn config(subscribers: usize, rounds: usize) -> FanoutConfig {
    FanoutConfig {
        subscribers,
        rounds,
        warmup_rounds: 0,
        pause: Duration::from_millis(20),
        // Generous: the test asserts delivery, not speed.
        round_timeout: Duration::from_secs(20),
        action: "publish".into(),
        data: serde_json::json!({"text": "hi"}),
        same_session: false,
        connect_concurrency: 8,
        timeout: TIMEOUT,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscriber_gets_every_push() {
    let (target, server) = noop_target().await;
    for same_session in [false, true] {
        let mut cfg = config(50, 2);
        cfg.same_session = same_session;
        let r = fanout::run(&target, &cfg).await.expect("fanout run");
        assert_eq!((r.subscribers, r.rounds, r.complete_rounds), (50, 2, 2));
        assert_eq!(r.same_session, same_session);
        assert_eq!(r.per_round.len(), 2);
        for round in &r.per_round {
            assert_eq!((round.received, round.missed), (50, 0), "{round:?}");
            // The publisher is excluded from the pushes; nobody gets two.
            assert_eq!((round.duplicates, round.stale, round.late), (0, 0, 0));
            let all = round.all_patched_us.expect("complete round");
            assert_eq!(all, round.max_us);
            assert!(round.p50_us <= round.p99_us && round.p99_us <= all);
        }
        assert_eq!(r.missed, 0);
        assert_eq!(r.stray_pushes, 0);
        assert_eq!(r.latency.count, 100);
        assert_eq!(r.reply.count, 2);
        assert!(r.all_patched_median_us.is_some() && r.all_patched_p99_us.is_some());
    }
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_that_publishes_nothing_misses_everyone() {
    let (target, server) = noop_target().await;
    let mut cfg = config(3, 1);
    cfg.action = "increment".into(); // answered, but pushes nothing
    cfg.round_timeout = Duration::from_millis(200);
    let r = fanout::run(&target, &cfg).await.expect("fanout run");
    assert_eq!(r.complete_rounds, 0);
    assert_eq!(r.missed, 3);
    assert_eq!(r.all_patched_median_us, None);
    assert_eq!(r.per_round[0].received, 0);
    server.abort();
}

#[tokio::test]
async fn bad_configs_are_refused() {
    let (target, server) = noop_target().await;
    let mut cfg = config(0, 1);
    assert!(matches!(
        fanout::run(&target, &cfg).await,
        Err(BenchError::Usage(_))
    ));
    cfg.subscribers = 1;
    cfg.data = serde_json::json!([1]);
    assert!(matches!(
        fanout::run(&target, &cfg).await,
        Err(BenchError::Usage(_))
    ));
    server.abort();
}
