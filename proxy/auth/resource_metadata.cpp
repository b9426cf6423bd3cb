#include "auth/resource_metadata.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace mcp_proxy::auth {

namespace json = boost::json;

namespace {

json::array string_array(const std::vector<std::string>& items) {
  json::array out;
  out.reserve(items.size());
  for (const auto& s : items) out.emplace_back(s);
  return out;
}

}  // namespace

std::string metadata_document(const resource_metadata& metadata) {
  json::object doc;
  doc["resource"] = metadata.resource;
  if (!metadata.authorization_servers.empty()) {
    doc["authorization_servers"] = string_array(metadata.authorization_servers);
  }
  if (!metadata.scopes_supported.empty()) {
    doc["scopes_supported"] = string_array(metadata.scopes_supported);
  }
  doc["bearer_methods_supported"] = json::array{"header"};
  if (!metadata.resource_name.empty()) doc["resource_name"] = metadata.resource_name;
  return json::serialize(doc);
}

std::string metadata_url(std::string_view resource_url) {
  auto u = boost::urls::parse_uri(resource_url);
  if (!u || !u->has_authority()) return {};
  // Host and port only: a resource URL has no user information to carry over.
  std::string out = std::string(u->scheme()) + "://" + std::string(u->encoded_host_and_port());
  out += resource_metadata_well_known;
  const std::string_view path = u->encoded_path();
  if (path != "/") out += path;
  return out;
}

std::optional<std::string_view> metadata_resource_path(std::string_view request_path) {
  if (!request_path.starts_with(resource_metadata_well_known)) return std::nullopt;
  const auto rest = request_path.substr(resource_metadata_well_known.size());
  if (!rest.empty() && rest.front() != '/') return std::nullopt;
  return rest;
}

}  // namespace mcp_proxy::auth
