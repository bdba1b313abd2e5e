# oomcast::metrics_adapter — the external.metrics.k8s.io/v1beta1 aggregated API server, and the
# oomcast-metrics-adapter binary (main only wires).
add_library(oomcast_metrics_adapter
  ${CMAKE_CURRENT_LIST_DIR}/src/api_objects.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/metrics_api.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/auth.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/server.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/upstream.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/adapter.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/options.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/file_forecast_source.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/certificate_metrics.cc
)
add_library(oomcast::metrics_adapter ALIAS oomcast_metrics_adapter)
target_include_directories(oomcast_metrics_adapter PUBLIC ${CMAKE_CURRENT_LIST_DIR}/include)
target_link_libraries(oomcast_metrics_adapter
  PUBLIC oomcast::lib oomcast::predictor
  PRIVATE OpenSSL::SSL OpenSSL::Crypto Boost::system nlohmann_json::nlohmann_json
          prometheus-cpp::core Threads::Threads)

add_executable(oomcast-metrics-adapter ${CMAKE_CURRENT_LIST_DIR}/main.cc)
target_link_libraries(oomcast-metrics-adapter PRIVATE oomcast::metrics_adapter oomcast::predictor
                      oomcast::lib)
install(TARGETS oomcast-metrics-adapter RUNTIME DESTINATION bin)
