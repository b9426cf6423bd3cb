// mcpProxy.tls (HTTPS on the listener, docs/security.md "TLS on the listener"): the certificate
// and key files, client certificates (mTLS) and the minimum version. The files are read when the
// listener starts (and again on SIGHUP); here they must at least exist.

#include "config/config_reader.hpp"

#include <filesystem>

namespace mcp_proxy::config::detail {

namespace json = boost::json;

namespace {

using client_certs = tls_listener_config::client_certs;

// A file the listener will read: it must be there now (read errors come at start).
template <std::string tls_listener_config::*field>
void read_tls_file(reader& r, const json::value& v, std::string_view path, tls_listener_config& t) {
  std::string file;
  if (!r.read_non_empty_string(v, path, file)) return;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    r.fail(path, "no such file: " + detail::quoted(file));
    return;
  }
  t.*field = std::move(file);
}

void read_key_file(reader& r, const json::value& v, std::string_view path, tls_listener_config& t) {
  read_tls_file<&tls_listener_config::key_file>(r, v, path, t);
  if (!t.key_file.empty()) warn_if_others_can_read(r, path, t.key_file);
}

void read_client_certificates(reader& r, const json::value& v, std::string_view path,
                              tls_listener_config& t) {
  std::string text;
  if (!r.read_string(v, path, text)) return;
  if (text == "none")
    t.client_certificates = client_certs::none;
  else if (text == "optional")
    t.client_certificates = client_certs::optional;
  else if (text == "required")
    t.client_certificates = client_certs::required;
  else
    r.fail(path, "expected \"none\", \"optional\" or \"required\", got " + detail::quoted(text));
}

void read_min_version(reader& r, const json::value& v, std::string_view path,
                      tls_listener_config& t) {
  std::string text;
  if (!r.read_string(v, path, text)) return;
  if (text == "1.2" || text == "1.3")
    t.tls13_only = text == "1.3";
  else
    r.fail(path, "expected \"1.2\" or \"1.3\" (older versions are not offered), got " +
                     detail::quoted(text));
}

constexpr auto tls_keys = std::to_array<key_rule<tls_listener_config>>({
    {"certFile", read_tls_file<&tls_listener_config::cert_file>},
    {"keyFile", read_key_file},
    {"clientCertificates", read_client_certificates},
    {"clientCaFile", read_tls_file<&tls_listener_config::client_ca_file>},
    {"minVersion", read_min_version},
});

}  // namespace

void read_tls(reader& r, const json::value& v, std::string_view path, config& c) {
  auto& t = c.proxy.tls;
  if (!r.read_object<tls_listener_config>(v, path, tls_keys, t)) return;
  const auto* o = v.if_object();
  const bool has_cert = o->contains("certFile"), has_key = o->contains("keyFile");
  if (!has_cert) r.fail(path, "missing required key \"certFile\"");
  if (!has_key) r.fail(path, "missing required key \"keyFile\"");
  if (t.client_certificates != client_certs::none && !o->contains("clientCaFile"))
    r.fail(path, "\"clientCertificates\": \"" +
                     std::string(t.client_certificates == client_certs::required ? "required"
                                                                                 : "optional") +
                     "\" needs \"clientCaFile\" (the CA that signs client certificates)");
  const auto* asked = o->if_contains("clientCertificates");
  const bool none_asked = !asked || (asked->is_string() && asked->get_string() == "none");
  if (none_asked && o->contains("clientCaFile"))
    r.warn(path,
           "\"clientCaFile\" has no effect without \"clientCertificates\": \"optional\" or "
           "\"required\"");
}

}  // namespace mcp_proxy::config::detail
