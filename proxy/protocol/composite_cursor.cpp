#include "protocol/composite_cursor.hpp"

#include "util/base64.hpp"
#include "util/random_id.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <boost/json.hpp>

#include <stdexcept>

namespace mcp_proxy::protocol {

namespace json = boost::json;

namespace {

constexpr std::size_t mac_bytes = 16;  // HMAC-SHA256 cut to 128 bits: plenty against forgery

}  // namespace

cursor_codec::cursor_codec() : key_(32, '\0') {
  util::random_bytes(key_.data(), key_.size());
}

cursor_codec::cursor_codec(std::string key) : key_(std::move(key)) {}

std::string cursor_codec::mac(std::string_view payload) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), std::min<std::size_t>(len, mac_bytes));
}

std::string cursor_codec::encode(const composite_cursor& c) const {
  json::array backends;
  for (const auto& b : c.backends) {
    json::value cursor = b.cursor ? json::value(*b.cursor) : json::value(nullptr);
    backends.push_back(
        json::array{json::value(b.server), std::move(cursor), json::value(b.done), b.skip});
  }
  std::string payload =
      json::serialize(json::object{{"g", c.generation}, {"b", std::move(backends)}});
  return util::base64url_encode(mac(payload) + payload);
}

boost::system::result<composite_cursor, std::string> cursor_codec::decode(
    std::string_view text, std::uint64_t expected_generation) const {
  auto raw = util::base64url_decode(text);
  if (!raw || raw->size() <= mac_bytes) return std::string("not a cursor of this proxy");
  std::string_view payload = std::string_view(*raw).substr(mac_bytes);
  const std::string expected = mac(payload);
  if (CRYPTO_memcmp(expected.data(), raw->data(), mac_bytes) != 0)
    return std::string("the cursor was altered or comes from another proxy process");
  boost::system::error_code ec;
  auto v = json::parse(payload, ec);
  // Authenticated, so the shape is ours; checked anyway (a key shared by mistake, a bug).
  auto* o = v.if_object();
  auto* g = o ? o->if_contains("g") : nullptr;
  auto* b = o ? o->if_contains("b") : nullptr;
  if (ec || !g || !b || !b->is_array() || !(g->is_uint64() || g->is_int64()))
    return std::string("malformed cursor");
  composite_cursor c;
  c.generation = g->is_uint64() ? g->get_uint64() : static_cast<std::uint64_t>(g->get_int64());
  if (c.generation != expected_generation)
    return std::string("stale cursor: the set of servers changed since it was issued");
  for (const auto& item : b->get_array()) {
    auto* pair = item.if_array();
    if (!pair || pair->size() != 4 || !(*pair)[0].is_string() ||
        !((*pair)[1].is_string() || (*pair)[1].is_null()) || !(*pair)[2].is_bool() ||
        !(*pair)[3].is_number())
      return std::string("malformed cursor");
    backend_position pos{std::string((*pair)[0].get_string()), std::nullopt};
    if ((*pair)[1].is_string()) pos.cursor = std::string((*pair)[1].get_string());
    pos.done = (*pair)[2].get_bool();
    boost::system::error_code skip_ec;
    pos.skip = (*pair)[3].to_number<std::uint64_t>(skip_ec);
    if (skip_ec) return std::string("malformed cursor");
    c.backends.push_back(std::move(pos));
  }
  return c;
}

}  // namespace mcp_proxy::protocol
