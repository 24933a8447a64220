"""Spark UI causes on the way to the driver: the app, its name, its Ingress, the tried URL, the endpoints.

Findings ``app-not-found``, ``app-name-suffix`` (apache/airflow ``add_unique_suffix``: ``-`` + 8
characters of ``[a-z0-9]``), ``ingress-not-found``, ``ingress-path-mismatch`` and
``no-ready-endpoints`` (ingress-nginx answers 503 for a backend without endpoints).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ...probes import is_loopback_host
from ...remedies import Remedy
from ...results import Check
from .fixes import app_target
from .model import (
    APP_LABEL,
    OPERATOR_RELEASE,
    ROLE_LABEL,
    SUGGESTED_URL_PATH,
    URL_FORMAT_VALUE,
    Observations,
    app_name_pattern,
)
from .present import endpoints_summary
from .verdict import fixed_url, now_or_none


def check_app_not_found(obs: Observations) -> Check | None:
    if obs.app is not None:
        return None
    return Check(
        id="app-not-found",
        status="error",
        title=f"`{obs.namespace}` 네임스페이스에 `{obs.app_name}`(또는 `{obs.app_name}-xxxxxxxx`) SparkApplication이 없습니다",
        detail=(
            "DAG에 적은 이름 그대로의 SparkApplication도, Airflow가 붙이는 8자리 접미사가 달린 것도 찾지 못했습니다. "
            "잡이 아직 제출되지 않았거나, 끝난 뒤 지워졌거나, 다른 네임스페이스에 있습니다."
        ),
        evidence={"네임스페이스": obs.namespace, "찾은 이름 규칙": app_name_pattern(obs.app_name).pattern},
        fix=(
            "Airflow 태스크 로그에서 실제로 만든 SparkApplication 이름과 네임스페이스를 확인하고 "
            "`-p namespace ...`/`-p app_name ...`으로 다시 실행하세요. 끝나서 지워진 잡은 History Server에서 봅니다."
        ),
    )


def check_app_name_suffix(obs: Observations) -> Check | None:
    if obs.app is None or obs.app.name == obs.app_name:
        return None
    exact_exists = any(a.name == obs.app_name for a in obs.apps)
    evidence: dict[str, Any] = {
        "DAG의 이름": obs.app_name,
        "실행 중인 SparkApplication": f"{obs.app.name} ({obs.app.state or '상태 없음'}, {obs.app.created})",
        f"`{obs.app_name}` 이름의 SparkApplication": "있음(더 오래됨)" if exact_exists else "없음",
    }
    if obs.ingress:
        evidence["실제 Ingress 경로"] = obs.ingress.path
    if obs.unsuffixed is not None:
        evidence[f"GET {obs.unsuffixed.path} (DAG 이름으로 만든 주소)"] = obs.unsuffixed.evidence()
    return Check(
        id="app-name-suffix",
        status="warning" if exact_exists else "error",
        title=f"`{obs.app_name}`가 아니라 `{obs.app.name}`가 실행 중입니다 (Airflow 난수 접미사)",
        detail=(
            "Airflow `SparkKubernetesOperator`가 이름 뒤에 "
            "`-` + 8자리 `[a-z0-9]` 접미사를 붙여 SparkApplication을 만들었습니다. spark-operator는 이 이름으로 "
            "UI Service·Ingress와 URL 경로를 만들기 때문에, DAG에 적은 이름으로 만든 주소는 어떤 Ingress 규칙에도 맞지 않습니다. "
            "접미사는 늘 붙었고, `apache-airflow-providers-cncf-kubernetes` 10.0.0(PR #43847)부터 "
            "`random_name_suffix=False`로 끌 수 있습니다(기본값 `True`; 그 전 버전은 이 인자를 무시)."
        ),
        evidence=evidence,
        fix=(
            "DAG에서 `SparkKubernetesOperator(..., random_name_suffix=False)`로 이름을 고정하거나(같은 이름의 이전 "
            "SparkApplication은 `delete_on_termination=True`(기본값)로 지워지게 두세요; provider 10.0.0 이상 필요), "
            "접미사가 붙은 이름을 쓰세요. " + now_or_none(obs)
        ),
        remedies=(
            Remedy(
                "dag-operator-args",
                app_target(obs),
                {"set": {"random_name_suffix": False}},
                "SparkKubernetesOperator(random_name_suffix=False) (provider >= 10.0.0), then resubmit",
            ),
        ),
    )


def check_ingress_not_found(obs: Observations) -> Check | None:
    if obs.app is None or obs.ingress is not None:
        return None
    return Check(
        id="ingress-not-found",
        status="error",
        title=f"`{obs.app.name}`의 UI Ingress가 없습니다 (라벨 `{APP_LABEL}={obs.app.name}`)",
        detail=(
            "spark-operator는 Helm 값 `controller.uiIngress.enable=true`이고 `urlFormat`이 있을 때만 앱마다 UI Ingress를 "
            "만듭니다. Ingress가 없으면 NodePort 30998의 ingress-nginx에는 이 앱으로 가는 규칙이 없습니다."
        ),
        evidence={
            "라벨 셀렉터": f"{APP_LABEL}={obs.app.name}",
            "찾은 Ingress": "없음",
            "status.driverInfo.webUIIngressName": obs.app.ui_ingress_name or "(없음)",
        },
        fix=(
            "Helm 값 `controller.uiIngress.enable=true`, "
            f'`controller.uiIngress.urlFormat="{SUGGESTED_URL_PATH}"`로 spark-operator를 업그레이드하고 잡을 다시 '
            f"제출하세요. 고친 뒤 주소: {fixed_url(obs)}"
        ),
        remedies=(
            Remedy(
                "operator-values",
                dict(OPERATOR_RELEASE),
                {"set": {"controller.uiIngress.enable": True, URL_FORMAT_VALUE: SUGGESTED_URL_PATH}},
                "enable the operator's UI Ingress with a urlFormat that has a path, then resubmit",
            ),
        ),
    )


def check_ingress_path_mismatch(obs: Observations) -> Check | None:
    if not obs.url or obs.ingress is None:
        return None
    tried = urlsplit(obs.url if "://" in obs.url or obs.url.startswith("/") else "http://" + obs.url)
    path = tried.path or "/"
    host = tried.hostname
    nginx_host = host if host and not is_loopback_host(host) else None
    if obs.ingress.matches(path, nginx_host):
        return None
    evidence: dict[str, Any] = {
        "시도한 주소": obs.url,
        "Ingress host": obs.ingress.host or "* (모든 호스트)",
        "Ingress 경로": f"{obs.ingress.path} ({obs.ingress.main.path_type or '-'})",
    }
    if obs.tried is not None:
        evidence[f"GET {obs.tried.path}"] = obs.tried.evidence()
    rule = "정규식 경로(대소문자 무시, 앞에서부터 일치)" if obs.ingress.uses_regex else "경로 접두사"
    return Check(
        id="ingress-path-mismatch",
        status="error",
        title=f"시도한 주소 `{path}`가 Ingress 경로 `{obs.ingress.path}`와 맞지 않습니다",
        detail=(
            f"ingress-nginx는 Ingress 규칙의 host와 {rule}에 맞는 요청만 Spark UI Service로 보냅니다. "
            "시도한 주소는 어떤 규칙에도 맞지 않아 드라이버까지 가지 못합니다(보통 404). "
            "`kubectl describe ingress`로 본 실제 경로와 주소를 100% 맞춰야 합니다."
        ),
        evidence=evidence,
        fix=f"Ingress 경로 `{obs.ingress.prefix}`로 접속하세요. " + now_or_none(obs),
        remedies=(Remedy("use-url", {}, {"url": obs.browser_url()}, "open the Ingress prefix"),),
    )


def check_no_ready_endpoints(obs: Observations) -> Check | None:
    if obs.app is None or obs.ingress is None:
        return None
    empty = obs.service is None or (obs.endpoints is not None and not obs.endpoints.ready)
    got_503 = obs.prefix is not None and obs.prefix.status == 503
    if not (empty or got_503):
        return None
    evidence: dict[str, Any] = {}
    if obs.prefix is not None:
        evidence[f"GET {obs.prefix.path}"] = obs.prefix.evidence()
    backend = obs.ingress.main.service
    evidence["UI Service"] = obs.service.name if obs.service else f"없음 (Ingress backend `{backend}`)"
    if obs.endpoints is not None:
        evidence["엔드포인트"] = endpoints_summary(obs.endpoints)
    evidence["드라이버 파드"] = f"{obs.driver.name} ({obs.driver.phase})" if obs.driver else "없음"
    evidence["SparkApplication 상태"] = obs.app.state or "(없음)"
    history = obs.history
    if history is not None and history.listing is not None:
        evidence["History Server"] = (
            f"{history.app_id} 있음 (completed={history.completed})"
            if history.found
            else f"앱 없음 ({history.listing.evidence()})"
        )
    if obs.app.terminal:
        why = f"드라이버가 끝나서(상태 {obs.app.state}) UI Service 뒤에 준비된 파드가 없습니다."
    else:
        why = "드라이버 파드가 없거나 아직 준비되지 않아 UI Service 뒤에 준비된 엔드포인트가 없습니다."
    if history is not None and history.ui_url and history.found:
        fix = f"끝난 앱의 UI는 History Server에서 보세요: {history.ui_url}"
        if not history.ui_ok and history.ui_probe is not None:
            fix += f" (지금 응답: {history.ui_probe.status_line})"
    elif obs.app.terminal:
        fix = (
            "History Server에 이 앱이 아직 없습니다: 앱의 sparkConf에 `spark.eventLog.enabled=true`와 History Server가 "
            "읽는 `spark.eventLog.dir`(예: `s3a://datalake/logs/spark-log/`)가 있는지, 갱신 주기(기본 10초)가 지났는지 확인하세요."
        )
    else:
        fix = (
            f"드라이버 파드 상태와 로그를 보세요: `kubectl -n {obs.namespace} get pods -l {APP_LABEL}={obs.app.name},"
            f"{ROLE_LABEL}=driver`, `kubectl -n {obs.namespace} describe sparkapplication {obs.app.name}`."
        )
    remedies: tuple[Remedy, ...] = ()
    if history is not None and history.ui_url and history.found:
        remedies = (Remedy("use-url", {}, {"url": history.ui_url}, "the finished app in the History Server"),)
    return Check(
        id="no-ready-endpoints",
        status="error",
        title=f"UI Service `{obs.service.name if obs.service else backend}`에 준비된 엔드포인트가 없습니다 (503)",
        detail=why
        + " ingress-nginx는 엔드포인트가 없는 백엔드에 `503 Service Temporarily Unavailable`을 돌려줍니다.",
        evidence=evidence,
        fix=fix,
        remedies=remedies,
    )
