#pragma once
// `--http HOST:PORT` with `--era modern|dual`: the mock over Streamable HTTP at
// http://HOST:PORT/mock/mcp as a 2026-07-28 server (spec 2026-07-28
// basic/transports/streamable-http). There are no sessions: every modern POST is checked (Host
// and Origin: 403; _meta -32602, headers -32020, version -32022: 400; removed methods: 404) and
// served in this process (mock_modern.hpp), answered as JSON when the answer comes first, else
// as an event stream of its progress and log messages ending with the answer;
// subscriptions/listen is an event stream until the client closes it; a closed response stream
// cancels its request. GET and DELETE get 405; no Mcp-Session-Id is minted.
// In the dual era, everything that is not a modern request (initialize, requests with a
// session, GET streams, /mock/sse and /mock/message) is relayed to a legacy-era mock HTTP server
// this process starts on a loopback port (mock_http.hpp, one mock process per session), so
// legacy clients get exactly what `--era legacy` serves.
// `--bearer-token-file FILE` (any era): every request must carry `Authorization: Bearer TOKEN`
// where TOKEN is FILE's content without surrounding white space, read for each request (a test
// rotates it); else 401 with `WWW-Authenticate: Bearer error="invalid_token"` and a line on
// stderr ("... refused: no or wrong bearer token"). An empty or missing file accepts nothing. In
// the legacy era the check is made here and every accepted request is relayed, as the dual era's
// legacy requests are (so each gets its own connection).

namespace mock {

// Whether argv[i] is one of the HTTP options (--http, --drip-ms, --drop-after-events,
// --close-stream-after-ms, --bearer-token-file); if so it is skipped with its value (i advanced).
bool is_http_option(int& i, int argc, char** argv);

// Serves until SIGINT/SIGTERM (after mock::modern::configure); returns the exit code. `argv` is
// the mock's command line (the dual era's legacy server is started with it).
int serve_modern_http(int argc, char** argv);

}  // namespace mock
