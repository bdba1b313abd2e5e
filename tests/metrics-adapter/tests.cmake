# metrics-adapter: unit tests (Catch2, in-process, fake clock/source/reviewers), the integration
# test (the real binary, real kubectl, a TokenReview/SubjectAccessReview stand-in, an upstream
# provider), and the bounded libFuzzer runs of the selector parser and the quantity formatter.
find_package(Python3 COMPONENTS Interpreter)

if(TARGET oomcast_metrics_adapter)
  oomcast_add_unit_test(metrics_api_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/metrics_api_test.cc
    LIBS oomcast::metrics_adapter)
  oomcast_add_unit_test(adapter_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/adapter_test.cc
    LIBS oomcast::metrics_adapter)
  oomcast_add_unit_test(adapter_options_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/options_test.cc
    LIBS oomcast::metrics_adapter)

  if(Python3_Interpreter_FOUND)
    add_test(NAME metrics_adapter_integration
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/adapter_integration_test.py
                     --adapter $<TARGET_FILE:oomcast-metrics-adapter> --kubectl /usr/bin/kubectl)
    set_tests_properties(metrics_adapter_integration PROPERTIES LABELS integration TIMEOUT 600)
  endif()
endif()

# libFuzzer targets, each built with clang++ -fsanitize=fuzzer,address and run for a bounded
# time; SKIPPED (exit 77) when clang or libFuzzer is missing. Besides the selector parser and
# the quantity formatter: the HTTP request parser and input checks (http_request) and the
# adapter's authentication header handling and review bodies (adapter_auth).
foreach(target label_selector quantity http_request adapter_auth)
  add_test(NAME fuzz_${target}
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/../fuzz/run_fuzzer.sh ${target} ${PROJECT_SOURCE_DIR}
                   ${CMAKE_CURRENT_BINARY_DIR}/fuzz 30)
  set_tests_properties(fuzz_${target} PROPERTIES LABELS fuzz TIMEOUT 900 SKIP_RETURN_CODE 77)
endforeach()
