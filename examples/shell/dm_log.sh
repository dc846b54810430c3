# dm_log.sh: write debug-monitor events from a POSIX shell script, with printf only.
#
# Source it, then:
#   dm_span_start backup '"target":"s3"'   # opens a span (joins $TRACEPARENT's trace if set)
#   dm_log info "copied 12 files"           # a log event in the current span
#   dm_event metric '"name":"backup.files","value":12,"unit":"files"'
#   dm_span_end ok                           # span.end with ms and outcome
#
# Recording is on only when DM_LOG_DIR is set, as for the Python writer. Each
# process writes its own file, <svc>.<host>.<pid>.<UTC stamp>.jsonl, mode 0600
# in a 0700 folder; every event is one printf of one complete line, appended.
# A caller continues its trace by passing its W3C traceparent header value in
# TRACEPARENT (00-<32 hex trace>-<16 hex span>-01): the span opened here gets
# that trace and names the caller's span as its parent. Spans nest: the
# traceparent of the current span is in DM_TRACEPARENT for the script's own
# callees (curl -H "traceparent: $DM_TRACEPARENT" ...).
#
# Fields passed to dm_event / dm_span_start are raw JSON members, written as
# given; build string values with dm_json_string.

DM_LOG_DIR=${DM_LOG_DIR:-}
DM_SVC=${DM_SERVICE:-$(basename "$0" .sh)}
DM_HOST=$(hostname 2>/dev/null || uname -n)
DM_SEQ=0
DM_FILE=
DM_TRACE=
DM_SPAN=
DM_PARENT=
DM_STACK=
DM_NL='
'
DM_TAB=$(printf '\t')
DM_CR=$(printf '\r')

# A JSON string literal for $1: backslash, quote, tab, CR and newline escaped; other
# control characters dropped.
dm_json_string() {
  printf '%s' "$1" | tr -d '\000-\010\013\014\016-\037' |
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e "s/$DM_TAB/\\\\t/g" -e "s/$DM_CR/\\\\r/g" |
    awk 'BEGIN { ORS = ""; print "\"" } NR > 1 { print "\\n" } { print } END { print "\"" }'
}

# Lowercase hex from /dev/urandom: dm_hex 8 gives 16 digits.
dm_hex() {
  od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# UTC time with microseconds (GNU date; zeros where %N is not supported).
dm_now() {
  stamp=$(date -u +%Y-%m-%dT%H:%M:%S.%N 2>/dev/null)
  case $stamp in
    *N|*.) stamp=$(date -u +%Y-%m-%dT%H:%M:%S).000000000 ;;
  esac
  printf '%sZ' "$(printf '%s' "$stamp" | cut -c1-26)"
}

# Monotonic enough milliseconds since the epoch, for span durations.
dm_millis() {
  ns=$(date +%s%N 2>/dev/null)
  case $ns in
    *N) printf '%s000' "$(date +%s)" ;;
    *) printf '%s' "$((ns / 1000000))" ;;
  esac
}

# Open this process's file on first use; writes process.start.
dm_open() {
  [ -n "$DM_LOG_DIR" ] || return 1
  [ -n "$DM_FILE" ] && return 0
  (umask 077 && mkdir -p "$DM_LOG_DIR") || return 1
  DM_FILE="$DM_LOG_DIR/$DM_SVC.$DM_HOST.$$.$(date -u +%Y%m%dT%H%M%S).jsonl"
  (umask 077 && : >>"$DM_FILE") || return 1
  dm_event process.start "\"argv\":[$(dm_json_string "$0")],\"cwd\":$(dm_json_string "$PWD"),\"dm_version\":\"sh-0.1\""
}

# dm_event KIND [FIELDS]: one line; trace, span and parent of the current span added.
dm_event() {
  [ -n "$DM_LOG_DIR" ] || return 0
  if [ -z "$DM_FILE" ] && [ "$1" != process.start ]; then dm_open || return 0; fi
  fields=${2:-}  # read after dm_open: shell variables are global, and it writes an event too
  ctx=
  if [ -n "$DM_SPAN" ] && [ "$1" != process.start ]; then
    ctx=",\"trace\":\"$DM_TRACE\",\"span\":\"$DM_SPAN\""
    case $1 in *.start|*.end) [ -n "$DM_PARENT" ] && ctx="$ctx,\"parent\":\"$DM_PARENT\"" ;; esac
  fi
  printf '{"v":1,"ts":"%s","event":"%s","svc":%s,"host":%s,"pid":%s,"seq":%s%s%s}\n' \
    "$(dm_now)" "$1" "$(dm_json_string "$DM_SVC")" "$(dm_json_string "$DM_HOST")" "$$" \
    "$DM_SEQ" "$ctx" "${fields:+,$fields}" >>"$DM_FILE"
  DM_SEQ=$((DM_SEQ + 1))
}

# dm_span_start NAME [FIELDS]: a span.start, child of the current span or of $TRACEPARENT.
dm_span_start() {
  [ -n "$DM_LOG_DIR" ] || return 0
  DM_STACK="$DM_TRACE:$DM_SPAN:$DM_PARENT:$(dm_millis):$1$DM_NL$DM_STACK"
  if [ -n "$DM_SPAN" ]; then
    DM_PARENT=$DM_SPAN
  else
    case ${TRACEPARENT:-} in
      00-????????????????????????????????-????????????????-??)
        DM_TRACE=$(printf '%s' "$TRACEPARENT" | cut -c4-35)
        DM_PARENT=$(printf '%s' "$TRACEPARENT" | cut -c37-52) ;;
      *) DM_TRACE=$(dm_hex 16); DM_PARENT= ;;
    esac
  fi
  DM_SPAN=$(dm_hex 8)
  DM_TRACEPARENT="00-$DM_TRACE-$DM_SPAN-01"
  export DM_TRACEPARENT
  user=
  [ -n "${2:-}" ] && user=",\"fields\":{$2}"
  dm_event span.start "\"name\":$(dm_json_string "$1")$user"
}

# dm_span_end [OUTCOME] [ERROR]: span.end with ms; restores the enclosing span.
dm_span_end() {
  [ -n "$DM_LOG_DIR" ] || return 0
  [ -n "$DM_STACK" ] || return 0
  top=${DM_STACK%%"$DM_NL"*}
  DM_STACK=${DM_STACK#*"$DM_NL"}
  name=${top#*:*:*:*:}
  started=$(printf '%s' "$top" | cut -d: -f4)
  ms=$(($(dm_millis) - started))
  extra=
  [ -n "${2:-}" ] && extra=",\"error\":$(dm_json_string "$2")"
  dm_event span.end "\"ms\":$ms,\"outcome\":\"${1:-ok}\",\"name\":$(dm_json_string "$name")$extra"
  DM_TRACE=$(printf '%s' "$top" | cut -d: -f1)
  DM_SPAN=$(printf '%s' "$top" | cut -d: -f2)
  DM_PARENT=$(printf '%s' "$top" | cut -d: -f3)
  if [ -n "$DM_SPAN" ]; then DM_TRACEPARENT="00-$DM_TRACE-$DM_SPAN-01"; else DM_TRACEPARENT=; fi
}

# dm_log LEVEL MESSAGE: a log event (level: debug, info, warning, error, critical).
dm_log() {
  dm_event log "\"level\":\"$1\",\"msg\":$(dm_json_string "$2"),\"logger\":$(dm_json_string "$DM_SVC")"
}
