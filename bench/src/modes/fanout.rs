//! Fan-out latency: K subscribers each hold a connection; one more connection, the publisher, sends an action
//! whose handler publishes to a topic every subscriber listens to, and each subscriber then receives a server
//! push. A round is timed from just before the publisher's send (t0) to each subscriber's first push after t0;
//! its headline figure is the time until the last subscriber has its push ("all patched").
//!
//! Pushes carry no round number, so a push that arrives after its round's timeout is counted as stale in the
//! next round (it is stamped before that round's t0) or, if it comes after the next t0, taken for that round's
//! push; the pause between rounds keeps this unlikely, and the per-round `stale` count shows when it happened.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, watch};

use crate::client::{
    action_message, classify, extract_cookie, truncate, Reply, Session, COOKIE_NAME,
};
use crate::modes::{close_all, open_many_with_cookie};
use crate::stats::{Histogram, Summary};
use crate::target::Target;
use crate::BenchError;

/// Settings of one fan-out run (one subscriber count).
#[derive(Debug, Clone)]
pub struct FanoutConfig {
    /// Subscriber connections (the publisher comes on top).
    pub subscribers: usize,
    /// Measured rounds.
    pub rounds: usize,
    /// Unmeasured rounds run first.
    pub warmup_rounds: usize,
    /// Wait between two rounds.
    pub pause: Duration,
    /// How long after t0 a round waits for its pushes; subscribers without one by then are missed.
    pub round_timeout: Duration,
    /// Action the publisher sends.
    pub action: String,
    /// Its `data` object.
    pub data: serde_json::Value,
    /// All connections share one session cookie (tabs of one browser) instead of one session each.
    pub same_session: bool,
    /// Connections opened at once.
    pub connect_concurrency: usize,
    /// Per-operation timeout (connects, the publisher's reply).
    pub timeout: Duration,
}

/// What [`Round::record`] made of one push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The subscriber's first push of the round: its latency is recorded.
    First,
    /// A further push to a subscriber that already had one this round.
    Duplicate,
    /// Received before the round's t0 (a late push of an earlier round, or an unrelated one).
    Stale,
    /// Received after the round's timeout.
    Late,
    /// The subscriber index is out of range (a bug of the caller).
    Unknown,
}

/// Bookkeeping of one round: which subscriber got its push when.
#[derive(Debug, Clone)]
pub struct Round {
    t0: Instant,
    deadline: Instant,
    first: Vec<Option<Duration>>,
    received: usize,
    duplicates: u64,
    stale: u64,
    late: u64,
}

/// Figures of one round (all times in microseconds from t0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundResult {
    /// Subscribers that got their push in time.
    pub received: usize,
    /// Subscribers that did not.
    pub missed: usize,
    /// Time until the last subscriber got its push; `None` when some subscriber missed the round.
    pub all_patched_us: Option<u32>,
    /// Median latency of the subscribers that got their push.
    pub p50_us: u32,
    /// 99th percentile of the same.
    pub p99_us: u32,
    /// Slowest subscriber that got its push.
    pub max_us: u32,
    /// Pushes beyond the first per subscriber.
    pub duplicates: u64,
    /// Pushes stamped before t0.
    pub stale: u64,
    /// Pushes stamped after the round timeout but seen while the round was being closed.
    pub late: u64,
    /// Round trip of the publisher's own action (not part of the fan-out figures).
    pub reply_us: u32,
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

impl Round {
    /// A round with `subscribers` subscribers, started at `t0`, accepting pushes until `t0 + timeout`.
    pub fn new(subscribers: usize, t0: Instant, timeout: Duration) -> Self {
        Self {
            t0,
            deadline: t0 + timeout,
            first: vec![None; subscribers],
            received: 0,
            duplicates: 0,
            stale: 0,
            late: 0,
        }
    }

    /// The instant after which pushes no longer count.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Records that subscriber `subscriber` received a push at `at`.
    pub fn record(&mut self, subscriber: usize, at: Instant) -> Recorded {
        let Some(slot) = self.first.get_mut(subscriber) else {
            return Recorded::Unknown;
        };
        if at < self.t0 {
            self.stale += 1;
            Recorded::Stale
        } else if at > self.deadline {
            self.late += 1;
            Recorded::Late
        } else if slot.is_some() {
            self.duplicates += 1;
            Recorded::Duplicate
        } else {
            *slot = Some(at - self.t0);
            self.received += 1;
            Recorded::First
        }
    }

    /// True when every subscriber got its push.
    pub fn is_complete(&self) -> bool {
        self.received == self.first.len()
    }

    /// The round's figures, with `reply` the publisher's round trip, and the individual latencies.
    pub fn finish(self, reply: Duration) -> (RoundResult, Histogram) {
        let mut latencies = Histogram::new();
        for d in self.first.iter().flatten() {
            latencies.record(*d);
        }
        let s = latencies.summary();
        let missed = self.first.len() - self.received;
        let result = RoundResult {
            received: self.received,
            missed,
            all_patched_us: (missed == 0).then_some(s.max_us),
            p50_us: s.p50_us,
            p99_us: s.p99_us,
            max_us: s.max_us,
            duplicates: self.duplicates,
            stale: self.stale,
            late: self.late,
            reply_us: micros(reply),
        };
        (result, latencies)
    }
}

/// Results of one fan-out run.
#[derive(Debug, Clone, Serialize)]
pub struct FanoutReport {
    /// Subscriber connections.
    pub subscribers: usize,
    /// Whether they shared one session cookie.
    pub same_session: bool,
    /// Measured rounds.
    pub rounds: usize,
    /// Rounds in which every subscriber got its push.
    pub complete_rounds: usize,
    /// Median "all patched" time over the complete rounds (nearest rank), µs.
    pub all_patched_median_us: Option<u32>,
    /// 99th percentile of the same, µs.
    pub all_patched_p99_us: Option<u32>,
    /// Largest of the same, µs.
    pub all_patched_max_us: Option<u32>,
    /// Individual subscriber latencies pooled over all measured rounds, µs.
    pub latency: Summary,
    /// Subscriber pushes missed, all rounds together.
    pub missed: u64,
    /// Stale, late and duplicate pushes, all rounds together.
    pub stray_pushes: u64,
    /// The publisher's own round trip, µs.
    pub reply: Summary,
    /// Time to open all subscriber connections, seconds.
    pub open_s: f64,
    /// Every measured round.
    pub per_round: Vec<RoundResult>,
}

/// Combines measured rounds into a report; `latencies` are the pooled individual latencies.
pub fn summarize(
    subscribers: usize,
    same_session: bool,
    open_s: f64,
    per_round: Vec<RoundResult>,
    latencies: &mut Histogram,
) -> FanoutReport {
    let mut all = Histogram::new();
    let mut reply = Histogram::new();
    for r in &per_round {
        if let Some(us) = r.all_patched_us {
            all.record_us(us);
        }
        reply.record_us(r.reply_us);
    }
    let complete = all.len();
    let s = all.summary();
    let some = |v: u32| (complete > 0).then_some(v);
    FanoutReport {
        subscribers,
        same_session,
        rounds: per_round.len(),
        complete_rounds: complete,
        all_patched_median_us: some(s.p50_us),
        all_patched_p99_us: some(s.p99_us),
        all_patched_max_us: some(s.max_us),
        latency: latencies.summary(),
        missed: per_round.iter().map(|r| r.missed as u64).sum(),
        stray_pushes: per_round
            .iter()
            .map(|r| r.duplicates + r.stale + r.late)
            .sum(),
        reply: reply.summary(),
        open_s,
        per_round,
    }
}

/// What a subscriber task reports.
#[derive(Debug)]
enum Event {
    /// A push arrived at `at`.
    Push { index: usize, at: Instant },
    /// The connection failed; the task has ended.
    Failed { index: usize, error: BenchError },
}

/// Upper bound of queued events looked at after a round's timeout, per subscriber.
const DRAIN_PER_SUBSCRIBER: usize = 4;

/// Opens the subscribers and the publisher, runs the rounds, closes everything.
pub async fn run(target: &Target, cfg: &FanoutConfig) -> Result<FanoutReport, BenchError> {
    run_on(std::slice::from_ref(target), cfg).await
}

/// [`run`] against several replicas of one app: subscribers are spread over `targets` in
/// turn; the publisher (and the shared cookie of `--same-session`) uses the first.
pub async fn run_on(targets: &[Target], cfg: &FanoutConfig) -> Result<FanoutReport, BenchError> {
    let Some(target) = targets.first() else {
        return Err(BenchError::Usage("no server to run against".into()));
    };
    if cfg.subscribers == 0 || cfg.rounds == 0 {
        return Err(BenchError::Usage(
            "at least one subscriber and one round are needed".into(),
        ));
    }
    if !cfg.data.is_object() {
        return Err(BenchError::Usage(
            "the action data must be a JSON object".into(),
        ));
    }
    let cookie = if cfg.same_session {
        Some(session_cookie(target, cfg.timeout).await?)
    } else {
        None
    };
    let start = Instant::now();
    let mut sessions: Vec<Session> = Vec::with_capacity(cfg.subscribers);
    for (i, replica) in targets.iter().enumerate() {
        // Subscriber k goes to replica k mod n.
        let share = (cfg.subscribers + targets.len() - 1 - i) / targets.len();
        if share == 0 {
            continue;
        }
        match open_many_with_cookie(
            replica,
            share,
            cfg.connect_concurrency,
            cookie.clone(),
            cfg.timeout,
        )
        .await
        {
            Ok(opened) => sessions.extend(opened.into_iter().map(|(s, _)| s)),
            Err(e) => {
                close_all(sessions, cfg.connect_concurrency).await;
                return Err(e);
            }
        }
    }
    let open_s = start.elapsed().as_secs_f64();
    let mut publisher =
        match Session::open_with_cookie(target, cookie.as_deref(), cfg.timeout).await {
            Ok((p, _)) => p,
            Err(e) => {
                close_all(sessions, cfg.connect_concurrency).await;
                return Err(e);
            }
        };

    let (events_tx, mut events) = mpsc::unbounded_channel();
    let (stop_tx, stop) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for (index, session) in sessions.into_iter().enumerate() {
        tasks.spawn(subscriber(index, session, events_tx.clone(), stop.clone()));
    }
    drop(events_tx);

    let outcome = run_rounds(&mut publisher, &mut events, cfg).await;

    let _ = stop_tx.send(true);
    let mut finished = Vec::with_capacity(cfg.subscribers);
    while let Some(joined) = tasks.join_next().await {
        if let Ok(Some(s)) = joined {
            finished.push(s);
        }
    }
    close_all(finished, cfg.connect_concurrency).await;
    publisher.close().await;

    let (per_round, mut latencies) = outcome?;
    Ok(summarize(
        cfg.subscribers,
        cfg.same_session,
        open_s,
        per_round,
        &mut latencies,
    ))
}

/// One GET for the cookie all connections share with `--same-session`.
async fn session_cookie(target: &Target, timeout: Duration) -> Result<String, BenchError> {
    let head = crate::client::http_get(target, timeout).await?;
    let cookie = head
        .header_values("set-cookie")
        .find_map(|v| extract_cookie(v, COOKIE_NAME))
        .map(str::to_owned);
    cookie.ok_or_else(|| BenchError::NoCookie(COOKIE_NAME.into()))
}

async fn run_rounds(
    publisher: &mut Session,
    events: &mut mpsc::UnboundedReceiver<Event>,
    cfg: &FanoutConfig,
) -> Result<(Vec<RoundResult>, Histogram), BenchError> {
    let message = action_message(&cfg.action, &cfg.data);
    let mut per_round = Vec::with_capacity(cfg.rounds);
    let mut latencies = Histogram::new();
    let total = cfg.warmup_rounds + cfg.rounds;
    for n in 0..total {
        if n > 0 {
            tokio::time::sleep(cfg.pause).await;
        }
        let t0 = Instant::now();
        let mut round = Round::new(cfg.subscribers, t0, cfg.round_timeout);
        let (reply, collected) = tokio::join!(
            publisher.click(&message, &cfg.action),
            collect(&mut round, events, cfg.subscribers)
        );
        let reply = reply.map_err(|e| BenchError::Publisher {
            round: n,
            source: Box::new(e),
        })?;
        collected?;
        let (result, round_latencies) = round.finish(reply.rtt);
        let label = if n < cfg.warmup_rounds {
            format!("warm-up round {}/{}", n + 1, cfg.warmup_rounds)
        } else {
            format!("round {}/{}", n + 1 - cfg.warmup_rounds, cfg.rounds)
        };
        eprintln!(
            "fanout: {} subscribers, {label}: all patched {}, p50 {} µs, p99 {} µs, missed {}{}",
            cfg.subscribers,
            result
                .all_patched_us
                .map_or_else(|| "-".into(), |us| format!("{us} µs")),
            result.p50_us,
            result.p99_us,
            result.missed,
            match result.duplicates + result.stale + result.late {
                0 => String::new(),
                s => format!(", {s} stray pushes"),
            }
        );
        if n >= cfg.warmup_rounds {
            latencies.merge(&round_latencies);
            per_round.push(result);
        }
    }
    Ok((per_round, latencies))
}

/// Feeds subscriber events into `round` until every subscriber has its push or the round times out.
async fn collect(
    round: &mut Round,
    events: &mut mpsc::UnboundedReceiver<Event>,
    subscribers: usize,
) -> Result<(), BenchError> {
    let deadline = tokio::time::Instant::from_std(round.deadline());
    while !round.is_complete() {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => break,
            Ok(None) => return Err(BenchError::Task("every subscriber task has ended".into())),
            Ok(Some(event)) => apply(round, event)?,
        }
    }
    // Pushes that arrived in time but were still queued when the timer fired.
    for _ in 0..subscribers.saturating_mul(DRAIN_PER_SUBSCRIBER) {
        if round.is_complete() {
            break;
        }
        match events.try_recv() {
            Ok(event) => apply(round, event)?,
            Err(_) => break,
        }
    }
    Ok(())
}

fn apply(round: &mut Round, event: Event) -> Result<(), BenchError> {
    match event {
        Event::Push { index, at } => match round.record(index, at) {
            Recorded::Unknown => Err(BenchError::Task(format!(
                "push for unknown subscriber {index}"
            ))),
            _ => Ok(()),
        },
        Event::Failed { index, error } => Err(BenchError::Subscriber {
            index,
            source: Box::new(error),
        }),
    }
}

/// Reads a subscriber's frames until told to stop; stamps every push. Returns the session when stopped, `None`
/// when the connection failed (reported as an event).
async fn subscriber(
    index: usize,
    mut session: Session,
    events: mpsc::UnboundedSender<Event>,
    mut stop: watch::Receiver<bool>,
) -> Option<Session> {
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => return Some(session),
            frame = session.next_frame() => {
                let at = Instant::now();
                let error = match frame {
                    Ok(text) => match classify(&text) {
                        Reply::Render { .. } => {
                            if events.send(Event::Push { index, at }).is_err() {
                                return Some(session);
                            }
                            continue;
                        }
                        Reply::Pong => continue,
                        other => BenchError::UnexpectedFrame {
                            context: "waiting for pushes as a subscriber".into(),
                            detail: format!("{other:?}: {}", truncate(&text)),
                        },
                    },
                    Err(e) => e,
                };
                let _ = events.send(Event::Failed { index, error });
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn pushes_are_classified_against_the_round_window() {
        let t0 = Instant::now() + Duration::from_secs(1);
        let mut r = Round::new(3, t0, Duration::from_secs(5));
        assert_eq!(r.deadline(), t0 + Duration::from_secs(5));
        assert_eq!(r.record(0, t0 - us(1)), Recorded::Stale);
        assert_eq!(r.record(0, t0 + us(300)), Recorded::First);
        assert_eq!(r.record(0, t0 + us(400)), Recorded::Duplicate);
        assert_eq!(r.record(1, t0 + Duration::from_secs(6)), Recorded::Late);
        assert_eq!(r.record(3, t0 + us(10)), Recorded::Unknown);
        assert!(!r.is_complete());
        assert_eq!(r.record(1, t0 + us(100)), Recorded::First);
        assert!(!r.is_complete());
        // The deadline itself still counts.
        assert_eq!(r.record(2, t0 + Duration::from_secs(5)), Recorded::First);
        assert!(r.is_complete());
    }

    #[test]
    fn complete_round_reports_the_last_subscriber() {
        let t0 = Instant::now();
        let mut r = Round::new(4, t0, Duration::from_secs(5));
        for (i, t) in [(2, 900), (0, 100), (3, 400), (1, 200)] {
            assert_eq!(r.record(i, t0 + us(t)), Recorded::First);
        }
        r.record(1, t0 + us(950));
        let (res, mut lat) = r.finish(us(1234));
        assert_eq!(
            res,
            RoundResult {
                received: 4,
                missed: 0,
                all_patched_us: Some(900),
                p50_us: 200,
                p99_us: 900,
                max_us: 900,
                duplicates: 1,
                stale: 0,
                late: 0,
                reply_us: 1234,
            }
        );
        assert_eq!(lat.len(), 4);
        assert_eq!(lat.percentile(100.0), Some(900));
    }

    #[test]
    fn incomplete_round_has_no_all_patched_time() {
        let t0 = Instant::now();
        let mut r = Round::new(3, t0, Duration::from_millis(10));
        r.record(0, t0 + us(50));
        r.record(2, t0 + Duration::from_millis(11)); // late: missed
        let (res, lat) = r.finish(us(10));
        assert_eq!((res.received, res.missed, res.late), (1, 2, 1));
        assert_eq!(res.all_patched_us, None);
        assert_eq!(res.max_us, 50);
        assert_eq!(lat.len(), 1);
        // Nobody at all.
        let (res, lat) = Round::new(2, t0, us(1)).finish(us(1));
        assert_eq!((res.received, res.missed, res.max_us), (0, 2, 0));
        assert!(lat.is_empty());
    }

    #[test]
    fn rounds_are_summarized_over_complete_rounds() {
        let t0 = Instant::now();
        let mut pooled = Histogram::new();
        let mut rounds = Vec::new();
        // Three complete rounds finishing at 300, 100 and 200 µs, one with a missed subscriber.
        for last in [300u64, 100, 200] {
            let mut r = Round::new(2, t0, Duration::from_secs(1));
            r.record(0, t0 + us(last / 2));
            r.record(1, t0 + us(last));
            let (res, lat) = r.finish(us(last + 1));
            pooled.merge(&lat);
            rounds.push(res);
        }
        let mut r = Round::new(2, t0, Duration::from_secs(1));
        r.record(0, t0 - us(5)); // stale
        r.record(1, t0 + us(7));
        let (res, lat) = r.finish(us(9));
        pooled.merge(&lat);
        rounds.push(res);

        let rep = summarize(2, false, 0.5, rounds, &mut pooled);
        assert_eq!((rep.rounds, rep.complete_rounds), (4, 3));
        assert_eq!(rep.all_patched_median_us, Some(200));
        assert_eq!(rep.all_patched_p99_us, Some(300));
        assert_eq!(rep.all_patched_max_us, Some(300));
        assert_eq!((rep.missed, rep.stray_pushes), (1, 1));
        assert_eq!(rep.latency.count, 7);
        assert_eq!((rep.latency.min_us, rep.latency.max_us), (7, 300));
        assert_eq!((rep.reply.count, rep.reply.max_us), (4, 301));
        assert_eq!(rep.per_round.len(), 4);
    }

    #[test]
    fn no_complete_round_gives_no_percentiles() {
        let t0 = Instant::now();
        let (res, mut lat) = Round::new(1, t0, us(1)).finish(us(1));
        let rep = summarize(1, true, 0.0, vec![res], &mut lat);
        assert_eq!(rep.complete_rounds, 0);
        assert_eq!(rep.all_patched_median_us, None);
        assert_eq!(rep.all_patched_p99_us, None);
        assert_eq!(rep.missed, 1);
    }
}
