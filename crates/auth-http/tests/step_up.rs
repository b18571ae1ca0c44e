//! The step-up guard: a signed-in session of an account with an active
//! authenticator passes only with a recent second factor; an account
//! without one passes; an anonymous visitor goes to the login page. Also:
//! second factors need the local identity provider and a long secret.

use std::sync::Arc;
use std::time::Duration;

use auth_channel_memory::MemoryChannel;
use auth_core::memory::{MemorySessionBackend, MemoryStore};
use auth_core::{
    AuthStore, Factor, NewUser, Principal, SealedSecret, SecondFactorStore, SessionToken,
};
use auth_http::auth_local_idp::{LocalIdP, TokenIssuer};
use auth_http::{ConfigError, LiveAuth, Rejection, RequestAuth, SecondFactors, StepUp};
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue, Method, Uri};

const SECRET: &[u8] = b"a test secret that is long enough, 32+ bytes";

fn live_auth(store: &Arc<MemoryStore>, max_age: Duration) -> Result<LiveAuth, ConfigError> {
    let tokens = TokenIssuer::hs256(SECRET).build().expect("a long secret");
    let idp = LocalIdP::builder(store.clone(), tokens)
        .build()
        .expect("valid provider");
    let factors = SecondFactors::new(store.clone(), SECRET)?
        .with_step_up_max_age(max_age)
        .with_step_up_page("/confirm")?;
    LiveAuth::builder(
        store.clone(),
        Arc::new(MemorySessionBackend::new()),
        Arc::new(MemoryChannel::new()),
    )
    .with_local_idp(Arc::new(idp))
    .with_second_factors(factors)
    .with_secure_cookie(false)
    .build()
}

fn request(auth: &LiveAuth, token: Option<&SessionToken>) -> RequestAuth {
    let mut headers = HeaderMap::new();
    if let Some(token) = token {
        let cookie = format!("{}={}", auth.cookie_name(), token.as_str());
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&cookie).expect("a valid cookie"),
        );
    }
    let uri: Uri = "/admin/users?page=2".parse().expect("a valid URI");
    RequestAuth::for_request(auth, &Method::GET, &uri, &headers)
}

#[tokio::test]
async fn step_up_asks_for_a_recent_factor_only_where_there_is_one() {
    let store = Arc::new(MemoryStore::new());
    let auth = live_auth(&store, Duration::from_secs(1)).expect("valid settings");
    let ada = store
        .create_user(NewUser::new("local:ada"))
        .await
        .expect("created");
    let bob = store
        .create_user(NewUser::new("local:bob"))
        .await
        .expect("created");
    let sealed = SealedSecret::new("v1.not-opened-here").expect("sealed text");
    store.begin_totp("local:ada", &sealed).await.expect("begun");
    assert!(store.confirm_totp("local:ada", 1).await.expect("confirmed"));

    // Signed in with the password only: asked to step up, back to here.
    let (token, session) = auth
        .sessions()
        .sign_in(None, Principal::for_user(&ada))
        .await
        .expect("signed in");
    let state = auth.step_up_state(&session.key, "local:ada").await;
    assert_eq!(state.expect("readable"), StepUp::Needed);
    let refused = auth
        .require_recent_second_factor(&request(&auth, Some(&token)))
        .await;
    assert_eq!(
        refused,
        Err(Rejection::Redirect(
            "/confirm?next=%2Fadmin%2Fusers%3Fpage%3D2".to_owned()
        ))
    );
    // A fresh factor lets it through, until it is older than the age.
    let recorded = auth
        .sessions()
        .record_second_factor(&session.key, Factor::Totp);
    assert!(recorded.await.expect("recorded"));
    let allowed = auth
        .require_recent_second_factor(&request(&auth, Some(&token)))
        .await;
    assert_eq!(allowed, Ok(()));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let state = auth.step_up_state(&session.key, "local:ada").await;
    assert_eq!(state.expect("readable"), StepUp::Needed);

    // No factor enrolled: nothing to step up with.
    let (bob_token, _) = auth
        .sessions()
        .sign_in(None, Principal::for_user(&bob))
        .await
        .expect("signed in");
    let allowed = auth
        .require_recent_second_factor(&request(&auth, Some(&bob_token)))
        .await;
    assert_eq!(allowed, Ok(()));

    // Anonymous: the login page, with next.
    let anonymous = auth
        .require_recent_second_factor(&request(&auth, None))
        .await;
    assert!(
        matches!(&anonymous, Err(Rejection::Redirect(path)) if path.starts_with(auth.login_path())),
        "{anonymous:?}"
    );
}

#[test]
fn second_factors_need_the_provider_and_a_long_secret() {
    let store = Arc::new(MemoryStore::new());
    assert!(matches!(
        SecondFactors::new(store.clone(), b"short"),
        Err(ConfigError::FactorSecret)
    ));
    let factors = SecondFactors::new(store.clone(), SECRET).expect("a long secret");
    let built = LiveAuth::builder(
        store,
        Arc::new(MemorySessionBackend::new()),
        Arc::new(MemoryChannel::new()),
    )
    .with_second_factors(factors)
    .build();
    assert!(matches!(built, Err(ConfigError::FactorsWithoutIdp)));
}
