oomcast_add_unit_test(model_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/model_test.cc
                      LIBS oomcast::predictor)
oomcast_add_unit_test(openmetrics_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/openmetrics_test.cc
                      LIBS oomcast::predictor ZLIB::ZLIB)
oomcast_add_unit_test(backtest_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/backtest_test.cc
                      LIBS oomcast::predictor)
oomcast_add_unit_test(simulator_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/simulator_test.cc
                      LIBS oomcast::predictor)
include(${CMAKE_CURRENT_LIST_DIR}/../bench/model_bench.cmake)
