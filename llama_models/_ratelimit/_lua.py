"""The Lua scripts of the Redis store: `LocalRateLimitStore`'s rules, one atomic script each.

Each bucket has five keys, which share a hash tag so that they live on one node
of a Redis Cluster:

- ``state``: a hash with the pause (``paused_until``, ``strikes``,
  ``last_strike``), the probe (``probing``, ``probe``, ``probe_until``) and
  ``tokens``, the tokens booked in the log;
- ``requests``: a sorted set of the booked requests, scored by booking time;
- ``tokens``: a sorted set of the entries that carry tokens, scored the same way
  (the requests, and the tokens others used that an answer reported);
- ``sizes``: a hash from entry id to its tokens;
- ``ids``: the counter entry ids come from, unique across processes.

Times are the Redis server's (``TIME``) unless the caller passes one (tests
do). Numbers travel as ``%.17g`` strings, which read back as the same double.
Every write refreshes the keys' expiry to three windows, so an idle bucket
disappears; the id counter lives a day at least, so that an id is not handed
out twice while an old request may still report.
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "REPORT", "SETTLE"]

_PRELUDE = """
local state, requests, entries, sizes, ids = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]

local function fmt(x)
  return string.format('%.17g', x)
end

local function optional(value)
  if value == '' then return nil end
  return tonumber(value)
end

local function clock(given)
  if given ~= '' then return tonumber(given) end
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

local function field(name, default)
  local value = redis.call('HGET', state, name)
  if value then return tonumber(value) end
  return default
end

local function prune(since)
  local bound = fmt(since)
  local gone = redis.call('ZRANGEBYSCORE', entries, '-inf', bound)
  local total = 0
  for first = 1, #gone, 1000 do
    local chunk = {unpack(gone, first, math.min(first + 999, #gone))}
    local values = redis.call('HMGET', sizes, unpack(chunk))
    for i = 1, #values do
      if values[i] then total = total + tonumber(values[i]) end
    end
    redis.call('HDEL', sizes, unpack(chunk))
  end
  if #gone > 0 then
    redis.call('ZREMRANGEBYSCORE', entries, '-inf', bound)
    if total ~= 0 then redis.call('HINCRBY', state, 'tokens', -total) end
  end
  redis.call('ZREMRANGEBYSCORE', requests, '-inf', bound)
end

local function touch(window)
  local ttl = math.max(math.ceil(window * 3000), 1000)
  for _, key in ipairs({state, requests, entries, sizes}) do
    redis.call('PEXPIRE', key, string.format('%d', ttl))
  end
  redis.call('PEXPIRE', ids, string.format('%d', math.max(ttl, 86400000)))
end
"""

#: ARGV: now ('' for the server's), window, request limit, token limit ('' for
#: none), tokens. Returns {'grant', id, at} or {'wait', seconds, known '1'/'0'}.
ACQUIRE = (
    _PRELUDE
    + """
local now = clock(ARGV[1])
local window = tonumber(ARGV[2])
local request_limit, token_limit = optional(ARGV[3]), optional(ARGV[4])
local tokens = tonumber(ARGV[5])

prune(now - window)
local paused_until = field('paused_until', -math.huge)
if now < paused_until then
  return {'wait', fmt(paused_until - now), '1'}
end
local probing = redis.call('HGET', state, 'probing') == '1'
if probing and redis.call('HGET', state, 'probe') then
  local probe_until = field('probe_until', -math.huge)
  if now < probe_until then
    return {'wait', fmt(probe_until - now), '0'}
  end
  redis.call('HDEL', state, 'probe')  -- it never came back: let another call try
end
if request_limit then
  local booked = redis.call('ZCARD', requests)
  if booked >= request_limit then
    -- the request whose leaving makes room: the (booked - limit + 1)-th oldest
    local over = booked - request_limit
    local oldest = redis.call('ZRANGE', requests, over, over, 'WITHSCORES')
    return {'wait', fmt(tonumber(oldest[2]) + window - now), '1'}
  end
end
if token_limit then
  local booked = field('tokens', 0)
  if booked + tokens > token_limit then
    local excess = booked + tokens - token_limit
    local start = 0
    while true do
      local batch = redis.call('ZRANGE', entries, start, start + 255, 'WITHSCORES')
      if #batch == 0 then break end
      local members = {}
      for i = 1, #batch, 2 do members[#members + 1] = batch[i] end
      local counts = redis.call('HMGET', sizes, unpack(members))
      for j = 1, #members do
        excess = excess - (tonumber(counts[j]) or 0)
        if excess <= 0 then
          return {'wait', fmt(tonumber(batch[2 * j]) + window - now), '1'}
        end
      end
      start = start + 256
    end
  end
end
local entry = tostring(redis.call('INCR', ids))
redis.call('ZADD', requests, fmt(now), entry)
redis.call('ZADD', entries, fmt(now), entry)
redis.call('HSET', sizes, entry, tostring(tokens))
redis.call('HINCRBY', state, 'tokens', tokens)
if probing then
  redis.call('HSET', state, 'probe', entry, 'probe_until', fmt(now + window))
end
touch(window)
return {'grant', entry, fmt(now)}
"""
)

#: ARGV: now, window, request limit, token limit, entry, booked at, outcome
#: ('answered', 'limited', 'unanswered'), server wait, remaining requests,
#: remaining tokens ('' for none).
REPORT = (
    _PRELUDE
    + """
local now = clock(ARGV[1])
local window = tonumber(ARGV[2])
local request_limit, token_limit = optional(ARGV[3]), optional(ARGV[4])
local entry, at, outcome = ARGV[5], tonumber(ARGV[6]), ARGV[7]
local server_wait = optional(ARGV[8])
local remaining_requests, remaining_tokens = optional(ARGV[9]), optional(ARGV[10])

-- A request still in the window counts from now on: the server counted it on
-- arrival, before this answer.
local booked = redis.call('ZSCORE', requests, entry)
booked = booked and tonumber(booked)
if booked and now - window < booked and booked < now then
  redis.call('ZADD', requests, 'XX', fmt(now), entry)
  redis.call('ZADD', entries, 'XX', fmt(now), entry)
end
local last_strike = field('last_strike', -math.huge)
if outcome == 'limited' then
  if at >= last_strike then  -- a new storm: a request booked after the last 429
    local strikes = redis.call('HINCRBY', state, 'strikes', 1)
    local pause
    if server_wait and server_wait > 0 then
      pause = math.min(server_wait, window)
    else
      pause = math.min(window / 60 * 2 ^ (strikes - 1), window)
    end
    local paused_until = math.max(field('paused_until', -math.huge), now + pause)
    redis.call('HSET', state, 'paused_until', fmt(paused_until), 'last_strike', fmt(now))
  end
  redis.call('HSET', state, 'probing', '1')
  redis.call('HDEL', state, 'probe')
  touch(window)
  return 0
end
if redis.call('HGET', state, 'probe') == entry then
  redis.call('HDEL', state, 'probe')
end
if outcome == 'unanswered' then
  return 0
end
if redis.call('HGET', state, 'probing') ~= '1' or at >= last_strike then
  redis.call('HSET', state, 'probing', '0', 'strikes', '0')
end
prune(now - window)
if remaining_requests and request_limit then
  local missing = request_limit - remaining_requests - redis.call('ZCARD', requests)
  if missing > 0 then
    local last = redis.call('INCRBY', ids, missing)
    local args = {}
    for id = last - missing + 1, last do
      args[#args + 1] = fmt(now)
      args[#args + 1] = tostring(id)
      if #args >= 1000 then
        redis.call('ZADD', requests, unpack(args))
        args = {}
      end
    end
    if #args > 0 then redis.call('ZADD', requests, unpack(args)) end
  end
end
if remaining_tokens and token_limit then
  local missing = token_limit - remaining_tokens - field('tokens', 0)
  if missing > 0 then
    local id = tostring(redis.call('INCR', ids))
    redis.call('ZADD', entries, fmt(now), id)
    redis.call('HSET', sizes, id, tostring(missing))
    redis.call('HINCRBY', state, 'tokens', missing)
  end
end
touch(window)
return 0
"""
)

#: ARGV: entry, tokens.
SETTLE = (
    _PRELUDE
    + """
local entry, tokens = ARGV[1], tonumber(ARGV[2])
local before = redis.call('HGET', sizes, entry)
if before then  -- else it has left the window
  redis.call('HSET', sizes, entry, tostring(tokens))
  if redis.call('EXISTS', state) == 1 then
    redis.call('HINCRBY', state, 'tokens', tokens - tonumber(before))
  end
end
return 0
"""
)
