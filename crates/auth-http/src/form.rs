//! Form bodies: `application/x-www-form-urlencoded`, first value wins.

use std::collections::HashMap;

use http::HeaderMap;
use http::header::CONTENT_TYPE;

/// A parsed form: the first value of each field.
pub(crate) struct Form(pub(crate) HashMap<String, String>);

impl Form {
    /// Parses an `application/x-www-form-urlencoded` body; other content
    /// types are `None` (answered with 415).
    #[cfg_attr(
        not(any(feature = "local-idp", feature = "oidc", feature = "fuzzing")),
        allow(dead_code)
    )]
    pub(crate) fn parse(headers: &HeaderMap, body: &[u8]) -> Option<Self> {
        let content_type = headers.get(CONTENT_TYPE)?.to_str().ok()?;
        let essence = content_type.split(';').next()?.trim();
        if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return None;
        }
        let mut fields = HashMap::new();
        for (key, value) in url::form_urlencoded::parse(body) {
            fields
                .entry(key.into_owned())
                .or_insert_with(|| value.into_owned());
        }
        Some(Self(fields))
    }

    /// A field's value; an empty one counts as absent.
    #[cfg_attr(not(any(feature = "local-idp", feature = "oidc")), allow(dead_code))]
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}
