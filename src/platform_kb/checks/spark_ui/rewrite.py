"""Spark UI causes in the Ingress's rewrite: ``missing-rewrite``, ``rewrite-to-single-target``,
``x-forwarded-prefix-ignored`` and the follow-up ``redirect-loop`` no known cause explains.

kubernetes/ingress-nginx ``internal/ingress/controller/template/template.go`` (the rewrite rule),
apache/spark ``core/src/main/scala/org/apache/spark/ui/UIUtils.scala`` and ``JettyUtils.scala``
(the prefix Spark puts in front of links and redirects).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ...remedies import Remedy
from ...results import Check
from .fixes import annotation_source, ingress_target, rewrite_remedy
from .model import (
    CAPTURE_SUFFIX,
    FORWARDED_PREFIX_ANNOTATION,
    PROXY_BASE,
    REWRITE_ANNOTATION,
    Observations,
)
from .present import annotations_text, shown
from .verdict import now_or_none


def _jobs_loop_text(obs: Observations) -> str:
    if obs.jobs is None:
        return ""
    loop = (
        obs.jobs.redirect
        and obs.jobs.location
        and urlsplit(obs.jobs.location).path == urlsplit(obs.jobs.url).path
    )
    return obs.jobs.evidence() + (" (자기 자신으로 리다이렉트: 무한 반복)" if loop else "")


def check_missing_rewrite(obs: Observations) -> Check | None:
    ingress = obs.ingress
    if ingress is None or not ingress.has_prefix or ingress.rewrite_target is not None:
        return None
    if obs.ui_works():
        return None
    evidence: dict[str, Any] = {
        "Ingress 경로": f"{ingress.path} ({ingress.main.path_type or '-'})",
        "Ingress annotations": annotations_text(ingress.annotations),
        REWRITE_ANNOTATION: "(없음)",
    }
    if obs.prefix is not None:
        evidence[f"GET {obs.prefix.path}"] = obs.prefix.evidence()
    if obs.jobs is not None:
        evidence[f"GET {obs.jobs.path}"] = _jobs_loop_text(obs)
    if obs.page is not None:
        evidence["브라우저처럼 따라간 경로"] = obs.page.navigation.evidence()
    prefix = ingress.url_path
    return Check(
        id="missing-rewrite",
        status="error",
        title=f"Ingress 경로 `{ingress.path}`에 접두사가 있는데 rewrite-target이 없습니다",
        detail=(
            "rewrite-target이 없으면 ingress-nginx는 `/spark-ui/...` 경로를 그대로 드라이버에 넘깁니다. Spark UI에는 그런 "
            "경로가 없어서 모르는 경로를 `<proxyBase>/jobs/`로 돌려보내고, 그 주소가 다시 같은 규칙으로 들어와 "
            "리다이렉트가 끝없이 반복됩니다(브라우저: 리디렉션 횟수가 너무 많음)."
        ),
        evidence=evidence,
        fix=(
            f"Ingress 경로를 `{prefix}{CAPTURE_SUFFIX}`로, annotation `{REWRITE_ANNOTATION}: /$2`를 두세요 — "
            "spark-operator v2.x는 urlFormat에 경로가 있으면 이렇게 만듭니다(손으로 만들었거나 바꾼 Ingress라면 "
            f"`kubectl -n {obs.namespace} annotate ingress {ingress.name} '{REWRITE_ANNOTATION}=/$2'`과 경로 수정, 또는 "
            "앱을 다시 제출해 오퍼레이터가 새로 만들게 하세요). `x-forwarded-prefix`는 rewrite가 있는 location에만 붙고 "
            "Spark는 `X-Forwarded-Prefix`를 읽지 않으니 proxyBase가 접두사와 같아야 합니다. "
            + now_or_none(obs)
        ),
        remedies=(
            rewrite_remedy(
                obs, "rewrite-target /$2 on the path <prefix>(/|$)(.*), as the operator writes it"
            ),
        ),
    )


def _single_target(rewrite: str | None) -> bool:
    """A rewrite-target that names no capture group (``/``, ``/jobs/``): every path maps to it."""
    return rewrite is not None and re.search(r"\$\d", rewrite) is None


def check_rewrite_single_target(obs: Observations) -> Check | None:
    """``rewrite-target: /`` (the #3-10 literal fix): ingress-nginx rewrites every path to ``/``.

    ingress-nginx ``template.go`` builds ``rewrite "(?i)<path>" <target> break;``: a target without
    ``$1``/``$2`` replaces the whole URI, so ``…/jobs/`` reaches Spark as ``/``, which redirects to
    ``<proxyBase>/jobs/`` — the same URL again.
    """
    ingress = obs.ingress
    if ingress is None or not _single_target(ingress.rewrite_target) or obs.ui_works():
        return None
    evidence: dict[str, Any] = {
        "Ingress 경로": f"{ingress.path} ({ingress.main.path_type or '-'})",
        REWRITE_ANNOTATION: ingress.rewrite_target,
    }
    if obs.page is not None:
        evidence["브라우저처럼 따라간 경로"] = obs.page.navigation.evidence()
    if obs.jobs is not None:
        evidence[f"GET {obs.jobs.path}"] = _jobs_loop_text(obs)
    source = annotation_source(obs, REWRITE_ANNOTATION)
    where = (
        "앱의 `spec.sparkUIOptions.ingressAnnotations`"
        if source == "application"
        else f"Ingress `{ingress.name}`에 손으로 단 annotation(또는 Helm 값 `controller.uiIngress.annotations`)"
    )
    return Check(
        id="rewrite-to-single-target",
        status="error",
        title=f"`{REWRITE_ANNOTATION}: {ingress.rewrite_target}`가 접두사 아래 모든 경로를 한 주소로 보냅니다",
        detail=(
            f"rewrite-target에 캡처 그룹(`$2`)이 없으면 ingress-nginx는 `{ingress.prefix}jobs/`, `…/static/…` 등 모든 "
            f"경로를 `{ingress.rewrite_target}` 하나로 바꿔 드라이버에 넘깁니다. Spark는 `/`에 `302 Location: <proxyBase>/jobs/`로 "
            "답하고, 그 주소가 다시 `/`로 바뀌어 리다이렉트가 끝없이 반복됩니다(CSS/JS 요청도 모두 같은 302). "
            "#3-10에 적힌 `rewrite-target: /` + `x-forwarded-prefix` 수정이 이 경우입니다."
        ),
        evidence=evidence,
        fix=(
            f"{where}의 `{REWRITE_ANNOTATION}`를 `/$2`로 바꾸세요(경로는 `{ingress.url_path}{CAPTURE_SUFFIX}` — "
            "spark-operator가 urlFormat에 경로가 있으면 스스로 이렇게 만듭니다: 손으로 고친 Ingress라면 "
            f"`kubectl -n {obs.namespace} annotate ingress {ingress.name} --overwrite '{REWRITE_ANNOTATION}=/$2'`). "
            + now_or_none(obs)
        ),
        remedies=(rewrite_remedy(obs, "rewrite-target /$2 (capture group) instead of a single target"),),
    )


def check_x_forwarded_prefix(obs: Observations) -> Check | None:
    """``x-forwarded-prefix`` is sent as ``X-Forwarded-Prefix``, which Spark never reads.

    apache/spark ``core/src/main/scala/org/apache/spark/ui/UIUtils.scala`` ``uiRoot``: the prefix is
    ``spark.ui.proxyBase``, else env ``APPLICATION_WEB_PROXY_BASE``, else the request header
    ``X-Forwarded-Context`` (SPARK-24209, PR #21268); ``JettyUtils.scala`` redirects with the same
    ``uiRoot``. Info when the UI works anyway (the annotation does nothing), warning when it does not.
    """
    ingress = obs.ingress
    if ingress is None or FORWARDED_PREFIX_ANNOTATION not in ingress.annotations:
        return None
    works = obs.ui_works()
    value = ingress.annotations[FORWARDED_PREFIX_ANNOTATION]
    evidence: dict[str, Any] = {
        FORWARDED_PREFIX_ANNOTATION: value,
        "Spark가 읽는 것": "`spark.ui.proxyBase` → `APPLICATION_WEB_PROXY_BASE` → 헤더 `X-Forwarded-Context` (UIUtils.uiRoot)",
        "UI 판정(브라우저처럼)": "동작함" if works else (obs.page.problem if obs.page else "확인 안 됨"),
    }
    conf = obs.conf
    if conf is not None:
        evidence[f"{PROXY_BASE} ({conf.source})"] = shown(conf.proxy_base)
    return Check(
        id="x-forwarded-prefix-ignored",
        status="info" if works else "warning",
        title="`x-forwarded-prefix` annotation은 Spark UI에 아무 효과가 없습니다",
        detail=(
            "ingress-nginx는 이 annotation을 `X-Forwarded-Prefix` 헤더로 보내지만(rewrite-target이 있는 location에만), "
            "Spark는 링크와 리다이렉트의 접두사를 `spark.ui.proxyBase`, 환경 변수 `APPLICATION_WEB_PROXY_BASE`, "
            "헤더 `X-Forwarded-Context` 순으로만 정합니다(apache/spark `UIUtils.scala` `uiRoot`, `JettyUtils.scala`). "
            + (
                "UI는 proxyBase 덕분에 동작하고, 이 annotation은 지워도 됩니다."
                if works
                else "UI가 깨진 원인을 고치는 데 도움이 되지 않습니다."
            )
        ),
        evidence=evidence,
        fix=(
            f"`{FORWARDED_PREFIX_ANNOTATION}`를 지우고, 접두사는 proxyBase(spark-operator v2.3+가 urlFormat 경로로 넣음)로 맞추세요. "
            + now_or_none(obs)
        ),
        remedies=(
            Remedy(
                "ingress-annotations",
                ingress_target(obs, FORWARDED_PREFIX_ANNOTATION),
                {"set": {}, "unset": [FORWARDED_PREFIX_ANNOTATION]},
                "drop x-forwarded-prefix (Spark reads X-Forwarded-Context, not X-Forwarded-Prefix)",
            ),
        ),
    )


LOOP_OUTCOMES = ("loop", "too-many-redirects")


def check_redirect_loop(obs: Observations, found: list[Check]) -> Check | None:
    """The page probe looped (a URL came back, or more than 10 redirects) and no known cause explains it."""
    page = obs.page
    if page is None or page.navigation.outcome not in LOOP_OUTCOMES:
        return None
    if any(f.id in ("missing-rewrite", "rewrite-to-single-target") for f in found):
        return None
    nav = page.navigation
    evidence: dict[str, Any] = {"브라우저처럼 따라간 경로": nav.evidence(limit=6)}
    if nav.repeated:
        evidence["다시 나온 주소"] = nav.repeated
    if obs.ingress is not None:
        evidence["Ingress 경로"] = obs.ingress.path
        evidence["Ingress annotations"] = annotations_text(obs.ingress.annotations)
    return Check(
        id="redirect-loop",
        status="error",
        title="접두사 주소가 끝없이 리다이렉트됩니다",
        detail=(
            "브라우저처럼 Location을 따라가면 같은 주소가 다시 나오거나 리다이렉트가 10번을 넘습니다: 브라우저는 "
            "'리디렉션 횟수가 너무 많음'으로 멈춥니다. 알려진 원인(rewrite-target 누락, 모든 경로를 한 주소로 보내는 "
            "rewrite)에는 해당하지 않습니다."
        ),
        evidence=evidence,
        fix=(
            "리다이렉트마다 Ingress가 경로를 어떻게 바꾸는지 보세요: Ingress 경로는 `<접두사>(/|$)(.*)`, "
            "`rewrite-target: /$2`, proxyBase는 접두사, proxyRedirectUri는 `/`여야 합니다. "
            + now_or_none(obs)
        ),
    )
