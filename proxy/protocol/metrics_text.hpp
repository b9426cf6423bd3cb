#pragma once
// The Prometheus text exposition format, version 0.0.4 (what GET /metrics answers with
// `Content-Type: text/plain; version=0.0.4`), written without I/O. A small writer of our own
// rather than prometheus-cpp: the proxy's counters are plain integers touched by one thread, and
// only the text of them is needed at a scrape; the writer keeps the format's rules in one place
// (tests/unit/metrics_text_test.cpp checks them):
// - each family once, as `# HELP` (text escaped: `\\`, `\n`) and `# TYPE`, its samples together;
// - metric names `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*` not starting
//   with `__`; label values escaped (`\\`, `\"`, `\n`);
// - no series twice in a family (the same label set, in any order);
// - a histogram as cumulative `_bucket{le="..."}` series ending with `le="+Inf"`, then `_sum`
//   and `_count` (the +Inf bucket's count); `le` is not a label of its own.
// A call that would break a rule writes nothing and returns false (a bug in the caller, never
// a malformed exposition).
// Thread-safety: a plain value.

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>

namespace mcp_proxy::protocol {

enum class metric_type { counter, gauge, histogram };

struct metric_label {
  std::string_view name;
  std::string_view value;
};

class metrics_text {
 public:
  // Starts a family (its HELP and TYPE lines). A counter's name ends in `_total`.
  bool family(std::string_view name, metric_type type, std::string_view help);
  // A sample of the current counter or gauge family.
  bool sample(std::span<const metric_label> labels, std::uint64_t value);
  bool sample(std::span<const metric_label> labels, std::int64_t value);
  bool sample(std::span<const metric_label> labels, double value);
  // A series of the current histogram family: `upper_bounds` ascending and finite, `counts` one
  // per bound plus one for +Inf, each the observations in that bucket alone (not cumulative).
  bool histogram(std::span<const metric_label> labels, std::span<const double> upper_bounds,
                 std::span<const std::uint64_t> counts, double sum);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

  // The format's value text: integers as such, +Inf, -Inf, NaN, else the shortest decimal
  // that reads back as the same double.
  static std::string format_value(double v);
  static bool valid_metric_name(std::string_view name);
  static bool valid_label_name(std::string_view name);
  static std::string escape_label_value(std::string_view v);
  static std::string escape_help(std::string_view help);

 private:
  // Checks the labels and that the series is new in the family; the `{...}` text (empty for no
  // labels), or false.
  bool series(std::span<const metric_label> labels, std::string& text);
  void write_sample(std::string_view name, const std::string& labels, std::string_view extra_label,
                    std::string_view value);

  std::string out_;
  std::string family_;  // the current family; empty before the first
  metric_type type_ = metric_type::gauge;
  std::set<std::string> names_;          // every family name and, for histograms, its suffixes
  std::set<std::string> family_series_;  // label sets of the current family (sorted by name)
};

}  // namespace mcp_proxy::protocol
