"""GPU sampling through a stand-in nvidia-smi, and a host without one."""
import stat

from conftest import assert_journal_sound, fake_game

from gantry_remote.gpu import parse_query_csv

FAKE_SMI = """#!/bin/sh
echo "0, NVIDIA A100-SXM4-80GB, 93, 17250, 81920, 61, 312.45"
echo "1, NVIDIA H100 80GB HBM3, [N/A], 1024, 81559, 35, [Not Supported]"
"""


def test_parse_query_csv_handles_na_and_commas_in_names():
    gpus = parse_query_csv("0, NVIDIA A100, 93, 17250, 81920, 61, 312.45\n1, Odd, Name, 5, 1, 2, 3, [N/A]\n\n")
    assert gpus[0] == {"index": 0, "name": "NVIDIA A100", "util": 93, "mem_used": 17250, "mem_total": 81920,
                       "temp": 61, "power": 312.45}
    assert gpus[1]["name"] == "Odd, Name" and gpus[1]["power"] is None


def test_supervisor_journals_gpu_samples(rig, tmp_path):
    smi = tmp_path / "nvidia-smi"
    smi.write_text(FAKE_SMI)
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    rig.env["GANTRY_NVIDIA_SMI"] = str(smi)
    run_id = rig.start(rig.plan([fake_game("breakout", 40, fake_episodes_per_sec=20)], gpu_sample_s=0.3))
    rig.wait_finished(run_id)
    samples = rig.of_type(run_id, "gpu")
    assert len(samples) >= 3
    assert samples[0]["gpus"][0]["mem_used"] == 17250 and samples[0]["gpus"][1]["util"] is None
    assert rig.of_type(run_id, "gpu_unavailable") == []
    assert_journal_sound(rig.events(run_id))


def test_no_nvidia_smi_gives_one_event_not_a_loop(rig, tmp_path):
    rig.env["GANTRY_NVIDIA_SMI"] = str(tmp_path / "does-not-exist")
    run_id = rig.start(rig.plan([fake_game("breakout", 40, fake_episodes_per_sec=20)], gpu_sample_s=0.1))
    rig.wait_finished(run_id)
    unavailable = rig.of_type(run_id, "gpu_unavailable")
    assert len(unavailable) == 1 and "nvidia-smi" in unavailable[0]["reason"]
    assert rig.of_type(run_id, "gpu") == []
