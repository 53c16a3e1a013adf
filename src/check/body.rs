//! Whole bodies, for the few inputs that need one: a remote sitemap (`--input-format
//! sitemap` on a URL). Redirects are followed, the size is bounded, and the whole fetch fits
//! in one URL's budget; the input thread calls it through [`Checker::fetcher`].

use std::sync::Arc;

use tokio::time::timeout;
use url::Url;

use super::Checker;
use crate::input::Fetch;
use crate::sanitize::escape_for_terminal;

impl Checker {
    /// A blocking fetch for the input thread, run on the current runtime.
    pub(crate) fn fetcher(self: &Arc<Self>) -> Fetch {
        let checker = self.clone();
        let handle = tokio::runtime::Handle::current();
        Box::new(move |url, limit| handle.block_on(checker.whole_body(url, limit)))
    }

    /// The body of `url` after redirects, at most `limit` bytes, within `--max-time`.
    pub(crate) async fn whole_body(&self, url: &Url, limit: usize) -> Result<Vec<u8>, String> {
        let budget = self.settings.max_time;
        match timeout(budget, self.body_unbounded(url, limit)).await {
            Ok(body) => body,
            Err(_) => Err(format!(
                "no whole answer within the --max-time of {}",
                humantime::format_duration(budget)
            )),
        }
    }

    async fn body_unbounded(&self, url: &Url, limit: usize) -> Result<Vec<u8>, String> {
        let first = url;
        let mut url = url.clone();
        let mut chain = super::Chain::new(reqwest::Method::GET, Default::default());
        for _ in 0..=self.settings.max_redirects {
            // The user's secrets go to the host they were given for, as on any check.
            let same_host = super::same_authority(&url, first);
            chain.host = self.settings.hosts.scope(&url);
            let pool = self.pool(&chain.host);
            let request = self.request(pool, &url, same_host, false, &chain);
            let mut response = request
                .send()
                .await
                .map_err(|e| super::classify::classify(&e).message)?;
            let status = response.status();
            if status.is_redirection() {
                let next = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or_else(|| format!("HTTP {status} without a usable Location"))?;
                chain.downgraded |= url.scheme() == "https" && next.scheme() == "http";
                url = next;
                continue;
            }
            if !self.settings.accept.contains(status.as_u16()) {
                return Err(format!("HTTP {status}"));
            }
            if response.content_length().is_some_and(|n| n > limit as u64) {
                return Err(too_large(limit));
            }
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| escape_for_terminal(&e.to_string()))?
            {
                if body.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(body);
        }
        Err(format!(
            "more than --max-redirects {} redirects",
            self.settings.max_redirects
        ))
    }
}

fn too_large(limit: usize) -> String {
    format!("larger than {} MiB", limit >> 20)
}
