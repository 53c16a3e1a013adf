//! The doorway: parse the command line (urlcheck.toml merged in), build the runtime, run,
//! exit with the code the run returns.

use std::io::Write;

use urlcheck::cli::Failure;
use urlcheck::exit::ExitCode;

fn main() -> std::process::ExitCode {
    let cli = match urlcheck::cli::parse_args(std::env::args_os()) {
        Ok(cli) => cli,
        Err(Failure::Clap(e)) => e.exit(),
        Err(Failure::File(e)) => {
            let _ = writeln!(std::io::stderr(), "urlcheck: error: {e:#}");
            return ExitCode::Usage.into();
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start the tokio runtime");
    let result = runtime.block_on(urlcheck::run(cli));
    // Do not wait for stray blocking lookups (getaddrinfo) still running.
    runtime.shutdown_background();
    match result {
        Ok(code) => code.into(),
        Err(e) => {
            // stderr may be gone too; the exit code still tells.
            let _ = writeln!(std::io::stderr(), "urlcheck: error: {e:#}");
            ExitCode::Usage.into()
        }
    }
}
