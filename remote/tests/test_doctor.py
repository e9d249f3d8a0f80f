"""`doctor --json` on this host (real probes) and its verdicts for hosts we cannot be."""
import os
import stat

from conftest import REPO

from gantry_remote.doctor import atari_backends, verdicts

FAKE_SMI = """#!/bin/sh
case "$1" in
  --query-gpu=*) echo "0, NVIDIA A100-SXM4-80GB, 81920, 535.104.05" ;;
  *) echo "| NVIDIA-SMI 535.104.05   Driver Version: 535.104.05   CUDA Version: 12.2 |" ;;
esac
"""


def test_doctor_reports_this_host(rig, tmp_path):
    smi = tmp_path / "nvidia-smi"
    smi.write_text(FAKE_SMI)
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    rig.env["GANTRY_NVIDIA_SMI"] = str(smi)
    # A bootstrapped root has venv/bin/python; doctor must probe imports with that interpreter.
    os.symlink(os.path.join(REPO, ".venv"), os.path.join(rig.root, "venv"))
    report = rig.ok("doctor", "--json", timeout=120)
    assert report["os"] == "Linux" and report["arch"] and report["glibc"]
    assert any(p["name"] == "python3" and p["version"] for p in report["pythons"])
    assert report["disk"]["free_gb"] > 0
    assert report["gpu"] == {"nvidia_smi": str(smi), "gpus": [{"index": 0, "name": "NVIDIA A100-SXM4-80GB", "memory_mib": 81920}],
                             "driver": "535.104.05", "cuda": "12.2", "error": None}
    assert report["python_checked"].endswith("venv/bin/python")
    assert report["imports"]["torch"]["ok"] is True  # the test venv has CPU torch
    assert report["imports"]["envpool"]["ok"] is False
    assert report["imports"]["ale_py"]["ok"] is True  # ale-py's vector env imports from the test venv
    assert report["atari_backends"] == ["ale", "builtin"]
    assert report["cpu"]["allowed"] == len(os.sched_getaffinity(0)) and report["cpu"]["cores"] >= report["cpu"]["allowed"]
    assert report["cpu"]["atari_env_steps_per_s"] > 0 and "bench_atari" in report["cpu"]["atari_basis"]
    levels = {v["level"] for v in report["verdicts"]}
    assert levels <= {"error", "warning", "info", "pending", "ok"}
    # CPU torch with a GPU listed is a real problem, and the message says what to do.
    assert any(v["level"] == "error" and "Reinstall a CUDA build" in v["message"] for v in report["verdicts"])


def _report(**over):
    base = {"os": "Linux", "arch": "x86_64", "disk": {"path": "/", "free_gb": 100.0},
            "gpu": {"nvidia_smi": "/usr/bin/nvidia-smi", "gpus": [{"index": 0}], "cuda": "12.2"},
            "python_checked": "/r/venv/bin/python", "pythons": [{"name": "python3.11"}],
            "imports": {"python": "3.11.9", "torch": {"ok": True, "cuda_available": True}, "envpool": {"ok": True},
                        "ale_py": {"ok": True, "version": "0.12.1"}}}
    base.update(over)
    return base


def test_verdicts_ok_host():
    assert verdicts(_report()) == [{"level": "ok", "message": "This host is ready to train."}]


def test_verdicts_python_312_without_envpool_is_ready_with_ale():
    imports = {"python": "3.12.3", "torch": {"ok": True, "cuda_available": True},
               "envpool": {"ok": False, "error": "ModuleNotFoundError"}, "ale_py": {"ok": True, "version": "0.12.1"}}
    v, ready = verdicts(_report(imports=imports))
    assert v["level"] == "info" and "CPython <= 3.11" in v["message"] and ready["level"] == "ok"
    assert "backend \"ale\"" in v["message"] and "python3.11 (found on this host)" in v["message"]
    assert atari_backends(imports) == ["ale", "builtin"]


def test_verdicts_old_ale_py_or_no_atari_backend_say_what_to_install():
    old = {"python": "3.12.3", "torch": {"ok": True, "cuda_available": True},
           "envpool": {"ok": False}, "ale_py": {"ok": True, "version": "0.10.2"}}
    messages = " | ".join(v["message"] for v in verdicts(_report(imports=old)))
    assert "ale-py 0.10.2 is too old" in messages and "only the built-in games" in messages


def test_verdicts_no_gpu_no_torch_low_disk():
    report = _report(gpu={"nvidia_smi": None, "gpus": [], "cuda": None}, disk={"path": "/", "free_gb": 3.2},
                     imports={"python": "3.11.2", "torch": {"ok": False, "error": "No module named 'torch'"},
                              "envpool": {"ok": False}, "ale_py": {"ok": False}})
    messages = " | ".join(v["message"] for v in verdicts(report))
    assert "No nvidia-smi" in messages and "Set up again" in messages and "3.2 GB free" in messages
    assert "only the built-in games" in messages


def test_a_fresh_host_lists_what_set_up_installs_as_pending_not_as_errors():
    """Right after "Nothing is installed yet" the doctor must not look like a failure."""
    report = _report(set_up=False, gpu={"nvidia_smi": None, "gpus": [], "cuda": None},
                     imports={"python": "3.11.2", "torch": {"ok": False, "error": "No module named 'torch'"},
                              "envpool": {"ok": False}, "ale_py": {"ok": False}})
    out = verdicts(report)
    assert [v["level"] for v in out if v["level"] in ("error", "ok")] == []
    pending = [v["message"] for v in out if v["level"] == "pending"]
    assert len(pending) == 2 and all("Set up" in m for m in pending)
    assert any("PyTorch" in m for m in pending) and any("EnvPool" in m and "ale-py" in m for m in pending)
    assert not any("bootstrap" in v["message"] or "setup.sh" in v["message"] for v in out)


def test_missing_atari_backends_are_one_line():
    imports = {"python": "3.11.9", "torch": {"ok": True, "cuda_available": True},
               "envpool": {"ok": False, "error": "ModuleNotFoundError"}, "ale_py": {"ok": False}}
    out = verdicts(_report(imports=imports))
    about_backends = [v for v in out if "EnvPool" in v["message"] or "ale-py" in v["message"] or "envpool" in v["message"]]
    assert len(about_backends) == 1 and about_backends[0]["level"] == "warning"
    assert "only the built-in games" in about_backends[0]["message"] and "Set up again" in about_backends[0]["message"]


def test_ale_without_envpool_is_a_fact_not_a_warning():
    imports = {"python": "3.11.9", "torch": {"ok": True, "cuda_available": True},
               "envpool": {"ok": False, "error": "ModuleNotFoundError"}, "ale_py": {"ok": True, "version": "0.12.1"}}
    out = verdicts(_report(imports=imports))
    assert [v["level"] for v in out] == ["info", "ok"]
    assert "ale-py" in out[0]["message"] and "EnvPool" in out[0]["message"]
