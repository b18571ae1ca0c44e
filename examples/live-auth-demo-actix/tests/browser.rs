//! The actix-web demo in the same real browser run as the axum demo: the
//! harness and `two-tabs.mjs` live beside the axum demo's test.

#[path = "../../live-auth-demo/tests/browser/harness.rs"]
mod harness;
#[path = "../../live-auth-demo/tests/browser/log_mail.rs"]
mod log_mail;

#[test]
fn two_tabs_and_two_browsers_follow_grants_and_sign_outs_live() {
    harness::two_tabs(
        env!("CARGO_BIN_EXE_live-auth-demo-actix"),
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../live-auth-demo/tests/browser"),
    );
}

#[test]
fn without_smtp_the_mailed_links_are_in_the_log_and_work() {
    log_mail::links_in_the_log_verify_and_reset(env!("CARGO_BIN_EXE_live-auth-demo-actix"));
}
