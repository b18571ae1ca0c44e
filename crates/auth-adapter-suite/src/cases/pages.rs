//! Application pages behind the adapter: sessions, guards, headers.

use super::whoami;
use crate::client::{form, get};
use crate::{Adapter, Served};

/// Pages need a session and redirect to the login page.
pub async fn pages_need_a_session_and_redirect_to_the_login_page<A: Adapter>() {
    let served = Served::start::<A>();
    let answer = get(served.addr, "/live", None).await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.location(), "/login_local");
    let answer = get(served.addr, "/live", Some("live_auth=forged")).await;
    assert_eq!(answer.location(), "/login_local");
    assert_eq!(whoami(&served, "live_auth=forged").await, "anonymous");

    let (cookie, _) = served.sign_in("local:ada").await;
    let answer = get(served.addr, "/live", Some(&cookie)).await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.body.contains("admin content hidden"),
        "{}",
        answer.body
    );
    assert!(
        !answer.body.contains("SECRET"),
        "a failed region is not sent"
    );
    assert!(answer.body.contains("/auth/live.js"), "{}", answer.body);
}

/// The guard admits after a grant through the writer.
pub async fn the_guard_admits_after_a_grant_through_the_writer<A: Adapter>() {
    let served = Served::start::<A>();
    assert_eq!(get(served.addr, "/admin", None).await.status, 303);
    let (cookie, _) = served.sign_in("local:ada").await;
    assert_eq!(get(served.addr, "/admin", Some(&cookie)).await.status, 403);
    let origin = served.origin();
    let headers = [("cookie", cookie.as_str()), ("origin", origin.as_str())];
    let answer = form(served.addr, "/grant", &[], &headers).await;
    assert_eq!((answer.status.as_u16(), answer.location()), (303, "/live"));
    let admin = get(served.addr, "/admin", Some(&cookie)).await;
    assert_eq!(
        (admin.status.as_u16(), admin.body.as_str()),
        (200, "admin page")
    );
}

/// Pages send the secure headers and personal ones are not stored.
pub async fn pages_send_the_secure_headers_and_personal_ones_are_not_stored<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, _) = served.sign_in("local:ada").await;
    let personal = get(served.addr, "/whoami", Some(&cookie)).await;
    let anonymous = get(served.addr, "/whoami", None).await;
    for answer in [&personal, &anonymous] {
        let csp = answer.header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert_eq!(answer.header("x-content-type-options"), "nosniff");
        assert_eq!(answer.header("x-frame-options"), "DENY");
        assert!(!answer.header("referrer-policy").is_empty());
    }
    assert!(
        personal.header("cache-control").contains("no-store"),
        "{personal:?}"
    );
}

/// A static script is served and cacheable.
pub async fn a_static_script_is_served_and_cacheable<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, _) = served.sign_in("local:ada").await;
    let script = get(served.addr, "/auth/live.js", Some(&cookie)).await;
    assert_eq!(script.status, 200);
    assert!(
        script.header("content-type").contains("javascript"),
        "{script:?}"
    );
    assert!(script.body.contains("WebSocket"), "the live client");
    assert!(
        !script.header("cache-control").contains("no-store"),
        "the script reads no session: {script:?}"
    );
}

/// The cases of this module, for [`adapter_suite!`](crate::adapter_suite).
#[doc(hidden)]
#[macro_export]
macro_rules! pages_cases {
    ($adapter:ty) => {
        $crate::adapter_suite!(@module $adapter, pages;
            pages_need_a_session_and_redirect_to_the_login_page,
            the_guard_admits_after_a_grant_through_the_writer,
            pages_send_the_secure_headers_and_personal_ones_are_not_stored,
            a_static_script_is_served_and_cacheable,
        );
    };
}
