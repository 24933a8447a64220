"""A small S3 client (httpx + AWS Signature Version 4, path-style) for verification.

Used by ``verify.py`` to check that the MinIO prefixes exist and receive objects, and by the
lab's S3 stand-in (``platform_kb_lab.s3server``) to verify request signatures. boto3 is not a dependency of this
project (botocore pins python-dateutil < 3, which conflicts with the kubernetes client), so the
signing follows the AWS SigV4 specification directly ("Create a canonical request",
"Create a string to sign", "Calculate the signature" in the AWS IAM user guide) and is tested
against signatures botocore produced for the same requests (tests/install/data/sigv4.json).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx

from ..errors import KbError

ALGORITHM = "AWS4-HMAC-SHA256"
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def uri_encode(text: str, safe: str = "-_.~") -> str:
    return quote(text, safe=safe)


def canonical_query(params: Mapping[str, str] | list[tuple[str, str]]) -> str:
    items = params.items() if isinstance(params, Mapping) else params
    return "&".join(f"{uri_encode(k)}={uri_encode(v)}" for k, v in sorted((str(k), str(v)) for k, v in items))


def canonical_request(
    method: str, path: str, query: str, headers: Mapping[str, str], signed: list[str], payload_hash: str
) -> str:
    """The SigV4 canonical request; ``path`` is already URI-encoded (S3: each segment once, ``/`` kept)."""
    lower = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    canonical_headers = "".join(f"{name}:{lower[name]}\n" for name in signed)
    return "\n".join([method, path or "/", query, canonical_headers, ";".join(signed), payload_hash])


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret_key).encode("utf-8"), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def signature(secret_key: str, amz_date: str, region: str, service: str, creq: str) -> str:
    date = amz_date[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(creq.encode("utf-8")).hexdigest()])
    return hmac.new(
        signing_key(secret_key, date, region, service), to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def sign_headers(
    method: str,
    host: str,
    path: str,
    query: str,
    access_key: str,
    secret_key: str,
    region: str,
    body: bytes = b"",
    now: dt.datetime | None = None,
    service: str = "s3",
    extra_headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Headers (``Authorization``, ``x-amz-date``, ``x-amz-content-sha256``, extras) for one request."""
    now = now or dt.datetime.now(dt.UTC)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    payload_hash = hashlib.sha256(body).hexdigest()
    headers = {"host": host, "x-amz-date": amz_date, "x-amz-content-sha256": payload_hash}
    for k, v in (extra_headers or {}).items():
        headers[k.lower()] = v
    signed = sorted(headers)
    creq = canonical_request(method, path, query, headers, signed, payload_hash)
    sig = signature(secret_key, amz_date, region, service, creq)
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    headers["authorization"] = (
        f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={';'.join(signed)}, Signature={sig}"
    )
    return headers


class S3Error(KbError):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"S3 {status} {code}: {message}")
        self.status = status
        self.code = code


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int
    last_modified: str


@dataclass
class S3Client:
    """Path-style S3 requests against ``endpoint`` (``http://127.0.0.1:9000``)."""

    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    timeout: float = 10.0
    _http: httpx.Client | None = field(default=None, repr=False, compare=False)

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(timeout=self.timeout)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _request(
        self, method: str, bucket: str, key: str = "", params: dict[str, str] | None = None, body: bytes = b""
    ) -> httpx.Response:
        url = httpx.URL(self.endpoint)
        path = "/" + uri_encode(bucket, safe="-_.~") if bucket else "/"
        if key:
            path += "/" + uri_encode(key, safe="-_.~/")
        query = canonical_query(params or {})
        host = url.host if url.port in (None, 80, 443) else f"{url.host}:{url.port}"
        headers = sign_headers(method, host, path, query, self.access_key, self.secret_key, self.region, body)
        target = f"{url.scheme}://{host}{path}" + (f"?{query}" if query else "")
        response = self._client().request(method, target, headers=headers, content=body)
        if response.status_code >= 300:
            code, message = _error_fields(response)
            raise S3Error(response.status_code, code, message)
        return response

    def create_bucket(self, bucket: str) -> None:
        self._request("PUT", bucket)

    def head_bucket(self, bucket: str) -> bool:
        try:
            self._request("HEAD", bucket)
        except S3Error as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def put_object(self, bucket: str, key: str, body: bytes) -> None:
        self._request("PUT", bucket, key, body=body)

    def get_object(self, bucket: str, key: str) -> bytes:
        return self._request("GET", bucket, key).content

    def delete_object(self, bucket: str, key: str) -> None:
        self._request("DELETE", bucket, key)

    def list_objects(self, bucket: str, prefix: str = "", max_keys: int = 1000) -> list[S3Object]:
        """ListObjectsV2 (first page)."""
        params = {"list-type": "2", "prefix": prefix, "max-keys": str(max_keys)}
        root = ET.fromstring(self._request("GET", bucket, params=params).content)
        items = root.findall(f"{{{S3_NS}}}Contents") or root.findall("Contents")
        return [
            S3Object(_text(i, "Key"), int(_text(i, "Size") or 0), _text(i, "LastModified")) for i in items
        ]


def _text(node: ET.Element, tag: str) -> str:
    found = node.find(f"{{{S3_NS}}}{tag}")
    if found is None:
        found = node.find(tag)
    return (found.text or "") if found is not None else ""


def _error_fields(response: httpx.Response) -> tuple[str, str]:
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError:
        return str(response.status_code), response.reason_phrase
    return _text(root, "Code") or str(response.status_code), _text(root, "Message")
