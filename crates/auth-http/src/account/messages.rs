//! The messages the account flows send: a plain-text body and the same in
//! HTML, each naming the app and carrying at most one link.

use std::fmt::Write as _;

use auth_core::Email;

use crate::live::escape_html;

/// One kind of account message, with what it needs.
pub(crate) enum Message<'a> {
    /// A link that verifies the address of a new account.
    VerifyEmail { link: &'a str, hours: u64 },
    /// A link that sets a new password.
    ResetPassword { link: &'a str, minutes: u64 },
    /// To the address a registration named, which has an account already.
    AlreadyRegistered { forgot: &'a str },
    /// To a new address an account asked to move to, which has an account
    /// already.
    AddressInUse { forgot: &'a str },
    /// To a new address: a link that makes it the account's.
    ConfirmNewEmail { link: &'a str, hours: u64 },
    /// To the old address, when a change to `new` was asked for.
    EmailChangeRequested { new: &'a str },
    /// To the account, after its password changed.
    PasswordChanged { forgot: &'a str },
    /// To the account, after a second factor changed: `what` says how
    /// (an authenticator app was added, removed; a recovery code was used).
    SecondFactorChanged { what: &'a str, forgot: &'a str },
}

impl Message<'_> {
    /// The message to `to`, for the app called `app`.
    pub(crate) fn to(&self, to: &str, app: &str) -> Email {
        let (subject, lines, action) = self.parts();
        let subject = format!("{subject} ({app})");
        let mut text = format!("Hello,\n\n{}\n", lines.join("\n"));
        let mut html = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head><body><p>Hello,</p>",
            escape_html(&subject)
        );
        for line in &lines {
            let _ = write!(html, "<p>{}</p>", escape_html(line));
        }
        if let Some((label, link)) = action {
            let _ = write!(text, "\n{label}:\n{link}\n");
            let _ = write!(
                html,
                "<p><a href=\"{}\">{}</a></p><p>{}</p>",
                escape_html(link),
                escape_html(label),
                escape_html(link)
            );
        }
        let _ = write!(text, "\n-- {app}\n");
        let _ = write!(html, "<p>&mdash; {}</p></body></html>", escape_html(app));
        Email::new(to, subject, text).with_html(html)
    }

    /// The subject, the lines of the body and the one link, if any.
    fn parts(&self) -> (&'static str, Vec<String>, Option<(&'static str, &str)>) {
        const NOT_YOU: &str = "If you did not ask for this, ignore this message.";
        match self {
            Self::SecondFactorChanged { what, forgot } => (
                "Your sign-in security changed",
                vec![
                    format!("{what}."),
                    "If this was not you, reset your password and check your account's security page."
                        .to_owned(),
                ],
                Some(("Reset your password", forgot)),
            ),
            Self::VerifyEmail { link, hours } => (
                "Confirm your email address",
                vec![
                    "Please confirm that this address is yours.".to_owned(),
                    format!("The link works once, for {hours} hours."),
                    NOT_YOU.to_owned(),
                ],
                Some(("Confirm your address", link)),
            ),
            Self::ResetPassword { link, minutes } => (
                "Reset your password",
                vec![
                    "Someone asked to reset the password of the account with this address."
                        .to_owned(),
                    format!(
                        "The link works once, for {minutes} minutes, and signs the account out everywhere."
                    ),
                    NOT_YOU.to_owned(),
                ],
                Some(("Choose a new password", link)),
            ),
            Self::AlreadyRegistered { forgot } => (
                "You already have an account",
                vec![
                    "Someone tried to register a new account with this address, which has one already; no second account was made.".to_owned(),
                    "If it was you and you forgot your password, you can reset it.".to_owned(),
                    NOT_YOU.to_owned(),
                ],
                Some(("Reset your password", forgot)),
            ),
            Self::AddressInUse { forgot } => (
                "This address has an account already",
                vec![
                    "Someone asked to move another account to this address, which has an account already; nothing changed.".to_owned(),
                    "If you forgot the password of this address's account, you can reset it.".to_owned(),
                    NOT_YOU.to_owned(),
                ],
                Some(("Reset your password", forgot)),
            ),
            Self::ConfirmNewEmail { link, hours } => (
                "Confirm your new email address",
                vec![
                    "Someone asked to move an account to this address.".to_owned(),
                    format!("The link works once, for {hours} hours."),
                    NOT_YOU.to_owned(),
                ],
                Some(("Use this address", link)),
            ),
            Self::EmailChangeRequested { new } => (
                "Your email address is being changed",
                vec![
                    format!("Someone signed in to your account asked to change its address to {new}."),
                    "Nothing changes until the new address is confirmed.".to_owned(),
                    "If this was not you, change your password now.".to_owned(),
                ],
                None,
            ),
            Self::PasswordChanged { forgot } => (
                "Your password was changed",
                vec![
                    "The password of your account was just changed, and its other sessions were signed out.".to_owned(),
                    "If this was not you, reset your password now.".to_owned(),
                ],
                Some(("Reset your password", forgot)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_both_bodies_and_escape_what_they_quote() {
        let link = "https://app.example/reset-password?token=abc";
        let email = Message::ResetPassword { link, minutes: 60 }.to("ada@example.com", "Ex<ample>");
        assert!(email.validate().is_ok());
        assert_eq!(email.subject, "Reset your password (Ex<ample>)");
        assert!(email.text.contains(link));
        let html = email.html.as_deref().expect("an HTML body");
        assert!(html.contains("href=\"https://app.example/reset-password?token=abc\""));
        assert!(html.contains("Ex&lt;ample&gt;"));
        assert!(!html.contains("Ex<ample>"));

        let quoted = Message::EmailChangeRequested {
            new: "<b>x</b>@example.com",
        }
        .to("ada@example.com", "App");
        let html = quoted.html.as_deref().expect("an HTML body");
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;@example.com"));
    }
}
