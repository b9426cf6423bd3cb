// The Prometheus text format writer (protocol/metrics_text.hpp), the metrics registry
// (protocol/proxy_metrics.hpp) and the metrics keys of the config (mcpProxy.metrics, TBXark's
// mcpProxy.options.metrics).

#include "protocol/metrics_text.hpp"
#include "config/config.hpp"
#include "protocol/proxy_metrics.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <string>

namespace mcp_proxy::protocol {
namespace {

using L = metric_label;

TEST(MetricsText, family_has_help_and_type_lines_then_its_samples) {
  metrics_text t;
  ASSERT_TRUE(t.family("x_total", metric_type::counter, "Things.\nMore \\ text."));
  const L labels[] = {{"route", "a"}};
  ASSERT_TRUE(t.sample(labels, std::uint64_t{3}));
  ASSERT_TRUE(t.family("y", metric_type::gauge, "A gauge."));
  ASSERT_TRUE(t.sample({}, std::int64_t{-2}));
  EXPECT_EQ(t.text(),
            "# HELP x_total Things.\\nMore \\\\ text.\n"
            "# TYPE x_total counter\n"
            "x_total{route=\"a\"} 3\n"
            "# HELP y A gauge.\n"
            "# TYPE y gauge\n"
            "y -2\n");
}

TEST(MetricsText, label_values_are_escaped) {
  metrics_text t;
  ASSERT_TRUE(t.family("g", metric_type::gauge, "h"));
  const L labels[] = {{"a", "back\\slash \"quoted\"\nline"}, {"b", ""}};
  ASSERT_TRUE(t.sample(labels, 1.5));
  EXPECT_NE(t.text().find("g{a=\"back\\\\slash \\\"quoted\\\"\\nline\",b=\"\"} 1.5\n"),
            std::string::npos)
      << t.text();
}

TEST(MetricsText, invalid_names_are_refused_and_write_nothing) {
  metrics_text t;
  EXPECT_FALSE(t.family("1abc", metric_type::gauge, "h"));
  EXPECT_FALSE(t.family("a-b", metric_type::gauge, "h"));
  EXPECT_FALSE(t.family("", metric_type::gauge, "h"));
  EXPECT_FALSE(t.family("no_suffix", metric_type::counter, "a counter ends in _total"));
  EXPECT_TRUE(t.text().empty());
  ASSERT_TRUE(t.family("ns:g", metric_type::gauge, "colons are allowed in metric names"));
  const std::string before = t.text();
  const L reserved[] = {{"__name", "x"}};
  const L dashed[] = {{"a-b", "x"}};
  const L digit[] = {{"9a", "x"}};
  const L twice[] = {{"a", "1"}, {"a", "2"}};
  EXPECT_FALSE(t.sample(reserved, 1.0));
  EXPECT_FALSE(t.sample(dashed, 1.0));
  EXPECT_FALSE(t.sample(digit, 1.0));
  EXPECT_FALSE(t.sample(twice, 1.0));
  EXPECT_EQ(t.text(), before);
}

TEST(MetricsText, a_sample_needs_a_family_and_a_series_appears_once) {
  metrics_text t;
  EXPECT_FALSE(t.sample({}, 1.0));
  ASSERT_TRUE(t.family("g", metric_type::gauge, "h"));
  const L ab[] = {{"a", "1"}, {"b", "2"}};
  const L ba[] = {{"b", "2"}, {"a", "1"}};
  const L other[] = {{"a", "1"}, {"b", "3"}};
  EXPECT_TRUE(t.sample(ab, 1.0));
  EXPECT_FALSE(t.sample(ba, 2.0)) << "the same label set in another order is the same series";
  EXPECT_TRUE(t.sample(other, 3.0));
  EXPECT_FALSE(t.family("g", metric_type::gauge, "a family is written once"));
}

TEST(MetricsText, counters_refuse_negative_and_nan_values) {
  metrics_text t;
  ASSERT_TRUE(t.family("c_total", metric_type::counter, "h"));
  const L a[] = {{"a", "1"}};
  const L b[] = {{"a", "2"}};
  EXPECT_FALSE(t.sample(a, -1.0));
  EXPECT_FALSE(t.sample(a, std::nan("")));
  EXPECT_FALSE(t.sample(a, std::int64_t{-1}));
  EXPECT_TRUE(t.sample(a, 0.25));
  EXPECT_TRUE(t.sample(b, std::numeric_limits<double>::infinity()));
  EXPECT_NE(t.text().find("c_total{a=\"2\"} +Inf\n"), std::string::npos) << t.text();
}

TEST(MetricsText, histogram_buckets_are_cumulative_and_end_with_inf_then_sum_and_count) {
  metrics_text t;
  ASSERT_TRUE(t.family("lat_seconds", metric_type::histogram, "h"));
  const std::array<double, 3> bounds{0.1, 1, 2.5};
  const std::array<std::uint64_t, 4> counts{2, 0, 3, 1};
  const L labels[] = {{"route", "r"}};
  ASSERT_TRUE(t.histogram(labels, bounds, counts, 7.25));
  EXPECT_EQ(t.text(),
            "# HELP lat_seconds h\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{route=\"r\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{route=\"r\",le=\"1\"} 2\n"
            "lat_seconds_bucket{route=\"r\",le=\"2.5\"} 5\n"
            "lat_seconds_bucket{route=\"r\",le=\"+Inf\"} 6\n"
            "lat_seconds_sum{route=\"r\"} 7.25\n"
            "lat_seconds_count{route=\"r\"} 6\n");
}

TEST(MetricsText, histogram_rules_are_enforced) {
  metrics_text t;
  ASSERT_TRUE(t.family("h", metric_type::histogram, "h"));
  const std::array<double, 2> bounds{1, 2};
  const std::array<double, 2> unsorted{2, 1};
  const std::array<double, 2> infinite{1, std::numeric_limits<double>::infinity()};
  const std::array<std::uint64_t, 3> counts{1, 1, 1};
  const std::array<std::uint64_t, 2> short_counts{1, 1};
  const L le[] = {{"le", "1"}};
  EXPECT_FALSE(t.histogram({}, unsorted, counts, 1));
  EXPECT_FALSE(t.histogram({}, infinite, counts, 1));
  EXPECT_FALSE(t.histogram({}, bounds, short_counts, 1));
  EXPECT_FALSE(t.histogram(le, bounds, counts, 1)) << "le is the bucket's label";
  EXPECT_FALSE(t.sample({}, 1.0)) << "a histogram has no plain samples";
  EXPECT_TRUE(t.histogram({}, bounds, counts, 1));
  EXPECT_FALSE(t.histogram({}, bounds, counts, 1)) << "the same series twice";
  // Its sample names are taken.
  EXPECT_FALSE(t.family("h_bucket", metric_type::gauge, "h"));
  EXPECT_FALSE(t.family("h_count", metric_type::gauge, "h"));
}

TEST(MetricsText, values_are_written_as_the_format_reads_them) {
  EXPECT_EQ(metrics_text::format_value(1), "1");
  EXPECT_EQ(metrics_text::format_value(0.005), "0.005");
  EXPECT_EQ(metrics_text::format_value(-2.5), "-2.5");
  EXPECT_EQ(metrics_text::format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(metrics_text::format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(metrics_text::format_value(std::nan("")), "NaN");
  EXPECT_EQ(std::stod(metrics_text::format_value(0.1 + 0.2)), 0.1 + 0.2);
}

// --- the registry -------------------------------------------------------------------------------

TEST(ProxyMetrics, latency_lands_in_the_first_bucket_whose_bound_it_does_not_exceed) {
  metrics::latency_histogram h;
  h.observe(std::chrono::microseconds(500));  // <= 1 ms
  h.observe(std::chrono::milliseconds(1));    // == 1 ms: the same bucket (le is inclusive)
  h.observe(std::chrono::milliseconds(7));    // <= 10 ms
  h.observe(std::chrono::seconds(600));       // beyond 120 s: +Inf
  h.observe(std::chrono::microseconds(-5));   // a clock step: 0
  EXPECT_EQ(h.counts[0], 3u);
  EXPECT_EQ(h.counts[2], 1u);
  EXPECT_EQ(h.counts.back(), 1u);
  EXPECT_EQ(h.sum_us, 500u + 1000u + 7000u + 600'000'000u);
}

TEST(ProxyMetrics, outcomes_and_limits_are_named_as_the_audit_log_and_config_name_them) {
  using metrics::outcome;
  auto error = [](std::int64_t code) { return jsonrpc::message::error_response(1, code, "x"); };
  EXPECT_EQ(metrics::outcome_of(jsonrpc::message::response(1, boost::json::object{})), outcome::ok);
  EXPECT_EQ(metrics::outcome_of(error(jsonrpc::error_codes::rate_limited)), outcome::refused);
  EXPECT_EQ(metrics::outcome_of(error(jsonrpc::error_codes::request_timeout)), outcome::timeout);
  EXPECT_EQ(metrics::outcome_of(error(-32602)), outcome::error);
  EXPECT_EQ(metrics::limit_kind_of("requests per second"), metrics::limit_kind::requests);
  EXPECT_EQ(metrics::limit_kind_of("tool calls per second"), metrics::limit_kind::tool_calls);
  EXPECT_EQ(metrics::limit_kind_of("calls of tools matching x*"),
            metrics::limit_kind::tool_pattern);
  EXPECT_EQ(metrics::limit_kind_of("calls in flight"), metrics::limit_kind::calls_in_flight);
}

TEST(ProxyMetrics, unknown_methods_share_one_label) {
  using metrics::registry;
  EXPECT_EQ(registry::method_name(registry::method("tools/call")), "tools/call");
  EXPECT_EQ(registry::method_name(registry::method("x/made-up")), "other");
  EXPECT_EQ(registry::method("x/made-up"), registry::method("y/another"));
}

TEST(ProxyMetrics, render_lists_what_was_counted_once_per_series) {
  metrics::registry r;
  r.set_on(true);
  const auto route = r.name("fs");
  const auto backend = r.name("fs");
  EXPECT_EQ(route, backend) << "a name is interned once";
  EXPECT_EQ(r.name(""), 0u);
  const auto call = metrics::registry::method("tools/call");
  r.answered(route, call, backend, metrics::outcome::ok, std::chrono::milliseconds(3));
  r.answered(route, call, backend, metrics::outcome::ok, std::chrono::milliseconds(30));
  r.answered(0, call, 0, metrics::outcome::refused, {});
  r.backend_answered(backend, call, std::chrono::milliseconds(2));
  r.left_out("", "web");
  r.left_out("", "web");
  r.refused(metrics::limit_kind::tool_calls);
  r.call_started(route);
  r.client_received(10);
  r.client_sent(20);
  r.backend_sent(backend, 5);
  auto session = r.session_opened(metrics::session_era::modern, metrics::session_mode::merged);
  backend_status fs;
  fs.name = "fs";
  fs.state = backend_state::backing_off;
  fs.restarts = 2;
  const auto text = r.render(std::span(&fs, 1), "9.9.9");
  auto has = [&](std::string_view line) {
    EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << text;
  };
  has("mcp_proxy_build_info{version=\"9.9.9\"} 1");
  has("mcp_proxy_requests_total{route=\"fs\",method=\"tools/call\",backend=\"fs\",outcome=\"ok\"} "
      "2");
  has("mcp_proxy_requests_total{route=\"*\",method=\"tools/"
      "call\",backend=\"\",outcome=\"refused\"} "
      "1");
  has("mcp_proxy_request_duration_seconds_bucket{route=\"fs\",method=\"tools/call\",le=\"0.005\"} "
      "1");
  has("mcp_proxy_request_duration_seconds_count{route=\"fs\",method=\"tools/call\"} 2");
  has("mcp_proxy_request_duration_seconds_sum{route=\"fs\",method=\"tools/call\"} 0.033");
  has("mcp_proxy_backend_request_duration_seconds_count{backend=\"fs\",method=\"tools/call\"} 1");
  has("mcp_proxy_fanout_left_out_total{route=\"*\",member=\"web\"} 2");
  has("mcp_proxy_rate_limited_total{limit=\"toolCallsPerSecond\"} 1");
  has("mcp_proxy_rate_limited_total{limit=\"requestsPerSecond\"} 0");
  has("mcp_proxy_calls_in_flight{route=\"fs\"} 1");
  has("mcp_proxy_sessions{era=\"modern\",mode=\"merged\"} 1");
  has("mcp_proxy_sessions{era=\"legacy\",mode=\"shared\"} 0");
  has("mcp_proxy_backend_state{backend=\"fs\",state=\"backing-off\"} 1");
  has("mcp_proxy_backend_state{backend=\"fs\",state=\"ready\"} 0");
  has("mcp_proxy_backend_restarts_total{backend=\"fs\"} 2");
  has("mcp_proxy_client_received_bytes_total 10");
  has("mcp_proxy_client_sent_bytes_total 20");
  has("mcp_proxy_backend_sent_bytes_total{backend=\"fs\"} 5");
  has("mcp_proxy_backend_received_bytes_total{backend=\"fs\"} 0");
  session.release();
  EXPECT_NE(r.render({}, "1").find("mcp_proxy_sessions{era=\"modern\",mode=\"merged\"} 0\n"),
            std::string::npos);
}

}  // namespace
}  // namespace mcp_proxy::protocol

// --- the configuration --------------------------------------------------------------------------

namespace mcp_proxy::config {
namespace {

constexpr std::string_view servers = R"("mcpServers": {"s": {"command": "x"}})";

config parse_ok(const std::string& proxy) {
  const std::string text = "{\"mcpProxy\": " + proxy + ", " + std::string(servers) + "}";
  auto r = parse_config(text, "cfg.json");
  EXPECT_TRUE(r.has_value()) << text << "\n-> " << (r.has_error() ? r.error().message : "");
  return r.has_value() ? *r : config{};
}

std::string parse_error(const std::string& proxy) {
  const std::string text = "{\"mcpProxy\": " + proxy + ", " + std::string(servers) + "}";
  auto r = parse_config(text, "cfg.json");
  EXPECT_TRUE(r.has_error()) << text;
  return r.has_error() ? r.error().message : std::string();
}

TEST(MetricsConfig, metrics_are_served_at_slash_metrics_by_default) {
  const auto c = parse_ok("{}");
  EXPECT_TRUE(c.proxy.metrics.enabled);
  EXPECT_EQ(c.proxy.metrics.path, "/metrics");
  EXPECT_EQ(c.proxy.metrics.addr, "");
}

TEST(MetricsConfig, own_keys_move_turn_off_and_give_a_listener) {
  auto c = parse_ok(R"({"metrics": {"endpointPath": "/m", "addr": "127.0.0.1:9464"}})");
  EXPECT_TRUE(c.proxy.metrics.enabled);
  EXPECT_EQ(c.proxy.metrics.path, "/m");
  EXPECT_EQ(c.proxy.metrics.addr, "127.0.0.1:9464");
  EXPECT_FALSE(parse_ok(R"({"metrics": {"enabled": false}})").proxy.metrics.enabled);
  EXPECT_FALSE(parse_ok(R"({"metrics": {"disableEndpoint": true}})").proxy.metrics.enabled);
}

TEST(MetricsConfig, tbxark_options_metrics_mean_what_tbxark_reads) {
  // An object without "enabled" turns metrics off, as TBXark's Go struct reads it.
  EXPECT_FALSE(
      parse_ok(R"({"options": {"metrics": {"endpointPath": "/m"}}})").proxy.metrics.enabled);
  auto c = parse_ok(
      R"({"options": {"metrics": {"enabled": true, "collectInterval": "15s", "endpointPath": "/prom"}}})");
  EXPECT_TRUE(c.proxy.metrics.enabled);
  EXPECT_EQ(c.proxy.metrics.path, "/prom");
  EXPECT_FALSE(parse_ok(R"({"options": {"metrics": {"enabled": true, "disableEndpoint": true}}})")
                   .proxy.metrics.enabled);
}

TEST(MetricsConfig, bad_values_are_errors_that_name_the_key) {
  EXPECT_NE(parse_error(R"({"metrics": {"endpointPath": "metrics"}})")
                .find("$.mcpProxy.metrics.endpointPath"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"metrics": {"endpointPath": "/readyz"}})").find("probe"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"metrics": {"endpointPath": "/fs/mcp"}})").find("MCP route"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"metrics": {"addr": "nowhere"}})").find("$.mcpProxy.metrics.addr"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"metrics": {"enabled": "yes"}})").find("$.mcpProxy.metrics.enabled"),
            std::string::npos);
  const auto twice = parse_error(R"({"metrics": {}, "options": {"metrics": {"enabled": true}}})");
  EXPECT_NE(twice.find("keep one"), std::string::npos) << twice;
}

}  // namespace
}  // namespace mcp_proxy::config
