// Mappings written once, as a table of pairs, where a switch (or an if-chain) per direction
// would repeat the list: an enum's names, HTTP codes' reasons, unit suffixes' multipliers.
// A lookup is a linear scan: for the few entries such tables hold, as fast as a switch.
#pragma once

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

namespace oomcast {

// The value of the first entry of `table` whose key is `key`; nullopt when there is none.
template <typename K, typename V, size_t N>
constexpr std::optional<V> Lookup(const std::pair<K, V> (&table)[N],
                                  const std::type_identity_t<K>& key) {
  for (const auto& [k, v] : table) {
    if (k == key) return v;
  }
  return std::nullopt;
}

// The key of the first entry of `table` whose value is `value`; nullopt when there is none.
template <typename K, typename V, size_t N>
constexpr std::optional<K> ReverseLookup(const std::pair<K, V> (&table)[N],
                                         const std::type_identity_t<V>& value) {
  for (const auto& [k, v] : table) {
    if (v == value) return k;
  }
  return std::nullopt;
}

}  // namespace oomcast
