//! The app on actix-web.

use live_auth::actix::{actix_web, prelude::*};

use actix_web::{App, HttpResponse, HttpServer, web};

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    actix_web::rt::System::new().block_on(async {
        let auth = Stack::from_env().await?.live_auth().build()?;
        let server = HttpServer::new(move || {
            App::new()
                .route(
                    "/",
                    web::get().to(|RequireUser(user): RequireUser| async move {
                        format!("Hello, {}!", user.display_name().unwrap_or("you"))
                    }),
                )
                .route(
                    "/login_local",
                    web::get().to(|| async {
                        HttpResponse::Ok()
                            .content_type("text/html; charset=utf-8")
                            .body(crate::LOGIN_PAGE)
                    }),
                )
                .configure(auth.routes_config())
                .wrap(auth.middleware())
        })
        .bind(crate::bind_addr())?;
        println!("listening on http://{}", server.addrs()[0]);
        server.run().await?;
        Ok(())
    })
}
