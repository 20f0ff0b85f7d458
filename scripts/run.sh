#!/usr/bin/env bash
# `make run`: Temporal dev server (SQLite file under var/), worker and API on this machine; Ctrl-C stops all.
# Ports and the data folder can be moved (tests/system runs a second stack): YG_API_PORT (8000), TEMPORAL_PORT
# (7233), UI_PORT (8233), YG_VAR_DIR (var: databases and logs; relative to the repository or absolute).
# YG_ENVIRONMENT is dev unless set: the development keys, the outbox provider and the demo users (seeded in dev
# only). The API binds YG_API_HOST (127.0.0.1); the settings refuse the development keys on any other address.
# In dev, YG_DEMO_CASES demo cases (default 240, 0 for none) are filed through the API in the background once it
# answers (db/demo_cases.py; its progress in $VAR/log/demo-cases.log); those filed by an earlier run are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
VAR="${YG_VAR_DIR:-var}"
mkdir -p "$VAR"
BIN=.venv/bin
export YG_DATABASE_URL="${YG_DATABASE_URL:-sqlite+aiosqlite:///$VAR/yangguang.db}"
TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
UI_PORT="${UI_PORT:-8233}"
API_PORT="${YG_API_PORT:-8000}"
export YG_ENVIRONMENT="${YG_ENVIRONMENT:-dev}"
export YG_API_HOST="${YG_API_HOST:-127.0.0.1}"
export YG_TEMPORAL_ADDRESS="${YG_TEMPORAL_ADDRESS:-127.0.0.1:$TEMPORAL_PORT}"
# The portal's address in the filing SMS and on the case QR code; a court sets its public one.
export YG_PUBLIC_BASE_URL="${YG_PUBLIC_BASE_URL:-http://127.0.0.1:$API_PORT}"

pids=()
demo_pid=""  # the demo-case seeder: stopped with the rest, but its end is not the stack's end (wait -n below)
stop() {
  trap - EXIT INT TERM
  echo; echo "stopping Yangguang…"
  for p in $demo_pid "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped."
}
trap stop EXIT
trap 'stop; exit 0' INT TERM

$BIN/python -m db.migrate
if [ "$YG_ENVIRONMENT" = dev ]; then
  $BIN/python -m db.demo
  DEMO="  Demo users: registrar, handler, clerk, bureau_chief, vice_president, president, discipline,
  supervisor, admin (second court: handler2 …); intermediate court: mid_supervisor, mid_president,
  mid_bureau_chief; high court: high_supervisor, high_president, high_bureau_chief, high_admin;
  password demo-password."
else
  DEMO="  No demo users (YG_ENVIRONMENT=$YG_ENVIRONMENT)."
fi

$BIN/temporal server start-dev \
  --db-filename "$VAR/temporal.db" --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$UI_PORT" \
  --ui-disable-news-fetch --log-level warn \
  --search-attribute YgCourt=Keyword --search-attribute YgStatus=Keyword --search-attribute YgHandler=Keyword \
  --search-attribute YgEarliestDue=Datetime --search-attribute YgOverdueLevel=Int \
  >"$VAR/temporal.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  $BIN/temporal operator cluster health --address "$YG_TEMPORAL_ADDRESS" >/dev/null 2>&1 && break
  sleep 0.5
done
$BIN/temporal operator cluster health --address "$YG_TEMPORAL_ADDRESS" >/dev/null || { cat "$VAR/temporal.log"; exit 1; }
# Closed cases stay readable for ten years: the dev server's default retention is one day.
$BIN/temporal operator namespace update --address "$YG_TEMPORAL_ADDRESS" -n default --retention 87600h >/dev/null

$BIN/python worker.py >>"$VAR/worker.log" 2>&1 &
pids+=($!)
$BIN/uvicorn api.app:create_app --factory --host "$YG_API_HOST" --port "$API_PORT" --log-level warning &
pids+=($!)
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$API_PORT/api/courts" >/dev/null 2>&1 && break
  sleep 0.5
done

DEMO_CASES="${YG_DEMO_CASES:-240}"
if [ "$YG_ENVIRONMENT" = dev ] && [ "$DEMO_CASES" != 0 ]; then
  mkdir -p "$VAR/log"
  YG_DEMO_CASES="$DEMO_CASES" $BIN/python -m db.demo_cases "http://127.0.0.1:$API_PORT" >>"$VAR/log/demo-cases.log" 2>&1 &
  demo_pid=$!
  DEMO="$DEMO
  Demo cases: $DEMO_CASES being filed in the background (about 3 minutes), see $VAR/log/demo-cases.log
  (its last line is a party-portal login: case number, ID number, phone and query code)."
fi

cat <<MSG

  阳光执行 Yangguang is running.
    Console (控制台)   http://127.0.0.1:$API_PORT/
    Party portal       http://127.0.0.1:$API_PORT/portal
    Public lists       http://127.0.0.1:$API_PORT/public
    API docs           http://127.0.0.1:$API_PORT/docs
    OpenAPI            http://127.0.0.1:$API_PORT/openapi.json
    Temporal UI        http://127.0.0.1:$UI_PORT/
$DEMO
  Logs: $VAR/temporal.log, $VAR/worker.log. Press Ctrl-C to stop everything.

MSG
wait -n "${pids[@]}"
echo "a process exited; see $VAR/*.log" >&2
exit 1
