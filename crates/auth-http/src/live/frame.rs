//! The JSON frames the server sends to a tab.

use std::collections::BTreeMap;

use auth_core::{Claim, Principal};
use serde::Serialize;

/// A frame sent to the browser.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Frame<'a> {
    /// The principal changed (or the connection is new): here is the state.
    Update {
        authenticated: bool,
        name: Option<&'a str>,
        claims: &'a [Claim],
        regions: BTreeMap<String, String>,
    },
    /// Leave the page.
    Navigate { to: &'a str },
}

impl<'a> Frame<'a> {
    pub(crate) fn update(principal: &'a Principal, regions: BTreeMap<String, String>) -> Self {
        Self::Update {
            authenticated: principal.is_authenticated(),
            name: principal.display_name(),
            claims: principal.claims(),
            regions,
        }
    }

    pub(crate) fn to_text(&self) -> Option<String> {
        serde_json::to_string(self).ok()
    }
}
