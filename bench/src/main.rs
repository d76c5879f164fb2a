//! `livetemplate-bench`: see `livetemplate-bench help`.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use livetemplate_bench::args::{self, Cli, Common, Mode};
use livetemplate_bench::modes::clicks::{self, ClicksConfig, Limit};
use livetemplate_bench::modes::connect::{self, ConnectConfig};
use livetemplate_bench::modes::fanout::{self, FanoutConfig};
use livetemplate_bench::modes::idle::{self, IdleConfig};
use livetemplate_bench::report::{self, Record};
use livetemplate_bench::server::{raise_nofile_limit, SpawnedServer};
use livetemplate_bench::target::Target;
use livetemplate_bench::{noop_server, BenchError};

/// How long a spawned server may take to start listening.
const SPAWN_READY: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let argv: Vec<String> = std::env::args().collect();
    let result = args::parse(argv.get(1..).unwrap_or_default()).and_then(|cli| run(cli, &argv));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if matches!(e, BenchError::Usage(_)) {
                eprintln!("(run `livetemplate-bench help` for usage)");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, argv: &[String]) -> Result<(), BenchError> {
    if cli.mode == Mode::Help {
        print!("{}", args::USAGE);
        return Ok(());
    }
    let nofile = raise_nofile_limit()?.1;
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(n) = cli.common.threads {
        builder.worker_threads(n);
    }
    let rt = builder
        .build()
        .map_err(|e| BenchError::io("starting the async runtime", e))?;
    let command = report::command_line(argv);
    rt.block_on(async move {
        match cli.mode {
            Mode::Help => Ok(()),
            Mode::NoopServer { port, read_buffer } => run_noop(port, read_buffer).await,
            Mode::Clicks(a) => run_clicks(&cli.common, a, &command).await,
            Mode::Idle(a) => run_idle(&cli.common, a, &command, nofile as u64).await,
            Mode::Connect(a) => run_connect(&cli.common, a, &command).await,
            Mode::Fanout(a) => run_fanout(&cli.common, a, &command, nofile as u64).await,
        }
    })
}

async fn run_noop(port: Option<u16>, read_buffer: usize) -> Result<(), BenchError> {
    let port = match port {
        Some(p) => p,
        None => match std::env::var("PORT") {
            Ok(p) => p
                .parse()
                .map_err(|_| BenchError::Usage(format!("PORT=`{p}` is not a port number")))?,
            Err(_) => 8080,
        },
    };
    let (addr, server) =
        noop_server::start(SocketAddr::from((Ipv4Addr::LOCALHOST, port)), read_buffer).await?;
    println!("noop server listening on http://{addr}/");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = server => {}
    }
    Ok(())
}

/// The server to measure: the URL as given, or a spawned process (whose port replaces the URL's).
struct Server {
    target: Target,
    spawned: Option<SpawnedServer>,
    pid: Option<u32>,
    description: String,
}

fn obtain_server(common: &Common) -> Result<Server, BenchError> {
    let target = Target::parse(&common.url)?;
    if common.spawn.is_empty() {
        let description = common
            .server_pid
            .map_or_else(|| "external".into(), |p| format!("pid {p}"));
        return Ok(Server {
            target,
            spawned: None,
            pid: common.server_pid,
            description,
        });
    }
    let spawned = SpawnedServer::spawn(&common.spawn, SPAWN_READY)?;
    Ok(Server {
        target: target.with_port(spawned.port),
        pid: Some(spawned.pid()),
        spawned: Some(spawned),
        description: format!("spawn: {}", report::command_line(&common.spawn)),
    })
}

fn check_alive(server: &mut Server) -> Result<(), BenchError> {
    match &mut server.spawned {
        Some(s) => s.check_alive(),
        None => Ok(()),
    }
}

fn emit<T: serde::Serialize>(
    common: &Common,
    mode: &str,
    command: &str,
    server: &Server,
    table: String,
    results: &[T],
) -> Result<(), BenchError> {
    println!(
        "{mode} against {} ({})",
        server.target.http_url(),
        server.description
    );
    print!("{table}");
    if common.json {
        let record = Record {
            mode,
            command: command.to_owned(),
            target: server.target.http_url(),
            server: server.description.clone(),
            results,
        };
        let line = serde_json::to_string(&record)
            .map_err(|e| BenchError::Task(format!("cannot serialize results: {e}")))?;
        println!("{line}");
    }
    Ok(())
}

async fn run_clicks(common: &Common, a: args::ClicksArgs, command: &str) -> Result<(), BenchError> {
    let mut server = obtain_server(common)?;
    let mut rows = Vec::new();
    for &clickers in &a.clickers {
        let cfg = ClicksConfig {
            clickers,
            limit: match a.clicks {
                Some(total) => Limit::Clicks {
                    total,
                    max_time: a.max_time,
                },
                None => Limit::Duration(a.duration),
            },
            warmup: a.warmup,
            action: a.action.clone(),
            timeout: common.timeout,
            connect_concurrency: 32,
        };
        let r = clicks::run(&server.target, &cfg).await?;
        check_alive(&mut server)?;
        eprintln!(
            "clicks: {clickers} clickers, {} clicks, p50 {} µs, p99 {} µs",
            r.clicks, r.rtt.p50_us, r.rtt.p99_us
        );
        rows.push(r);
    }
    emit(
        common,
        "clicks",
        command,
        &server,
        report::clicks_table(&rows),
        &rows,
    )
}

async fn run_idle(
    common: &Common,
    a: args::IdleArgs,
    command: &str,
    nofile: u64,
) -> Result<(), BenchError> {
    let mut rows = Vec::new();
    let mut last = None;
    for &n in &a.connections {
        // The client holds one descriptor per connection (plus the short-lived GETs).
        let need = (n + a.concurrency + 64) as u64;
        if need > nofile {
            return Err(BenchError::Usage(format!(
                "{n} connections need about {need} file descriptors but the limit is {nofile} (raise the hard \
                 limit, e.g. `ulimit -Hn`)"
            )));
        }
        // A fresh server per count when spawning, so counts do not share allocator state.
        drop(last.take());
        let mut server = obtain_server(common)?;
        if server.pid.is_none() {
            eprintln!("note: no --server-pid or --spawn: server memory is not measured");
        }
        let cfg = IdleConfig {
            connections: n,
            concurrency: a.concurrency,
            warmup_connections: a.warmup,
            settle: a.settle,
            timeout: common.timeout,
            server_pid: server.pid,
        };
        let r = idle::run(&server.target, &cfg).await?;
        check_alive(&mut server)?;
        eprintln!(
            "idle: {n} connections open in {:.2}s, {} bytes/connection",
            r.open_s,
            r.rss_per_connection
                .map_or_else(|| "-".into(), |b| format!("{b:.0}"))
        );
        rows.push(r);
        last = Some(server);
    }
    let server = match last {
        Some(s) => s,
        None => obtain_server(common)?,
    };
    emit(
        common,
        "idle",
        command,
        &server,
        report::idle_table(&rows),
        &rows,
    )
}

async fn run_connect(
    common: &Common,
    a: args::ConnectArgs,
    command: &str,
) -> Result<(), BenchError> {
    let mut server = obtain_server(common)?;
    let cfg = ConnectConfig {
        count: a.count,
        warmup: a.warmup,
        timeout: common.timeout,
    };
    let r = connect::run(&server.target, &cfg).await?;
    check_alive(&mut server)?;
    emit(
        common,
        "connect",
        command,
        &server,
        report::connect_table(&r),
        std::slice::from_ref(&r),
    )
}

async fn run_fanout(
    common: &Common,
    a: args::FanoutArgs,
    command: &str,
    nofile: u64,
) -> Result<(), BenchError> {
    if let Some(&max) = a.subscribers.iter().max() {
        // One descriptor per subscriber, the publisher, the short-lived GETs and some slack.
        let need = (max + 1 + a.concurrency + 64) as u64;
        if need > nofile {
            return Err(BenchError::Usage(format!(
                "{max} subscribers need about {need} file descriptors but the limit is {nofile} (raise the hard \
                 limit, e.g. `ulimit -Hn`)"
            )));
        }
    }
    let mut server = obtain_server(common)?;
    if a.replicas > 1 && common.spawn.is_empty() {
        return Err(BenchError::Usage(
            "--replicas needs --spawn (the command that starts one replica)".into(),
        ));
    }
    let mut others = Vec::new();
    for _ in 1..a.replicas {
        let spawned = SpawnedServer::spawn(&common.spawn, SPAWN_READY)?;
        others.push(Server {
            target: server.target.with_port(spawned.port),
            pid: Some(spawned.pid()),
            spawned: Some(spawned),
            description: String::new(),
        });
    }
    if a.replicas > 1 {
        server.description = format!("{} ×{} replicas", server.description, a.replicas);
    }
    let targets: Vec<_> = std::iter::once(&server)
        .chain(&others)
        .map(|s| s.target.clone())
        .collect();
    let mut rows = Vec::new();
    for &subscribers in &a.subscribers {
        let cfg = FanoutConfig {
            subscribers,
            rounds: a.rounds,
            warmup_rounds: a.warmup,
            pause: a.pause,
            round_timeout: a.round_timeout,
            action: a.action.clone(),
            data: a.data.clone(),
            same_session: a.same_session,
            connect_concurrency: a.concurrency,
            timeout: common.timeout,
        };
        let r = fanout::run_on(&targets, &cfg).await?;
        check_alive(&mut server)?;
        for other in &mut others {
            check_alive(other)?;
        }
        rows.push(r);
    }
    emit(
        common,
        "fanout",
        command,
        &server,
        report::fanout_table(&rows),
        &rows,
    )
}
