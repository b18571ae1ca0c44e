//! The admin console's routes (`{prefix}/admin/*`) and its live user page:
//! who may use them, what each action changes and records, hostile input.

use std::time::Duration;

use auth_core::{Actor, AuditAction, AuditEntry, Page, SessionKey};

use crate::client::{Answer, connect_page, form, frame_within, next_frame, refused_status};
use crate::{Adapter, Served};

const ADMIN: &str = "local:admin";
const CAROL: &str = "local:carol";

/// A served app with an admin (signed in, `role=admin`) and Carol (signed
/// in); the admin's cookie and Carol's session key.
async fn console<A: Adapter>() -> (Served, String, SessionKey) {
    let served = Served::start::<A>();
    let (admin, _) = served.sign_in(ADMIN).await;
    served
        .auth
        .actions()
        .grant_to(&Actor::cli("suite"), ADMIN, "role", "admin")
        .await
        .expect("admin granted");
    let (_, carol) = served.sign_in(CAROL).await;
    (served, admin, carol)
}

/// Posts an admin form with `cookie` from the server's own origin.
async fn post(served: &Served, action: &str, cookie: &str, fields: &[(&str, &str)]) -> Answer {
    let origin = served.origin();
    let headers = [("cookie", cookie), ("origin", origin.as_str())];
    form(
        served.addr,
        &format!("/auth/admin/{action}"),
        fields,
        &headers,
    )
    .await
}

/// The audit entries of `user_id`, newest first.
async fn audit(served: &Served, user_id: &str) -> Vec<AuditEntry> {
    served
        .auth
        .actions()
        .audit_log()
        .expect("the suite's app records")
        .entries(Some(user_id), Page::first(50))
        .await
        .expect("audit log works")
}

/// Carol's claims as `kind=value` strings.
async fn carol_claims(served: &Served) -> Vec<String> {
    let carol = served
        .auth
        .actions()
        .store()
        .get_user(CAROL)
        .await
        .expect("store works")
        .expect("Carol exists");
    carol
        .claims
        .iter()
        .map(|c| format!("{}={}", c.kind, c.value))
        .collect()
}

/// A form's fields.
type Form<'a> = Vec<(&'a str, &'a str)>;

const GRANT: &[(&str, &str)] = &[
    ("user_id", CAROL),
    ("kind", "role"),
    ("value", "editor"),
    ("next", "/admin/users/carol"),
    ("error_next", "/admin/users/carol"),
];

/// A signed-in user without the admin claim is refused with 403, and
/// nothing is changed or recorded.
pub async fn a_non_admin_is_forbidden<A: Adapter>() {
    let (served, _, _) = console::<A>().await;
    let (bob, _) = served.sign_in("local:bob").await;
    for (action, fields) in [
        ("grant", GRANT),
        ("revoke", &[("user_id", CAROL), ("kind", "role")][..]),
        ("sign-out-all", &[("user_id", CAROL)][..]),
        ("disable", &[("user_id", CAROL)][..]),
        ("enable", &[("user_id", CAROL)][..]),
    ] {
        let answer = post(&served, action, &bob, fields).await;
        assert_eq!(answer.status, 403, "{action}: {answer:?}");
    }
    assert!(carol_claims(&served).await.is_empty());
    assert!(audit(&served, CAROL).await.is_empty());
}

/// Without a session the action is not taken: back with
/// `?error=signed_out`.
pub async fn an_anonymous_action_is_sent_back_signed_out<A: Adapter>() {
    let (served, _, _) = console::<A>().await;
    for cookie in ["live_auth=forged", "other=1"] {
        let answer = post(&served, "grant", cookie, GRANT).await;
        assert_eq!(
            (answer.status.as_u16(), answer.location()),
            (303, "/admin/users/carol?error=signed_out")
        );
    }
    assert!(carol_claims(&served).await.is_empty());
    assert!(audit(&served, CAROL).await.is_empty());
}

/// A cross-site post (Fetch Metadata, or a foreign or `null` `Origin`) is
/// refused with 403 even with the admin's cookie.
pub async fn a_cross_site_action_is_refused<A: Adapter>() {
    let (served, admin, _) = console::<A>().await;
    for extra in [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "http://evil.example"),
        ("origin", "null"),
    ] {
        let headers = [("cookie", admin.as_str()), extra];
        let answer = form(served.addr, "/auth/admin/grant", GRANT, &headers).await;
        assert_eq!(answer.status, 403, "{extra:?}: {answer:?}");
    }
    // A body that is not a form is not read as one.
    let origin = served.origin();
    let answer = crate::client::send(
        served.addr,
        http::Method::POST,
        "/auth/admin/grant",
        &[
            ("cookie", admin.as_str()),
            ("origin", origin.as_str()),
            ("content-type", "application/json"),
        ],
        r#"{"user_id":"local:carol","kind":"role","value":"admin"}"#,
    )
    .await;
    assert_eq!(answer.status, 415);
    assert!(carol_claims(&served).await.is_empty());
    assert!(audit(&served, CAROL).await.is_empty());
}

/// The policy is checked on the session as it is at the post: an admin
/// whose claim was revoked while the console was open is refused.
pub async fn a_revoked_admin_is_refused<A: Adapter>() {
    let (served, admin, _) = console::<A>().await;
    let answer = post(&served, "grant", &admin, GRANT).await;
    assert_eq!(answer.status, 303, "{answer:?}");
    served
        .auth
        .actions()
        .revoke_from(&Actor::cli("suite"), ADMIN, "role")
        .await
        .expect("admin revoked");
    let answer = post(
        &served,
        "revoke",
        &admin,
        &[("user_id", CAROL), ("kind", "role")],
    )
    .await;
    assert_eq!(answer.status, 403, "{answer:?}");
    assert_eq!(carol_claims(&served).await, ["role=editor"]);
    assert_eq!(audit(&served, CAROL).await.len(), 1);
}

/// Each action changes the target in every layer and records who did it,
/// from where.
pub async fn each_action_changes_the_target_and_is_audited<A: Adapter>() {
    let (served, admin, carol) = console::<A>().await;
    let back = |answer: &Answer| {
        assert_eq!(
            (answer.status.as_u16(), answer.location()),
            (303, "/admin/users/carol"),
            "{answer:?}"
        );
    };
    back(&post(&served, "grant", &admin, GRANT).await);
    assert_eq!(carol_claims(&served).await, ["role=editor"]);
    assert!(
        served
            .principal(&carol)
            .await
            .has_claim("role", Some("editor"))
    );

    let next = ("next", "/admin/users/carol");
    back(
        &post(
            &served,
            "revoke",
            &admin,
            &[("user_id", CAROL), ("kind", "role"), next],
        )
        .await,
    );
    assert!(carol_claims(&served).await.is_empty());

    let (_, second) = served.sign_in(CAROL).await;
    let fields = [("user_id", CAROL), ("session", carol.as_str()), next];
    back(&post(&served, "sign-out", &admin, &fields).await);
    let sessions = served.auth.sessions();
    assert!(sessions.load(&carol).await.expect("backend").is_none());
    assert!(sessions.load(&second).await.expect("backend").is_some());

    back(&post(&served, "sign-out-all", &admin, &[("user_id", CAROL), next]).await);
    assert!(sessions.load(&second).await.expect("backend").is_none());

    let (_, third) = served.sign_in(CAROL).await;
    back(&post(&served, "disable", &admin, &[("user_id", CAROL), next]).await);
    assert_eq!(carol_claims(&served).await, ["account_disabled=true"]);
    assert!(sessions.load(&third).await.expect("backend").is_none());
    back(&post(&served, "enable", &admin, &[("user_id", CAROL), next]).await);
    assert!(carol_claims(&served).await.is_empty());

    let entries = audit(&served, CAROL).await;
    let actions: Vec<AuditAction> = entries.iter().rev().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::Grant,
            AuditAction::Revoke,
            AuditAction::SignOutSession,
            AuditAction::SignOutEverywhere,
            AuditAction::Disable,
            AuditAction::Enable,
        ]
    );
    for entry in &entries {
        assert_eq!(
            (entry.actor.as_str(), entry.source.as_str()),
            (ADMIN, "127.0.0.1")
        );
        assert_eq!(entry.target_user_id, CAROL);
        assert!(!entry.detail.contains(carol.as_str()), "no session key");
    }
    assert_eq!(
        entries.last().map(|e| e.detail.as_str()),
        Some("role=editor")
    );
}

/// A target that does not exist is `?error=unknown_user`; nothing is
/// recorded.
pub async fn an_unknown_target_is_reported<A: Adapter>() {
    let (served, admin, _) = console::<A>().await;
    for action in ["grant", "revoke", "sign-out-all", "disable", "enable"] {
        let fields = [
            ("user_id", "local:nobody"),
            ("kind", "role"),
            ("value", "x"),
            ("error_next", "/admin"),
        ];
        let answer = post(&served, action, &admin, &fields).await;
        assert_eq!(
            (answer.status.as_u16(), answer.location()),
            (303, "/admin?error=unknown_user"),
            "{action}"
        );
    }
    let key = SessionKey::parse(&"a".repeat(64)).expect("well formed");
    let fields = [
        ("user_id", "local:nobody"),
        ("session", key.as_str()),
        ("error_next", "/admin"),
    ];
    let answer = post(&served, "sign-out", &admin, &fields).await;
    assert_eq!(answer.location(), "/admin?error=unknown_user");
    assert!(audit(&served, "local:nobody").await.is_empty());
}

/// Hostile fields (missing, control characters, oversized, a malformed
/// session key, the reserved claim) are answered with a code, never a
/// change or a server error.
pub async fn hostile_fields_are_refused_with_a_code<A: Adapter>() {
    let (served, admin, _) = console::<A>().await;
    let long = "x".repeat(300);
    let huge = "y".repeat(20 * 1024);
    let cases: Vec<(&str, Form<'_>, &str)> = vec![
        ("grant", vec![("kind", "role"), ("value", "x")], "missing"),
        ("grant", vec![("user_id", CAROL), ("value", "x")], "missing"),
        (
            "grant",
            vec![
                ("user_id", "local:\ncarol"),
                ("kind", "role"),
                ("value", "x"),
            ],
            "invalid",
        ),
        (
            "grant",
            vec![("user_id", &long), ("kind", "role"), ("value", "x")],
            "invalid",
        ),
        (
            "grant",
            vec![
                ("user_id", CAROL),
                ("kind", "account_disabled"),
                ("value", "false"),
            ],
            "invalid",
        ),
        (
            "grant",
            vec![("user_id", CAROL), ("kind", "ro\u{0}le"), ("value", "x")],
            "invalid",
        ),
        (
            "revoke",
            vec![("user_id", CAROL), ("kind", "account_disabled")],
            "invalid",
        ),
        (
            "sign-out",
            vec![("user_id", CAROL), ("session", "not-a-key")],
            "invalid",
        ),
        ("sign-out", vec![("user_id", CAROL)], "missing"),
        ("disable", vec![("user_id", "")], "missing"),
    ];
    for (action, mut fields, code) in cases {
        fields.push(("error_next", "/admin"));
        let answer = post(&served, action, &admin, &fields).await;
        assert_eq!(
            (answer.status.as_u16(), answer.location().to_owned()),
            (303, format!("/admin?error={code}")),
            "{action} {fields:?}"
        );
    }
    let answer = post(
        &served,
        "grant",
        &admin,
        &[("user_id", CAROL), ("kind", &huge)],
    )
    .await;
    assert_eq!(answer.status, 413);
    assert!(carol_claims(&served).await.is_empty());
    assert!(audit(&served, CAROL).await.is_empty());
}

/// `next` and `error_next` are followed only when they are paths on this
/// site; otherwise the fallback path.
pub async fn only_a_safe_next_is_followed<A: Adapter>() {
    let (served, admin, _) = console::<A>().await;
    for unsafe_next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let fields = [
            ("user_id", CAROL),
            ("kind", "role"),
            ("value", "x"),
            ("next", unsafe_next),
        ];
        let answer = post(&served, "grant", &admin, &fields).await;
        assert_eq!((answer.status.as_u16(), answer.location()), (303, "/"));
        let fields = [("user_id", "local:nobody"), ("error_next", unsafe_next)];
        let answer = post(&served, "disable", &admin, &fields).await;
        assert_eq!(answer.location(), "/?error=unknown_user");
    }
}

/// The user page's tab follows its target live: a change of the target's
/// claims or sessions reaches the admin's tab, which watches only that
/// user, and only while an admin.
pub async fn the_user_page_follows_its_target_live<A: Adapter>() {
    let (served, admin, carol) = console::<A>().await;
    let origin = served.origin();
    let page = "admin-user&target=local%3Acarol";
    let (bob, _) = served.sign_in("local:bob").await;
    let refused = |result| refused_status(result);
    assert_eq!(
        refused(connect_page(served.addr, page, Some(&bob), Some(&origin)).await),
        403
    );
    assert_eq!(
        refused(connect_page(served.addr, "admin-user", Some(&admin), Some(&origin)).await),
        400
    );
    let bad = "admin-user&target=local%3A%0Acarol";
    assert_eq!(
        refused(connect_page(served.addr, bad, Some(&admin), Some(&origin)).await),
        400
    );
    let nobody = "admin-user&target=local%3Anobody";
    assert_eq!(
        refused(connect_page(served.addr, nobody, Some(&admin), Some(&origin)).await),
        404
    );
    let other = "live&target=local%3Acarol";
    assert_eq!(
        refused(connect_page(served.addr, other, Some(&admin), Some(&origin)).await),
        400
    );

    let mut socket = connect_page(served.addr, page, Some(&admin), Some(&origin))
        .await
        .expect("an admin watches Carol");
    let first = next_frame(&mut socket).await;
    assert_eq!(first["regions"]["target-claims"], "", "{first}");
    assert_eq!(first["regions"]["target-sessions"], "1 sessions", "{first}");

    let cli = Actor::cli("suite");
    let actions = served.auth.actions();
    actions
        .grant_to(&cli, CAROL, "role", "editor")
        .await
        .expect("granted");
    let frame = next_frame(&mut socket).await;
    assert_eq!(frame["regions"]["target-claims"], "role=editor", "{frame}");
    actions
        .sign_out_session_of(&cli, CAROL, &carol)
        .await
        .expect("signed out");
    let frame = next_frame(&mut socket).await;
    assert_eq!(frame["regions"]["target-sessions"], "0 sessions", "{frame}");
    // Another user's change is not this tab's business.
    actions
        .grant_to(&cli, "local:bob", "role", "x")
        .await
        .expect("granted");
    assert!(
        frame_within(&mut socket, Duration::from_millis(300))
            .await
            .is_none()
    );

    // The admin loses admin: the tab is sent away and closed.
    actions
        .revoke_from(&cli, ADMIN, "role")
        .await
        .expect("revoked");
    let frame = next_frame(&mut socket).await;
    assert_eq!(frame["type"], "navigate", "{frame}");
}

/// The cases of this module, for [`adapter_suite!`](crate::adapter_suite).
#[macro_export]
macro_rules! admin_cases {
    ($adapter:ty) => {
        $crate::adapter_suite!(@module $adapter, admin;
            a_non_admin_is_forbidden,
            an_anonymous_action_is_sent_back_signed_out,
            a_cross_site_action_is_refused,
            a_revoked_admin_is_refused,
            each_action_changes_the_target_and_is_audited,
            an_unknown_target_is_reported,
            hostile_fields_are_refused_with_a_code,
            only_a_safe_next_is_followed,
            the_user_page_follows_its_target_live,
        );
    };
}
