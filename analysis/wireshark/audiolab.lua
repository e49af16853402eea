-- tcp-audio-lab: Wireshark dissector for the audiolab protocol.
-- GENERATED from services/protocol/schema.ts by analysis/wireshark/generate.ts (npm run docs).
-- Do not edit by hand.
--
-- Load it:   wireshark -X lua_script:analysis/wireshark/audiolab.lua capture.pcap
--            tshark -X lua_script:analysis/wireshark/audiolab.lua -r capture.pcap -Y audiolab
-- or copy it into your personal Lua plugins folder (Help > About Wireshark > Folders).
-- Registered on TCP port 5050 and as a heuristic dissector on TCP (any port).
--
-- Frame: 'A' 'L' version(1) type(1) length(4, big endian) payload(length).
-- DATA payload: streamId(4) seq(4) offset(8) audio bytes; other payloads are JSON objects.

local audiolab = Proto("audiolab", "tcp-audio-lab protocol")

local HEADER_SIZE = 8
local DATA_HEADER_SIZE = 16
local MAX_PAYLOAD = 1048576
local MAX_CONTROL_PAYLOAD = 65536
local MAGIC_0, MAGIC_1 = 65, 76
local VERSIONS = { [1] = true }
local DATA_CODE = 34

local TYPES = {
  [0x01] = "HELLO",
  [0x02] = "WELCOME",
  [0x03] = "PRESENCE",
  [0x08] = "ONLINE",
  [0x09] = "WHO",
  [0x07] = "CLIENTS",
  [0x04] = "PING",
  [0x05] = "PONG",
  [0x06] = "BYE",
  [0x10] = "LIST",
  [0x11] = "CATALOG",
  [0x20] = "PLAY",
  [0x21] = "STREAM_START",
  [0x22] = "DATA",
  [0x23] = "STREAM_END",
  [0x24] = "STREAM_ABORT",
  [0x26] = "RECEIVED",
  [0x25] = "PLAYED",
  [0x30] = "UPLOAD",
  [0x31] = "UPLOAD_DONE",
  [0x40] = "LISTEN",
  [0x41] = "PLAY_ON",
  [0x42] = "SEND_TO",
  [0x43] = "INVITE",
  [0x44] = "ACCEPT",
  [0x45] = "REFUSE",
  [0x46] = "READY",
  [0x7e] = "OK",
  [0x7f] = "ERROR",
}

-- each JSON message: { field, kind, required }
local SPECS = {
  ["HELLO"] = { { "versions", "uint[]", true }, { "name", "string", true }, { "software", "string", false } },
  ["WELCOME"] = { { "version", "uint", true }, { "clientId", "uint", true }, { "name", "string", true }, { "motd", "string", true }, { "clients", "client[]", true }, { "online", "uint", true }, { "seq", "uint", true } },
  ["PRESENCE"] = { { "event", "string", true }, { "client", "client", true }, { "online", "uint", true }, { "seq", "uint", true } },
  ["ONLINE"] = { { "online", "uint", true }, { "changes", "uint", true }, { "seq", "uint", true } },
  ["WHO"] = { { "req", "uint", true } },
  ["CLIENTS"] = { { "req", "uint", true }, { "clients", "client[]", true }, { "more", "boolean", true }, { "seq", "uint", true } },
  ["PING"] = { { "t", "number", true } },
  ["PONG"] = { { "t", "number", true } },
  ["BYE"] = { { "reason", "string", true } },
  ["LIST"] = { { "req", "uint", true } },
  ["CATALOG"] = { { "req", "uint", false }, { "songs", "song[]", true }, { "reason", "string", false }, { "more", "boolean", false } },
  ["PLAY"] = { { "req", "uint", true }, { "song", "string", true }, { "offset", "uint", true }, { "realtime", "boolean", false } },
  ["STREAM_START"] = { { "req", "uint", false }, { "streamId", "uint", true }, { "kind", "string", true }, { "song", "string", true }, { "from", "string", false }, { "size", "uint", true }, { "offset", "uint", true }, { "sha256", "string", true }, { "format", "format", true } },
  ["STREAM_END"] = { { "streamId", "uint", true }, { "bytes", "uint", true }, { "sha256", "string", false } },
  ["STREAM_ABORT"] = { { "streamId", "uint", true }, { "code", "string", true }, { "message", "string", true } },
  ["RECEIVED"] = { { "streamId", "uint", true }, { "bytes", "uint", true } },
  ["PLAYED"] = { { "song", "string", true }, { "sha256", "string", true }, { "source", "string", true } },
  ["UPLOAD"] = { { "req", "uint", true }, { "name", "string", true }, { "size", "uint", true }, { "sha256", "string", true } },
  ["UPLOAD_DONE"] = { { "req", "uint", true }, { "name", "string", true }, { "sha256", "string", true }, { "song", "song", true } },
  ["LISTEN"] = { { "req", "uint", true }, { "accept", "boolean", true } },
  ["PLAY_ON"] = { { "req", "uint", true }, { "target", "string", true }, { "song", "string", true } },
  ["SEND_TO"] = { { "req", "uint", true }, { "target", "string", true }, { "name", "string", true }, { "size", "uint", true }, { "sha256", "string", true }, { "format", "format", true } },
  ["INVITE"] = { { "streamId", "uint", true }, { "kind", "string", true }, { "from", "string", true }, { "song", "string", true }, { "size", "uint", true }, { "sha256", "string", true }, { "format", "format", true } },
  ["ACCEPT"] = { { "streamId", "uint", true } },
  ["REFUSE"] = { { "streamId", "uint", true }, { "reason", "string", true } },
  ["READY"] = { { "req", "uint", true }, { "streamId", "uint", true } },
  ["OK"] = { { "req", "uint", true }, { "streamId", "uint", false }, { "bytes", "uint", false }, { "status", "string", false } },
  ["ERROR"] = { { "req", "uint", false }, { "streamId", "uint", false }, { "code", "string", true }, { "message", "string", true }, { "fatal", "boolean", false } },
}

local SUBS = {
  format = { "sampleRate", "channels", "bitsPerSample", "encoding" },
  client = { "id", "name", "address", "listening" },
  song = { "name", "durationMs", "sampleRate", "channels", "bitsPerSample", "encoding", "size", "sha256" },
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
F.j_versions = ProtoField.string("audiolab.versions", "versions")
F.j_name = ProtoField.string("audiolab.name", "name")
F.j_software = ProtoField.string("audiolab.software", "software")
F.j_version = ProtoField.uint32("audiolab.field_version", "version")
F.j_clientId = ProtoField.uint32("audiolab.client_id", "clientId")
F.j_motd = ProtoField.string("audiolab.motd", "motd")
F.j_clients = ProtoField.string("audiolab.clients", "clients")
F.j_online = ProtoField.uint32("audiolab.online", "online")
F.j_event = ProtoField.string("audiolab.event", "event")
F.j_client = ProtoField.string("audiolab.client", "client")
F.j_changes = ProtoField.uint32("audiolab.changes", "changes")
F.j_req = ProtoField.uint32("audiolab.req", "req")
F.j_more = ProtoField.bool("audiolab.more", "more")
F.j_t = ProtoField.double("audiolab.t", "t")
F.j_reason = ProtoField.string("audiolab.reason", "reason")
F.j_songs = ProtoField.string("audiolab.songs", "songs")
F.j_song = ProtoField.string("audiolab.song", "song")
F.j_realtime = ProtoField.bool("audiolab.realtime", "realtime")
F.j_kind = ProtoField.string("audiolab.kind", "kind")
F.j_from = ProtoField.string("audiolab.from", "from")
F.j_size = ProtoField.uint32("audiolab.size", "size")
F.j_sha256 = ProtoField.string("audiolab.sha256", "sha256")
F.j_format = ProtoField.string("audiolab.format", "format")
F.j_bytes = ProtoField.uint32("audiolab.bytes", "bytes")
F.j_code = ProtoField.string("audiolab.code", "code")
F.j_message = ProtoField.string("audiolab.field_message", "message")
F.j_source = ProtoField.string("audiolab.source", "source")
F.j_accept = ProtoField.bool("audiolab.accept", "accept")
F.j_target = ProtoField.string("audiolab.target", "target")
F.j_status = ProtoField.string("audiolab.status", "status")
F.j_fatal = ProtoField.bool("audiolab.fatal", "fatal")
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
local function skip(s, i) return s:find("[^ \t\r\n]", i) or (#s + 1) end
local function str(s, i)
  local out, j = {}, i + 1
  while j <= #s do
    local c = s:sub(j, j)
    if c == '"' then return table.concat(out), j + 1 end
    if c == "\\" then
      local n = s:sub(j + 1, j + 1)
      local map = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
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
  ["versions"] = F.j_versions,
  ["name"] = F.j_name,
  ["software"] = F.j_software,
  ["version"] = F.j_version,
  ["clientId"] = F.j_clientId,
  ["motd"] = F.j_motd,
  ["clients"] = F.j_clients,
  ["online"] = F.j_online,
  ["event"] = F.j_event,
  ["client"] = F.j_client,
  ["changes"] = F.j_changes,
  ["req"] = F.j_req,
  ["more"] = F.j_more,
  ["t"] = F.j_t,
  ["reason"] = F.j_reason,
  ["songs"] = F.j_songs,
  ["song"] = F.j_song,
  ["realtime"] = F.j_realtime,
  ["kind"] = F.j_kind,
  ["from"] = F.j_from,
  ["size"] = F.j_size,
  ["sha256"] = F.j_sha256,
  ["format"] = F.j_format,
  ["bytes"] = F.j_bytes,
  ["code"] = F.j_code,
  ["message"] = F.j_message,
  ["source"] = F.j_source,
  ["accept"] = F.j_accept,
  ["target"] = F.j_target,
  ["status"] = F.j_status,
  ["fatal"] = F.j_fatal,
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

DissectorTable.get("tcp.port"):add(5050, audiolab)
audiolab:register_heuristic("tcp", heuristic)
