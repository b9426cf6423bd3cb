#include "app/app.hpp"

int main(int argc, char** argv) {
  return mcp_proxy::run_proxy(argc, argv);
}
