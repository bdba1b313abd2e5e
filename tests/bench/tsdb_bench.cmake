# Decoding benchmark of Prometheus query responses (not a CTest test; run by hand):
#   cmake --build build --target decode_bench && build/tests/decode_bench [containers] [samples]
add_executable(decode_bench ${CMAKE_CURRENT_LIST_DIR}/decode_bench.cc)
target_link_libraries(decode_bench PRIVATE oomcast::lib)
