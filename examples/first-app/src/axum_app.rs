//! The app on axum.

use live_auth::axum::{axum, prelude::*};

#[tokio::main]
pub async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let auth = Stack::from_env().await?.live_auth().build()?;
    let app = axum::Router::new()
        .route(
            "/",
            axum::routing::get(|RequireUser(user): RequireUser| async move {
                format!("Hello, {}!", user.display_name().unwrap_or("you"))
            }),
        )
        .route(
            "/login_local",
            axum::routing::get(|| async { axum::response::Html(crate::LOGIN_PAGE) }),
        )
        .merge(auth.router())
        .layer(auth.layer());
    let listener = tokio::net::TcpListener::bind(crate::bind_addr()).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).await?;
    Ok(())
}
