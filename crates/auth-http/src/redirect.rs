//! Where form routes send the browser: only ever a path on this site.

use http::HeaderMap;
use http::header::{HOST, REFERER};
use url::Url;

/// Longest redirect target accepted, in bytes.
const MAX_TARGET_LEN: usize = 2048;

/// `value` if it is a path on this site, else `None`.
///
/// Accepted: an absolute path (`/profile`, `/a?b=c#d`). Refused: anything
/// with a scheme or host (`https://x`, `//x`, `/\x`), a backslash anywhere
/// (browsers read it as `/`), whitespace or control characters (CR/LF
/// splitting, tab tricks), and over-long values. As a last check the value
/// is resolved against a base URL and must keep the base's origin.
///
/// ```
/// use auth_http::safe_path;
///
/// assert_eq!(safe_path("/profile?tab=1"), Some("/profile?tab=1"));
/// assert_eq!(safe_path("//evil.example"), None);
/// assert_eq!(safe_path("/\\evil.example"), None);
/// assert_eq!(safe_path("https://evil.example"), None);
/// ```
pub fn safe_path(value: &str) -> Option<&str> {
    let bytes = value.as_bytes();
    if value.is_empty() || value.len() > MAX_TARGET_LEN || bytes[0] != b'/' {
        return None;
    }
    if bytes.get(1).is_some_and(|b| matches!(b, b'/' | b'\\')) {
        return None;
    }
    if value
        .chars()
        .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
    {
        return None;
    }
    let base = Url::parse("http://origin.invalid/").ok()?;
    let joined = base.join(value).ok()?;
    (joined.origin() == base.origin()).then_some(value)
}

/// The `Host` header, if it is usable.
pub(crate) fn request_host(headers: &HeaderMap) -> Option<&str> {
    headers.get(HOST)?.to_str().ok().filter(|h| !h.is_empty())
}

#[cfg_attr(not(any(feature = "local-idp", feature = "oidc")), allow(dead_code))]
/// The path and query of a `Referer` on this host (with any `error`
/// parameter removed), so a failed form returns to the page that posted.
pub(crate) fn same_host_referer(headers: &HeaderMap) -> Option<String> {
    let host = request_host(headers)?;
    let referer = Url::parse(headers.get(REFERER)?.to_str().ok()?).ok()?;
    if !matches!(referer.scheme(), "http" | "https") {
        return None;
    }
    let authority = match referer.port() {
        Some(port) => format!("{}:{port}", referer.host_str()?),
        None => referer.host_str()?.to_owned(),
    };
    if !authority.eq_ignore_ascii_case(host) {
        return None;
    }
    let mut target = referer.path().to_owned();
    let kept: Vec<(String, String)> = referer
        .query_pairs()
        .filter(|(k, _)| k != "error")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if !kept.is_empty() {
        target.push('?');
        target.push_str(&serde_urlencoded::to_string(kept).ok()?);
    }
    safe_path(&target).map(str::to_owned)
}

/// `target` with the query parameter `name=value` appended (the value
/// percent-encoded), before any fragment.
pub(crate) fn with_param(target: &str, name: &str, value: &str) -> String {
    let (base, fragment) = match target.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (target, None),
    };
    let separator = if base.contains('?') { '&' } else { '?' };
    let encoded: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair(name, value)
        .finish();
    let mut out = format!("{base}{separator}{encoded}");
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

#[cfg_attr(not(any(feature = "local-idp", feature = "oidc")), allow(dead_code))]
/// `target` with `?error=<code>` (or `&error=<code>`) appended.
pub(crate) fn with_error(target: &str, code: &str) -> String {
    with_param(target, "error", code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_site_paths() {
        for ok in [
            "/",
            "/live",
            "/a/b?c=d&e=f",
            "/p#frag",
            "/%2F%2Fevil",
            "/a:b",
        ] {
            assert_eq!(safe_path(ok), Some(ok), "{ok}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "live",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/a\r\nSet-Cookie: x=1",
            "/\tevil",
            " /live",
            "/live\u{0}",
            "/a\\b",
            "http:/evil.example",
        ] {
            assert_eq!(safe_path(bad), None, "{bad:?}");
        }
        assert_eq!(safe_path(&format!("/{}", "a".repeat(MAX_TARGET_LEN))), None);
    }

    #[test]
    fn appends_error_codes() {
        assert_eq!(with_error("/login", "invalid"), "/login?error=invalid");
        assert_eq!(
            with_error("/login?x=1", "missing"),
            "/login?x=1&error=missing"
        );
        assert_eq!(with_error("/login#f", "exists"), "/login?error=exists#f");
    }

    #[test]
    fn referer_must_be_same_host_and_loses_old_errors() {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, "app.example:8000".parse().unwrap());
        headers.insert(
            REFERER,
            "http://app.example:8000/register?error=exists&x=1"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            same_host_referer(&headers).as_deref(),
            Some("/register?x=1")
        );
        headers.insert(REFERER, "http://evil.example/register".parse().unwrap());
        assert_eq!(same_host_referer(&headers), None);
        headers.insert(REFERER, "http://app.example/register".parse().unwrap());
        assert_eq!(
            same_host_referer(&headers),
            None,
            "another port is another site"
        );
    }
}
