//! The [`AuthStore`] suite, continued: exact ids, unicode, long values,
//! extras JSON and concurrency.

use futures_util::future::join_all;

use crate::principal::{Claim, MAX_CLAIM_TYPE_LEN, MAX_CLAIM_VALUE_LEN};
use crate::store::AuthStore;
use crate::user::{ClaimChange, Extras, MAX_USER_ID_LEN, NewUser, ProviderLink, UserUpdate};

use super::Ids;
use super::store::{PROVIDER, check, hash, is_conflict, sorted};

/// `prefix` then copies of `fill` (then ASCII padding) up to exactly `len`
/// bytes.
fn exactly(prefix: &str, fill: char, len: usize) -> String {
    let mut out = prefix.to_owned();
    while out.len() + fill.len_utf8() <= len {
        out.push(fill);
    }
    while out.len() < len {
        out.push('x');
    }
    out
}

pub(crate) async fn exact_comparison(store: &dyn AuthStore, ids: &Ids) {
    let c = check("ids and subjects are compared exactly (case-sensitive)");
    let (upper, lower) = (ids.user("Case"), ids.user("case"));
    let (upper_subject, lower_subject) = (ids.subject("Case"), ids.subject("case"));
    let upper_new = NewUser::new(&upper)
        .with_name("Upper")
        .with_link(PROVIDER, &upper_subject);
    let lower_new = NewUser::new(&lower)
        .with_name("Lower")
        .with_link(PROVIDER, &lower_subject);
    c.ok(store.create_user(upper_new.clone()).await, "create_user");
    c.ok(
        store.create_user(lower_new.clone()).await,
        "create_user of an id differing only in case",
    );
    c.equal(
        &c.ok(store.get_user(&upper).await, "get_user"),
        &Some(upper_new.record.clone()),
        "the upper-case user",
    );
    c.equal(
        &c.ok(store.get_user(&lower).await, "get_user"),
        &Some(lower_new.record.clone()),
        "the lower-case user",
    );
    let found = c.ok(
        store.find_by_provider(PROVIDER, &upper_subject).await,
        "find_by_provider",
    );
    c.equal(
        &found,
        &Some(upper_new.record),
        "the user of the upper-case subject",
    );
    let found = c.ok(
        store.find_by_provider(PROVIDER, &lower_subject).await,
        "find_by_provider",
    );
    c.equal(
        &found,
        &Some(lower_new.record),
        "the user of the lower-case subject",
    );
    let shouted = c.ok(
        store.find_by_provider(PROVIDER, &ids.subject("CASE")).await,
        "find_by_provider",
    );
    c.equal(
        &shouted,
        &None,
        "a subject that matches only case-insensitively",
    );
}

pub(crate) async fn unicode_and_long_values(store: &dyn AuthStore, ids: &Ids) {
    let c = check("unicode and longest-valid values round-trip");
    let id = exactly(&ids.user("ünïcødé-"), 'ß', MAX_USER_ID_LEN);
    let subject = exactly(&format!("{}-", ids.run()), '日', 255);
    let name = "Zoë 👩🏽‍💻 עִבְרִית ﷽ 'single' \"double\" back\\slash %_* ; DROP TABLE users; --";
    let claims = vec![
        Claim::new(
            exactly("type-", 'é', MAX_CLAIM_TYPE_LEN),
            exactly("value-", '🔑', MAX_CLAIM_VALUE_LEN),
        ),
        Claim::new("flag", ""),
        Claim::new("quote'\"\\", "null\u{2028}line"),
    ];
    let new = NewUser::new(&id)
        .with_email("zoë+tag@例え.jp")
        .with_name(name)
        .with_claims(claims.clone())
        .with_link("testkit-ünï", &subject);
    let created = c.ok(store.create_user(new.clone()).await, "create_user");
    c.equal(&created, &new.record, "the record create_user returns");
    c.equal(
        &c.ok(store.get_user(&id).await, "get_user"),
        &Some(new.record.clone()),
        "get_user of the unicode user",
    );
    let found = c.ok(
        store.find_by_provider("testkit-ünï", &subject).await,
        "find_by_provider",
    );
    c.equal(
        &found,
        &Some(new.record),
        "find_by_provider of the unicode link",
    );
    let links = c.ok(store.links_of(&id).await, "links_of");
    c.equal(
        &links,
        &vec![ProviderLink::new("testkit-ünï", &subject, &id)],
        "links_of the unicode user",
    );
    let user = c.ok(
        store
            .update_claims(&id, ClaimChange::Set(Claim::new("ключ", "значение ✓")))
            .await,
        "update_claims(Set)",
    );
    let mut expected = claims;
    expected.push(Claim::new("ключ", "значение ✓"));
    c.equal(
        &sorted(user.claims),
        &sorted(expected),
        "claims after setting a unicode claim",
    );
}

pub(crate) async fn extras_round_trip(store: &dyn AuthStore, ids: &Ids) {
    let c = check("extras JSON round-trips");
    let value = serde_json::json!({
        "nested": { "list": [1, -2, 3.5, "x", null, true], "empty": {}, "none": [] },
        "ünïcødé 🔑": "välue ✓",
        "big": 9_007_199_254_740_993_i64,
        "negative": -42,
        "fraction": 0.25,
        "flag": false,
        "nothing": null,
        "quotes": "'\"\\",
    });
    let serde_json::Value::Object(extras) = value else {
        check("extras JSON round-trips").fail("the suite's extras are not an object")
    };
    let id = ids.user("extras");
    let new = NewUser::new(&id).with_extras(extras.clone());
    c.ok(store.create_user(new).await, "create_user");
    let got = c.ok(store.get_user(&id).await, "get_user");
    c.equal(
        &got.map(|u| u.extras),
        &Some(extras.clone()),
        "the extras written by create_user",
    );

    let mut replaced = Extras::new();
    replaced.insert("only".to_owned(), serde_json::json!({ "deep": [[[]]] }));
    let updated = c.ok(
        store
            .update_user(&id, UserUpdate::new().extras(replaced.clone()))
            .await,
        "update_user(extras)",
    );
    c.equal(&updated.extras, &replaced, "the extras update_user returns");
    let got = c.ok(store.get_user(&id).await, "get_user");
    c.equal(
        &got.map(|u| u.extras),
        &Some(replaced),
        "the extras after update_user",
    );
}

pub(crate) async fn concurrent_claim_changes(store: &dyn AuthStore, ids: &Ids) {
    let c = check("50 concurrent claim changes of different types all survive");
    let id = ids.user("concurrent-claims");
    let new = NewUser::new(&id).with_claims(vec![Claim::new("base", "kept")]);
    c.ok(store.create_user(new).await, "create_user");
    let changes = (0..50).map(|i| {
        let change = ClaimChange::Set(Claim::new(format!("perm-{i:02}"), format!("v{i}")));
        store.update_claims(&id, change)
    });
    for result in join_all(changes).await {
        c.ok(result, "a concurrent update_claims(Set)");
    }
    let mut expected: Vec<Claim> = (0..50)
        .map(|i| Claim::new(format!("perm-{i:02}"), format!("v{i}")))
        .collect();
    expected.push(Claim::new("base", "kept"));
    let user = c.ok(store.get_user(&id).await, "get_user");
    let claims = user.map(|u| sorted(u.claims));
    c.equal(
        &claims,
        &Some(sorted(expected)),
        "claims after 50 concurrent grants",
    );
}

pub(crate) async fn concurrent_creates(store: &dyn AuthStore, ids: &Ids) {
    let c = check("20 concurrent creates with one link: exactly one wins");
    let subject = ids.subject("race");
    let user_ids: Vec<String> = (0..20).map(|i| ids.user(&format!("race-{i:02}"))).collect();
    let creates = user_ids.iter().map(|id| {
        let new = NewUser::new(id)
            .with_password_hash(hash("race"))
            .with_link(PROVIDER, &subject);
        store.create_user(new)
    });
    let mut winners = Vec::new();
    for (id, result) in user_ids.iter().zip(join_all(creates).await) {
        match result {
            Ok(user) => winners.push(user.user_id),
            Err(error) if is_conflict(&error) => {}
            Err(error) => c.fail(format_args!(
                "create_user of {id}: expected Ok or Conflict, got the error: {}",
                super::chain(&error)
            )),
        }
    }
    c.equal(&winners.len(), &1, "how many concurrent creates succeeded");
    let found = c.ok(
        store.find_by_provider(PROVIDER, &subject).await,
        "find_by_provider",
    );
    c.equal(
        &found.map(|u| u.user_id),
        &winners.first().cloned(),
        "the link's user",
    );
    for id in user_ids.iter().filter(|id| !winners.contains(id)) {
        c.equal(
            &c.ok(store.get_user(id).await, "get_user"),
            &None,
            "a losing create's user",
        );
        c.equal(
            &c.ok(store.password_hash(id).await, "password_hash"),
            &None,
            "a losing create's credentials",
        );
        c.equal(
            &c.ok(store.links_of(id).await, "links_of"),
            &Vec::new(),
            "a losing create's links",
        );
    }
}
