#include "auth/resource_metadata.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace mcp_proxy::auth {
namespace {

TEST(resource_metadata, the_document_names_the_resource_its_servers_scopes_and_bearer_header) {
  resource_metadata m;
  m.resource = "https://proxy.example.com/mock/mcp";
  m.authorization_servers = {"https://as.example.com"};
  m.scopes_supported = {"mcp:read", "mcp:tools"};
  m.resource_name = "My \"proxy\"";
  const std::string doc = metadata_document(m);
  EXPECT_EQ(doc, R"({"resource":"https://proxy.example.com/mock/mcp",)"
                 R"("authorization_servers":["https://as.example.com"],)"
                 R"("scopes_supported":["mcp:read","mcp:tools"],)"
                 R"("bearer_methods_supported":["header"],"resource_name":"My \"proxy\""})");
  const auto parsed = boost::json::parse(doc).as_object();
  EXPECT_EQ(parsed.at("resource_name").as_string(), "My \"proxy\"") << "escaped by Boost.JSON";
}

TEST(resource_metadata, empty_lists_and_an_empty_name_are_left_out) {
  resource_metadata m;
  m.resource = "http://127.0.0.1:8080/mcp";
  EXPECT_EQ(metadata_document(m),
            R"({"resource":"http://127.0.0.1:8080/mcp","bearer_methods_supported":["header"]})");
  m.authorization_servers = {"https://a.example", "https://b.example"};
  const auto parsed = boost::json::parse(metadata_document(m)).as_object();
  EXPECT_EQ(parsed.at("authorization_servers"),
            (boost::json::array{"https://a.example", "https://b.example"}));
  EXPECT_FALSE(parsed.contains("scopes_supported"));
  EXPECT_FALSE(parsed.contains("resource_name"));
}

TEST(resource_metadata, the_url_puts_the_well_known_segment_between_authority_and_path) {
  EXPECT_EQ(metadata_url("https://h:8443/a/b"),
            "https://h:8443/.well-known/oauth-protected-resource/a/b");
  EXPECT_EQ(metadata_url("http://127.0.0.1:41234/mock/mcp"),
            "http://127.0.0.1:41234/.well-known/oauth-protected-resource/mock/mcp");
  EXPECT_EQ(metadata_url("https://proxy.example.com/mcp"),
            "https://proxy.example.com/.well-known/oauth-protected-resource/mcp");
  EXPECT_EQ(metadata_url("http://[::1]:9000/x/sse"),
            "http://[::1]:9000/.well-known/oauth-protected-resource/x/sse");
  EXPECT_EQ(metadata_url("https://h/a/b/"), "https://h/.well-known/oauth-protected-resource/a/b/")
      << "only the slash right after the host goes";
  EXPECT_EQ(metadata_url("https://h/a%20b/mcp"),
            "https://h/.well-known/oauth-protected-resource/a%20b/mcp")
      << "the path stays encoded as it was";
}

TEST(resource_metadata, a_root_resource_gets_the_bare_well_known_url) {
  EXPECT_EQ(metadata_url("https://h:8443"), "https://h:8443/.well-known/oauth-protected-resource");
  EXPECT_EQ(metadata_url("https://h:8443/"), "https://h:8443/.well-known/oauth-protected-resource");
}

TEST(resource_metadata, the_url_drops_a_query_a_fragment_and_user_information) {
  EXPECT_EQ(metadata_url("https://h:8443/a/b?x=1#frag"),
            "https://h:8443/.well-known/oauth-protected-resource/a/b");
  EXPECT_EQ(metadata_url("https://h/?x=1"), "https://h/.well-known/oauth-protected-resource");
  EXPECT_EQ(metadata_url("https://user:pw@h/mcp"),
            "https://h/.well-known/oauth-protected-resource/mcp");
}

TEST(resource_metadata, a_url_that_is_not_absolute_gives_nothing) {
  EXPECT_EQ(metadata_url(""), "");
  EXPECT_EQ(metadata_url("/mock/mcp"), "");
  EXPECT_EQ(metadata_url("mailto:a@example.com"), "") << "no authority";
  EXPECT_EQ(metadata_url("http://h/a b"), "") << "not a URL";
}

TEST(resource_metadata, the_request_path_names_the_resource_path) {
  EXPECT_EQ(metadata_resource_path("/.well-known/oauth-protected-resource/a/b"),
            std::optional<std::string_view>("/a/b"));
  EXPECT_EQ(metadata_resource_path("/.well-known/oauth-protected-resource/mcp"),
            std::optional<std::string_view>("/mcp"));
  EXPECT_EQ(metadata_resource_path("/.well-known/oauth-protected-resource"),
            std::optional<std::string_view>(""));
  EXPECT_EQ(metadata_resource_path("/.well-known/oauth-protected-resource/"),
            std::optional<std::string_view>("/"));
}

TEST(resource_metadata, other_paths_are_not_metadata_requests) {
  for (std::string_view path :
       {"/.well-known/oauth-protected-resourceX", "/.well-known/oauth-protected-resource-x/mcp",
        "/.well-known/oauth-authorization-server", "/.well-known/oauth-protected-resourc", "/mcp",
        "", "/", "//.well-known/oauth-protected-resource/mcp",
        "/prefix/.well-known/oauth-protected-resource/mcp"}) {
    EXPECT_EQ(metadata_resource_path(path), std::nullopt) << path;
  }
}

TEST(resource_metadata, url_and_request_path_agree) {
  const auto url = metadata_url("https://h:8443/team/mock/mcp");
  const auto path = url.substr(std::string_view("https://h:8443").size());
  EXPECT_EQ(metadata_resource_path(path), std::optional<std::string_view>("/team/mock/mcp"));
}

}  // namespace
}  // namespace mcp_proxy::auth
