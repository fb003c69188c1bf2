-- POST /v1/events: one realistic report per request, each with its own source_event_id.
-- BENCH_BODIES: a file of JSON reports, one a line, whose source_event_id is @SOURCE_ID@;
-- BENCH_RUN_ID: makes the ids unique across runs; BENCH_KEY: a reporter's API key.
local report = dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
local bodies, counter = {}, 0
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")}
local prefix = os.getenv("BENCH_RUN_ID")
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)  -- a global in that thread's own Lua state
end

function init(args)
  for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
end

function request()
  counter = counter + 1
  local id = prefix .. "-" .. thread_number .. "-" .. counter
  local body = (bodies[counter % #bodies + 1]:gsub("@SOURCE_ID@", id, 1))
  return wrk.format("POST", "/v1/events", headers, body)
end

done = report.done
