//! The axum demo in a real browser; the harness and the script are shared
//! with the actix-web demo's test (see `tests/browser/harness.rs`). The
//! admin console's test (`tests/browser/console.rs`) runs two workers of
//! this demo with the `live-auth-admin` tool.

#[path = "browser/console.rs"]
mod console;
#[path = "browser/harness.rs"]
mod harness;
#[path = "browser/log_mail.rs"]
mod log_mail;

#[test]
fn two_tabs_and_two_browsers_follow_grants_and_sign_outs_live() {
    harness::two_tabs(
        env!("CARGO_BIN_EXE_live-auth-demo"),
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser"),
    );
}

#[test]
fn the_tool_and_the_admin_console_change_an_open_tab_live_across_workers() {
    console::console(
        env!("CARGO_BIN_EXE_live-auth-demo"),
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser"),
    );
}

#[test]
fn without_smtp_the_mailed_links_are_in_the_log_and_work() {
    log_mail::links_in_the_log_verify_and_reset(env!("CARGO_BIN_EXE_live-auth-demo"));
}
