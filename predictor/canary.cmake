# Canary memory drift (DESIGN.md "Canary drift"): statistics, comparator, CLI, /metrics.
target_sources(oomcast_predictor PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/src/canary_stats.cc
)
