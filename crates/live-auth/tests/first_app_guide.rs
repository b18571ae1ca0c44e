//! `docs/first-app.md` shows the example app's files whole: this fails
//! when one of them changes and the guide does not.

use std::path::Path;

#[test]
fn the_guide_shows_the_example_app_as_it_is() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let read = |path: &str| {
        std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let guide = read("docs/first-app.md");
    for file in [
        "Cargo.toml",
        "src/main.rs",
        "src/axum_app.rs",
        "src/actix_app.rs",
    ] {
        let source = read(&format!("examples/first-app/{file}"));
        assert!(
            guide.contains(&source),
            "docs/first-app.md does not show examples/first-app/{file} as it is"
        );
    }
    assert!(guide.contains("[profile.dev.package.argon2]\nopt-level = 3"));
}
