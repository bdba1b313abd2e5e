target_sources(oomcast_predictor PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/src/engine.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/config.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/exporter.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/report.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/commands.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/history_client.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/html_report.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/pod_metadata.cc
)
target_link_libraries(oomcast_predictor PRIVATE yaml-cpp nlohmann_json::nlohmann_json
                      prometheus-cpp::core)

add_executable(oomcast-predictor ${CMAKE_CURRENT_LIST_DIR}/main.cc)
target_link_libraries(oomcast-predictor PRIVATE oomcast::predictor)
install(TARGETS oomcast-predictor RUNTIME DESTINATION bin)
