# Tests of the canary comparison (predictor/canary.cmake).
oomcast_add_unit_test(canary_stats_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/canary_stats_test.cc
                      LIBS oomcast::predictor)
oomcast_add_unit_test(canary_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/canary_test.cc
                      LIBS oomcast::predictor)
