#!/bin/bash
# Stop the one-node cluster that .ci/slurm-up.sh started in DIR, by the pids
# it recorded there: slurmd, slurmctld, then munged. The directory itself, with
# its logs and job state, is left in place.
set -euo pipefail

dir=${1:?usage: slurm-down.sh DIR (the directory given to slurm-up.sh)}
[ -d "$dir" ] || {
	echo "slurm-down: $dir is not a directory" >&2
	exit 1
}

# stop NAME PIDFILE sends SIGTERM and waits up to 20 s, then sends SIGKILL.
stop() {
	local name=$1 pidfile=$2 pid i
	if [ ! -s "$pidfile" ]; then
		echo "slurm-down: no $pidfile, $name was not started here" >&2
		return 0
	fi
	pid=$(cat "$pidfile")
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "slurm-down: $name (pid $pid) is not running" >&2
		rm -f "$pidfile"
		return 0
	fi
	kill -TERM "$pid"
	for i in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "slurm-down: $name (pid $pid) still running after 20s, sending SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$pidfile"
	echo "slurm-down: stopped $name (pid $pid)" >&2
}

stop slurmd "$dir/slurmd.pid"
stop slurmctld "$dir/slurmctld.pid"
stop munged "$dir/munge/munged.pid"
