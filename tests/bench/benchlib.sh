# benchlib.sh: what the benchmark scripts share (sourced, not run).
#
# measure COMMAND...: runs COMMAND $repeat times (its output to /dev/null)
# under /usr/bin/time and prints "secs cpu kib": the best wall-clock
# seconds, the CPU seconds of that run, and the peak RSS. Needs $work (a
# scratch directory) and $repeat; a failing command stops the script with
# its first words of stderr.
measure() {
  local best="" cpu=0 rss=0
  for _ in $(seq "$repeat"); do
    /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$@" > /dev/null 2> "$work/err" || {
      echo "$(basename "$0"): failed: $* ($(head -c 300 "$work/err"))" >&2; exit 1; }
    read -r secs user sys kib < <(tail -1 "$work/t")
    if [ -z "$best" ] || (( $(echo "$secs < $best" | bc) )); then
      best=$secs; cpu=$(echo "$user + $sys" | bc)
    fi
    rss=$kib
  done
  [ "$(echo "$best == 0" | bc)" = 1 ] && best=0.01
  echo "$best $cpu $rss"
}
