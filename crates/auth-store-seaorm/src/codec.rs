//! The JSON columns: how claims and extras are written, and how both this
//! crate's shape and the Python original's shape are read back.

use auth_core::{Claim, Extras, StoreError};
use serde_json::Value;

use crate::error::Error;

/// Claims as written: a JSON array of `{"type": ..., "value": ...}`, which
/// keeps their order and allows several claims of one type.
pub(crate) fn encode_claims(claims: &[Claim]) -> String {
    Value::Array(
        claims
            .iter()
            .map(|c| serde_json::json!({ "type": c.kind, "value": c.value }))
            .collect(),
    )
    .to_string()
}

/// Extras as written: a JSON object.
pub(crate) fn encode_extras(extras: &Extras) -> String {
    Value::Object(extras.clone()).to_string()
}

/// Reads a claims column.
///
/// Accepts the array this crate writes and the object the Python original
/// writes (`{"role": "admin", "email_verified": "true"}`: one claim per key,
/// in key order). A value that is not a string is kept as its JSON text
/// (`true`, `1`). SQL `NULL` and JSON `null` are no claims.
pub(crate) fn decode_claims(
    text: Option<&str>,
    context: &'static str,
) -> Result<Vec<Claim>, StoreError> {
    let Some(value) = parse(text, context)? else {
        return Ok(Vec::new());
    };
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .into_iter()
            .map(|item| {
                claim_from_item(item)
                    .ok_or_else(|| shape(context, "an array of {\"type\", \"value\"} objects"))
            })
            .collect(),
        Value::Object(map) => Ok(map
            .into_iter()
            .map(|(kind, value)| Claim::new(kind, value_text(value)))
            .collect()),
        _ => Err(shape(context, "an array or an object of claims")),
    }
}

/// Reads an extras column: a JSON object; SQL `NULL` and JSON `null` are an
/// empty object.
pub(crate) fn decode_extras(
    text: Option<&str>,
    context: &'static str,
) -> Result<Extras, StoreError> {
    match parse(text, context)? {
        None | Some(Value::Null) => Ok(Extras::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(shape(context, "a JSON object")),
    }
}

fn parse(text: Option<&str>, context: &'static str) -> Result<Option<Value>, StoreError> {
    text.map(|t| serde_json::from_str(t).map_err(|e| StoreError::corrupt(context, Error::Json(e))))
        .transpose()
}

fn shape(context: &'static str, expected: &'static str) -> StoreError {
    StoreError::corrupt(context, Error::Shape { expected })
}

fn claim_from_item(item: Value) -> Option<Claim> {
    let Value::Object(mut map) = item else {
        return None;
    };
    let Some(Value::String(kind)) = map.remove("type") else {
        return None;
    };
    let value = map.remove("value").map_or_else(String::new, value_text);
    Some(Claim::new(kind, value))
}

fn value_text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_round_trip_in_order_with_repeats() {
        let claims = vec![
            Claim::new("role", "admin"),
            Claim::new("role", "editor"),
            Claim::new("quote'\"\\", "\u{0}\u{2028}"),
        ];
        let text = encode_claims(&claims);
        assert_eq!(decode_claims(Some(&text), "claims").unwrap(), claims);
    }

    #[test]
    fn python_object_claims_are_read() {
        let text =
            r#"{"email": "a@example.com", "email_verified": "true", "level": 3, "ok": true}"#;
        let mut claims = decode_claims(Some(text), "claims").unwrap();
        claims.sort_by(|a, b| a.kind.cmp(&b.kind));
        assert_eq!(
            claims,
            vec![
                Claim::new("email", "a@example.com"),
                Claim::new("email_verified", "true"),
                Claim::new("level", "3"),
                Claim::new("ok", "true"),
            ]
        );
    }

    #[test]
    fn null_and_missing_are_empty() {
        assert!(decode_claims(None, "claims").unwrap().is_empty());
        assert!(decode_claims(Some("null"), "claims").unwrap().is_empty());
        assert!(decode_extras(None, "extras").unwrap().is_empty());
        assert!(decode_extras(Some("{}"), "extras").unwrap().is_empty());
    }

    #[test]
    fn malformed_and_misshapen_columns_are_corrupt() {
        for text in [
            "{",
            "not json",
            "",
            "[1, 2]",
            "\"role\"",
            "42",
            "[{\"value\": \"x\"}]",
            "[{\"type\": 1}]",
        ] {
            let error = decode_claims(Some(text), "claims").unwrap_err();
            assert!(
                matches!(
                    error,
                    StoreError::Corrupt {
                        context: "claims",
                        ..
                    }
                ),
                "{text}: {error}"
            );
        }
        for text in ["[", "[]", "\"x\"", "1"] {
            let error = decode_extras(Some(text), "extras").unwrap_err();
            assert!(
                matches!(
                    error,
                    StoreError::Corrupt {
                        context: "extras",
                        ..
                    }
                ),
                "{text}: {error}"
            );
        }
    }
}
