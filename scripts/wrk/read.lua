-- Stateless reads of 1 MiB from random offsets below END_OFFSET (binary format).
wrk.method = "GET"
wrk.headers["Accept"] = "application/vnd.kafka.binary.v2+json"
local last = tonumber(os.getenv("END_OFFSET") or "1000000")
local topic = os.getenv("TOPIC") or "bench"
math.randomseed(os.time())
request = function()
  local off = math.random(0, math.max(0, last - 8000))
  return wrk.format(nil, "/topics/" .. topic .. "/partitions/0/records?offset=" .. off .. "&max_bytes=1048576")
end
