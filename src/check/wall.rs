//! Answers that say nothing about the page (outcome `blocked`): a bot wall in front of it, or
//! a rate limit that outlasted every retry. Told from the final answer's status and headers.

use reqwest::header::HeaderMap;

/// What in an answer's headers says it is a bot wall, not the page: Cloudflare's challenge
/// (`cf-mitigated: challenge`) or an AWS WAF action (`x-amzn-waf-action`, which comes with a
/// 202: a wall even when its status is accepted).
pub(super) fn seen(headers: &HeaderMap) -> Option<String> {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| crate::sanitize::escape_for_terminal(&String::from_utf8_lossy(v.as_bytes())))
    };
    if header("cf-mitigated").is_some_and(|v| v.eq_ignore_ascii_case("challenge")) {
        return Some("a Cloudflare challenge (cf-mitigated: challenge)".into());
    }
    if let Some(action) = header("x-amzn-waf-action") {
        return Some(format!("an AWS WAF {action} (x-amzn-waf-action)"));
    }
    None
}

/// Why a URL is `blocked`: its final answer was a wall, or, when its status is not accepted
/// (`refused`), LinkedIn's 999 or a 429 that every retry (of `attempts`) met too. `None`: the
/// answer stands, up or down.
pub(super) fn blocked(
    status: Option<u16>,
    wall: Option<String>,
    refused: bool,
    attempts: u32,
) -> Option<String> {
    if wall.is_some() || !refused {
        return wall;
    }
    let tries = if attempts == 1 { "try" } else { "tries" };
    match status {
        Some(999) => Some("999, LinkedIn's answer to clients it takes for bots".into()),
        Some(429) => Some(format!("rate limited: 429 after {attempts} {tries}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn with(name: &'static str, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn walls_are_told_by_headers() {
        assert!(seen(&with("cf-mitigated", "challenge"))
            .unwrap()
            .contains("Cloudflare"));
        assert!(seen(&with("cf-mitigated", "other")).is_none());
        let waf = seen(&with("x-amzn-waf-action", "challenge")).unwrap();
        assert!(waf.contains("AWS WAF challenge"), "{waf}");
        assert!(seen(&HeaderMap::new()).is_none());
    }

    #[test]
    fn a_429_that_outlasted_the_retries_and_999_are_blocked_and_a_404_is_down() {
        let limited = blocked(Some(429), None, true, 3).unwrap();
        assert_eq!(limited, "rate limited: 429 after 3 tries");
        assert!(blocked(Some(999), None, true, 1)
            .unwrap()
            .contains("LinkedIn"));
        // Accepted with --accept: the user said what 999 means to them.
        assert_eq!(blocked(Some(999), None, false, 1), None);
        assert_eq!(blocked(Some(404), None, true, 1), None);
        assert_eq!(blocked(None, None, true, 1), None);
        // A wall is a wall, even behind an accepted 202.
        assert!(blocked(Some(202), Some("wall".into()), false, 1).is_some());
    }
}
