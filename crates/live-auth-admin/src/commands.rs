//! Each command: resolve the user, act through the stack, print.

use std::io::{self, Write};

use auth_core::{Actor, Page, UserRecord};
use live_auth::Stack;
use serde_json::Value;

use crate::cli::{Cli, Command, UsersCommand};
use crate::error::CliError;
use crate::output::{
    claims_text, entry_json, json_out, session_json, status, table, time, user_detail_json,
    user_json,
};

/// Runs one command against the stack of the environment.
pub(crate) async fn run(cli: Cli) -> Result<(), CliError> {
    let stack = Stack::from_env().await?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        Command::Users { command } => match command {
            UsersCommand::List { json } => list_users(&stack, &mut out, json).await,
            UsersCommand::Show { user, json } => show_user(&stack, &mut out, &user, json).await,
        },
        Command::Grant {
            user,
            claim_type,
            value,
        } => {
            let user = resolve(&stack, &user).await?;
            let actions = stack.actions().map_err(auth_core::AuthError::from)?;
            let record = actions
                .grant_to(&actor(), &user.user_id, &claim_type, &value)
                .await?;
            writeln!(out, "granted {claim_type}={value} to {}", record.user_id)?;
            writeln!(out, "claims: {}", claims_text(&record))?;
            reach(&stack, &mut out)
        }
        Command::Revoke { user, claim_type } => {
            let user = resolve(&stack, &user).await?;
            let actions = stack.actions().map_err(auth_core::AuthError::from)?;
            let record = actions
                .revoke_from(&actor(), &user.user_id, &claim_type)
                .await?;
            writeln!(out, "revoked {claim_type} from {}", record.user_id)?;
            writeln!(out, "claims: {}", claims_text(&record))?;
            reach(&stack, &mut out)
        }
        Command::Sessions { user, json } => sessions(&stack, &mut out, &user, json).await,
        Command::SignOut { user } => {
            let user = resolve(&stack, &user).await?;
            let actions = stack.actions().map_err(auth_core::AuthError::from)?;
            let ended = actions
                .sign_out_everywhere_of(&actor(), &user.user_id)
                .await?;
            writeln!(out, "signed {} out of {ended} sessions", user.user_id)?;
            reach(&stack, &mut out)
        }
        Command::Disable { user } => {
            let user = resolve(&stack, &user).await?;
            let actions = stack.actions().map_err(auth_core::AuthError::from)?;
            let ended = actions.disable(&actor(), &user.user_id).await?;
            writeln!(out, "disabled {}; {ended} sessions ended", user.user_id)?;
            reach(&stack, &mut out)
        }
        Command::Enable { user } => {
            let user = resolve(&stack, &user).await?;
            let actions = stack.actions().map_err(auth_core::AuthError::from)?;
            let record = actions.enable(&actor(), &user.user_id).await?;
            writeln!(out, "enabled {}", record.user_id)?;
            Ok(())
        }
        Command::Audit { user, limit, json } => audit(&stack, &mut out, user, limit, json).await,
    }
}

/// The tool as an actor: `cli:<os user>`, from `cli`.
fn actor() -> Actor {
    let os_user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .filter(|name| !name.is_empty() && name.len() < 200 && !name.chars().any(char::is_control))
        .unwrap_or_else(|| "unknown".to_owned());
    Actor::cli(&os_user)
}

/// Says how far the change reached.
fn reach(stack: &Stack, out: &mut impl Write) -> Result<(), CliError> {
    if stack.uses_redis() {
        writeln!(
            out,
            "open tabs of running workers were told at once (Redis)"
        )?;
    } else {
        writeln!(
            out,
            "REDIS_URL is not set: every session picks this up on its next request; \
             open tabs are not told at once"
        )?;
    }
    Ok(())
}

/// The user an argument names: an email (it has an `@`) through its local
/// link, anything else as a user id.
async fn resolve(stack: &Stack, user: &str) -> Result<UserRecord, CliError> {
    let found = if user.contains('@') {
        let email = auth_local_idp::normalize_email(user)
            .map_err(|e| CliError::BadInput(e.reason().to_owned()))?;
        stack.store().find_by_provider("local", &email).await?
    } else {
        auth_core::validate_user_id(user).map_err(|e| CliError::BadInput(e.reason().to_owned()))?;
        stack.store().get_user(user).await?
    };
    found.ok_or_else(|| CliError::UnknownUser(user.to_owned()))
}

async fn list_users(stack: &Stack, out: &mut impl Write, json: bool) -> Result<(), CliError> {
    let mut users = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = stack
            .user_directory()
            .list_users(after.as_deref(), auth_core::MAX_PAGE_SIZE)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.user_id.clone());
        users.extend(page);
    }
    if json {
        json_out(out, &users.iter().map(user_json).collect::<Value>())?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|u| {
            vec![
                u.user_id.clone(),
                u.email.clone().unwrap_or_default(),
                u.name.clone().unwrap_or_default(),
                status(u).to_owned(),
                claims_text(u),
            ]
        })
        .collect();
    table(
        out,
        &["USER ID", "EMAIL", "NAME", "STATUS", "CLAIMS"],
        &rows,
    )?;
    Ok(())
}

async fn show_user(
    stack: &Stack,
    out: &mut impl Write,
    user: &str,
    json: bool,
) -> Result<(), CliError> {
    let user = resolve(stack, user).await?;
    let links = stack.store().links_of(&user.user_id).await?;
    let sessions = stack
        .actions()
        .map_err(auth_core::AuthError::from)?
        .sessions()
        .sessions_of(&user.user_id)
        .await?;
    if json {
        json_out(out, &user_detail_json(&user, &links, &sessions))?;
        return Ok(());
    }
    writeln!(out, "user id:  {}", user.user_id)?;
    writeln!(out, "email:    {}", user.email.as_deref().unwrap_or("-"))?;
    writeln!(out, "name:     {}", user.name.as_deref().unwrap_or("-"))?;
    writeln!(out, "status:   {}", status(&user))?;
    writeln!(out, "claims:   {}", claims_text(&user))?;
    for link in &links {
        writeln!(out, "link:     {} {}", link.provider, link.subject)?;
    }
    writeln!(out, "sessions: {}", sessions.len())?;
    Ok(())
}

async fn sessions(
    stack: &Stack,
    out: &mut impl Write,
    user: &str,
    json: bool,
) -> Result<(), CliError> {
    let user = resolve(stack, user).await?;
    let sessions = stack
        .actions()
        .map_err(auth_core::AuthError::from)?
        .sessions()
        .sessions_of(&user.user_id)
        .await?;
    if json {
        json_out(out, &sessions.iter().map(session_json).collect::<Value>())?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = sessions
        .iter()
        .map(|s| vec![time(s.record.created_at), time(s.record.last_seen)])
        .collect();
    table(out, &["SIGNED IN", "LAST SEEN"], &rows)?;
    Ok(())
}

async fn audit(
    stack: &Stack,
    out: &mut impl Write,
    user: Option<String>,
    limit: usize,
    json: bool,
) -> Result<(), CliError> {
    // A user id is taken as it is: the log outlives deleted users.
    let user_id = match user {
        Some(user) if user.contains('@') => Some(resolve(stack, &user).await?.user_id),
        Some(user) => {
            auth_core::validate_user_id(&user)
                .map_err(|e| CliError::BadInput(e.reason().to_owned()))?;
            Some(user)
        }
        None => None,
    };
    let entries = stack
        .audit_log()
        .entries(user_id.as_deref(), Page::first(limit))
        .await?;
    if json {
        json_out(out, &entries.iter().map(entry_json).collect::<Value>())?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                time(e.at),
                e.actor.clone(),
                e.source.clone(),
                e.action.as_str().to_owned(),
                e.target_user_id.clone(),
                e.detail.clone(),
            ]
        })
        .collect();
    table(
        out,
        &["WHEN", "ACTOR", "SOURCE", "ACTION", "USER", "DETAIL"],
        &rows,
    )?;
    Ok(())
}
