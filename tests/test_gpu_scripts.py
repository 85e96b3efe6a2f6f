"""The GPU runners' queue (ops/gpu_lib.sh) with a mock `rp`: inputs are waited for, the deadline stops it.

No GPU and no rf_nb: `rp` only sleeps and writes the files the real stages write, so the test checks the order and the
stop of `run_stage_seeds`, which decide whether a one-lease `small` run finishes in its device time."""
import json
import subprocess
import time

from conftest import ROOT

MOCK = r"""
set -u
export RF_NB_RUNS=$TMP/runs PRESET=small
mkdir -p "$RF_NB_RUNS/logs/queue"
source ops/gpu_lib.sh
rp() {                                     # rp --stages STAGE --seeds K,
  local s=$2 k=${4%,}
  echo "start $s $k" >> "$TMP/events"
  case $s in
    ode) sleep 1; mkdir -p "$RF_NB_RUNS/small/main/$k/ode/train"; touch "$RF_NB_RUNS/small/main/$k/ode/train/config.json";;
    slow) sleep 60;;
    short) sleep 4;;
    *) sleep 0.2;;
  esac
  echo "end $s $k" >> "$TMP/events"
}
export -f rp
touch "$RF_NB_RUNS/logs/queue/trajectories-0"
( sleep 2; echo "trajectories made" >> "$TMP/events"; mkdir -p "$RF_NB_RUNS/small/main/0/trajectories"
  touch "$RF_NB_RUNS/small/main/0/trajectories/metrics.json"; rm -f "$RF_NB_RUNS/logs/queue/trajectories-0" ) &
echo $(( $(date +%s) + 12 )) > "$TMP/deadline"
DEADLINE_FILE=$TMP/deadline RESULTS_S=5 CLOSE_S=${CLOSE_S:-0} run_stage_seeds 300 ${PARALLEL:-8} "${STAGES:-dmd ode reward_noinit slow}" ${SEEDS:-2}
"""


def _run(tmp_path, **env):
    env = {"DMD_S": "0", "ODE_S": "0", "STAGE_S": "0"} | env             # expected lengths: every stage fits
    out = subprocess.run(["bash", "-c", MOCK], cwd=ROOT, env={"TMP": str(tmp_path), "PATH": "/usr/bin:/bin"} | env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return (tmp_path / "events").read_text().splitlines(), (tmp_path / "runs" / "logs" / "timeline.txt").read_text()


def test_queue_waits_for_inputs_and_stops_at_the_deadline(tmp_path):
    start = time.time()
    events, timeline = _run(tmp_path)
    elapsed = time.time() - start
    at = {e: i for i, e in enumerate(events)}
    made = at["trajectories made"]
    for k in (0, 1):
        assert at[f"start ode {k}"] > made, events                     # the ODE stages waited for the trajectories
        assert at[f"start dmd {k}"] > at[f"end ode {k}"], events       # DMD waited for its seed's ODE student
        assert at[f"end reward_noinit {k}"] < made, events            # the teacher-initialised runs did not wait
    assert "start slow 0" in at and "end slow 0" not in at, events     # the running stage was stopped ...
    assert elapsed < 40, elapsed                                      # ... at the deadline, not after its 60 s
    assert "queue stopped at the deadline" in timeline
    assert not (tmp_path / "runs" / "logs" / "queue").exists()        # no marker left for a later queue


def test_closed_queue_starts_nothing_new(tmp_path):
    "CLOSE_S before the stop no stage starts: `late` would start when `short` ends (+4 s), the queue closed at +2 s."
    events, timeline = _run(tmp_path, STAGES="short slow late", SEEDS="1", CLOSE_S="5", PARALLEL="2")  # closes at +2, stops at +7
    assert "end short 0" in events and "end slow 0" not in events, events
    assert "start late 0" not in events, events
    assert "late seed 0: not started, the queue was closed" in timeline, timeline
    assert timeline.index("queue closed to new stages") < timeline.index("queue stopped at the deadline"), timeline


def test_queue_skips_a_stage_that_would_not_end_before_the_stop(tmp_path):
    "A DMD run expected to take 20 s is not started 3 s before the stop; a 2-s one is (DMD_S: its expected length)."
    events, timeline = _run(tmp_path, STAGES="short dmd", SEEDS="1", PARALLEL="1", DMD_S="20")   # stops at +7
    assert "end short 0" in events and "start dmd 0" not in events, events
    assert "dmd seed 0: not started, needs ~20 s, the queue stops sooner" in timeline, timeline
    events, timeline = _run(tmp_path / "b", STAGES="short dmd", SEEDS="1", PARALLEL="1", DMD_S="2")
    assert "end dmd 0" in events, events


def test_all_trains_the_video_reward_only_for_its_stage():
    "assets_for_queue: `all` trains the video reward (the last asset to finish on 2026-12-06) only if Q2 is queued."
    def assets(queue, train="teacher perception reward reward_video"):
        out = subprocess.run(["bash", "-c", 'source ops/gpu_lib.sh; assets_for_queue "$1" "$2"', "_", queue, train],
                             cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()
    assert assets("ode reward reward_random") == "teacher perception reward"
    assert assets("ode reward_video_x reward") == "teacher perception reward"        # whole stage names only
    assert assets("reward_noinit ode reward_video") == "teacher perception reward reward_video"
    assert assets("ode", "reward_video teacher") == "teacher"
    for script in ("ops/small_gpu.sh", "ops/gpu_lib.sh"):                  # both still parse
        assert subprocess.run(["bash", "-n", script], cwd=ROOT).returncode == 0


def test_mps_start_exports_the_client_env_only_when_the_daemon_starts(tmp_path):
    "mps_start: with a stub nvidia-cuda-mps-control the clients get its folders; without one, or if it fails, none."
    def run(stub_rc, probe="true"):
        bin_dir = tmp_path / f"bin{stub_rc}"
        bin_dir.mkdir(exist_ok=True)
        if stub_rc is not None:
            stub = bin_dir / "nvidia-cuda-mps-control"
            stub.write_text(f'#!/bin/bash\necho "$@ $(cat)" >> {tmp_path}/calls\nexit {stub_rc}\n'
                            if stub_rc == 0 else f"#!/bin/bash\nexit {stub_rc}\n")
            stub.chmod(0o755)
        script = ('source ops/gpu_lib.sh; mps_start "$1" < /dev/null; '
                  'echo "rc=$? pipe=${CUDA_MPS_PIPE_DIRECTORY:-}"; mps_stop')
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "MPS_PROBE": probe}
        out = subprocess.run(["bash", "-c", script, "_", str(tmp_path / "mps")], cwd=ROOT, capture_output=True,
                             text=True, timeout=30, env=env)
        return out.stdout
    started = run(0)
    assert "MPS: daemon started" in started and f"rc=0 pipe={tmp_path}/mps/pipe" in started, started
    assert (tmp_path / "calls").read_text().splitlines() == ["-d ", " quit"]   # started, then told to quit
    assert "rc=1 pipe=\n" in run(None) and "not found" in run(None)
    assert "rc=1 pipe=\n" in run(3) and "did not start" in run(3)
    (tmp_path / "calls").unlink()
    failed_client = run(0, probe="false")                 # the daemon starts but a CUDA client fails through it
    assert "rc=1 pipe=\n" in failed_client and "client failed" in failed_client, failed_client
    assert (tmp_path / "calls").read_text().splitlines() == ["-d ", " quit"]   # quit at once, not left running


def test_lease_copies_names_a_groups_files_for_the_overview(tmp_path):
    "lease_copies: GROUP=dmd gets *_small-dmd.* copies of the tables and histories; GROUP=main changes nothing."
    names = ["main_table_small.md", "main_table_small.csv", "claims_small.md", "reward_table_small.md",
             "dmd_reward_0.1_small_history.png", "reward_small_samples.png", "teacher_samples_small.png"]
    for n in names:
        (tmp_path / n).write_text(n)
    run = lambda group: subprocess.run(["bash", "-c", 'source ops/gpu_lib.sh; lease_copies "$1" "$2"', "_", group,
                                        str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert run("main").returncode == 0 and sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    assert run("dmd").returncode == 0
    new = sorted(set(p.name for p in tmp_path.iterdir()) - set(names))
    assert new == ["claims_small-dmd.md", "dmd_reward_0.1_small-dmd_history.png", "main_table_small-dmd.csv",
                   "main_table_small-dmd.md", "reward_table_small-dmd.md"], new
    assert (tmp_path / "claims_small-dmd.md").read_text() == "claims_small.md"


def _python_stub(tmp_path):
    "A `python3` on PATH: `-m pip` records its arguments and marks the wheels installed; `-c` imports only after that."
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "python3"
    stub.write_text(f'#!/bin/bash\nif [ "$1" = -m ]; then echo "$@" >> {tmp_path}/pip; touch {tmp_path}/installed; '
                    f'exit 0; fi\n[ -f {tmp_path}/installed ]\n')
    stub.chmod(0o755)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "SITE": str(tmp_path / "site")}


def test_ensure_wheels_installs_the_carried_wheels_once_or_names_the_fix(tmp_path):
    "ensure_wheels: missing imports -> the carried wheels go into SITE, on PYTHONPATH; no wheels -> one-line error."
    env = _python_stub(tmp_path)
    script = 'source ops/gpu_lib.sh; ensure_wheels "$1"; echo "rc=$? path=$PYTHONPATH"'
    run = lambda wheels: subprocess.run(["bash", "-c", script, "_", str(wheels)], cwd=ROOT, capture_output=True,
                                        text=True, timeout=30, env=env)
    empty = tmp_path / "no_wheels"
    empty.mkdir()
    out = run(empty)                                      # nothing to install: the error names the fix
    assert "rc=1" in out.stdout and "ops/device_wheels.sh" in out.stderr and len(out.stderr.splitlines()) == 1
    assert not (tmp_path / "pip").exists()
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "papermill-2.6.0-py3-none-any.whl").write_text("")
    out = run(wheels)
    assert f"rc=0 path={tmp_path}/site:{ROOT}" in out.stdout, out.stdout + out.stderr
    assert f"--target {tmp_path}/site {wheels}/papermill-2.6.0-py3-none-any.whl" in (tmp_path / "pip").read_text()
    assert "rc=0" in run(wheels).stdout and len((tmp_path / "pip").read_text().splitlines()) == 1   # installed once


def test_missing_assets_lists_the_ones_that_did_not_train(tmp_path):
    "missing_assets: `all` stops before its queue when a listed asset has no weights (2026-12-06: the teacher)."
    (tmp_path / "perception_small.safetensors").write_text("")
    (tmp_path / "reward_small.safetensors").write_text("")
    out = subprocess.run(["bash", "-c", 'source ops/gpu_lib.sh; missing_assets "$1"', "_",
                          "teacher perception reward reward_video"], cwd=ROOT, capture_output=True, text=True,
                         timeout=30, env={"PATH": "/usr/bin:/bin", "RF_NB_ASSETS": str(tmp_path)})
    assert out.returncode == 0 and out.stdout.split() == ["teacher", "reward_video"], out.stdout + out.stderr
    assert subprocess.run(["bash", "-n", "ops/small_gpu.sh"], cwd=ROOT).returncode == 0


def test_the_lease_queue_comes_from_the_stage_registry():
    "ops/small_gpu.sh holds no list of a group's stages: it asks `rf-nb stages --group`, the registry's groups."
    import sys
    script = (ROOT / "ops" / "small_gpu.sh").read_text()
    assert 'stages --group "${GROUP:-all}"' in script
    assert "dmd_reward_0.01" not in script.split("\nall)")[1].split("\nstart)")[0]
    out = subprocess.run([sys.executable, "-m", "rf_nb.reproduce", "stages", "--group", "lambdas"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.split() == ["ode", "dmd_reward_0.01", "dmd_reward_1", "reward"], out
    bad = subprocess.run([sys.executable, "-m", "rf_nb.reproduce", "stages", "--group", "nope"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "choose from" in bad.stderr
