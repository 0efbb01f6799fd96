-- One record per request, each connection pausing between requests: with -c C and
-- PACE_MS=d the offered load is about C*1000/d requests/s (wrk has no rate option).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/vnd.kafka.json.v2+json"
wrk.body = '{"records": [{"value": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}]}'
local pace = tonumber(os.getenv("PACE_MS") or "1")
function delay() return pace end
