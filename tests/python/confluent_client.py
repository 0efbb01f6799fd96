"""Confluent's own Python client against Runnel (issue 5): the schema registry through
`confluent_kafka.schema_registry.SchemaRegistryClient`, and Avro bytes through
`AvroSerializer` / `AvroDeserializer` (fastavro underneath), byte-compatible both ways with
Runnel's gateway.

Run by scripts/python-client.sh, which installs the client and starts the server:
    RUNNEL_URL=http://127.0.0.1:PORT python -m unittest tests/python/confluent_client.py
"""

import base64
import json
import os
import unittest
import urllib.error
import urllib.request

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

URL = os.environ["RUNNEL_URL"].rstrip("/")

ORDER_V1 = json.dumps({
    "type": "record", "name": "Order", "namespace": "shop",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "item", "type": "string"},
        {"name": "price", "type": "double"},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
    ],
})
# Adds a field with a default: BACKWARD compatible.
ORDER_V2 = json.dumps({
    "type": "record", "name": "Order", "namespace": "shop",
    "fields": json.loads(ORDER_V1)["fields"] + [
        {"name": "qty", "type": "int", "default": 1},
    ],
})
# Adds a field without a default: not BACKWARD compatible.
ORDER_BAD = json.dumps({
    "type": "record", "name": "Order", "namespace": "shop",
    "fields": json.loads(ORDER_V1)["fields"] + [{"name": "owner", "type": "string"}],
})


def http(method, path, body=None, content_type="application/json", accept=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(URL + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def create_topic(name):
    _, clusters = http("GET", "/v3/clusters")
    cluster = clusters["data"][0]["cluster_id"]
    status, body = http("POST", f"/v3/clusters/{cluster}/topics",
                        {"topic_name": name, "partitions_count": 1})
    assert status in (200, 201), body


def read(topic, offset, fmt):
    status, body = http("GET", f"/topics/{topic}/partitions/0/records?offset={offset}",
                        accept=f"application/vnd.kafka.{fmt}.v2+json")
    assert status == 200, body
    return body


class RegistryThroughConfluentClient(unittest.TestCase):
    def setUp(self):
        self.sr = SchemaRegistryClient({"url": URL})

    def test_register_lookup_versions_and_compatibility(self):
        subject = "py-orders-value"
        schema_id = self.sr.register_schema(subject, Schema(ORDER_V1, "AVRO"))
        # Idempotent, and the same id under another subject.
        self.assertEqual(self.sr.register_schema(subject, Schema(ORDER_V1, "AVRO")), schema_id)
        self.assertEqual(self.sr.register_schema("py-other-value", Schema(ORDER_V1, "AVRO")),
                         schema_id)
        fetched = self.sr.get_schema(schema_id)
        self.assertEqual(json.loads(fetched.schema_str), json.loads(ORDER_V1))
        self.assertEqual(fetched.schema_type, "AVRO")

        self.assertTrue(self.sr.test_compatibility(subject, Schema(ORDER_V2, "AVRO")))
        self.assertFalse(self.sr.test_compatibility(subject, Schema(ORDER_BAD, "AVRO")))
        v2_id = self.sr.register_schema(subject, Schema(ORDER_V2, "AVRO"))
        self.assertNotEqual(v2_id, schema_id)
        with self.assertRaises(SchemaRegistryError) as e:
            self.sr.register_schema(subject, Schema(ORDER_BAD, "AVRO"))
        self.assertEqual(e.exception.http_status_code, 409)

        latest = self.sr.get_latest_version(subject)
        self.assertEqual((latest.version, latest.schema_id), (2, v2_id))
        self.assertEqual(self.sr.get_versions(subject), [1, 2])
        found = self.sr.lookup_schema(subject, Schema(ORDER_V1, "AVRO"))
        self.assertEqual((found.version, found.schema_id), (1, schema_id))
        self.assertIn(subject, self.sr.get_subjects())

        self.assertEqual(self.sr.set_compatibility(subject, "FULL")["compatibility"], "FULL")
        self.assertEqual(self.sr.get_compatibility(subject), "FULL")

        # Soft delete hides the version, the id still resolves; then permanent.
        self.assertEqual(self.sr.delete_version("py-other-value", 1), 1)
        self.assertEqual(self.sr.get_schema(schema_id).schema_type, "AVRO")
        self.assertEqual(self.sr.delete_subject("py-other-value", permanent=True), [1])
        self.assertNotIn("py-other-value", self.sr.get_subjects())

    def test_errors_arrive_as_schema_registry_errors(self):
        with self.assertRaises(SchemaRegistryError) as e:
            self.sr.get_schema(987654)
        self.assertEqual(e.exception.error_code, 40403)
        with self.assertRaises(SchemaRegistryError) as e:
            self.sr.register_schema("py-invalid-value", Schema('{"type":"nope"}', "AVRO"))
        self.assertEqual(e.exception.error_code, 42201)
        with self.assertRaises(SchemaRegistryError) as e:
            self.sr.get_latest_version("py-never-registered")
        self.assertEqual(e.exception.error_code, 40401)


class AvroBytesBothWays(unittest.TestCase):
    def setUp(self):
        self.sr = SchemaRegistryClient({"url": URL})

    def test_confluent_serializer_bytes_are_read_by_runnel(self):
        topic = "py-serialized"
        create_topic(topic)
        serializer = AvroSerializer(self.sr, ORDER_V1)
        order = {"id": 7, "item": "tea", "price": 2.5, "note": "hot", "tags": ["a", "b"]}
        data = serializer(order, SerializationContext(topic, MessageField.VALUE))
        self.assertEqual(data[0], 0, "Confluent framing: magic byte 0")
        # The raw bytes go in through Runnel's binary produce, untouched.
        status, body = http("POST", f"/topics/{topic}",
                             {"records": [{"value": base64.b64encode(data).decode()}]},
                             content_type="application/vnd.kafka.binary.v2+json")
        self.assertEqual(status, 200, body)
        stored = base64.b64decode(read(topic, 0, "binary")[0]["value"])
        self.assertEqual(stored, data)
        # Runnel decodes them to Avro's JSON encoding (the union tagged).
        value = read(topic, 0, "avro")[0]["value"]
        self.assertEqual(value, {"id": 7, "item": "tea", "price": 2.5,
                                 "note": {"string": "hot"}, "tags": ["a", "b"]})

    def test_runnel_avro_produce_is_read_by_the_confluent_deserializer(self):
        topic = "py-produced"
        create_topic(topic)
        records = [
            {"id": 1, "item": "bread", "price": 3.0, "note": None, "tags": []},
            {"id": 2, "item": "milk", "price": 1.25, "note": {"string": "cold"}, "tags": ["x"]},
        ]
        status, body = http("POST", f"/topics/{topic}",
                            {"value_schema": ORDER_V1, "records": [{"value": r} for r in records]},
                            content_type="application/vnd.kafka.avro.v2+json")
        self.assertEqual(status, 200, body)
        schema_id = body["value_schema_id"]
        self.assertEqual(self.sr.get_latest_version(f"{topic}-value").schema_id, schema_id)
        deserializer = AvroDeserializer(self.sr)
        got = []
        for rec in read(topic, 0, "binary"):
            data = base64.b64decode(rec["value"])
            self.assertEqual(int.from_bytes(data[1:5], "big"), schema_id)
            got.append(deserializer(data, SerializationContext(topic, MessageField.VALUE)))
        self.assertEqual(got, [
            {"id": 1, "item": "bread", "price": 3.0, "note": None, "tags": []},
            {"id": 2, "item": "milk", "price": 1.25, "note": "cold", "tags": ["x"]},
        ])


if __name__ == "__main__":
    unittest.main()
