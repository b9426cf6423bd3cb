# p50 latency of the merged endpoint's tools/list against the number of stdio backends, one line
# per backend list latency x list cache (cached: default listCacheTTL; uncached: "0"), and the
# mock served directly at each latency as a dashed reference. Reads the CSV bench/run_fanout.sh
# writes (columns by name below; its rows are sorted so each line's points are consecutive).
#   gnuplot -e "csv='build/bench-results/fanout.csv'; out='docs/img/fanout.png'; latencies='0 10'" \
#     bench/fanout.gp
if (!exists("csv")) csv = 'build/bench-results/fanout.csv'
if (!exists("out")) out = 'docs/img/fanout.png'

set datafile separator comma
set terminal pngcairo size 900,560 font ",10"
set output out
set title "Merged tools/list: p50 latency vs number of stdio backends"
set xlabel "backends"
set ylabel "p50 latency (ms, log scale)"
set logscale xy
set xtics (1, 2, 4, 8, 16, 32, 64, 128)
set grid xtics ytics mytics
set key outside right top

# Columns: 1 target, 2 kind, 3 backends, 4 latency_ms, 5 cache, 6 method, 10 p50_ms.
series(k, l, c) = (strcol(2) eq k && strcol(4) eq l && strcol(5) eq c && strcol(6) eq "tools/list") \
  ? column(10) : NaN
if (!exists("latencies")) latencies = "0 10"
stats csv using 3 nooutput
xmax = STATS_max
set xrange [0.8 : xmax * 1.25]

n = words(latencies)
# The issue #7 target: over 64 backends of 10 ms, p50 <= 12 ms uncached and <= 1 ms cached.
if (xmax >= 64 && strstrt(" ".latencies." ", " 10 ") > 0) {
  set label 1 "target (64 x 10 ms), uncached" at 64, 12 point pt 6 ps 2 lc rgb "black" right offset 1.5, -1.3
  set label 2 "target (64 x 10 ms), cached" at 64, 1 point pt 4 ps 2 lc rgb "black" right offset 1.5, -1.3
}
plot for [i = 1:n] csv using 3:(series("merged", word(latencies, i), "uncached")) \
       with linespoints lw 2 pt 7 lc i title sprintf("%s ms, uncached", word(latencies, i)), \
     for [i = 1:n] csv using 3:(series("merged", word(latencies, i), "cached")) \
       with linespoints lw 2 pt 5 dt 3 lc (i + n) title sprintf("%s ms, cached", word(latencies, i)), \
     for [i = 1:n] csv using (1):(series("direct", word(latencies, i), "-")):(xmax - 1):(0) \
       with vectors nohead dt 2 lw 1 lc i title sprintf("%s ms, mock directly", word(latencies, i))
