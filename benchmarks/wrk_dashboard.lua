-- wrk's side of bench_dashboard (--generator wrk): N logged-in users as N connections, one
-- wrk thread each (wrk -t N -c N), so that each connection sends its own user's session
-- cookie; each goes round the pages in turn (starting at a different one), a closed loop: the
-- next request is sent when the answer to the last one is in (plus WRK_THINK_MS, if set).
--
-- Read from the environment (bench_dashboard sets them):
--   WRK_COOKIES  a file, one Cookie header value a line (a user each; connection i takes line i)
--   WRK_PATHS    a file, one path a line, then a tab and a text the page must contain
--   WRK_LOG      the file written at the end: one line per answered request,
--                "<page number> <latency in microseconds> <1 when right, else the status>",
--                then a line "errors <connect> <read> <write> <status> <timeout>"
--   WRK_THINK_MS milliseconds between a user's requests (absent or 0: none)
--
-- The latency is timed here, per request and per page (wrk's own summary mixes the pages),
-- from building the request to its whole answer, with the monotonic clock through LuaJIT's ffi.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now = ffi.new("bench_timespec")

local function microseconds()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now)
  return tonumber(now.tv_sec) * 1000000 + tonumber(now.tv_nsec) / 1000
end

local function lines_of(path)
  local found = {}
  local file = assert(io.open(path, "r"), "cannot read " .. tostring(path))
  for line in file:lines() do
    if line ~= "" then found[#found + 1] = line end
  end
  file:close()
  return found
end

-- the main state: hand each thread (one connection) its user's cookie and first page
local threads = {}
local cookies = nil

function setup(thread)
  cookies = cookies or lines_of(os.getenv("WRK_COOKIES"))
  local n = #threads + 1
  threads[n] = thread
  thread:set("cookie", cookies[(n - 1) % #cookies + 1])
  thread:set("first", n - 1)
end

-- each thread's state
local requests, markers = {}, {}
answered = {} -- a global: done() reads it from each thread
local page, started, turn = 1, 0, 0
local think = tonumber(os.getenv("WRK_THINK_MS") or "0") or 0

function init(args)
  for _, line in ipairs(lines_of(os.getenv("WRK_PATHS"))) do
    local path, marker = line:match("^([^\t]+)\t(.*)$")
    requests[#requests + 1] = wrk.format("GET", path, { Cookie = cookie })
    markers[#markers + 1] = marker
  end
  turn = first or 0
end

function request()
  page = turn % #requests + 1
  turn = turn + 1
  started = microseconds()
  return requests[page]
end

function response(status, headers, body)
  local elapsed = microseconds() - started
  local right = status == 200 and body ~= nil and body:find(markers[page], 1, true) ~= nil
  answered[#answered + 1] = string.format("%d %d %s", page, elapsed, right and "1" or tostring(status))
end

if think > 0 then
  function delay()
    return think
  end
end

function done(summary, latency, requests_)
  local out = assert(io.open(os.getenv("WRK_LOG"), "w"))
  for _, thread in ipairs(threads) do
    local kept = thread:get("answered")
    if kept then
      for _, line in ipairs(kept) do out:write(line, "\n") end
    end
  end
  local e = summary.errors
  out:write(string.format("errors %d %d %d %d %d\n", e.connect, e.read, e.write, e.status, e.timeout))
  out:close()
end
