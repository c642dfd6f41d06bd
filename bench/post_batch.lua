-- wrk script for bench/ingest.py and bench/scale.py: POST a batch of 20 click events with fresh
-- event ids on every request (so the collector stores each one rather than answering
-- "duplicate"). Arguments after --: site key, per-request delay in ms (0 = as fast as possible).
-- With CT_PORTS set (comma-separated collector ports), wrk thread i sends to port i mod n, the
-- way a load balancer spreads connections; CT_RUN then prefixes the ids (unique per run).
-- With CT_CLIENTS set (a Lua file returning {{user_agent, address}, ...}: bench/client_mix.py),
-- each request is the next client's, sent as User-Agent and X-Forwarded-For (the collector must
-- trust 127.0.0.1 as a proxy), so the collector's parser cache and country lookup are exercised.
local threads_made = 0

function setup(thread)
  local ports = {}
  for port in string.gmatch(os.getenv("CT_PORTS") or "", "%d+") do
    ports[#ports + 1] = port
  end
  if #ports > 0 then
    thread.addr = wrk.lookup("127.0.0.1", ports[threads_made % #ports + 1])[1]
    thread:set("prefix", string.format("%s%02d", os.getenv("CT_RUN"), threads_made))
  end
  threads_made = threads_made + 1
end

local counter = 0
local key, pause
local clients = nil
local FIXED_HEADERS = {["Content-Type"] = "text/plain",
  ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"}

function init(args)
  key = args[1]
  pause = tonumber(args[2] or "0")
  if not prefix then
    math.randomseed(os.time() + os.clock() * 1e6)
    prefix = string.format("%07x", math.random(0, 0xfffffff))
  end
  local path = os.getenv("CT_CLIENTS")
  if path and path ~= "" then
    clients = dofile(path)
  end
end

local function headers()
  if not clients then
    return FIXED_HEADERS
  end
  local client = clients[counter % #clients + 1]
  return {["Content-Type"] = "text/plain", ["User-Agent"] = client[1],
    ["X-Forwarded-For"] = client[2]}
end

function request()
  counter = counter + 1
  local now = os.time() * 1000
  local events = {}
  for i = 1, 20 do
    events[i] = string.format(
      '{"t":"click","id":"%s%08x%02d","ts":%d,"p":"/cart","pv":"v%d","x":%d,"y":%d,"vw":1280,"vh":800}',
      prefix, counter, i, now, counter % 97, (counter * 37 + i * 11) % 1280, (counter * 53 + i * 7) % 4000)
  end
  local body = string.format('{"site":"%s","sid":"s%s%d","sent_at":%d,"events":[%s]}',
    key, prefix, counter % 5000, now, table.concat(events, ","))
  return wrk.format("POST", "/e", headers(), body)
end

function delay()
  return pause
end
