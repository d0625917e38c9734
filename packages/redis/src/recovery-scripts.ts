import type { Redis } from 'ioredis';

// The Redis side of connection-state recovery across the cluster (docs/recovery.md, "Across the
// cluster"). Every message to a recoverable spark is written to Redis by a script before any
// server writes it to a socket, and every such script draws its entry id from one clock, so the
// ids of the shared broadcast stream and of each session's own stream are one total order: the
// order in which the servers deliver. A session is then "every broadcast after its start, and
// every message of its own stream, in id order", and needs no write per broadcast.
//
// Keys (P = the cluster prefix):
//   P:rc:clock        the last id handed out ("<ms>-<n>", ms from Redis's own clock)
//   P:rc:b            the broadcast stream: field p = payload (b = 1 when binary)
//   P:rc:b:cut        the newest id ever trimmed from the broadcast stream
//   P:rc:s:<id>       a session: owner, gen, received, ck (messages up to and including ckId),
//                     ckId, cut (newest id trimmed from its own stream)
//   P:rc:s:<id>:d     the session's own stream: writes to that spark alone
// A pub/sub message that carries a position starts with '#<id>\n' before the usual envelope.

const CLOCK = `
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local function before(a, b)
  local ams, an = parse(a)
  local bms, bn = parse(b)
  return ams < bms or (ams == bms and an < bn)
end
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function tick(clock)
  local ms, n = now(), 0
  local last = redis.call('GET', clock)
  if last then
    local lms, ln = parse(last)
    if ms <= lms then ms, n = lms, ln + 1 end
  end
  local id = string.format('%d-%d', ms, n)
  redis.call('SET', clock, id, 'PX', 86400000)
  return id, ms
end
-- Trim a stream to keep at most maxlen entries and none older than minms, and remember the newest
-- entry removed in cutKey's cutField (a string key when cutField is false), so a session that
-- needed it can tell.
local function trim(stream, maxlen, minms, cutKey, cutField)
  local gone = false
  local over = redis.call('XLEN', stream) - maxlen
  if over > 0 then
    local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', over)
    gone = oldest[#oldest][1]
    redis.call('XTRIM', stream, 'MAXLEN', maxlen)
  end
  if minms then
    local minid = string.format('%d-0', minms)
    local older = redis.call('XREVRANGE', stream, '(' .. minid, '-', 'COUNT', 1)
    if #older > 0 then
      if not gone or before(gone, older[1][1]) then gone = older[1][1] end
      redis.call('XTRIM', stream, 'MINID', minid)
    end
  end
  if gone then
    if cutField then redis.call('HSET', cutKey, cutField, gone) else redis.call('SET', cutKey, gone, 'PX', 86400000) end
  end
end
local function add(stream, id, payload, binary)
  if binary == '1' then redis.call('XADD', stream, id, 'p', payload, 'b', '1')
  else redis.call('XADD', stream, id, 'p', payload) end
end
`;

/**
 * KEYS: clock, broadcast stream, broadcast cut. ARGV: channel, header, payload, binary ('1'/'0'),
 * maxlen, keep (ms). Add a broadcast and publish it with its id; returns the id.
 */
const broadcast = `${CLOCK}
local id, ms = tick(KEYS[1])
add(KEYS[2], id, ARGV[3], ARGV[4])
trim(KEYS[2], tonumber(ARGV[5]), ms - tonumber(ARGV[6]), KEYS[3], false)
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('PUBLISH', ARGV[1], '#' .. id .. '\\n' .. ARGV[2] .. '\\n' .. ARGV[3])
return id
`;

/**
 * KEYS: clock, session, session stream. ARGV: inbox prefix, header, payload, binary, maxlen,
 * received ('' when unchanged), gen ('' from another server). Add a message for one spark and
 * publish it to the server that holds the session. Returns the id, or false when the session
 * does not exist (or was taken over: gen differs).
 */
const direct = `${CLOCK}
local owner = redis.call('HGET', KEYS[2], 'owner')
if not owner then return false end
if ARGV[7] ~= '' and redis.call('HGET', KEYS[2], 'gen') ~= ARGV[7] then return false end
local id = tick(KEYS[1])
add(KEYS[3], id, ARGV[3], ARGV[4])
trim(KEYS[3], tonumber(ARGV[5]), false, KEYS[2], 'cut')
if ARGV[6] ~= '' then redis.call('HSET', KEYS[2], 'received', ARGV[6]) end
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
redis.call('PUBLISH', ARGV[1] .. owner, '#' .. id .. '\\n' .. ARGV[2] .. '\\n' .. ARGV[3])
return id
`;

/**
 * KEYS: session, session stream. ARGV: owner, gen, start id, ttl. Start a session (or restart one
 * of that id: a client that could not resume gets a new session under the same id).
 */
const create = `
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'gen', ARGV[2], 'received', '0', 'ck', '0', 'ckId', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`;

/**
 * KEYS: session, session stream. ARGV: gen, ttl, then field/value pairs to set. Update a session
 * this server holds (gen matches) and renew its lease. Returns 0 when it moved or expired.
 */
const update = `
if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] then return 0 end
if #ARGV > 2 then redis.call('HSET', KEYS[1], unpack(ARGV, 3)) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1
`;

/** KEYS: session, session stream. ARGV: gen, ck, ckId. An acknowledgement: move the checkpoint, free the session stream up to it. */
const checkpoint = `
if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'ck', ARGV[2], 'ckId', ARGV[3])
redis.call('XTRIM', KEYS[2], 'MINID', ARGV[3])
return 1
`;

/** KEYS: session, session stream. ARGV: gen. Delete a session this server holds. */
const drop = `
if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1], KEYS[2])
`;

/** ARGV: session key prefix, ttl, then (id, gen) pairs. Renew the lease of every session this server holds. */
const renew = `
local n = 0
for i = 3, #ARGV, 2 do
  local key = ARGV[1] .. ARGV[i]
  if redis.call('HGET', key, 'gen') == ARGV[i + 1] then
    redis.call('PEXPIRE', key, ARGV[2])
    if redis.call('EXISTS', key .. ':d') == 1 then redis.call('PEXPIRE', key .. ':d', ARGV[2]) end
    n = n + 1
  end
end
return n
`;

/**
 * KEYS: clock, session, session stream, broadcast stream, broadcast cut. ARGV: after, new owner,
 * inbox prefix, ttl, header of the "moved" notice. Take a session over for a client that has
 * received `after` messages. Returns { 'unknown' | 'overflow' } or
 * { 'ok', received, sent, position, gen, afterId, id1, payload1, binary1, ... } with the messages
 * after `after` (afterId: the id of message number `after`).
 */
const resume = `${CLOCK}
local h = redis.call('HGETALL', KEYS[2])
if #h == 0 then return { 'unknown' } end
local s = {}
for i = 1, #h, 2 do s[h[i]] = h[i + 1] end
local after, ck = tonumber(ARGV[1]), tonumber(s.ck)
if after < ck then return { 'unknown' } end
local bcut = redis.call('GET', KEYS[5])
if (bcut and before(s.ckId, bcut)) or (s.cut and before(s.ckId, s.cut)) then return { 'overflow' } end
local bs = redis.call('XRANGE', KEYS[4], '(' .. s.ckId, '+')
local ds = redis.call('XRANGE', KEYS[3], '(' .. s.ckId, '+')
local merged = {}
local i, j = 1, 1
while i <= #bs or j <= #ds do
  if j > #ds or (i <= #bs and before(bs[i][1], ds[j][1])) then merged[#merged + 1] = bs[i]; i = i + 1
  else merged[#merged + 1] = ds[j]; j = j + 1 end
end
local sent = ck + #merged
if after > sent then return { 'unknown' } end
local position = redis.call('GET', KEYS[1]) or s.ckId
local gen = tostring(tonumber(s.gen) + 1)
local afterId = s.ckId
if after > ck then afterId = merged[after - ck][1] end
local out = { 'ok', s.received, tostring(sent), position, gen, afterId }
for k = after - ck + 1, #merged do
  local fields = merged[k][2]
  local payload, binary = nil, '0'
  for f = 1, #fields, 2 do
    if fields[f] == 'p' then payload = fields[f + 1] elseif fields[f] == 'b' then binary = fields[f + 1] end
  end
  out[#out + 1] = merged[k][1]
  out[#out + 1] = payload
  out[#out + 1] = binary
end
if s.owner ~= ARGV[2] then
  redis.call('PUBLISH', ARGV[3] .. s.owner, '#0-0\\n' .. ARGV[5] .. '\\n')
end
redis.call('HSET', KEYS[2], 'owner', ARGV[2], 'gen', gen)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('PEXPIRE', KEYS[3], ARGV[4]) end
return out
`;

/**
 * KEYS: clock. ARGV: channel, header. Publish a mark with the next id: whatever a subscriber of
 * that connection receives after it has a later id.
 */
const mark = `${CLOCK}
local id = tick(KEYS[1])
redis.call('PUBLISH', ARGV[1], '#' .. id .. '\\n' .. ARGV[2] .. '\\n')
return id
`;

/** The recovery scripts as commands on an ioredis client. */
export interface RecoveryCommands {
  primusRcMark(clock: string, channel: string, header: string): Promise<string>;
  primusRcBroadcast(
    clock: string,
    stream: string,
    cut: string,
    channel: string,
    header: string,
    payload: string | Buffer,
    binary: string,
    maxlen: number,
    keep: number,
  ): Promise<string>;
  primusRcDirect(
    clock: string,
    session: string,
    stream: string,
    inboxPrefix: string,
    header: string,
    payload: string | Buffer,
    binary: string,
    maxlen: number,
    received: string,
    gen: string,
  ): Promise<string | null>;
  primusRcCreate(session: string, stream: string, owner: string, gen: string, start: string, ttl: number): Promise<number>;
  primusRcUpdate(session: string, stream: string, gen: string, ttl: number, ...fields: string[]): Promise<number>;
  primusRcCheckpoint(session: string, stream: string, gen: string, ck: string, ckId: string): Promise<number>;
  primusRcDrop(session: string, stream: string, gen: string): Promise<number>;
  primusRcRenew(prefix: string, ttl: number, ...idsAndGens: string[]): Promise<number>;
  primusRcResume(
    clock: string,
    session: string,
    stream: string,
    broadcasts: string,
    cut: string,
    after: number,
    owner: string,
    inboxPrefix: string,
    ttl: number,
    notice: string,
  ): Promise<Array<string | Buffer>>;
  primusRcResumeBuffer(
    clock: string,
    session: string,
    stream: string,
    broadcasts: string,
    cut: string,
    after: number,
    owner: string,
    inboxPrefix: string,
    ttl: number,
    notice: string,
  ): Promise<Buffer[]>;
}

/** Define the recovery scripts on a client and return it typed with them. */
export function defineRecoveryScripts<R extends Redis>(redis: R): R & RecoveryCommands {
  redis.defineCommand('primusRcMark', { numberOfKeys: 1, lua: mark });
  redis.defineCommand('primusRcBroadcast', { numberOfKeys: 3, lua: broadcast });
  redis.defineCommand('primusRcDirect', { numberOfKeys: 3, lua: direct });
  redis.defineCommand('primusRcCreate', { numberOfKeys: 2, lua: create });
  redis.defineCommand('primusRcUpdate', { numberOfKeys: 2, lua: update });
  redis.defineCommand('primusRcCheckpoint', { numberOfKeys: 2, lua: checkpoint });
  redis.defineCommand('primusRcDrop', { numberOfKeys: 2, lua: drop });
  redis.defineCommand('primusRcRenew', { numberOfKeys: 0, lua: renew });
  redis.defineCommand('primusRcResume', { numberOfKeys: 5, lua: resume });
  return redis as R & RecoveryCommands;
}
