#!/usr/bin/env bash
# Property-based tests of the HTTP API against its own OpenAPI document: schemathesis (PyPI)
# generates requests from /openapi.json, valid and invalid, and checks every answer: no 5xx, a
# documented status, a documented content type and a body matching the documented schema.
#
# Starts target/debug/runnel (build it first: cargo build -p runnel --bin runnel) on a free port
# with a temporary data dir, creates topics so the happy paths exist, runs schemathesis, stops
# the server. Installs schemathesis with pip when it is missing.
#
# Env: ST_MAX_EXAMPLES (default 50), ST_WORKERS (default 1: Python 3.11's `ast` is not
# thread-safe and hypothesis parses lambdas with it), ST_SEED (default random), RUNNEL_BIN
# (default $CARGO_TARGET_DIR/debug/runnel, target/ without it). The server log is kept in target/schemathesis/.
set -euo pipefail
cd "$(dirname "$0")/.."

ST_REQUIREMENT='schemathesis>=4.32,<5'
ST_MAX_EXAMPLES="${ST_MAX_EXAMPLES:-50}"
ST_WORKERS="${ST_WORKERS:-1}"
RUNNEL_BIN="${RUNNEL_BIN:-${CARGO_TARGET_DIR:-target}/debug/runnel}"

if ! python3 - <<'EOF' 2>/dev/null; then
import sys
from importlib.metadata import version
major, minor = (int(x) for x in version("schemathesis").split(".")[:2])
sys.exit(0 if major == 4 and minor >= 32 else 1)
EOF
  echo "installing $ST_REQUIREMENT"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "$ST_REQUIREMENT"
fi

source scripts/lib-server.sh
# Small preallocated indexes (10 MiB each by default): topics created here must not fill the disk.
start_runnel RUNNEL_TOPIC_DEFAULTS_SEGMENT_INDEX_BYTES=4096
cluster_id="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["cluster_id"])' "$work/ready.json")"

# Topics for the happy paths: schemathesis picks these names (and the cluster id) for path
# parameters part of the time, random ones otherwise. "doomed" is the only topic DELETE may pick.
for topic in orders events doomed; do
  curl -fsS -o /dev/null -X POST "$base/v3/clusters/$cluster_id/topics" \
    -H 'Content-Type: application/json' \
    -d "{\"topic_name\": \"$topic\", \"partitions_count\": 2}"
done
curl -fsS -o /dev/null -X POST "$base/topics/orders" \
  -H 'Content-Type: application/vnd.kafka.json.v2+json' \
  -d '{"records": [{"key": "k", "value": {"n": 1}}, {"value": [1, 2]}, {"value": "three"}]}'

cat >"$work/schemathesis.toml" <<EOF
[dictionaries.clusters]
values = ["$cluster_id"]

[dictionaries.topics]
values = ["orders", "events"]

[dictionaries.doomed]
values = ["doomed"]

[dictionaries.partitions]
values = [0, 1]

[dictionaries.brokers]
values = [1]

[dictionaries.config-names]
values = ["retention.ms", "cleanup.policy", "log.retention.ms", "log.segment.bytes"]

[dictionaries.small-counts]
values = [1, 2, 3, 8]

# The checks live here rather than on the command line: a --checks list would override the
# per-operation exception below.
[checks]
enabled = false
not_a_server_error = { enabled = true }
status_code_conformance = { enabled = true }
content_type_conformance = { enabled = true }
response_schema_conformance = { enabled = true }
negative_data_rejection = { enabled = true }

[parameters]
"path.cluster_id" = { dictionary = "clusters", probability = 0.9 }
"path.partition" = { dictionary = "partitions", probability = 0.5 }
"path.broker_id" = { dictionary = "brokers", probability = 0.7 }
"path.name" = { dictionary = "config-names", probability = 0.5 }

# Existing topics for every operation but DELETE, which may only pick "doomed": the others
# keep their topics.
[[operations]]
exclude-operation-id = "v3_delete_topic"
parameters = { "path.topic" = { dictionary = "topics", probability = 0.6 } }

[[operations]]
include-operation-id = "v3_delete_topic"
parameters = { "path.topic" = { dictionary = "doomed", probability = 0.5 } }

# Partition counts stay small: near the 10000 maximum a topic holds tens of thousands of files
# open and takes minutes to create on this machine (a resource limit, not an API question), so
# these two skip the boundary-value and stateful phases and fuzz with small valid counts.
[[operations]]
include-operation-id = ["v3_create_topic", "v3_update_partitions_count"]
phases = { coverage = { enabled = false }, stateful = { enabled = false } }
parameters = { "body.partitions_count" = { dictionary = "small-counts", probability = 1.0 } }

# records:batch judges each entry on its own and reports a bad one inside the 207 with the
# others' results (Confluent's multi-status contract): a batch holding an invalid entry is
# answered, not rejected, so "negative data is rejected" does not apply to this operation.
[[operations]]
include-operation-id = "v3_produce_batch"
checks = { negative_data_rejection = { enabled = false } }

# A read at the log end long-polls up to 30 s by design; keep the waits short here.
[[operations]]
include-operation-id = "read_records"
parameters = { "query.timeout" = 5 }
EOF

seed_args=()
[ -n "${ST_SEED:-}" ] && seed_args=(--seed "$ST_SEED")
start=$SECONDS
status=0
# From the temp dir: schemathesis keeps its state in ./.schemathesis.
(cd "$work" && schemathesis --config-file "$work/schemathesis.toml" run "$base/openapi.json" \
  --max-examples "$ST_MAX_EXAMPLES" \
  --workers "$ST_WORKERS" \
  --request-timeout 10 \
  --generation-database none \
  --no-color \
  --suppress-health-check all \
  "${seed_args[@]}") || status=$?
echo "schemathesis took $((SECONDS - start)) s"
mkdir -p target/schemathesis
cp "$work/server.log" target/schemathesis/server.log
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 30 lines; all of it in target/schemathesis/server.log) ---" >&2
  tail -n 30 "$work/server.log" >&2
fi
exit "$status"
