//! What only axum can show: the extractors on a `Router` without the
//! layer. The adapter's HTTP behaviour with the layer is in `suite.rs`
//! (`auth-adapter-suite`).
#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::routing::get;
use http::{Request, StatusCode};
use tower::ServiceExt;

#[tokio::test]
async fn extractors_without_the_layer_answer_500() {
    let router: Router =
        Router::new().route(
            "/whoami",
            get(
                |auth_axum::CurrentUser(user): auth_axum::CurrentUser| async move {
                    format!("{user:?}")
                },
            ),
        );
    let response = router
        .oneshot(Request::get("/whoami").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    assert_eq!(body, "internal error");
}
