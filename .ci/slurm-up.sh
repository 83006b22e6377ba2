#!/bin/bash
# Start a one-node SLURM cluster on this host, for CI and for trying the slurm
# backend on a workstation. Run it as root:
#
#   eval "$(.ci/slurm-up.sh /tmp/llcflow-slurm)"    # prints export SLURM_CONF=...
#   .ci/slurm-down.sh /tmp/llcflow-slurm
#
# Everything the cluster writes (slurm.conf, a private munge key and socket,
# state, spool, logs and pid files) lives under the directory given as $1,
# default a new temporary directory. Running the script again on the same
# directory starts only the daemons that are not running. The controller and
# the node daemon listen on 127.0.0.1 only, and the script fails when either
# of them listens on any other address. Environment:
#   LLCFLOW_SLURM_PORT            slurmctld port, slurmd uses the next one (6817)
#   LLCFLOW_SLURM_MAX_ARRAY_SIZE  MaxArraySize of the cluster (1001, Slurm's default)
#   LLCFLOW_SLURM_MIN_JOB_AGE     MinJobAge in seconds (300, Slurm's default)
#   LLCFLOW_SLURM_WAIT            seconds to wait for the node to be idle (60)
#   LLCFLOW_SLURM_OVERSUBSCRIBE   jobs that share one core (1: only jobs that
#                                 ask with --oversubscribe, up to 4 a core)
set -euo pipefail

log() { echo "slurm-up: $*" >&2; }

die() {
	log "$*"
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root: the cluster's daemons run as SlurmUser=root"

dir=${1:-}
if [ -z "$dir" ]; then
	dir=$(mktemp -d /tmp/llcflow-slurm.XXXXXX)
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
chmod 0700 "$dir"

port=${LLCFLOW_SLURM_PORT:-6817}
max_array_size=${LLCFLOW_SLURM_MAX_ARRAY_SIZE:-1001}
min_job_age=${LLCFLOW_SLURM_MIN_JOB_AGE:-300}
wait_seconds=${LLCFLOW_SLURM_WAIT:-60}
oversubscribe=${LLCFLOW_SLURM_OVERSUBSCRIBE:-1}
case "$oversubscribe" in
'' | *[!0-9]* | 0) die "LLCFLOW_SLURM_OVERSUBSCRIBE=$oversubscribe is not a positive number of jobs per core" ;;
1) share=YES:4 ;;
*) share=FORCE:$oversubscribe ;;
esac

# Install the packages once. apt-get update comes first because a fresh
# machine may have no package lists at all.
install_packages() {
	local missing=0 cmd
	for cmd in munged mungekey slurmctld slurmd sbatch sinfo ss; do
		command -v "$cmd" >/dev/null 2>&1 || missing=1
	done
	[ "$missing" = 0 ] && return 0
	log "installing slurm-wlm, munge and iproute2"
	apt-get update >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y slurm-wlm munge iproute2 >&2
}

# alive PIDFILE succeeds when the pid recorded in PIDFILE is a running process.
alive() {
	local pid
	[ -s "$1" ] || return 1
	pid=$(cat "$1")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# show_logs prints the tail of every daemon log, for a failed start.
show_logs() {
	local f
	for f in "$dir"/log/*.log; do
		[ -f "$f" ] || continue
		echo "----- $f (last 30 lines)" >&2
		tail -n 30 "$f" >&2
	done
}

# wait_for CMD... runs CMD once a second until it succeeds or the wait runs out.
wait_for() {
	local deadline=$((SECONDS + wait_seconds))
	until "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			return 1
		fi
		sleep 1
	done
}

start_munge() {
	mkdir -p "$dir/munge"
	chmod 0700 "$dir/munge"
	if [ ! -s "$dir/munge/munge.key" ]; then
		mungekey --create --keyfile="$dir/munge/munge.key"
		chmod 0600 "$dir/munge/munge.key"
	fi
	alive "$dir/munge/munged.pid" && return 0
	rm -f "$dir/munge/munge.socket.2" "$dir/munge/munge.socket.2.lock"
	# --force accepts the temporary directory's sticky, world-writable parent.
	munged --force \
		--socket="$dir/munge/munge.socket.2" \
		--key-file="$dir/munge/munge.key" \
		--pid-file="$dir/munge/munged.pid" \
		--seed-file="$dir/munge/munged.seed" \
		--log-file="$dir/log/munged.log"
	if ! wait_for munge --socket="$dir/munge/munge.socket.2" --no-input; then
		show_logs
		die "munged did not respond on $dir/munge/munge.socket.2 within ${wait_seconds}s"
	fi
}

# write_conf writes slurm.conf for this host from what slurmd -C detects.
write_conf() {
	local host cpus boards sockets cores threads memory
	host=$(hostname -s)
	read -r cpus boards sockets cores threads memory < <(
		slurmd -C | head -n 1 | tr ' ' '\n' | awk -F= '
			$1 == "CPUs" { c = $2 } $1 == "Boards" { b = $2 }
			$1 == "SocketsPerBoard" { s = $2 } $1 == "CoresPerSocket" { k = $2 }
			$1 == "ThreadsPerCore" { t = $2 } $1 == "RealMemory" { m = $2 }
			END { print c, b, s, k, t, m }'
	)
	[ -n "$memory" ] || die "slurmd -C printed no RealMemory for this host"

	cat >"$dir/slurm.conf.tmp" <<EOF
# One-node cluster written by .ci/slurm-up.sh for host $host.
ClusterName=llcflow
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
# Without these, slurmctld and slurmd listen on 0.0.0.0. NoCtldInAddrAny binds
# slurmctld to the address of SlurmctldHost, NoInAddrAny binds slurmd to
# its NodeAddr, and both of these are 127.0.0.1.
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket.2
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
MpiDefault=none
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=$min_job_age
MaxArraySize=$max_array_size
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus Boards=$boards SocketsPerBoard=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=$share
EOF
	mv "$dir/slurm.conf.tmp" "$dir/slurm.conf"
}

node_idle() {
	local state
	state=$(SLURM_CONF="$dir/slurm.conf" sinfo -h -N -o '%t' 2>/dev/null) || return 1
	[ "$state" = idle ] || [ "$state" = mix ] || [ "$state" = alloc ]
}

# check_loopback fails when slurmctld or slurmd listens on an address other
# than 127.0.0.0/8 or ::1, as their default wildcard 0.0.0.0 does. ss prints
# one line per listening socket with its owner, such as
#   tcp LISTEN 0 4096 127.0.0.1:6817 0.0.0.0:* users:(("slurmctld",pid=812,fd=5))
check_loopback() {
	local daemon pid sockets addr bad=0
	for daemon in slurmctld slurmd; do
		pid=$(cat "$dir/$daemon.pid")
		sockets=$(ss -H -l -n -t -u -p | grep -F "pid=$pid,") || true
		if [ -z "$sockets" ]; then
			die "$daemon (pid $pid) has no listening socket in ss -ltunp: cannot check that it listens on 127.0.0.1 only"
		fi
		while read -r _ _ _ _ addr _; do
			case "$addr" in
			127.*:* | '[::1]:'*) ;;
			*)
				log "$daemon (pid $pid) listens on $addr, beyond loopback"
				bad=1
				;;
			esac
		done <<<"$sockets"
	done
	if [ "$bad" = 1 ]; then
		die "a daemon listens beyond loopback: stop the cluster with .ci/slurm-down.sh $dir and start it again, which rewrites $dir/slurm.conf with CommunicationParameters=NoCtldInAddrAny,NoInAddrAny"
	fi
}

install_packages
mkdir -p "$dir/log" "$dir/state" "$dir/spool"
start_munge

if alive "$dir/slurmctld.pid" && [ -s "$dir/slurm.conf" ]; then
	log "slurmctld already running (pid $(cat "$dir/slurmctld.pid"))"
else
	write_conf
	slurmctld -f "$dir/slurm.conf"
fi
if alive "$dir/slurmd.pid"; then
	log "slurmd already running (pid $(cat "$dir/slurmd.pid"))"
else
	slurmd -f "$dir/slurm.conf"
fi

# Wait for the node to be idle, and stop early when a daemon has exited
# (a port in use, say).
deadline=$((SECONDS + wait_seconds))
until node_idle; do
	for daemon in slurmctld slurmd; do
		if ! alive "$dir/$daemon.pid"; then
			show_logs
			die "$daemon exited: see its log above (is port $port or $((port + 1)) in use? set LLCFLOW_SLURM_PORT), stop the rest with .ci/slurm-down.sh $dir"
		fi
	done
	if [ "$SECONDS" -ge "$deadline" ]; then
		SLURM_CONF="$dir/slurm.conf" sinfo -N -l >&2 || true
		show_logs
		die "node not idle within ${wait_seconds}s: see the logs above, stop with .ci/slurm-down.sh $dir"
	fi
	sleep 1
done
check_loopback
log "cluster up in $dir: slurmctld pid $(cat "$dir/slurmctld.pid"), slurmd pid $(cat "$dir/slurmd.pid"), munged pid $(cat "$dir/munge/munged.pid")"
echo "export SLURM_CONF=$dir/slurm.conf"
