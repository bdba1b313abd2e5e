oomcast_add_unit_test(engine_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/engine_test.cc
                      LIBS oomcast::predictor)
oomcast_add_unit_test(config_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/config_test.cc
                      LIBS oomcast::predictor)
oomcast_add_unit_test(report_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/report_test.cc
                      LIBS oomcast::predictor)
oomcast_add_unit_test(exporter_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/exporter_test.cc
                      LIBS oomcast::predictor)
# Pod labels from the Kubernetes API (metadata-only list + watch) against the API stand-in.
oomcast_add_unit_test(pod_metadata_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/pod_metadata_test.cc
                      LIBS oomcast::predictor oomcast::metrics_adapter nlohmann_json::nlohmann_json
                      LABELS integration)
