// Mappings written once, as a table of pairs, where a switch (or an if-chain) per direction
// would repeat the list: an enum's names, HTTP codes' reasons, unit suffixes' multipliers.
// A lookup is a linear scan: for the few entries such tables hold, as fast as a switch.
#pragma once

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

namespace oomcast {

namespace lookup_internal {

template <typename K, typename V, size_t N, typename Match>
constexpr const std::pair<K, V>* Find(const std::pair<K, V> (&table)[N], Match match) {
  for (const auto& entry : table) {
    if (match(entry)) return &entry;
  }
  return nullptr;
}

}  // namespace lookup_internal

// The value of the first entry of `table` whose key is `key`; nullopt when there is none.
template <typename K, typename V, size_t N>
constexpr std::optional<V> Lookup(const std::pair<K, V> (&table)[N],
                                  const std::type_identity_t<K>& key) {
  auto* e = lookup_internal::Find(table, [&](const auto& entry) { return entry.first == key; });
  return e != nullptr ? std::optional<V>(e->second) : std::nullopt;
}

// The key of the first entry of `table` whose value is `value`; nullopt when there is none.
template <typename K, typename V, size_t N>
constexpr std::optional<K> ReverseLookup(const std::pair<K, V> (&table)[N],
                                         const std::type_identity_t<V>& value) {
  auto* e = lookup_internal::Find(table, [&](const auto& entry) { return entry.second == value; });
  return e != nullptr ? std::optional<K>(e->first) : std::nullopt;
}

}  // namespace oomcast
