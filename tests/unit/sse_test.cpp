#include "protocol/sse.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {
namespace {

struct parsed_event {
  std::string event;  // empty: the default type, "message"
  std::optional<std::string> id;
  std::string data;
  bool operator==(const parsed_event&) const = default;
};

struct parsed_stream {
  std::vector<parsed_event> events;
  std::vector<std::string> comments;
  std::string unterminated;  // bytes after the last line break
};

// A minimal WHATWG event-stream parser (HTML spec, "Interpreting an event stream"), written here
// independently of the encoder so the round trip checks the encoder against the format.
parsed_stream parse_sse(std::string_view stream) {
  parsed_stream out;
  parsed_event current;
  std::string data;
  bool has_data = false;
  std::optional<std::string> last_id;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    std::size_t br = stream.find_first_of("\r\n", pos);
    if (br == std::string_view::npos) {
      out.unterminated = std::string(stream.substr(pos));
      break;
    }
    std::string_view line = stream.substr(pos, br - pos);
    pos = br + ((stream[br] == '\r' && br + 1 < stream.size() && stream[br + 1] == '\n') ? 2 : 1);
    if (line.empty()) {  // dispatch
      if (has_data) {
        if (!data.empty() && data.back() == '\n') data.pop_back();
        current.data = data;
        current.id = last_id;
        out.events.push_back(current);
      }
      current = {};
      data.clear();
      has_data = false;
      continue;
    }
    if (line.front() == ':') {
      std::string_view text = line.substr(1);
      if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
      out.comments.emplace_back(text);
      continue;
    }
    std::size_t colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value;
    if (colon != std::string_view::npos) {
      value = line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "event") {
      current.event = std::string(value);
    } else if (field == "data") {
      data.append(value).append("\n");
      has_data = true;
    } else if (field == "id") {
      if (value.find('\0') == std::string_view::npos) last_id = std::string(value);
    }
    // Other fields (retry, unknown) are ignored.
  }
  return out;
}

// --- exact encoding -----------------------------------------------------------------------------

TEST(sse_encode, data_only_event) {
  EXPECT_EQ(encode_sse_event(R"({"jsonrpc":"2.0","id":1,"result":{}})"),
            "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n");
}

TEST(sse_encode, event_and_id_fields_precede_data) {
  EXPECT_EQ(encode_sse_event("x", "message", "42"), "event: message\nid: 42\ndata: x\n\n");
}

TEST(sse_encode, event_without_id) {
  EXPECT_EQ(encode_sse_event("/messages?sessionId=abc", "endpoint"),
            "event: endpoint\ndata: /messages?sessionId=abc\n\n");
}

TEST(sse_encode, id_without_event) {
  EXPECT_EQ(encode_sse_event("x", {}, "stream-1:7"), "id: stream-1:7\ndata: x\n\n");
}

TEST(sse_encode, empty_data_is_one_empty_data_line) {
  EXPECT_EQ(encode_sse_event(""), "data: \n\n");
  EXPECT_EQ(encode_sse_event("", "ping", "1"), "event: ping\nid: 1\ndata: \n\n");
}

TEST(sse_encode, lf_splits_data_lines) {
  EXPECT_EQ(encode_sse_event("a\nb\nc"), "data: a\ndata: b\ndata: c\n\n");
}

TEST(sse_encode, crlf_splits_data_lines_once) {
  EXPECT_EQ(encode_sse_event("a\r\nb"), "data: a\ndata: b\n\n");
}

TEST(sse_encode, lone_cr_splits_data_lines) {
  EXPECT_EQ(encode_sse_event("a\rb"), "data: a\ndata: b\n\n");
}

TEST(sse_encode, mixed_and_consecutive_line_breaks_keep_empty_lines) {
  EXPECT_EQ(encode_sse_event("a\r\n\r\nb"), "data: a\ndata: \ndata: b\n\n");
  // "\n\r" is two line breaks, not one.
  EXPECT_EQ(encode_sse_event("a\n\rb"), "data: a\ndata: \ndata: b\n\n");
  EXPECT_EQ(encode_sse_event("a\r\rb"), "data: a\ndata: \ndata: b\n\n");
}

TEST(sse_encode, trailing_line_break_becomes_trailing_empty_data_line) {
  EXPECT_EQ(encode_sse_event("a\n"), "data: a\ndata: \n\n");
  EXPECT_EQ(encode_sse_event("a\r\n"), "data: a\ndata: \n\n");
  EXPECT_EQ(encode_sse_event("a\r"), "data: a\ndata: \n\n");
  EXPECT_EQ(encode_sse_event("\n"), "data: \ndata: \n\n");
}

TEST(sse_encode, encoded_event_has_no_cr_and_ends_with_blank_line) {
  const std::string out = encode_sse_event("x\ry\r\nz\n", "e", "i");
  EXPECT_EQ(out.find('\r'), std::string::npos);
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(out.substr(out.size() - 2), "\n\n");
  // Exactly one blank line: the event terminator.
  EXPECT_EQ(out.find("\n\n"), out.size() - 2);
}

TEST(sse_encode, comment_format) {
  EXPECT_EQ(encode_sse_comment("keep-alive"), ": keep-alive\n\n");
  EXPECT_EQ(encode_sse_comment(""), ": \n\n");
}

// --- round trip through an independent parser ---------------------------------------------------

TEST(sse_round_trip, single_line_payloads_survive_exactly) {
  const std::vector<std::string> payloads{
      R"({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"a: b"}]}})",
      "",
      " leading space",
      "  two leading spaces",
      "data: looks like a field",
      ": looks like a comment",
      "trailing space ",
      "colon:in:middle",
      "unicode \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80",
  };
  for (const auto& p : payloads) {
    const auto parsed = parse_sse(encode_sse_event(p, "message", "5"));
    ASSERT_EQ(parsed.events.size(), 1u) << p;
    EXPECT_EQ(parsed.events[0], (parsed_event{"message", "5", p})) << p;
    EXPECT_TRUE(parsed.comments.empty());
    EXPECT_TRUE(parsed.unterminated.empty());
  }
}

TEST(sse_round_trip, lf_separated_payload_survives_exactly) {
  for (std::string p : {"a\nb", "a\n\nb", "\nlead", "trail\n", "\n\n", "x\n y\n  z"}) {
    const auto parsed = parse_sse(encode_sse_event(p));
    ASSERT_EQ(parsed.events.size(), 1u) << p;
    EXPECT_EQ(parsed.events[0].data, p);
    EXPECT_EQ(parsed.events[0].event, "");
    EXPECT_FALSE(parsed.events[0].id.has_value());
  }
}

TEST(sse_round_trip, cr_and_crlf_come_back_as_lf) {
  // The format cannot carry CR in data: every line break is read back as LF.
  const auto parsed = parse_sse(encode_sse_event("a\r\nb\rc\nd"));
  ASSERT_EQ(parsed.events.size(), 1u);
  EXPECT_EQ(parsed.events[0].data, "a\nb\nc\nd");
}

TEST(sse_round_trip, empty_data_event_is_dispatched_with_empty_data) {
  const auto parsed = parse_sse(encode_sse_event("", "ping"));
  ASSERT_EQ(parsed.events.size(), 1u);
  EXPECT_EQ(parsed.events[0].event, "ping");
  EXPECT_EQ(parsed.events[0].data, "");
}

TEST(sse_round_trip, concatenated_events_and_comments_parse_in_order) {
  std::string stream;
  stream += encode_sse_event("/messages?session_id=1", "endpoint");
  stream += encode_sse_comment("keep-alive");
  stream += encode_sse_event("{\"a\":1}", "message", "s-1");
  stream += encode_sse_event("line1\nline2", {}, "s-2");
  stream += encode_sse_event("no id");

  const auto parsed = parse_sse(stream);
  ASSERT_EQ(parsed.events.size(), 4u);
  EXPECT_EQ(parsed.events[0], (parsed_event{"endpoint", std::nullopt, "/messages?session_id=1"}));
  EXPECT_EQ(parsed.events[1], (parsed_event{"message", "s-1", "{\"a\":1}"}));
  EXPECT_EQ(parsed.events[2], (parsed_event{"", "s-2", "line1\nline2"}));
  // The last event id persists across events, per the format.
  EXPECT_EQ(parsed.events[3], (parsed_event{"", "s-2", "no id"}));
  EXPECT_EQ(parsed.comments, (std::vector<std::string>{"keep-alive"}));
  EXPECT_TRUE(parsed.unterminated.empty());
}

TEST(sse_round_trip, comment_dispatches_no_event) {
  const auto parsed = parse_sse(encode_sse_comment("ping"));
  EXPECT_TRUE(parsed.events.empty());
  EXPECT_EQ(parsed.comments, (std::vector<std::string>{"ping"}));
}

}  // namespace
}  // namespace mcp_proxy::protocol

namespace mcp_proxy::protocol {

TEST(sse_encode, line_breaks_in_event_id_or_comment_cannot_start_another_field) {
  auto e = encode_sse_event("x", "a\nb", "1\n\ndata: evil");
  EXPECT_EQ(e, "event: ab\nid: 1data: evil\ndata: x\n\n");
  EXPECT_EQ(encode_sse_comment("k\r\ndata: y"), ": kdata: y\n\n");
}

}  // namespace mcp_proxy::protocol

namespace mcp_proxy::protocol {
namespace {

std::vector<sse_event> decode_all(std::string_view stream) {
  sse_decoder d;
  auto events = d.feed(stream);
  EXPECT_TRUE(events.has_value());
  return events ? *events : std::vector<sse_event>{};
}

// The same bytes fed one byte at a time give the same events: a network read may split anywhere.
std::vector<sse_event> decode_bytewise(std::string_view stream) {
  sse_decoder d;
  std::vector<sse_event> all;
  for (char c : stream) {
    auto events = d.feed(std::string_view(&c, 1));
    EXPECT_TRUE(events.has_value());
    if (events) all.insert(all.end(), events->begin(), events->end());
  }
  return all;
}

TEST(sse_decoder, decodes_what_the_encoder_writes_in_any_split) {
  std::string stream = "\xEF\xBB\xBF" + encode_sse_comment("hello") +
                       encode_sse_event("/messages?sessionId=1", "endpoint") +
                       encode_sse_event("{\"a\":1}", "message", "e-1") +
                       encode_sse_event("line1\nline2");
  for (const auto& events : {decode_all(stream), decode_bytewise(stream)}) {
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].type, "endpoint");
    EXPECT_EQ(events[0].data, "/messages?sessionId=1");
    EXPECT_EQ(events[0].id, "");
    EXPECT_EQ(events[1].type, "message");
    EXPECT_EQ(events[1].data, "{\"a\":1}");
    EXPECT_EQ(events[1].id, "e-1");
    EXPECT_EQ(events[2].type, "message");
    EXPECT_EQ(events[2].data, "line1\nline2");
    EXPECT_EQ(events[2].id, "e-1") << "the last event id persists";
  }
}

TEST(sse_decoder, cr_lf_and_crlf_all_end_lines) {
  const std::string stream = "data: a\r\rdata: b\n\ndata: c\r\n\r\ndata:d\r\ndata:  e\r\n\r\n";
  for (const auto& events : {decode_all(stream), decode_bytewise(stream)}) {
    ASSERT_EQ(events.size(), 4u);
    EXPECT_EQ(events[0].data, "a");
    EXPECT_EQ(events[1].data, "b");
    EXPECT_EQ(events[2].data, "c");
    // Only one space after the colon is dropped.
    EXPECT_EQ(events[3].data, "d\n e");
  }
}

TEST(sse_decoder, events_without_data_and_unknown_fields_are_not_dispatched) {
  sse_decoder d;
  auto events = d.feed("event: ping\n\nfoo: bar\n\nid: 7\n\nretry: 1500\nretry: x1\n\n");
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
  EXPECT_EQ(d.last_event_id(), "7");
  EXPECT_EQ(d.retry_ms(), 1500);
  // An event type does not leak into the next event.
  events = d.feed("data: x\n\n");
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].type, "message");
}

TEST(sse_decoder, an_unfinished_event_is_held_until_its_blank_line) {
  sse_decoder d;
  auto events = d.feed("data: {\"par");
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
  events = d.feed("tial\":true}\n");
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
  events = d.feed("\n");
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].data, "{\"partial\":true}");
}

TEST(sse_decoder, an_endless_line_fails_the_stream) {
  sse_decoder d(16);
  EXPECT_TRUE(d.feed("data: 0123456789"));
  EXPECT_FALSE(d.feed("abcdef"));
  EXPECT_TRUE(d.failed());
  EXPECT_FALSE(d.feed("\n\n")) << "a failed decoder stays failed";
}

}  // namespace
}  // namespace mcp_proxy::protocol
