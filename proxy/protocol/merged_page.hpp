#pragma once
// One page of a merged list (sans-io): the composite cursor says where each member's own paging
// stands; the caller fetches each walking member's current page (in parallel) and hands them
// here, and gets the merged items and the walk advanced for the next cursor. Each merged page
// holds at most `limit` items (0: no limit) and at most one page of each member; it may end
// inside a member's page (`skip` remembers where). Spec 2025-11-25 server/utilities/pagination.
// Thread-safety: plain functions.

#include "protocol/composite_cursor.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {

// A first page's walk: one position per member in `servers` (config order); a member that
// `lacks` the list (it declared no such capability) is done at once and never asked.
composite_cursor first_walk(std::uint64_t generation, const std::vector<std::string>& servers,
                            const std::vector<bool>& lacks);

// Whether a decoded cursor walks exactly `servers`, in that order (the session's members);
// otherwise it is refused as invalid.
bool walk_fits(const composite_cursor& walk, const std::vector<std::string>& servers);

// An item of a merged page: a member's own item, shown under `name` when that is set (the
// exposed name of a tool or prompt) and as it is otherwise. It points into the member's page,
// which must outlive it: nothing is copied until page_text writes the page.
struct exposed_item {
  const boost::json::object* item = nullptr;
  std::string name;
};

struct merged_page {
  std::vector<exposed_item> items;
  // Walk positions of members left out because their page is missing (they failed or did not
  // answer in time): they are done for this walk.
  std::vector<std::size_t> left_out;
  bool more = false;  // the walk goes on: the page gets a nextCursor
};

// Steps `walk` over the members' pages: `pages[n]` is the current page (the list result) of
// walk position n, or null when it could not be fetched; positions already done are skipped.
// `expose(n, item)` gives the item as the merged list shows it, or nullopt to leave it out.
merged_page assemble_page(
    composite_cursor& walk, const std::vector<const boost::json::object*>& pages,
    std::string_view list_key, std::uint64_t limit,
    const std::function<std::optional<exposed_item>(std::size_t, const boost::json::value&)>&
        expose);

// The merged list result as JSON text: `{"<list_key>":[items],...}`, then the members of
// `fields` (nextCursor, caching). Written straight from the members' items, each renamed on
// the way: a renamed copy of every item, then serialized, was most of a merge's own CPU.
std::string page_text(std::string_view list_key, const std::vector<exposed_item>& items,
                      const boost::json::object& fields);

// The caching fields of a merged page (spec 2026-07-28 server/utilities/caching) from its
// members' pages (null: a member not asked for this page): the smallest `ttlMs`, and
// `cacheScope` "private" when any member's is (or is missing), "public" when all are. nullopt
// when a member's page has no `ttlMs` (a 2025-11-25 backend's): the proxy cannot tell how long
// it holds.
std::optional<boost::json::object> merged_cache_fields(
    const std::vector<const boost::json::object*>& pages);

}  // namespace mcp_proxy::protocol
