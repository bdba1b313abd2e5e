# The MemoryScaler controller. Unit tests (Catch2, no subprocess): the pure rules, parsing; the
# reconciler, leader election and informer on the in-process API fake with a FakeClock.
# Integration tests (Python 3 + the oomcast-controller binary + the stand-in): leader hand-over
# between two processes, watch relist, health/metrics, and schema validation of every written
# object (npm kubernetes-models; exits 77 = skipped when node_modules are absent).
# The in-process Kubernetes API fake (tests/support/fake_kube_client.*), for every controller
# unit test (and the MemoryCanary controller's).
add_library(oomcast_fake_kube STATIC ${CMAKE_CURRENT_LIST_DIR}/../support/fake_kube_client.cc)
target_include_directories(oomcast_fake_kube PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(oomcast_fake_kube PUBLIC oomcast::lib nlohmann_json::nlohmann_json)
oomcast_add_unit_test(controller_fake_kube_client_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fake_kube_client_test.cc
  LIBS oomcast_fake_kube oomcast::controller)
oomcast_add_unit_test(controller_decision_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/decision_test.cc LIBS oomcast::controller)
oomcast_add_unit_test(controller_memory_scaler_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/memory_scaler_test.cc LIBS oomcast::controller)
oomcast_add_unit_test(controller_reconcile_plan_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/reconcile_plan_test.cc LIBS oomcast::controller)
oomcast_add_unit_test(controller_reconciler_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/reconciler_test.cc LIBS oomcast::controller oomcast_fake_kube)
oomcast_add_unit_test(controller_leader_election_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/leader_election_test.cc LIBS oomcast::controller oomcast_fake_kube)
oomcast_add_unit_test(controller_informer_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/informer_test.cc LIBS oomcast::controller oomcast_fake_kube)

# The same behaviour over HTTP against the Python API stand-in (a subprocess), with every written
# object schema-validated (node): the wire-format proof. Labelled integration, not unit.
foreach(name reconciler leader_election informer)
  oomcast_add_unit_test(controller_${name}_standin_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/${name}_standin_test.cc
    LIBS oomcast::controller nlohmann_json::nlohmann_json)
  set_tests_properties(controller_${name}_standin_test PROPERTIES LABELS "integration")
endforeach()

find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND)
  add_test(NAME controller_integration
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/integration_test.py
            --controller $<TARGET_FILE:oomcast-controller>)
  set_tests_properties(controller_integration PROPERTIES LABELS "integration" TIMEOUT 600
    ENVIRONMENT "OOMCAST_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  add_test(NAME controller_schema_validation
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/schema_validation_test.py
            --controller $<TARGET_FILE:oomcast-controller>)
  set_tests_properties(controller_schema_validation PROPERTIES LABELS "integration" TIMEOUT 300
    SKIP_RETURN_CODE 77 ENVIRONMENT "OOMCAST_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endif()
