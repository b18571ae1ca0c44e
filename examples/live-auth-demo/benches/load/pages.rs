//! Page and login load: closed loops, a paced probe, and the login storm.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hyper::StatusCode;
use live_auth::auth_local_idp::DEFAULT_EMAIL_LIMIT;
use tokio::sync::Barrier;
use tokio::time::MissedTickBehavior;

use crate::BoxError;
use crate::client::{Http, Reply, form_value};
use crate::stats::Run;

/// The password of every account the driver registers.
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// The loopback address every page client connects from.
pub(crate) const PAGE_CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The loopback address of login client `index`: `127.0.1.<index + 1>`, so
/// that the server sees each storm client as a client of its own.
fn login_client(index: usize) -> Result<IpAddr, BoxError> {
    let last = u8::try_from(index + 1).map_err(|_| "at most 254 login clients")?;
    Ok(IpAddr::V4(Ipv4Addr::new(127, 0, 1, last)))
}

/// Registers `email` through the form route; returns the session cookie.
pub(crate) async fn register(http: &mut Http, email: &str) -> Result<String, BoxError> {
    let form = format!(
        "email={}&password={}&name=Load&next=/live",
        form_value(email),
        form_value(PASSWORD)
    );
    // A full hashing queue answers 503 at once (new hashes get a share of
    // it); a client then waits a second and asks again, as told.
    let mut reply = http.post_form("/auth/local/register", None, &form).await?;
    for _ in 0..30 {
        if reply.status != StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        reply = http.post_form("/auth/local/register", None, &form).await?;
    }
    signed_in(&reply).ok_or_else(|| {
        format!(
            "registering {email} answered {} to {:?}",
            reply.status, reply.location
        )
        .into()
    })
}

/// The session cookie of a successful form sign-in (303 to `/live`).
fn signed_in(reply: &Reply) -> Option<String> {
    (reply.status == StatusCode::SEE_OTHER && reply.location.as_deref() == Some("/live"))
        .then(|| reply.cookie.clone())
        .flatten()
}

/// Sign-in clients at once. The demo's email throttle counts an attempt
/// before the password is checked and resets on a success, so more logins of
/// one account in flight than its limit (10) would be refused; each client
/// signs in from its own address, and a success is taken back from the
/// address throttle too.
const SIGN_IN_CLIENTS: usize = 4;
const _: () = assert!(SIGN_IN_CLIENTS < DEFAULT_EMAIL_LIMIT as usize);

/// The loopback address of sign-in client `index`: `127.0.2.<index + 1>`,
/// apart from the login storm's addresses.
fn sign_in_client(index: usize) -> Result<IpAddr, BoxError> {
    let last = u8::try_from(index + 1).map_err(|_| "at most 254 sign-in clients")?;
    Ok(IpAddr::V4(Ipv4Addr::new(127, 0, 2, last)))
}

/// Signs the registered account `email` in `count` more times through
/// `POST /auth/local/login` (each a session of its own, as many browsers
/// of one user would hold), [`SIGN_IN_CLIENTS`] clients at once; returns
/// the session cookies.
pub(crate) async fn sign_in_sessions(
    server: SocketAddr,
    email: &str,
    count: usize,
) -> Result<Vec<String>, BoxError> {
    let form: Arc<str> = format!(
        "email={}&password={}&next=/live",
        form_value(email),
        form_value(PASSWORD)
    )
    .into();
    let mut tasks = Vec::new();
    for index in 0..SIGN_IN_CLIENTS.min(count) {
        let mut http = Http::connect(server, sign_in_client(index)?).await?;
        // Client `index` makes logins index, index + SIGN_IN_CLIENTS, ...
        let logins = (count - index).div_ceil(SIGN_IN_CLIENTS);
        let form = form.clone();
        tasks.push(tokio::spawn(async move {
            let mut cookies = Vec::with_capacity(logins);
            for _ in 0..logins {
                let mut reply = http.post_form("/auth/local/login", None, &form).await?;
                // A full hashing queue answers 503: wait and ask again.
                for _ in 0..30 {
                    if reply.status != StatusCode::SERVICE_UNAVAILABLE {
                        break;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    reply = http.post_form("/auth/local/login", None, &form).await?;
                }
                let cookie = signed_in(&reply).ok_or_else(|| {
                    format!("login answered {} to {:?}", reply.status, reply.location)
                })?;
                cookies.push(cookie);
            }
            Ok::<_, BoxError>(cookies)
        }));
    }
    let mut cookies = Vec::with_capacity(count);
    for task in tasks {
        cookies.extend(task.await??);
    }
    Ok(cookies)
}

/// Registers `count` accounts at once, each on its own connection from
/// the address its login client will use (registrations are throttled
/// per client address, as logins are); returns their emails and the wall
/// time.
pub(crate) async fn register_accounts(
    server: SocketAddr,
    count: usize,
) -> Result<(Vec<String>, Duration), BoxError> {
    let started = Instant::now();
    let tasks: Vec<_> = (0..count)
        .map(|index| {
            tokio::spawn(async move {
                let email = format!("storm-{index}@load.example");
                let mut http = Http::connect(server, login_client(index)?).await?;
                register(&mut http, &email).await?;
                Ok::<_, BoxError>(email)
            })
        })
        .collect();
    let mut emails = Vec::with_capacity(count);
    for task in tasks {
        emails.push(task.await??);
    }
    Ok((emails, started.elapsed()))
}

/// `connections` clients each sending `GET path` back to back until
/// `duration` has passed (or `max_each` requests); every answer but 200
/// counts as an error.
pub(crate) async fn closed_loop(
    server: SocketAddr,
    path: &'static str,
    cookie: Option<Arc<str>>,
    connections: usize,
    duration: Duration,
    max_each: usize,
) -> Result<Run, BoxError> {
    let barrier = Arc::new(Barrier::new(connections + 1));
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let mut http = Http::connect(server, PAGE_CLIENT).await?;
        let barrier = barrier.clone();
        let cookie = cookie.clone();
        tasks.push(tokio::spawn(async move {
            let mut run = Run::default();
            barrier.wait().await;
            let end = Instant::now() + duration;
            while Instant::now() < end && run.samples.len() + run.errors < max_each {
                let sent = Instant::now();
                match http.get(path, cookie.as_deref()).await {
                    Ok(reply) if reply.status == StatusCode::OK => run.samples.push(sent.elapsed()),
                    Ok(reply) => run.fail(|| format!("{path} answered {}", reply.status)),
                    Err(error) => {
                        run.fail(|| format!("{path}: {error}"));
                        match Http::connect(server, PAGE_CLIENT).await {
                            Ok(fresh) => http = fresh,
                            Err(_) => break,
                        }
                    }
                }
            }
            run
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut total = Run::default();
    for task in tasks {
        total.merge(task.await?);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// A paced probe: `connections` clients each sending `GET /live` once per
/// `every` (a page view, not a flood) until `stop` is set or `cap` passes.
pub(crate) async fn paced_probe(
    server: SocketAddr,
    cookie: Arc<str>,
    connections: usize,
    every: Duration,
    stop: Arc<AtomicBool>,
    cap: Duration,
) -> Result<Run, BoxError> {
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let mut http = Http::connect(server, PAGE_CLIENT).await?;
        let cookie = cookie.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut run = Run::default();
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            let end = Instant::now() + cap;
            while !stop.load(Ordering::Acquire) && Instant::now() < end {
                tick.tick().await;
                let sent = Instant::now();
                match http.get("/live", Some(&cookie)).await {
                    Ok(reply) if reply.status == StatusCode::OK => run.samples.push(sent.elapsed()),
                    Ok(reply) => run.fail(|| format!("/live answered {}", reply.status)),
                    Err(error) => run.fail(|| format!("/live: {error}")),
                }
            }
            run
        }));
    }
    let mut total = Run::default();
    for task in tasks {
        total.merge(task.await?);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// The login storm: one client per account, each on its own connection
/// from its own loopback address, all starting at once and each signing in
/// `each` times in a row with the right password. A login counts when it
/// answers 303 to `/live` with a session cookie.
pub(crate) async fn login_storm(
    server: SocketAddr,
    emails: &[String],
    each: usize,
) -> Result<Run, BoxError> {
    let barrier = Arc::new(Barrier::new(emails.len() + 1));
    let mut tasks = Vec::with_capacity(emails.len());
    for (index, email) in emails.iter().enumerate() {
        let mut http = Http::connect(server, login_client(index)?).await?;
        let form = format!(
            "email={}&password={}&next=/live",
            form_value(email),
            form_value(PASSWORD)
        );
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let mut run = Run::default();
            barrier.wait().await;
            for _ in 0..each {
                let sent = Instant::now();
                match http.post_form("/auth/local/login", None, &form).await {
                    Ok(reply) if signed_in(&reply).is_some() => run.samples.push(sent.elapsed()),
                    Ok(reply) => run.fail(|| {
                        format!("login answered {} to {:?}", reply.status, reply.location)
                    }),
                    Err(error) => run.fail(|| format!("login: {error}")),
                }
            }
            run
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut total = Run::default();
    for task in tasks {
        total.merge(task.await?);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}
