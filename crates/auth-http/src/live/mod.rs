//! Live pages, the live connection and the browser client.

mod connection;
mod frame;
mod limits;
mod page;
mod rendered;

pub use connection::{Incoming, LiveConnection, MAX_MESSAGE_BYTES, Outgoing, Step};
pub(crate) use limits::SocketCounts;
pub use limits::{MAX_MESSAGE_BURST, MESSAGE_REFILL};
pub use page::{LivePage, Region, TargetRegion, escape_html};

/// The browser client, served at `{prefix}/live.js`.
pub const CLIENT_JS: &str = include_str!("client.js");
