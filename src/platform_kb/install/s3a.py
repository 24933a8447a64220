"""The S3A jars: the hadoop-aws jar and AWS SDK bundle that match one Spark line (upstream-facts §5).

Used by the History Server's manifests (``history/render.py``: no official chart exists, so this pairing
is the upstream fact it pins) and by the smoke SparkApplication that writes event logs to MinIO.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageProblem


@dataclass(frozen=True)
class S3AJars:
    """The hadoop-aws jar and the AWS SDK bundle that match one Spark line (never mix Hadoop versions)."""

    spark_line: str
    hadoop_aws: str  # org.apache.hadoop:hadoop-aws:<v>
    sdk_group: str
    sdk_artifact: str
    sdk_version: str

    def maven_paths(self) -> tuple[str, str]:
        """Paths under a Maven repository root (``https://repo1.maven.org/maven2``)."""
        hadoop = f"org/apache/hadoop/hadoop-aws/{self.hadoop_aws}/hadoop-aws-{self.hadoop_aws}.jar"
        group = self.sdk_group.replace(".", "/")
        sdk = f"{group}/{self.sdk_artifact}/{self.sdk_version}/{self.sdk_artifact}-{self.sdk_version}.jar"
        return hadoop, sdk

    def jar_names(self) -> tuple[str, str]:
        return (f"hadoop-aws-{self.hadoop_aws}.jar", f"{self.sdk_artifact}-{self.sdk_version}.jar")


# Spark 3.5 ships Hadoop 3.3.4 (AWS SDK v1), Spark 4.0 ships Hadoop 3.4.1 (AWS SDK v2).
# hadoop-aws must equal the Hadoop version of the Spark distribution; the SDK bundle is the one
# that hadoop-aws release was built against (hadoop-project/pom.xml of that Hadoop tag).
S3A_JARS: dict[str, S3AJars] = {
    "3.5": S3AJars("3.5", "3.3.4", "com.amazonaws", "aws-java-sdk-bundle", "1.12.262"),
    "4.0": S3AJars("4.0", "3.4.1", "software.amazon.awssdk", "bundle", "2.24.6"),
}


def s3a_jars_for(spark_version: str) -> S3AJars:
    """The jar pair for ``spark_version`` (``"4.0.1"`` -> the 4.0 line); a UsageProblem for an unknown line."""
    parts = spark_version.strip().split(".")
    line = ".".join(parts[:2])
    if len(parts) < 2 or line not in S3A_JARS:
        known = ", ".join(sorted(S3A_JARS))
        raise UsageProblem(
            f"spark_version {spark_version!r}: no known hadoop-aws / AWS SDK pairing for this Spark line "
            f"(known: {known}); add one to platform_kb.install.s3a.S3A_JARS"
        )
    return S3A_JARS[line]
