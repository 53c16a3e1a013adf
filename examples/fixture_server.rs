//! Standalone fixture server for manual testing, demos and benchmark scripts.
//!
//! ```text
//! cargo run --release --example fixture_server -- --hosts 4 --port 0
//! ```
//!
//! Prints exactly one line on stdout once every listener is bound:
//!
//! ```text
//! READY {"http":["127.0.0.1:41234",...],"raw":["127.0.0.1:41235",...]}
//! ```
//!
//! With `--grid N` it also serves at least N distinct host:ports that all answer `200 ok`
//! (for many-hosts runs), listed in the READY line as `"grid":[...]`, and prints
//! `GRID {"requests":..,"accepted":..,"max_open":..}` on stdout when it stops: `max_open` is
//! the most connections that were open to the grid at once.
//!
//! It serves until Ctrl-C / SIGTERM, `--max-seconds` elapse, or (with
//! `--exit-on-stdin-eof`) stdin closes, which lets a driving script tie the
//! server's lifetime to its own by holding a pipe to our stdin.

mod fixture;

use std::io::Write;
use std::time::Duration;

use clap::Parser;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(about = "Local HTTP fixture server for urlcheck tests, demos and benchmarks")]
struct Args {
    /// Number of host IPs to listen on: 127.0.0.1 ..= 127.0.0.K (at most 254).
    #[arg(long, default_value_t = 1)]
    hosts: usize,
    /// Port shared by the HTTP listeners (0 = pick a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Port shared by the raw fault-injection listeners (0 = pick a free one).
    #[arg(long, default_value_t = 0)]
    raw_port: u16,
    /// Stop by itself after this many seconds (0 = never).
    #[arg(long, default_value_t = 3600)]
    max_seconds: u64,
    /// Stop when stdin reaches end-of-file.
    #[arg(long)]
    exit_on_stdin_eof: bool,
    /// Also serve at least this many distinct host:ports answering `200 ok` (0 = none).
    #[arg(long, default_value_t = 0)]
    grid: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let fixture = fixture::Fixture::start_on(args.hosts, args.port, args.raw_port).await?;

    let grid = match args.grid {
        0 => None,
        n => Some(fixture::grid::Grid::with_at_least(n).await?),
    };
    let addrs =
        |list: &[std::net::SocketAddr]| list.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let mut ready = serde_json::json!({
        "http": addrs(fixture.http_addrs()),
        "raw": addrs(fixture.raw_addrs()),
    });
    if let Some(grid) = &grid {
        ready["grid"] = addrs(&grid.addrs()[..args.grid]).into();
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "READY {ready}")?;
        out.flush()?;
    }

    let stdin_closed = CancellationToken::new();
    if args.exit_on_stdin_eof {
        // tokio's stdin needs the `io-std` feature; a plain thread is enough here.
        let closed = stdin_closed.clone();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            closed.cancel();
        });
    }
    let deadline = async {
        match args.max_seconds {
            0 => std::future::pending().await,
            secs => tokio::time::sleep(Duration::from_secs(secs)).await,
        }
    };

    let reason = tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted",
        _ = terminated() => "terminated",
        _ = stdin_closed.cancelled() => "stdin closed",
        _ = deadline => "max-seconds elapsed",
    };
    eprintln!("fixture_server: stopping ({reason})");
    if let Some(grid) = grid {
        let stats = serde_json::json!({
            "requests": grid.requests(),
            "accepted": grid.accepted(),
            "max_open": grid.max_open(),
        });
        println!("GRID {stats}");
        grid.shutdown().await;
    }
    fixture.shutdown().await;
    Ok(())
}

#[cfg(unix)]
async fn terminated() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut sigterm) => {
            sigterm.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn terminated() {
    std::future::pending().await
}
