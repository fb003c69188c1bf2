-- GET a random path of BENCH_PATHS (one a line) per request, with BENCH_KEY as bearer key if set.
local report = dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
local paths = {}
local key = os.getenv("BENCH_KEY")
local headers = {}
if key and key ~= "" then headers["Authorization"] = "Bearer " .. key end
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
  math.randomseed(os.time() + thread_number)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)], headers)
end

done = report.done
