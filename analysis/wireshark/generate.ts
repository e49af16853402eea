/**
 * Generates the Wireshark Lua dissector (analysis/wireshark/audiolab.lua) from the protocol's one
 * definition (services/protocol/schema.ts and constants.ts): message names and codes, each message's
 * fields and kinds, limits. `npm run docs` rewrites it; a test fails when it is out of date.
 */
import {
  DATA_HEADER_SIZE, DEFAULT_PORT, HEADER_SIZE, MAGIC_0, MAGIC_1, MAX_CONTROL_PAYLOAD, MAX_PAYLOAD, MESSAGES, SUB_SCHEMAS, SUPPORTED_VERSIONS,
} from '../../services/protocol/index.ts';

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const luaStr = (s: string): string => JSON.stringify(s);

/** Every JSON field name across messages, with the Wireshark type its kind maps to. */
function jsonFields(): Array<{ name: string; abbrev: string; ftype: 'uint32' | 'double' | 'bool' | 'string' }> {
  const seen = new Map<string, 'uint32' | 'double' | 'bool' | 'string'>();
  for (const m of Object.values(MESSAGES)) {
    if (m.body !== 'json') continue;
    for (const [name, kind] of Object.entries(m.fields)) {
      const k = kind.replace('?', '');
      const t = k === 'uint' ? 'uint32' : k === 'number' ? 'double' : k === 'boolean' ? 'bool' : 'string';
      const prev = seen.get(name);
      seen.set(name, prev && prev !== t ? 'string' : t);
    }
  }
  // names the frame header already uses get a prefix (WELCOME's version is not the header's)
  const reserved = new Set(['magic', 'version', 'type', 'message', 'length', 'data', 'data_len', 'json']);
  return [...seen].map(([name, ftype]) => ({ name, abbrev: `audiolab.${reserved.has(snake(name)) ? 'field_' : ''}${snake(name)}`, ftype }));
}

export function luaDissector(): string {
  const msgs = Object.entries(MESSAGES);
  const types = msgs.map(([n, m]) => `  [0x${m.code.toString(16).padStart(2, '0')}] = ${luaStr(n)},`).join('\n');
  const specs = msgs.filter(([, m]) => m.body === 'json').map(([n, m]) => {
    const fields = Object.entries(m.fields).map(([f, k]) => `{ ${luaStr(f)}, ${luaStr(k.replace('?', ''))}, ${k.endsWith('?') ? 'false' : 'true'} }`).join(', ');
    return `  [${luaStr(n)}] = { ${fields} },`;
  }).join('\n');
  const subs = Object.entries(SUB_SCHEMAS).map(([n, f]) => `  ${n} = { ${Object.keys(f).map(luaStr).join(', ')} },`).join('\n');
  const jf = jsonFields();
  const pf = jf.map((f) => {
    const ctor = f.ftype === 'uint32' ? 'ProtoField.uint32' : f.ftype === 'double' ? 'ProtoField.double' : f.ftype === 'bool' ? 'ProtoField.bool' : 'ProtoField.string';
    return `F.j_${f.name} = ${ctor}(${luaStr(f.abbrev)}, ${luaStr(f.name)})`;
  }).join('\n');
  const dataFields = ['streamId', 'seq', 'offset'];
  const jsonOnly = jf.filter((f) => !dataFields.includes(f.name));
  return `-- tcp-audio-lab: Wireshark dissector for the audiolab protocol.
-- GENERATED from services/protocol/schema.ts by analysis/wireshark/generate.ts (npm run docs).
-- Do not edit by hand.
--
-- Load it:   wireshark -X lua_script:analysis/wireshark/audiolab.lua capture.pcap
--            tshark -X lua_script:analysis/wireshark/audiolab.lua -r capture.pcap -Y audiolab
-- or copy it into your personal Lua plugins folder (Help > About Wireshark > Folders).
-- Registered on TCP port ${DEFAULT_PORT} and as a heuristic dissector on TCP (any port).
--
-- Frame: 'A' 'L' version(1) type(1) length(4, big endian) payload(length).
-- DATA payload: streamId(4) seq(4) offset(8) audio bytes; other payloads are JSON objects.

local audiolab = Proto("audiolab", "tcp-audio-lab protocol")

local HEADER_SIZE = ${HEADER_SIZE}
local DATA_HEADER_SIZE = ${DATA_HEADER_SIZE}
local MAX_PAYLOAD = ${MAX_PAYLOAD}
local MAX_CONTROL_PAYLOAD = ${MAX_CONTROL_PAYLOAD}
local MAGIC_0, MAGIC_1 = ${MAGIC_0}, ${MAGIC_1}
local VERSIONS = { ${SUPPORTED_VERSIONS.map((v) => `[${v}] = true`).join(', ')} }
local DATA_CODE = ${MESSAGES.DATA.code}

local TYPES = {
${types}
}

-- each JSON message: { field, kind, required }
local SPECS = {
${specs}
}

local SUBS = {
${subs}
}

local F = {}
F.magic = ProtoField.string("audiolab.magic", "Magic")
F.version = ProtoField.uint8("audiolab.version", "Version")
F.type = ProtoField.uint8("audiolab.type", "Type", base.HEX, TYPES)
F.name = ProtoField.string("audiolab.message", "Message")
F.length = ProtoField.uint32("audiolab.length", "Payload length")
F.stream_id = ProtoField.uint32("audiolab.stream_id", "Stream id")
F.seq = ProtoField.uint32("audiolab.seq", "Chunk seq")
F.offset = ProtoField.uint64("audiolab.offset", "File offset")
F.data = ProtoField.bytes("audiolab.data", "Audio bytes")
F.data_len = ProtoField.uint32("audiolab.data_len", "Audio bytes length")
F.json = ProtoField.string("audiolab.json", "JSON")
${pf.split('\n').filter((l) => !dataFields.some((d) => l.startsWith(`F.j_${d} `))).join('\n')}
audiolab.fields = F

local E = {}
E.bad_header = ProtoExpert.new("audiolab.bad_header", "Not an audiolab frame header", expert.group.MALFORMED, expert.severity.ERROR)
E.unknown_type = ProtoExpert.new("audiolab.unknown_type", "Unknown message type", expert.group.MALFORMED, expert.severity.ERROR)
E.too_large = ProtoExpert.new("audiolab.too_large", "Payload larger than the protocol allows", expert.group.MALFORMED, expert.severity.ERROR)
E.bad_json = ProtoExpert.new("audiolab.bad_json", "Payload is not a JSON object", expert.group.MALFORMED, expert.severity.ERROR)
E.missing = ProtoExpert.new("audiolab.missing_field", "Required field missing", expert.group.MALFORMED, expert.severity.ERROR)
E.bad_kind = ProtoExpert.new("audiolab.bad_field", "Field has the wrong kind", expert.group.MALFORMED, expert.severity.ERROR)
E.error_msg = ProtoExpert.new("audiolab.error", "The peer reported an error", expert.group.RESPONSE_CODE, expert.severity.WARN)
audiolab.experts = { E.bad_header, E.unknown_type, E.too_large, E.bad_json, E.missing, E.bad_kind, E.error_msg }

-- A small JSON reader (objects, arrays, strings, numbers, true/false/null).
local json = {}
local function skip(s, i) return s:find("[^ \\t\\r\\n]", i) or (#s + 1) end
local function str(s, i)
  local out, j = {}, i + 1
  while j <= #s do
    local c = s:sub(j, j)
    if c == '"' then return table.concat(out), j + 1 end
    if c == "\\\\" then
      local n = s:sub(j + 1, j + 1)
      local map = { b = "\\b", f = "\\f", n = "\\n", r = "\\r", t = "\\t" }
      if n == "u" then out[#out + 1] = "?"; j = j + 6
      else out[#out + 1] = map[n] or n; j = j + 2 end
    else out[#out + 1] = c; j = j + 1 end
  end
  error("unterminated string")
end
local value
local function arr(s, i)
  local out, j = {}, skip(s, i + 1)
  if s:sub(j, j) == "]" then return out, j + 1 end
  while true do
    local v; v, j = value(s, j); out[#out + 1] = v; j = skip(s, j)
    local c = s:sub(j, j)
    if c == "]" then return out, j + 1 end
    if c ~= "," then error("bad array") end
    j = skip(s, j + 1)
  end
end
local function obj(s, i)
  local out, j = {}, skip(s, i + 1)
  if s:sub(j, j) == "}" then return out, j + 1 end
  while true do
    if s:sub(j, j) ~= '"' then error("bad key") end
    local k; k, j = str(s, j); j = skip(s, j)
    if s:sub(j, j) ~= ":" then error("bad object") end
    local v; v, j = value(s, skip(s, j + 1)); out[k] = v; j = skip(s, j)
    local c = s:sub(j, j)
    if c == "}" then return out, j + 1 end
    if c ~= "," then error("bad object") end
    j = skip(s, j + 1)
  end
end
value = function(s, i)
  i = skip(s, i)
  local c = s:sub(i, i)
  if c == "{" then return obj(s, i) end
  if c == "[" then return arr(s, i) end
  if c == '"' then return str(s, i) end
  if s:sub(i, i + 3) == "true" then return true, i + 4 end
  if s:sub(i, i + 4) == "false" then return false, i + 5 end
  if s:sub(i, i + 3) == "null" then return json.null, i + 4 end
  local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
  if num and #num > 0 then return tonumber(num), i + #num end
  error("bad value")
end
json.null = setmetatable({}, { __tostring = function() return "null" end })
function json.decode(s)
  local v, j = value(s, 1)
  if skip(s, j) <= #s then error("trailing bytes") end
  return v
end

local function kind_ok(kind, v)
  if kind == "string" then return type(v) == "string" end
  if kind == "uint" then return type(v) == "number" and v >= 0 and math.floor(v) == v end
  if kind == "number" then return type(v) == "number" end
  if kind == "boolean" then return type(v) == "boolean" end
  if kind:sub(-2) == "[]" then return type(v) == "table" end
  return type(v) == "table"
end

local function brief(v)
  if type(v) ~= "table" then return tostring(v) end
  if v.name then return tostring(v.name) end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return "[" .. n .. "]"
end

local JSON_FIELDS = {
${jsonOnly.map((f) => `  [${luaStr(f.name)}] = F.j_${f.name},`).join('\n')}
  streamId = F.stream_id, seq = F.seq, offset = F.offset,
}

local function frame_len(tvb, pinfo, offset)
  return tvb(offset + 4, 4):uint() + HEADER_SIZE
end

local function dissect_frame(tvb, pinfo, tree)
  local t = tree:add(audiolab, tvb())
  local code = tvb(3, 1):uint()
  local len = tvb(4, 4):uint()
  local name = TYPES[code] or string.format("0x%02x", code)
  t:add(F.magic, tvb(0, 2))
  t:add(F.version, tvb(2, 1))
  local ti = t:add(F.type, tvb(3, 1))
  t:add(F.name, tvb(3, 1), name)
  t:add(F.length, tvb(4, 4))
  t:set_text("audiolab " .. name .. " (" .. len .. " bytes)")
  if tvb(0, 1):uint() ~= MAGIC_0 or tvb(1, 1):uint() ~= MAGIC_1 or not VERSIONS[tvb(2, 1):uint()] then
    t:add_proto_expert_info(E.bad_header)
    return name
  end
  if not TYPES[code] then
    ti:add_proto_expert_info(E.unknown_type)
    return name
  end
  local p = tvb(HEADER_SIZE, len)
  if code == DATA_CODE then
    if len < DATA_HEADER_SIZE then t:add_proto_expert_info(E.too_large, "DATA shorter than its header"); return name end
    t:add(F.stream_id, p(0, 4))
    t:add(F.seq, p(4, 4))
    t:add(F.offset, p(8, 8))
    t:add(F.data_len, p(8, 8), len - DATA_HEADER_SIZE)
    if len > DATA_HEADER_SIZE then t:add(F.data, p(DATA_HEADER_SIZE, len - DATA_HEADER_SIZE)) end
    t:append_text(string.format(": stream %d seq %d offset %s, %d audio bytes", p(0, 4):uint(), p(4, 4):uint(), tostring(p(8, 8):uint64()), len - DATA_HEADER_SIZE))
    return name .. " #" .. p(0, 4):uint()
  end
  if len > MAX_CONTROL_PAYLOAD then t:add_proto_expert_info(E.too_large); return name end
  local text = p:string(ENC_UTF_8)
  t:add(F.json, p, text)
  local ok, v = pcall(json.decode, text)
  if not ok or type(v) ~= "table" then
    t:add_proto_expert_info(E.bad_json)
    return name
  end
  local summary = {}
  for _, spec in ipairs(SPECS[name] or {}) do
    local field, kind, required = spec[1], spec[2], spec[3]
    local x = v[field]
    if x == nil then
      if required then t:add_proto_expert_info(E.missing, "missing field " .. field) end
    elseif not kind_ok(kind, x) then
      t:add_proto_expert_info(E.bad_kind, field .. " should be " .. kind)
    else
      local pf = JSON_FIELDS[field]
      if pf == F.offset then
        t:add(pf, p, UInt64.new(x))
      elseif pf and type(x) ~= "table" then
        t:add(pf, p, x)
      elseif pf then
        t:add(pf, p, brief(x))
      end
      if type(x) ~= "table" and #summary < 4 and field ~= "req" then summary[#summary + 1] = field .. "=" .. tostring(x) end
    end
  end
  if name == "ERROR" then t:add_proto_expert_info(E.error_msg, tostring(v.code) .. ": " .. tostring(v.message)) end
  if #summary > 0 then t:append_text(": " .. table.concat(summary, " ")) end
  return name
end

-- Info column: "audiolab: HELLO, LIST" — one entry per message in the segment
local info_frame = -1
local function dissect_pdu(tvb, pinfo, tree)
  pinfo.cols.protocol = "AUDIOLAB"
  local label = dissect_frame(tvb, pinfo, tree)
  if info_frame == pinfo.number then
    pinfo.cols.info:append(", " .. label)
  else
    info_frame = pinfo.number
    pinfo.cols.info:set("audiolab: " .. label)
  end
  return tvb:len()
end

function audiolab.dissector(tvb, pinfo, tree)
  if tvb:len() == 0 then return 0 end
  dissect_tcp_pdus(tvb, tree, HEADER_SIZE, frame_len, dissect_pdu, true)
  return tvb:len()
end

local function looks_like_audiolab(tvb)
  if tvb:len() < HEADER_SIZE then return false end
  if tvb(0, 1):uint() ~= MAGIC_0 or tvb(1, 1):uint() ~= MAGIC_1 then return false end
  if not VERSIONS[tvb(2, 1):uint()] or not TYPES[tvb(3, 1):uint()] then return false end
  return tvb(4, 4):uint() <= MAX_PAYLOAD
end

local function heuristic(tvb, pinfo, tree)
  if not looks_like_audiolab(tvb) then return false end
  pinfo.conversation = audiolab
  audiolab.dissector(tvb, pinfo, tree)
  return true
end

DissectorTable.get("tcp.port"):add(${DEFAULT_PORT}, audiolab)
audiolab:register_heuristic("tcp", heuristic)
`;
}
