# HTTP client (cpprestsdk) and Prometheus API client: part of oomcast::lib.
# Third-party libraries (cpprestsdk, nlohmann-json, OpenSSL, Boost) are linked PRIVATE in
# lib/CMakeLists.txt; nothing of them appears in the public headers.
target_sources(oomcast_lib PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/src/cpprest_http_client.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/prometheus_client.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/prometheus_decode.cc
)
