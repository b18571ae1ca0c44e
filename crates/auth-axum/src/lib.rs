//! axum adapter for the live-auth stack (being built).
