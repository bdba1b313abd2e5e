# Benchmark of the canary comparison (run by hand; see tests/bench/README.md).
add_executable(canary_bench ${CMAKE_CURRENT_LIST_DIR}/canary_bench.cc)
target_link_libraries(canary_bench PRIVATE oomcast::predictor)
