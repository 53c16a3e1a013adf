//! Smoke test of the shared fixture server itself (examples/fixture/mod.rs), so
//! that a broken fixture is reported as such rather than as an urlcheck bug.

#[path = "../examples/fixture/mod.rs"]
mod fixture;

use std::time::{Duration, Instant};

use fixture::Fixture;
use reqwest::{Client, StatusCode};

fn client() -> Client {
    // reqwest is built without a crypto provider of its own; urlcheck uses ring, and so do we.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn http_endpoints() {
    let fx = Fixture::start(2, 0).await.unwrap();
    let c = client();
    assert_eq!(fx.http_addrs()[0].port(), fx.http_addrs()[1].port());
    assert_eq!(fx.http_addrs()[1].ip().to_string(), "127.0.0.2");

    let r = c.get(fx.url(0, "/ok?i=1")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "ok\n");
    let r = c.head(fx.url(1, "/ok")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let r = c.get(fx.url(0, "/status/404")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let r = c.get(fx.url(0, "/redirect/2")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], "/redirect/1");

    let r = c
        .get(fx.url(0, "/redirect-to?url=ftp%3A%2F%2Fexample.com%2Fx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "ftp://example.com/x");

    let r = c
        .get(fx.url(0, "/headers"))
        .header("x-probe", "42")
        .header("user-agent", "smoke/1")
        .send()
        .await
        .unwrap();
    let h: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(h["x-probe"], "42");
    assert_eq!(h["user-agent"], "smoke/1");

    let url = fx.url(0, "/retry-after/1?key=k1&times=1");
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(c.get(&url).send().await.unwrap().status(), StatusCode::OK);

    let url = fx.url(0, "/retry-after-date/2?key=k2");
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let date = r.headers()["retry-after"].to_str().unwrap();
    assert!(httpdate::parse_http_date(date).unwrap() > std::time::SystemTime::now());

    let url = fx.url(0, "/flaky/502?key=k3&times=2");
    for expected in [502, 502, 200] {
        assert_eq!(c.get(&url).send().await.unwrap().status(), expected);
    }

    let stats = fx.stats();
    assert_eq!(stats.hits("/ok?i=1"), 1);
    assert_eq!(stats.hits("/retry-after/1?key=k1&times=1"), 2);
    assert_eq!(stats.arrivals("k3").len(), 3);
    assert_eq!(stats.requests(), 12);

    // An endless body keeps streaming; a few chunks are enough here.
    let mut r = c.get(fx.url(0, "/big-body")).send().await.unwrap();
    let mut got = 0;
    while got < 1 << 20 {
        got += r.chunk().await.unwrap().unwrap().len();
    }
    drop(r);

    let s = c.get(fx.url(0, "/__stats")).send().await.unwrap();
    let s: serde_json::Value = serde_json::from_str(&s.text().await.unwrap()).unwrap();
    assert_eq!(s["requests"], 13);
    stats.reset();
    assert_eq!(stats.requests(), 0);
    assert_eq!(stats.hits("/ok?i=1"), 0);

    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn in_flight_is_counted_per_host() {
    let fx = Fixture::start(2, 0).await.unwrap();
    let c = client();
    let mut requests = Vec::new();
    for (host, i) in [(0, 0), (0, 1), (0, 2), (0, 3), (1, 4), (1, 5)] {
        let url = fx.url(host, &format!("/delay/300?i={i}"));
        let c = c.clone();
        requests.push(tokio::spawn(async move {
            c.get(url).send().await.unwrap().status()
        }));
    }
    for r in requests {
        assert_eq!(r.await.unwrap(), StatusCode::OK);
    }
    let stats = fx.stats();
    assert_eq!(stats.max_in_flight(), 6);
    assert_eq!(stats.max_in_flight_per_host(), 4);
    assert_eq!(stats.in_flight(), 0);
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn raw_faults_and_prompt_shutdown() {
    let fx = Fixture::start(1, 0).await.unwrap();
    let c = client();

    let r = c.get(fx.raw_url(0, "/anything")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "ok\n");
    assert!(c.get(fx.raw_url(0, "/reset")).send().await.is_err());
    assert!(c
        .get(fx.raw_url(0, "/reset-after-status"))
        .send()
        .await
        .is_err());
    assert!(c.get(fx.raw_url(0, "/garbage")).send().await.is_err());
    assert!(c.get(fx.raw_url(0, "/big-headers")).send().await.is_err());
    let r = c.get(fx.raw_url(0, "/trickle?ms=5")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "ok\n");
    assert_eq!(fx.stats().hits("/reset"), 1);

    let refused = format!("http://127.0.0.1:{}/", fixture::refused_port());
    assert!(c.get(refused).send().await.unwrap_err().is_connect());

    // Hanging requests on both listener kinds must not delay shutdown.
    let hang_http = tokio::spawn(c.get(fx.url(0, "/hang")).send());
    let hang_raw = tokio::spawn(c.get(fx.raw_url(0, "/hang")).send());
    let both_hanging = async {
        while fx.stats().in_flight() == 0 || fx.stats().hits("/hang") < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), both_hanging)
        .await
        .expect("both /hang requests reached the fixture");
    let started = Instant::now();
    fx.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(hang_http.await.unwrap().is_err());
    assert!(hang_raw.await.unwrap().is_err());
}
