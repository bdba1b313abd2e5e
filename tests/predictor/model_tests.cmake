oomcast_add_unit_test(model_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/model_test.cc
                      LIBS oomcast::predictor)
include(${CMAKE_CURRENT_LIST_DIR}/../bench/model_bench.cmake)
