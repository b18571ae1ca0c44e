//! How one provider is set up: its id, endpoints or issuer, client
//! credentials, scopes, claim map and account rules; with presets.

use std::time::Duration;

use auth_core::Secret;

use crate::claims::ClaimMap;

/// Whether a provider speaks OpenID Connect or GitHub's OAuth 2.0.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ProviderKind {
    /// OpenID Connect, discovered from the issuer URL.
    OpenId {
        /// The issuer, exactly as the provider's `iss` spells it.
        issuer: String,
    },
    /// GitHub: OAuth 2.0 and its REST API (`/user`, `/user/emails`).
    GitHub(GitHubEndpoints),
}

/// GitHub's endpoints; change them for GitHub Enterprise Server.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct GitHubEndpoints {
    /// The authorization page.
    pub authorize: String,
    /// The token endpoint.
    pub token: String,
    /// The REST API base, without a trailing `/`.
    pub api: String,
}

impl Default for GitHubEndpoints {
    fn default() -> Self {
        Self::at("https://github.com", "https://api.github.com")
    }
}

impl GitHubEndpoints {
    /// The endpoints of a GitHub at `web` (its OAuth pages) and `api` (its
    /// REST API, e.g. `https://ghe.example/api/v3`).
    pub fn at(web: &str, api: &str) -> Self {
        let web = web.trim_end_matches('/');
        Self {
            authorize: format!("{web}/login/oauth/authorize"),
            token: format!("{web}/login/oauth/access_token"),
            api: api.trim_end_matches('/').to_owned(),
        }
    }
}

/// One provider's settings. Start from a preset ([`ProviderConfig::google`],
/// [`ProviderConfig::microsoft`], [`ProviderConfig::gitlab`],
/// [`ProviderConfig::apple`], [`ProviderConfig::github`]) or from any
/// OpenID Connect issuer ([`ProviderConfig::issuer`]).
///
/// ```
/// use auth_oidc::{ClaimMap, ProviderConfig};
///
/// let google = ProviderConfig::google("client-id", "client-secret", "https://app.example/auth/google/callback")
///     .with_claim_map(ClaimMap::new().map("hd", "google_domain"))
///     .link_verified_email(true);
/// assert_eq!(google.id(), "google");
/// ```
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kind: ProviderKind,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<Secret>,
    pub(crate) redirect_uri: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) claim_map: ClaimMap,
    pub(crate) link_verified_email: bool,
    pub(crate) form_post: bool,
    pub(crate) jwks_refresh_interval: Duration,
}

impl ProviderConfig {
    /// Any OpenID Connect provider, discovered from `issuer`
    /// (`{issuer}/.well-known/openid-configuration`). `id` names it in
    /// routes (`{prefix}/{id}/login`) and links; `redirect_uri` is the
    /// callback registered with the provider, `{base}{prefix}/{id}/callback`.
    pub fn issuer(
        id: impl Into<String>,
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        let id = id.into();
        Self {
            name: id.clone(),
            id,
            kind: ProviderKind::OpenId {
                issuer: issuer.into(),
            },
            client_id: client_id.into(),
            client_secret: Some(client_secret.into()),
            redirect_uri: redirect_uri.into(),
            scopes: vec!["openid".into(), "email".into(), "profile".into()],
            claim_map: ClaimMap::new(),
            link_verified_email: false,
            form_post: false,
            jwks_refresh_interval: Duration::from_secs(60),
        }
    }

    /// Google (`https://accounts.google.com`), id `google`.
    pub fn google(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self::issuer(
            "google",
            "https://accounts.google.com",
            client_id,
            client_secret,
            redirect_uri,
        )
        .with_name("Google")
    }

    /// Microsoft Entra ID for one tenant (its id or domain; the
    /// multi-tenant `common` endpoint has no fixed issuer and is refused by
    /// the issuer check), id `microsoft`.
    pub fn microsoft(
        tenant: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self::issuer(
            "microsoft",
            format!("https://login.microsoftonline.com/{tenant}/v2.0"),
            client_id,
            client_secret,
            redirect_uri,
        )
        .with_name("Microsoft")
    }

    /// GitLab.com (`https://gitlab.com`; a self-managed GitLab is
    /// [`ProviderConfig::issuer`] with its URL), id `gitlab`.
    pub fn gitlab(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self::issuer(
            "gitlab",
            "https://gitlab.com",
            client_id,
            client_secret,
            redirect_uri,
        )
        .with_name("GitLab")
    }

    /// Sign in with Apple (`https://appleid.apple.com`), id `apple`. The
    /// client secret is the JWT Apple asks apps to sign with their key;
    /// Apple posts the callback (`response_mode=form_post`) when email or
    /// name are asked for, so the callback route takes that `POST` too.
    pub fn apple(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        let mut config = Self::issuer(
            "apple",
            "https://appleid.apple.com",
            client_id,
            client_secret,
            redirect_uri,
        )
        .with_name("Apple")
        .with_scopes(["openid", "email", "name"]);
        config.form_post = true;
        config
    }

    /// GitHub over OAuth 2.0 and its REST API, id `github`: the subject is
    /// the numeric user id, the email the primary verified one from
    /// `/user/emails`.
    pub fn github(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        let mut config = Self::issuer("github", "", client_id, client_secret, redirect_uri)
            .with_name("GitHub")
            .with_scopes(["read:user", "user:email"]);
        config.kind = ProviderKind::GitHub(GitHubEndpoints::default());
        config
    }

    /// Another id (routes and links), e.g. two Entra tenants side by side.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// The name on the "Sign in with …" button.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The scopes asked for (OpenID Connect providers get `openid` added).
    #[must_use]
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// A public client (PKCE only, no secret).
    #[must_use]
    pub fn without_secret(mut self) -> Self {
        self.client_secret = None;
        self
    }

    /// Other GitHub endpoints (GitHub Enterprise Server); ignored for
    /// OpenID Connect providers.
    #[must_use]
    pub fn with_github_endpoints(mut self, endpoints: GitHubEndpoints) -> Self {
        if let ProviderKind::GitHub(current) = &mut self.kind {
            *current = endpoints;
        }
        self
    }

    /// The allowlist of provider claims kept as claims.
    #[must_use]
    pub fn with_claim_map(mut self, map: ClaimMap) -> Self {
        self.claim_map = map;
        self
    }

    /// Whether a first sign-in whose email the provider asserts is
    /// verified may link to the existing account with that email (off by
    /// default; without it such a sign-in is refused with `exists`). Turn
    /// it on only for providers that own the addresses they vouch for.
    #[must_use]
    pub fn link_verified_email(mut self, on: bool) -> Self {
        self.link_verified_email = on;
        self
    }

    /// The shortest time between two key set fetches caused by tokens
    /// naming unknown keys (default one minute), so forged `kid`s cannot
    /// make the app hammer the provider.
    #[must_use]
    pub fn with_jwks_refresh_interval(mut self, every: Duration) -> Self {
        self.jwks_refresh_interval = every;
        self
    }

    /// The provider id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The button name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The redirect URI.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The origin (`https://host[:port]`) of the provider's sign-in pages,
    /// as a page's `Content-Security-Policy` `form-action` must allow it
    /// for a form (the link button) that redirects there: the issuer's
    /// origin, or GitHub's.
    pub fn authorization_origin(&self) -> Option<String> {
        let url = match &self.kind {
            ProviderKind::OpenId { issuer } => issuer,
            ProviderKind::GitHub(endpoints) => &endpoints.authorize,
        };
        let origin = url::Url::parse(url).ok()?.origin();
        origin.is_tuple().then(|| origin.ascii_serialization())
    }

    /// Whether the provider answers with a form `POST` to the callback.
    pub fn uses_form_post(&self) -> bool {
        self.form_post
    }
}
