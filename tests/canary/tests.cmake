# Checks of the canary rollout-gate examples (docs/canary/*.yaml): node with tests/canary's
# node_modules (scripts/setup.d/40-canary-node.sh); skipped (77) without them.
find_program(OOMCAST_NODE node)
if(OOMCAST_NODE)
  add_test(NAME canary_examples
           COMMAND ${OOMCAST_NODE} ${CMAKE_CURRENT_LIST_DIR}/validate_examples.mjs)
  set_tests_properties(canary_examples PROPERTIES LABELS "unit;canary" SKIP_RETURN_CODE 77
                       TIMEOUT 60 ENVIRONMENT "OOMCAST_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endif()
