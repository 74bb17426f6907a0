#!/usr/bin/env bash
# Stops, starts or restarts one component of the running local cluster, for
# chaos tests (an API server gone for a while, as in a control-plane upgrade).
#
#   component.sh stop    COMPONENT [--kill]  # SIGTERM (--kill: SIGKILL at once, a crash);
#                                            # returns once the process is gone and its ports are closed
#   component.sh start   COMPONENT           # same command line, config and environment as up.sh
#                                            # (lib-components.sh); returns once healthy
#   component.sh restart COMPONENT [--kill]  # stop, then start
#   component.sh status  [COMPONENT]         # exit 0 running and healthy, 1 running but
#                                            # unhealthy, 3 not running (all: worst of them)
#
# COMPONENT: containerd etcd kube-apiserver forward kube-controller-manager
# kube-scheduler kubelet kube-proxy, and node 2's own containerd-2 forward-2
# kubelet-2 (2-node cluster; node.sh adds or removes the whole node). status
# lists the components of the running cluster's node count. stop and start print one line each with
# the time taken; details go to stderr. The process is tracked in the same
# pids/COMPONENT.pid and appends to logs/COMPONENT.log (a marker line per
# stop/start), so down.sh and check-clean.sh work as after up.sh.
# Health: lc_health in lib-components.sh (kube-apiserver: /readyz over
# 127.0.0.1:6443 with the admin credentials; kubelet: healthz and node Ready).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

lc_components "$MAX_NODES"
all=("${LC_COMPONENTS[@]}")
usage() {
  echo "usage: component.sh stop|start|restart COMPONENT [--kill] | status [COMPONENT]" >&2
  echo "components: ${all[*]}" >&2
  exit 2
}

(($# >= 1)) || usage
action=$1 name=${2:-} opt=${3:-}
case "$action" in
  stop | restart) [[ -z "$opt" || "$opt" == --kill ]] || usage ;;
  start) [[ -z "$opt" ]] || usage ;;
  status) [[ -z "$opt" ]] || usage ;;
  *) usage ;;
esac
if [[ -n "$name" ]]; then
  known=false
  for c in "${all[@]}"; do [[ "$c" == "$name" ]] && known=true; done
  $known || { echo "component.sh: unknown component '$name'" >&2; usage; }
elif [[ "$action" != status ]]; then
  usage
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "component.sh: must run as root" >&2
  exit 1
fi

mark() { # mark TEXT: a line in the component's log
  mkdir -p "$DIR/logs"
  printf '==== %s component.sh: %s ====\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" >>"$DIR/logs/$name.log"
}

do_stop() {
  local pid t sig=TERM
  [[ "$opt" == --kill ]] && sig=KILL
  if ! pid=$(lc_pid "$name"); then
    rm -f "$DIR/pids/$name.pid"
    echo "$name not running"
    return 0
  fi
  t=$(lc_now)
  lc_stop "$name" "$(lc_grace "$name")" "$sig" || { echo "$name (pid $pid) did not stop" >&2; return 1; }
  mark "stopped $name (pid $pid, SIG$sig)"
  echo "$name stopped (pid $pid, SIG$sig) in $(lc_since "$t")s"
}

do_start() {
  local pid t
  if [[ ! -x "$LC" || ! -s "$PKI/ca.crt" || ! -d "$DIR/pids" ]]; then
    echo "component.sh: no cluster set up in $DIR; run up.sh" >&2
    return 1
  fi
  lc_split "$name"
  if ((LC_N > $(lc_node_count))); then
    echo "component.sh: node $LC_N is not part of the cluster; add it with node.sh add $LC_N" >&2
    return 1
  fi
  t=$(lc_now)
  if pid=$(lc_pid "$name"); then
    lc_log "$name already runs (pid $pid)"
  else
    mark "starting $name"
    lc_start "$name"
    pid=$(<"$DIR/pids/$name.pid")
  fi
  if ! lc_wait_healthy "$name"; then
    echo "$name (pid $pid) not healthy after $(lc_since "$t")s; see $DIR/logs/$name.log" >&2
    return 1
  fi
  echo "$name started (pid $pid), healthy in $(lc_since "$t")s"
}

status_of() { # status_of NAME: prints a line, returns 0 / 1 / 3
  local pid
  if ! pid=$(lc_pid "$1"); then
    echo "$1: not running"
    return 3
  fi
  if lc_health "$1" >/dev/null 2>&1; then
    echo "$1: running (pid $pid), healthy"
  else
    echo "$1: running (pid $pid), not healthy"
    return 1
  fi
}

case "$action" in
  stop) do_stop ;;
  start) do_start ;;
  restart) do_stop && do_start ;;
  status)
    if [[ -n "$name" ]]; then
      status_of "$name"
    else
      rc=0
      lc_components "$(lc_node_count)"
      for ((i = ${#LC_COMPONENTS[@]} - 1; i >= 0; i--)); do # in start order
        c=${LC_COMPONENTS[i]}
        status_of "$c" || { r=$?; ((r > rc)) && rc=$r; }
      done
      exit "$rc"
    fi
    ;;
esac
