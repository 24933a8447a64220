"""The lab's S3 endpoint standing in for MinIO (a stand-in, not MinIO).

Where it sits: the lab has no MinIO server (not installable here) and moto's S3 server cannot be
installed next to the kubernetes client (botocore pins python-dateutil < 3, kubernetes 37 needs
>= 3), so verification runs against this small path-style S3 server instead. It implements the
part of the S3 REST API the install runbooks and their verification use — ListBuckets,
CreateBucket, HeadBucket, ListObjectsV2 (prefix, max-keys), PutObject (also ``aws-chunked``
bodies), GetObject, HeadObject, DeleteObject — stores objects as files under ``--root`` and
checks every request's SigV4 signature (403 ``SignatureDoesNotMatch`` / ``InvalidAccessKeyId``),
so wrong credentials fail here the way they fail on MinIO.

Run: ``S3LAB_SECRET_KEY=... python -m platform_kb_lab.s3server --port N --root DIR --access-key AK
[--bucket datalake]``. Tests start it with ``platform_kb.processes.spawn`` and stop it by pid.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import re
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit
from xml.sax.saxutils import escape

from platform_kb.install.s3 import S3_NS, canonical_query, canonical_request, signature

_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})"
)
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


DIR_MARKER = ".s3lab-dir"  # the file that stands for a "folder/" key (S3A creates such markers)
TMP_PREFIX = ".s3lab-tmp-"


class Store:
    """Buckets are directories and objects plain files (``/`` in keys become subdirectories).

    Plain files let a prefix be *another* directory: the lab tests link
    ``<root>/datalake/logs/spark-log`` to the lab's event-log directory, so event logs the lab's
    drivers write show up as objects, as they would on MinIO.
    """

    def __init__(self, root: Path):
        self.root = root
        self.lock = threading.Lock()

    def bucket(self, name: str) -> Path:
        return self.root / name

    def object_path(self, bucket: str, key: str) -> Path:
        parts = key.split("/")
        if key.startswith("/") or any(p in ("..", ".") for p in parts) or "" in parts[:-1]:
            raise ValueError(key)
        if key.endswith("/"):
            return self.root / bucket / key / DIR_MARKER
        return self.root / bucket / key

    def keys(self, bucket: str) -> list[tuple[str, Path]]:
        base = self.root / bucket
        out = []
        for folder, _dirs, files in os.walk(base, followlinks=True):
            rel = Path(folder).relative_to(base).as_posix()
            prefix = "" if rel == "." else rel + "/"
            for name in files:
                if name.startswith(TMP_PREFIX):
                    continue
                key = prefix if name == DIR_MARKER else prefix + name
                if key:
                    out.append((key, Path(folder) / name))
        return sorted(out)


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _decode_chunked(body: bytes) -> bytes:
    """``aws-chunked`` content: ``<hex size>[;chunk-signature=...]\\r\\n<data>\\r\\n`` ... ``0...``."""
    out, pos = bytearray(), 0
    while pos < len(body):
        end = body.index(b"\r\n", pos)
        size = int(body[pos:end].split(b";", 1)[0], 16)
        pos = end + 2
        if size == 0:
            break
        out += body[pos : pos + size]
        pos += size + 2
    return bytes(out)


def make_handler(store: Store, access_key: str, secret_key: str):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "platform-kb-s3lab"

        def log_message(self, fmt: str, *args: object) -> None:  # quiet; the log holds errors only
            pass

        # --- plumbing
        def _send(
            self, status: int, body: bytes = b"", ctype: str = "application/xml", headers: dict | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amz-request-id", "s3lab")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, status: int, code: str, message: str) -> None:
            xml = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>'
            self._send(status, xml.encode())

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _authorized(self, body: bytes) -> bool:
            header = self.headers.get("Authorization", "")
            match = _AUTH.match(header)
            if not match:
                self._error(403, "AccessDenied", "a SigV4 Authorization header is required")
                return False
            key, _date, region, signed, sig = match.groups()
            if key != access_key:
                self._error(
                    403,
                    "InvalidAccessKeyId",
                    "The AWS Access Key Id you provided does not exist in our records.",
                )
                return False
            split = urlsplit(self.path)
            query = canonical_query(parse_qsl(split.query, keep_blank_values=True))
            names = signed.split(";")
            headers = {n: self.headers.get(n, "") for n in names}
            payload = self.headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
            creq = canonical_request(self.command, split.path, query, headers, names, payload)
            expected = signature(secret_key, self.headers.get("x-amz-date", ""), region, "s3", creq)
            if expected != sig:
                self._error(
                    403,
                    "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided.",
                )
                return False
            return True

        def _route(self) -> tuple[str, str, dict[str, str]]:
            split = urlsplit(self.path)
            parts = split.path.lstrip("/").split("/", 1)
            bucket = unquote(parts[0]) if parts and parts[0] else ""
            key = unquote(parts[1]) if len(parts) > 1 else ""
            return bucket, key, dict(parse_qsl(split.query, keep_blank_values=True))

        def _handle(self) -> None:
            body = self._body() if self.command in ("PUT", "POST") else b""
            if not self._authorized(body):
                return
            bucket, key, query = self._route()
            try:
                if not bucket:
                    return self._list_buckets()
                if not key:
                    return self._bucket_op(bucket, query)
                return self._object_op(bucket, key, body)
            except ValueError:
                return self._error(400, "InvalidArgument", "bad key")

        do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _handle

        # --- operations
        def _list_buckets(self) -> None:
            items = "".join(
                f"<Bucket><Name>{escape(p.name)}</Name><CreationDate>{_iso(p.stat().st_mtime)}</CreationDate></Bucket>"
                for p in sorted(store.root.iterdir()) if p.is_dir()
            )  # fmt: skip
            xml = f'<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult xmlns="{S3_NS}"><Owner><ID>lab</ID></Owner><Buckets>{items}</Buckets></ListAllMyBucketsResult>'
            self._send(200, xml.encode())

        def _bucket_op(self, bucket: str, query: dict[str, str]) -> None:
            path = store.bucket(bucket)
            if self.command == "PUT":
                if not _BUCKET.match(bucket):
                    return self._error(400, "InvalidBucketName", "The specified bucket is not valid.")
                if path.is_dir():
                    return self._error(
                        409,
                        "BucketAlreadyOwnedByYou",
                        "Your previous request to create the named bucket succeeded.",
                    )
                path.mkdir(parents=True)
                return self._send(200, headers={"Location": f"/{bucket}"})
            if not path.is_dir():
                return self._error(404, "NoSuchBucket", "The specified bucket does not exist")
            if self.command == "HEAD":
                return self._send(200)
            if self.command == "DELETE":
                if any(path.iterdir()):
                    return self._error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty")
                path.rmdir()
                return self._send(204)
            if self.command == "GET":
                return self._list_objects(bucket, query)
            return self._error(405, "MethodNotAllowed", self.command)

        def _list_objects(self, bucket: str, query: dict[str, str]) -> None:
            prefix = query.get("prefix", "")
            max_keys = int(query.get("max-keys") or 1000)
            delimiter = query.get("delimiter", "")
            contents, prefixes = [], []
            for key, path in store.keys(bucket):
                if not key.startswith(prefix):
                    continue
                rest = key[len(prefix) :]
                if delimiter and delimiter in rest:
                    common = prefix + rest.split(delimiter, 1)[0] + delimiter
                    if common not in prefixes:
                        prefixes.append(common)
                    continue
                stat = path.stat()
                contents.append(
                    f"<Contents><Key>{escape(key)}</Key><LastModified>{_iso(stat.st_mtime)}</LastModified>"
                    f'<ETag>"{hashlib.md5(path.read_bytes()).hexdigest()}"</ETag><Size>{stat.st_size}</Size>'
                    "<StorageClass>STANDARD</StorageClass></Contents>"
                )
            truncated = len(contents) > max_keys
            contents = contents[:max_keys]
            common_xml = "".join(
                f"<CommonPrefixes><Prefix>{escape(p)}</Prefix></CommonPrefixes>" for p in prefixes
            )
            xml = (
                f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="{S3_NS}"><Name>{escape(bucket)}</Name>'
                f"<Prefix>{escape(prefix)}</Prefix><KeyCount>{len(contents) + len(prefixes)}</KeyCount>"
                f"<MaxKeys>{max_keys}</MaxKeys><IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"
                f"{''.join(contents)}{common_xml}</ListBucketResult>"
            )
            self._send(200, xml.encode())

        def _object_op(self, bucket: str, key: str, body: bytes) -> None:
            if not store.bucket(bucket).is_dir():
                return self._error(404, "NoSuchBucket", "The specified bucket does not exist")
            path = store.object_path(bucket, key)
            if self.command == "PUT" and path.is_dir():
                return self._error(409, "InvalidRequest", "a prefix of that name already holds objects")
            if self.command == "PUT":
                if "aws-chunked" in (self.headers.get("Content-Encoding") or "") or (
                    self.headers.get("x-amz-content-sha256", "").startswith("STREAMING-")
                ):
                    body = _decode_chunked(body)
                with store.lock:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_name(TMP_PREFIX + path.name)
                    tmp.write_bytes(body)
                    tmp.replace(path)
                return self._send(200, headers={"ETag": f'"{hashlib.md5(body).hexdigest()}"'})
            if self.command == "DELETE":
                path.unlink(missing_ok=True)
                return self._send(204)
            if not path.is_file():
                return self._error(404, "NoSuchKey", "The specified key does not exist.")
            data = path.read_bytes()
            headers = {
                "ETag": f'"{hashlib.md5(data).hexdigest()}"',
                "Last-Modified": formatdate(path.stat().st_mtime, usegmt=True),
            }
            if self.command == "HEAD":
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                return None
            return self._send(200, data, "application/octet-stream", headers)

    return Handler


def serve(host: str, port: int, root: Path, access_key: str, secret_key: str, buckets: list[str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for bucket in buckets:
        (root / bucket).mkdir(exist_ok=True)
    server = ThreadingHTTPServer((host, port), make_handler(Store(root), access_key, secret_key))
    server.daemon_threads = True
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m platform_kb_lab.s3server", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--access-key", required=True)
    parser.add_argument(
        "--bucket", action="append", default=[], help="create this bucket at start (repeatable)"
    )
    args = parser.parse_args(argv)
    secret = os.environ.get("S3LAB_SECRET_KEY")
    if not secret:
        parser.error("set S3LAB_SECRET_KEY (the secret key is never taken from the command line)")
    serve(args.host, args.port, args.root, args.access_key, secret, args.bucket)


if __name__ == "__main__":
    main()
