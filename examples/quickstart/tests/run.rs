//! The quickstart prints what the README says it prints.

use std::process::Command;

#[test]
fn quickstart_shows_the_three_layers() {
    let output = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .output()
        .expect("the quickstart runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8 output");
    assert!(stdout.contains("before: AdminOnly = false"), "{stdout}");
    assert!(stdout.contains("tab 1 received: Some(Update"), "{stdout}");
    assert!(stdout.contains("tab 2 received: Some(Update"), "{stdout}");
    assert!(
        stdout.contains("phone's next request: AdminOnly = true"),
        "{stdout}"
    );
    assert!(
        stdout.contains("signed out everywhere: 2 sessions"),
        "{stdout}"
    );
    assert!(
        stdout.contains("received: Some(Revoke { session: None })"),
        "{stdout}"
    );
    assert!(
        stdout.contains("phone's next request is signed in: false"),
        "{stdout}"
    );
}
