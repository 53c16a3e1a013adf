//! The cookies of one URL's redirect chain. A consent wall or a single sign-on answers 302 with
//! `Set-Cookie` back to itself until the cookie returns; a browser or curl loads it, and so does
//! a check. A jar lives for one check: a cookie never reaches another URL's check, nor a later
//! run. Which cookie goes where (domain, path, `Secure`, expiry) is the `cookie_store` crate's
//! reading of RFC 6265, not ours.

use cookie_store::CookieStore;
use reqwest::header::{HeaderMap, SET_COOKIE};
use url::Url;

/// The cookies the responses of one chain have set so far.
#[derive(Default)]
pub(crate) struct Jar(CookieStore);

impl Jar {
    /// The `Cookie` header for a request to `url`, when a cookie of the chain applies to it.
    pub(crate) fn header(&self, url: &Url) -> Option<String> {
        let pairs: Vec<String> = self
            .0
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    /// Keeps the cookies that the response to `url` set; one that is malformed, or not the
    /// server's to set (another domain), is ignored, as a browser ignores it.
    pub(crate) fn store(&mut self, url: &Url, headers: &HeaderMap) {
        for value in headers.get_all(SET_COOKIE) {
            if let Ok(text) = value.to_str() {
                let _ = self.0.parse(text, url);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn set(cookies: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for c in cookies {
            headers.append(SET_COOKIE, HeaderValue::from_str(c).unwrap());
        }
        headers
    }

    #[test]
    fn a_cookie_goes_back_where_its_rules_allow_and_nowhere_else() {
        let url = Url::parse("http://a.test/gate").unwrap();
        let mut jar = Jar::default();
        assert_eq!(jar.header(&url), None);
        jar.store(
            &url,
            &set(&[
                "consent=yes; Path=/",
                "other=1; Path=/elsewhere",
                "gone=1; Max-Age=0",
                "tls=1; Secure",
                "foreign=1; Domain=b.test",
            ]),
        );
        assert_eq!(jar.header(&url).as_deref(), Some("consent=yes"));
        let other = Url::parse("http://b.test/gate").unwrap();
        assert_eq!(jar.header(&other), None);
    }
}
