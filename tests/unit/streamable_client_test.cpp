#include "protocol/streamable_client.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace mcp_proxy::protocol {
namespace {

using namespace std::chrono_literals;

post_answer classify(int status, std::string_view type = "", bool session = true,
                     bool detecting = false) {
  return classify_post_answer({status, type, session, detecting});
}

TEST(classify_post_answer, a_404_with_a_session_means_it_expired_and_without_one_an_error) {
  EXPECT_EQ(classify(404), post_answer::session_expired);
  EXPECT_EQ(classify(404, "", false), post_answer::http_error);
  EXPECT_EQ(classify(404, "", false, true), post_answer::not_streamable_http);
}

TEST(classify_post_answer, detection_falls_back_on_4xx_but_not_on_credentials) {
  for (int status : {400, 404, 405})
    EXPECT_EQ(classify(status, "", false, true), post_answer::not_streamable_http) << status;
  for (int status : {401, 403})
    EXPECT_EQ(classify(status, "", false, true), post_answer::http_error) << status;
  EXPECT_EQ(classify(500, "", false, true), post_answer::http_error);
  EXPECT_EQ(classify(405, "", false, false), post_answer::http_error);  // known transport
}

TEST(classify_post_answer, two_hundreds_by_content_type) {
  EXPECT_EQ(classify(202), post_answer::accepted);
  EXPECT_EQ(classify(204), post_answer::accepted);
  EXPECT_EQ(classify(200, "application/json; charset=utf-8"), post_answer::json);
  EXPECT_EQ(classify(200, "Text/Event-Stream"), post_answer::event_stream);
  EXPECT_EQ(classify(200, "text/html"), post_answer::bad_content_type);
  EXPECT_EQ(classify(200, ""), post_answer::bad_content_type);
}

TEST(is_response_to, only_a_result_or_error_with_that_id) {
  EXPECT_TRUE(is_response_to(R"({"jsonrpc":"2.0","id":3,"result":{}})", 3));
  EXPECT_TRUE(is_response_to(R"({"jsonrpc":"2.0","id":3,"error":{"code":1}})", 3));
  EXPECT_FALSE(is_response_to(R"({"jsonrpc":"2.0","id":4,"result":{}})", 3));
  EXPECT_FALSE(is_response_to(R"({"jsonrpc":"2.0","id":3,"method":"x"})", 3));
  EXPECT_FALSE(is_response_to("not json", 3));
}

TEST(keep_alive_timeout, reads_the_timeout_parameter) {
  EXPECT_EQ(keep_alive_timeout("timeout=5"), 5s);
  EXPECT_EQ(keep_alive_timeout("max=100, Timeout=72"), 72s);
  EXPECT_EQ(keep_alive_timeout("timeout=99999"), 3600s);
  EXPECT_EQ(keep_alive_timeout("timeout=x"), std::nullopt);
  EXPECT_EQ(keep_alive_timeout(""), std::nullopt);
}

TEST(resume_policy, without_an_event_id_there_is_nothing_to_resume) {
  resume_policy p;
  const auto now = resume_policy::clock::now();
  p.saw("", 300);
  EXPECT_EQ(p.next_attempt(now, now + 10s), std::nullopt);
}

TEST(resume_policy, waits_the_servers_retry_capped_and_gives_up_after_five_tries) {
  resume_policy p;
  const auto now = resume_policy::clock::now();
  p.saw("s1-4", std::nullopt);
  EXPECT_EQ(p.next_attempt(now, now + 60s), resume_policy::default_retry);
  p.saw("", 250);  // a later stream without an id keeps the last one
  EXPECT_EQ(p.last_event_id(), "s1-4");
  EXPECT_EQ(p.next_attempt(now, now + 60s), resume_policy::clock::duration(250ms));
  p.saw("s1-9", 10'000'000);
  EXPECT_EQ(p.next_attempt(now, now + 60s),
            resume_policy::clock::duration(resume_policy::max_retry));
  EXPECT_TRUE(p.next_attempt(now, now + 60s));
  EXPECT_TRUE(p.next_attempt(now, now + 60s));
  EXPECT_EQ(p.next_attempt(now, now + 60s), std::nullopt);  // five used
}

TEST(resume_policy, a_configured_cap_shortens_what_the_server_asks_and_survives_a_restart) {
  resume_policy p(100ms);
  const auto now = resume_policy::clock::now();
  p.saw("s1-1", std::nullopt);  // the default (1 s) is capped too
  EXPECT_EQ(p.next_attempt(now, now + 60s), resume_policy::clock::duration(100ms));
  p.saw("s1-2", 5000);
  EXPECT_EQ(p.next_attempt(now, now + 60s), resume_policy::clock::duration(100ms));
  p.saw("s1-3", 40);  // a shorter retry is kept as it is
  EXPECT_EQ(p.next_attempt(now, now + 60s), resume_policy::clock::duration(40ms));
  p.restart();
  p.saw("s1-4", 5000);
  EXPECT_EQ(p.next_attempt(now, now + 60s), resume_policy::clock::duration(100ms));
}

TEST(resume_policy, a_passed_deadline_ends_it) {
  resume_policy p;
  const auto now = resume_policy::clock::now();
  p.saw("s1-1", std::nullopt);
  EXPECT_EQ(p.next_attempt(now, now), std::nullopt);
  p.restart();
  EXPECT_EQ(p.last_event_id(), "");
}

}  // namespace
}  // namespace mcp_proxy::protocol
