"""Spark UI causes in ``spark.ui.proxyBase``: ``proxybase-root`` (``/`` makes ``//jobs/``) and
``proxybase-mismatch`` (a proxyBase other than the Ingress prefix).

Where the value comes from decides the fix: the DAG's sparkConf (kept as is by spark-operator
v2.3.0+), the operator's urlFormat, or the image (``spark-defaults.conf``, ``APPLICATION_WEB_PROXY_BASE``).
"""

from __future__ import annotations

from typing import Any

from ...remedies import Remedy
from ...results import Check
from .fixes import conf_remedy, url_format_remedy
from .model import (
    PROXY_BASE,
    PROXY_REDIRECT_URI,
    SUGGESTED_URL_PATH,
    URL_FORMAT_VALUE,
    Observations,
)
from .present import shown
from .verdict import now_or_none


def _hand_set(obs: Observations, key: str) -> str | None:
    """The value the DAG's sparkConf (the SparkApplication's ``spec.sparkConf``) sets for ``key``."""
    return obs.app.spark_conf.get(key) if obs.app else None


VERSION_NOTE = (
    "spark-operator 버전별: v2.3.0+는 앱의 sparkConf에 이미 있는 값을 그대로 두고 없을 때만 넣습니다(PR #2599). "
    "v2.2.0까지는 제출 전에 넣으며 앱의 값을 덮어썼고(issue #1772), v2.2.1만 spark-submit 뒤에 넣어 드라이버가 "
    "그 값을 받지 못했습니다(issue #2597의 회귀, v2.3.0에서 고쳐짐). urlFormat에 경로가 전혀 없으면 아무것도 넣지 않고, "
    "경로가 정확히 `/`이면 `/`를 넣습니다."
)


def _root_evidence(obs: Observations) -> dict[str, Any]:
    evidence: dict[str, Any] = {}
    if obs.prefix is not None and obs.prefix.location and obs.prefix.location.startswith("//"):
        evidence[f"GET {obs.prefix.path}"] = obs.prefix.evidence()
    root_refs = [a.asset.ref for a in obs.assets if a.asset.ref.startswith("//")]
    if root_refs:
        evidence["페이지의 CSS/JS 주소"] = ", ".join(root_refs[:3]) + (" …" if len(root_refs) > 3 else "")
    return evidence


def check_proxybase_root(obs: Observations) -> Check | None:
    conf = obs.conf
    conf_root = conf is not None and conf.proxy_base is not None and conf.proxy_base.strip() == "/"
    http_evidence = _root_evidence(obs)
    if not (conf_root or http_evidence):
        return None
    evidence: dict[str, Any] = {}
    if conf is not None:
        evidence[f"{PROXY_BASE} ({conf.source})"] = shown(conf.proxy_base)
        evidence[f"{PROXY_REDIRECT_URI} ({conf.source})"] = shown(conf.proxy_redirect_uri)
    hand = _hand_set(obs, PROXY_BASE)
    evidence[f"DAG의 sparkConf `{PROXY_BASE}`"] = shown(hand)
    if obs.ingress is not None:
        evidence["Ingress 경로"] = obs.ingress.path or "(없음)"
    evidence.update(http_evidence)
    prefix_path = obs.ingress.url_path if obs.ingress and obs.ingress.has_prefix else None
    remedies: list[Remedy] = []
    where = fix = ""
    if hand is not None:
        # set by hand in the DAG: v2.3.0+ keeps it, so only the DAG can change it
        where = (
            f"DAG의 sparkConf(Airflow `SparkKubernetesOperator`가 제출하는 SparkApplication의 `spec.sparkConf`)에 "
            f'`{PROXY_BASE}: "{hand}"`가 손으로 들어가 있고, spark-operator v2.3.0+는 앱이 정한 값을 그대로 둡니다.'
        )
        fix = (
            f"DAG의 sparkConf에서 `{PROXY_BASE}`를 지우세요"
            + (f'(또는 Ingress 접두사 `"{prefix_path}"`로 바꾸세요)' if prefix_path else "")
            + " — 그리고 잡을 다시 제출하세요. 오퍼레이터의 Helm 값을 바꿔도 이 값은 그대로입니다. "
        )
        remedies.append(
            conf_remedy(
                obs,
                "drop the hand-set spark.ui.proxyBase from the DAG's sparkConf; resubmit",
                unset=(PROXY_BASE,),
            )
        )
    if prefix_path is None:
        # no path in urlFormat: the operator injects "/" (exactly "/"; no path at all injects nothing)
        host = obs.ingress.host if obs.ingress else ""
        url_format = (host + SUGGESTED_URL_PATH) if host else SUGGESTED_URL_PATH
        where = (where + " 또한 " if hand is not None else "") + (
            "urlFormat의 경로가 `/`라서 spark-operator v2.3+가 `spark.ui.proxyBase=/`와 `spark.ui.proxyRedirectUri=/`를 넣습니다."
        )
        fix = (fix if hand is not None else "") + (
            f'Helm 값 `{URL_FORMAT_VALUE}`에 경로를 넣으세요: `"{url_format}"` — 그러면 오퍼레이터가 '
            "Ingress에 `(/|$)(.*)` 경로와 `rewrite-target: /$2`를 만들고 proxyBase를 그 경로로 맞춥니다. "
        )
        remedies.append(url_format_remedy(obs))
    elif hand is None:
        where = "DAG의 sparkConf에도 오퍼레이터 규칙에도 없는 값입니다(이미지의 `spark-defaults.conf`나 `APPLICATION_WEB_PROXY_BASE` 환경 변수)."
        fix = f'DAG의 sparkConf에 `{PROXY_BASE}: "{prefix_path}"`를 넣어 덮어쓰고 잡을 다시 제출하세요. '
        remedies.append(
            conf_remedy(
                obs,
                "set spark.ui.proxyBase to the Ingress prefix in the DAG's sparkConf; resubmit",
                {PROXY_BASE: prefix_path, PROXY_REDIRECT_URI: "/"},
            )
        )
    return Check(
        id="proxybase-root",
        status="error",
        title="`spark.ui.proxyBase`가 `/`라서 링크와 리다이렉트가 `//jobs/`가 됩니다",
        detail=(
            where + " Spark는 모든 링크와 리다이렉트 앞에 proxyBase를 붙이므로 "
            "`/` + `/jobs/` = `//jobs/`가 되고, 브라우저는 이를 프로토콜 상대 주소로 읽어 **호스트 `jobs`**로 갑니다. "
            "CSS/JS(`//static/...`)도 호스트 `static`에서 찾다가 실패해 화면이 깨집니다. " + VERSION_NOTE
        ),
        evidence=evidence,
        fix=fix + now_or_none(obs),
        remedies=tuple(remedies),
    )


def _norm(path: str | None) -> str | None:
    return None if path is None else "/" + path.strip("/")


def check_proxybase_mismatch(obs: Observations) -> Check | None:
    conf, ingress = obs.conf, obs.ingress
    if conf is None or ingress is None or not ingress.has_prefix:
        return None
    if conf.proxy_base is not None and conf.proxy_base.strip() == "/":
        return None  # proxybase-root says it
    want = _norm(ingress.url_path)
    if conf.proxy_base is not None and _norm(conf.proxy_base) == want:
        return None
    if obs.ui_works():
        return None  # e.g. a proxy sends X-Forwarded-Context: the HTTP evidence says the UI is fine
    hand = _hand_set(obs, PROXY_BASE)
    evidence: dict[str, Any] = {
        f"{PROXY_BASE} ({conf.source})": shown(conf.proxy_base),
        f"DAG의 sparkConf `{PROXY_BASE}`": shown(hand),
        "Ingress 경로 접두사": ingress.url_path,
    }
    if obs.prefix is not None:
        evidence[f"GET {obs.prefix.path}"] = obs.prefix.evidence()
    if obs.location is not None:
        evidence[f"GET {obs.location.path} (Location을 따라가면)"] = obs.location.evidence()
    outside = [a for a in obs.assets if a.broken and not a.asset.ref.startswith("//")]
    if outside:
        evidence["CSS/JS 예"] = f"{outside[0].asset.ref} → {outside[0].problem}"
    base_text = f"`{conf.proxy_base}`" if conf.proxy_base is not None else "설정 안 됨"
    if hand is not None:
        where = (
            f'이 값은 DAG의 sparkConf에 손으로 넣은 것이고(`{PROXY_BASE}: "{hand}"`), spark-operator v2.3.0+는 '
            "앱이 정한 값을 그대로 둡니다."
        )
        fix = (
            f"DAG의 sparkConf에서 손으로 넣은 `{PROXY_BASE}`를 지우세요(spark-operator v2.3.0+가 Ingress 경로로 넣어 줍니다) "
            f'또는 `{PROXY_BASE}: "{ingress.url_path}"`와 `{PROXY_REDIRECT_URI}: "/"`로 맞추고 잡을 다시 제출하세요. '
        )
        unset = (PROXY_BASE,) + (
            (PROXY_REDIRECT_URI,) if _hand_set(obs, PROXY_REDIRECT_URI) not in (None, "/") else ()
        )
        remedy = conf_remedy(
            obs, "drop the hand-set proxyBase from the DAG's sparkConf; resubmit", unset=unset
        )
    else:
        where = (
            "DAG의 sparkConf에는 값이 없는데 드라이버에 Ingress 경로가 없습니다: spark-operator v2.2.1은 값을 "
            "spark-submit 뒤에 넣어 드라이버에 전달하지 못합니다(issue #2597, v2.3.0에서 고쳐짐)."
        )
        fix = (
            "spark-operator v2.2.1이면 v2.3.0 이상으로 올리거나, DAG의 sparkConf에 "
            f'`{PROXY_BASE}: "{ingress.url_path}"`와 `{PROXY_REDIRECT_URI}: "/"`를 직접 넣고 잡을 다시 제출하세요. '
        )
        remedy = conf_remedy(
            obs,
            "set proxyBase to the Ingress prefix in the DAG's sparkConf (operator v2.2.1 never passes it); resubmit",
            {PROXY_BASE: ingress.url_path, PROXY_REDIRECT_URI: "/"},
        )
    return Check(
        id="proxybase-mismatch",
        status="error",
        title=f"`spark.ui.proxyBase`({base_text})가 Ingress 경로 접두사(`{ingress.url_path}`)와 다릅니다",
        detail=(
            "Spark는 페이지의 모든 링크·CSS/JS·리다이렉트 앞에 proxyBase를 붙입니다. 이 값이 Ingress 접두사와 다르면 "
            "브라우저가 요청하는 주소(예: `<proxyBase>/static/...`, `<proxyBase>/jobs/`)가 Ingress 규칙에 걸리지 않아 "
            "404가 되고 CSS/JS가 빠진 화면이 됩니다. " + where + " " + VERSION_NOTE
        ),
        evidence=evidence,
        fix=fix + now_or_none(obs),
        remedies=(remedy,),
    )
