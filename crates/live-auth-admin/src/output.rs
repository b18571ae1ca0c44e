//! Human-readable tables and JSON for scripts.

use std::io::{self, Write};

use auth_core::{ActiveSession, AuditEntry, ProviderLink, UserRecord};
use serde_json::{Value, json};

/// Writes `rows` under `header`, each column as wide as its widest cell.
pub(crate) fn table(out: &mut impl Write, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: &mut dyn Iterator<Item = &str>| -> io::Result<()> {
        let mut text = String::new();
        for (i, (cell, width)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(cell);
            text.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(out, &mut header.iter().copied())?;
    for row in rows {
        line(out, &mut row.iter().map(String::as_str))?;
    }
    Ok(())
}

/// Writes `value` as pretty JSON.
pub(crate) fn json_out(out: &mut impl Write, value: &Value) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    writeln!(out, "{text}")
}

/// Claims as `type=value, ...`.
pub(crate) fn claims_text(user: &UserRecord) -> String {
    user.claims
        .iter()
        .map(|c| format!("{}={}", c.kind, c.value))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `active` or `disabled`.
pub(crate) fn status(user: &UserRecord) -> &'static str {
    if user.is_disabled() {
        "disabled"
    } else {
        "active"
    }
}

/// A user as JSON: the record, whether it is disabled.
pub(crate) fn user_json(user: &UserRecord) -> Value {
    json!({
        "user_id": user.user_id,
        "email": user.email,
        "name": user.name,
        "disabled": user.is_disabled(),
        "claims": user.claims,
    })
}

/// A user with links and sessions as JSON.
pub(crate) fn user_detail_json(
    user: &UserRecord,
    links: &[ProviderLink],
    sessions: &[ActiveSession],
) -> Value {
    let mut value = user_json(user);
    value["links"] = links
        .iter()
        .map(|l| json!({"provider": l.provider, "subject": l.subject}))
        .collect();
    value["sessions"] = sessions.iter().map(session_json).collect();
    value
}

/// A session as JSON, without its key.
pub(crate) fn session_json(session: &ActiveSession) -> Value {
    json!({
        "created_at": session.record.created_at,
        "last_seen": session.record.last_seen,
    })
}

/// An audit entry as JSON.
pub(crate) fn entry_json(entry: &AuditEntry) -> Value {
    json!({
        "at": entry.at,
        "actor": entry.actor,
        "source": entry.source,
        "action": entry.action.as_str(),
        "target_user_id": entry.target_user_id,
        "detail": entry.detail,
    })
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SSZ` (UTC).
pub(crate) fn time(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rest = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(time(0), "1970-01-01 00:00:00Z");
        assert_eq!(time(951_782_400), "2000-02-29 00:00:00Z");
        assert_eq!(time(1_767_225_599), "2025-12-31 23:59:59Z");
    }

    #[test]
    fn tables_align_columns() {
        let mut out = Vec::new();
        let rows = vec![vec!["a".to_owned(), "bbb".to_owned()]];
        table(&mut out, &["LONG", "X"], &rows).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "LONG  X\na     bbb\n");
    }
}
