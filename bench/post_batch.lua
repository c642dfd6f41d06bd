-- wrk script for bench/ingest.py: POST a batch of 20 click events with fresh event ids on
-- every request (so the collector stores each one rather than answering "duplicate").
-- Arguments after --: site key, per-request delay in ms (0 = as fast as possible).
local counter = 0
local prefix, key, pause

function init(args)
  key = args[1]
  pause = tonumber(args[2] or "0")
  math.randomseed(os.time() + os.clock() * 1e6)
  prefix = string.format("%07x", math.random(0, 0xfffffff))
end

function request()
  counter = counter + 1
  local now = os.time() * 1000
  local events = {}
  for i = 1, 20 do
    events[i] = string.format(
      '{"t":"click","id":"%s%07x%02d","ts":%d,"p":"/cart","pv":"v%d","x":%d,"y":%d,"vw":1280,"vh":800}',
      prefix, counter, i, now, counter % 97, (counter * 37 + i * 11) % 1280, (counter * 53 + i * 7) % 4000)
  end
  local body = string.format('{"site":"%s","sid":"s%s%d","sent_at":%d,"events":[%s]}',
    key, prefix, counter % 5000, now, table.concat(events, ","))
  return wrk.format("POST", "/e", {["Content-Type"] = "text/plain",
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"}, body)
end

function delay()
  return pause
end
