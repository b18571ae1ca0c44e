//! `LiveAuth::builder` refuses settings it cannot serve.

use std::sync::Arc;

use auth_channel_memory::MemoryChannel;
use auth_core::memory::{MemorySessionBackend, MemoryStore};
use auth_core::{Policies, Policy};
use auth_http::{ConfigError, LiveAuth, LiveAuthBuilder, LivePage, Region};

/// A valid app's builder (an `AdminOnly` policy, a `live` page using it)
/// with `configure` applied, built.
fn build(
    configure: impl FnOnce(LiveAuthBuilder) -> LiveAuthBuilder,
) -> Result<LiveAuth, ConfigError> {
    let builder = LiveAuth::builder(
        Arc::new(MemoryStore::new()),
        Arc::new(MemorySessionBackend::new()),
        Arc::new(MemoryChannel::new()),
    )
    .with_secure_cookie(false)
    .with_policies(Policies::new().with("AdminOnly", Policy::requires_claim("role", Some("admin"))))
    .with_page(
        LivePage::new("live")
            .with_region(Region::new("admin", |_| "admin".to_owned()).with_policy("AdminOnly")),
    );
    configure(builder).build()
}

#[test]
fn the_builder_refuses_bad_settings() {
    assert!(build(|b| b).is_ok(), "the base settings are valid");
    assert!(matches!(
        build(|b| b.with_prefix("auth/")),
        Err(ConfigError::Prefix)
    ));
    assert!(matches!(
        build(|b| b.with_login_path("https://evil.example/")),
        Err(ConfigError::Path(_))
    ));
    let unknown_policy = build(|b| {
        b.with_page(
            LivePage::new("x").with_region(Region::new("r", |_| String::new()).with_policy("Nope")),
        )
    });
    assert!(matches!(
        unknown_policy,
        Err(ConfigError::UnknownPolicy { .. })
    ));
    assert!(matches!(
        build(|b| b.with_page(LivePage::new("live"))),
        Err(ConfigError::DuplicatePage(_))
    ));
    let twice = build(|b| {
        b.with_page(
            LivePage::new("twice")
                .with_region(Region::new("r", |_| String::new()))
                .with_region(Region::new("r", |_| String::new())),
        )
    });
    assert!(
        matches!(&twice, Err(ConfigError::DuplicateRegion { page, region }) if page == "twice" && region == "r"),
        "{twice:?}"
    );
}

#[test]
fn a_mistyped_region_id_is_never_quiet() {
    let auth = build(|b| b).expect("valid settings");
    let page = auth.page("live").expect("registered");
    let user = auth_core::Principal::anonymous();
    let known = page.render_region(&auth, "admin", &user);
    assert!(
        known.starts_with("<div data-live-region=\"admin\">"),
        "{known}"
    );
    // Tests are debug builds: a mistyped id panics, naming page and id.
    let mistyped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        page.render_region(&auth, "admn", &user)
    }));
    let message = mistyped
        .expect_err("an unknown region must not render quietly")
        .downcast::<String>()
        .map(|m| *m)
        .unwrap_or_default();
    assert!(
        message.contains("live page `live` has no region `admn`"),
        "{message}"
    );
}

#[test]
fn a_route_guard_naming_an_undefined_policy_is_refused_when_built() {
    let auth = build(|b| b).expect("valid settings");
    assert!(
        auth.checked_guard(auth_http::Guard::policy("AdminOnly"))
            .is_ok()
    );
    assert!(
        auth.checked_guard(auth_http::Guard::login_required())
            .is_ok()
    );
    let error = auth
        .checked_guard(auth_http::Guard::policy("AdminOnyl"))
        .unwrap_err();
    assert!(matches!(&error, ConfigError::UnknownGuardPolicy(name) if name == "AdminOnyl"));
    assert_eq!(
        error.to_string(),
        "a route guard uses undefined policy `AdminOnyl`"
    );
}

#[test]
fn the_registration_form_may_not_set_the_reserved_claim() {
    assert!(build(|b| b.with_registration_claims(["role", "email_verified"])).is_ok());
    let error =
        build(|b| b.with_registration_claims(["role", auth_core::DISABLED_CLAIM])).unwrap_err();
    assert!(
        matches!(&error, ConfigError::ReservedRegistrationClaim(kind) if kind == auth_core::DISABLED_CLAIM),
        "{error:?}"
    );
}
