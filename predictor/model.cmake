# The model, OpenMetrics reader, backtest and workload simulator of oomcast::predictor.
find_package(ZLIB REQUIRED)
target_sources(oomcast_predictor PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/src/model.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/openmetrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/backtest.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/simulator.cc
)
target_link_libraries(oomcast_predictor PRIVATE ZLIB::ZLIB nlohmann_json::nlohmann_json)
