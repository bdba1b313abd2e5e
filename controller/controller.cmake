# oomcast::controller (the MemoryScaler controller library) and the oomcast-controller binary.
add_library(oomcast_controller
  ${CMAKE_CURRENT_LIST_DIR}/src/memory_scaler.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/decision.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/forecast_source.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/leader_election.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/reconcile_plan.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/events.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/reconciler.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/informer.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/options.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/controller.cc)
add_library(oomcast::controller ALIAS oomcast_controller)
target_include_directories(oomcast_controller PUBLIC ${CMAKE_CURRENT_LIST_DIR}/include)
target_link_libraries(oomcast_controller
  PUBLIC oomcast::lib
  PRIVATE nlohmann_json::nlohmann_json prometheus-cpp::core Boost::system)

add_executable(oomcast-controller ${CMAKE_CURRENT_LIST_DIR}/main.cc)
target_link_libraries(oomcast-controller PRIVATE oomcast::controller)
