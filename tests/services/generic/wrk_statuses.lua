-- wrk script: POST a small JSON body and count the answers by status; done() prints one
-- "status <code> <count>" line per status, and "retry_after_missing <n>" for 429s without a
-- Retry-After header, for the test to parse (wrk's own summary only counts non-2xx).
wrk.method = "POST"
wrk.body = '{"text": "flood"}'
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  retry_after_missing = 0
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 429 and headers["Retry-After"] == nil and headers["retry-after"] == nil then
    retry_after_missing = retry_after_missing + 1
  end
end

function done(summary, latency, requests)
  local total, missing = {}, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
    missing = missing + thread:get("retry_after_missing")
  end
  for status, count in pairs(total) do
    io.write(string.format("status %d %d\n", status, count))
  end
  io.write(string.format("retry_after_missing %d\n", missing))
end
