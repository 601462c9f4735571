// Listing and inspecting objects (shmkit list, shmkit info).
#include "lifecycle/object_listing.hpp"

#include "core/name_check.hpp"
#include "lifecycle/staleness.hpp"
#include "messaging/topic_layout.hpp"
#include "segment/segment_backend.hpp"

#include <algorithm>
#include <tuple>

SHMKIT_BEGIN_NAMESPACE
namespace detail {
namespace {

bool name_selected(const std::string& name, const ListQuery& query) {
  if (!query.exact.empty()) return name == query.exact;
  return name.compare(0, query.prefix.size(), query.prefix) == 0;
}

Backend resolve(Backend backend) noexcept {
  return backend == Backend::native ? native_backend() : backend;
}

// Lists one backend into `out`; parse + stale judgement included.
void collect(Backend backend, const ListQuery& query, bool all, std::vector<SegmentInfo>& out,
             Failure& failure) {
  std::vector<OsObject> objects;
  list_os_objects(backend, query, objects, failure);
  if (failure) return;
  std::vector<Parsed> parsed;
  std::vector<OsObject*> need_mappers;
  std::vector<std::size_t> need_mappers_at;
  for (auto& object : objects) {
    Parsed p = parse(object);
    if (!all && !is_shmkit_object(p.info)) continue;
    if (!name_selected(p.info.name, query)) continue;
    if (header_stale(p) && !object.mapped_by) {
      need_mappers.push_back(&object);
      need_mappers_at.push_back(parsed.size());
    }
    parsed.push_back(std::move(p));
  }
  // /proc is read only when some segment is stale by its header.
  if (!need_mappers.empty()) {
    find_mappers(need_mappers);
    for (std::size_t i = 0; i < need_mappers.size(); ++i) {
      parsed[need_mappers_at[i]].info.mapped_by = need_mappers[i]->mapped_by;
    }
  }
  for (auto& p : parsed) p.info.stale = header_stale(p) && os_says_unused(p.info);
  // A topic's pool is stale with its topic (pool_has_topic()): its
  // subscribers map it read-only, which its attach table cannot show.
  for (auto& pool : parsed) {
    if (pool.info.kind != ObjectKind::topic_pool) continue;
    for (const auto& topic : parsed) {
      if (topic.info.kind == ObjectKind::topic &&
          topic.info.name + k_topic_pool_suffix == pool.info.name) {
        pool.info.stale = topic.info.stale;
      }
    }
  }
  for (auto& p : parsed) {
    // Looked up only to judge staleness: reported only when asked for.
    if (!query.find_mappers) p.info.mapped_by.reset();
    out.push_back(std::move(p.info));
  }
}

}  // namespace

std::vector<SegmentInfo> list_objects(const ListOptions& options, Failure& failure) {
  std::vector<Backend> backends;
  const bool explicit_backends = !options.backends.empty();
  for (Backend b : explicit_backends ? options.backends : listable_backends()) {
    b = resolve(b);
    if (std::find(backends.begin(), backends.end(), b) == backends.end()) backends.push_back(b);
  }
  ListQuery query;
  query.prefix = options.name_prefix;
  query.find_mappers = options.find_mappers;
  query.scope = options.scope;
  std::vector<SegmentInfo> result;
  for (Backend b : backends) {
    if (explicit_backends && find_backend(b, failure) == nullptr) return {};
    Failure one;
    collect(b, query, options.all, result, one);
    // A backend this system cannot list is skipped unless it was asked for.
    if (one && explicit_backends) {
      failure = one;
      return {};
    }
  }
  std::sort(result.begin(), result.end(), [](const SegmentInfo& a, const SegmentInfo& b) {
    const int ak = a.sysv ? a.sysv->shmid : 0;
    const int bk = b.sysv ? b.sysv->shmid : 0;
    return std::tie(a.backend, a.name, ak) < std::tie(b.backend, b.name, bk);
  });
  return result;
}

SegmentInfo inspect_object(std::string_view name_view, const SegmentOptions& options,
                           Failure& failure) {
  const std::string name(name_view);
  if (!check_derived_name(name, failure)) return {};
  const Backend backend = resolve(options.backend);
  if (find_backend(backend, failure) == nullptr) return {};
  ListQuery query;
  query.exact = name;
  query.find_mappers = true;
  query.scope = options.scope;
  std::vector<SegmentInfo> found;
  collect(backend, query, true, found, failure);
  if (failure) return {};
  if (found.empty()) {
    failure.set(errc::not_found,
                "there is no segment " + quoted(name) + " (" + to_string(backend) + ")");
    return {};
  }
  return found.front();
}

bool look_up(const std::string& name, Backend backend, Scope scope, std::vector<Parsed>& found) {
  ListQuery query;
  query.exact = name;
  query.scope = scope;
  std::vector<OsObject> objects;
  Failure listing;
  list_os_objects(backend, query, objects, listing);
  if (listing) return false;
  for (const auto& object : objects) found.push_back(parse(object));
  return true;
}

}  // namespace detail
SHMKIT_END_NAMESPACE
