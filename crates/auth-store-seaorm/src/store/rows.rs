//! Rows back into records, and what this store refuses beyond the core's
//! input rules (what its SQL columns cannot hold).

use auth_core::{InvalidInput, ProviderLink, StoreError, UserRecord};
use sea_orm::QueryResult;

use super::MAX_EMAIL_LEN;
use crate::codec::{decode_claims, decode_extras};

pub(super) fn user_from_row(row: &QueryResult) -> Result<UserRecord, StoreError> {
    let column = |e| StoreError::corrupt("a user row", e);
    let user_id: String = row.try_get_by_index(0).map_err(column)?;
    let email: Option<String> = row.try_get_by_index(1).map_err(column)?;
    let name: Option<String> = row.try_get_by_index(2).map_err(column)?;
    let claims: Option<String> = row.try_get_by_index(3).map_err(column)?;
    let extras: Option<String> = row.try_get_by_index(4).map_err(column)?;
    let mut user = UserRecord::new(user_id);
    user.email = email;
    user.name = name;
    user.claims = decode_claims(claims.as_deref(), "the claims of a user")?;
    user.extras = decode_extras(extras.as_deref(), "the extras of a user")?;
    Ok(user)
}

pub(super) fn link_from_row(row: &QueryResult) -> Result<ProviderLink, StoreError> {
    let column = |e| StoreError::corrupt("a provider link row", e);
    let provider: String = row.try_get_by_index(0).map_err(column)?;
    let subject: String = row.try_get_by_index(1).map_err(column)?;
    let user_id: Option<String> = row.try_get_by_index(2).map_err(column)?;
    let claims: Option<String> = row.try_get_by_index(3).map_err(column)?;
    let claims = decode_claims(claims.as_deref(), "the claims of a provider link")?;
    Ok(ProviderLink::new(provider, subject, user_id.unwrap_or_default()).with_claims(claims))
}

fn no_nul(value: &str, what: &'static str) -> Result<(), InvalidInput> {
    if value.contains('\0') {
        return Err(InvalidInput::new(what));
    }
    Ok(())
}

/// The rules of this store beyond the core's: what SQL columns can hold.
pub(super) fn validate_profile(
    email: Option<&str>,
    name: Option<&str>,
) -> Result<(), InvalidInput> {
    if let Some(email) = email {
        if email.len() > MAX_EMAIL_LEN {
            return Err(InvalidInput::new("email is too long"));
        }
        no_nul(email, "email has a NUL character")?;
    }
    if let Some(name) = name {
        no_nul(name, "name has a NUL character")?;
    }
    Ok(())
}

pub(super) fn validate_link_text(provider: &str, subject: &str) -> Result<(), InvalidInput> {
    no_nul(provider, "provider has a NUL character")?;
    no_nul(subject, "subject has a NUL character")
}
