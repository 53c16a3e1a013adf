//! The doorway: parse the command line, build the runtime, run, exit with the code the run
//! returns.

use clap::Parser;
use urlcheck::exit::ExitCode;

fn main() -> std::process::ExitCode {
    let cli = urlcheck::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start the tokio runtime");
    let result = runtime.block_on(urlcheck::run(cli));
    // Do not wait for stray blocking lookups (getaddrinfo) still running.
    runtime.shutdown_background();
    match result {
        Ok(code) => code.into(),
        // The reader of stdout has gone (`| head`): nothing left to say, to anyone.
        Err(e) if urlcheck::is_broken_pipe(&e) => ExitCode::Success.into(),
        Err(e) => {
            eprintln!("urlcheck: error: {e:#}");
            ExitCode::Usage.into()
        }
    }
}
