//! Setup mistakes that weaken the stack without breaking it: each is said
//! once per [`LiveAuth`](crate::LiveAuth), loudly, when it is first seen.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use http::HeaderMap;
use http::header::ORIGIN;

/// Which warnings were given already.
#[derive(Debug, Default)]
pub(crate) struct SetupWarnings {
    no_peer: AtomicBool,
    #[cfg_attr(not(any(feature = "local-idp", feature = "oidc")), allow(dead_code))]
    plain_http: AtomicBool,
}

impl SetupWarnings {
    /// A request came without the peer address.
    pub(crate) fn no_peer_address(&self) {
        if !self.no_peer.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "the server does not pass the connection's peer address, so the per-address \
                 login, registration and verify-token throttles count every client as one \
                 (axum: serve with `into_make_service_with_connect_info::<SocketAddr>()`)"
            );
        }
    }

    #[cfg_attr(not(any(feature = "local-idp", feature = "oidc")), allow(dead_code))]
    /// A browser posted from a plain-HTTP origin that is not this machine
    /// while the session cookie is `Secure`: the browser will drop it.
    pub(crate) fn check_origin(&self, secure_cookie: bool, headers: &HeaderMap) {
        if !secure_cookie {
            return;
        }
        let Some(origin) = plain_http_origin(headers) else {
            return;
        };
        if !self.plain_http.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                %origin,
                "the session cookie is `Secure`, but this browser reached the app over plain \
                 HTTP on another host than this machine: it will drop the cookie and nobody \
                 stays signed in; serve HTTPS, or turn `with_secure_cookie(false)` on for \
                 local development only"
            );
        }
    }
}

#[cfg_attr(not(any(feature = "local-idp", feature = "oidc")), allow(dead_code))]
/// The request's `Origin` when it is `http://` on a host other than a
/// loopback address or `localhost` (which browsers treat as secure).
fn plain_http_origin(headers: &HeaderMap) -> Option<String> {
    let origin = headers.get(ORIGIN)?.to_str().ok()?;
    let url = url::Url::parse(origin).ok()?;
    if url.scheme() != "http" {
        return None;
    }
    let local = match url.host()? {
        url::Host::Domain(name) => name == "localhost" || name.ends_with(".localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(ip).is_loopback(),
    };
    (!local).then(|| origin.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ORIGIN, value.parse().expect("a header value"));
        headers
    }

    #[test]
    fn only_plain_http_to_another_host_counts() {
        for public in [
            "http://192.0.2.10:8000",
            "http://app.example",
            "http://[2001:db8::1]",
        ] {
            assert_eq!(plain_http_origin(&origin(public)).as_deref(), Some(public));
        }
        for fine in [
            "https://app.example",
            "http://localhost:8000",
            "http://app.localhost",
            "http://127.0.0.1:8000",
            "http://[::1]:8000",
            "null",
        ] {
            assert_eq!(plain_http_origin(&origin(fine)), None, "{fine}");
        }
        assert_eq!(plain_http_origin(&HeaderMap::new()), None);
    }
}
