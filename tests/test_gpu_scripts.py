"""The GPU runners' queue (scripts/gpu_lib.sh) with a mock `rp`: inputs are waited for, the deadline stops it.

No GPU and no rf_nb: `rp` only sleeps and writes the files the real stages write, so the test checks the order and the
stop of `run_stage_seeds`, which decide whether a one-lease `small` run finishes in its device time."""
import subprocess
import time

from conftest import ROOT

MOCK = r"""
set -u
export RF_NB_RUNS=$TMP/runs PRESET=small
mkdir -p "$RF_NB_RUNS/logs/queue"
source scripts/gpu_lib.sh
rp() {                                     # rp --stages STAGE --seeds K,
  local s=$2 k=${4%,}
  echo "start $s $k" >> "$TMP/events"
  case $s in
    ode) sleep 1; mkdir -p "$RF_NB_RUNS/small/main/$k/ode/train"; touch "$RF_NB_RUNS/small/main/$k/ode/train/config.json";;
    slow) sleep 60;;
    *) sleep 0.2;;
  esac
  echo "end $s $k" >> "$TMP/events"
}
export -f rp
touch "$RF_NB_RUNS/logs/queue/trajectories-0"
( sleep 2; echo "trajectories made" >> "$TMP/events"; mkdir -p "$RF_NB_RUNS/small/main/0/trajectories"
  touch "$RF_NB_RUNS/small/main/0/trajectories/metrics.json"; rm -f "$RF_NB_RUNS/logs/queue/trajectories-0" ) &
echo $(( $(date +%s) + 12 )) > "$TMP/deadline"
DEADLINE_FILE=$TMP/deadline RESULTS_S=5 run_stage_seeds 300 8 "dmd ode reward_noinit slow" 2
"""


def test_queue_waits_for_inputs_and_stops_at_the_deadline(tmp_path):
    start = time.time()
    out = subprocess.run(["bash", "-c", MOCK], cwd=ROOT, env={"TMP": str(tmp_path), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=120)
    elapsed = time.time() - start
    assert out.returncode == 0, out.stdout + out.stderr
    events = (tmp_path / "events").read_text().splitlines()
    at = {e: i for i, e in enumerate(events)}
    made = at["trajectories made"]
    for k in (0, 1):
        assert at[f"start ode {k}"] > made, events                     # the ODE stages waited for the trajectories
        assert at[f"start dmd {k}"] > at[f"end ode {k}"], events       # DMD waited for its seed's ODE student
        assert at[f"end reward_noinit {k}"] < made, events            # the teacher-initialised runs did not wait
    assert "start slow 0" in at and "end slow 0" not in at, events     # the running stage was stopped ...
    assert elapsed < 40, elapsed                                      # ... at the deadline, not after its 60 s
    timeline = (tmp_path / "runs" / "logs" / "timeline.txt").read_text()
    assert "queue stopped at the deadline" in timeline
    assert not (tmp_path / "runs" / "logs" / "queue").exists()        # no marker left for a later queue
