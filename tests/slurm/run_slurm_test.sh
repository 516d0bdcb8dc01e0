#!/usr/bin/env bash
# The workflow on a real SLURM scheduler, through `--profile profiles/slurm` (snakemake-executor-plugin-slurm).
#
#   bash tests/slurm/run_slurm_test.sh      # as root, with the project's python (snakemake, plugin, torch) on PATH
#
# 1. Installs Debian's slurmctld, slurmd, slurm-client and munge if missing, and starts a one-node
#    cluster on localhost (no systemd: daemons started by hand; /etc/slurm/slurm.conf written, and put
#    back as it was on exit; state and logs in the work dir) unless a slurmctld is already running, in
#    which case that cluster is used and left alone.
# 2. Runs the demo's table1 for one group and one seed (glyphs -> prepare -> train -> analyse -> table) and checks
#    the table and that every job went through sbatch (SLURM job ids, all COMPLETED).
# 3. Starts a longer training run, cancels its SLURM job with scancel after the first epoch, and checks
#    that Snakemake's retry resumes it from the side checkpoint ("resumed from" in the log) with the
#    same metrics as an uninterrupted run submitted at the same time with the same spec.
# Everything is written under a temp dir (ALD_SLURM_WORK to choose it); on exit, only the jobs and
# daemons this script started are stopped.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${ALD_SLURM_WORK:-$(mktemp -d -t ald_slurm.XXXXXX)}
T0=$SECONDS
step() { printf '\n=== [%3ds] %s\n' $((SECONDS - T0)) "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# wait_for SECONDS COMMAND...: poll until COMMAND succeeds
wait_for() {
  local limit=$1; shift
  for _ in $(seq $((limit * 2))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  fail "timed out after ${limit}s waiting for: $*"
}

[[ $(id -u) == 0 ]] || fail "needs root: it installs slurm and munge and starts their daemons"
command -v python >/dev/null && python -c "import snakemake_executor_plugin_slurm, torch" \
  || fail "put the project's environment first on PATH (python with snakemake, the slurm plugin and torch)"
mkdir -p "$WORK"
echo "work dir: $WORK"

started=()    # "pid name" of the daemons and snakemake runs started here, stopped on exit (last first)
own_cluster=0
submitted_jobs() { grep -ho 'submitted with SLURM jobid [0-9]*' "$WORK"/*.out 2>/dev/null | awk '{print $NF}' || true; }
stop() {  # stop PID NAME, only if that PID is still the process this script started
  [[ $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]] || return 0
  kill "$1" && for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$1" 2>/dev/null && kill -KILL "$1"
  echo "stopped $2 (pid $1)"
}
cleanup() {
  local rc=$? ids
  set +e
  ids=$(submitted_jobs)
  [[ -n $ids ]] && scancel $ids 2>/dev/null
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    read -r pid name <<<"${started[i]}"
    if [[ $name == slurmd ]]; then
      # let cancelled jobs end before their slurmd goes
      for _ in $(seq 60); do [[ -z $(squeue -h -t RUNNING,COMPLETING 2>/dev/null) ]] && break; sleep 0.5; done
    fi
    stop "$pid" "$name"
  done
  if [[ $own_cluster == 1 ]]; then
    if [[ -e $WORK/slurm.conf.orig ]]; then mv "$WORK/slurm.conf.orig" "$SLURM_CONF"; else rm -f "$SLURM_CONF"; fi
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 143' INT TERM   # exit through cleanup

step "1. packages (installed only if missing)"
missing=()
for p in slurmctld slurmd slurm-client munge; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # "policy-rc.d denied execution of start" is expected without systemd: the daemons are started below.
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
dpkg-query -W slurmctld slurmd slurm-client munge

step "2. munge"
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  echo "munged already running: using it"
else
  [[ -s /etc/munge/munge.key ]] || mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
  rm -f /run/munge/munged.pid   # stale: munged is not running
  runuser -u munge -- /usr/sbin/munged   # daemonises and writes its PID file
  wait_for 10 test -s /run/munge/munged.pid
  started+=("$(cat /run/munge/munged.pid) munged")
  wait_for 10 bash -c 'munge -n | unmunge'
fi

step "3. one-node SLURM cluster"
if pgrep -x slurmctld >/dev/null; then
  echo "slurmctld already running: using that cluster and leaving it alone"
else
  own_cluster=1
  conf_dir=$WORK/slurm   # state, spool, logs
  mkdir -p "$conf_dir"/{state,spool,log}
  # The config must sit at the default path: inside a job the plugin drops every SLURM_* variable
  # (SLURM_CONF too) before it calls srun. An existing file is put back on exit.
  SLURM_CONF=/etc/slurm/slurm.conf
  [[ -e $SLURM_CONF ]] && cp -p "$SLURM_CONF" "$WORK/slurm.conf.orig"
  mkdir -p /etc/slurm
  mem_mb=$(($(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) - 1024))
  cat > "$SLURM_CONF" <<EOF
ClusterName=aldtest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
# no cgroups or systemd here; pgid, not linuxproc: a cancelled job's snakemake must not outlive it as an orphan
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
# no slurmdbd: sacct cannot see jobs, so the profile polls with squeue, which sees a job for
# MinJobAge seconds after it ends (the plugin wants >= 3 x its first poll delay). The checks below read
# every job's state with scontrol after the whole demo target has finished, which takes longer than
# 300 s on a loaded 2-core machine: keep the records for 30 minutes.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=1800
ReturnToService=2
StateSaveLocation=$conf_dir/state
SlurmdSpoolDir=$conf_dir/spool
SlurmctldPidFile=$conf_dir/slurmctld.pid
SlurmdPidFile=$conf_dir/slurmd.pid
SlurmctldLogFile=$conf_dir/log/slurmctld.log
SlurmdLogFile=$conf_dir/log/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  /usr/sbin/slurmctld -D -f "$SLURM_CONF" >"$conf_dir/log/slurmctld.out" 2>&1 &
  started+=("$! slurmctld")
  # -N: the node is called localhost, whatever this machine's hostname is
  /usr/sbin/slurmd -D -N localhost -f "$SLURM_CONF" >"$conf_dir/log/slurmd.out" 2>&1 &
  started+=("$! slurmd")
  wait_for 60 bash -c 'sinfo -h -o %T | grep -q idle'
fi
sinfo
scontrol show config | grep -E '^(MinJobAge|AccountingStorageType)'

# The demo config with some changes, written to the work dir (results and data never touch the checkout).
write_config() {  # write_config NAME RESULTS EPOCHS
  python - "$REPO/profiles/demo/demo.yaml" "$WORK/$1.yaml" "$2" "$WORK/data" "$3" <<'EOF'
import sys, yaml
base, out, results, data, epochs = sys.argv[1:]
config = yaml.safe_load(open(base))
config.update(results=results, groups=["C4"], seeds=[1], only_datasets=["rotated_glyphs", "rotated_blocked_glyphs"])
config["data"]["root"] = data
config["training"].update(epochs=int(epochs), threads=1)
yaml.safe_dump(config, open(out, "w"))
EOF
}
# smk NAME TARGET: the workflow through the SLURM profile in the background, output (with the sbatch
# calls) in $WORK/NAME.out; sets run_pid. In the background, so that a signal reaches cleanup at once.
# --nolock: the outputs are private to this run, and a snakemake that unlocks deletes the checkout's
# shared lock dir under any other snakemake running there (two of ours at once, below).
smk() {
  python -m snakemake --profile profiles/slurm --configfile "$WORK/$1.yaml" \
    --slurm-init-seconds-before-status-checks 5 --slurm-logdir "$WORK/slurm_logs/$1" \
    --slurm-keep-successful-logs --nolock --verbose "$2" >"$WORK/$1.out" 2>&1 &
  run_pid=$!
  started+=("$run_pid python")
}
show_submissions() {  # the sbatch calls and job ids of a run, for the CI log
  grep -E 'sbatch call:|submitted with SLURM jobid|SLURM status is' "$WORK/$1.out" \
    | sed -E 's/--wrap=.*/--wrap=.../; s/^/    /'
}
job_field() { scontrol show job "$1" | grep -o "$2=[^ ]*" | cut -d= -f2; }
metrics() { echo "$WORK/$1/results/metrics/rotated_glyphs/C4/ald/seed1.json"; }
train_log() { echo "$WORK/$1/results/logs/train/rotated_glyphs/C4/ald/seed1.log"; }

cd "$REPO"
step "4. demo target table1 through --profile profiles/slurm"
write_config demo "$WORK/demo/results" 2
smk demo table1
wait "$run_pid" || { tail -50 "$WORK/demo.out"; fail "snakemake (demo) failed"; }
show_submissions demo
for ext in csv md tex; do [[ -s $WORK/demo/results/tables/table1.$ext ]] || fail "table1.$ext missing"; done
cat "$WORK/demo/results/tables/table1.md"
demo_jobs=$(grep -o 'submitted with SLURM jobid [0-9]*' "$WORK/demo.out" | awk '{print $NF}')
for id in $demo_jobs; do
  state=$(job_field "$id" JobState)
  echo "    SLURM job $id: $(job_field "$id" Comment) $state"
  [[ $state == COMPLETED ]] || fail "SLURM job $id is $state"
done
for rule in prepare train analyse; do
  for id in $demo_jobs; do [[ $(job_field "$id" Comment) == rule_$rule* ]] && continue 2; done
  fail "no SLURM job ran rule $rule"
done

step "5. cancel a training job mid-run; the retry resumes from its side checkpoint"
write_config cut "$WORK/cut/results" 10
write_config full "$WORK/full/results" 10
smk cut "$(metrics cut)"
cut_pid=$run_pid
smk full "$(metrics full)"
full_pid=$run_pid
cut_log=$(train_log cut)
wait_for 300 grep -q '^epoch   1 ' "$cut_log"
first_job=$(grep -o 'submitted with SLURM jobid [0-9]*' "$WORK/cut.out" | head -1 | awk '{print $NF}')
[[ $(job_field "$first_job" Comment) == rule_train* ]] || fail "job $first_job is not the training job"
scancel "$first_job"
echo "    scancel $first_job; its training log said:"
sed 's/^/      /' "$cut_log"
wait "$cut_pid" || { tail -50 "$WORK/cut.out"; fail "snakemake (cancelled run) failed"; }
wait "$full_pid" || { tail -50 "$WORK/full.out"; fail "snakemake (uninterrupted run) failed"; }
show_submissions cut
echo "    SLURM job $first_job: $(job_field "$first_job" JobState)"
[[ $(job_field "$first_job" JobState) == CANCELLED ]] || fail "job $first_job was not cancelled"
# exactly one retry: a new sbatch with twice the time and memory of the first
limits=$(grep 'sbatch call: .*--comment rule_train' "$WORK/cut.out" | sed -E 's/.* -t ([0-9]+) --mem ([0-9]+) .*/\1 \2/')
read -r t1 m1 t2 m2 rest <<<"$(echo $limits)"
[[ -n ${m2:-} && -z ${rest:-} && $t2 == $((2 * t1)) && $m2 == $((2 * m1)) ]] \
  || fail "expected two training submissions, the second with doubled limits; got (-t --mem): $limits"
echo "    training submissions (-t minutes, --mem MB): $t1 $m1, then $t2 $m2"
echo "    training log after the retry:"
sed 's/^/      /' "$cut_log"
grep -qE '^resumed from .* after epoch [1-9]' "$cut_log" || fail "the retried job did not resume from its checkpoint"
! grep -q 'resumed from' "$(train_log full)" || fail "the uninterrupted run was resumed"
python - "$(metrics cut)" "$(metrics full)" <<'EOF'
import json, sys
cut, full = (json.load(open(path)) for path in sys.argv[1:])
for key in ("psnr", "ssim", "rmse"):
    print(f"    {key}: resumed {cut[key]!r}  uninterrupted {full[key]!r}")
    assert cut[key] == full[key], f"{key} differs"
EOF

step "PASSED in $((SECONDS - T0)) s: jobs went through sbatch, and a cancelled job resumed to the same metrics"
