# HTTP client (Boost.Beast), URL module and Prometheus API client: part of oomcast::lib.
# Third-party libraries (Boost, OpenSSL, nlohmann-json) are linked PRIVATE in
# lib/CMakeLists.txt; nothing of them appears in the public headers.
target_sources(oomcast_lib PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/src/http_client.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/url.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/prometheus_client.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/prometheus_decode.cc
)
