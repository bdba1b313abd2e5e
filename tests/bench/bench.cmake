# Benchmarks: built with the project, run by hand (not CTest tests). See tests/bench/README.md.
include(${CMAKE_CURRENT_LIST_DIR}/tsdb_bench.cmake OPTIONAL)
# model_bench.cmake is included from tests/predictor/model_tests.cmake.
include(${CMAKE_CURRENT_LIST_DIR}/adapter_bench.cmake OPTIONAL)
add_executable(cycle_cost ${CMAKE_CURRENT_LIST_DIR}/cycle_cost.cc)
target_include_directories(cycle_cost PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(cycle_cost PRIVATE oomcast::predictor)
include(${CMAKE_CURRENT_LIST_DIR}/canary_bench.cmake OPTIONAL)
