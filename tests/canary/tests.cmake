# Checks of the canary rollout-gate examples (docs/canary/*.yaml): node with tests/canary's
# node_modules (scripts/setup.d/40-canary-node.sh); skipped (77) without them.
find_program(OOMCAST_NODE node)
if(OOMCAST_NODE)
  add_test(NAME canary_examples
           COMMAND ${OOMCAST_NODE} ${CMAKE_CURRENT_LIST_DIR}/validate_examples.mjs)
  set_tests_properties(canary_examples PROPERTIES LABELS "unit;canary" SKIP_RETURN_CODE 77
                       TIMEOUT 60 ENVIRONMENT "OOMCAST_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endif()

# End-to-end through a real Prometheus (tests/canary/e2e_test.py, about 1 min): live series ->
# predictor verdict -> Prometheus scrape -> the AnalysisTemplate's query -> oomcast-controller
# pauses the API stand-in's Deployment. Skipped (77) without prometheus.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME canary_e2e
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/e2e_test.py
                 $<TARGET_FILE:oomcast-predictor> $<TARGET_FILE:oomcast-controller>)
set_tests_properties(canary_e2e PROPERTIES LABELS "e2e;canary" TIMEOUT 400 SKIP_RETURN_CODE 77
                     ENVIRONMENT "OOMCAST_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
