//! Why an extractor or a guard refused a request, with its fixed answer.

use http::StatusCode;

use crate::response::{Response, refused, see_other, text};

/// A refused request. Each kind has a fixed status and a generic body;
/// details go to `tracing`, never to the client.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The adapter's auth middleware is not in front of this route: a
    /// wiring mistake, answered with 500 and logged.
    #[error("the auth middleware is missing in front of this route")]
    MissingMiddleware,
    /// The session could not be loaded (the backend failed): 503, rather
    /// than serving the request as if anonymous.
    #[error("the session could not be loaded")]
    Unavailable,
    /// Not signed in, or a guard sends the visitor elsewhere: 303 there.
    #[error("redirect to {0}")]
    Redirect(String),
    /// Signed in, but a guard refuses: 403.
    #[error("forbidden")]
    Forbidden,
    /// A state-changing request from another site: 403 with `Vary`.
    #[error("cross-site request refused")]
    CrossSite,
}

impl Rejection {
    /// The answer for this rejection.
    pub fn into_response(self) -> Response {
        match self {
            Self::MissingMiddleware => {
                tracing::error!("{self}: add the adapter's auth layer to the router");
                text(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
            Self::Unavailable => text(StatusCode::SERVICE_UNAVAILABLE, "service unavailable"),
            Self::Redirect(path) => see_other(&path),
            Self::Forbidden => text(StatusCode::FORBIDDEN, "forbidden"),
            Self::CrossSite => refused(StatusCode::FORBIDDEN, "forbidden"),
        }
    }
}
