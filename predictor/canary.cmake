# Canary memory drift (DESIGN.md "Canary drift"): statistics, comparator, replay, scenarios,
# CLI and /metrics.
target_sources(oomcast_predictor PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/src/canary_stats.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/canary.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/canary_replay.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/canary_sim.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/canary_config.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/canary_metrics.cc
)
