//! Acceptance tests of issue 2, driving the built `urlcheck` binary against servers each test
//! starts on loopback: the fixture (HTTP and raw-TCP fault listeners) and, for DNS, a stub
//! that answers NXDOMAIN. Nothing here leaves 127.0.0.0/8.

mod common;

use common::{refused_port, run, urlcheck, Server, FAST_500MS};

// ---------------------------------------------------------------------------
// Found in review
// ---------------------------------------------------------------------------

#[test]
fn the_human_failure_list_follows_fail_on() {
    let srv = Server::start(1);
    let missing = srv.url(0, "/status/404");
    let refused = format!("http://127.0.0.1:{}/", refused_port());
    let out = run(urlcheck()
        .args(FAST_500MS)
        .args(["-q", "--fail-on", "error"])
        .args([&missing, &refused]));
    out.assert_code(1);
    let text = out.stdout();
    assert!(text.contains("Failures (1)"), "{text}");
    assert!(text.contains(&refused), "{text}");
    // A 404 is not a failure under --fail-on error: -q does not show it.
    assert!(!text.contains(&missing), "{text}");
    srv.shutdown();
}
