# lib.sh - shared helpers of the bench/ scripts (sourced, not run).
#
# wrk_2xx URL [wrk args...]: run wrk and print "RPS2XX P50_MS P99_MS ERRORS",
# counting only successful answers: wrk reports all responses, so the
# non-2xx/3xx count and socket errors are subtracted before dividing.

wrk_2xx() {
	local url=$1 out total non2xx secs p50 p99 errs
	shift
	out=$(wrk --latency "$@" "$url" 2>&1) || { echo "0 0 0 wrk-failed"; return 1; }
	total=$(printf '%s\n' "$out" | awk '/requests in/ {print $1}')
	secs=$(printf '%s\n' "$out" | awk '/requests in/ {gsub(/s,/,"",$4); print $4}')
	non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx or 3xx/ {print $5}')
	errs=$(printf '%s\n' "$out" | awk '/Socket errors/ {gsub(/,/,""); print $4+$6+$8+$10}')
	p50=$(printf '%s\n' "$out" | awk '$1=="50%" {print $2}')
	p99=$(printf '%s\n' "$out" | awk '$1=="99%" {print $2}')
	awk -v t="${total:-0}" -v n="${non2xx:-0}" -v s="${secs:-1}" -v p50="$p50" -v p99="$p99" -v e="${errs:-0}" '
		function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
		BEGIN { printf "%.0f %.3f %.3f %d\n", (t-n)/s, ms(p50), ms(p99), n+e }'
}
