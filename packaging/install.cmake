# Run by `cmake --install` and by CPack (install(SCRIPT) in the top-level CMakeLists.txt), so the
# paths below are those of the install, not of the configure: `cmake --install build/release
# --prefix /opt/x` and the .deb (prefix /usr) each get a config and a unit that name their own
# files. Set by the install(CODE) before this script: MCP_PROXY_SOURCE_DIR, MCP_PROXY_BINARY_DIR,
# MCP_PROXY_BINDIR, MCP_PROXY_LIBEXECDIR, MCP_PROXY_DOCDIR, MCP_PROXY_UNITDIR (relative to the
# prefix, or absolute).

# GNUInstallDirs' rule for sysconfdir: /etc for the /usr prefix, else PREFIX/etc.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(etc_dir "/etc")
else()
  set(etc_dir "${CMAKE_INSTALL_PREFIX}/etc")
endif()

function(mcp_proxy_full out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
mcp_proxy_full(MCP_PROXY_BINDIR "${MCP_PROXY_BINDIR}")
mcp_proxy_full(MCP_PROXY_DOCDIR "${MCP_PROXY_DOCDIR}")
mcp_proxy_full(libexec_dir "${MCP_PROXY_LIBEXECDIR}")
mcp_proxy_full(unit_dir "${MCP_PROXY_UNITDIR}")
set(MCP_PROXY_MOCK "${libexec_dir}/mcp-proxy/mock-mcp-server")
set(MCP_PROXY_CONFIG "${etc_dir}/mcp-proxy/config.json")

set(gen "${MCP_PROXY_BINARY_DIR}/packaging")
configure_file("${MCP_PROXY_SOURCE_DIR}/packaging/config.json.in" "${gen}/config.json" @ONLY)
configure_file("${MCP_PROXY_SOURCE_DIR}/packaging/mcp-proxy.service.in" "${gen}/mcp-proxy.service"
               @ONLY)

file(INSTALL DESTINATION "${unit_dir}" TYPE FILE FILES "${gen}/mcp-proxy.service")
# An existing config is the operator's: `cmake --install` never overwrites it (dpkg asks, as the
# config is a conffile of the .deb).
if(NOT "$ENV{DESTDIR}" STREQUAL "" OR NOT EXISTS "${MCP_PROXY_CONFIG}")
  file(INSTALL DESTINATION "${etc_dir}/mcp-proxy" TYPE FILE FILES "${gen}/config.json")
else()
  message(STATUS "Kept: ${MCP_PROXY_CONFIG} (the new default is ${gen}/config.json)")
endif()
