"""The History Server's own checks: ``s3a://`` log directory, path-style access, the jar pair matching
the image's Spark, credential references, the ingress path."""

from __future__ import annotations

import re

from ...errors import UsageProblem
from ...results import Check
from ..checking import error, refs, s3_endpoint_problems, warning
from ..s3a import s3a_jars_for
from ..spec import InstallSpec
from .params import Params


def check(params: Params, spec: InstallSpec) -> list[Check]:
    problems: list[Check] = list(refs(params, ["s3_access_key_ref", "s3_secret_key_ref"],
                                        required=["s3_access_key_ref", "s3_secret_key_ref"]))  # fmt: skip
    try:
        s3a_jars_for(params.spark_version)
    except UsageProblem as exc:
        problems.append(error("spark-version", str(exc)))
    tag = params.image.rsplit(":", 1)[1] if ":" in params.image.rsplit("/", 1)[-1] else ""
    match = re.match(r"^v?(\d+\.\d+)", tag)
    if match and not params.spark_version.startswith(match.group(1)):
        problems.append(
            error("image-spark-version", f"image {params.image!r} is Spark {match.group(1)} but spark_version is "
                   f"{params.spark_version}: the hadoop-aws/AWS SDK jars must match the image's Spark",
                   "set spark_version to the image's Spark version")
        )  # fmt: skip
    if not params.log_directory.startswith("s3a://"):
        problems.append(error("log-directory", f"log directory {params.log_directory!r} must use s3a://"))
    if not params.s3_path_style:
        problems.append(
            warning(
                "path-style",
                "s3_path_style is false: MinIO without wildcard DNS needs fs.s3a.path.style.access=true",
            )
        )
    if not params.ui_path.startswith("/") or params.ui_path.rstrip("/") == "":
        problems.append(
            error("ui-path", f"ui_path {params.ui_path!r} must be a path below / (e.g. /spark-history)")
        )
    problems += s3_endpoint_problems(params.s3_endpoint)
    return problems
