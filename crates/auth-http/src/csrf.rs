//! Cross-site request refusal from Fetch Metadata and `Origin`.

use http::HeaderMap;
use http::header::ORIGIN;
use url::Url;

use crate::redirect::request_host;

/// The header browsers send with the relation of the requesting site.
const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// Whether a state-changing request (a form POST, a WebSocket upgrade) comes
/// from this site.
///
/// | `Sec-Fetch-Site` | `Origin` | decision |
/// |---|---|---|
/// | `same-origin`, `none` | any | allowed |
/// | `same-site`, `cross-site`, other | any | refused |
/// | absent | `null` | refused |
/// | absent | same host as `Host` | allowed |
/// | absent | another host | refused |
/// | absent | absent | allowed (not a browser; no ambient cookies to abuse) |
///
/// ```
/// use auth_http::same_origin;
/// use http::HeaderMap;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("host", "app.example".parse().unwrap());
/// headers.insert("sec-fetch-site", "cross-site".parse().unwrap());
/// assert!(!same_origin(&headers));
/// ```
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get(SEC_FETCH_SITE) {
        return matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(host)) = (origin.to_str(), request_host(headers)) else {
        return false;
    };
    origin_authority(origin).is_some_and(|authority| authority.eq_ignore_ascii_case(host))
}

/// `host[:port]` of an `Origin` value; `None` for `null` or garbage.
fn origin_authority(origin: &str) -> Option<String> {
    let url = Url::parse(origin).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert("host", "app.example:8000".parse().unwrap());
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_decision_table() {
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(same_origin(&headers(&[("sec-fetch-site", "none")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "garbage")])));
        assert!(!same_origin(&headers(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://app.example:8000"),
        ])));
        assert!(!same_origin(&headers(&[("origin", "null")])));
        assert!(same_origin(&headers(&[(
            "origin",
            "http://app.example:8000"
        )])));
        assert!(same_origin(&headers(&[(
            "origin",
            "https://APP.example:8000"
        )])));
        assert!(!same_origin(&headers(&[("origin", "http://app.example")])));
        assert!(!same_origin(&headers(&[(
            "origin",
            "http://evil.example:8000"
        )])));
        assert!(!same_origin(&headers(&[("origin", "file://")])));
        assert!(same_origin(&headers(&[])));
    }
}
