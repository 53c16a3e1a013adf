//! The main job on a list that needs no network: start the fixture server on four loopback
//! addresses, write a realistic list (spread latencies, a few 404s, a redirect, a hang past the
//! timeout, a refused port), check it once the way a person would, then run urlcheck's own
//! `--compare` on it to show the sequential-versus-concurrent speedup.
//!
//! ```text
//! cargo run --locked --example demo
//! ```

mod fixture;

use std::io::Write;

use anyhow::Result;
use clap::Parser;
use urlcheck::Cli;

const HOSTS: usize = 4;

#[tokio::main]
async fn main() -> Result<()> {
    let server = fixture::Fixture::start(HOSTS, 0).await?;
    let list = write_list(&server)?;
    let path = list.path().display().to_string();

    // A person at a terminal: a line per URL, the failures, the summary.
    show(&["-t", "1s", "--retries", "0", &path]).await?;
    // The sequential baseline against the pool, on the same list.
    show(&["--compare", "-t", "1s", "--retries", "0", &path]).await?;

    server.shutdown().await;
    Ok(())
}

/// Prints the command line, runs urlcheck in-process with it, prints its exit code.
async fn show(args: &[&str]) -> Result<()> {
    println!("\n$ urlcheck {}", args.join(" "));
    std::io::stdout().flush()?;
    let cli = Cli::parse_from(std::iter::once("urlcheck").chain(args.iter().copied()));
    let code = urlcheck::run(cli).await?;
    println!("(exit code {})", code.code());
    Ok(())
}

/// Forty-odd URLs whose latencies spread from 20 ms to 400 ms over four hosts, plus the
/// failures a real list has.
fn write_list(server: &fixture::Fixture) -> Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new()
        .prefix("urlcheck-demo-")
        .suffix(".txt")
        .tempfile()?;
    writeln!(
        file,
        "# urlcheck demo list: every server here is on this machine"
    )?;
    for i in 0..40u64 {
        // A deterministic spread: mostly fast, a tail of slow ones, as on the real web.
        let ms = 20 + (i * i * 37) % 380;
        writeln!(
            file,
            "{}",
            server.url((i as usize) % HOSTS, &format!("/delay/{ms}?page={i}"))
        )?;
    }
    writeln!(file, "{}", server.url(1, "/status/404?page=old-blog-post"))?;
    writeln!(file, "{}", server.url(2, "/status/404?page=moved-docs"))?;
    writeln!(file, "{}", server.url(3, "/status/500?page=broken-api"))?;
    writeln!(file, "{}", server.url(0, "/redirect/2"))?;
    writeln!(file, "{}", server.url(1, "/hang"))?;
    writeln!(file, "http://127.0.0.1:{}/", fixture::refused_port())?;
    writeln!(file, "this line is not a URL")?;
    file.flush()?;
    Ok(file)
}
