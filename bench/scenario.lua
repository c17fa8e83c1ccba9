-- One scenario of the load benchmark (bench/run), as wrk drives it.
-- benches/load.rs sets these environment variables:
--   BENCH_METHOD   GET or POST
--   BENCH_TOKEN    the caller's access token
--   BENCH_PATHS    a file of request paths, one a line, taken in turn
--   BENCH_BODY     for a POST: the JSON body; each `@PATRON@` is replaced by
--                  the next line of BENCH_PATRONS
--   BENCH_PATRONS  a file of patron ids, one a line
--   BENCH_EXPECT   the status every answer must have (201, 200, 403)
--   BENCH_RUN      a number unique to this run (Idempotency-Keys)
--   BENCH_IDS      for a POST: where the ids of acknowledged records are written
-- At the end it prints one line, `BENCH {json}`, that benches/load.rs reads.

local method = os.getenv("BENCH_METHOD") or "GET"
local token = os.getenv("BENCH_TOKEN")
local expect = tonumber(os.getenv("BENCH_EXPECT") or "200")
local run = os.getenv("BENCH_RUN") or "0"
local body_template = os.getenv("BENCH_BODY")

local function lines(file)
  local out = {}
  if file and file ~= "" then
    for l in io.lines(file) do out[#out + 1] = l end
  end
  return out
end

local threads = {}
function setup(thread)
  thread:set("thread_no", #threads)
  table.insert(threads, thread)
end

local paths, patrons, sent
function init(args)
  paths = lines(os.getenv("BENCH_PATHS"))
  patrons = lines(os.getenv("BENCH_PATRONS"))
  sent = 0
  unexpected = 0
  bad_status = 0
  acked = {}
end

function request()
  sent = sent + 1
  local headers = { ["Authorization"] = "Bearer " .. token }
  local body = nil
  if body_template then
    local patron = patrons[(sent - 1) % #patrons + 1]
    body = body_template:gsub("@PATRON@", patron)
    headers["Content-Type"] = "application/json"
    headers["Idempotency-Key"] = string.format("bench-%s-%d-%d", run, thread_no, sent)
  end
  return wrk.format(method, paths[(sent - 1) % #paths + 1], headers, body)
end

function response(status, headers, body)
  if status ~= expect then
    unexpected = unexpected + 1
    bad_status = status
  elseif body_template then
    acked[#acked + 1] = body:match('"id":"([0-9a-f-]+)"')
  end
end

function done(summary, latency, requests)
  local bad = 0
  local bad_status = 0
  local ids = os.getenv("BENCH_IDS")
  local out = ids and ids ~= "" and io.open(ids, "w") or nil
  for _, t in ipairs(threads) do
    bad = bad + t:get("unexpected")
    bad_status = math.max(bad_status, t:get("bad_status"))
    if out then
      for _, id in ipairs(t:get("acked")) do out:write(id, "\n") end
    end
  end
  if out then out:close() end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"unexpected":%d,"socket_errors":%d,"timeouts":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"bad_status":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, bad, e.connect + e.read + e.write, e.timeout, e.connect, e.read, e.write, bad_status))
end
