//! Registration, login, password changes and configuration of the local IdP
//! over the memory store.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use auth_core::memory::MemoryStore;
use auth_core::{
    AuthStore, Claim, IdentityProvider, IdpError, NewUser, PasswordHash, Proof, StoreError,
};
use auth_local_idp::{
    ConfigError, LocalIdP, LocalIdpError, PasswordPolicy, PasswordRule, Registration,
};
use common::{email, idp};

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn registration_writes_user_credentials_and_link() {
    let (idp, store) = idp();
    let email = email();
    let mut extras = auth_core::Extras::new();
    extras.insert("plan".into(), serde_json::json!("pro"));
    let user = idp
        .create_user(
            Registration::new(format!("  {}  ", email.to_uppercase()), PASSWORD)
                .with_name("Ada")
                .with_claims(vec![Claim::new("email_verified", "true")])
                .with_extras(extras.clone()),
        )
        .await
        .unwrap();
    let uuid = user.user_id.strip_prefix("local:").unwrap();
    assert_eq!(uuid::Uuid::parse_str(uuid).unwrap().get_version_num(), 4);
    assert_eq!(user.email.as_deref(), Some(email.as_str()));
    assert_eq!(user.name.as_deref(), Some("Ada"));
    assert_eq!(user.extras, extras);
    let links = store.links_of(&user.user_id).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(
        (links[0].provider.as_str(), links[0].subject.as_str()),
        ("local", email.as_str())
    );
    let hash = store.password_hash(&user.user_id).await.unwrap().unwrap();
    assert!(hash.as_str().starts_with("$argon2id$v=19$"));
    assert!(!hash.as_str().contains(PASSWORD));
}

#[tokio::test]
async fn duplicate_email_is_a_typed_conflict_after_normalisation() {
    let (idp, _) = idp();
    let email = email();
    idp.create_user(Registration::new(&email, PASSWORD))
        .await
        .unwrap();
    for again in [email.clone(), email.to_uppercase(), format!("\t{email} ")] {
        let err = idp
            .create_user(Registration::new(again, "another password"))
            .await
            .unwrap_err();
        assert!(matches!(err, LocalIdpError::EmailTaken));
        assert!(matches!(
            IdpError::from(err),
            IdpError::Store(StoreError::Conflict { .. })
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_of_one_email_make_exactly_one_user() {
    let (idp, store) = idp();
    let idp = Arc::new(idp);
    let email = email();
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let idp = Arc::clone(&idp);
            // Different spellings of one address, different passwords.
            let spelling = if i % 2 == 0 {
                email.clone()
            } else {
                email.to_uppercase()
            };
            tokio::spawn(async move {
                idp.create_user(Registration::new(spelling, format!("password-{i}")))
                    .await
            })
        })
        .collect();
    let mut created = Vec::new();
    let mut taken = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(user) => created.push(user),
            Err(LocalIdpError::EmailTaken) => taken += 1,
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(created.len(), 1, "exactly one registration succeeds");
    assert_eq!(taken, 31);
    let found = store
        .find_by_provider("local", &email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user_id, created[0].user_id);
}

#[tokio::test]
async fn login_with_any_spelling_of_the_email() {
    let (idp, _) = idp();
    let email = email();
    let user = idp
        .create_user(
            Registration::new(&email, PASSWORD).with_claims(vec![Claim::new("role", "admin")]),
        )
        .await
        .unwrap();
    for spelling in [email.clone(), email.to_uppercase(), format!(" {email}\n")] {
        let principal = idp.verify_credentials(&spelling, PASSWORD).await.unwrap();
        assert!(principal.is_authenticated());
        assert_eq!(principal.user_id(), Some(user.user_id.as_str()));
        assert!(principal.has_claim("role", Some("admin")));
    }
}

#[tokio::test]
async fn wrong_password_unknown_and_malformed_email_are_one_error() {
    let (idp, _) = idp();
    let email = email();
    idp.create_user(Registration::new(&email, PASSWORD))
        .await
        .unwrap();
    for (who, password) in [
        (email.as_str(), "wrong password"),
        (email.as_str(), ""),
        ("nobody@example.com", PASSWORD),
        ("not an email", PASSWORD),
        ("", ""),
    ] {
        let err = idp.verify_credentials(who, password).await.unwrap_err();
        assert!(
            matches!(err, LocalIdpError::InvalidCredentials),
            "{who}: {err}"
        );
    }
    // Passwords are not trimmed.
    let padded = format!(" {PASSWORD} ");
    assert!(idp.verify_credentials(&email, &padded).await.is_err());
}

#[tokio::test]
async fn unknown_email_costs_one_verification_like_a_wrong_password() {
    let (idp, _) = idp();
    let email = email();
    idp.create_user(Registration::new(&email, PASSWORD))
        .await
        .unwrap();
    // Warm up: the dummy hash is made on first use.
    let _ = idp.verify_credentials("warmup@example.com", "x").await;

    let before = idp.hasher().stats();
    let _ = idp.verify_credentials(&email, "wrong password").await;
    let after_wrong = idp.hasher().stats();
    let _ = idp
        .verify_credentials("nobody@example.com", "wrong password")
        .await;
    let after_unknown = idp.hasher().stats();
    let _ = idp.verify_credentials("malformed", "wrong password").await;
    let after_malformed = idp.hasher().stats();
    let huge = "x".repeat(1 << 20);
    let _ = idp.verify_credentials(&email, &huge).await;
    let after_huge = idp.hasher().stats();

    for (from, to) in [
        (before, after_wrong),
        (after_wrong, after_unknown),
        (after_unknown, after_malformed),
        (after_malformed, after_huge),
    ] {
        assert_eq!(to.verifications - from.verifications, 1);
        assert_eq!(to.hashes, from.hashes, "no hashing on a failed login");
    }
}

#[tokio::test]
async fn user_without_password_cannot_log_in() {
    let (idp, store) = idp();
    let email = email();
    store
        .create_user(
            NewUser::new(format!("local:{}", uuid::Uuid::new_v4())).with_link("local", &email),
        )
        .await
        .unwrap();
    assert!(matches!(
        idp.verify_credentials(&email, PASSWORD).await,
        Err(LocalIdpError::InvalidCredentials)
    ));
}

#[tokio::test]
async fn unusable_stored_hashes_are_errors_not_panics() {
    let (idp, store) = idp();
    for (i, bad) in [
        "",
        "plaintext",
        "$2b$12$abcdefghijklmnopqrstuuO4CzYhN6y3JxLnoQ2Zq1G8bqX7mV3Xa", // bcrypt
        "$argon2id$v=19$m=4194304,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", // 4 GiB
        "$argon2id$v=19$m=65536,t=1000,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=-1,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=65536,t=3,p=4$$",
    ]
    .into_iter()
    .enumerate()
    {
        let email = format!("bad-{i}-{}@example.com", uuid::Uuid::new_v4());
        store
            .create_user(
                NewUser::new(format!("local:{}", uuid::Uuid::new_v4()))
                    .with_password_hash(PasswordHash::new(bad))
                    .with_link("local", &email),
            )
            .await
            .unwrap();
        let err = idp.verify_credentials(&email, PASSWORD).await.unwrap_err();
        assert!(matches!(err, LocalIdpError::Hashing { .. }), "{bad}: {err}");
        assert!(!err.to_string().contains(bad) || bad.is_empty());
    }
}

#[tokio::test]
async fn password_rules_apply_to_registration() {
    let (idp, _) = idp();
    for bad in ["", "short", "1234567", &"x".repeat(1025)] {
        let err = idp
            .create_user(Registration::new(email(), bad))
            .await
            .unwrap_err();
        assert!(matches!(err, LocalIdpError::Invalid(_)));
    }
    // 64 and 1024 bytes are fine, and so is whitespace kept as typed.
    for good in ["x".repeat(64), "é".repeat(512), "  spaced  ".to_owned()] {
        let email = email();
        idp.create_user(Registration::new(&email, good.as_str()))
            .await
            .unwrap();
        idp.verify_credentials(&email, &good).await.unwrap();
    }
}

struct NoPasswordWord;

impl PasswordRule for NoPasswordWord {
    fn check(&self, password: &str) -> Result<(), auth_core::InvalidInput> {
        if password.to_lowercase().contains("password") {
            Err(auth_core::InvalidInput::new(
                "password contains the word password",
            ))
        } else {
            Ok(())
        }
    }
}

#[tokio::test]
async fn custom_password_rules_plug_in() {
    let store = Arc::new(MemoryStore::new());
    let idp = LocalIdP::builder(
        store,
        auth_local_idp::TokenIssuer::hs256(common::SECRET)
            .build()
            .unwrap(),
    )
    .with_hasher(common::fast_hasher())
    .with_password_policy(
        PasswordPolicy::new()
            .with_min_chars(12)
            .with_rule(NoPasswordWord),
    )
    .build()
    .unwrap();
    assert!(matches!(
        idp.create_user(Registration::new(email(), "elevenchars"))
            .await,
        Err(LocalIdpError::Invalid(_))
    ));
    assert!(matches!(
        idp.create_user(Registration::new(email(), "MyPassword-is-long"))
            .await,
        Err(LocalIdpError::Invalid(_))
    ));
    idp.create_user(Registration::new(email(), "twelve chars"))
        .await
        .unwrap();
}

#[tokio::test]
async fn hostile_registration_input_is_refused_and_writes_nothing() {
    let (idp, store) = idp();
    let long_name = "n".repeat(256);
    let cases = [
        Registration::new("no-at-sign", PASSWORD),
        Registration::new(format!("{}@example.com", "a".repeat(300)), PASSWORD),
        Registration::new(email(), PASSWORD).with_name(long_name.as_str()),
        Registration::new(email(), PASSWORD).with_name("bad\u{0}name"),
        Registration::new(email(), PASSWORD).with_claims(vec![Claim::new("", "x")]),
    ];
    for registration in cases {
        let email = registration.email.clone();
        let err = idp.create_user(registration).await.unwrap_err();
        assert!(matches!(err, LocalIdpError::Invalid(_)), "{err}");
        if let Ok(normalized) = auth_local_idp::normalize_email(&email) {
            assert!(
                store
                    .find_by_provider("local", &normalized)
                    .await
                    .unwrap()
                    .is_none()
            );
        }
    }
    assert_eq!(idp.hasher().stats().hashes, 0, "nothing was hashed");
}

#[tokio::test]
async fn principal_for_user() {
    let (idp, _) = idp();
    let user = idp
        .create_user(Registration::new(email(), PASSWORD).with_name("Ada"))
        .await
        .unwrap();
    let principal = idp
        .principal_for_user(&user.user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(principal.display_name(), Some("Ada"));
    assert!(
        idp.principal_for_user("local:nobody")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn identity_provider_trait() {
    let (idp, _) = idp();
    let email = email();
    let user = idp
        .create_user(Registration::new(&email, PASSWORD))
        .await
        .unwrap();
    let provider: Arc<dyn IdentityProvider> = Arc::new(idp);
    assert_eq!(provider.provider(), "local");
    let signed_in = provider
        .authenticate(Proof::password(email.to_uppercase(), PASSWORD))
        .await
        .unwrap();
    assert_eq!(signed_in.principal.user_id(), Some(user.user_id.as_str()));
    assert_eq!(signed_in.link.provider, "local");
    assert_eq!(signed_in.link.subject, email);
    assert_eq!(signed_in.link.user_id, user.user_id);
    assert!(matches!(
        provider
            .authenticate(Proof::password(&email, "wrong password"))
            .await,
        Err(IdpError::InvalidCredentials)
    ));
}

#[tokio::test]
async fn from_lookup_reads_the_secret_and_refuses_short_ones() {
    let store: Arc<dyn AuthStore> = Arc::new(MemoryStore::new());
    let none = LocalIdP::from_lookup(Arc::clone(&store), |_| None).unwrap_err();
    assert!(matches!(none, ConfigError::MissingVar("LOCAL_IDP_SECRET")));

    let short = HashMap::from([("LOCAL_IDP_SECRET", "too-short")]);
    let err = LocalIdP::from_lookup(Arc::clone(&store), |k| {
        short.get(k).map(ToString::to_string)
    })
    .unwrap_err();
    assert!(matches!(
        err,
        ConfigError::SecretTooShort { len: 9, min: 32 }
    ));
    assert!(!err.to_string().contains("too-short"));

    let env = HashMap::from([
        ("LOCAL_IDP_SECRET", common::SECRET),
        ("LOCAL_IDP_ISSUER", "my-app"),
    ]);
    let idp = LocalIdP::from_lookup(store, |k| env.get(k).map(ToString::to_string)).unwrap();
    assert_eq!(idp.tokens().issuer(), "my-app");
    assert_eq!(idp.tokens().audience(), "my-app");
    let (m, t, p) = idp.hasher().params();
    assert!(
        m >= 19_456 && t >= 1 && p >= 1,
        "defaults at or above the OWASP minimum"
    );
    assert!(m * t >= 19_456 * 2 || (m >= 47_104 && t >= 1));
}

#[tokio::test]
async fn debug_output_holds_no_secret() {
    let (idp, store) = idp();
    let email = email();
    let user = idp
        .create_user(Registration::new(&email, PASSWORD))
        .await
        .unwrap();
    let hash = store.password_hash(&user.user_id).await.unwrap().unwrap();
    let registration = Registration::new(&email, PASSWORD);
    for text in [
        format!("{idp:?}"),
        format!("{registration:?}"),
        format!("{hash:?}"),
        format!("{:?}", idp.hasher()),
        format!("{:?}", Proof::password(&email, PASSWORD)),
    ] {
        assert!(!text.contains(PASSWORD), "{text}");
        assert!(!text.contains(common::SECRET), "{text}");
        assert!(!text.contains(hash.as_str()), "{text}");
    }
}

#[tokio::test]
async fn warm_up_makes_the_first_failure_cost_like_the_rest() {
    let (idp, _) = idp();
    idp.warm_up().await.unwrap();
    assert_eq!(idp.hasher().stats().hashes, 1);
    let before = idp.hasher().stats();
    let _ = idp.verify_credentials("nobody@example.com", "x").await;
    let after = idp.hasher().stats();
    assert_eq!(after.hashes, before.hashes, "no hash on the first failure");
    assert_eq!(after.verifications - before.verifications, 1);
    // A second warm-up does nothing.
    idp.warm_up().await.unwrap();
    assert_eq!(idp.hasher().stats().hashes, 1);
}
