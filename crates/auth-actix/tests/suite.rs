//! The adapter behaviour suite (`auth-adapter-suite`) against actix-web,
//! over real TCP. The server runs on its own thread under actix's runtime,
//! as `HttpServer` does in an application.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpResponse, HttpServer, web};
use auth_actix::{
    Auth, CurrentUser, Guard, LiveAuth, LiveAuthExt, RequireUser, SameOrigin, SecureHeaders,
    secure_headers,
};
use auth_adapter_suite::{Adapter, adapter_suite};

struct Actix;

fn app(
    auth: &LiveAuth,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody + use<>>,
        Error = actix_web::Error,
        InitError = (),
    > + use<>,
> {
    let show = auth.clone();
    App::new()
        .route(
            "/live",
            web::get().to(move |RequireUser(user): RequireUser| {
                let show = show.clone();
                async move {
                    let page = show.page("live").expect("registered");
                    let admin = page.render_region(&show, "admin", &user);
                    HttpResponse::Ok()
                        .content_type("text/html; charset=utf-8")
                        .body(format!("{admin}{}", page.script_tag(&show)))
                }
            }),
        )
        .route(
            "/whoami",
            web::get().to(|CurrentUser(user): CurrentUser| async move {
                user.display_name().unwrap_or("anonymous").to_owned()
            }),
        )
        .route(
            "/grant",
            web::post().to(|_: SameOrigin, auth: Auth| async move {
                let to = match auth.grant("role", "admin").await {
                    Ok(_) => "/live",
                    Err(_) => "/live?error=unknown",
                };
                HttpResponse::SeeOther()
                    .insert_header(("location", to))
                    .finish()
            }),
        )
        .service(
            web::resource("/admin")
                .wrap(auth.guard(Guard::policy("AdminOnly")))
                .route(web::get().to(|| async { "admin page" })),
        )
        .configure(auth.routes_config())
        .wrap(auth.middleware())
        .wrap(secure_headers(&SecureHeaders::new()))
}

impl Adapter for Actix {
    fn serve_on(auth: LiveAuth, listener: std::net::TcpListener) -> SocketAddr {
        let addr = listener.local_addr().expect("bound");
        let (ready, started) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || app(&auth))
                    .workers(1)
                    .listen(listener)
                    .expect("listen")
                    .shutdown_timeout(0)
                    .run();
                ready.send(()).expect("the test waits");
                server.await.expect("server runs");
            });
        });
        started
            .recv_timeout(Duration::from_secs(30))
            .expect("the server started");
        addr
    }
}

adapter_suite!(Actix);
