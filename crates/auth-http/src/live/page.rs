//! Live pages: a guard and the policy regions the server re-renders when the
//! principal changes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use auth_core::Principal;

use crate::admin::UserDetail;
use crate::config::LiveAuth;
use crate::guard::Guard;
use crate::live::frame::Frame;
use crate::live::rendered::RecentFrames;

type Render = Arc<dyn Fn(&Principal) -> String + Send + Sync>;
type TargetRender = Arc<dyn Fn(&UserDetail) -> String + Send + Sync>;

/// A part of a page that depends on the principal, re-rendered on the server
/// and swapped in place in every open tab when the principal changes.
///
/// With a policy, the `visible` renderer runs only for principals that pass
/// it; everyone else gets the `otherwise` renderer (empty by default). The
/// content of a region a principal fails is never rendered for them, so it
/// never reaches their browser.
///
/// ```
/// use auth_http::Region;
///
/// let admin = Region::new("admin", |_| "<p>Admin content visible.</p>".to_owned())
///     .with_policy("AdminOnly")
///     .otherwise(|_| "<p>Admin content hidden.</p>".to_owned());
/// # let _ = admin;
/// ```
#[derive(Clone)]
pub struct Region {
    id: String,
    policy: Option<String>,
    visible: Render,
    otherwise: Option<Render>,
}

impl std::fmt::Debug for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Region")
            .field("id", &self.id)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Region {
    /// A region `id` rendered by `render` for every principal (until a
    /// policy is set). The renderer returns HTML: escape what it interpolates
    /// (see [`escape_html`]).
    pub fn new(
        id: impl Into<String>,
        render: impl Fn(&Principal) -> String + Send + Sync + 'static,
    ) -> Self {
        Self {
            id: id.into(),
            policy: None,
            visible: Arc::new(render),
            otherwise: None,
        }
    }

    /// Shows the region only to principals that pass the named policy.
    #[must_use]
    pub fn with_policy(mut self, policy: impl Into<String>) -> Self {
        self.policy = Some(policy.into());
        self
    }

    /// What principals that fail the policy see instead.
    #[must_use]
    pub fn otherwise(
        mut self,
        render: impl Fn(&Principal) -> String + Send + Sync + 'static,
    ) -> Self {
        self.otherwise = Some(Arc::new(render));
        self
    }

    /// The region's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn render_inner(&self, auth: &LiveAuth, principal: &Principal) -> String {
        let allowed = match &self.policy {
            None => true,
            Some(name) => auth.policies().check(name, principal).unwrap_or(false),
        };
        if allowed {
            (self.visible)(principal)
        } else {
            self.otherwise
                .as_ref()
                .map(|render| render(principal))
                .unwrap_or_default()
        }
    }
}

/// A part of an admin page that shows another user (the page's *target*),
/// re-rendered and swapped in every tab watching that user when the
/// target's claims or sessions change.
///
/// A page with target regions is an admin page: its sockets name the
/// target (`data-live-target`, see [`LivePage::script_tag_for`]), are
/// refused unless the principal passes the admin console's policy, and
/// are closed once it no longer does. The renderer gets what
/// [`LiveAuth::admin_user`] reads (the first page of audit entries) and
/// returns HTML: escape what it interpolates.
///
/// ```
/// use auth_http::TargetRegion;
///
/// let claims = TargetRegion::new("target-claims", |detail| {
///     format!("{} claims", detail.user.claims.len())
/// });
/// # let _ = claims;
/// ```
#[derive(Clone)]
pub struct TargetRegion {
    id: String,
    render: TargetRender,
}

impl std::fmt::Debug for TargetRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetRegion")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl TargetRegion {
    /// A region `id` rendered by `render` from the target user's detail.
    pub fn new(
        id: impl Into<String>,
        render: impl Fn(&UserDetail) -> String + Send + Sync + 'static,
    ) -> Self {
        Self {
            id: id.into(),
            render: Arc::new(render),
        }
    }

    /// The region's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A page whose open tabs follow the principal live: its guard (checked
/// again on every change) and its regions.
///
/// ```
/// use auth_http::{Guard, LivePage, Region};
///
/// let page = LivePage::new("live")
///     .with_guard(Guard::login_required())
///     .with_region(Region::new("claims", |p| format!("{} claims", p.claims().len())));
/// assert_eq!(page.id(), "live");
/// ```
///
/// Every open tab holds its page; a clone shares the page's parts (one
/// reference count) rather than copying its id, guard and regions, and the
/// frames its tabs rendered lately.
#[derive(Clone)]
pub struct LivePage {
    parts: Arc<Parts>,
    frames: Arc<RecentFrames>,
}

#[derive(Clone)]
struct Parts {
    id: String,
    guard: Guard,
    regions: Vec<Region>,
    target_regions: Vec<TargetRegion>,
}

impl std::fmt::Debug for LivePage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LivePage")
            .field("id", &self.parts.id)
            .field("guard", &self.parts.guard)
            .field("regions", &self.parts.regions)
            .field("target_regions", &self.parts.target_regions)
            .finish_non_exhaustive()
    }
}

impl LivePage {
    /// A page `id`, guarded by [`Guard::login_required`] until told
    /// otherwise.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            parts: Arc::new(Parts {
                id: id.into(),
                guard: Guard::login_required(),
                regions: Vec::new(),
                target_regions: Vec::new(),
            }),
            frames: Arc::default(),
        }
    }

    /// Sets the page's guard.
    #[must_use]
    pub fn with_guard(mut self, guard: Guard) -> Self {
        Arc::make_mut(&mut self.parts).guard = guard;
        self
    }

    /// Adds a region.
    #[must_use]
    pub fn with_region(mut self, region: Region) -> Self {
        Arc::make_mut(&mut self.parts).regions.push(region);
        self
    }

    /// Adds a region that shows the page's target user (which makes this
    /// an admin page; see [`TargetRegion`]).
    #[must_use]
    pub fn with_target_region(mut self, region: TargetRegion) -> Self {
        Arc::make_mut(&mut self.parts).target_regions.push(region);
        self
    }

    /// Whether the page shows a target user (it has target regions).
    pub fn watches_target(&self) -> bool {
        !self.parts.target_regions.is_empty()
    }

    /// The page's id.
    pub fn id(&self) -> &str {
        &self.parts.id
    }

    /// The page's guard.
    pub fn guard(&self) -> &Guard {
        &self.parts.guard
    }

    /// A region id used twice, if any.
    pub(crate) fn duplicate_region(&self) -> Option<&str> {
        let mut seen = std::collections::BTreeSet::new();
        self.parts
            .regions
            .iter()
            .map(|r| r.id.as_str())
            .chain(self.parts.target_regions.iter().map(|r| r.id.as_str()))
            .find(|id| !seen.insert(*id))
    }

    pub(crate) fn policy_names(&self) -> impl Iterator<Item = &str> {
        self.parts
            .regions
            .iter()
            .filter_map(|r| r.policy.as_deref())
            .chain(self.parts.guard.policy_name())
    }

    /// The inner HTML of every region for `principal`, by region id.
    pub fn render_regions(
        &self,
        auth: &LiveAuth,
        principal: &Principal,
    ) -> BTreeMap<String, String> {
        self.parts
            .regions
            .iter()
            .map(|r| (r.id.clone(), r.render_inner(auth, principal)))
            .collect()
    }

    /// This page with frames of its own: a layer registering a page does
    /// not share its rendered frames with another layer (whose policies may
    /// differ) that registered the same page.
    pub(crate) fn with_own_frames(mut self) -> Self {
        self.frames = Arc::default();
        self
    }

    /// The update frame for `principal` (its regions rendered), as JSON:
    /// rendered once and shared by the tabs that show an equal principal
    /// within a moment (see `live/rendered.rs`), so one change to a user
    /// with many tabs open renders once. `None` if it cannot be serialised.
    pub(crate) fn update_frame(&self, auth: &LiveAuth, principal: &Principal) -> Option<Arc<str>> {
        self.frames.get_or_render(principal, || {
            Frame::update(principal, self.render_regions(auth, principal)).to_text()
        })
    }

    /// The inner HTML of every target region for `detail`, by region id.
    pub fn render_target_regions(&self, detail: &UserDetail) -> BTreeMap<String, String> {
        self.parts
            .target_regions
            .iter()
            .map(|r| (r.id.clone(), (r.render)(detail)))
            .collect()
    }

    /// One target region for `detail`, wrapped like
    /// [`LivePage::render_region`] (an unknown id likewise).
    pub fn render_target_region(&self, id: &str, detail: &UserDetail) -> String {
        let Some(region) = self.parts.target_regions.iter().find(|r| r.id == id) else {
            debug_assert!(
                false,
                "live page `{}` has no target region `{id}`",
                self.parts.id
            );
            tracing::error!(page = %self.parts.id, region = %id, "rendering a target region the live page does not have");
            return format!(
                "<div data-live-region=\"{}\" data-live-error=\"unknown region\"></div>",
                escape_html(id)
            );
        };
        format!(
            "<div data-live-region=\"{}\">{}</div>",
            escape_html(&region.id),
            (region.render)(detail)
        )
    }

    /// One region, wrapped in the element the client swaps:
    /// `<div data-live-region="id">…</div>`.
    ///
    /// An id the page has no region for is a bug in the app, never quiet:
    /// debug builds panic naming the page and the id; release builds log
    /// it as an error and render an empty region marked
    /// `data-live-error="unknown region"`.
    pub fn render_region(&self, auth: &LiveAuth, id: &str, principal: &Principal) -> String {
        let Some(region) = self.parts.regions.iter().find(|r| r.id == id) else {
            let known: Vec<&str> = self.parts.regions.iter().map(|r| r.id.as_str()).collect();
            debug_assert!(
                false,
                "live page `{}` has no region `{id}` (its regions: {known:?})",
                self.parts.id
            );
            tracing::error!(page = %self.parts.id, region = %id, ?known, "rendering a region the live page does not have");
            return format!(
                "<div data-live-region=\"{}\" data-live-error=\"unknown region\"></div>",
                escape_html(id)
            );
        };
        let mut out = String::new();
        let _ = write!(
            out,
            "<div data-live-region=\"{}\">{}</div>",
            escape_html(&region.id),
            region.render_inner(auth, principal)
        );
        out
    }

    /// The `<script>` tag that connects this page's tabs to the live
    /// endpoint.
    pub fn script_tag(&self, auth: &LiveAuth) -> String {
        format!(
            "<script src=\"{}/live.js\" data-live-page=\"{}\" defer></script>",
            escape_html(auth.prefix()),
            escape_html(&self.parts.id)
        )
    }

    /// The `<script>` tag of an admin page's tabs, watching the user
    /// `target_id` (the page's target regions follow that user).
    pub fn script_tag_for(&self, auth: &LiveAuth, target_id: &str) -> String {
        format!(
            "<script src=\"{}/live.js\" data-live-page=\"{}\" data-live-target=\"{}\" defer></script>",
            escape_html(auth.prefix()),
            escape_html(&self.parts.id),
            escape_html(target_id)
        )
    }
}

/// Escapes `&`, `<`, `>`, `"` and `'` for use in HTML text and attributes.
///
/// ```
/// assert_eq!(auth_http::escape_html("<b \"x\">&"), "&lt;b &quot;x&quot;&gt;&amp;");
/// ```
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
