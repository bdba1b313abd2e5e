# Developer benchmarks of the model (not CTest tests).
add_executable(forecast_quality_corpus ${CMAKE_CURRENT_LIST_DIR}/forecast_quality_corpus.cc)
target_link_libraries(forecast_quality_corpus PRIVATE oomcast::predictor)
