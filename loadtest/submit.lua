-- wrk script: POST /support/submit with a different customer on every request.
-- Each wrk thread numbers its own requests; `setup` gives every thread its own
-- number and the run its own stamp, so no two requests of a run (or of two
-- runs on one database) share an address. (Lua's unseeded math.random gives
-- every thread the same value, which made both threads send the same
-- addresses.)

local threads = 0
local stamp = os.time()

function setup(thread)
  threads = threads + 1
  thread:set("tag", string.format("%d-%d", stamp, threads))
end

local counter = 0

request = function()
  counter = counter + 1
  local body = string.format(
    '{"name":"Load Test","email":"load%s.%d@example.com","subject":"Password reset link","category":"technical","message":"The reset email I got yesterday does not work anymore. What should I do?","priority":"medium"}',
    tag, counter)
  return wrk.format("POST", "/support/submit", { ["Content-Type"] = "application/json" }, body)
end

local statuses = {}
response = function(status)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency)
  io.write(string.format("requests %d, errors: connect %d, read %d, write %d, status %d, timeout %d\n",
    summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
  io.write(string.format("throughput %.0f req/s\n", summary.requests / (summary.duration / 1e6)))
  for _, p in ipairs({ 50, 95, 99 }) do
    io.write(string.format("p%d %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
