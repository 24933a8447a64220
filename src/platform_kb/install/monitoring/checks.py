"""Monitoring's own checks: kube-prometheus-stack values and the host inventory — keys, paths under
ingress-nginx, credentials, retention, storage, scrape jobs and exporter ports."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlparse

from ...errors import UsageProblem
from ...inventory import Inventory
from ...results import Check
from ..chart import parse_version
from ..checking import error, get, literal_secrets, refs, unknown_keys, warning
from ..spec import InstallSpec
from .chart import KNOWN_KEYS
from .params import Params, grafana_ini_origin, grafana_ini_path, load_monitoring_inventory

# prometheus-operator CRD patterns (Documentation/api-reference/api.md: Duration, ByteSize)
_DURATION = re.compile(
    r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
)
_BYTE_SIZE = re.compile(r"^(0|([0-9]*[.])?[0-9]+((K|M|G|T|E|P)i?)?B)$")
_QUANTITY = re.compile(r"^([0-9]+(\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
          "k": 10**3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}  # fmt: skip
# ports a Proxmox VE host already listens on (pve-docs: pveproxy 8006, spiceproxy 3128, pvedaemon 85,
# rpcbind 111, sshd 22, corosync 5405-5412) — an exporter there would not start
PROXMOX_PORTS = {22: "sshd", 85: "pvedaemon", 111: "rpcbind", 3128: "spiceproxy", 8006: "pveproxy",
                 **{p: "corosync" for p in range(5405, 5413)}}  # fmt: skip
CLUSTER_NODE_JOB = (
    "node-exporter"  # the DaemonSet's job label (values.yaml prometheus-node-exporter.podLabels)
)
_REWRITE = "nginx.ingress.kubernetes.io/rewrite-target"
_GRAFANA_PASSWORD_KEYS = {"adminpassword", "admin_password", "gf_security_admin_password"}


def _bytes(text: str) -> int | None:
    """``40GB`` (Prometheus ByteSize) or ``50Gi`` (Kubernetes quantity) -> bytes; None if not parseable."""
    match = re.match(r"^([0-9]*\.?[0-9]+)((K|M|G|T|E|P|k)?(i)?)B?$", text.strip())
    if not match:
        return None
    unit = match.group(2)
    unit = unit if unit in _UNITS else unit.upper() if unit.upper() in _UNITS else None
    return None if unit is None else int(float(match.group(1)) * _UNITS[unit])


def _grafana_literal_passwords(values: Any, path: str = "") -> Iterator[Check]:
    if isinstance(values, Mapping):
        for key, value in values.items():
            sub = f"{path}.{key}" if path else str(key)
            if str(key).lower() in _GRAFANA_PASSWORD_KEYS and value not in (None, ""):
                yield error("literal-secret", f"values: `{sub}` carries a literal Grafana admin password",
                             "remove it: the password comes from grafana_admin_password_ref through the Secret "
                             "named by grafana.admin.existingSecret")  # fmt: skip
            else:
                yield from _grafana_literal_passwords(value, sub)


def _origin(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}"


def _grafana_problems(p: Params, values: Mapping[str, Any]) -> list[Check]:
    problems: list[Check] = []
    prefix = p.grafana_prefix
    server = (values.get("grafana") or {}).get("grafana.ini", {}).get("server", {}) or {}
    root_url = str(server.get("root_url") or "")
    sub_path = server.get("serve_from_sub_path")
    # the browser's address through the tunnel (grafana/grafana #15497, #10007; MonitoringParams.root_url)
    fix_url = f"grafana_root_url={p.external_url_base.rstrip('/')}{prefix}/ (or leave grafana_root_url empty)"
    if prefix == "/":
        problems.append(error("grafana-path", "grafana_path must be a path below / (e.g. /grafana)"))
    if not root_url:
        problems.append(error("grafana-root-url", "grafana.ini server.root_url is empty: Grafana would build "
                               "links and redirects for /", fix_url))  # fmt: skip
    elif grafana_ini_path(root_url).rstrip("/") != prefix.rstrip("/"):
        problems.append(
            error("grafana-root-url", f"Grafana root_url {root_url!r} has the path "
                   f"{grafana_ini_path(root_url) or '/'!r} but the ingress serves Grafana under {prefix}: "
                   "redirects (login) and asset links would leave the prefix", fix_url)
        )  # fmt: skip
    elif grafana_ini_origin(root_url) != _origin(p.external_url_base):
        problems.append(
            error("grafana-root-url-origin", f"Grafana root_url {root_url!r} is at "
                   f"{grafana_ini_origin(root_url)} but the browser reaches Grafana at {_origin(p.external_url_base)} "
                   "(external_url_base): absolute URLs Grafana builds (some redirects, alert and share links) "
                   "would leave the tunnel (grafana/grafana #15497, #10007)", fix_url)
        )  # fmt: skip
    if not isinstance(sub_path, bool):
        problems.append(
            error("grafana-sub-path", "grafana.ini server.serve_from_sub_path must be true or false")
        )
    ingress = get(values, "grafana.ingress") or {}
    annotations = ingress.get("annotations") or {}
    rewrite = annotations.get(_REWRITE)
    if sub_path is False and not rewrite:
        problems.append(
            error("grafana-sub-path", f"serve_from_sub_path is false but the Grafana ingress does not strip {prefix}: "
                   f"Grafana would receive {prefix}/login and answer 404",
                   "set serve_from_sub_path=true (recommended), or add a rewrite-target annotation that strips the prefix")
        )  # fmt: skip
    if sub_path is True and rewrite:
        problems.append(
            error("grafana-double-prefix", f"serve_from_sub_path is true and the ingress rewrites ({_REWRITE}: "
                   f"{rewrite}): Grafana expects {prefix} in the path it receives, the rewrite removes it "
                   "(redirect loop)", f"remove the {_REWRITE} annotation from grafana.ingress.annotations")
        )  # fmt: skip
    if ingress.get("enabled") is not True:
        problems.append(error("grafana-ingress", "grafana.ingress.enabled must be true (Grafana is reached "
                               f"through ingress-nginx under {prefix})"))  # fmt: skip
    elif str(ingress.get("path") or "").rstrip("/") != prefix.rstrip("/"):
        problems.append(error("grafana-ingress-path", f"grafana.ingress.path is {ingress.get('path')!r}, "
                               f"expected {prefix}", f"drop grafana.ingress.path from extra_values or set "
                               f"grafana_path={ingress.get('path')}"))  # fmt: skip
    admin = get(values, "grafana.admin") or {}
    if admin.get("existingSecret") != p.grafana_admin_secret:
        problems.append(error("grafana-admin-secret", "grafana.admin.existingSecret must name the Secret this "
                               f"runbook creates ({p.grafana_admin_secret}); otherwise the chart generates its "
                               "own admin password or uses the chart default prom-operator"))  # fmt: skip
    if sub_path is True:
        metrics = str(get(values, "grafana.serviceMonitor.path") or "/metrics")
        if metrics.rstrip("/") != f"{prefix}/metrics":
            problems.append(warning("grafana-metrics-path", f"grafana.serviceMonitor.path is {metrics!r} but Grafana "
                                     f"serves under {prefix}: its target would be down",
                                     f"set grafana.serviceMonitor.path to {prefix}/metrics "
                                     "(prometheus-community/helm-charts PR #364)"))  # fmt: skip
    problems += _grafana_literal_passwords(values)
    return problems


def _prometheus_problems(p: Params, values: Mapping[str, Any]) -> list[Check]:
    problems: list[Check] = []
    spec = get(values, "prometheus.prometheusSpec") or {}
    route = str(spec.get("routePrefix") or "/")
    external = str(spec.get("externalUrl") or "")
    prefix = p.prometheus_prefix
    if prefix == "/":
        problems.append(error("prometheus-path", "prometheus_path must be a path below / (e.g. /prometheus)"))
    if route.rstrip("/") != prefix.rstrip("/"):
        problems.append(error("prometheus-route-prefix", f"prometheusSpec.routePrefix is {route!r} but Prometheus "
                               f"is exposed under {prefix}", f"set prometheus_path={route} or drop routePrefix "
                               "from extra_values"))  # fmt: skip
    parsed = urlparse(external)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        problems.append(error("prometheus-external-url", f"prometheusSpec.externalUrl {external!r} is not an "
                               "absolute http(s) URL", "set external_url_base to the browser's origin, e.g. "
                               "http://localhost:8080"))  # fmt: skip
    elif parsed.path.rstrip("/") != route.rstrip("/"):
        problems.append(error("prometheus-external-url", f"prometheusSpec.externalUrl path {parsed.path!r} differs "
                               f"from routePrefix {route!r}: the UI's links and redirects would point elsewhere",
                               "leave externalUrl to the runbook (external_url_base + prometheus_path)"))  # fmt: skip
    base = urlparse(p.external_url_base)
    if base.path not in ("", "/"):
        problems.append(error("external-url-base", f"external_url_base {p.external_url_base!r} must be an origin "
                               "only (scheme://host:port), without a path"))  # fmt: skip
    ingress = get(values, "prometheus.ingress") or {}
    paths = [str(x).rstrip("/") or "/" for x in (ingress.get("paths") or [route])]
    if ingress.get("enabled") is not True:
        problems.append(error("prometheus-ingress", "prometheus.ingress.enabled must be true"))
    elif route.rstrip("/") not in paths:
        problems.append(error("prometheus-ingress-path", f"prometheus.ingress.paths {paths} do not include the "
                               f"routePrefix {route}: the ingress would not route Prometheus's own paths",
                               "one path must match prometheusSpec.routePrefix (chart values.yaml)"))  # fmt: skip
    retention = str(spec.get("retention") or "")
    if not retention or not _DURATION.match(retention):
        problems.append(error("retention", f"retention {retention!r} is not a Prometheus duration",
                               "use e.g. 15d, 12h, 2w (units y w d h m s ms)"))  # fmt: skip
    size = str(spec.get("retentionSize") or "")
    if size and not _BYTE_SIZE.match(size):
        problems.append(error("retention-size", f"retentionSize {size!r} is not a Prometheus byte size",
                               "use e.g. 40GB or 40GiB (the unit ends in B)"))  # fmt: skip
    problems += _storage_problems(p, spec, size)
    return problems


def _storage_problems(p: Params, spec: Mapping[str, Any], retention_size: str) -> list[Check]:
    problems: list[Check] = []
    if p.storage_class and not p.storage_size:
        problems.append(error("storage", f"storage_class {p.storage_class!r} is set but storage_size is empty",
                               "give storage_size, e.g. 50Gi"))  # fmt: skip
    if p.storage_size and not _QUANTITY.match(p.storage_size):
        problems.append(error("storage", f"storage_size {p.storage_size!r} is not a Kubernetes quantity",
                               "use e.g. 50Gi"))  # fmt: skip
    if not spec.get("storageSpec"):
        problems.append(warning("storage-emptydir", "no storage_size: Prometheus keeps its TSDB in an emptyDir, "
                                 f"every restart loses up to {p.retention} of metrics",
                                 "set storage_size (and storage_class) for a PersistentVolumeClaim"))  # fmt: skip
    volume, keep = _bytes(p.storage_size or ""), _bytes(retention_size) if retention_size else None
    if volume and keep and keep > volume * 0.9:
        problems.append(warning("retention-size", f"retentionSize {retention_size} leaves no headroom on a "
                                 f"{p.storage_size} volume (WAL and compaction need space beyond it)",
                                 "keep retentionSize at about 80-85% of storage_size"))  # fmt: skip
    return problems


def _scrape_problems(p: Params, values: Mapping[str, Any], inventory: Inventory | None) -> list[Check]:
    problems: list[Check] = []
    configs = get(values, "prometheus.prometheusSpec.additionalScrapeConfigs") or []
    if isinstance(configs, list):
        names = [str(c.get("job_name")) for c in configs if isinstance(c, Mapping)]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            problems.append(error("scrape-job-duplicate", f"additionalScrapeConfigs repeat job_name {', '.join(twice)}: "
                                   "Prometheus rejects the whole configuration (the reload fails)"))  # fmt: skip
    if p.hosts_job == CLUSTER_NODE_JOB:
        problems.append(error("hosts-job", f"hosts_job {p.hosts_job!r} is the job of the cluster's node-exporter "
                               "DaemonSet: the hosts would mix with the cluster nodes in dashboards and alerts",
                               "keep hosts_job=hosts"))  # fmt: skip
    if not re.match(r"^[a-zA-Z_][a-zA-Z0-9_-]*$", p.hosts_job):
        problems.append(error("hosts-job", f"hosts_job {p.hosts_job!r} is not a usable job name"))
    if p.hosts_scrape_interval and not _DURATION.match(p.hosts_scrape_interval):
        problems.append(error("hosts-scrape-interval", f"hosts_scrape_interval {p.hosts_scrape_interval!r} is "
                               "not a Prometheus duration"))  # fmt: skip
    if inventory is None:
        problems.append(warning("no-inventory", "no host inventory: node-exporter is not installed on the "
                                 "Proxmox hosts and the desktop, and they are not scraped",
                                 "set `inventory:` in the profile or -p inventory PATH"))  # fmt: skip
        return problems
    problems += host_port_problems(inventory)
    return problems


def host_port_problems(inventory: Inventory) -> list[Check]:
    """Exporter ports that collide with the host's SSH port, a Proxmox service or another exporter on it."""
    problems: list[Check] = []
    by_address: dict[str, list[str]] = {}
    for host in inventory.hosts:
        address = host.exporter_address or host.address
        if not host.lab:  # the lab's hosts are one machine on purpose (one exporter port each)
            by_address.setdefault(address, []).append(host.name)
        if host.exporter_port == host.ssh_port:
            problems.append(error("exporter-port", f"host {host.name}: exporter_port {host.exporter_port} is its SSH port",
                                   "choose another exporter_port (9100 is node-exporter's registered port)"))  # fmt: skip
        elif host.role.lower() == "proxmox" and host.exporter_port in PROXMOX_PORTS:
            service = PROXMOX_PORTS[host.exporter_port]
            problems.append(error("exporter-port", f"host {host.name}: exporter_port {host.exporter_port} is taken by "
                                   f"{service} on a Proxmox VE host", "use 9100"))  # fmt: skip
    for address, names in by_address.items():
        if len(names) > 1:
            problems.append(warning("host-twice", f"hosts {', '.join(names)} share the address {address}: one "
                                     "machine scraped twice duplicates its series",
                                     "keep one inventory entry per machine"))  # fmt: skip
    return problems


def check(params: Params, spec: InstallSpec, inventory: Inventory | None = None) -> list[Check]:
    """kube-prometheus-stack values + the inventory: keys, paths under ingress-nginx, credentials, retention,
    storage, scrape jobs and exporter ports. ``inventory`` defaults to the file named by ``params.inventory``."""
    assert spec.release is not None
    values = spec.release.values
    problems: list[Check] = list(unknown_keys(values, KNOWN_KEYS, "kube-prometheus-stack"))
    problems += literal_secrets(values)
    problems += refs(params, ["grafana_admin_password_ref"], required=["grafana_admin_password_ref"])
    try:
        parse_version(params.chart_version)
    except UsageProblem as exc:
        problems.append(error("chart-version", str(exc)))
    problems += _grafana_problems(params, values)
    problems += _prometheus_problems(params, values)
    if params.grafana_prefix.rstrip("/") == params.prometheus_prefix.rstrip("/"):
        problems.append(
            error("paths-collide", f"Grafana and Prometheus share the path {params.grafana_prefix}")
        )
    if not params.ingress_class:
        problems.append(
            warning("ingress-class", "ingress_class is empty: the cluster's default class is used")
        )
    if get(values, "nodeExporter.enabled") is False:
        problems.append(warning("cluster-node-exporter", "nodeExporter.enabled is false: the cluster's own nodes "
                                 "are not monitored"))  # fmt: skip
    if inventory is None:
        inventory = load_monitoring_inventory(params)
    problems += _scrape_problems(params, values, inventory)
    return problems
