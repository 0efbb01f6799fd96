-- 500 records per request, each value the JSON object {"msg": "<91 x>"} (about 100 bytes as
-- JSON, 96 as framed Avro). FORMAT=json (default) sends it in the json embedded format; FORMAT=avro
-- in the avro format with VALUE_SCHEMA_ID naming a registered record schema with one string field.
local format = os.getenv("FORMAT") or "json"
local record = '{"value":{"msg":"' .. string.rep("x", 91) .. '"}}'
local records = {}
for i = 1, 500 do records[i] = record end
wrk.method = "POST"
if format == "avro" then
  wrk.headers["Content-Type"] = "application/vnd.kafka.avro.v2+json"
  wrk.body = '{"value_schema_id":' .. os.getenv("VALUE_SCHEMA_ID") .. ',"records":[' .. table.concat(records, ",") .. ']}'
else
  wrk.headers["Content-Type"] = "application/vnd.kafka.json.v2+json"
  wrk.body = '{"records":[' .. table.concat(records, ",") .. ']}'
end
