//! The builder: one place that takes the backends and the settings, checks
//! them, and gives the layer, the routes and the live endpoint.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use auth_core::{
    AuditLog, AuthActions, AuthChannel, AuthStore, Policies, SessionBackend, SessionConfig,
    Sessions, UserDirectory,
};

use crate::guard::Guard;
use crate::live::LivePage;

/// The default of [`LiveAuthBuilder::with_max_sockets_per_session`].
pub const DEFAULT_MAX_SOCKETS_PER_SESSION: usize = 32;

/// A setting the builder refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The route prefix is not `""` or a path like `/auth`.
    #[error("the route prefix must be empty or start with `/` and not end with `/`")]
    Prefix,
    /// A redirect path is not a path on this site.
    #[error("`{0}` must be a path on this site, like `/login`")]
    Path(&'static str),
    /// The session timeouts are unusable.
    #[error(transparent)]
    Session(#[from] auth_core::InvalidInput),
    /// A live region names a policy that is not defined.
    #[error("live page `{page}` uses undefined policy `{policy}`")]
    UnknownPolicy {
        /// The page.
        page: String,
        /// The missing policy.
        policy: String,
    },
    /// The cookie name is empty or has characters other than letters,
    /// digits, `-` and `_`.
    #[error("the cookie name may only use letters, digits, `-` and `_`")]
    CookieName,
    /// A header value has characters a header cannot carry.
    #[error("a header value may only use visible ASCII characters")]
    HeaderValue,
    /// Two live pages share an id.
    #[error("two live pages are called `{0}`")]
    DuplicatePage(String),
    /// Two regions of one live page share an id.
    #[error("live page `{page}` has two regions called `{region}`")]
    DuplicateRegion {
        /// The page.
        page: String,
        /// The region id used twice.
        region: String,
    },
    /// The public base URL of the account flows is not an `http(s)` URL
    /// with a host and without query, fragment or credentials.
    #[error(
        "the public base URL must be http(s)://host[/path], without query, fragment or credentials"
    )]
    BaseUrl,
    /// Account flows were configured without a local identity provider.
    #[error("account flows need the local identity provider (`with_local_idp`)")]
    AccountFlowsWithoutIdp,
    /// A provider's redirect URI does not end at its callback route.
    #[error("the redirect URI of provider `{provider}` must have the path `{path}`")]
    OidcRedirect {
        /// The provider id.
        provider: String,
        /// The callback path it must use.
        path: String,
    },
    /// Two providers share an id.
    #[error("two providers are called `{0}`")]
    DuplicateProvider(String),
    /// A route guard names a policy that is not defined.
    #[error("a route guard uses undefined policy `{0}`")]
    UnknownGuardPolicy(String),
    /// A live page shows a target user (it has target regions) but no
    /// admin console is configured to guard and read it.
    #[error(
        "live page `{0}` shows a target user but no admin console is configured (`with_admin`)"
    )]
    TargetPageWithoutAdmin(String),
    /// The secret of the second factors is shorter than 32 bytes.
    #[error("the second-factor secret must be at least 32 bytes")]
    FactorSecret,
    /// Second factors were configured without a local identity provider.
    #[error("second factors need the local identity provider (`with_local_idp`)")]
    FactorsWithoutIdp,
    /// The registration claims allow a reserved claim type (such as
    /// `account_disabled`), which only the writer's own methods set.
    #[error("the registration form may not set the reserved claim `{0}`")]
    ReservedRegistrationClaim(String),
}

/// How the session cookie is set.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CookieConfig {
    /// Adds `Secure` and the `__Host-` name prefix. On by default; turning it
    /// off is for plain-HTTP development only and weakens security.
    pub secure: bool,
    /// The cookie name without prefix (default `live_auth`).
    pub name: String,
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self {
            secure: true,
            name: "live_auth".to_owned(),
        }
    }
}

impl CookieConfig {
    /// The name the cookie is sent under: `__Host-<name>` when secure.
    pub fn cookie_name(&self) -> String {
        if self.secure {
            format!("__Host-{}", self.name)
        } else {
            self.name.clone()
        }
    }
}

pub(crate) struct Inner {
    pub(crate) sessions: Sessions,
    pub(crate) actions: AuthActions,
    pub(crate) channel: Arc<dyn AuthChannel>,
    pub(crate) policies: Policies,
    pub(crate) pages: HashMap<String, LivePage>,
    pub(crate) prefix: String,
    pub(crate) login_path: String,
    #[cfg_attr(not(any(feature = "local-idp", feature = "oidc")), allow(dead_code))]
    pub(crate) fallback_path: String,
    pub(crate) cookie: CookieConfig,
    pub(crate) cookie_name: String,
    #[cfg_attr(not(feature = "local-idp"), allow(dead_code))]
    pub(crate) registration_claims: BTreeSet<String>,
    pub(crate) session_check_every: std::time::Duration,
    pub(crate) live_sockets: crate::live::SocketCounts,
    pub(crate) trusted_proxies: BTreeSet<std::net::IpAddr>,
    pub(crate) warnings: crate::warn::SetupWarnings,
    pub(crate) admin: Option<crate::admin::AdminConsole>,
    #[cfg(feature = "local-idp")]
    pub(crate) local_idp: Option<Arc<auth_local_idp::LocalIdP>>,
    #[cfg(feature = "local-idp")]
    pub(crate) verify_token_throttle: Arc<dyn auth_core::throttle::Throttle>,
    #[cfg(feature = "local-idp")]
    pub(crate) account: Option<Arc<crate::account::Lifecycle>>,
    #[cfg(feature = "local-idp")]
    pub(crate) second_factors: Option<Arc<crate::mfa::SecondFactors>>,
    #[cfg(feature = "oidc")]
    pub(crate) oidc: Option<crate::oidc::OidcState>,
}

/// The configured web layer: cheap to clone, shared by an adapter's
/// middleware, extractors, routes and live endpoint.
///
/// Build it with [`LiveAuth::builder`].
#[derive(Clone)]
pub struct LiveAuth {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for LiveAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveAuth")
            .field("prefix", &self.inner.prefix)
            .field("login_path", &self.inner.login_path)
            .finish_non_exhaustive()
    }
}

impl LiveAuth {
    /// Starts a builder over the three layers.
    pub fn builder(
        store: Arc<dyn AuthStore>,
        sessions: Arc<dyn SessionBackend>,
        channel: Arc<dyn AuthChannel>,
    ) -> LiveAuthBuilder {
        LiveAuthBuilder {
            store,
            sessions,
            channel,
            policies: Policies::new(),
            pages: Vec::new(),
            prefix: "/auth".to_owned(),
            login_path: "/login_local".to_owned(),
            fallback_path: "/".to_owned(),
            cookie: CookieConfig::default(),
            session: SessionConfig::default(),
            registration_claims: BTreeSet::new(),
            session_check_every: std::time::Duration::from_secs(30),
            max_sockets_per_session: DEFAULT_MAX_SOCKETS_PER_SESSION,
            trusted_proxies: BTreeSet::new(),
            audit: None,
            admin: None,
            #[cfg(feature = "local-idp")]
            local_idp: None,
            #[cfg(feature = "local-idp")]
            verify_token_throttle: None,
            #[cfg(feature = "local-idp")]
            account: None,
            #[cfg(feature = "local-idp")]
            second_factors: None,
            #[cfg(feature = "oidc")]
            oidc: None,
        }
    }

    /// The session logic.
    pub fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    /// The three-layer writer.
    pub fn actions(&self) -> &AuthActions {
        &self.inner.actions
    }

    /// The named policies.
    pub fn policies(&self) -> &Policies {
        &self.inner.policies
    }

    /// The route prefix, e.g. `/auth`.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// Where anonymous visitors of guarded pages are sent.
    pub fn login_path(&self) -> &str {
        &self.inner.login_path
    }

    /// The name the session cookie is sent under.
    pub fn cookie_name(&self) -> &str {
        &self.inner.cookie_name
    }

    /// The live page `id`, if registered.
    pub fn page(&self, id: &str) -> Option<&LivePage> {
        self.inner.pages.get(id)
    }

    /// The channel live connections subscribe to.
    pub fn channel(&self) -> &Arc<dyn AuthChannel> {
        &self.inner.channel
    }

    /// `guard` when every policy it names is defined, else
    /// [`ConfigError::UnknownGuardPolicy`]. The adapters' `guard(..)`
    /// builders call it, so a mistyped policy name stops the app while its
    /// routes are built rather than denying every request.
    pub fn checked_guard(&self, guard: Guard) -> Result<Guard, ConfigError> {
        match guard.policy_name() {
            Some(name) if self.policies().get(name).is_err() => {
                Err(ConfigError::UnknownGuardPolicy(name.to_owned()))
            }
            _ => Ok(guard),
        }
    }

    /// How often a live connection re-checks its session.
    pub fn session_check_interval(&self) -> std::time::Duration {
        self.inner.session_check_every
    }

    /// The ids and button names of the providers served, in id order.
    #[cfg(feature = "oidc")]
    pub fn oidc_providers(&self) -> Vec<(String, String)> {
        self.inner.oidc.as_ref().map_or_else(Vec::new, |oidc| {
            oidc.providers
                .values()
                .map(|p| (p.id().to_owned(), p.config().name().to_owned()))
                .collect()
        })
    }

    /// The origins of the providers' sign-in pages, for a page's
    /// `Content-Security-Policy` `form-action` (the link buttons post here
    /// and are redirected there, which `form-action 'self'` blocks).
    #[cfg(feature = "oidc")]
    pub fn oidc_form_action_origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = self.inner.oidc.as_ref().map_or_else(Vec::new, |oidc| {
            oidc.providers
                .values()
                .filter_map(|p| p.config().authorization_origin())
                .collect()
        });
        origins.sort();
        origins.dedup();
        origins
    }

    /// The local identity provider the `/local/*` routes use, if one is
    /// configured.
    #[cfg(feature = "local-idp")]
    pub fn local_idp(&self) -> Option<&Arc<auth_local_idp::LocalIdP>> {
        self.inner.local_idp.as_ref()
    }
}

/// Builds a [`LiveAuth`]; see [`LiveAuth::builder`].
#[must_use]
pub struct LiveAuthBuilder {
    store: Arc<dyn AuthStore>,
    sessions: Arc<dyn SessionBackend>,
    channel: Arc<dyn AuthChannel>,
    policies: Policies,
    pages: Vec<LivePage>,
    prefix: String,
    login_path: String,
    fallback_path: String,
    cookie: CookieConfig,
    session: SessionConfig,
    registration_claims: BTreeSet<String>,
    session_check_every: std::time::Duration,
    max_sockets_per_session: usize,
    trusted_proxies: BTreeSet<std::net::IpAddr>,
    audit: Option<Arc<dyn AuditLog>>,
    admin: Option<(String, Arc<dyn UserDirectory>)>,
    #[cfg(feature = "local-idp")]
    local_idp: Option<Arc<auth_local_idp::LocalIdP>>,
    #[cfg(feature = "local-idp")]
    verify_token_throttle: Option<Arc<dyn auth_core::throttle::Throttle>>,
    #[cfg(feature = "local-idp")]
    account: Option<crate::account::AccountFlows>,
    #[cfg(feature = "local-idp")]
    second_factors: Option<crate::mfa::SecondFactors>,
    #[cfg(feature = "oidc")]
    oidc: Option<crate::oidc::OidcRoutes>,
}

impl LiveAuthBuilder {
    /// Records every change the writer makes for an actor (the admin
    /// routes, [`AuthActions`]' target methods) in `log`, as the
    /// `live-auth-admin` tool does; the admin pages read it back. Without
    /// it those changes are only emitted through `tracing`.
    pub fn with_audit(mut self, log: Arc<dyn AuditLog>) -> Self {
        self.audit = Some(log);
        self
    }

    /// Serves the admin routes (`POST {prefix}/admin/*`: grant, revoke,
    /// sign out one session or all, disable, enable a target user) and the
    /// reads the admin pages need, for principals that pass the named
    /// `policy` (such as `AdminOnly`), listing users from `users`. `build`
    /// fails with [`ConfigError::UnknownGuardPolicy`] when the policy is
    /// not defined. See `docs/admin.md`.
    pub fn with_admin(mut self, policy: impl Into<String>, users: Arc<dyn UserDirectory>) -> Self {
        self.admin = Some((policy.into(), users));
        self
    }

    /// Serves sign-in through OpenID Connect and OAuth 2.0 providers:
    /// `GET {prefix}/{id}/login?next=`, `GET {prefix}/{id}/callback` (and
    /// `POST` for providers that post back), and for a signed-in user
    /// `POST {prefix}/{id}/link` and `POST {prefix}/{id}/unlink`.
    #[cfg(feature = "oidc")]
    pub fn with_oidc(mut self, routes: crate::oidc::OidcRoutes) -> Self {
        self.oidc = Some(routes);
        self
    }

    /// Serves the local identity provider's routes (`{prefix}/local/*`):
    /// register, login, token, verify-token and revoke.
    #[cfg(feature = "local-idp")]
    pub fn with_local_idp(mut self, idp: Arc<auth_local_idp::LocalIdP>) -> Self {
        self.local_idp = Some(idp);
        self
    }

    /// Serves the account lifecycle over mail: email verification, forgot
    /// and reset password, change of email, and mail about password
    /// changes (see [`AccountFlows`](crate::AccountFlows)). Needs
    /// [`with_local_idp`](Self::with_local_idp).
    #[cfg(feature = "local-idp")]
    pub fn with_account_flows(mut self, flows: crate::account::AccountFlows) -> Self {
        self.account = Some(flows);
        self
    }

    /// Serves second factors (TOTP and recovery codes): enrolment, the
    /// second step of sign-in for accounts that have one, and step-up (see
    /// [`SecondFactors`](crate::SecondFactors)). Needs
    /// [`with_local_idp`](Self::with_local_idp).
    #[cfg(feature = "local-idp")]
    pub fn with_second_factors(mut self, factors: crate::mfa::SecondFactors) -> Self {
        self.second_factors = Some(factors);
        self
    }

    /// Throttles `POST {prefix}/local/verify-token` per client address.
    /// Default: a [`MemoryThrottle`](auth_core::throttle::MemoryThrottle) of 60
    /// calls per address per minute. A refused call answers 429 with a
    /// JSON body and `Retry-After`; pass a shared throttle (such as a Redis
    /// one) so all workers count together.
    #[cfg(feature = "local-idp")]
    pub fn with_verify_token_throttle(
        mut self,
        throttle: Arc<dyn auth_core::throttle::Throttle>,
    ) -> Self {
        self.verify_token_throttle = Some(throttle);
        self
    }

    /// The reverse proxies whose `X-Forwarded-For` is believed (none by
    /// default). The client address, which login and `verify-token`
    /// throttle on, is the connection's peer (as the adapter reports it);
    /// only when that peer is one of these proxies is `X-Forwarded-For`
    /// read, right to left, and its first address that is not a trusted
    /// proxy taken. Without this setting the header is ignored, so a client
    /// cannot pick the address it is counted under.
    pub fn with_trusted_proxies<I>(mut self, proxies: I) -> Self
    where
        I: IntoIterator<Item = std::net::IpAddr>,
    {
        self.trusted_proxies = proxies.into_iter().collect();
        self
    }

    /// The named policies guards and live regions refer to.
    pub fn with_policies(mut self, policies: Policies) -> Self {
        self.policies = policies;
        self
    }

    /// Registers a live page (its guard and policy regions).
    pub fn with_page(mut self, page: LivePage) -> Self {
        // Frames rendered under another layer's policies are never reused.
        self.pages.push(page.with_own_frames());
        self
    }

    /// The prefix of the auth routes (default `/auth`).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Where guards send anonymous visitors (default `/login_local`).
    pub fn with_login_path(mut self, path: impl Into<String>) -> Self {
        self.login_path = path.into();
        self
    }

    /// Where a form route redirects when neither `next`/`error_next` nor a
    /// same-host `Referer` says where (default `/`).
    pub fn with_fallback_path(mut self, path: impl Into<String>) -> Self {
        self.fallback_path = path.into();
        self
    }

    /// Cookie settings. Turning `secure` off weakens security: only for
    /// plain-HTTP development.
    pub fn with_cookie(mut self, cookie: CookieConfig) -> Self {
        self.cookie = cookie;
        self
    }

    /// Sets only `Secure` (see [`CookieConfig::secure`]).
    pub fn with_secure_cookie(mut self, secure: bool) -> Self {
        self.cookie.secure = secure;
        self
    }

    /// Session timeouts.
    pub fn with_session_config(mut self, config: SessionConfig) -> Self {
        self.session = config;
        self
    }

    /// Claim types the registration form may set from its fields (`role`,
    /// `email_verified`). None by default: letting a form assign claims is
    /// mass assignment, so only allow what a self-registering user may
    /// really claim. A reserved type ([`auth_core::DISABLED_CLAIM`]) makes
    /// `build` fail with [`ConfigError::ReservedRegistrationClaim`].
    pub fn with_registration_claims<I, S>(mut self, kinds: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.registration_claims = kinds.into_iter().map(Into::into).collect();
        self
    }

    /// How often a live connection re-checks its session for expiry or
    /// revocation it was not told about (default 30 s).
    pub fn with_session_check_interval(mut self, every: std::time::Duration) -> Self {
        self.session_check_every = every;
        self
    }

    /// The most live sockets one session may hold open at once (default
    /// 32, far above the tabs a person opens). One more upgrade is refused
    /// with 429 until a socket closes; `0` is raised to 1.
    pub fn with_max_sockets_per_session(mut self, max: usize) -> Self {
        self.max_sockets_per_session = max.max(1);
        self
    }

    /// Checks the settings and builds the adapter.
    pub fn build(self) -> Result<LiveAuth, ConfigError> {
        if !(self.prefix.is_empty()
            || (self.prefix.starts_with('/') && !self.prefix.ends_with('/')))
        {
            return Err(ConfigError::Prefix);
        }
        if crate::redirect::safe_path(&self.login_path).is_none() {
            return Err(ConfigError::Path("login path"));
        }
        if crate::redirect::safe_path(&self.fallback_path).is_none() {
            return Err(ConfigError::Path("fallback path"));
        }
        let name = &self.cookie.name;
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ConfigError::CookieName);
        }
        if let Some(kind) = self
            .registration_claims
            .iter()
            .find(|kind| auth_core::is_reserved_claim(kind))
        {
            return Err(ConfigError::ReservedRegistrationClaim(kind.clone()));
        }
        let pages = checked_pages(self.pages, &self.policies, self.admin.is_some())?;
        if let Some((policy, _)) = &self.admin
            && self.policies.get(policy).is_err()
        {
            return Err(ConfigError::UnknownGuardPolicy(policy.clone()));
        }
        #[cfg(feature = "local-idp")]
        if self.account.is_some() && self.local_idp.is_none() {
            return Err(ConfigError::AccountFlowsWithoutIdp);
        }
        #[cfg(feature = "local-idp")]
        if self.second_factors.is_some() && self.local_idp.is_none() {
            return Err(ConfigError::FactorsWithoutIdp);
        }
        if self.session.secret.is_none() {
            tracing::warn!(
                "no session secret is set: session rows are keyed by a plain SHA-256 of the \
                 token, so whoever can write the session store can plant a session; set one \
                 of 32+ random bytes with `SessionConfig::with_secret`"
            );
        }
        #[cfg(feature = "oidc")]
        let oidc = self
            .oidc
            .map(|routes| routes.build(&self.prefix))
            .transpose()?;
        let sessions = Sessions::new(self.sessions, self.store.clone(), self.session)?;
        let mut actions = AuthActions::new(self.store, sessions.clone(), self.channel.clone());
        if let Some(log) = self.audit {
            actions = actions.with_audit(log);
        }
        let admin = self
            .admin
            .map(|(policy, users)| crate::admin::AdminConsole::new(policy, users));
        let cookie_name = self.cookie.cookie_name();
        Ok(LiveAuth {
            inner: Arc::new(Inner {
                sessions,
                actions,
                channel: self.channel,
                policies: self.policies,
                pages,
                prefix: self.prefix,
                login_path: self.login_path,
                fallback_path: self.fallback_path,
                cookie: self.cookie,
                cookie_name,
                registration_claims: self.registration_claims,
                session_check_every: self.session_check_every,
                live_sockets: crate::live::SocketCounts::new(self.max_sockets_per_session),
                trusted_proxies: self.trusted_proxies,
                warnings: crate::warn::SetupWarnings::default(),
                admin,
                #[cfg(feature = "local-idp")]
                local_idp: self.local_idp,
                #[cfg(feature = "oidc")]
                oidc,
                #[cfg(feature = "local-idp")]
                account: self
                    .account
                    .map(|flows| Arc::new(crate::account::Lifecycle::new(flows))),
                #[cfg(feature = "local-idp")]
                second_factors: self.second_factors.map(Arc::new),
                #[cfg(feature = "local-idp")]
                verify_token_throttle: self.verify_token_throttle.unwrap_or_else(|| {
                    Arc::new(auth_core::throttle::MemoryThrottle::new(
                        60,
                        std::time::Duration::from_secs(60),
                    ))
                }),
            }),
        })
    }
}

/// The pages by id, once each names only defined policies, has unique
/// regions and, when it watches a target user, an admin console to do it
/// with.
fn checked_pages(
    pages: Vec<LivePage>,
    policies: &Policies,
    admin: bool,
) -> Result<HashMap<String, LivePage>, ConfigError> {
    let mut checked = HashMap::new();
    for page in pages {
        for policy in page.policy_names() {
            if policies.get(policy).is_err() {
                return Err(ConfigError::UnknownPolicy {
                    page: page.id().to_owned(),
                    policy: policy.to_owned(),
                });
            }
        }
        if page.watches_target() && !admin {
            return Err(ConfigError::TargetPageWithoutAdmin(page.id().to_owned()));
        }
        if let Some(region) = page.duplicate_region() {
            return Err(ConfigError::DuplicateRegion {
                page: page.id().to_owned(),
                region: region.to_owned(),
            });
        }
        let id = page.id().to_owned();
        if checked.insert(id.clone(), page).is_some() {
            return Err(ConfigError::DuplicatePage(id));
        }
    }
    Ok(checked)
}
