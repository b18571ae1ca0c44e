//! What every form route shares: reading the form, and where success and
//! failure send the browser.

use http::{HeaderMap, StatusCode};

use crate::code::ErrorCode;
use crate::config::LiveAuth;
use crate::form::Form;
use crate::redirect::{safe_path, same_host_referer, with_error};
use crate::request::{AuthRequest, RequestBody};
use crate::response::{Response, refused, see_other};

impl LiveAuth {
    /// The form of a state-changing request: same origin (else 403), a
    /// body within the limit (else 413) that is a form (else 415).
    #[allow(clippy::result_large_err)] // the refusal is the response itself
    pub(super) fn form_of(&self, request: &AuthRequest) -> Result<Form, Response> {
        if !crate::csrf::same_origin(&request.headers) {
            return Err(refused(StatusCode::FORBIDDEN, "forbidden"));
        }
        self.inner
            .warnings
            .check_origin(self.inner.cookie.secure, &request.headers);
        let body = match &request.body {
            RequestBody::Bytes(body) => body.as_ref(),
            RequestBody::Empty => &[],
            RequestBody::TooLarge => {
                return Err(refused(StatusCode::PAYLOAD_TOO_LARGE, "payload too large"));
            }
        };
        Form::parse(&request.headers, body)
            .ok_or_else(|| refused(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported media type"))
    }

    /// Where a form failure goes: `error_next`, else the same-host
    /// `Referer`, else the fallback path; with `?error=<code>`.
    pub(super) fn fail(&self, headers: &HeaderMap, form: &Form, code: ErrorCode) -> Response {
        let target = form
            .get("error_next")
            .and_then(safe_path)
            .map(str::to_owned)
            .or_else(|| same_host_referer(headers))
            .unwrap_or_else(|| self.inner.fallback_path.clone());
        see_other(&with_error(&target, code.as_str()))
    }

    /// Where a success goes: `next` when it is a path on this site.
    pub(super) fn next_path<'a>(&'a self, form: &'a Form) -> &'a str {
        form.get("next")
            .and_then(safe_path)
            .unwrap_or(&self.inner.fallback_path)
    }
}
