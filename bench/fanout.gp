# p50 latency against the number of stdio backends, ours and mcp-hub's, one line per backend
# latency and kind of target: left, the merged tools/list (ours with the list cache off and on,
# ours over legacy SSE, mcp-hub over legacy SSE); right, a tools/call routed to one backend. The
# mock served directly at each latency is the dashed reference. Reads the CSV bench/run_fanout.sh
# writes (columns by number below; its rows are sorted so each line's points are consecutive).
#   gnuplot -e "csv='build/bench-results/fanout.csv'; out='docs/img/fanout.png'; latencies='0 10'" \
#     bench/fanout.gp
if (!exists("csv")) csv = 'build/bench-results/fanout.csv'
if (!exists("out")) out = 'docs/img/fanout.png'
if (!exists("latencies")) latencies = "0 10"

set datafile separator comma
set terminal pngcairo size 1600,600 font ",10"
set output out
set xlabel "backends"
set ylabel "p50 latency (ms, log scale)"
set logscale xy
set xtics (1, 2, 4, 8, 16, 32, 64, 128)
set grid xtics ytics mytics
set key outside right top vertical noenhanced

# Columns: 1 target, 2 kind, 3 side, 4 transport, 5 backends, 6 latency_ms, 7 cache, 8 method,
# 12 p50_ms. A cell mcp-hub could not do has no p50 (empty: no point).
series(k, s, t, l, c, m) = (strcol(2) eq k && strcol(3) eq s && strcol(4) eq t && strcol(6) eq l \
  && strcol(7) eq c && strcol(8) eq m) ? column(12) : NaN
stats csv using 5 nooutput
xmax = STATS_max
set xrange [0.8 : xmax * 1.25]
n = words(latencies)
L(i) = word(latencies, i)

set multiplot layout 1,2 title "Fan-out over stdio mocks: our proxy and mcp-hub, p50 vs backends"
set title "merged tools/list"
# The issue #18 targets: over 64 backends of 10 ms, p50 <= 12 ms uncached and <= 0.5 ms cached.
if (xmax >= 64 && strstrt(" ".latencies." ", " 10 ") > 0) {
  set label 1 "target (64 x 10 ms), uncached" at 64, 12 point pt 6 ps 2 lc rgb "black" right offset 1.5, -1.3
  set label 2 "target (64 x 10 ms), cached" at 64, 0.5 point pt 4 ps 2 lc rgb "black" right offset 1.5, -1.3
}
plot for [i = 1:n] csv using 5:(series("merged", "ours", "streamable-http", L(i), "uncached", "tools/list")) \
       with linespoints lw 2 pt 7 lc i title sprintf("ours, %s ms, uncached", L(i)), \
     for [i = 1:n] csv using 5:(series("merged", "ours", "streamable-http", L(i), "cached", "tools/list")) \
       with linespoints lw 2 pt 5 dt 3 lc i title sprintf("ours, %s ms, cached", L(i)), \
     for [i = 1:n] csv using 5:(series("merged", "ours", "sse", L(i), "cached", "tools/list")) \
       with linespoints lw 1 pt 4 dt 4 lc i title sprintf("ours /sse, %s ms, cached", L(i)), \
     for [i = 1:n] csv using 5:(series("hub", "mcp-hub", "sse", L(i), "held", "tools/list")) \
       with linespoints lw 2 pt 9 lc (i + n) title sprintf("mcp-hub (SSE), %s ms", L(i)), \
     for [i = 1:n] csv using (1):(series("direct", "-", "streamable-http", L(i), "-", "tools/list")):(xmax - 1):(0) \
       with vectors nohead dt 2 lw 1 lc i title sprintf("%s ms, mock directly", L(i))
unset label 1
unset label 2
set title "tools/call of s01__echo, routed to one backend" noenhanced
plot for [i = 1:n] csv using 5:(series("merged", "ours", "streamable-http", L(i), "cached", "tools/call")) \
       with linespoints lw 2 pt 7 lc i title sprintf("ours, %s ms", L(i)), \
     for [i = 1:n] csv using 5:(series("merged", "ours", "sse", L(i), "cached", "tools/call")) \
       with linespoints lw 1 pt 4 dt 4 lc i title sprintf("ours /sse, %s ms", L(i)), \
     for [i = 1:n] csv using 5:(series("hub", "mcp-hub", "sse", L(i), "held", "tools/call")) \
       with linespoints lw 2 pt 9 lc (i + n) title sprintf("mcp-hub (SSE), %s ms", L(i)), \
     for [i = 1:n] csv using (1):(series("direct", "-", "streamable-http", L(i), "-", "tools/call")):(xmax - 1):(0) \
       with vectors nohead dt 2 lw 1 lc i title sprintf("%s ms, mock directly", L(i))
unset multiplot
