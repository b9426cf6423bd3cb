// Micro benchmarks of the sans-io core. The end-to-end harness arrives with the benchmarks issue.
#include "jsonrpc/message.hpp"
#include "rpc/id_router.hpp"

#include <benchmark/benchmark.h>

namespace {

const char* small_request =
    R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},"_meta":{"progressToken":"t1"}}})";

void parse_small_request(benchmark::State& state) {
  for (auto _ : state) {
    auto m = mcp_proxy::jsonrpc::parse(small_request);
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(parse_small_request);

void round_trip_through_id_router(benchmark::State& state) {
  mcp_proxy::rpc::id_router router;
  auto base = mcp_proxy::jsonrpc::parse(small_request).value();
  for (auto _ : state) {
    auto request = base;
    auto id = router.on_client_request(1, request);
    auto response = mcp_proxy::jsonrpc::message::response(id, boost::json::object{});
    benchmark::DoNotOptimize(router.on_backend_response(response));
  }
}
BENCHMARK(round_trip_through_id_router);

}  // namespace
