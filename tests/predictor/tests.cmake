oomcast_add_unit_test(engine_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/engine_test.cc
                      LIBS oomcast::predictor)
oomcast_add_unit_test(config_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/config_test.cc
                      LIBS oomcast::predictor)
oomcast_add_unit_test(report_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/report_test.cc
                      LIBS oomcast::predictor)
oomcast_add_unit_test(exporter_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/exporter_test.cc
                      LIBS oomcast::predictor)
oomcast_add_unit_test(history_client_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/history_client_test.cc
                      LIBS oomcast::predictor)
find_package(Python3 REQUIRED COMPONENTS Interpreter)
# The backtest's summary against the shared scorer (tools/score.py) on data/sample.
add_test(NAME backtest_vs_score_py
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/backtest_score_test.py
                 $<TARGET_FILE:oomcast-predictor> ${PROJECT_SOURCE_DIR})
set_tests_properties(backtest_vs_score_py PROPERTIES LABELS integration TIMEOUT 120
                     SKIP_RETURN_CODE 77)
add_test(NAME predictor_cli_help
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/cli_help_test.py
                 $<TARGET_FILE:oomcast-predictor>)
set_tests_properties(predictor_cli_help PROPERTIES LABELS unit TIMEOUT 60)
# The backtest's HTML report in Debian's headless chromium.
add_test(NAME backtest_html_report
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/html_report_test.py
                 $<TARGET_FILE:oomcast-predictor> ${PROJECT_SOURCE_DIR})
set_tests_properties(backtest_html_report PROPERTIES LABELS integration TIMEOUT 240
                     SKIP_RETURN_CODE 77)
# Pod labels from the Kubernetes API (metadata-only list + watch) against the API stand-in.
oomcast_add_unit_test(pod_metadata_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/pod_metadata_test.cc
                      LIBS oomcast::predictor oomcast::metrics_adapter nlohmann_json::nlohmann_json
                      LABELS integration)
