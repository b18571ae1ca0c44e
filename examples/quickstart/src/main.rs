//! Run with: `cargo run -p quickstart`
//!
//! One user, two sessions (say a laptop and a phone) and two open tabs. An
//! admin claim is granted from the laptop: the store row changes, the laptop's
//! session changes at once, the phone's session picks it up on its next
//! request, and both tabs hear about it live. Then "sign out everywhere".
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use auth_channel_memory::MemoryChannel;
use auth_core::memory::{MemorySessionBackend, MemoryStore};
use auth_core::{
    AuthActions, AuthChannel, AuthStore, NewUser, Policies, Policy, Principal, SessionConfig,
    Sessions,
};
use futures_util::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let store = Arc::new(MemoryStore::new());
    let channel = Arc::new(MemoryChannel::new());
    let sessions = Sessions::new(
        Arc::new(MemorySessionBackend::new()),
        store.clone(),
        SessionConfig::new(),
    )?;
    let actions = AuthActions::new(store.clone(), sessions.clone(), channel.clone());
    let policies = Policies::new().with("AdminOnly", Policy::requires_claim("role", Some("admin")));

    let ada = store
        .create_user(
            NewUser::new("local:ada")
                .with_name("Ada")
                .with_email("ada@example.com"),
        )
        .await?;
    let (_, laptop) = sessions.sign_in(None, Principal::for_user(&ada)).await?;
    let (_, phone) = sessions.sign_in(None, Principal::for_user(&ada)).await?;
    let mut tab1 = channel.subscribe("local:ada").await?;
    let mut tab2 = channel.subscribe("local:ada").await?;

    println!(
        "before: AdminOnly = {}",
        policies.check("AdminOnly", laptop.principal())?
    );

    actions
        .grant(laptop.principal(), Some(&laptop.key), "role", "admin")
        .await?;
    for (name, tab) in [("tab 1", &mut tab1), ("tab 2", &mut tab2)] {
        let event = tokio::time::timeout(Duration::from_secs(1), tab.next()).await?;
        println!("{name} received: {event:?}");
    }
    let phone_now = sessions.load(&phone.key).await?.ok_or("phone signed out")?;
    println!(
        "phone's next request: AdminOnly = {}",
        policies.check("AdminOnly", phone_now.principal())?
    );

    let removed = actions.revoke_all_sessions(laptop.principal()).await?;
    let event = tokio::time::timeout(Duration::from_secs(1), tab2.next()).await?;
    println!("signed out everywhere: {removed} sessions; tab 2 received: {event:?}");
    println!(
        "phone's next request is signed in: {}",
        sessions.load(&phone.key).await?.is_some()
    );
    Ok(())
}
