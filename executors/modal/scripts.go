package modal

// The sandboxes run POSIX sh scripts, passed as `sh -c SCRIPT NAME ARGS...`
// so that every value reaches the script as a positional parameter and
// nothing is quoted into the script text. Each script writes its messages
// to stderr on lines that start with "llcflow-worker:", and archives to
// stdout as base64, because the control plane carries a V1 sandbox's
// output as protobuf strings, which must be valid UTF-8.
//
// Exit statuses shared by the scripts:
//
//	0   success
//	1   the node failed (exec-node exited with a status below 128 and
//	    wrote a new failure record)
//	3   a requested run is not on the volume (fetch only)
//	75  a transient failure of the worker (a short read, a failed write)
//	76  the worker binary is missing from the volume or corrupt
//	77  an input run is missing from the volume
//
// Any other status, 124 (timeout) and 137 (terminated) among them, comes
// from the sandbox rather than the script and is treated as transient.
const (
	exitNodeFailed    = 1
	exitRunMissing    = 3
	exitTransient     = 75
	exitWorkerMissing = 76
	exitInputMissing  = 77
)

// archiveMarker starts the stderr line that carries the SHA-256 of the
// archive a script sends on stdout.
const archiveMarker = "llcflow-archive "

// missingMarker starts the stderr line of each run the fetch script did not
// find on the volume.
const missingMarker = "llcflow-missing "

// scriptPrelude defines fail, used by every script: fail STATUS MESSAGE.
const scriptPrelude = `fail() { echo "llcflow-worker: $2" >&2; exit "$1"; }
`

// sendArchive writes "$work/out.tar" to stdout as base64, after its
// checksum line on stderr.
const sendArchive = `sum=$(sha256sum < "$work/out.tar" | cut -d' ' -f1) || fail 75 "checksum the archive"
echo "llcflow-archive $sum" >&2
base64 < "$work/out.tar" || fail 75 "send the archive"
rm -rf "$work"
`

// nodeScript runs one node. Arguments: MOUNT WORKER WORKER_SHA256 RUN_ID
// SPEC_JSON INPUTS_SHA256 [INPUT_RUN_ID...]. When INPUTS_SHA256 is not
// empty, stdin is a tar archive of input runs that the volume may lack,
// and each is moved into place unless the volume already has it. On success
// the run is committed to the volume and sent back as an archive. Running
// sync on the mount commits a v2 volume, and a v1 volume commits when the
// sandbox ends. When the node fails, its failure record failed/RUN_ID/ is
// sent back instead.
const nodeScript = scriptPrelude + `mount=$1 bin=$2 bin_sha=$3 run=$4 spec=$5 in_sha=$6
shift 6
work=$(mktemp -d) || fail 75 "create a temporary directory"
[ -x "$bin" ] || fail 76 "worker binary $bin is not on the volume"
got=$(sha256sum < "$bin" | cut -d' ' -f1)
[ "$got" = "$bin_sha" ] || fail 76 "worker binary $bin has sha256 $got, expected $bin_sha"
if [ -n "$in_sha" ]; then
	cat > "$work/inputs.tar" || fail 75 "read the input archive from stdin"
	got=$(sha256sum < "$work/inputs.tar" | cut -d' ' -f1)
	[ "$got" = "$in_sha" ] || fail 75 "input archive has sha256 $got, expected $in_sha"
	mkdir -p "$mount/.llcflow/tmp" || fail 75 "create $mount/.llcflow/tmp"
	stage=$(mktemp -d "$mount/.llcflow/tmp/in.XXXXXX") || fail 75 "create a staging directory"
	tar -xf "$work/inputs.tar" -C "$stage" || fail 75 "extract the input archive"
	for dir in "$stage"/*; do
		[ -d "$dir" ] || continue
		id=${dir##*/}
		[ -f "$mount/$id/manifest.json" ] && continue
		mv -T "$dir" "$mount/$id" 2>/dev/null || [ -f "$mount/$id/manifest.json" ] ||
			fail 75 "move input run $id into $mount"
	done
	rm -rf "$stage"
fi
for id in "$@"; do
	[ -f "$mount/$id/manifest.json" ] || fail 77 "input run $id is not on the volume"
done
printf '%s' "$spec" > "$work/spec.json" || fail 75 "write the node spec"
record="$mount/failed/$run/error.json"
before=$(sha256sum < "$record" 2>/dev/null)
"$bin" exec-node --executor=modal "$work/spec.json" 1>&2
rc=$?
if [ "$rc" -ge 128 ]; then
	fail "$rc" "exec-node was killed by signal $((rc - 128))"
fi
if [ "$rc" -ne 0 ]; then
	# A node failure writes a new error record. Without one, exec-node was
	# interrupted (SIGTERM, a checkpoint) or rejected the spec, and a retry
	# either finishes the node or fails again with the same message.
	after=$(sha256sum < "$record" 2>/dev/null)
	if [ ! -f "$record" ] || [ "$after" = "$before" ]; then
		fail 75 "exec-node exited with status $rc without recording a failure"
	fi
	if [ -f "$record" ]; then
		echo "llcflow-worker: error record $record:" >&2
		cat "$record" >&2
		echo >&2
		# The failure record goes back as an archive too, for the local store.
		if tar -cf "$work/out.tar" -C "$mount/failed" "$run"; then
			sum=$(sha256sum < "$work/out.tar" | cut -d' ' -f1)
			echo "llcflow-archive $sum" >&2
			base64 < "$work/out.tar"
		fi
	fi
	sync "$mount" 2>/dev/null
	fail 1 "exec-node exited with status $rc"
fi
[ -f "$mount/$run/manifest.json" ] || fail 1 "exec-node exited with status 0 but $mount/$run/manifest.json is missing"
sync "$mount" || fail 75 "commit the volume (sync $mount)"
tar -cf "$work/out.tar" -C "$mount" "$run" || fail 75 "archive run $run"
` + sendArchive

// uploadWorkerScript stores stdin as the worker binary. Arguments: MOUNT
// WORKER WORKER_SHA256. The binary is written under a temporary name,
// checked, and renamed into place, so a partial copy never has the final
// name.
const uploadWorkerScript = scriptPrelude + `mount=$1 bin=$2 sha=$3
mkdir -p "${bin%/*}" "$mount/.llcflow/tmp" || fail 75 "create the directories of $bin"
tmp=$(mktemp "$mount/.llcflow/tmp/worker.XXXXXX") || fail 75 "create a temporary file"
cat > "$tmp" || fail 75 "read the worker binary from stdin"
got=$(sha256sum < "$tmp" | cut -d' ' -f1)
if [ "$got" != "$sha" ]; then
	rm -f "$tmp"
	fail 75 "received worker binary has sha256 $got, expected $sha"
fi
chmod 755 "$tmp" || fail 75 "make $tmp executable"
mv -f "$tmp" "$bin" || fail 75 "rename the worker binary to $bin"
sync "$mount" || fail 75 "commit the volume (sync $mount)"
`

// probeScript lists the runs on the volume, one run id a line on stdout,
// and reports on stderr whether the worker binary is present. Arguments:
// MOUNT WORKER WORKER_SHA256.
const probeScript = scriptPrelude + `mount=$1 bin=$2 sha=$3
for m in "$mount"/*/manifest.json; do
	[ -f "$m" ] || continue
	dir=${m%/manifest.json}
	echo "${dir##*/}"
done
if [ -x "$bin" ] && [ "$(sha256sum < "$bin" | cut -d' ' -f1)" = "$sha" ]; then
	echo "llcflow-worker: worker binary present" >&2
fi
`

// fetchScript sends runs from the volume as an archive. Arguments: MOUNT
// RUN_ID.... It exits 3, after one missing line per run, when a run is not
// on the volume.
const fetchScript = scriptPrelude + `mount=$1
shift
missing=0
for id in "$@"; do
	if [ ! -f "$mount/$id/manifest.json" ]; then
		echo "llcflow-missing $id" >&2
		missing=1
	fi
done
[ "$missing" -eq 0 ] || exit 3
work=$(mktemp -d) || fail 75 "create a temporary directory"
tar -cf "$work/out.tar" -C "$mount" "$@" || fail 75 "archive the runs"
` + sendArchive

// manifestsScript sends the manifest and provenance of every run on the
// volume as an archive. Arguments: MOUNT.
const manifestsScript = scriptPrelude + `mount=$1
work=$(mktemp -d) || fail 75 "create a temporary directory"
: > "$work/list"
for m in "$mount"/*/manifest.json; do
	[ -f "$m" ] || continue
	dir=${m%/manifest.json}
	echo "${dir##*/}/manifest.json" >> "$work/list"
	[ -f "$dir/provenance.json" ] && echo "${dir##*/}/provenance.json" >> "$work/list"
done
tar -cf "$work/out.tar" -C "$mount" -T "$work/list" || fail 75 "archive the manifests"
` + sendArchive
