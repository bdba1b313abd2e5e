// A bounded cache with per-entry expiry and least-recently-used eviction, for the adapter's
// token and access-review caches. Thread-safe.
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace oomcast::metrics_adapter {

template <typename V>
class LruCache {
 public:
  // `capacity` entries at most (at least 1).
  explicit LruCache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // The value stored under `key` when it has not expired at `now` (seconds, the same time base
  // as Put's `expires`); a hit makes the entry the most recently used. Expired entries are
  // dropped when found.
  std::optional<V> Get(const std::string& key, double now) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    if (it->second->expires <= now) {
      order_.erase(it->second);
      index_.erase(it);
      return std::nullopt;
    }
    order_.splice(order_.begin(), order_, it->second);
    return it->second->value;
  }

  // Stores `value` until `expires`, replacing any entry under `key`; evicts the least recently
  // used entry when full.
  void Put(const std::string& key, V value, double expires) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      it->second->value = std::move(value);
      it->second->expires = expires;
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    if (index_.size() >= capacity_) {
      index_.erase(order_.back().key);
      order_.pop_back();
      ++evictions_;
    }
    order_.push_front(Entry{key, std::move(value), expires});
    index_.emplace(key, order_.begin());
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return index_.size();
  }
  // Entries evicted because the cache was full (not expiries).
  size_t evictions() const {
    std::lock_guard<std::mutex> lock(mu_);
    return evictions_;
  }

 private:
  struct Entry {
    std::string key;
    V value;
    double expires;
  };
  const size_t capacity_;
  mutable std::mutex mu_;
  std::list<Entry> order_;  // Most recently used first. Guarded by mu_.
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;  // Guarded by mu_.
  size_t evictions_ = 0;                                                        // Guarded by mu_.
};

}  // namespace oomcast::metrics_adapter
