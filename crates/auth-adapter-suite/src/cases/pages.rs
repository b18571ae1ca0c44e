//! Application pages behind the adapter: sessions, guards, headers.

use super::whoami;
use crate::client::{form, get};
use crate::{Adapter, Served};

/// Pages need a session and redirect to the login page, with `next` back
/// to the page (path and query, encoded) so signing in returns there.
pub async fn pages_need_a_session_and_redirect_to_the_login_page<A: Adapter>() {
    let served = Served::start::<A>();
    let answer = get(served.addr, "/live", None).await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.location(), "/login_local?next=%2Flive");
    let answer = get(served.addr, "/live?tab=2&x=%26", Some("live_auth=forged")).await;
    assert_eq!(
        answer.location(),
        "/login_local?next=%2Flive%3Ftab%3D2%26x%3D%2526"
    );
    // A target that is not a path on this site is never carried along.
    let answer = get(served.addr, "//evil.example/live", None).await;
    assert!(!answer.location().contains("evil"), "{}", answer.location());
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
    let anonymous = get(served.addr, "/admin", None).await;
    assert_eq!(
        (anonymous.status.as_u16(), anonymous.location()),
        (303, "/login_local?next=%2Fadmin")
    );
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

/// The client script is served, with or without a session, and cacheable.
pub async fn a_static_script_is_served_and_cacheable<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, _) = served.sign_in("local:ada").await;
    for cookie in [None, Some(cookie.as_str())] {
        let script = get(served.addr, "/auth/live.js", cookie).await;
        assert_eq!(script.status, 200, "{cookie:?}");
        assert!(
            script.header("content-type").starts_with("text/javascript"),
            "{script:?}"
        );
        assert!(script.body.contains("new WebSocket"), "the live client");
        assert!(
            !script.header("cache-control").contains("no-store"),
            "the script reads no session: {script:?}"
        );
    }
}

/// The current user is anonymous without a valid cookie.
pub async fn the_current_user_is_anonymous_without_a_valid_cookie<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, _) = served.sign_in("local:ada").await;
    assert_eq!(whoami(&served, &cookie).await, "name of local:ada");
    for bad in [
        None,
        Some("live_auth=nothex"),
        Some("live_auth="),
        Some("live_auth=0000000000000000000000000000000000000000000000000000000000000000"),
        Some("other=1"),
        Some(";;;==;"),
    ] {
        let answer = get(served.addr, "/whoami", bad).await;
        assert_eq!(answer.status, 200, "{bad:?}");
        assert_eq!(answer.body, "anonymous", "{bad:?}");
    }
}

/// A signed-out session is anonymous on its next request, and its cookie
/// replayed opens no page.
pub async fn a_signed_out_session_is_anonymous_on_its_next_request<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, key) = served.sign_in("local:ada").await;
    served
        .auth
        .sessions()
        .sign_out(&key)
        .await
        .expect("signed out");
    assert_eq!(whoami(&served, &cookie).await, "anonymous");
    let replay = get(served.addr, "/live", Some(&cookie)).await;
    assert_eq!(
        (replay.status.as_u16(), replay.location()),
        (303, "/login_local?next=%2Flive"),
        "replay after sign-out is refused"
    );
}

/// A grant in one session reaches the user's other session.
pub async fn a_grant_in_one_session_reaches_the_users_other_session<A: Adapter>() {
    let served = Served::start::<A>();
    let (laptop, _) = served.sign_in("local:ada").await;
    let (phone, _) = served.sign_in("local:ada").await;
    let origin = served.origin();
    let headers = [("cookie", laptop.as_str()), ("origin", origin.as_str())];
    let answer = form(served.addr, "/grant", &[], &headers).await;
    assert_eq!((answer.status.as_u16(), answer.location()), (303, "/live"));
    let page = get(served.addr, "/live", Some(&phone)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("SECRET admin content"), "{}", page.body);
}

/// An anonymous grant changes nothing: it is answered as the error.
pub async fn an_anonymous_grant_changes_nothing<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, key) = served.sign_in("local:ada").await;
    let origin = served.origin();
    let answer = form(served.addr, "/grant", &[], &[("origin", origin.as_str())]).await;
    assert_eq!(
        (answer.status.as_u16(), answer.location()),
        (303, "/live?error=unknown")
    );
    assert!(
        served.principal(&key).await.claims().is_empty(),
        "no session gained a claim"
    );
    assert_eq!(get(served.addr, "/admin", Some(&cookie)).await.status, 403);
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
            the_current_user_is_anonymous_without_a_valid_cookie,
            a_signed_out_session_is_anonymous_on_its_next_request,
            a_grant_in_one_session_reaches_the_users_other_session,
            an_anonymous_grant_changes_nothing,
        );
    };
}
