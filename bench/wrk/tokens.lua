-- Each request carries the next token of a pre-minted pool (one token a line), so no token is seen
-- twice while the pool lasts. Threads take interleaved slices (thread k: lines k, k+T, k+2T...).
-- A line is TOKEN, or HOST<TAB>TOKEN to address another org (its Host header) with that token.
-- Usage: wrk ... -s bench/wrk/tokens.lua URL -- TOKENS_FILE HOST THREADS [PATH]
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  tokens = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      local h, t = line:match("^([^\t]+)\t(.+)$")
      if h then
        tokens[#tokens + 1] = { h, t }
      else
        tokens[#tokens + 1] = { nil, line }
      end
    end
  end
  host = args[2]
  port_suffix = host:match(":%d+$") or ""
  stride = tonumber(args[3])
  path = args[4] or "/api/reports/q1"
  counter = id
  wrapped = 0
end

function request()
  if counter >= #tokens then
    counter = counter % #tokens
    wrapped = wrapped + 1
  end
  local t = tokens[counter + 1]
  counter = counter + stride
  return wrk.format("GET", path, { ["Host"] = t[1] and (t[1] .. port_suffix) or host, ["Authorization"] = "Bearer " .. t[2] })
end

function done(summary, latency, requests)
  local w = 0
  for _, t in ipairs(threads) do w = w + (t:get("wrapped") or 0) end
  io.write(string.format("BENCH_POOL_WRAPS %d\n", w))
end
