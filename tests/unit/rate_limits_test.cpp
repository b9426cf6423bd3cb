#include "auth/rate_limits.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mcp_proxy::auth {
namespace {

using namespace std::chrono_literals;
using clock = limits_clock;

const clock::time_point t0 = clock::time_point(1000h);

clock::time_point at(double seconds) {
  return t0 + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
}

int take_all(token_bucket& b, clock::time_point now) {
  int n = 0;
  while (b.take(now) && n < 1000) ++n;
  return n;
}

// --- token_bucket ---

TEST(token_bucket, starts_full_and_allows_the_burst) {
  token_bucket b(1, 3);
  EXPECT_EQ(b.tokens(t0), 3);
  EXPECT_TRUE(b.take(t0));
  EXPECT_TRUE(b.take(t0));
  EXPECT_TRUE(b.take(t0));
  EXPECT_FALSE(b.take(t0));
  EXPECT_FALSE(b.can_take(t0));
}

TEST(token_bucket, refills_continuously_at_the_rate) {
  token_bucket b(2, 2);
  EXPECT_EQ(take_all(b, t0), 2);
  EXPECT_FALSE(b.take(at(0.4)));  // 0.8 tokens
  EXPECT_DOUBLE_EQ(b.tokens(at(0.4)), 0.8);
  EXPECT_TRUE(b.take(at(0.5)));  // 1.0
  EXPECT_FALSE(b.take(at(0.5)));
  EXPECT_TRUE(b.take(at(1.0)));
  EXPECT_FALSE(b.take(at(1.0)));
}

TEST(token_bucket, a_refused_take_costs_nothing) {
  token_bucket b(1, 1);
  EXPECT_TRUE(b.take(t0));
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(b.take(at(0.1 * i)));
  EXPECT_TRUE(b.take(at(1.0)));
}

TEST(token_bucket, fractional_refill_rounding_still_yields_a_token) {
  token_bucket b(3, 1);
  EXPECT_TRUE(b.take(t0));
  // A third of a second in nanoseconds refills 0.999999999 tokens.
  EXPECT_TRUE(b.take(t0 + std::chrono::nanoseconds(333'333'333)));
}

TEST(token_bucket, long_idle_refills_up_to_the_burst_only) {
  token_bucket b(100, 5);
  EXPECT_EQ(take_all(b, t0), 5);
  EXPECT_EQ(b.tokens(t0 + 24h * 365 * 50), 5);
  EXPECT_EQ(take_all(b, t0 + 24h * 365 * 50), 5);
}

TEST(token_bucket, retry_after_rounds_up_to_whole_seconds) {
  token_bucket slow(0.25, 1);  // one token per 4 s
  ASSERT_TRUE(slow.take(t0));
  EXPECT_EQ(slow.retry_after(t0), 4s);
  EXPECT_EQ(slow.retry_after(at(0.5)), 4s);  // 3.5 s
  EXPECT_EQ(slow.retry_after(at(1.0)), 3s);  // exactly 3 s
  EXPECT_EQ(slow.retry_after(at(2.9)), 2s);  // 1.1 s
  EXPECT_EQ(slow.retry_after(at(3.5)), 1s);  // 0.5 s

  token_bucket half(0.5, 1);
  ASSERT_TRUE(half.take(t0));
  EXPECT_EQ(half.retry_after(t0), 2s);
}

TEST(token_bucket, retry_after_is_at_least_one_second) {
  token_bucket fast(10, 1);
  ASSERT_TRUE(fast.take(t0));
  EXPECT_EQ(fast.retry_after(t0), 1s);     // 0.1 s
  EXPECT_EQ(fast.retry_after(at(5)), 1s);  // a token is there
}

TEST(token_bucket, time_going_backwards_refills_nothing) {
  token_bucket b(1, 2);
  EXPECT_EQ(take_all(b, at(10)), 2);
  EXPECT_FALSE(b.take(t0));         // 10 s back
  EXPECT_FALSE(b.take(at(-1000)));  // far back
  EXPECT_EQ(b.tokens(t0), 0);
  EXPECT_EQ(b.retry_after(t0), 1s);
  // Forward again: counted from the latest time seen (10 s), not from the earlier ones.
  EXPECT_FALSE(b.take(at(10.5)));
  EXPECT_TRUE(b.take(at(11)));
  EXPECT_FALSE(b.take(at(11)));
}

TEST(token_bucket, a_take_in_the_past_does_not_move_the_clock_back) {
  token_bucket b(1, 2);
  ASSERT_TRUE(b.take(at(10)));  // 1 left
  ASSERT_TRUE(b.take(t0));      // the past: no refill, takes the last one, clock stays at 10 s
  EXPECT_FALSE(b.take(at(10)));
  EXPECT_TRUE(b.take(at(11)));
}

TEST(token_bucket, full_at_is_when_the_burst_is_back) {
  token_bucket b(2, 4);
  EXPECT_EQ(b.full_at(), clock::time_point::min());
  EXPECT_EQ(take_all(b, t0), 4);
  EXPECT_EQ(b.full_at(), at(2));
  EXPECT_TRUE(b.take(at(1)));  // 1 of 2 refilled taken: 3 missing, 1.5 s at 2 per second
  EXPECT_EQ(b.full_at(), at(2.5));
}

TEST(token_bucket, out_of_range_settings_are_clamped_not_undefined) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (auto [rate, burst] : std::vector<std::pair<double, double>>{
           {0, 0}, {-5, -5}, {nan, nan}, {inf, inf}, {1e-300, 0.5}}) {
    token_bucket b(rate, burst);
    EXPECT_GT(b.per_second(), 0);
    EXPECT_GE(b.burst(), 1);
    EXPECT_TRUE(b.take(t0));
    auto r = b.retry_after(t0);
    EXPECT_GE(r, 1s);
    EXPECT_LE(r, std::chrono::seconds(1'000'000'000));
  }
}

// --- identity_limits ---

limits_config requests(double rate, double burst) {
  limits_config c;
  c.defaults.requests_per_second = rate;
  c.defaults.request_burst = burst;
  return c;
}

tool_limit tool(std::string pattern, double rate, double burst = 0) {
  return {std::move(pattern), rate, burst};
}

TEST(identity_limits, no_limits_admit_everything_and_keep_nothing) {
  identity_limits l({});
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(l.admit_request("token:a", t0));
    EXPECT_FALSE(l.admit_tool_call("token:a", "anything", t0));
    EXPECT_TRUE(std::holds_alternative<identity_limits::call_slot>(l.acquire_call("token:a")));
  }
  EXPECT_EQ(l.tracked_principals(), 0u);
}

TEST(identity_limits, requests_per_second_apply_to_each_identity_alone) {
  identity_limits l(requests(1, 2));
  EXPECT_FALSE(l.admit_request("jwt:alice", t0));
  EXPECT_FALSE(l.admit_request("jwt:alice", t0));
  auto refused = l.admit_request("jwt:alice", t0);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->what, "requests per second");
  EXPECT_EQ(refused->retry_after, 1s);
  // Another identity has its own bucket; unauthenticated clients share "".
  EXPECT_FALSE(l.admit_request("jwt:bob", t0));
  EXPECT_FALSE(l.admit_request("", t0));
  EXPECT_FALSE(l.admit_request("", t0));
  EXPECT_TRUE(l.admit_request("", t0));
  // Refilled a second later.
  EXPECT_FALSE(l.admit_request("jwt:alice", at(1)));
  EXPECT_TRUE(l.admit_request("jwt:alice", at(1)));
}

TEST(identity_limits, requests_and_tool_calls_are_separate_limits) {
  limits_config c = requests(1, 1);
  c.defaults.tool_calls_per_second = 0.5;
  c.defaults.tool_call_burst = 1;
  identity_limits l(c);
  EXPECT_FALSE(l.admit_request("token:a", t0));
  EXPECT_TRUE(l.admit_request("token:a", t0));
  EXPECT_FALSE(l.admit_tool_call("token:a", "echo", t0));  // its own bucket
  auto refused = l.admit_tool_call("token:a", "echo", t0);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->what, "tool calls per second");
  EXPECT_EQ(refused->retry_after, 2s);
  EXPECT_FALSE(l.admit_request("token:a", at(1)));
  EXPECT_TRUE(l.admit_tool_call("token:a", "echo", at(1)));
  EXPECT_FALSE(l.admit_tool_call("token:a", "echo", at(2)));
}

TEST(identity_limits, a_tool_pattern_limits_the_matching_tools_together) {
  limits_config c;
  c.defaults.per_tool = {tool("fs_*", 1, 2)};
  identity_limits l(c);
  EXPECT_FALSE(l.admit_tool_call("token:a", "fs_read", t0));
  EXPECT_FALSE(l.admit_tool_call("token:a", "fs_write", t0));
  auto refused = l.admit_tool_call("token:a", "fs_list", t0);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->what, "calls of tools matching fs_*");
  EXPECT_EQ(refused->retry_after, 1s);
  // Tools that do not match are not limited by it.
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(l.admit_tool_call("token:a", "echo", t0));
  // Nor is another identity.
  EXPECT_FALSE(l.admit_tool_call("token:b", "fs_read", t0));
}

TEST(identity_limits, a_refused_tool_call_takes_no_token_from_any_bucket) {
  limits_config c;
  c.defaults.tool_calls_per_second = 1;
  c.defaults.tool_call_burst = 1;
  c.defaults.per_tool = {tool("fs_*", 0.001, 1), tool("*_read", 0.001, 1)};
  identity_limits l(c);
  // The identity's bucket is empty: fs_read is refused, and its two pattern buckets keep
  // their tokens.
  EXPECT_FALSE(l.admit_tool_call("token:a", "echo", t0));
  auto refused = l.admit_tool_call("token:a", "fs_read", t0);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->what, "tool calls per second");
  EXPECT_FALSE(l.admit_tool_call("token:a", "fs_read", at(1)));  // took from all three
  // Now fs_* and *_read are empty (1000 s each) but the identity's bucket refills: db_read is
  // refused by *_read alone, and takes nothing from the identity's bucket.
  EXPECT_TRUE(l.admit_tool_call("token:a", "db_read", at(2)));
  EXPECT_FALSE(l.admit_tool_call("token:a", "echo", at(2)));
  EXPECT_TRUE(l.admit_tool_call("token:a", "echo", at(2)));
}

TEST(identity_limits, the_refusal_names_the_limit_that_frees_up_last) {
  limits_config c;
  c.defaults.tool_calls_per_second = 1;
  c.defaults.tool_call_burst = 1;
  c.defaults.per_tool = {tool("fs_*", 0.1, 1), tool("*", 0.5, 1)};
  identity_limits l(c);
  EXPECT_FALSE(l.admit_tool_call("token:a", "fs_read", t0));
  auto refused = l.admit_tool_call("token:a", "fs_read", t0);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->what, "calls of tools matching fs_*");
  EXPECT_EQ(refused->retry_after, 10s);
  refused = l.admit_tool_call("token:a", "echo", t0);  // fs_* does not apply
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->what, "calls of tools matching *");
  EXPECT_EQ(refused->retry_after, 2s);
}

TEST(identity_limits, calls_in_flight_are_bounded_per_identity) {
  limits_config c;
  c.defaults.max_calls_in_flight = 2;
  identity_limits l(c);
  auto a = l.acquire_call("token:a");
  auto b = l.acquire_call("token:a");
  ASSERT_TRUE(std::holds_alternative<identity_limits::call_slot>(a));
  ASSERT_TRUE(std::holds_alternative<identity_limits::call_slot>(b));
  EXPECT_EQ(l.calls_in_flight("token:a"), 2u);
  auto refused = l.acquire_call("token:a");
  ASSERT_TRUE(std::holds_alternative<identity_limits::refusal>(refused));
  EXPECT_EQ(std::get<identity_limits::refusal>(refused).what, "calls in flight");
  EXPECT_EQ(std::get<identity_limits::refusal>(refused).retry_after, 1s);
  EXPECT_TRUE(std::holds_alternative<identity_limits::call_slot>(l.acquire_call("token:b")));
  EXPECT_EQ(l.calls_in_flight("token:b"), 0u);  // that slot was a temporary: released
}

TEST(identity_limits, a_slot_is_released_when_destroyed) {
  limits_config c;
  c.defaults.max_calls_in_flight = 1;
  identity_limits l(c);
  {
    auto slot = std::get<identity_limits::call_slot>(l.acquire_call("jwt:x"));
    EXPECT_TRUE(slot.held());
    EXPECT_TRUE(std::holds_alternative<identity_limits::refusal>(l.acquire_call("jwt:x")));
  }
  EXPECT_EQ(l.calls_in_flight("jwt:x"), 0u);
  auto slot = std::get<identity_limits::call_slot>(l.acquire_call("jwt:x"));
  slot.release();
  EXPECT_FALSE(slot.held());
  slot.release();  // twice: nothing
  EXPECT_EQ(l.calls_in_flight("jwt:x"), 0u);
  EXPECT_TRUE(std::holds_alternative<identity_limits::call_slot>(l.acquire_call("jwt:x")));
}

TEST(identity_limits, a_moved_slot_is_released_once) {
  limits_config c;
  c.defaults.max_calls_in_flight = 2;
  identity_limits l(c);
  auto first = std::get<identity_limits::call_slot>(l.acquire_call("token:a"));
  identity_limits::call_slot moved(std::move(first));
  EXPECT_FALSE(first.held());  // NOLINT(bugprone-use-after-move): moved-from holds nothing
  EXPECT_TRUE(moved.held());
  EXPECT_EQ(l.calls_in_flight("token:a"), 1u);

  auto second = std::get<identity_limits::call_slot>(l.acquire_call("token:a"));
  EXPECT_EQ(l.calls_in_flight("token:a"), 2u);
  moved = std::move(second);  // releases what `moved` held, takes over the other
  EXPECT_EQ(l.calls_in_flight("token:a"), 1u);
  std::vector<identity_limits::call_slot> slots;
  slots.push_back(std::move(moved));
  slots.emplace_back();  // a default slot holds nothing
  EXPECT_FALSE(slots.back().held());
  EXPECT_EQ(l.calls_in_flight("token:a"), 1u);
  slots.clear();
  EXPECT_EQ(l.calls_in_flight("token:a"), 0u);
}

TEST(identity_limits, slots_outlive_the_limits_object) {
  limits_config c;
  c.defaults.max_calls_in_flight = 3;
  auto l = std::make_unique<identity_limits>(c);
  auto a = std::get<identity_limits::call_slot>(l->acquire_call("token:a"));
  auto b = std::get<identity_limits::call_slot>(l->acquire_call("token:b"));
  l.reset();
  EXPECT_TRUE(a.held());
  a.release();  // ASan: no use after free
  EXPECT_FALSE(a.held());
  // b goes with the test's scope, after the limits.
}

TEST(identity_limits, per_principal_settings_override_field_by_field) {
  limits_config c;
  c.defaults.requests_per_second = 10;
  c.defaults.request_burst = 20;
  c.defaults.tool_calls_per_second = 4;  // burst not given: one second's worth
  c.defaults.max_calls_in_flight = 2;
  c.defaults.per_tool = {tool("fs_*", 1, 3), tool("db_*", 0.5)};
  limit_settings ci;
  ci.requests_per_second = 100;                          // burst falls back to the default's 20
  ci.tool_call_burst = 50;                               // rate falls back to the default's 4
  ci.per_tool = {tool("fs_*", 5), tool("net_*", 2, 4)};  // replaces fs_* (keeps burst 3), adds
  c.per_principal["token:ci"] = ci;
  limit_settings anon;
  anon.max_calls_in_flight = 1;
  c.per_principal[""] = anon;
  identity_limits l(c);

  const auto& d = l.settings_for("jwt:someone");
  EXPECT_EQ(d.requests_per_second, 10);
  EXPECT_EQ(d.request_burst, 20);
  EXPECT_EQ(d.tool_calls_per_second, 4);
  EXPECT_EQ(d.tool_call_burst, 4);
  EXPECT_EQ(d.max_calls_in_flight, 2u);
  ASSERT_EQ(d.per_tool.size(), 2u);
  EXPECT_EQ(d.per_tool[1].burst, 1);  // 0.5 per second: at least 1

  const auto& s = l.settings_for("token:ci");
  EXPECT_EQ(s.requests_per_second, 100);
  EXPECT_EQ(s.request_burst, 20);
  EXPECT_EQ(s.tool_calls_per_second, 4);
  EXPECT_EQ(s.tool_call_burst, 50);
  EXPECT_EQ(s.max_calls_in_flight, 2u);
  ASSERT_EQ(s.per_tool.size(), 3u);
  EXPECT_EQ(s.per_tool[0].pattern, "fs_*");
  EXPECT_EQ(s.per_tool[0].calls_per_second, 5);
  EXPECT_EQ(s.per_tool[0].burst, 3);
  EXPECT_EQ(s.per_tool[1].pattern, "db_*");  // a default tool limit it does not name stays
  EXPECT_EQ(s.per_tool[2].pattern, "net_*");
  EXPECT_EQ(s.per_tool[2].burst, 4);

  EXPECT_EQ(l.settings_for("").max_calls_in_flight, 1u);
  EXPECT_EQ(l.settings_for("").requests_per_second, 10);
}

TEST(identity_limits, an_override_changes_what_the_identity_may_do) {
  limits_config c = requests(1, 1);
  c.defaults.max_calls_in_flight = 1;
  limit_settings ci;
  ci.request_burst = 5;
  ci.max_calls_in_flight = 3;
  c.per_principal["token:ci"] = ci;
  identity_limits l(c);

  EXPECT_FALSE(l.admit_request("token:other", t0));
  EXPECT_TRUE(l.admit_request("token:other", t0));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(l.admit_request("token:ci", t0)) << i;
  EXPECT_TRUE(l.admit_request("token:ci", t0));

  std::vector<identity_limits::call_slot> held;
  for (int i = 0; i < 3; ++i) {
    auto r = l.acquire_call("token:ci");
    ASSERT_TRUE(std::holds_alternative<identity_limits::call_slot>(r)) << i;
    held.push_back(std::move(std::get<identity_limits::call_slot>(r)));
  }
  EXPECT_TRUE(std::holds_alternative<identity_limits::refusal>(l.acquire_call("token:ci")));
  auto other = l.acquire_call("token:other");
  ASSERT_TRUE(std::holds_alternative<identity_limits::call_slot>(other));
  EXPECT_TRUE(std::holds_alternative<identity_limits::refusal>(l.acquire_call("token:other")));
}

TEST(identity_limits, memory_stays_bounded_under_many_identities) {
  identity_limits l(requests(1, 1), 1000);
  // 100k identities at once: none is full again, so some are dropped before their time.
  for (int i = 0; i < 100'000; ++i)
    ASSERT_FALSE(l.admit_request("jwt:" + std::to_string(i), t0)) << i;
  EXPECT_EQ(l.tracked_principals(), 1000u);
  EXPECT_EQ(l.forced_drops(), 99'000u);

  // 100k more, one per millisecond: those full again are dropped first, nothing is forgiven.
  identity_limits paced(requests(1, 1), 1000);
  for (int i = 0; i < 100'000; ++i)
    ASSERT_FALSE(paced.admit_request("jwt:" + std::to_string(i), t0 + std::chrono::milliseconds(i)))
        << i;
  EXPECT_LE(paced.tracked_principals(), 1000u);
  EXPECT_EQ(paced.forced_drops(), 0u);
}

TEST(identity_limits, per_tool_buckets_are_bounded_with_their_identity) {
  limits_config c;
  c.defaults.tool_calls_per_second = 1;
  c.defaults.per_tool = {tool("a*", 1), tool("b*", 1), tool("*", 1)};
  identity_limits l(c, 100);
  for (int i = 0; i < 100'000; ++i)
    ASSERT_FALSE(l.admit_tool_call("jwt:" + std::to_string(i), "abc", t0)) << i;
  EXPECT_EQ(l.tracked_principals(), 100u);
}

TEST(identity_limits, an_identity_in_debt_is_kept_while_full_ones_can_go) {
  limits_config c = requests(1, 1);
  limit_settings slow;
  slow.requests_per_second = 0.001;  // refilled after 1000 s
  c.per_principal["jwt:heavy"] = slow;
  identity_limits l(c, 10);
  ASSERT_FALSE(l.admit_request("jwt:heavy", t0));
  ASSERT_TRUE(l.admit_request("jwt:heavy", t0));
  // 500 other identities, one every 2 s: each is full again before the next one comes.
  for (int i = 0; i < 500; ++i)
    ASSERT_FALSE(l.admit_request("jwt:" + std::to_string(i), at(2.0 * (i + 1))));
  EXPECT_EQ(l.tracked_principals(), 10u);
  EXPECT_EQ(l.forced_drops(), 0u);
  auto refused = l.admit_request("jwt:heavy", at(999));
  ASSERT_TRUE(refused) << "the heavy identity was forgotten";
  EXPECT_EQ(refused->retry_after, 1s);
}

TEST(identity_limits, in_flight_counts_go_with_the_last_slot) {
  identity_limits l({});
  {
    std::vector<identity_limits::call_slot> slots;
    for (int i = 0; i < 10'000; ++i)
      slots.push_back(
          std::get<identity_limits::call_slot>(l.acquire_call("jwt:" + std::to_string(i % 100))));
    EXPECT_EQ(l.calls_in_flight("jwt:7"), 100u);
  }
  EXPECT_EQ(l.calls_in_flight("jwt:7"), 0u);
}

// --- settings checks ---

TEST(identity_limits_config, good_settings_pass) {
  limits_config c;
  c.defaults.requests_per_second = 0.5;
  c.defaults.tool_calls_per_second = 10;
  c.defaults.tool_call_burst = 1;
  c.defaults.max_calls_in_flight = 4;
  c.defaults.per_tool = {tool("fs_*", 1), tool("db_*", 2, 5)};
  c.per_principal["token:ci"].request_burst = 100;
  EXPECT_EQ(limits_problem(c), std::nullopt);
  EXPECT_EQ(limits_problem({}), std::nullopt);
}

TEST(identity_limits_config, bad_settings_are_named) {
  auto problem = [](auto change) {
    limits_config c;
    change(c.per_principal["jwt:x"]);
    auto p = limits_problem(c);
    return p ? *p : std::string("(none)");
  };
  EXPECT_EQ(problem([](limit_settings& s) { s.requests_per_second = 0; }),
            "principal 'jwt:x': requests_per_second must be a number greater than 0");
  EXPECT_EQ(problem([](limit_settings& s) {
              s.tool_calls_per_second = std::numeric_limits<double>::infinity();
            }),
            "principal 'jwt:x': tool_calls_per_second must be a number greater than 0");
  EXPECT_EQ(problem([](limit_settings& s) { s.request_burst = 0.5; }),
            "principal 'jwt:x': request_burst must be at least 1");
  EXPECT_EQ(problem([](limit_settings& s) { s.tool_call_burst = -1; }),
            "principal 'jwt:x': tool_call_burst must be at least 1");
  EXPECT_EQ(problem([](limit_settings& s) { s.max_calls_in_flight = 0; }),
            "principal 'jwt:x': max_calls_in_flight must be at least 1");
  EXPECT_EQ(problem([](limit_settings& s) { s.per_tool = {tool("", 1)}; }),
            "principal 'jwt:x': per_tool pattern must not be empty");
  EXPECT_EQ(problem([](limit_settings& s) {
              s.per_tool = {tool("fs_*", std::numeric_limits<double>::quiet_NaN())};
            }),
            "principal 'jwt:x': per_tool 'fs_*': calls_per_second must be a number greater than 0");
  EXPECT_EQ(problem([](limit_settings& s) { s.per_tool = {tool("fs_*", 1, 0.1)}; }),
            "principal 'jwt:x': per_tool 'fs_*': burst must be at least 1");
  EXPECT_EQ(problem([](limit_settings& s) {
              s.per_tool = {tool("fs_*", 1), tool("fs_*", 2)};
            }),
            "principal 'jwt:x': per_tool pattern 'fs_*' is listed twice");

  limits_config c;
  c.defaults.requests_per_second = -1;
  EXPECT_EQ(limits_problem(c), "defaults: requests_per_second must be a number greater than 0");
}

}  // namespace
}  // namespace mcp_proxy::auth
