#!/bin/sh
# A shell service taking part in a Python service's trace: run it with TRACEPARENT set
# (or called over HTTP by a wrapper that passes the header on) and DM_LOG_DIR pointing
# at the same folder. Usage: backup.sh SOURCE_DIR
set -eu
. "$(dirname "$0")/dm_log.sh"

source_dir=${1:-.}
dm_span_start backup "\"source\":$(dm_json_string "$source_dir")"
files=$(find "$source_dir" -type f | wc -l | tr -d ' ')
dm_log info "found $files files in $source_dir"
dm_span_start compress
dm_event metric "\"name\":\"backup.files\",\"value\":$files,\"unit\":\"files\""
dm_span_end ok
if [ "$files" -eq 0 ]; then
  dm_log error "nothing to back up"
  dm_span_end error "empty source: $source_dir"
  exit 1
fi
dm_span_end ok
