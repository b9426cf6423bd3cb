#include "test_support.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mcp_proxy::test {

namespace json = boost::json;

struct process::shared {
  std::mutex m;
  std::condition_variable cv;
  std::string output;
  std::thread reader;
};

process::process(const std::string& exe, const std::vector<std::string>& args)
    : state_(std::make_shared<shared>()) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(fds[1], 2);
    ::dup2(fds[1], 1);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  int rfd = fds[0];
  auto st = state_;
  st->reader = std::thread([st, rfd] {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(rfd, buf, sizeof buf);
      if (n <= 0) break;
      std::lock_guard lock(st->m);
      st->output.append(buf, static_cast<std::size_t>(n));
      st->cv.notify_all();
    }
    ::close(rfd);
  });
}

process::~process() {
  if (!reaped_) signal_and_wait(SIGKILL, std::chrono::seconds(10));
  if (state_->reader.joinable()) state_->reader.join();
}

std::optional<std::string> process::wait_for_output(const std::string& needle,
                                                    std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->m);
  bool found = state_->cv.wait_for(
      lock, timeout, [&] { return state_->output.find(needle) != std::string::npos; });
  if (!found) return std::nullopt;
  return state_->output;
}

std::string process::output() const {
  std::lock_guard lock(state_->m);
  return state_->output;
}

int process::signal_and_wait(int sig, std::chrono::milliseconds timeout) {
  if (reaped_) return status_;
  ::kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      status_ = status;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (sig != SIGKILL) return signal_and_wait(SIGKILL, std::chrono::seconds(10)), -1;
  return -1;
}

bool process_exists(int pid) {
  return std::filesystem::exists("/proc/" + std::to_string(pid));
}

bool process_running(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content;
  if (!std::getline(stat, content)) return false;
  auto paren = content.rfind(')');
  return paren != std::string::npos && paren + 2 < content.size() && content[paren + 2] != 'Z';
}

int children_of(int parent) {
  int children = 0;
  for (auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string content;
    if (!std::getline(stat, content)) continue;
    auto paren = content.rfind(')');
    if (paren == std::string::npos || paren + 2 >= content.size()) continue;
    std::istringstream rest(content.substr(paren + 2));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    // The proxy's guardian (util/process_guardian.hpp) is a child for its whole life.
    const bool guardian = content.find("(mcp-proxy-guard)") != std::string::npos;
    if (ppid == parent && !guardian) ++children;
  }
  return children;
}

std::string write_temp_file(const std::string& name, const std::string& content) {
  auto dir =
      std::filesystem::temp_directory_path() / ("mcp-proxy-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  std::ofstream(path) << content;
  return path.string();
}

http_response http_request(std::uint16_t port, const std::string& method, const std::string& target,
                           const std::string& body,
                           const std::map<std::string, std::string>& headers,
                           std::chrono::milliseconds timeout) {
  namespace beast = boost::beast;
  namespace bhttp = beast::http;
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(timeout);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  for (auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  if (!body.empty() || method == "POST") req.prepare_payload();
  bhttp::write(stream, req);
  beast::flat_buffer buf;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(512ull << 20);
  bhttp::read(stream, buf, parser);
  auto res = parser.release();
  http_response out;
  out.status = res.result_int();
  for (auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  out.body = res.body();
  return out;
}

std::vector<json::value> messages_of(const http_response& r) {
  std::vector<json::value> out;
  if (r.header("content-type").starts_with("application/json")) {
    out.push_back(json::parse(r.body));
    return out;
  }
  std::size_t pos = 0;
  std::string data;
  while (pos < r.body.size()) {
    auto nl = r.body.find('\n', pos);
    std::string line = r.body.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? r.body.size() : nl + 1;
    if (line.starts_with("data: ")) {
      data += line.substr(6);
    } else if (line.empty() && !data.empty()) {
      out.push_back(json::parse(data));
      data.clear();
    }
  }
  return out;
}

std::string mock_config(const std::map<std::string, std::string>& servers) {
  std::string out =
      R"({"mcpProxy": {"addr": "127.0.0.1:0", "name": "test-proxy"}, "mcpServers": {)";
  bool first = true;
  for (auto& [name, extra] : servers) {
    if (!first) out += ",";
    first = false;
    out += "\"" + name + "\": {\"command\": \"" MOCK_SERVER_BINARY "\"";
    if (!extra.empty()) out += ", " + extra;
    out += "}";
  }
  out += "}}";
  return out;
}

proxy_fixture::proxy_fixture(const std::string& config_json) {
  static int counter = 0;
  auto path = write_temp_file("config-" + std::to_string(++counter) + ".json", config_json);
  proc_ = std::make_unique<process>(
      MCP_PROXY_BINARY, std::vector<std::string>{"--config", path, "--addr", "127.0.0.1:0"});
  auto out = proc_->wait_for_output("listening on http://127.0.0.1:", std::chrono::seconds(20));
  if (!out) throw std::runtime_error("proxy did not start: " + proc_->output());
  auto at = out->find("listening on http://127.0.0.1:") +
            std::string("listening on http://127.0.0.1:").size();
  port_ = static_cast<std::uint16_t>(std::stoi(out->substr(at)));
}

http_response proxy_fixture::post(const std::string& server, const json::value& msg,
                                  const std::string& session,
                                  std::map<std::string, std::string> extra) {
  std::map<std::string, std::string> h{{"Content-Type", "application/json"},
                                       {"Accept", "application/json, text/event-stream"}};
  if (!session.empty()) {
    h["Mcp-Session-Id"] = session;
    h["MCP-Protocol-Version"] = "2025-11-25";
  }
  for (auto& [k, v] : extra) h[k] = v;
  return http_request(port_, "POST", "/" + server + "/mcp", json::serialize(msg), h);
}

std::string proxy_fixture::open_session(const std::string& server, const std::string& version) {
  json::object init{{"jsonrpc", "2.0"},
                    {"id", 0},
                    {"method", "initialize"},
                    {"params",
                     {{"protocolVersion", version},
                      {"capabilities", json::object{}},
                      {"clientInfo", {{"name", "integration-test"}, {"version", "1"}}}}}};
  auto r = post(server, init);
  if (r.status != 200 || r.header("mcp-session-id").empty())
    throw std::runtime_error("initialize failed: " + std::to_string(r.status) + " " + r.body);
  auto sid = r.header("mcp-session-id");
  auto n =
      post(server, json::object{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, sid);
  if (n.status != 202)
    throw std::runtime_error("initialized notification got " + std::to_string(n.status));
  return sid;
}

json::value proxy_fixture::call_tool(const std::string& server, const std::string& session,
                                     const std::string& tool, json::object args, json::value id) {
  json::object req{{"jsonrpc", "2.0"},
                   {"id", id},
                   {"method", "tools/call"},
                   {"params", {{"name", tool}, {"arguments", std::move(args)}}}};
  auto r = post(server, req, session);
  if (r.status != 200) throw std::runtime_error("tools/call got HTTP " + std::to_string(r.status));
  auto msgs = messages_of(r);
  if (msgs.empty()) throw std::runtime_error("tools/call got no message: " + r.body);
  return msgs.back();
}

}  // namespace mcp_proxy::test
