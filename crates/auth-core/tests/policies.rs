//! Policies: claims with and without a value, authentication, closures,
//! combinations, and unknown names.

use auth_core::{Claim, Policies, Policy, PolicyError, Principal};

fn ada() -> Principal {
    Principal::authenticated(
        "local:1",
        "Ada",
        vec![Claim::new("role", "admin"), Claim::new("tier", "beta")],
    )
}

fn bob() -> Principal {
    Principal::authenticated("local:2", "Bob", vec![Claim::new("role", "user")])
}

#[test]
fn requires_claim_with_a_value() {
    let admin = Policy::requires_claim("role", Some("admin"));
    assert!(admin.allows(&ada()));
    assert!(!admin.allows(&bob()), "another value of the type");
    assert!(!admin.allows(&Principal::anonymous()));
    let case = Policy::requires_claim("role", Some("Admin"));
    assert!(!case.allows(&ada()), "values compare exactly");
}

#[test]
fn requires_claim_without_a_value() {
    let any_role = Policy::requires_claim("role", None);
    assert!(any_role.allows(&ada()));
    assert!(any_role.allows(&bob()));
    assert!(!Policy::requires_claim("tier", None).allows(&bob()));
    assert!(!any_role.allows(&Principal::anonymous()));
}

#[test]
fn requires_claim_refuses_an_anonymous_principal_carrying_claims() {
    let forged = Principal::anonymous().with_claims(vec![Claim::new("role", "admin")]);
    assert!(!Policy::requires_claim("role", Some("admin")).allows(&forged));
    assert!(!Policy::requires_authenticated().allows(&forged));
}

#[test]
fn requires_authenticated() {
    let signed_in = Policy::requires_authenticated();
    assert!(signed_in.allows(&ada()));
    assert!(signed_in.allows(&Principal::authenticated("local:3", "C", vec![])));
    assert!(!signed_in.allows(&Principal::anonymous()));
}

#[test]
fn closures_and_combinations() {
    let beta = Policy::new(|p| p.claim("tier") == Some("beta"));
    let admin = Policy::requires_claim("role", Some("admin"));
    let user = Policy::requires_claim("role", Some("user"));
    assert!(beta.allows(&ada()));
    assert!(!beta.allows(&bob()));

    let both = admin.clone().and(beta.clone());
    assert!(both.allows(&ada()));
    assert!(!both.allows(&bob()));

    let either = admin.clone().or(user);
    assert!(either.allows(&ada()));
    assert!(either.allows(&bob()));
    assert!(!either.allows(&Principal::anonymous()));

    let nested = admin
        .and(beta)
        .or(Policy::new(|p| p.display_name() == Some("Bob")));
    assert!(nested.allows(&ada()));
    assert!(nested.allows(&bob()));
    assert!(!nested.allows(&Principal::anonymous()));
    assert_eq!(format!("{nested:?}"), "Policy(..)");
}

#[test]
fn a_policy_name_is_defined_once() {
    let policies = Policies::new().with("AdminOnly", Policy::requires_claim("role", Some("admin")));
    let duplicate = policies
        .clone()
        .try_with("AdminOnly", Policy::requires_authenticated())
        .unwrap_err();
    assert_eq!(duplicate.name, "AdminOnly");
    assert_eq!(
        duplicate.to_string(),
        "the policy `AdminOnly` is defined twice"
    );
    // Nothing was replaced.
    assert_eq!(policies.check("AdminOnly", &bob()), Ok(false));
    let replaced = std::panic::catch_unwind(|| {
        Policies::new()
            .with("AdminOnly", Policy::requires_claim("role", Some("admin")))
            .with("AdminOnly", Policy::requires_authenticated())
    });
    assert!(replaced.is_err(), "`with` refuses a duplicate name");
}

#[test]
fn named_policies_and_unknown_names() {
    let policies = Policies::new()
        .with("AdminOnly", Policy::requires_claim("role", Some("admin")))
        .with("SignedIn", Policy::requires_authenticated());
    assert_eq!(policies.check("AdminOnly", &ada()), Ok(true));
    assert_eq!(policies.check("AdminOnly", &bob()), Ok(false));
    assert_eq!(policies.check("SignedIn", &bob()), Ok(true));

    for unknown in ["NoSuchPolicy", "", "adminonly", "AdminOnly "] {
        let error = policies.check(unknown, &ada()).unwrap_err();
        assert_eq!(
            error,
            PolicyError {
                name: unknown.to_owned()
            }
        );
        assert!(policies.get(unknown).is_err());
    }
    assert_eq!(
        policies.check("Nope", &ada()).unwrap_err().to_string(),
        "unknown policy `Nope`"
    );

    let mut names: Vec<&str> = policies.names().collect();
    names.sort_unstable();
    assert_eq!(names, ["AdminOnly", "SignedIn"]);
}
