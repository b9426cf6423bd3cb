# tools/call latency (p50, p99) and calls/s against concurrency, one line per target (the mock
# directly, our proxy over stdio and Streamable HTTP, the npm peers). Reads the CSV
# bench/run_overhead.sh writes (columns by number below; its rows are grouped by target).
#   gnuplot -e "csv='build/bench-results/overhead.csv'; out='docs/img/overhead.png'; \
#     targets='direct proxy-stdio proxy-http mcp-proxy-js supergateway'" bench/overhead.gp
if (!exists("csv")) csv = 'build/bench-results/overhead.csv'
if (!exists("out")) out = 'docs/img/overhead.png'
if (!exists("targets")) targets = "direct proxy-stdio proxy-http mcp-proxy-js supergateway"

set datafile separator comma
set terminal pngcairo size 1500,480 font ",10"
set output out
set logscale xy
set xtics (1, 2, 4, 8, 16, 32, 64, 128, 256)
set xlabel "concurrent connections (one session)"
set grid xtics ytics mytics
set key top left

# Columns: 1 target, 2 concurrency, 5 p50_us, 7 p99_us, 9 calls_per_s.
pick(name, col) = (strcol(1) eq name) ? column(col) : NaN
n = words(targets)

set multiplot layout 1,3 title "tools/call of the mock's echo: direct, through our proxy, through the npm peers"
set title "p50 latency"
set ylabel "µs (log scale)"
plot for [i = 1:n] csv using 2:(pick(word(targets, i), 5)) every ::1 \
  with linespoints lw 2 pt 7 lc i title word(targets, i)
set title "p99 latency"
plot for [i = 1:n] csv using 2:(pick(word(targets, i), 7)) every ::1 \
  with linespoints lw 2 pt 7 lc i title word(targets, i)
set title "throughput"
set ylabel "calls/s (log scale)"
plot for [i = 1:n] csv using 2:(pick(word(targets, i), 9)) every ::1 \
  with linespoints lw 2 pt 7 lc i title word(targets, i)
unset multiplot
