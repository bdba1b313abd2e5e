# Decoding benchmark of Prometheus query responses (not a CTest test; run by hand):
#   cmake --build build --target decode_bench && build/tests/decode_bench [containers] [samples]
add_executable(decode_bench ${CMAKE_CURRENT_LIST_DIR}/decode_bench.cc)
target_link_libraries(decode_bench PRIVATE oomcast::lib)
# Client-side CPU of fetching large responses through the HttpClient (not a CTest test):
#   build/tests/http_fetch_bench URL [requests]
add_executable(http_fetch_bench ${CMAKE_CURRENT_LIST_DIR}/http_fetch_bench.cc)
target_link_libraries(http_fetch_bench PRIVATE oomcast::lib)
