//! The Lua scripts that keep a session and its user's index in step.
//!
//! Each runs atomically in Redis, so a session is never saved without being
//! indexed, never moved between users half-way, and an `update` racing a
//! `delete` can never bring the session back.
//!
//! A session is a hash `{record, user}` with the session's TTL; `user` is
//! the indexed user id (empty for an anonymous session). The index of user
//! `u` is a set of session keys whose TTL is raised on every save to cover
//! its longest-lived session; members whose session expired are pruned
//! when the index is read.

use fred::types::scripts::Script;

/// `save` and `update`.
///
/// KEYS: the session. ARGV: record JSON, TTL in ms, user id (or empty),
/// index key prefix, session key id, `save` or `update`. Returns 1 when
/// written, 0 when an `update` found no session.
pub(crate) const SAVE: &str = r"
local exists = redis.call('EXISTS', KEYS[1])
if ARGV[6] == 'update' and exists == 0 then return 0 end
if exists == 1 then
  local old = redis.call('HGET', KEYS[1], 'user')
  if old and old ~= '' and old ~= ARGV[3] then
    redis.call('SREM', ARGV[4] .. old, ARGV[5])
  end
end
redis.call('HSET', KEYS[1], 'record', ARGV[1], 'user', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then
  local index = ARGV[4] .. ARGV[3]
  redis.call('SADD', index, ARGV[5])
  local ttl = tonumber(ARGV[2])
  if redis.call('PTTL', index) < ttl then redis.call('PEXPIRE', index, ttl) end
end
return 1
";

/// `delete`.
///
/// KEYS: the session. ARGV: index key prefix, session key id. Returns how
/// many sessions were removed (0 or 1).
pub(crate) const DELETE: &str = r"
local user = redis.call('HGET', KEYS[1], 'user')
if user and user ~= '' then redis.call('SREM', ARGV[1] .. user, ARGV[2]) end
return redis.call('DEL', KEYS[1])
";

/// `sessions_of`.
///
/// KEYS: the index. ARGV: session key prefix, user id. Returns a flat list
/// of session key id, record JSON; prunes members whose session is gone or
/// belongs to another user now.
pub(crate) const SESSIONS_OF: &str = r"
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local fields = redis.call('HMGET', ARGV[1] .. id, 'record', 'user')
  if fields[1] and fields[2] == ARGV[2] then
    out[#out + 1] = id
    out[#out + 1] = fields[1]
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return out
";

/// `delete_sessions_of`.
///
/// KEYS: the index. ARGV: session key prefix, user id. Returns how many
/// live sessions were removed.
pub(crate) const DELETE_SESSIONS_OF: &str = r"
local removed = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. id
  if redis.call('HGET', key, 'user') == ARGV[2] then
    removed = removed + redis.call('DEL', key)
  end
end
redis.call('DEL', KEYS[1])
return removed
";

/// The four scripts, hashed once.
pub(crate) struct Scripts {
    pub(crate) save: Script,
    pub(crate) delete: Script,
    pub(crate) sessions_of: Script,
    pub(crate) delete_sessions_of: Script,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        Self {
            save: Script::from_lua(SAVE),
            delete: Script::from_lua(DELETE),
            sessions_of: Script::from_lua(SESSIONS_OF),
            delete_sessions_of: Script::from_lua(DELETE_SESSIONS_OF),
        }
    }
}
