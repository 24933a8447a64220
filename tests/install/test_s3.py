"""The SigV4 S3 client (checked against botocore's signatures) and the lab's S3 stand-in for MinIO."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import httpx
import pytest

from platform_kb.install import s3, verify
from platform_kb.install.s3 import S3Client, S3Error

from .conftest import ACCESS_KEY, DATA, SECRET_KEY, S3Lab


def test_signatures_match_botocore() -> None:
    vectors = json.loads((DATA / "sigv4.json").read_text())
    assert "botocore" in vectors["source"]
    for case in vectors["cases"]:
        when = dt.datetime.strptime(case["amz_date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        headers = s3.sign_headers(
            case["method"], case["host"], case["path"], case["query"], "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", case["body"].encode(), when,
        )  # fmt: skip
        assert headers["authorization"] == case["authorization"], case["path"]


def test_s3lab_round_trip_and_listing(s3lab: S3Lab) -> None:
    client = S3Client(s3lab.url, ACCESS_KEY, SECRET_KEY)
    assert client.head_bucket("datalake") and not client.head_bucket("missing")
    client.put_object("datalake", "logs/airflow-logs/dag_id=etl/run_id=1/task_id=t/attempt=1.log", b"line\n")
    client.put_object("datalake", "logs/spark-log/app-1", b"{}\n")
    client.put_object("datalake", "logs/spark-log/", b"")  # a directory marker, as S3A writes them
    keys = [o.key for o in client.list_objects("datalake", "logs/")]
    assert keys == [
        "logs/airflow-logs/dag_id=etl/run_id=1/task_id=t/attempt=1.log",
        "logs/spark-log/",
        "logs/spark-log/app-1",
    ]
    assert client.get_object("datalake", "logs/spark-log/app-1") == b"{}\n"
    client.delete_object("datalake", "logs/spark-log/app-1")
    assert [o.key for o in client.list_objects("datalake", "logs/spark-log/")] == ["logs/spark-log/"]
    with pytest.raises(S3Error, match="NoSuchKey"):
        client.get_object("datalake", "nope")
    with pytest.raises(S3Error, match="NoSuchBucket"):
        client.list_objects("other")
    # objects are plain files: a prefix can be another directory (the lab maps its event logs so)
    assert (
        s3lab.root
        / "datalake"
        / "logs"
        / "airflow-logs"
        / "dag_id=etl"
        / "run_id=1"
        / "task_id=t"
        / "attempt=1.log"
    ).is_file()


def test_s3lab_refuses_wrong_credentials_like_minio(s3lab: S3Lab) -> None:
    with pytest.raises(S3Error) as exc:
        S3Client(s3lab.url, ACCESS_KEY, "wrong-secret").list_objects("datalake")
    assert exc.value.status == 403 and exc.value.code == "SignatureDoesNotMatch"
    with pytest.raises(S3Error) as exc:
        S3Client(s3lab.url, "AKIAUNKNOWN", SECRET_KEY).list_objects("datalake")
    assert exc.value.code == "InvalidAccessKeyId"
    assert httpx.get(f"{s3lab.url}/datalake").status_code == 403  # unsigned


def test_s3lab_decodes_aws_chunked_uploads() -> None:
    body = b"5;chunk-signature=abc\r\nhello\r\n0;chunk-signature=def\r\n\r\n"
    from platform_kb_lab.s3server import _decode_chunked

    assert _decode_chunked(body) == b"hello"


def test_verify_prefix_checks(s3lab: S3Lab) -> None:
    client = S3Client(s3lab.url, ACCESS_KEY, SECRET_KEY)
    empty = verify.s3_prefix(client, "datalake", "logs/airflow-logs/", "airflow logs", require_objects=False)
    assert not empty.ok and empty.severity == "warning" and "holds no objects yet" in empty.detail
    assert not verify.s3_prefix(client, "nobucket", "x/", "t").ok
    probe = verify.s3_probe_write(client, "datalake", "logs/airflow-logs/", "write")
    assert probe.ok and probe.detail == "write/read/delete ok"
    assert client.list_objects("datalake", "logs/airflow-logs/") == []  # the probe cleaned up
    client.put_object("datalake", "logs/spark-log/app-1", b"x")
    present = verify.s3_prefix(client, "datalake", "logs/spark-log/", "spark logs")
    assert present.ok and present.evidence["objects"] == "1"
    before = {"logs/spark-log/app-1"}
    assert not verify.s3_new_objects(
        client, "datalake", "logs/spark-log/", before, "receives", timeout=0.5
    ).ok
    client.put_object("datalake", "logs/spark-log/app-2", b"x")
    started = time.monotonic()
    got = verify.s3_new_objects(client, "datalake", "logs/spark-log/", before, "receives", timeout=10)
    assert got.ok and "app-2" in got.detail and time.monotonic() - started < 5
    bad = verify.s3_probe_write(S3Client(s3lab.url, ACCESS_KEY, "wrong"), "datalake", "logs/x/", "write")
    assert not bad.ok and "SignatureDoesNotMatch" in bad.detail


def test_s3lab_needs_the_secret_from_the_environment(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "platform_kb_lab.s3server", "--port", "1", "--root", str(tmp_path), "--access-key", "a"],
        capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin"}, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "S3LAB_SECRET_KEY" in done.stderr
