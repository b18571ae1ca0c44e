//! The cases, by subject. Each serves a fresh app through adapter `A` and
//! checks one behaviour over real TCP; each module's list macro (`*_cases!`)
//! names its cases for [`adapter_suite!`](crate::adapter_suite), which turns
//! each into a test.

pub mod account;
pub mod admin;
pub mod forms;
pub mod hostile;
pub mod hostile_sessions;
pub mod hostile_tokens;
pub mod limits;
pub mod live;
pub mod local;
pub mod mfa;
pub mod oidc;
pub mod pages;
pub mod tokens;

use crate::Served;
use crate::client::{Answer, Socket, connect, form, get, next_frame};

/// Ada's registration form, going to `/live`.
pub(crate) const ADA: &[(&str, &str)] = &[
    ("email", "ada@example.com"),
    ("password", "correct horse battery"),
    ("name", "Ada"),
    ("next", "/live"),
];

/// Registers Ada through the form; the answer is a 303.
pub(crate) async fn register_ada(served: &Served) -> Answer {
    let answer = form(served.addr, "/auth/local/register", ADA, &[]).await;
    assert_eq!(answer.status, 303, "{answer:?}");
    answer
}

/// What `/whoami` says for `cookie`.
pub(crate) async fn whoami(served: &Served, cookie: &str) -> String {
    get(served.addr, "/whoami", Some(cookie)).await.body
}

/// Opens a live socket with `cookie` from the server's own origin and takes
/// its first (state) frame.
pub(crate) async fn signed_in_socket(served: &Served, cookie: &str) -> Socket {
    let origin = served.origin();
    let mut socket = connect(served.addr, Some(cookie), Some(&origin))
        .await
        .expect("upgrade");
    let first = next_frame(&mut socket).await;
    assert_eq!(first["type"], "update", "{first}");
    socket
}
