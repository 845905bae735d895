#!/usr/bin/env python3
"""Writes tests/fixtures/reference-wire.txt: wire messages encoded by a protobuf implementation
that is not prost, for the Rust tests to decode.

Why: prost's encoder and decoder agreeing with each other says nothing about whether the bytes are
the ones another implementation sends. Here protoc (from grpcio-tools) compiles reference.proto
and ours.proto, written from the issue's field list, and Python's `protobuf` package (its upb
backend, C) encodes messages built from that schema. tests/wire.rs decodes each fixture with
prost and checks every field against the same values written out in Rust; dcsum/tests/messages.rs
checks `dcsum decode`'s JSON against the JSON Python prints for the same bytes (the .proto field
names); dcsum/tests/fuzz_decode.rs mutates them. The tests read the committed file: they need
neither Python nor protoc.

The file has one fixture a line, four tab-separated columns:

    name    protobuf message type (a `dcsum decode --type` name)    hex bytes    JSON

The JSON column is Python's own reading of the bytes as that type (`json_format.MessageToDict`
with the .proto field names and the fields that have no presence printed), so for a fixture whose
bytes a newer or merging sender wrote it is what a receiver of that type sees.

Regenerate (from the repository root):

    python3 -m venv /tmp/wire-fixtures && /tmp/wire-fixtures/bin/pip install protobuf grpcio-tools
    /tmp/wire-fixtures/bin/python comparisons/wire-fixtures/generate.py

`--check` compares instead of writing (exit 1 if the file would change). The values below are
duplicated in the Rust tests on purpose: each side states what it expects.
"""

import argparse
import importlib.metadata
import json
import math
import os
import sys
import tempfile

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.internal import api_implementation
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUTPUT = os.path.join(ROOT, "tests", "fixtures", "reference-wire.txt")
U64_MAX = (1 << 64) - 1


def load_schema():
    """Compiles the .proto files with protoc into a descriptor set and returns a class lookup."""
    with tempfile.TemporaryDirectory() as tmp:
        descriptor_set = os.path.join(tmp, "wire.pb")
        status = protoc.main(
            [
                "protoc",
                f"--proto_path={HERE}",
                f"--descriptor_set_out={descriptor_set}",
                "--include_imports",
                "reference.proto",
                "ours.proto",
            ]
        )
        if status != 0:
            sys.exit(f"protoc failed with status {status}")
        with open(descriptor_set, "rb") as file:
            files = descriptor_pb2.FileDescriptorSet.FromString(file.read())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)

    def message_class(full_name):
        return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))

    return message_class


def fixtures(message_class):
    """(name, dcsum type, bytes, Python's reading of the bytes as that type) for every fixture."""
    R = lambda name: message_class("dcsum.reference." + name)  # noqa: E731
    O = lambda name: message_class("dcsum.ours." + name)  # noqa: E731
    ChangefeedID, DispatcherID, Watermark = R("ChangefeedID"), R("DispatcherID"), R("Watermark")
    TableSpanStatus, RunningError = R("TableSpanStatus"), R("RunningError")
    HeartBeatRequest, ChecksumMeta = R("HeartBeatRequest"), R("ChecksumMeta")
    Checksum = R("DispatcherSetChecksum")

    def status(high, low, state, checkpoint, rate, mode):
        return TableSpanStatus(
            ID=DispatcherID(high=high, low=low),
            component_status=state,
            checkpoint_ts=checkpoint,
            event_size_per_second=rate,
            mode=mode,
        )

    out = []

    def add(name, dcsum_type, message=None, raw=None, reader=None):
        # `raw` is for bytes no single message serializes to (a merge, a newer sender); `reader`
        # is the class that reads them back for the JSON column (default: the message's own).
        data = raw if raw is not None else message.SerializeToString(deterministic=True)
        reader = reader or type(message)
        shown = json_format.MessageToDict(
            reader.FromString(data),
            preserving_proto_field_name=True,
            always_print_fields_with_no_presence=True,
        )
        out.append((name, dcsum_type, data, shown))

    # -- HeartBeatRequest ------------------------------------------------------------------------
    full = HeartBeatRequest(
        changefeedID=ChangefeedID(high=U64_MAX, low=42, name="orders", keyspace="prod"),
        watermark=Watermark(
            checkpointTs=449_000_000_000_000_001,
            resolvedTs=449_000_000_000_000_009,
            seq=7,
            lastSyncedTs=448_999_999_999_999_990,
        ),
        redoWatermark=Watermark(checkpointTs=5, resolvedTs=6, seq=1 << 63, lastSyncedTs=U64_MAX),
        statuses=[
            status(1, 2, 0, 100, 1.5, 0),
            status(U64_MAX, 0, 1, 101, 0.25, 1),
            status(0, U64_MAX, 6, U64_MAX, 3.25e6, 0),
        ],
        compeleteStatus=True,
        err=RunningError(
            time="2026-03-01T12:00:00Z", node="node-3", code="CDC:ErrSinkFailure",
            message="sink: connection refused",
        ),
        checksumState=2,
        redoChecksumState=1,
        checksumStateSeq=12,
        redoChecksumStateSeq=1 << 63,
    )
    add("heartbeat-full", "HeartBeatRequest", full)
    add("heartbeat-empty", "HeartBeatRequest", HeartBeatRequest())
    # A watermark present with every field zero: two bytes (field 2, length 0), not absent.
    empty_watermark = HeartBeatRequest(checksumState=2, checksumStateSeq=1)
    empty_watermark.watermark.SetInParent()
    add("heartbeat-zero-watermark", "HeartBeatRequest", empty_watermark)
    add(
        "heartbeat-edge",
        "HeartBeatRequest",
        HeartBeatRequest(
            changefeedID=ChangefeedID(name="订单-ü-🚀", keyspace=""),
            statuses=[status(3, 4, 9, 0, 0.25, -1)],  # 9: no such ComponentState; mode -1
            checksumState=7,  # no such ChecksumState: open enums keep the number
            redoChecksumState=-3,  # negative: a ten-byte varint
            checksumStateSeq=U64_MAX,
        ),
    )
    # Two messages back to back are one merged message: scalars last-wins, sub-messages merge
    # field by field, repeated fields append.
    first = HeartBeatRequest(
        changefeedID=ChangefeedID(high=1, name="first"),
        watermark=Watermark(checkpointTs=5, seq=1),
        statuses=[status(1, 1, 0, 10, 0.0, 0)],
        checksumState=2,
        checksumStateSeq=4,
    )
    second = HeartBeatRequest(
        changefeedID=ChangefeedID(low=2, name="second"),
        watermark=Watermark(resolvedTs=9),
        statuses=[status(2, 2, 3, 20, 0.0, 1)],
        checksumStateSeq=5,
        compeleteStatus=True,
    )
    add(
        "heartbeat-merged",
        "HeartBeatRequest",
        raw=first.SerializeToString(deterministic=True) + second.SerializeToString(deterministic=True),
        reader=HeartBeatRequest,
    )
    future = O("HeartBeatRequestWithFutureFields")(
        changefeedID=ChangefeedID(high=9, low=8, name="next", keyspace="ks"),
        watermark=Watermark(checkpointTs=77, resolvedTs=78, seq=2, lastSyncedTs=76),
        statuses=[status(5, 6, 2, 70, 12.5, 0)],
        checksumState=2,
        checksumStateSeq=3,
        futureNote="skip me",
        futureCounters=[1, 2, 0xFFFFFFFF],
        futureStamp=U64_MAX,
        futureWatermark=Watermark(checkpointTs=1),
        futureDelta=-5,
    )
    add(
        "heartbeat-future-fields",
        "HeartBeatRequest",
        raw=future.SerializeToString(deterministic=True),
        reader=HeartBeatRequest,
    )

    # -- The small reference messages ------------------------------------------------------------
    add("checksum-meta", "ChecksumMeta", ChecksumMeta(state=2, checksumStateSeq=99))
    add("checksum-meta-mismatch", "ChecksumMeta", ChecksumMeta(state=1, checksumStateSeq=0))
    add(
        "watermark-max",
        "Watermark",
        Watermark(checkpointTs=U64_MAX, resolvedTs=U64_MAX, seq=U64_MAX, lastSyncedTs=U64_MAX),
    )
    add("status-nan", "TableSpanStatus", status(1, 2, 4, 3, math.nan, 0))
    add("status-infinity", "TableSpanStatus", status(1, 2, 5, 3, math.inf, 1))
    add("status-negative-infinity", "TableSpanStatus", status(1, 2, 0, 3, -math.inf, 0))
    add("status-negative-zero", "TableSpanStatus", status(1, 2, 0, 3, -0.0, 0))
    add("status-subnormal", "TableSpanStatus", status(0, 0, 0, 0, 2.0**-149, 0))
    add("status-max", "TableSpanStatus", status(0, 0, 0, 0, 3.4028234663852886e38, 0))
    add("dispatcher-id", "DispatcherID", DispatcherID(high=0x0123456789ABCDEF, low=U64_MAX))
    add("changefeed-id", "ChangefeedID", ChangefeedID(high=1, low=2, name="cf", keyspace="default"))
    add(
        "running-error",
        "RunningError",
        RunningError(time="t", node="节点", code="E1", message="line one\nline \"two\"\t"),
    )
    add(
        "checksum",
        "DispatcherSetChecksum",
        Checksum(count=3, xorHigh=0xDEADBEEF, xorLow=1 << 63, sumHigh=7, sumLow=U64_MAX),
    )
    add(
        "update",
        "DispatcherSetChecksumUpdateRequest",
        R("DispatcherSetChecksumUpdateRequest")(
            changefeedID=ChangefeedID(high=U64_MAX, low=42, name="orders", keyspace="prod"),
            epoch=9,
            mode=1,
            seq=12,
            checksum=Checksum(count=3, xorHigh=0xDEADBEEF, xorLow=1 << 63, sumHigh=7, sumLow=U64_MAX),
        ),
    )
    add(
        "ack-reference",
        "DispatcherSetChecksumAckResponse",
        R("DispatcherSetChecksumAckResponse")(
            changefeedID=ChangefeedID(high=1, low=2), epoch=3, mode=-1, seq=4
        ),
    )

    # -- Ours --------------------------------------------------------------------------------------
    add(
        "ack-ours",
        "DispatcherSetChecksumAckResponse",
        O("DispatcherSetChecksumAckResponse")(
            changefeedID=ChangefeedID(high=1, low=2), epoch=3, mode=0, seq=4, incarnation=1 << 40
        ),
    )
    add(
        "heartbeat-ours-match",
        "DispatcherSetChecksumHeartbeat",
        O("DispatcherSetChecksumHeartbeat")(
            changefeedID=ChangefeedID(high=5, name="orders"),
            mode=1,
            state=2,
            stateSeq=3,
            watermark=0,  # proto3 `optional`: present although zero
            node=8,
            verifiedEpoch=6,
            verifiedSeq=2,
            seq=77,
            incarnation=1_733_000_000_000,
            actual=Checksum(count=1, xorHigh=2, xorLow=3, sumHigh=4, sumLow=5),
        ),
    )
    add(
        "heartbeat-ours-mismatch",
        "DispatcherSetChecksumHeartbeat",
        O("DispatcherSetChecksumHeartbeat")(state=1, stateSeq=4, node=0xFFFFFFFF, seq=1),
    )
    add(
        "sketch-request",
        "DispatcherSetSketchRequest",
        O("DispatcherSetSketchRequest")(epoch=3, mode=1, seq=9, node=7, sketch=bytes(range(256))),
    )
    add(
        "sketch-response",
        "DispatcherSetSketchResponse",
        O("DispatcherSetSketchResponse")(
            changefeedID=ChangefeedID(name="x"), epoch=4, seq=2, node=1, sketch=b""
        ),
    )
    return out


def render(rows):
    versions = (
        f"protobuf {importlib.metadata.version('protobuf')} "
        f"(backend {api_implementation.Type()}), "
        f"grpcio-tools {importlib.metadata.version('grpcio-tools')}"
    )
    lines = [
        "# Wire fixtures made by an independent protobuf implementation; do not edit by hand.",
        "# Written by comparisons/wire-fixtures/generate.py from reference.proto and ours.proto,",
        f"# with Python {sys.version.split()[0]}, {versions}.",
        "# Columns (tab-separated): name, message type, hex bytes, Python's JSON reading of them.",
    ]
    for name, dcsum_type, data, shown in rows:
        text = json.dumps(shown, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        lines.append("\t".join([name, dcsum_type, data.hex(), text]))
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    text = render(fixtures(load_schema()))
    if args.check:
        with open(OUTPUT, encoding="utf-8") as file:
            current = file.read()
        # The header names the versions that wrote the file; a different toolchain that writes
        # the same fixtures passes.
        strip = lambda t: [l for l in t.splitlines() if not l.startswith("#")]  # noqa: E731
        if strip(current) != strip(text):
            sys.exit(f"{OUTPUT} is out of date: run {sys.argv[0]} without --check")
        print(f"{OUTPUT}: up to date")
        return
    with open(OUTPUT, "w", encoding="utf-8") as file:
        file.write(text)
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
