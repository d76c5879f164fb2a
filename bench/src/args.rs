//! Command-line parsing (hand-written: a handful of options does not need a parser crate).

use std::time::Duration;

use crate::BenchError;

/// Longest timed clicks run.
pub const MAX_DURATION: Duration = Duration::from_secs(600);
/// Most measured clicks in one run.
pub const MAX_CLICKS: u64 = 10_000_000;
/// Most concurrent clickers.
pub const MAX_CLICKERS: usize = 10_000;
/// Most idle connections.
pub const MAX_CONNECTIONS: usize = 100_000;
/// Most sequential connects.
pub const MAX_CONNECTS: usize = 100_000;
/// Most fan-out subscribers.
pub const MAX_SUBSCRIBERS: usize = 100_000;
/// Most fan-out rounds (measured or warm-up).
pub const MAX_ROUNDS: usize = 10_000;

/// Usage text.
pub const USAGE: &str = "\
livetemplate-bench: load generator for livetemplate servers (loopback targets only)

USAGE:
  livetemplate-bench <MODE> [OPTIONS] [--spawn CMD [ARGS...]]

MODES:
  clicks        click round trip p50/p99, clicks/s and bytes per update at C concurrent clickers
  idle          server resident memory per idle connection
  connect       time from starting the GET to the first WebSocket frame, sequential connects
  fanout        time from one publish until all K subscribers have received their push
  noop-server   run a trivial protocol server (the floor real servers are compared against)
  help          this text

COMMON OPTIONS:
  --url URL             page URL, http:// or ws:// on localhost or 127.0.0.0/8 [default: http://127.0.0.1:8080/]
  --server-pid PID      server process whose VmRSS is read (idle mode)
  --spawn CMD...        start the server as CMD with PORT=<free port> (must come last; replaces the URL's port;
                        idle mode starts a fresh server for each connection count)
  --timeout DUR         per-operation timeout [default: 10s]
  --threads N           worker threads of the load generator [default: all cores]
  --json                also print the results as one JSON line

CLICKS OPTIONS:
  --clickers LIST       comma-separated clicker counts [default: 1,10,100]
  --duration DUR        measured time per count, at most 600s [default: 10s]
  --clicks N            measure N clicks per count instead (split between clickers), at most 10000000
  --max-time DUR        wall-clock cap of a --clicks run, at most 600s [default: 600s]
  --warmup DUR          unmeasured warm-up per count [default: 2s]
  --action NAME         action name clicked [default: increment]

IDLE OPTIONS:
  --connections LIST    comma-separated connection counts [default: 1000,10000]
  --concurrency N       connections opened at once [default: 64]
  --warmup N            connections opened and closed before the first RSS reading [default: 10]
  --settle DUR          wait before each RSS reading [default: 2s]

CONNECT OPTIONS:
  --count N             timed sequential connects [default: 200]
  --warmup N            untimed connects first [default: 10]

FANOUT OPTIONS:
  --subscribers LIST    comma-separated subscriber counts [default: 100,1000,10000]
  --rounds N            measured publishes per count, at most 10000 [default: 20]
  --warmup N            unmeasured publishes first [default: 1]
  --pause DUR           wait between publishes [default: 200ms]
  --round-timeout DUR   subscribers without their push this long after the publish are missed [default: 5s]
  --action NAME         action the publisher sends; its handler must publish to a topic every subscriber
                        listens to [default: increment; `publish` for the noop-server]
  --data JSON           the action's data, a JSON object [default: {}]
  --same-session        all connections share one session cookie (tabs of one browser) instead of one each
  --concurrency N       connections opened at once [default: 64]
  --replicas N          with --spawn: start N servers (replicas of one app, e.g. with `--redis URL`);
                        subscribers are spread over them in turn, the publisher uses the first [default: 1]

NOOP-SERVER OPTIONS:
  --port P              port on 127.0.0.1 [default: $PORT, else 8080]
  --ws-read-buffer B    WebSocket read buffer per connection, bytes [default: 4096; tungstenite's own
                        default is 131072]
  (action `publish` pushes {\"tree\":{\"0\":\"x\"}} to every other connection, then replies)

DUR is a number with an optional unit: 500ms, 10s, 2m (plain numbers are seconds).
";

/// Options every measuring mode understands.
#[derive(Debug, Clone, PartialEq)]
pub struct Common {
    /// Page URL.
    pub url: String,
    /// Server process to observe.
    pub server_pid: Option<u32>,
    /// Command that starts the server (empty: use the URL as is).
    pub spawn: Vec<String>,
    /// Per-operation timeout.
    pub timeout: Duration,
    /// Worker threads.
    pub threads: Option<usize>,
    /// Print a JSON line.
    pub json: bool,
}

/// Options of `clicks`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClicksArgs {
    /// Clicker counts, one run each.
    pub clickers: Vec<usize>,
    /// Measured time per run, unless `clicks` is set.
    pub duration: Duration,
    /// Measured clicks per run.
    pub clicks: Option<u64>,
    /// Cap of a click-count run.
    pub max_time: Duration,
    /// Warm-up time.
    pub warmup: Duration,
    /// Action name.
    pub action: String,
}

/// Options of `idle`.
#[derive(Debug, Clone, PartialEq)]
pub struct IdleArgs {
    /// Connection counts, one run each.
    pub connections: Vec<usize>,
    /// Connections opened at once.
    pub concurrency: usize,
    /// Connections opened and closed before measuring.
    pub warmup: usize,
    /// Wait before RSS readings.
    pub settle: Duration,
}

/// Options of `connect`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectArgs {
    /// Timed connects.
    pub count: usize,
    /// Untimed connects.
    pub warmup: usize,
}

/// Options of `fanout`.
#[derive(Debug, Clone, PartialEq)]
pub struct FanoutArgs {
    /// Subscriber counts, one run each.
    pub subscribers: Vec<usize>,
    /// Measured rounds per count.
    pub rounds: usize,
    /// Unmeasured rounds first.
    pub warmup: usize,
    /// Wait between rounds.
    pub pause: Duration,
    /// How long a round waits for its pushes.
    pub round_timeout: Duration,
    /// Action the publisher sends.
    pub action: String,
    /// The action's data (a JSON object).
    pub data: serde_json::Value,
    /// One shared session cookie for all connections.
    pub same_session: bool,
    /// Connections opened at once.
    pub concurrency: usize,
    /// Servers started with `--spawn` (replicas of one app).
    pub replicas: usize,
}

/// What to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Click round trips.
    Clicks(ClicksArgs),
    /// Memory per idle connection.
    Idle(IdleArgs),
    /// Connect to first tree.
    Connect(ConnectArgs),
    /// Fan-out latency of one publish to K subscribers.
    Fanout(FanoutArgs),
    /// Run the no-op server on this port (`None`: `$PORT`, else 8080).
    NoopServer {
        /// Port to bind on 127.0.0.1.
        port: Option<u16>,
        /// WebSocket read buffer per connection, bytes.
        read_buffer: usize,
    },
    /// Print usage.
    Help,
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Cli {
    /// The mode and its options.
    pub mode: Mode,
    /// Common options.
    pub common: Common,
}

/// Parses a duration such as `500ms`, `10s`, `2m` or `1.5` (seconds).
pub fn parse_duration(s: &str) -> Result<Duration, BenchError> {
    let bad = || BenchError::Usage(format!("invalid duration `{s}` (examples: 500ms, 10s, 2m)"));
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num.trim().parse().map_err(|_| bad())?;
    if !v.is_finite() || v < 0.0 || v * scale > 86_400.0 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(v * scale))
}

fn parse_num<T: std::str::FromStr>(opt: &str, s: &str) -> Result<T, BenchError> {
    s.replace('_', "")
        .parse()
        .map_err(|_| BenchError::Usage(format!("{opt}: `{s}` is not a valid number")))
}

fn parse_list(opt: &str, s: &str, max: usize) -> Result<Vec<usize>, BenchError> {
    let list = s
        .split(',')
        .map(|p| parse_num::<usize>(opt, p.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    if list.is_empty() || list.iter().any(|&n| n == 0 || n > max) {
        return Err(BenchError::Usage(format!(
            "{opt}: each value must be between 1 and {max}"
        )));
    }
    Ok(list)
}

fn parse_data(opt: &str, s: &str) -> Result<serde_json::Value, BenchError> {
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(BenchError::Usage(format!(
            "{opt}: `{s}` is not a JSON object (example: '{{\"text\":\"hi\"}}')"
        ))),
        Err(e) => Err(BenchError::Usage(format!(
            "{opt}: `{s}` is not valid JSON ({e})"
        ))),
    }
}

fn cap(opt: &str, d: Duration, max: Duration) -> Result<Duration, BenchError> {
    if d > max {
        return Err(BenchError::Usage(format!(
            "{opt}: at most {}s",
            max.as_secs()
        )));
    }
    Ok(d)
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Cli, BenchError> {
    let mut common = Common {
        url: "http://127.0.0.1:8080/".into(),
        server_pid: None,
        spawn: Vec::new(),
        timeout: Duration::from_secs(10),
        threads: None,
        json: false,
    };
    let Some((mode_name, rest)) = args.split_first() else {
        return Ok(Cli {
            mode: Mode::Help,
            common,
        });
    };
    let mut mode = match mode_name.as_str() {
        "clicks" => Mode::Clicks(ClicksArgs {
            clickers: vec![1, 10, 100],
            duration: Duration::from_secs(10),
            clicks: None,
            max_time: MAX_DURATION,
            warmup: Duration::from_secs(2),
            action: "increment".into(),
        }),
        "idle" => Mode::Idle(IdleArgs {
            connections: vec![1000, 10_000],
            concurrency: 64,
            warmup: 10,
            settle: Duration::from_secs(2),
        }),
        "connect" => Mode::Connect(ConnectArgs {
            count: 200,
            warmup: 10,
        }),
        "fanout" => Mode::Fanout(FanoutArgs {
            subscribers: vec![100, 1000, 10_000],
            rounds: 20,
            warmup: 1,
            pause: Duration::from_millis(200),
            round_timeout: Duration::from_secs(5),
            action: "increment".into(),
            data: serde_json::Value::Object(serde_json::Map::new()),
            same_session: false,
            concurrency: 64,
            replicas: 1,
        }),
        "noop-server" => Mode::NoopServer {
            port: None,
            read_buffer: crate::noop_server::DEFAULT_READ_BUFFER,
        },
        "help" | "--help" | "-h" => Mode::Help,
        other => {
            return Err(BenchError::Usage(format!(
                "unknown mode `{other}` (try `help`)"
            )))
        }
    };
    let mut i = 0;
    while i < rest.len() {
        let opt = rest[i].as_str();
        if opt == "--spawn" {
            common.spawn = rest[i + 1..].to_vec();
            if common.spawn.is_empty() {
                return Err(BenchError::Usage("--spawn needs a command".into()));
            }
            break;
        }
        if opt == "--json" {
            common.json = true;
            i += 1;
            continue;
        }
        if opt == "--same-session" {
            let Mode::Fanout(f) = &mut mode else {
                return Err(BenchError::Usage(format!(
                    "unknown option `{opt}` for mode `{mode_name}` (try `help`)"
                )));
            };
            f.same_session = true;
            i += 1;
            continue;
        }
        let value = rest
            .get(i + 1)
            .map(String::as_str)
            .ok_or_else(|| BenchError::Usage(format!("{opt} needs a value")))?;
        i += 2;
        match (opt, &mut mode) {
            ("--url", _) => common.url = value.to_owned(),
            ("--server-pid", _) => common.server_pid = Some(parse_num(opt, value)?),
            ("--timeout", _) => {
                common.timeout = parse_duration(value)?.max(Duration::from_millis(1))
            }
            ("--threads", _) => {
                let n: usize = parse_num(opt, value)?;
                if n == 0 || n > 1024 {
                    return Err(BenchError::Usage("--threads: between 1 and 1024".into()));
                }
                common.threads = Some(n);
            }
            ("--clickers", Mode::Clicks(c)) => c.clickers = parse_list(opt, value, MAX_CLICKERS)?,
            ("--duration", Mode::Clicks(c)) => {
                c.duration = cap(opt, parse_duration(value)?, MAX_DURATION)?
            }
            ("--clicks", Mode::Clicks(c)) => {
                let n: u64 = parse_num(opt, value)?;
                if n == 0 || n > MAX_CLICKS {
                    return Err(BenchError::Usage(format!(
                        "--clicks: between 1 and {MAX_CLICKS}"
                    )));
                }
                c.clicks = Some(n);
            }
            ("--max-time", Mode::Clicks(c)) => {
                c.max_time = cap(opt, parse_duration(value)?, MAX_DURATION)?
            }
            ("--warmup", Mode::Clicks(c)) => {
                c.warmup = cap(opt, parse_duration(value)?, MAX_DURATION)?
            }
            ("--action", Mode::Clicks(c)) => c.action = value.to_owned(),
            ("--connections", Mode::Idle(c)) => {
                c.connections = parse_list(opt, value, MAX_CONNECTIONS)?
            }
            ("--concurrency", Mode::Idle(c)) => c.concurrency = parse_list(opt, value, 10_000)?[0],
            ("--warmup", Mode::Idle(c)) => c.warmup = parse_num(opt, value)?,
            ("--settle", Mode::Idle(c)) => {
                c.settle = cap(opt, parse_duration(value)?, MAX_DURATION)?
            }
            ("--count", Mode::Connect(c)) => c.count = parse_list(opt, value, MAX_CONNECTS)?[0],
            ("--warmup", Mode::Connect(c)) => {
                c.warmup = parse_num::<usize>(opt, value)?.min(MAX_CONNECTS)
            }
            ("--subscribers", Mode::Fanout(f)) => {
                f.subscribers = parse_list(opt, value, MAX_SUBSCRIBERS)?
            }
            ("--rounds", Mode::Fanout(f)) => f.rounds = parse_list(opt, value, MAX_ROUNDS)?[0],
            ("--warmup", Mode::Fanout(f)) => {
                let n: usize = parse_num(opt, value)?;
                if n > MAX_ROUNDS {
                    return Err(BenchError::Usage(format!("{opt}: at most {MAX_ROUNDS}")));
                }
                f.warmup = n;
            }
            ("--pause", Mode::Fanout(f)) => {
                f.pause = cap(opt, parse_duration(value)?, MAX_DURATION)?
            }
            ("--round-timeout", Mode::Fanout(f)) => {
                f.round_timeout =
                    cap(opt, parse_duration(value)?, MAX_DURATION)?.max(Duration::from_millis(1))
            }
            ("--action", Mode::Fanout(f)) => f.action = value.to_owned(),
            ("--data", Mode::Fanout(f)) => f.data = parse_data(opt, value)?,
            ("--concurrency", Mode::Fanout(f)) => {
                f.concurrency = parse_list(opt, value, 10_000)?[0]
            }
            ("--replicas", Mode::Fanout(f)) => f.replicas = parse_list(opt, value, 16)?[0],
            ("--port", Mode::NoopServer { port, .. }) => *port = Some(parse_num(opt, value)?),
            ("--ws-read-buffer", Mode::NoopServer { read_buffer, .. }) => {
                let n: usize = parse_num(opt, value)?;
                if !(64..=16 * 1024 * 1024).contains(&n) {
                    return Err(BenchError::Usage(format!(
                        "{opt}: between 64 and 16777216 bytes"
                    )));
                }
                *read_buffer = n;
            }
            _ => {
                return Err(BenchError::Usage(format!(
                    "unknown option `{opt}` for mode `{mode_name}` (try `help`)"
                )))
            }
        }
    }
    if let Mode::Idle(c) = &mode {
        if c.warmup > MAX_CONNECTIONS {
            return Err(BenchError::Usage(format!(
                "--warmup: at most {MAX_CONNECTIONS}"
            )));
        }
    }
    Ok(Cli { mode, common })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        for bad in ["", "s", "-1s", "abc", "1h", "NaN", "1e10"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn clicks_mode() {
        let cli = parse(&args(
            "clicks --clickers 1,10 --clicks 500 --warmup 0s --json --url http://localhost:3000/c",
        ))
        .unwrap();
        assert!(cli.common.json);
        assert_eq!(cli.common.url, "http://localhost:3000/c");
        let Mode::Clicks(c) = cli.mode else {
            panic!("not clicks")
        };
        assert_eq!(c.clickers, vec![1, 10]);
        assert_eq!(c.clicks, Some(500));
        assert_eq!(c.warmup, Duration::ZERO);
    }

    #[test]
    fn spawn_takes_the_rest() {
        let cli = parse(&args(
            "idle --connections 1000 --spawn ./server --flag x --json",
        ))
        .unwrap();
        assert_eq!(cli.common.spawn, args("./server --flag x --json"));
        assert!(!cli.common.json);
        assert!(parse(&args("idle --spawn")).is_err());
    }

    #[test]
    fn bounds_and_unknowns_are_refused() {
        for bad in [
            "clicks --duration 3600s",
            "clicks --clicks 0",
            "clicks --clicks 20000000",
            "clicks --clickers 0",
            "clicks --clickers 1,,2",
            "idle --connections 1000000",
            "idle --duration 1s",
            "connect --clickers 3",
            "connect --count",
            "noop-server --port 70000",
            "noop-server --ws-read-buffer 1",
            "frobnicate",
            "clicks --threads 0",
        ] {
            assert!(
                matches!(parse(&args(bad)), Err(BenchError::Usage(_))),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn fanout_mode() {
        let cli = parse(&args(
            r#"fanout --subscribers 100,1000,10000 --action send --data {"text":"hi"} --same-session --rounds 5 --warmup 0 --pause 50ms --round-timeout 2s --concurrency 16"#,
        ))
        .unwrap();
        let Mode::Fanout(f) = cli.mode else {
            panic!("not fanout")
        };
        assert_eq!(f.subscribers, vec![100, 1000, 10_000]);
        assert_eq!(f.action, "send");
        assert_eq!(f.data, serde_json::json!({"text": "hi"}));
        assert!(f.same_session);
        assert_eq!((f.rounds, f.warmup, f.concurrency), (5, 0, 16));
        assert_eq!(f.pause, Duration::from_millis(50));
        assert_eq!(f.round_timeout, Duration::from_secs(2));

        let Mode::Fanout(d) = parse(&args("fanout")).unwrap().mode else {
            panic!("not fanout")
        };
        assert_eq!(d.subscribers, vec![100, 1000, 10_000]);
        assert_eq!((d.rounds, d.warmup), (20, 1));
        assert_eq!(d.round_timeout, Duration::from_secs(5));
        assert_eq!(d.action, "increment");
        assert_eq!(d.replicas, 1);
        let Mode::Fanout(r) = parse(&args("fanout --replicas 2")).unwrap().mode else {
            panic!("not fanout")
        };
        assert_eq!(r.replicas, 2);
        assert!(parse(&args("fanout --replicas 0")).is_err());
        assert_eq!(d.data, serde_json::json!({}));
        assert!(!d.same_session);

        for bad in [
            "fanout --data [1,2]",
            "fanout --data {oops",
            "fanout --data \"hi\"",
            "fanout --subscribers 0",
            "fanout --subscribers 200000",
            "fanout --rounds 0",
            "fanout --rounds 20000",
            "fanout --warmup 20000",
            "fanout --round-timeout 1h",
            "clicks --same-session",
            "fanout --clickers 3",
        ] {
            match parse(&args(bad)) {
                Err(BenchError::Usage(msg)) => assert!(!msg.is_empty()),
                other => panic!("{bad} should be refused, got {other:?}"),
            }
        }
    }

    #[test]
    fn defaults() {
        let cli = parse(&args("connect")).unwrap();
        assert_eq!(
            cli.mode,
            Mode::Connect(ConnectArgs {
                count: 200,
                warmup: 10
            })
        );
        assert_eq!(parse(&[]).unwrap().mode, Mode::Help);
        let Mode::Idle(i) = parse(&args("idle")).unwrap().mode else {
            panic!("not idle")
        };
        assert_eq!(i.connections, vec![1000, 10_000]);
    }
}
