"""The host inventory: validation, defaults, ProxyJump through the bastion, the profile key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from platform_kb.errors import UsageProblem
from platform_kb.inventory import inventory_from_dict, load_inventory, write_inventory
from platform_kb.profiles import BastionSpec, load_profile
from platform_kb.scrape import host_scrape_configs

EXAMPLE = {
    "defaults": {"user": "ops", "exporter_port": 9100},
    "hosts": [
        {"name": "pve-01", "address": "pve-01.example.internal", "role": "proxmox"},
        {"name": "desktop", "address": "desktop.example.internal", "role": "desktop", "user": "me",
         "exporter_port": 9101},
    ],
}  # fmt: skip


def test_defaults_apply_and_hosts_override_them() -> None:
    inv = inventory_from_dict(EXAMPLE)
    assert inv.names() == ["pve-01", "desktop"]
    pve, desk = inv.hosts
    assert (pve.user, pve.exporter_port, pve.ssh_port, pve.lab) == ("ops", 9100, 22, False)
    assert (desk.user, desk.target) == ("me", "desktop.example.internal:9101")


def test_ssh_spec_jumps_through_the_bastion_with_its_keys_and_policy() -> None:
    bastion = BastionSpec(
        host="bastion.example.internal", port=2222, user="ops", identity_file="/k/id",
        known_hosts="/k/known_hosts", host_key_policy="accept-new", proxy_jump="gw@gateway.example.internal",
    )  # fmt: skip
    spec = inventory_from_dict(EXAMPLE).host("pve-01").ssh_spec(bastion)
    assert spec.host == "pve-01.example.internal" and spec.port == 22 and spec.user == "ops"
    assert spec.proxy_jump == "gw@gateway.example.internal,ops@bastion.example.internal:2222"
    assert (spec.identity_file, spec.known_hosts, spec.host_key_policy) == (
        "/k/id",
        "/k/known_hosts",
        "accept-new",
    )
    plain = inventory_from_dict(EXAMPLE).host("pve-01").ssh_spec(BastionSpec(host="bastion.example.internal"))
    assert plain.proxy_jump == "bastion.example.internal" and plain.host_key_policy == "yes"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hosts": []}, "hosts"),
        ({"hosts": [{"name": "pve-01"}]}, "'address' is a required property"),
        ({"hosts": [{"name": "PVE 01", "address": "a"}]}, "does not match"),
        ({"hosts": [{"name": "a", "address": "a", "exporter_port": 70000}]}, "70000"),
        ({"hosts": [{"name": "a", "address": "a", "colour": "red"}]}, "colour"),
        (
            {"hosts": [{"name": "a", "address": "x"}, {"name": "a", "address": "y"}]},
            "duplicate host name(s) a",
        ),
        ({"hosts": [{"name": "a", "address": "x"}, {"name": "b", "address": "x"}]}, "same exporter x:9100"),
        (["not", "a", "mapping"], "(top)"),
    ],
)
def test_bad_inventories_name_the_problem(data: object, message: str) -> None:
    with pytest.raises(UsageProblem) as err:
        inventory_from_dict(data)
    assert message in str(err.value)
    assert err.value.exit_code == 2


def test_unknown_host_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageProblem, match="host 'nope' is not in the inventory"):
        inventory_from_dict(EXAMPLE).select(["nope"])
    with pytest.raises(UsageProblem, match="host inventory not found"):
        load_inventory(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("hosts: [\n")
    with pytest.raises(UsageProblem, match="not valid YAML"):
        load_inventory(tmp_path / "bad.yaml")


def test_written_inventory_loads_and_renders_one_scrape_job(tmp_path: Path) -> None:
    path = tmp_path / "inv" / "hosts.yaml"
    write_inventory(path, EXAMPLE)
    inv = load_inventory(path)
    assert inv.path == str(path)
    (job,) = host_scrape_configs(inv, scrape_interval="30s")
    assert job == {
        "job_name": "hosts",
        "static_configs": [
            {"targets": ["pve-01.example.internal:9100"], "labels": {"host": "pve-01", "role": "proxmox"}},
            {"targets": ["desktop.example.internal:9101"], "labels": {"host": "desktop", "role": "desktop"}},
        ],
        "scrape_interval": "30s",
    }


def test_profile_inventory_key_is_resolved_next_to_the_profile(tmp_path: Path) -> None:
    profile = {
        "bastion": {"host": "bastion.example.internal"},
        "node": {"host": "k8s-node.example.internal"},
        "inventory": "hosts.yaml",
    }
    path = tmp_path / "profiles" / "homelab.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(profile))
    loaded = load_profile(str(path))
    assert loaded.inventory == str(tmp_path / "profiles" / "hosts.yaml")
    assert loaded.as_parameters()["inventory"] == loaded.inventory


def test_the_example_inventory_loads_with_placeholder_names() -> None:
    example = Path(__file__).resolve().parents[2] / "profiles" / "hosts.example.yaml"
    inv = load_inventory(example)
    assert len(inv.hosts) == 7 and all(h.address.endswith(".example.internal") for h in inv.hosts)
