//! The live endpoint and the pages it serves.

mod page;
mod socket;

pub use page::{LivePage, Region, escape_html};
pub(crate) use socket::live_socket;

/// The browser client, served at `{prefix}/live.js`.
pub(crate) const CLIENT_JS: &str = include_str!("client.js");
