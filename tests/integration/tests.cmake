# Integration tests: real Prometheus and VictoriaMetrics started on loopback by the tests.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME integration_backends
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/backends_test.py
                 $<TARGET_FILE:oomcast-predictor>)
set_tests_properties(integration_backends PROPERTIES LABELS integration TIMEOUT 600
                     SKIP_RETURN_CODE 77)
add_test(NAME integration_serve
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/serve_test.py
                 $<TARGET_FILE:oomcast-predictor>)
set_tests_properties(integration_serve PROPERTIES LABELS integration TIMEOUT 300
                     SKIP_RETURN_CODE 77)
# KEDA's prometheus trigger: the exact query of docs/install-next-to-keda.md through a real
# Prometheus' /api/v1/query, scraping the real predictor (about 12 s).
add_test(NAME integration_keda_prometheus
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/keda_query_test.py
                 $<TARGET_FILE:oomcast-predictor>)
set_tests_properties(integration_keda_prometheus PROPERTIES LABELS "integration;chart" TIMEOUT 120
                     SKIP_RETURN_CODE 77)
