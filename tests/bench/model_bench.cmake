# Developer benchmarks of the model (not CTest tests).
add_executable(forecast_quality_corpus ${CMAKE_CURRENT_LIST_DIR}/forecast_quality_corpus.cc)
target_link_libraries(forecast_quality_corpus PRIVATE oomcast::predictor)
add_executable(make_sample ${CMAKE_CURRENT_LIST_DIR}/make_sample.cc)
target_link_libraries(make_sample PRIVATE oomcast::predictor)
add_executable(model_cost ${CMAKE_CURRENT_LIST_DIR}/model_cost.cc)
target_link_libraries(model_cost PRIVATE oomcast::predictor)
